"""``sianode demo``: the demo campaigns end to end (see :mod:`sianode.recipes.demo`)."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from sianode.commands import cli_store


def demo(
    ctx: typer.Context,
    outdir: Path = typer.Option(Path("demo-results"), "--outdir", "-o", help="Folder for the plots."),
    workers: int = typer.Option(2, "--workers", "-w", help="Local worker processes (one thread each)."),
    calculator: Optional[str] = typer.Option(None, "--calculator", help="Another calculator than the default "
                                             "(e.g. lj-test for a fast, not-physics run)."),
    validate: bool = typer.Option(True, "--validate/--no-validate", help="Print the validation table too."),
) -> None:
    """Run the demo: B, P, S, Ge at 1.5625, 3.125 and 6.25 atom % and pure Si; trends, plots, validation."""
    from rich.console import Console

    from sianode.commands.workflows import _quiet_fireworks
    from sianode.recipes.demo import render_comparisons, render_trend_rows, run_demo

    console = Console()
    if not console.is_terminal:  # logs and CI: wide enough for the tables and validation notes
        console = Console(width=160)
    quiet = ctx.obj.quiet
    _quiet_fireworks(ctx.obj.verbose)
    if not quiet:
        console.print("[bold]sianode demo[/bold]: B, P, S, Ge at 1/64, 2/64 and 4/64 (1.5625, 3.125, 6.25 atom %) "
                      "and pure Si; every T site and hop path of each cell; database: " + _describe_db(ctx.obj.db))
    from sianode.workflows.progress import Progress

    # a bar on a terminal, plain lines otherwise (| tee, CI), nothing with -q; always demo-progress.log
    with Progress(quiet=quiet, log_file=Path(outdir) / "demo-progress.log", label="demo") as progress:
        result = run_demo(db=ctx.obj.db, outdir=outdir, workers=workers, calculator=calculator, validate=False,
                          progress=progress, echo=None)
    if result.trends is not None:
        console.print(render_trend_rows(result.trends, f"{result.campaign_names[0]}: Li insertion and transport vs "
                                                       f"atom % ({result.calculator})"))
        console.print(render_comparisons(result.trends))
    for what, path in result.plots.items():
        console.print(f"wrote {path}  ({what})")
    for note in result.notes:
        console.print(f"[cyan]note[/cyan]: {note}")
    if validate:
        from sianode.recipes.demo import validation_settings
        from sianode.recipes.validate import render_report, run_validation

        with cli_store(ctx) as store:
            checks = run_validation(store, calculator=result.calculator, quick=True, settings=validation_settings(),
                                    progress=(lambda m: console.print(f"  validate: {m}")) if not quiet else False)
        console.print(render_report(checks, title=f"validation of {result.calculator} (sianode validate --quick, "
                                                  "the demo's settings: 3 NEB images)"))
    for p in result.problems:
        console.print(f"[yellow]problem[/yellow]: {p}")
    wall = sum(s.wall_s for s in result.campaigns)
    console.print(f"campaigns done in {wall:.0f} s: calculator calls made {result.computed}, reused from the store "
                  f"{result.reused}")


def _describe_db(db: str | None) -> str:
    from sianode.store import database_target

    target = database_target(db)
    return f"{target.masked_uri} ({target.source})"


def register(app: typer.Typer) -> None:
    app.command("demo")(demo)
