"""Campaigns on a SLURM or PBS cluster, through FireWorks' own queue launcher.

``sianode init --queue slurm`` (or ``pbs``) writes three FireWorks files next to the
campaign file:

* ``my_launchpad.yaml``: sianode's database (``host`` = MongoDB URI, ``uri_mode: true``,
  ``name`` = database). Written with mode 0600 because a URI may hold a password; the
  password is never printed. The embedded server's port changes when it restarts: for a
  cluster use a MongoDB that the compute nodes reach (``--db`` / ``$SIANODE_DB_URI``).
* ``my_fworker.yaml``: the FWorker; ``env.sianode_db`` points the FireTasks at the same
  database (the launchpad file).
* ``my_qadapter.yaml``: a FireWorks ``CommonAdapter`` (``_fw_q_type: SLURM`` / ``PBS``)
  using sianode's template (``sianode/workflows/templates/SLURM_template.txt`` or
  ``PBS_template.txt``). Its ``rocket_launch`` runs one sianode worker
  (``python -m sianode.workflows.worker``: FireWorks rapidfire, threads pinned, 30 s ping)
  until the campaign has nothing left to run. Edit ``walltime``, ``queue``, ``account``,
  ``cpus_per_task`` / ``ppnode``, ``mem``, ``pre_rocket`` (e.g. ``module load``) there.

GPU nodes: ``sianode init --queue slurm --gpus 1`` (or ``gpus_per_job: 1`` in
``my_qadapter.yaml``) adds the scheduler's GPU request to the job script
(SLURM ``#SBATCH --gres=gpu:N``; PBS/Torque ``#PBS -l nodes=...:ppn=...:gpus=N``, after the
plain ``nodes`` line so it takes its place) and ``--device cuda`` to the worker command, so the
ML calculators (sevennet, chgnet) run on the GPU. Leave ``gpus_per_job`` empty (null) for CPU
jobs: the line is then left out. The device is not part of a calculation's content key: a
result computed on a GPU is reused by CPU runs and vice versa. The ML calculators' own default
``device: auto`` also picks the GPU wherever torch sees one.

``sianode submit campaign.yaml --queue slurm --jobs N`` adds the campaign (once) and calls
``fireworks.queue.queue_launcher.launch_rocket_to_queue`` N times: each writes
``FW_submit.script`` from the template into a ``launcher_*`` folder and runs ``sbatch`` /
``qsub`` on it.

Plain FireWorks commands work on the same database with these files::

    lpad -l my_launchpad.yaml get_wflows -d less
    lpad -l my_launchpad.yaml get_fws -s FIZZLED
    lpad -l my_launchpad.yaml detect_lostruns --time 120 --rerun
    rlaunch -l my_launchpad.yaml -w my_fworker.yaml rapidfire --sleep 5
    qlaunch -l my_launchpad.yaml -w my_fworker.yaml -q my_qadapter.yaml rapidfire --nlaunches 2

(``rlaunch`` pings FireWorks only hourly unless ``PING_TIME_SECS`` is set in
``FW_config.yaml``; sianode's worker pings every 30 s so a killed job is noticed soon.)
Never run ``lpad reset`` on a database that holds results you want to keep: it deletes
every workflow (the results collection itself is left alone).
"""

from __future__ import annotations

import logging
import os
import shlex
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from sianode.errors import InputError

log = logging.getLogger(__name__)

QUEUES = {"slurm": "SLURM", "pbs": "PBS"}
TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"


def template_file(queue: str) -> Path:
    """Path of sianode's queue script template for ``queue`` (slurm or pbs)."""
    return TEMPLATES_DIR / f"{_q_type(queue)}_template.txt"


def _q_type(queue: str) -> str:
    if str(queue).lower() not in QUEUES:
        raise InputError(f"--queue = {queue!r} is not supported; allowed: {', '.join(QUEUES)}")
    return QUEUES[str(queue).lower()]


def launchpad_dict(db: str | None = None) -> dict[str, Any]:
    """The ``my_launchpad.yaml`` contents for sianode's configured database."""
    from sianode.store import database_target
    from sianode.workflows.run import uri_with_database

    target = database_target(db)
    return {"host": uri_with_database(target.uri, target.database), "uri_mode": True, "name": target.database,
            "logdir": None, "strm_lvl": "WARNING"}


