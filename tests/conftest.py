"""Shared fixtures: one real SecantusDB server per test session (in-memory storage),
a fresh database per test, and a temporary ``$SIANODE_HOME`` per test."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest


@pytest.fixture(scope="session", autouse=True)
def _isolated_home(tmp_path_factory: pytest.TempPathFactory):
    """No test touches ./sianode-data or a database from the environment: a test that
    falls back to the embedded server gets one in a session temp dir, stopped at the end."""
    from sianode.store.server import EmbeddedServer

    home = tmp_path_factory.mktemp("default-home")
    saved = {k: os.environ.pop(k, None) for k in ("SIANODE_HOME", "SIANODE_DB_URI", "SIANODE_LAUNCHPAD")}
    os.environ["SIANODE_HOME"] = str(home)
    yield home
    EmbeddedServer(home=home).stop()
    os.environ.pop("SIANODE_HOME", None)
    for k, v in saved.items():
        if v is not None:
            os.environ[k] = v


@pytest.fixture(scope="session")
def db_server(tmp_path_factory: pytest.TempPathFactory):
    """A real SecantusDB server process on 127.0.0.1 (``:memory:`` storage)."""
    from sianode.store.server import EmbeddedServer

    home = tmp_path_factory.mktemp("sianode-server")
    server = EmbeddedServer(home=home, storage_path=":memory:")
    state = server.start()
    yield state
    server.stop()


@pytest.fixture
def db_uri(db_server) -> str:
    """URI of a fresh, empty database on the session's server."""
    return f"mongodb://{db_server.host}:{db_server.port}/test_{uuid.uuid4().hex[:12]}?directConnection=true"


@pytest.fixture
def store(db_uri):
    """A :class:`~sianode.store.ResultStore` on a fresh database."""
    from sianode.store import open_store

    store = open_store(db_uri)
    yield store
    store.db.client.close()


@pytest.fixture
def sianode_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private ``$SIANODE_HOME``; no database URI from the environment."""
    home = tmp_path / "home"
    monkeypatch.setenv("SIANODE_HOME", str(home))
    monkeypatch.delenv("SIANODE_DB_URI", raising=False)
    monkeypatch.delenv("SIANODE_LAUNCHPAD", raising=False)
    return home


@pytest.fixture(autouse=True)
def _single_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OMP_NUM_THREADS", os.environ.get("OMP_NUM_THREADS", "1"))
