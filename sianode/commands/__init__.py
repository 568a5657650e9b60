"""CLI command groups, one module per pipeline stage; each defines ``register(app)``."""

from __future__ import annotations

from contextlib import contextmanager
from typing import Any, Iterator


@contextmanager
def cli_store(ctx: Any) -> Iterator[Any]:
    """The store of the command's ``--db`` (or the configured default), its client closed afterwards."""
    from sianode.store import open_store

    store = open_store(getattr(ctx.obj, "db", None) if ctx.obj is not None else None)
    try:
        yield store
    finally:
        store.db.client.close()