def qadapter_dict(queue: str, *, launchpad_file: Path, fworker_file: Path, threads: int = 1,
                  python: str | None = None, gpus: int | None = None) -> dict[str, Any]:
    """The ``my_qadapter.yaml`` contents (FireWorks CommonAdapter) for ``queue``.

    ``gpus``: GPUs per job (``gpus_per_job``; the template's GPU request line and the
    worker's ``--device cuda``), None or 0 for CPU jobs.
    """
    q_type = _q_type(queue)
    if gpus is not None and (not isinstance(gpus, int) or isinstance(gpus, bool) or gpus < 0):
        raise InputError(f"--gpus = {gpus!r} not allowed; allowed: a whole number of GPUs per job, 0 for none")
    launch = (f"{shlex.quote(python or sys.executable)} -m sianode.workflows.worker "
              f"--launchpad {shlex.quote(str(launchpad_file))} --fworker {shlex.quote(str(fworker_file))} "
              f"--threads {threads}" + (" --device cuda" if gpus else ""))
    common = {"_fw_name": "CommonAdapter", "_fw_q_type": q_type, "_fw_template_file": str(template_file(queue)),
              "rocket_launch": launch, "job_name": "sianode", "walltime": "04:00:00", "queue": None,
              "account": None, "mem": None, "gpus_per_job": gpus or None, "pre_rocket": None, "post_rocket": None}
    if q_type == "SLURM":
        return {**common, "nodes": 1, "ntasks": 1, "cpus_per_task": threads, "qos": None, "constraint": None}
    return {**common, "nnodes": 1, "ppnode": threads}


def write_queue_files(directory: str | Path, queue: str, *, db: str | None = None, threads: int = 1,
                      force: bool = False, gpus: int | None = None) -> list[Path]:
    """Write ``my_launchpad.yaml``, ``my_fworker.yaml`` and ``my_qadapter.yaml`` into ``directory``.

    Existing files are kept unless ``force``. Returns the paths written.
    """
    import yaml

    directory = Path(directory).resolve()
    directory.mkdir(parents=True, exist_ok=True)
    lp_file, fw_file, qa_file = (directory / n for n in ("my_launchpad.yaml", "my_fworker.yaml", "my_qadapter.yaml"))
    contents = {
        lp_file: launchpad_dict(db),
        fw_file: {"name": "sianode", "category": "", "query": "{}", "env": {"sianode_db": str(lp_file)}},
        qa_file: qadapter_dict(queue, launchpad_file=lp_file, fworker_file=fw_file, threads=threads, gpus=gpus),
    }
    written = []
    for path, data in contents.items():
        if path.exists() and not force:
            log.warning("%s exists: kept (use --force to overwrite)", path)
            continue
        text = f"# written by sianode ({path.name}); see sianode.workflows.queue\n" + yaml.safe_dump(
            data, sort_keys=False, default_flow_style=False)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.chmod(path, 0o600)
        written.append(path)
    return written


@dataclass
class SubmitSummary:
    """What ``sianode submit`` did: ``job_ids`` submitted, ``added`` (False: resumed)."""

    campaign: str
    added: bool
    job_ids: list[str] = field(default_factory=list)
    lost_rerun: list[int] = field(default_factory=list)
    states: dict[str, int] = field(default_factory=dict)
    launch_dir: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {"campaign": self.campaign, "added": self.added, "job_ids": list(self.job_ids),
                "lost_rerun": list(self.lost_rerun), "states": dict(self.states), "launch_dir": self.launch_dir}


