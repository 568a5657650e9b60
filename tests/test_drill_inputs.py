"""Fast versions of the reliability drill's bad-input scenarios not covered elsewhere
(``benchmarks/drill.py`` runs them all through the CLI): a wrong database password, and
a calculator that returns NaN inside a store-backed step."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.doubles import FailingCalculator

HOST = "127.0.0.1"


def test_nan_energy_is_recorded_failed_with_reason(store):
    from ase.build import bulk

    from sianode.workflows.steps import relax_step

    atoms = bulk("Si", "diamond", a=5.431, cubic=True)
    atoms.rattle(0.05, seed=1)
    before = store.count()
    doc = relax_step(store, atoms, FailingCalculator("nan"), fmax=0.1, steps=20)
    assert doc["status"] == "failed"
    stored = store.get(doc["_id"])
    assert stored["status"] == "failed" and "output" not in stored
    assert "nan" in stored["reason"].lower() or "non-finite" in stored["reason"].lower()
    assert store.count() == before + 1
    again = relax_step(store, atoms, FailingCalculator("nan"), fmax=0.1, steps=20)  # found, not rerun
    assert again["_id"] == doc["_id"] and again["attempts"] == 1


def _port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def _serve(port: int, storage: Path, auth: bool) -> subprocess.Popen:
    exe = Path(sys.executable).parent / "secantusd-py"
    cmd = [str(exe) if exe.exists() else "secantusd-py", "--host", HOST, "--port", str(port),
           "--storage-path", str(storage), "--log-level", "WARNING"] + (["--auth"] if auth else [])
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex((HOST, port)) == 0:
                return proc
        time.sleep(0.1)
    proc.kill()
    pytest.fail("secantusd-py did not start")


def _stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@pytest.fixture
def auth_server(tmp_path):
    """A SecantusDB with ``--auth`` and the user alice (password 'right'); yields its port."""
    import pymongo

    port, storage = _port(), tmp_path / "auth-db"
    proc = _serve(port, storage, auth=False)
    try:
        client = pymongo.MongoClient(f"mongodb://{HOST}:{port}/?directConnection=true", serverSelectionTimeoutMS=5000)
        client.admin.command("createUser", "alice", pwd="right", roles=["root"])
        client.close()
    finally:
        _stop(proc)
    proc = _serve(port, storage, auth=True)
    yield port
    _stop(proc)


def test_wrong_password_is_one_line_without_the_password(auth_server, sianode_home):
    uri = f"mongodb://alice:wrongpw@{HOST}:{auth_server}/sianode?authSource=admin"
    proc = subprocess.run([sys.executable, "-m", "sianode.cli", "--db", uri, "query"], capture_output=True,
                          text=True, timeout=60)
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode != 0 and len(lines) == 1, proc.stderr
    assert "authentication failed" in lines[0] and f"{HOST}:{auth_server}" in lines[0]
    assert "wrongpw" not in proc.stderr + proc.stdout
