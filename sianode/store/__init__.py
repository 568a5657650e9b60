"""Store: MongoDB (pymongo) results, one document per calculation, keyed by content hash.

Use :func:`open_store` to get a :class:`ResultStore` from ``--db`` (a MongoDB URI or a
FireWorks ``my_launchpad.yaml``), ``$SIANODE_DB_URI``, ``$SIANODE_LAUNCHPAD``, or, with
none of these, the embedded SecantusDB server started on demand.
"""

from __future__ import annotations

from typing import Any

from sianode.store.hashing import canonical_structure, content_key
from sianode.store.results import COMPLETED, FAILED, RUNNING, ResultStore, connect
from sianode.store.server import EmbeddedServer
from sianode.store.uri import DatabaseTarget, mask_secrets, resolve_target

__all__ = [
    "COMPLETED", "FAILED", "RUNNING", "DatabaseTarget", "EmbeddedServer", "MigrationReport", "ResultStore",
    "SCHEMA_VERSION", "canonical_structure", "connect", "content_key", "database_target", "mask_secrets",
    "open_store", "parse_document", "resolve_target",
]

#: names imported on first use (pydantic loads only when documents are parsed); the migration
#: itself is ``sianode.store.migrate.migrate`` (its module's name, so it is not re-exported here)
_LAZY = {"parse_document": "sianode.store.documents", "SCHEMA_VERSION": "sianode.store.schema",
         "MigrationReport": "sianode.store.migrate"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'sianode.store' has no attribute {name!r}")


def database_target(db: str | None = None, *, start: bool = True) -> DatabaseTarget:
    """Resolve where results live, starting the embedded server when none is configured."""
    target = resolve_target(db)
    if target is not None:
        return target
    server = EmbeddedServer()
    state = server.start() if start else server.read_state()
    if state is None:
        from sianode.errors import DatabaseUnavailable

        raise DatabaseUnavailable(f"the embedded database under {server.home} is not running; run `sianode db start`")
    return DatabaseTarget(uri=state.uri, embedded=True, source=f"embedded server in {server.home}")


def open_store(db: str | None = None, *, timeout_s: float = 5.0) -> ResultStore:
    """A :class:`ResultStore` on the configured database (see module docstring)."""
    return ResultStore(connect(database_target(db), timeout_s=timeout_s))
