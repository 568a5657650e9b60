"""``sianode db start|stop|status|uri|migrate``: the embedded database server and its documents."""

from __future__ import annotations

import json

import typer

from sianode.commands import cli_store

db_app = typer.Typer(help="The results database (embedded SecantusDB server, or your MongoDB).", no_args_is_help=True)


@db_app.command("start")
def start(ctx: typer.Context) -> None:
    """Start the embedded server (or reuse the running one) and print its URI."""
    from sianode.store import EmbeddedServer, resolve_target

    if resolve_target(ctx.obj.db) is not None:
        typer.echo("a database is configured (--db / $SIANODE_DB_URI / $SIANODE_LAUNCHPAD): nothing to start")
        return
    state = EmbeddedServer().start()
    typer.echo(state.uri)


@db_app.command("stop")
def stop() -> None:
    """Stop the embedded server (data stay on disk)."""
    from sianode.store import EmbeddedServer

    server = EmbeddedServer()
    typer.echo("stopped" if server.stop() else f"no embedded server was running under {server.home}")


@db_app.command("status")
def status(ctx: typer.Context, as_json: bool = typer.Option(False, "--json", help="Machine-readable output.")) -> None:
    """Which database is used, and whether it answers."""
    from sianode.store import EmbeddedServer, resolve_target

    target = resolve_target(ctx.obj.db)
    if target is not None:
        from sianode.store import connect

        connect(target)  # one clear line (host named, password masked) when unreachable
        info = {"database": target.database, "uri": target.masked_uri, "source": target.source, "state": "running"}
    else:
        server = EmbeddedServer()
        state_name, state = server.status()
        info = {"database": "sianode", "source": f"embedded server in {server.home}", "state": state_name,
                "uri": state.uri if state else None, "pid": state.pid if state else None,
                "storage_path": state.storage_path if state else server.storage_path}
    if as_json:
        typer.echo(json.dumps(info))
    else:
        for k, v in info.items():
            typer.echo(f"{k:13s} {v}")


@db_app.command("uri")
def uri(ctx: typer.Context) -> None:
    """Print the database URI (password masked), starting the embedded server if needed."""
    from sianode.store import database_target

    typer.echo(database_target(ctx.obj.db).masked_uri)


@db_app.command("migrate")
def migrate(
    ctx: typer.Context,
    dry_run: bool = typer.Option(False, "--dry-run", help="Count what would change; write nothing."),
    rekey: bool = typer.Option(True, "--rekey/--no-rekey", help="Also move calculations whose content key "
                               "definition changed to their new key (an alias stays at the old one; default), so "
                               "a campaign run again finds them."),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
) -> None:
    """Upgrade stored documents in place to the current schema (idempotent; deletes nothing)."""
    from sianode.store.migrate import migrate as run_migration

    upgrade = None
    if rekey:
        from sianode.workflows.params import upgrade_parameters as upgrade
    with cli_store(ctx) as store:
        report = run_migration(store, dry_run=dry_run, upgrade_parameters=upgrade)
    if as_json:
        typer.echo(json.dumps(report.as_dict()))
    else:
        for line in report.lines():
            typer.echo(line)


def register(app: typer.Typer) -> None:
    app.add_typer(db_app, name="db")
