"""The results store against a real SecantusDB server."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from sianode.errors import CalculationFailed
from sianode.store import COMPLETED, FAILED, content_key


def _key(i: int = 0) -> str:
    return content_key("test", None, {"name": "t"}, {"i": i})


def test_insert_and_get_by_key(store):
    key = _key()
    store.insert(key, {"kind": "test", "output": {"energy_eV": -1.5}})
    doc = store.get(key)
    assert doc["output"]["energy_eV"] == -1.5 and doc["status"] == COMPLETED
    # inserting again never overwrites
    store.insert(key, {"kind": "test", "output": {"energy_eV": 99.0}})
    assert store.get(key)["output"]["energy_eV"] == -1.5


def test_get_or_compute_runs_once(store):
    calls = []

    def fn():
        calls.append(1)
        return {"energy_eV": -2.0}

    first = store.get_or_compute(_key(1), fn, meta={"kind": "test"})
    second = store.get_or_compute(_key(1), fn, meta={"kind": "test"})
    assert len(calls) == 1
    assert first["output"] == second["output"] == {"energy_eV": -2.0}


def test_failed_is_recorded_with_reason_and_no_number(store):
    def fn():
        raise CalculationFailed("relaxation did not converge in 5 steps")

    doc = store.get_or_compute(_key(2), fn, meta={"kind": "relax"})
    assert doc["status"] == FAILED
    assert "did not converge" in doc["reason"]
    assert "output" not in doc
    # not retried unless asked; retried on request
    calls = []
    again = store.get_or_compute(_key(2), lambda: calls.append(1) or {"energy_eV": 1.0})
    assert again["status"] == FAILED and calls == []
    retried = store.get_or_compute(_key(2), lambda: calls.append(1) or {"energy_eV": 1.0}, retry_failed=True)
    assert retried["status"] == COMPLETED and calls == [1] and retried["attempts"] == 2


def test_failure_from_a_fixed_sianode_bug_is_computed_again(store):
    """A document failed by a bug of sianode (not by the calculation) is computed again when asked
    for; a physics failure is not; the old reason is kept."""
    bug = "relax output does not fit RelaxOutput: stress_eV_A3.0: Input should be a valid number"

    def broken():
        raise CalculationFailed(bug)

    assert store.get_or_compute(_key(21), broken)["status"] == FAILED
    calls = []
    doc = store.get_or_compute(_key(21), lambda: calls.append(1) or {"energy_eV": 1.0})
    assert doc["status"] == COMPLETED and calls == [1] and doc["previous_reasons"] == [bug]
    def physics():
        raise CalculationFailed("relaxation did not converge in 5 steps")

    store.get_or_compute(_key(22), physics)
    again = store.get_or_compute(_key(22), lambda: calls.append(2) or {"energy_eV": 1.0})
    assert again["status"] == FAILED and calls == [1]


def test_unexpected_exception_is_recorded_and_raised(store):
    def fn():
        raise ZeroDivisionError("boom")

    with pytest.raises(ZeroDivisionError):
        store.get_or_compute(_key(3), fn)
    doc = store.get(_key(3))
    assert doc["status"] == FAILED and "ZeroDivisionError" in doc["reason"]


def test_completed_is_never_overwritten_by_retry(store):
    store.get_or_compute(_key(4), lambda: {"energy_eV": -3.0})
    doc = store.get_or_compute(_key(4), lambda: {"energy_eV": 7.0}, retry_failed=True)
    assert doc["output"]["energy_eV"] == -3.0


def test_five_megabyte_trajectory_round_trips_through_gridfs(store):
    traj = np.random.default_rng(0).normal(size=(1000, 65, 3, 3)).astype(np.float64)  # 4.7 MB
    traj = np.concatenate([traj, traj[:70]])  # > 5 MB
    assert traj.nbytes > 5e6
    doc = store.get_or_compute(_key(5), lambda: {"energy_eV": 0.0, "arrays": {"trajectory": traj}})
    assert "trajectory" in doc["files"] and "arrays" not in doc["output"]
    back = store.get_arrays(store.get(_key(5)))["trajectory"]
    assert back.dtype == traj.dtype and np.array_equal(back, traj)


WORKER = textwrap.dedent(
    """
    import sys, time, os
    from sianode.store import open_store
    uri, key, log, sleep_s, lease_s = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4]), float(sys.argv[5])
    store = open_store(uri)
    def fn():
        with open(log, "a") as fh:
            fh.write(f"{os.getpid()}\\n")
        time.sleep(sleep_s)
        return {"energy_eV": -4.25, "pid": os.getpid()}
    print("READY", flush=True)
    doc = store.get_or_compute(key, fn, lease_s=lease_s, poll_s=0.05)
    print(doc["status"], doc["output"]["pid"], flush=True)
    """
)


def _spawn(db_uri: str, key: str, log: Path, sleep_s: float, lease_s: float) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", WORKER, db_uri, key, str(log), str(sleep_s), str(lease_s)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )


def test_two_processes_on_one_key_compute_once(db_uri, tmp_path):
    log = tmp_path / "calls.log"
    key = _key(6)
    procs = [_spawn(db_uri, key, log, 1.0, 30) for _ in range(2)]
    outs = [p.communicate(timeout=120) for p in procs]
    assert all(p.returncode == 0 for p in procs), outs
    assert len(log.read_text().split()) == 1
    results = {o[0].split()[-1] for o in outs}
    assert len(results) == 1, outs  # both saw the same computing pid


def test_claim_of_a_killed_worker_is_taken_over(store, db_uri, tmp_path):
    log = tmp_path / "calls.log"
    key = _key(7)
    proc = _spawn(db_uri, key, log, 3600, 2.0)
    deadline = time.time() + 60
    while not (log.exists() and log.read_text().strip()) and time.time() < deadline:
        time.sleep(0.05)
    assert store.get(key)["status"] == "running"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    t0 = time.time()
    doc = store.get_or_compute(key, lambda: {"energy_eV": -4.25, "pid": os.getpid()}, poll_s=0.05)
    assert doc["status"] == COMPLETED and doc["output"]["pid"] == os.getpid()
    assert doc["attempts"] == 2
    assert time.time() - t0 < 10  # taken over after the 2 s lease, not stuck


def test_indexes_exist(store):
    names = {tuple(k for k, _ in ix["key"].items()) for ix in store.coll.list_indexes()}
    assert ("labels.dopant",) in names and ("status",) in names and ("kind",) in names


def test_relabel_keeps_result_and_previous_labels(store):
    key = _key(8)
    store.get_or_compute(key, lambda: {"energy_eV": -5.0},
                         meta={"kind": "relax", "labels": {"role": "hop_end", "hop": "hop1", "campaigns": ["a"]}})
    store.relabel(key, {"role": "insertion", "site": "T1", "campaigns": ["b"]})
    doc = store.get(key)
    assert doc["output"] == {"energy_eV": -5.0} and doc["status"] == COMPLETED
    assert doc["labels"]["role"] == "insertion" and doc["labels"]["site"] == "T1"
    assert doc["labels"]["campaigns"] == ["a", "b"]
    assert doc["labels"]["also"] == [{"role": "hop_end", "hop": "hop1"}]