def submit_campaign(
    spec: Any,
    queue: str,
    *,
    db: str | None = None,
    qadapter_file: str | Path = "my_qadapter.yaml",
    jobs: int = 1,
    launch_dir: str | Path | None = None,
    wait: bool = False,
    timeout_s: float | None = None,
    progress: Callable[[dict[str, int], int], None] | None = None,
    lost_after_s: float | None = None,
) -> SubmitSummary:
    """Add a campaign (once) and submit ``jobs`` worker jobs through FireWorks' queue launcher.

    Parameters
    ----------
    spec : CampaignSpec
    queue : str
        ``slurm`` or ``pbs``; must match ``_fw_q_type`` of the adapter file.
    db : str, optional
        Database (default: ``my_launchpad.yaml`` next to the adapter file, else sianode's).
    qadapter_file : path
        The ``my_qadapter.yaml`` written by ``sianode init --queue``.
    jobs : int
        Jobs to submit; each runs one worker until the campaign is done.
    wait : bool
        Return only when no Firework of the campaign is active (or after ``timeout_s``).
    """
    from fireworks.utilities.fw_serializers import load_object_from_file

    from sianode.workflows import run as runmod

    q_type = _q_type(queue)
    if not isinstance(jobs, int) or jobs < 1:
        raise InputError(f"--jobs = {jobs!r} not allowed; allowed: a positive integer")
    qa_path = Path(qadapter_file).resolve()
    if not qa_path.is_file():
        raise InputError(f"queue adapter file {str(qa_path)!r} does not exist; allowed: a my_qadapter.yaml, "
                         f"e.g. from `sianode init --queue {queue}`")
    qadapter = load_object_from_file(str(qa_path))
    if getattr(qadapter, "q_type", None) != q_type:
        raise InputError(f"{qa_path.name}: _fw_q_type = {getattr(qadapter, 'q_type', None)!r} does not match "
                         f"--queue {queue}; allowed: {q_type}")
    if db is None and (qa_path.parent / "my_launchpad.yaml").is_file():
        db = str(qa_path.parent / "my_launchpad.yaml")
    lp, _ = runmod.campaign_launchpad(db)
    from sianode.store import open_store

    store = open_store(db)
    try:
        return _submit(spec, lp, store, qadapter, qa_path, q_type, jobs=jobs, launch_dir=launch_dir, wait=wait,
                       timeout_s=timeout_s, progress=progress, lost_after_s=lost_after_s)
    finally:
        lp.connection.close()
        store.db.client.close()


def _submit(spec: Any, lp: Any, store: Any, qadapter: Any, qa_path: Path, q_type: str, *, jobs: int,
            launch_dir: Any, wait: bool, timeout_s: float | None, progress: Any,
            lost_after_s: float | None) -> SubmitSummary:
    from fireworks import FWorker
    from fireworks.queue.queue_launcher import launch_rocket_to_queue

    from sianode.workflows import run as runmod

    fw_ids, added = runmod.add_campaign(lp, spec)
    summary = SubmitSummary(spec.name, added)
    summary.lost_rerun = runmod.recover_lost_runs(lp, store, campaign=spec.name,
                                                  lost_after_s=lost_after_s or runmod.DEFAULT_LOST_AFTER_S)
    fw_file = qa_path.parent / "my_fworker.yaml"
    fworker = FWorker.from_file(str(fw_file)) if fw_file.is_file() else FWorker()
    fworker._query = {**fworker._query, "spec._sianode_campaign": spec.name}
    if "sianode.workflows.worker" in str(qadapter.get("rocket_launch", "")) and "--campaign" not in qadapter[
            "rocket_launch"]:
        qadapter["rocket_launch"] += f" --campaign {shlex.quote(spec.name)}"
    launch_dir = Path(launch_dir) if launch_dir else runmod.default_launch_dir(spec.name)
    launch_dir.mkdir(parents=True, exist_ok=True)
    summary.launch_dir = str(launch_dir)
    job_log = f"{launch_dir}/launcher_*/{qadapter.get('job_name') or 'FW_job'}-*.out"
    runmod.record_run(lp, spec.name, launch_dir, workers_log=job_log, how=f"sianode submit ({q_type})")
    cwd = os.getcwd()
    try:
        for _ in range(jobs):
            job_id = launch_rocket_to_queue(lp, fworker, qadapter, launcher_dir=str(launch_dir),
                                            create_launcher_dir=True, strm_lvl="WARNING")
            if job_id is None:
                log.info("nothing of campaign %s is ready to run: no job submitted", spec.name)
                break
            if job_id is False:
                raise InputError(f"submitting to {q_type} failed ({qadapter.q_commands[q_type]['submit_cmd']} "
                                 f"with {qa_path.name}); see the FireWorks log above and the launcher folder in "
                                 f"{launch_dir}")
            summary.job_ids.append(str(job_id))
    finally:
        os.chdir(cwd)  # the queue launcher changes directory
    total = len(fw_ids)
    t0 = time.monotonic()
    while True:
        summary.states = runmod.campaign_states(lp, spec.name, spec.spec_hash())
        if progress is not None:
            progress(summary.states, total)
        active = any(summary.states.get(s, 0) for s in runmod.ACTIVE_STATES)
        if not wait or not active or (timeout_s is not None and time.monotonic() - t0 > timeout_s):
            break
        time.sleep(1.0 if time.monotonic() - t0 < 60 else 10.0)
    return summary
