"""``sianode init | run | submit | status``: FireWorks campaigns (see :mod:`sianode.workflows`)."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any, Optional

import typer

QUEUE_HELP = "Queue system: slurm or pbs."


def _quiet_fireworks(verbose: int) -> None:
    """FireWorks' own loggers print INFO/DEBUG lines through the root handler; keep them out
    unless -vv."""
    if verbose >= 2:
        return
    for name in ("launchpad", "rocket.launcher", "queue.launcher", "qadapter.SLURM", "qadapter.PBS"):
        logging.getLogger(name).propagate = False


def _progress(ctx: typer.Context, enabled: bool = True) -> Any:
    """The shared :class:`~sianode.workflows.progress.Progress`: a bar on a terminal, plain lines
    otherwise (at each change and every 30 s), nothing with ``-q`` (or when not ``enabled``)."""
    from sianode.workflows.progress import Progress

    return Progress(quiet=ctx.obj.quiet or not enabled)


def init(
    ctx: typer.Context,
    path: Path = typer.Argument(Path("campaign.yaml"), help="Campaign file to write."),
    queue: Optional[str] = typer.Option(None, "--queue", help=QUEUE_HELP + " Also write my_qadapter.yaml, "
                                        "my_fworker.yaml and my_launchpad.yaml next to the campaign file."),
    threads: int = typer.Option(1, "--threads", help="Threads per queue job (cpus_per_task / ppn)."),
    gpus: Optional[int] = typer.Option(None, "--gpus", help="With --queue: GPUs per job (gpus_per_job: the "
                                       "scheduler's GPU request; the ML calculators run with device cuda)."),
    force: bool = typer.Option(False, "--force", help="Overwrite existing files."),
) -> None:
    """Write a commented example campaign (and, with --queue, the FireWorks queue files)."""
    from sianode.errors import InputError
    from sianode.workflows.spec import EXAMPLE_SPEC

    if queue is not None:
        from sianode.workflows.queue import _q_type

        _q_type(queue)
    if gpus is not None and gpus < 0:
        raise InputError(f"--gpus = {gpus} not allowed; allowed: a whole number of GPUs per job, 0 for none")
    if path.exists() and not force:
        if queue is None:
            raise InputError(f"{path} exists; allowed: another file name, or --force to overwrite")
        typer.echo(f"kept {path} (exists)")
    else:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(EXAMPLE_SPEC, encoding="utf-8")
        typer.echo(f"wrote {path}")
    if queue is not None:
        from sianode.workflows.queue import write_queue_files

        for written in write_queue_files(path.resolve().parent, queue, db=ctx.obj.db, threads=threads, force=force,
                                         gpus=gpus):
            typer.echo(f"wrote {written}")


def run(
    ctx: typer.Context,
    campaign: Path = typer.Argument(..., help="Campaign YAML file."),
    workers: int = typer.Option(1, "--workers", "-w", help="Local worker processes."),
    reset: bool = typer.Option(False, "--reset", help="DELETE every workflow in the LaunchPad first "
                               "(results stay in the store)."),
    lost_after: float = typer.Option(120.0, "--lost-after", help="Seconds without a ping after which a "
                                     "running Firework is lost and rerun."),
    launch_dir: Optional[Path] = typer.Option(None, "--launch-dir", help="FireWorks launch folders, workers.log "
                                              "and progress.log (default $SIANODE_HOME/launches/<campaign>)."),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
) -> None:
    """Run a campaign with local workers (adds it once; resumes it; reruns lost runs).

    Progress: a bar on a terminal; otherwise (a log file, a pipe) a plain line at each change
    and at least every 30 s; with -q neither. The same lines always go to progress.log in the
    launch folder, the workers' output to workers.log there (`sianode status` names both).
    """
    from sianode.workflows.run import run_campaign
    from sianode.workflows.spec import load_campaign

    spec = load_campaign(campaign)
    _quiet_fireworks(ctx.obj.verbose)
    with _progress(ctx, not as_json) as progress:
        summary = run_campaign(spec, db=ctx.obj.db, workers=workers, reset=reset, lost_after_s=lost_after,
                               launch_dir=launch_dir, progress=progress)
    if as_json:
        typer.echo(json.dumps(summary.as_dict()))
    elif not ctx.obj.quiet:
        _print_summary(summary)
    if not summary.complete:
        raise typer.Exit(1)


def _print_summary(summary: Any) -> None:
    states = ", ".join(f"{k.lower()} {v}" for k, v in sorted(summary.states.items()))
    typer.echo(f"campaign {summary.campaign}: {'added' if summary.added else 'resumed'}; fireworks: {states}")
    typer.echo(f"wall time {summary.wall_s:.1f} s with {summary.workers} worker(s); calculator calls made "
               f"{summary.computed}, reused from the store {summary.reused} "
               f"(calculator time {summary.calc_wall_s:.1f} s)")
    if summary.launch_dir:
        typer.echo(f"logs: {summary.launch_dir}/workers.log, {summary.launch_dir}/progress.log")
    if summary.lost_rerun:
        typer.echo(f"lost runs rerun: Fireworks {', '.join(map(str, summary.lost_rerun))}")
    for name, reason in summary.failed:
        typer.echo(f"  {name}: {reason}")


def submit(
    ctx: typer.Context,
    campaign: Path = typer.Argument(..., help="Campaign YAML file."),
    queue: str = typer.Option(..., "--queue", help=QUEUE_HELP),
    qadapter: Path = typer.Option(Path("my_qadapter.yaml"), "--qadapter", help="FireWorks queue adapter file "
                                  "(`sianode init --queue ...` writes one)."),
    jobs: int = typer.Option(1, "--jobs", "-j", help="Worker jobs to submit."),
    wait: bool = typer.Option(False, "--wait", help="Wait until the campaign has nothing left to run."),
    timeout: Optional[float] = typer.Option(None, "--timeout", help="With --wait: give up after this many s."),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
) -> None:
    """Add a campaign and submit worker jobs to SLURM or PBS through FireWorks' queue launcher."""
    from sianode.workflows.queue import submit_campaign
    from sianode.workflows.spec import load_campaign

    spec = load_campaign(campaign)
    _quiet_fireworks(ctx.obj.verbose)
    with _progress(ctx, wait and not as_json) as progress:
        summary = submit_campaign(spec, queue, db=ctx.obj.db, qadapter_file=qadapter, jobs=jobs, wait=wait,
                                  timeout_s=timeout, progress=progress)
    if as_json:
        typer.echo(json.dumps(summary.as_dict()))
    elif not ctx.obj.quiet:
        typer.echo(f"campaign {summary.campaign}: {'added' if summary.added else 'resumed'}; submitted jobs: "
                   f"{', '.join(summary.job_ids) or 'none'} (launch folders in {summary.launch_dir})")
        typer.echo("fireworks: " + ", ".join(f"{k.lower()} {v}" for k, v in sorted(summary.states.items())))


def status(
    ctx: typer.Context,
    campaign: Optional[str] = typer.Argument(None, help="Campaign name (default: all campaigns)."),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
) -> None:
    """Fireworks per state of each campaign, failed / skipped ones with their reasons, and its logs."""
    from sianode.workflows.run import campaign_status

    _quiet_fireworks(ctx.obj.verbose)
    rows = campaign_status(ctx.obj.db, campaign)
    if as_json:
        typer.echo(json.dumps(rows))
        return
    if not rows:
        typer.echo("no campaigns in the database")
    for row in rows:
        states = ", ".join(f"{k.lower()} {v}" for k, v in sorted(row["states"].items()))
        typer.echo(f"{row['campaign']} (spec {str(row['spec_hash'])[:12]}): {row['state']}; "
                   f"{row['fireworks']} fireworks: {states}")
        if row.get("workers_log"):
            typer.echo(f"  workers' log: {row['workers_log']}; progress log: {row['progress_log']}")
        for p in row["problems"]:
            typer.echo(f"  {p['status']:8s} {p['firework']}: {p['reason']}")


def register(app: typer.Typer) -> None:
    app.command("init")(init)
    app.command("run")(run)
    app.command("submit")(submit)
    app.command("status")(status)
