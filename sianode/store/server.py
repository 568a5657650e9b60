"""The embedded database: a local SecantusDB server run as a separate process.

SecantusDB (PyPI ``secantusdb``, GPL-2.0) speaks the MongoDB wire protocol on
WiredTiger storage. sianode never imports it: it runs the ``secantusd-py`` command as
a child process in its own session, bound to 127.0.0.1 on a free port, with
``--sync-on-commit`` so a committed result survives a power cut, and its data under
``$SIANODE_HOME/db``.

A state file ``$SIANODE_HOME/server.json`` (pid, port, storage path) lets every
sianode process and FireWorks worker on the machine share one server; starting is
serialised by a file lock. A state file whose process is gone (killed, reboot) is
stale: the next start replaces it and reopens the same data.

Lifetime: the server has no idle timeout. Once started (by ``sianode db start`` or by any
library call or command that needs the database and finds none configured: ``open_store()``,
``sianode run``, ``sianode query``, ...) it keeps running after the process that started it
exits, so later commands and workers reuse it, until ``sianode db stop`` (or
``EmbeddedServer().stop()``), a reboot, or its process is killed. Every start is logged at
INFO with pid, port and data directory (``sianode -v ...`` shows it); ``sianode db status``
says whether one is running.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Iterator

from sianode.errors import DatabaseUnavailable
from sianode.store.uri import sianode_home

log = logging.getLogger(__name__)

HOST = "127.0.0.1"
STATE_FILE = "server.json"
LOCK_FILE = "server.lock"
LOG_FILE = "server.log"
START_TIMEOUT_S = 60.0
#: a live server that answers no ping for this long is hung
HUNG_AFTER_S = 20.0


@dataclass
class ServerState:
    """What ``server.json`` records about a running embedded server."""

    pid: int
    host: str
    port: int
    storage_path: str
    started_at: float

    @property
    def uri(self) -> str:
        return f"mongodb://{self.host}:{self.port}/?directConnection=true"


def server_executable() -> str:
    """Path of the ``secantusd-py`` command (next to this Python first, then ``$PATH``)."""
    here = Path(sys.executable).parent / "secantusd-py"
    if here.exists():
        return str(here)
    found = shutil.which("secantusd-py")
    if not found:
        raise DatabaseUnavailable(
            "the embedded database needs the 'secantusd-py' command (PyPI secantusdb==0.7.0b3); "
            "install sianode with `make install`, or give a MongoDB URI with --db / $SIANODE_DB_URI"
        )
    return found


def free_port(host: str = HOST) -> int:
    """An unused TCP port on ``host`` (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def pid_alive(pid: int) -> bool:
    """True while process ``pid`` exists on this host and is not a zombie."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie child counts as gone
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return True


def _is_secantus(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as fh:
            return b"secantus" in fh.read()
    except OSError:
        return False


def ping(uri: str, timeout_s: float = 2.0) -> bool:
    """True when a MongoDB-protocol server answers ``ping`` at ``uri``."""
    import pymongo

    client = pymongo.MongoClient(uri, serverSelectionTimeoutMS=int(timeout_s * 1000), connectTimeoutMS=int(timeout_s * 1000))
    try:
        client.admin.command("ping")
        return True
    except Exception:
        return False
    finally:
        client.close()


class EmbeddedServer:
    """Manage the embedded SecantusDB server of one ``home`` directory.

    Parameters
    ----------
    home
        sianode's state directory (default ``$SIANODE_HOME`` or ``./sianode-data``).
    storage_path
        WiredTiger directory; default ``home/db``. ``":memory:"`` for tests.
    """

    def __init__(self, home: str | Path | None = None, storage_path: str | None = None) -> None:
        self.home = Path(home).resolve() if home else sianode_home()
        self.storage_path = storage_path or str(self.home / "db")

    @property
    def state_path(self) -> Path:
        return self.home / STATE_FILE

    @property
    def log_path(self) -> Path:
        return self.home / LOG_FILE

    @contextmanager
    def _locked(self) -> Iterator[None]:
        self.home.mkdir(parents=True, exist_ok=True)
        with open(self.home / LOCK_FILE, "a+") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    def read_state(self) -> ServerState | None:
        try:
            return ServerState(**json.loads(self.state_path.read_text()))
        except (OSError, ValueError, TypeError):
            return None

    def status(self) -> tuple[str, ServerState | None]:
        """``("running", state)``, ``("stale", state)`` or ``("stopped", None)``."""
        state = self.read_state()
        if state is None:
            return "stopped", None
        if not pid_alive(state.pid):
            return "stale", state
        # a live server process on a busy machine may answer slowly: only one that stays
        # silent for HUNG_AFTER_S is treated as hung (and then restarted)
        deadline = time.monotonic() + HUNG_AFTER_S
        while True:
            if ping(state.uri, timeout_s=2.0):
                return "running", state
            if time.monotonic() > deadline or not pid_alive(state.pid):
                return "stale", state

    def start(self) -> ServerState:
        """Return the running server's state, starting (or restarting) it if needed."""
        with self._locked():
            status, state = self.status()
            if status == "running" and state is not None:
                log.debug("reusing embedded database pid %d on port %d", state.pid, state.port)
                return state
            if status == "stale" and state is not None:
                log.warning(
                    "embedded database (pid %d, port %d) is gone; restarting it on the same data in %s",
                    state.pid, state.port, state.storage_path,
                )
                self._terminate(state.pid)
            return self._spawn()

    def _spawn(self) -> ServerState:
        if self.storage_path != ":memory:":
            Path(self.storage_path).mkdir(parents=True, exist_ok=True)
        port = free_port()
        cmd = [
            server_executable(), "--host", HOST, "--port", str(port),
            "--storage-path", self.storage_path, "--sync-on-commit", "--log-level", "WARNING",
        ]
        with open(self.log_path, "ab") as out:
            proc = subprocess.Popen(
                cmd, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                start_new_session=True, cwd=str(self.home),
            )
        state = ServerState(pid=proc.pid, host=HOST, port=port, storage_path=self.storage_path, started_at=time.time())
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                tail = self.log_path.read_text(errors="replace")[-400:].strip().splitlines()
                raise DatabaseUnavailable(
                    f"the embedded database exited at start (code {proc.returncode}): "
                    f"{tail[-1] if tail else 'no log'}; see {self.log_path}"
                )
            if ping(state.uri, timeout_s=0.5):
                tmp = self.state_path.with_suffix(".tmp")
                tmp.write_text(json.dumps(asdict(state)))
                os.replace(tmp, self.state_path)
                log.info("started the embedded database: pid %d on %s:%d, data in %s; it keeps running after "
                         "this process exits (stop it with `sianode db stop`, home %s)",
                         proc.pid, HOST, port, self.storage_path, self.home)
                return state
            time.sleep(0.1)
        self._terminate(proc.pid)
        raise DatabaseUnavailable(f"the embedded database did not answer within {START_TIMEOUT_S:.0f} s; see {self.log_path}")

    @staticmethod
    def _terminate(pid: int, timeout_s: float = 15.0) -> None:
        if not pid_alive(pid) or not _is_secantus(pid):
            return
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if not pid_alive(pid):
                return
            try:  # reap it if it is our child
                os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                pass
            time.sleep(0.05)
        os.kill(pid, signal.SIGKILL)

    def stop(self) -> bool:
        """Stop the server; True if one was running."""
        with self._locked():
            state = self.read_state()
            if state is None:
                return False
            was_running = pid_alive(state.pid)
            self._terminate(state.pid)
            self.state_path.unlink(missing_ok=True)
            return was_running
