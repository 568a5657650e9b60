"""Shared fixtures: one real SecantusDB server per test session (in-memory storage),
a fresh database per test, and a temporary ``$SIANODE_HOME`` per test.

No stray servers: at the end of the session, every ``secantusd-py`` process started by the
tests (its working directory or storage path under this session's pytest temp dir, or a
child of this pytest process) must be gone. One still alive fails the run (exit status 1),
named with the folder it runs in (the test's ``tmp_path``), and is then stopped.
"""

from __future__ import annotations

import os
import signal
import time
import uuid
from pathlib import Path

import pytest

#: this session's pytest temp dir (set by ``_isolated_home``); servers under it are the tests'
_BASETEMP: list[Path] = []


def _secantus_processes(root: Path) -> list[tuple[int, str]]:
    """(pid, where) of live ``secantusd-py`` processes started under ``root`` or by this process."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            stat = (entry / "stat").read_text().rsplit(")", 1)[-1].split()
        except OSError:
            continue
        if "secantusd" not in cmdline or stat[0] == "Z":
            continue
        try:
            cwd = os.readlink(entry / "cwd")
        except OSError:
            cwd = ""
        inside = str(root) + os.sep  # pytest-1/ must not match pytest-12/
        if cwd.startswith(inside) or inside in cmdline or int(stat[1]) == os.getpid():
            found.append((int(entry.name), cwd or cmdline))
    return found


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Fail the run if a server started by the tests outlived them (after every fixture's teardown)."""
    if not _BASETEMP or not Path("/proc").is_dir():
        return
    leaked = _secantus_processes(_BASETEMP[0])
    if not leaked:
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    for pid, where in leaked:
        line = f"stray secantusd-py pid {pid} left running by the tests (in {where}); stopping it"
        if reporter is not None:
            reporter.write("\n")
            reporter.write_line(line, red=True)
        else:  # pragma: no cover
            print(line)
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            continue
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and _secantus_processes(_BASETEMP[0]):
        time.sleep(0.1)
    for pid, _ in _secantus_processes(_BASETEMP[0]):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    session.exitstatus = pytest.ExitCode.TESTS_FAILED


@pytest.fixture(scope="session", autouse=True)
def _isolated_home(tmp_path_factory: pytest.TempPathFactory):
    """No test touches ./sianode-data or a database from the environment: a test that
    falls back to the embedded server gets one in a session temp dir, stopped at the end."""
    from sianode.store.server import EmbeddedServer

    _BASETEMP[:] = [tmp_path_factory.getbasetemp().resolve()]
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
def sianode_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """A private ``$SIANODE_HOME``; no database URI from the environment. An embedded server
    that the test started there (directly or through a library call) is stopped afterwards."""
    from sianode.store.server import EmbeddedServer

    home = tmp_path / "home"
    monkeypatch.setenv("SIANODE_HOME", str(home))
    monkeypatch.delenv("SIANODE_DB_URI", raising=False)
    monkeypatch.delenv("SIANODE_LAUNCHPAD", raising=False)
    yield home
    EmbeddedServer(home=home).stop()


@pytest.fixture(autouse=True)
def _single_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OMP_NUM_THREADS", os.environ.get("OMP_NUM_THREADS", "1"))
