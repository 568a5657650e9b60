"""The ``sianode`` command line: parse, call the library, format.

Each stage contributes its commands from a module in :mod:`sianode.commands`
(``register(app)``), so this file only assembles them, sets up logging and turns
:class:`~sianode.errors.SianodeError` into one clear line on stderr.
"""

from __future__ import annotations

import importlib
import logging
import sys
from typing import Optional

import typer

from sianode import __version__
from sianode.errors import InputError, SianodeError

app = typer.Typer(
    name="sianode",
    help="Dopants and lithium in silicon anodes: structures, calculations, campaigns, "
    "results and stress.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

#: command modules in pipeline order; each has ``register(app: typer.Typer)``.
COMMAND_MODULES = (
    "db",
    "structures",
    "calculators",
    "workflows",
    "plan",
    "analysis",
    "transport",
    "continuum",
    "demo",
    "crosscheck",
)


class Context:
    """Options shared by every command (``typer.Context.obj``)."""

    def __init__(self, db: str | None, quiet: bool, verbose: int) -> None:
        self.db = db
        self.quiet = quiet
        self.verbose = verbose


def _version_callback(value: bool) -> None:
    if value:
        typer.echo(f"sianode {__version__}")
        raise typer.Exit()


def setup_logging(verbose: int, quiet: bool) -> None:
    """Configure logging once, from the CLI only (library modules never do)."""
    from sianode.store.uri import MaskingFormatter

    level = logging.ERROR if quiet else (logging.WARNING, logging.INFO, logging.DEBUG)[min(verbose, 2)]
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(MaskingFormatter("%(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)


@app.callback()
def _main(
    ctx: typer.Context,
    db: Optional[str] = typer.Option(
        None,
        "--db",
        help="MongoDB URI or path to a FireWorks my_launchpad.yaml "
        "(default: $SIANODE_DB_URI, else the embedded server under $SIANODE_HOME).",
        show_default=False,
    ),
    verbose: int = typer.Option(0, "-v", "--verbose", count=True, help="More log output (-vv for debug)."),
    quiet: bool = typer.Option(False, "-q", "--quiet", help="Only errors; no progress bars."),
    version: bool = typer.Option(
        False, "--version", callback=_version_callback, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    setup_logging(verbose, quiet)
    ctx.obj = Context(db=db, quiet=quiet, verbose=verbose)


def _register_all() -> None:
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(f"sianode.commands.{name}")
        except ModuleNotFoundError as exc:  # a stage not written yet
            if exc.name == f"sianode.commands.{name}":
                continue
            raise
        module.register(app)


_register_all()


def _click_exceptions() -> tuple[type, ...]:
    """click's ``ClickException`` classes: typer's vendored click (typer >= 0.20) and click itself."""
    types: list[type] = []
    try:
        from typer._click.exceptions import ClickException as TyperClickException

        types.append(TyperClickException)
    except ImportError:  # typer that uses click directly
        pass
    try:
        import click

        types.append(click.exceptions.ClickException)
    except ImportError:
        pass
    return tuple(types)


def usage_error_line(exc: Exception) -> str:
    """click's own message of a usage error as ONE line, with the help hint ("" when it has none).

    ``sianode quer`` -> ``sianode: error: No such command 'quer'. Did you mean 'query'?
    (try 'sianode --help')``.
    """
    from sianode.store.uri import mask_secrets

    fmt = getattr(exc, "format_message", None)
    message = " ".join(str(fmt() if fmt else exc).split())  # one line, whatever click put in it
    if not message:
        return ""
    ctx = getattr(exc, "ctx", None)
    hint = ""
    if ctx is not None:
        try:
            hint = f" (try '{ctx.command_path} {ctx.help_option_names[0]}')"
        except Exception:  # a context without a command path: message only
            hint = ""
    return f"sianode: error: {mask_secrets(message)}{hint}"


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``sianode`` console script."""
    from sianode.store.uri import mask_secrets

    try:
        rv = app(args=argv, standalone_mode=False, prog_name="sianode")
    except SianodeError as exc:
        typer.echo(f"sianode: error: {mask_secrets(str(exc))}", err=True)
        sys.exit(2 if isinstance(exc, InputError) else 1)
    except (typer.Exit, SystemExit) as exc:
        code = getattr(exc, "exit_code", getattr(exc, "code", 0))
        sys.exit(code or 0)
    except typer.Abort:
        typer.echo("Aborted.", err=True)
        sys.exit(130)
    except KeyboardInterrupt:
        typer.echo("Interrupted.", err=True)
        sys.exit(130)
    except Exception as exc:  # click usage errors come through here in non-standalone mode
        if isinstance(exc, _click_exceptions()):
            line = usage_error_line(exc)
            if line:  # empty for `sianode` alone: the help was printed already
                typer.echo(line, err=True)
            sys.exit(getattr(exc, "exit_code", 2))
        raise
    if isinstance(rv, int) and rv:  # typer.Exit(code) is returned, not raised, outside standalone mode
        sys.exit(rv)


if __name__ == "__main__":  # pragma: no cover
    main()
