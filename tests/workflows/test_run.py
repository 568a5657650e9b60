"""Local campaigns end to end on a real database server: no duplicate work, resume, kill -9."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow


def _docs(store):
    return store.find({"kind": {"$in": ["relax", "neb", "reference"]}})


def test_campaign_two_workers_no_duplicate_work(db_uri, store, call_log, tmp_path, wf):
    from sianode.workflows.run import run_campaign

    spec = wf.spec()
    summary = run_campaign(spec, db=db_uri, workers=2, launch_dir=tmp_path / "launch")
    assert summary.complete and summary.added
    assert summary.states == {"COMPLETED": 14}  # far hop paths: 1 per 1-dopant host, 2 per 2-dopant host
    logged = wf.calls(call_log)
    docs = _docs(store)
    assert len(logged) == len(set(logged)) == len(docs) == summary.computed
    assert all(d["status"] == "completed" for d in docs)
    # hop end points are the insertions of their T classes (no hop_end relaxations)
    assert {d["labels"]["role"] for d in docs} == {"li_metal", "lattice", "host", "insertion", "hop"}

    again = run_campaign(spec, db=db_uri, workers=2, launch_dir=tmp_path / "launch")
    assert not again.added and again.complete and again.computed == 0
    assert len(wf.calls(call_log)) == len(logged)  # 0 new calculator calls

    overlap = run_campaign(wf.spec(name="overlap", dopants=["B", "P"]), db=db_uri, workers=2,
                           launch_dir=tmp_path / "launch2")
    assert overlap.complete
    new = wf.calls(call_log)[len(logged):]
    assert len(new) == len(set(new)) == len(_docs(store)) - len(docs)
    assert overlap.reused > 0
    shared = store.find({"labels.dopant": "B", "labels.role": "host"})
    assert shared and all(set(d["labels"]["campaigns"]) == {"tiny", "overlap"} for d in shared)
    p_docs = store.find({"labels.dopant": "P"})
    assert p_docs and all(d["labels"]["campaigns"] == ["overlap"] for d in p_docs)


def _worker_pids(lp) -> list[int]:
    running = lp.launches.find({"state": "RUNNING"}, {"fworker.name": 1})
    return sorted({int(d["fworker"]["name"].rsplit(":", 1)[1]) for d in running})


def test_kill_worker_then_rerun(db_uri, store, call_log, tmp_path, wf):
    from sianode.workflows.run import campaign_launchpad, run_campaign

    spec_file = wf.write_spec(tmp_path / "campaign.yaml")
    env = {**os.environ, "SIANODE_HOME": str(tmp_path / "home")}
    cmd = [sys.executable, "-m", "sianode.cli", "-q", "--db", db_uri, "run", str(spec_file), "--workers", "2",
           "--launch-dir", str(tmp_path / "launch")]
    main = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    lp, _ = campaign_launchpad(db_uri)
    victim = None
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and victim is None:
        # wait until a host + Li relaxation or NEB is running (mid-campaign) on one of 2 workers
        if len(_worker_pids(lp)) == 2:
            for hot in lp.fireworks.find({"state": "RUNNING", "spec._sianode_stage": {"$in": ["hop", "insertion"]}},
                                         {"fw_id": 1}):
                launch = lp.launches.find_one({"fw_id": hot["fw_id"], "state": "RUNNING"}, {"fworker.name": 1})
                if launch is not None:
                    victim = int(launch["fworker"]["name"].rsplit(":", 1)[1])  # the worker running it
                    break
        time.sleep(0.02)
    assert victim is not None, "the campaign never got to a running insertion/hop"
    os.kill(main.pid, signal.SIGSTOP)  # freeze the run so it cannot recover the worker itself
    os.kill(victim, signal.SIGKILL)
    os.kill(main.pid, signal.SIGKILL)  # no in-run recovery: the next `sianode run` must do it
    main.wait()
    survivor = [p for p in _worker_pids(lp) if p != victim]

    summary = run_campaign(wf.spec(), db=db_uri, workers=2, launch_dir=tmp_path / "launch")
    for pid in survivor:  # the orphaned worker of the killed run ends by itself; make sure
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
    assert not summary.added and summary.complete
    assert summary.lost_rerun, "the killed worker's Firework was not detected as lost"
    assert summary.states == {"COMPLETED": 14}  # far hop paths: 1 per 1-dopant host, 2 per 2-dopant host
    docs = _docs(store)
    logged = wf.calls(call_log)
    assert all(d["status"] == "completed" for d in docs)
    assert len(docs) == len(set(logged))  # every calculation stored once (key = _id)
    assert len(logged) <= len(docs) + 1  # at most the killed calculation ran twice
    assert run_campaign(wf.spec(), db=db_uri, workers=1, launch_dir=tmp_path / "launch").computed == 0


def test_failed_calculation_skips_dependants(db_uri, store, call_log, tmp_path, wf):
    from sianode.workflows.run import run_campaign

    # 2 optimizer steps cannot relax the Li insertions: they fail, the rest completes
    spec = wf.spec(name="failing", dopants=["B"], counts=[1], hops="far", relax={"fmax": 0.1, "steps": 200},
                 neb={"n_images": 3, "fmax": 0.2, "steps": 1})
    summary = run_campaign(spec, db=db_uri, workers=1, launch_dir=tmp_path / "launch")
    assert summary.complete and set(summary.states) == {"COMPLETED"}
    failed = store.find({"status": "failed"})
    assert failed and all(d["kind"] == "neb" for d in failed)
    assert all("NEB status" in d["reason"] for d in failed)
    reasons = [r for _, r in summary.failed]
    assert any(r.startswith("failed: NEB status") for r in reasons)


def test_run_to_a_file_prints_progress_lines_and_status_names_the_logs(db_uri, tmp_path, wf):
    spec_file = wf.write_spec(tmp_path / "campaign.yaml", name="progress", dopants=["B"], counts=[1], hops="none")
    env = {**os.environ, "SIANODE_HOME": str(tmp_path / "home")}
    launch = tmp_path / "launch"
    with open(tmp_path / "out.txt", "w") as out:  # stdout is a file, not a terminal
        proc = subprocess.run([sys.executable, "-m", "sianode.cli", "--db", db_uri, "run", str(spec_file),
                               "--launch-dir", str(launch)], stdout=out, stderr=subprocess.PIPE, text=True,
                              env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr
    lines = [ln for ln in (tmp_path / "out.txt").read_text().splitlines() if ln.startswith("[progress ")]
    assert len(lines) >= 2, lines
    assert all("progress: fireworks " in ln and " done, " in ln for ln in lines)
    assert re.search(r"progress: fireworks 4/4 done, 0 running, 0 failed, 0 waiting; calculator calls made \d+, "
                     r"reused \d+$", lines[-1]), lines[-1]
    logged = (launch / "progress.log").read_text().splitlines()
    assert [ln.split(" ", 1)[1] for ln in logged] == lines
    assert (launch / "workers.log").stat().st_size > 0
    status = subprocess.run([sys.executable, "-m", "sianode.cli", "--db", db_uri, "status", "progress"],
                            capture_output=True, text=True, env=env, timeout=120)
    assert status.returncode == 0 and str(launch / "workers.log") in status.stdout
    quiet = subprocess.run([sys.executable, "-m", "sianode.cli", "-q", "--db", db_uri, "run", str(spec_file),
                            "--launch-dir", str(launch)], capture_output=True, text=True, env=env, timeout=300)
    assert quiet.returncode == 0 and quiet.stdout == ""  # -q: no progress, no summary


def test_resume_reconciles_what_a_crash_left_inconsistent(db_uri, store, call_log, tmp_path, wf):
    """FireWorks documents left apart by a crash: every combination is put right, nothing recomputed."""
    from sianode.workflows.run import campaign_launchpad, run_campaign

    spec = wf.spec(name="crashy", dopants=["B"], counts=[1], hops="none")
    assert run_campaign(spec, db=db_uri, workers=1, launch_dir=tmp_path / "launch").complete
    n_calls = len(wf.calls(call_log))
    lp, _ = campaign_launchpad(db_uri)
    try:
        def fw(stage):
            return lp.fireworks.find_one({"spec._sianode_campaign": "crashy", "spec._sianode_stage": stage})

        host, insertion, reference = fw("host"), fw("insertion"), fw("reference")
        wf_doc = lp.workflows.find_one({"nodes": host["fw_id"]})
        # the host's launch COMPLETED but the Firework still says RUNNING, its children WAITING, the
        # workflow's fw_states stale and the workflow locked by a process that died
        lp.fireworks.update_one({"fw_id": host["fw_id"]}, {"$set": {"state": "RUNNING"}})
        for child in (insertion,):
            lp.fireworks.update_one({"fw_id": child["fw_id"]}, {"$set": {"state": "WAITING"}})
        lp.workflows.update_one({"_id": wf_doc["_id"]}, {"$set": {
            f"fw_states.{host['fw_id']}": "RUNNING", f"fw_states.{insertion['fw_id']}": "WAITING",
            "locked": True, "state": "RUNNING"}})
        # a second launch of the (completed) reference, RUNNING on a worker of this host that is gone
        dead = subprocess.Popen([sys.executable, "-c", "pass"])
        dead.wait()
        launch = lp.launches.find_one({"launch_id": reference["launches"][-1]}, {"_id": 0})
        new_id = 1 + lp.launches.find_one({}, sort=[("launch_id", -1)])["launch_id"]
        from sianode.workflows.worker import worker_name

        launch.update(launch_id=new_id, state="RUNNING", fworker={**launch["fworker"], "name": worker_name(dead.pid)},
                      state_history=[{"state": "RUNNING", "created_on": "2020-01-01T00:00:00+00:00",
                                      "updated_on": "2020-01-01T00:00:00+00:00"}])
        launch.pop("action", None)
        lp.launches.insert_one(launch)
        lp.fireworks.update_one({"fw_id": reference["fw_id"]}, {"$push": {"launches": new_id}})
    finally:
        lp.connection.close()

    again = run_campaign(spec, db=db_uri, workers=1, launch_dir=tmp_path / "launch")
    assert again.complete and again.states == {"COMPLETED": 4}
    assert again.computed == 0 and len(wf.calls(call_log)) == n_calls  # nothing computed again
    start = again.reconciled[0]
    assert start["unlocked"] == 1 and start["lost_launches"] == [new_id]
    assert {host["fw_id"], insertion["fw_id"]} <= set(start["refreshed"])
    lp, _ = campaign_launchpad(db_uri)
    try:
        doc = lp.workflows.find_one({"_id": wf_doc["_id"]})
        assert "locked" not in doc and set(doc["fw_states"].values()) == {"COMPLETED"}
        assert lp.launches.find_one({"launch_id": new_id})["state"] == "FIZZLED"
    finally:
        lp.connection.close()
