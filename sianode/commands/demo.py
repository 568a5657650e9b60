"""``sianode demo``: the demo campaign end to end (see :mod:`sianode.demo`)."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer


def demo(
    ctx: typer.Context,
    outdir: Path = typer.Option(Path("demo-results"), "--outdir", "-o", help="Folder for the plots."),
    workers: int = typer.Option(2, "--workers", "-w", help="Local worker processes (one thread each)."),
    calculator: Optional[str] = typer.Option(None, "--calculator", help="Another calculator than the default "
                                             "(e.g. lj-test for a fast, not-physics run)."),
    validate: bool = typer.Option(True, "--validate/--no-validate", help="Print the validation table too."),
) -> None:
    """Run the demo campaign: pure Si and B, P, S, Ge at 1.5625 %; table, plots, validation."""
    from rich.console import Console

    from sianode.commands.workflows import _Progress, _quiet_fireworks
    from sianode.demo import run_demo

    console = Console()
    if not console.is_terminal:  # logs and CI: wide enough for the validation notes
        console = Console(width=140)
    quiet = ctx.obj.quiet
    _quiet_fireworks(ctx.obj.verbose)
    if not quiet:
        console.print("[bold]sianode demo[/bold]: pure Si and B, P, S, Ge at 1.5625 atom % (64-site cells); "
                      "database: " + _describe_db(ctx.obj.db))
    with _Progress(not quiet) as progress:
        result = run_demo(db=ctx.obj.db, outdir=outdir, workers=workers, calculator=calculator, validate=False,
                          progress=progress, echo=None)
    from sianode.demo import render_rows

    spec_name = result.campaign.campaign
    console.print(render_rows(result.rows, f"{spec_name}: Li insertion and diffusion"))
    for what, path in result.plots.items():
        console.print(f"wrote {path}  ({what})")
    if validate:
        from sianode.analysis.validate import render_report, run_validation
        from sianode.store import open_store

        calc = calculator or "sevennet"
        checks = run_validation(open_store(ctx.obj.db), calculator=calc, quick=True,
                                progress=(lambda m: console.print(f"  validate: {m}")) if not quiet else False)
        console.print(render_report(checks, title=f"validation of {calc} (sianode validate --quick)"))
    for p in result.problems:
        console.print(f"[yellow]problem[/yellow]: {p}")
    s = result.campaign
    console.print(f"done in {s.wall_s:.0f} s: calculator calls made {s.computed}, reused from the store {s.reused}")


def _describe_db(db: str | None) -> str:
    from sianode.store import database_target

    target = database_target(db)
    return f"{target.masked_uri} ({target.source})"


def register(app: typer.Typer) -> None:
    app.command("demo")(demo)
