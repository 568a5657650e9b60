"""Reliability drill: kill things, feed bad input, and check that no result is lost or
computed twice.

Everything runs as a user would: through the ``sianode`` command line in subprocesses,
each scenario in its own temporary ``$SIANODE_HOME`` (embedded SecantusDB server,
on-disk storage), with the cheap ``lj-test`` calculator (NOT physics). pymongo is used
only to look at the database. Only 127.0.0.1 is ever contacted.

Scenarios
---------
1. ``kill -9`` a worker mid-campaign (a: its ``sianode run`` goes on; b: killed too, then ``sianode run``
   again): the lost run is detected and rerun, every result completed before the kill is
   still there with the same output, the campaign completes, nothing is stored twice and
   the calculator ran at most once more than there are calculations (the killed one).
2. ``kill -9`` the database server mid-campaign, then ``sianode run`` again: every result
   committed before the kill is still there, the campaign completes (within 150 s: never
   hangs), and no calculation finished before the kill runs again (call log). ``--repeat N``
   does it N times, killing after 0, 1, 2, 3, 4, 5, 6, 8, 10, 12 finished calculations in turn
   plus a seeded random delay of up to a second or more, and reports how many passed.
3. 2 and 4 concurrent workers (``--workers N``), and two ``sianode run`` processes on one
   campaign at once: calculator calls == distinct stored calculations.
4. Bad input of every layer: one line on stderr, no traceback, non-zero exit (or a
   recorded failure), and every stored document unchanged (canonical-JSON hash of the
   ``calculations`` collection before and after).

Usage::

    .venv/bin/python benchmarks/drill.py            # all scenarios, a few minutes on 2 cores
    .venv/bin/python benchmarks/drill.py -s 4       # only scenario 4 (repeatable: -s 1 -s 3)
    .venv/bin/python benchmarks/drill.py --keep     # keep the temporary homes for inspection
    .venv/bin/python benchmarks/drill.py -s 2 --repeat 20   # scenario 2 twenty times, varied kill moments

Prints one table (scenario, expected, seen, pass) and exits 0 only if every row passes.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

HOST = "127.0.0.1"
DATABASE = "sianode"
CALC_KINDS = ("relax", "neb", "reference")

#: 1x1x1 cells (8 Si), B and Ge at 1 and 2 dopants, nearest T site, far hops (lj-test: NOT physics)
TINY: dict[str, Any] = {
    "name": "drill",
    "dopants": ["B", "Ge"],
    "counts": [1, 2],
    "max_supercell": 1,
    "include_pure": True,
    "sites": {"nearest": 1},
    "hops": "far",
    "calculator": {"name": "lj-test"},
    "relax": {"fmax": 0.1, "steps": 200},
    "neb": {"n_images": 3, "fmax": 0.2, "steps": 200},
    "reference": {"fmax": 0.05},
}


# ------------------------------------------------------------------ results
@dataclass
class Row:
    scenario: str
    expected: str
    seen: str
    ok: bool


ROWS: list[Row] = []


def record(scenario: str, expected: str, seen: str, ok: bool) -> bool:
    ROWS.append(Row(scenario, expected, seen, bool(ok)))
    mark = "pass" if ok else "FAIL"
    print(f"[{mark}] {scenario}: {seen}", file=sys.stderr, flush=True)
    return bool(ok)


def print_table(rows: list[Row]) -> None:
    def cell(text: str) -> str:
        return str(text).replace("|", "\\|").replace("\n", " ")

    print("| scenario | expected | seen | pass |")
    print("|---|---|---|---|")
    for r in rows:
        print(f"| {cell(r.scenario)} | {cell(r.expected)} | {cell(r.seen)} | {'pass' if r.ok else '**FAIL**'} |")
    n_ok = sum(r.ok for r in rows)
    print(f"\n{n_ok}/{len(rows)} passed")


# ------------------------------------------------------------------ processes
def sianode_cmd() -> list[str]:
    exe = Path(sys.executable).parent / "sianode"
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "sianode.cli"]


class Home:
    """A temporary ``$SIANODE_HOME`` with its own embedded server and call log."""

    def __init__(self, root: Path, name: str) -> None:
        self.path = root / name
        self.path.mkdir(parents=True, exist_ok=True)
        self.call_log = self.path / "calls.log"
        self.call_log.write_text("")
        self._client: Any = None
        self._client_port: int | None = None

    def env(self, **extra: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k not in ("SIANODE_DB_URI", "SIANODE_LAUNCHPAD")}
        env.update({"SIANODE_HOME": str(self.path), "SIANODE_CALL_LOG": str(self.call_log),
                    "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1",
                    "PYTHONWARNINGS": "ignore"})
        env.update(extra)
        return env

    def run(self, args: list[str], timeout: float = 600, **extra: str) -> subprocess.CompletedProcess:
        return subprocess.run(sianode_cmd() + args, env=self.env(**extra), cwd=self.path, capture_output=True,
                              text=True, timeout=timeout)

    def popen(self, args: list[str], **extra: str) -> subprocess.Popen:
        return subprocess.Popen(sianode_cmd() + args, env=self.env(**extra), cwd=self.path,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def write_spec(self, filename: str = "campaign.yaml", **changes: Any) -> Path:
        import yaml

        path = self.path / filename
        path.write_text(yaml.safe_dump({**TINY, **changes}, sort_keys=False))
        return path

    # database -------------------------------------------------------
    def state(self) -> dict[str, Any] | None:
        try:
            return json.loads((self.path / "server.json").read_text())
        except (OSError, ValueError):
            return None

    def db(self) -> Any:
        """The ``sianode`` database of this home's embedded server (pymongo, 127.0.0.1 only)."""
        import pymongo

        state = self.state()
        if state is None:
            raise RuntimeError(f"no embedded server state in {self.path}")
        assert state["host"] == HOST, state
        if self._client is None or self._client_port != state["port"]:
            if self._client is not None:
                self._client.close()
            self._client = pymongo.MongoClient(f"mongodb://{HOST}:{state['port']}/?directConnection=true",
                                               serverSelectionTimeoutMS=3000)
            self._client_port = state["port"]
        return self._client[DATABASE]

    def calls(self) -> list[str]:
        return [ln.split()[1] for ln in self.call_log.read_text().splitlines() if ln.strip()]

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None
        try:
            self.run(["db", "stop"], timeout=60)
        except Exception:
            pass


def canonical(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, default=str, separators=(",", ":"))


def doc_hashes(db: Any) -> dict[str, str]:
    """``{_id: sha256 of the canonical JSON}`` of every calculation document."""
    return {str(d["_id"]): hashlib.sha256(canonical(d).encode()).hexdigest() for d in db["calculations"].find({})}


def collection_hash(hashes: dict[str, str]) -> str:
    return hashlib.sha256("".join(f"{k}:{hashes[k]}\n" for k in sorted(hashes)).encode()).hexdigest()


def finished(db: Any) -> dict[str, dict[str, Any]]:
    """Completed and failed calculations: ``{key: {status, output, files, reason}}``."""
    return {d["_id"]: {"status": d["status"], "output": canonical(d.get("output")), "files": canonical(d.get("files")),
                       "reason": d.get("reason")}
            for d in db["calculations"].find({"status": {"$in": ["completed", "failed"]},
                                              "kind": {"$in": list(CALC_KINDS)}})}


def fw_states(db: Any, campaign: str) -> dict[str, int]:
    out: dict[str, int] = {}
    for d in db["fireworks"].find({"spec._sianode_campaign": campaign}, {"state": 1}):
        out[d["state"]] = out.get(d["state"], 0) + 1
    return out


def cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


def running_workers(db: Any, campaign: str) -> list[int]:
    """pids of this host's sianode workers with a RUNNING launch of ``campaign``."""
    prefix = f"sianode-worker:{socket.gethostname()}:"
    fw_ids = [d["fw_id"] for d in db["fireworks"].find({"spec._sianode_campaign": campaign}, {"fw_id": 1})]
    pids = set()
    for launch in db["launches"].find({"state": "RUNNING", "fw_id": {"$in": fw_ids}}, {"fworker.name": 1}):
        name = (launch.get("fworker") or {}).get("name", "")
        if name.startswith(prefix):
            pids.add(int(name.rsplit(":", 1)[1]))
    return sorted(pids)


def kill_own(pid: int, what: str, sig: int = signal.SIGKILL) -> None:
    """Signal ``pid`` after checking it is the kind of process this drill started."""
    if alive(pid) and what in cmdline(pid):
        os.kill(pid, sig)


def wait_for(pred: Callable[[], Any], timeout: float, poll: float = 0.05) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            value = pred()
        except Exception:
            value = None
        if value:
            return value
        time.sleep(poll)
    return None


def run_json(proc: subprocess.CompletedProcess) -> dict[str, Any]:
    for line in reversed(proc.stdout.strip().splitlines()):
        if line.startswith("{"):
            return json.loads(line)
    return {}


def one_line_error(proc: subprocess.CompletedProcess) -> tuple[bool, str]:
    """(ok, description): non-zero exit, exactly one stderr line, no traceback."""
    lines = [ln for ln in proc.stderr.strip().splitlines() if ln.strip()]
    ok = proc.returncode != 0 and len(lines) == 1 and "Traceback" not in proc.stderr
    shown = lines[-1] if lines else "(no stderr)"
    if len(shown) > 160:
        shown = shown[:157] + "..."
    return ok, f"exit {proc.returncode}, {len(lines)} stderr line(s): {shown}"


def orphans_cleanup(pids: list[int]) -> None:
    for pid in pids:
        kill_own(pid, "sianode.workflows.worker", signal.SIGTERM)
    wait_for(lambda: not any(alive(p) for p in pids), 20)
    for pid in pids:
        kill_own(pid, "sianode.workflows.worker", signal.SIGKILL)


# ------------------------------------------------------------------ scenario 1
def scenario_kill_worker(root: Path, kill_run: bool) -> None:
    """kill -9 one of 2 workers mid-campaign.

    ``kill_run``: kill its ``sianode run`` too (first), so only the next ``sianode run`` can
    notice and rerun the lost Firework; else the running ``sianode run`` must notice itself.
    """
    name = "1b kill -9 worker + its `sianode run`, resume" if kill_run else "1a kill -9 worker, run continues"
    home = Home(root, "s1b-kill-worker-and-run" if kill_run else "s1a-kill-worker")
    spec = home.write_spec()
    orphans: list[int] = []
    try:
        main = home.popen(["-q", "run", str(spec), "--workers", "2", "--json"])

        def hot() -> Any:  # mid-campaign: results stored, an insertion or hop running, 2 busy workers
            d = home.db()
            busy = d["fireworks"].find_one({"state": "RUNNING", "spec._sianode_stage": {"$in": ["insertion", "hop"]},
                                            "spec._sianode_campaign": TINY["name"]})
            pids = running_workers(d, TINY["name"])
            return pids if busy is not None and len(pids) == 2 and finished(d) else None

        pids = wait_for(hot, 180)
        if not pids:
            main.kill()
            main.wait()
            record(name, "reach mid-campaign", "campaign never had 2 busy workers", False)
            return
        victim, survivor = pids[0], pids[1:]
        before = finished(home.db())  # snapshot just before the kill
        if kill_run:
            kill_own(main.pid, "sianode")
            main.wait()
            orphans = survivor  # the other worker of the killed run goes on by itself
        kill_own(victim, "sianode.workflows.worker")
        wait_for(lambda: not alive(victim), 10)
        t0 = time.monotonic()
        if kill_run:
            proc = home.run(["-q", "run", str(spec), "--workers", "2", "--json"], timeout=600)
            detected = run_json(proc)
            first = f"resume exit {proc.returncode}"
        else:
            out, err = main.communicate(timeout=600)
            detected = run_json(subprocess.CompletedProcess([], main.returncode, out, err))
            first = f"run exit {main.returncode}"
        # the killed run's orphaned worker ends by itself once nothing is left to run
        wait_for(lambda: not any(alive(p) for p in orphans), 120, 0.2)
        again = home.run(["-q", "run", str(spec), "--workers", "2", "--json"], timeout=600)
        summary = run_json(again)
        wall = time.monotonic() - t0
        d = home.db()
        after = finished(d)
        lost = [k for k, v in before.items() if after.get(k) != v]
        docs = list(d["calculations"].find({"kind": {"$in": list(CALC_KINDS)}}, {"key": 1, "status": 1}))
        keys = {x["key"] for x in docs}
        calls = home.calls()
        states = fw_states(d, TINY["name"])
        record(name, "lost run detected and rerun",
               f"{first}: lost_rerun = {detected.get('lost_rerun')} (Firework ids)", bool(detected.get("lost_rerun")))
        record(name, "0 results lost (completed before kill: same output after)",
               f"{len(before)} finished before the kill, {len(lost)} lost or changed", not lost and bool(before))
        record(name, "campaign completes; `sianode run` again: 0 calls",
               f"fireworks {states}; run again: exit {again.returncode}, computed {summary.get('computed')} "
               f"({wall:.0f} s)",
               set(states) == {"COMPLETED"} and again.returncode == 0 and summary.get("computed") == 0)
        running = [x for x in docs if x["status"] not in ("completed", "failed")]
        n_killed = 1
        record(name, "nothing stored twice; calls <= distinct + killed",
               f"{len(docs)} docs, {len(keys)} distinct keys, {len(running)} unfinished; {len(calls)} calls "
               f"({len(set(calls))} distinct), killed {n_killed}",
               len(docs) == len(keys) and not running and len(calls) <= len(keys) + n_killed
               and set(calls) <= keys)
    finally:
        orphans_cleanup(orphans)
        home.close()


# ------------------------------------------------------------------ scenario 2
RESUME_TIMEOUT_S = 150


def _stuck_evidence(db: Any, campaign: str) -> str:
    """Why a campaign does not finish: RUNNING Fireworks whose launch ended, locked workflows."""
    fws = {f["fw_id"]: f for f in db["fireworks"].find({"spec._sianode_campaign": campaign},
                                                      {"fw_id": 1, "state": 1, "launches": 1})}
    launches = {x["launch_id"]: x["state"] for x in db["launches"].find({"fw_id": {"$in": list(fws)}},
                                                                        {"launch_id": 1, "state": 1})}
    odd = [f"fw {i} RUNNING, launch {f['launches'][-1]} {launches.get(f['launches'][-1])}"
           for i, f in sorted(fws.items()) if f["state"] == "RUNNING" and f.get("launches")
           and launches.get(f["launches"][-1]) in ("COMPLETED", "FIZZLED")]
    locked = db["workflows"].count_documents({"metadata.sianode_campaign": campaign, "locked": True})
    return (f"inconsistent: {', '.join(odd) or 'none'}; workflows left locked: {locked}")


#: kill moments of the repeated scenario 2: (finished calculations before the kill, extra delay s);
#: 0 finished = as soon as a worker runs a Firework. Cycled through, with a seeded jitter.
KILL_MOMENTS = ((0, 0.0), (1, 0.0), (2, 0.3), (3, 0.0), (4, 0.7), (5, 0.1), (6, 1.2), (8, 0.0), (10, 0.5),
                (12, 0.2))


def scenario_kill_server(root: Path, *, kill_after: int = 3, delay_s: float = 0.0, label: str = "",
                         quiet: bool = False) -> dict[str, Any]:
    """kill -9 the embedded server once ``kill_after`` calculations finished (+ ``delay_s``), then
    ``sianode run`` again. Returns what happened (``ok``, the kill moment, timings)."""
    name = "2 kill -9 database server" + (f" {label}" if label else "")
    home = Home(root, "s2-kill-server" + (f"-{label}" if label else ""))
    spec = home.write_spec()
    workers: list[int] = []
    out: dict[str, Any] = {"ok": False, "kill_after": kill_after, "delay_s": delay_s}
    checks: list[bool] = []

    def rec(expected: str, seen: str, ok: bool) -> None:
        checks.append(bool(ok))
        if quiet and ok:
            return
        record(name, expected, seen, ok)

    try:
        t_start = time.monotonic()
        main = home.popen(["-q", "run", str(spec), "--workers", "2", "--json"])

        def hot() -> Any:
            d = home.db()
            done = finished(d)
            pids = running_workers(d, TINY["name"])
            return (done, pids) if len(done) >= kill_after and pids else None

        got = wait_for(hot, 240, 0.02)
        if got and delay_s:
            time.sleep(delay_s)
        state = home.state()
        if not got or state is None:
            main.kill()
            main.communicate()
            rec("reach mid-campaign", f"campaign never got going (kill after {kill_after})", False)
            return out
        _, workers = got
        before = finished(home.db())  # snapshot just before the kill
        calls_at_kill = len(home.calls())
        out.update(moment_s=round(time.monotonic() - t_start, 1), finished_at_kill=len(before),
                   fireworks_at_kill=fw_states(home.db(), TINY["name"]))
        kill_own(int(state["pid"]), "secantus")
        wait_for(lambda: not alive(int(state["pid"])), 10)
        try:
            _, err = main.communicate(timeout=120)
            first = f"first run exit {main.returncode}: {(err.strip().splitlines() or [''])[-1][:120]}"
        except subprocess.TimeoutExpired:
            main.kill()
            main.communicate()
            first = "first run hung > 120 s after the server died (killed)"
        # workers of the first run that still hang on the dead server
        left = [p for p in workers if alive(p)]
        orphans_cleanup(left)
        # the resume, in its own process group so that a hung one can be stopped with its workers
        t_resume = time.monotonic()
        proc = subprocess.Popen(sianode_cmd() + ["-q", "run", str(spec), "--workers", "2", "--json"],
                                env=home.env(), cwd=home.path, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True, start_new_session=True)
        try:
            stdout, err = proc.communicate(timeout=RESUME_TIMEOUT_S)
            hung = False
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            stdout, err = proc.communicate()
            hung = True
        out["resume_s"] = round(time.monotonic() - t_resume, 1)
        resumed = subprocess.CompletedProcess([], proc.returncode, stdout, err)
        summary = run_json(resumed)
        d = home.db()
        new_state = home.state() or {}
        after = finished(d)
        lost = [k for k, v in before.items() if after.get(k) != v]
        states = fw_states(d, TINY["name"])
        rec("0 committed results lost after restart",
            f"{len(before)} finished at the kill, {len(lost)} lost or changed; server pid {state['pid']} -> "
            f"{new_state.get('pid')}", not lost and (bool(before) or kill_after == 0))
        ok = not hung and resumed.returncode == 0 and bool(summary.get("complete")) and set(states) == {"COMPLETED"}
        tail = (resumed.stderr.strip().splitlines() or [""])[-1][:120]
        evidence = "" if ok else "; " + _stuck_evidence(d, TINY["name"])
        rec("campaign completes on rerun",
            f"{first}; rerun {'HUNG > %d s (killed)' % RESUME_TIMEOUT_S if hung else 'exit %s' % resumed.returncode} "
            f"in {out['resume_s']:.0f} s, fireworks {states}" + ("" if ok or not tail else f"; stderr: {tail}")
            + evidence, ok)
        docs = list(d["calculations"].find({"kind": {"$in": list(CALC_KINDS)}}, {"key": 1, "status": 1}))
        calls = home.calls()
        again = [k for k in calls[calls_at_kill:] if k in before]
        rec("nothing stored twice, all finished; no finished calculation run again",
            f"{len(docs)} docs, {len({x['key'] for x in docs})} distinct; {len(calls)} calls "
            f"({len(calls) - len(set(calls))} repeated: runs cut by the kill); finished before the kill and run "
            f"again: {len(again)}",
            len(docs) == len({x["key"] for x in docs}) and not again
            and all(x["status"] in ("completed", "failed") for x in docs))
        out["ok"] = all(checks) and len(checks) == 3
        out["hung"] = hung
        return out
    finally:
        orphans_cleanup(workers)
        home.close()


def repeat_kill_server(root: Path, n: int, seed: int = 0) -> None:
    """Scenario 2, ``n`` times in a row, each at another kill moment (see ``KILL_MOMENTS``)."""
    import random

    rng = random.Random(seed)
    results = []
    for i in range(n):
        kill_after, delay = KILL_MOMENTS[i % len(KILL_MOMENTS)]
        delay = round(delay + rng.uniform(0.0, 0.5), 2)
        t0 = time.monotonic()
        try:
            res = scenario_kill_server(root, kill_after=kill_after, delay_s=delay, label=f"#{i + 1}", quiet=True)
        except Exception as exc:  # a drill bug: count it as a failure, go on
            traceback.print_exc()
            res = {"ok": False, "kill_after": kill_after, "delay_s": delay, "error": repr(exc)}
        res["wall_s"] = round(time.monotonic() - t0, 1)
        results.append(res)
        print(f"[{'pass' if res['ok'] else 'FAIL'}] 2 repeat #{i + 1}/{n}: kill after {kill_after} finished "
              f"+ {delay:.2f} s (at {res.get('moment_s')} s, {res.get('finished_at_kill')} finished, fireworks "
              f"{res.get('fireworks_at_kill')}); resume {res.get('resume_s')} s; total {res['wall_s']} s",
              file=sys.stderr, flush=True)
    passed = sum(r["ok"] for r in results)
    moments = ", ".join(f"{r.get('finished_at_kill')}@{r.get('moment_s')}s" for r in results)
    slowest = max((r.get("resume_s") or 0.0) for r in results) if results else 0.0
    record(f"2 repeated x{n}", f"{n}/{n} pass, none hangs (resume < {RESUME_TIMEOUT_S} s)",
           f"{passed}/{n} passed; kill moments (finished calcs @ s since start): {moments}; slowest resume "
           f"{slowest:.0f} s", passed == n)
    REPEAT_RESULTS.extend(results)


REPEAT_RESULTS: list[dict[str, Any]] = []


# ------------------------------------------------------------------ scenario 3
def _no_duplicates(name: str, home: Home, expected: str) -> None:
    d = home.db()
    docs = list(d["calculations"].find({"kind": {"$in": list(CALC_KINDS)}, "status": {"$in": ["completed", "failed"]}},
                                       {"key": 1}))
    calls = home.calls()
    states = fw_states(d, TINY["name"])
    record(name, expected,
           f"{len(calls)} calls ({len(set(calls))} distinct), {len(docs)} finished docs; fireworks {states}",
           len(calls) == len(set(calls)) == len(docs) and set(calls) == {x["key"] for x in docs}
           and set(states) == {"COMPLETED"})


def scenario_concurrent(root: Path) -> Home | None:
    keep: Home | None = None
    for n in (2, 4):
        name = f"3 --workers {n}"
        home = Home(root, f"s3-workers{n}")
        spec = home.write_spec()
        try:
            t0 = time.monotonic()
            proc = home.run(["-q", "run", str(spec), "--workers", str(n), "--json"])
            summary = run_json(proc)
            if proc.returncode != 0 or not summary.get("complete"):
                record(name, "campaign completes", f"exit {proc.returncode}: {proc.stderr.strip()[-200:]}", False)
                continue
            _no_duplicates(name, home, f"0 duplicate calculations ({time.monotonic() - t0:.0f} s)")
            again = home.run(["-q", "run", str(spec), "--workers", str(n), "--json"])
            record(name + " rerun", "re-run of a finished campaign: 0 calls",
                   f"computed {run_json(again).get('computed')}, call log {len(home.calls())} lines",
                   run_json(again).get("computed") == 0 and len(home.calls()) == len(set(home.calls())))
        finally:
            home.close()
    name = "3 two `sianode run` at once"
    home = Home(root, "s3-two-runs")
    spec = home.write_spec()
    try:
        procs = [home.popen(["-q", "run", str(spec), "--workers", "2", "--json"]) for _ in range(2)]
        outs = [p.communicate(timeout=600) for p in procs]
        codes = [p.returncode for p in procs]
        if any(codes):
            record(name, "both complete", f"exit codes {codes}: {outs[0][1].strip()[-150:]} {outs[1][1].strip()[-150:]}",
                   False)
        else:
            _no_duplicates(name, home, "0 duplicate calculations")
        keep = home
    finally:
        if keep is None:
            home.close()
    return keep


# ------------------------------------------------------------------ scenario 4
NAN_SCRIPT = textwrap.dedent("""
    import sys
    import numpy as np
    from ase.build import bulk
    from ase.calculators.calculator import Calculator, all_changes
    from sianode.store import open_store
    from sianode.workflows.steps import relax_step

    class NaNCalculator(Calculator):
        '''Returns NaN energy and forces, with the identity/provenance a CalculatorSpec has.'''
        implemented_properties = ["energy", "forces"]

        def calculate(self, atoms=None, properties=None, system_changes=all_changes):
            super().calculate(atoms, properties, system_changes)
            self.results = {"energy": float("nan"), "forces": np.full((len(self.atoms), 3), np.nan)}

        def identity(self):
            return {"name": "drill-nan", "model": "drill-nan", "weights_sha256": None, "parameters": {}}

        def provenance(self):
            return {"calculator": "drill-nan", "not_physics": True, "parameters": {}}

        def check_elements(self, atoms):
            pass

    store = open_store()
    atoms = bulk("Si", "diamond", a=5.431, cubic=True)
    atoms.rattle(0.05, seed=1)
    doc = relax_step(store, atoms, NaNCalculator(), fmax=0.1, steps=20, labels={"campaign": "drill-nan"})
    print(doc["_id"], doc["status"], doc.get("reason"))
""")

OVERLAP_SCRIPT = textwrap.dedent("""
    import sys
    from ase.io import read
    from sianode.errors import InputError
    from sianode.structures import check_structure, doped_supercell

    atoms = read(sys.argv[1])
    for call in (lambda: check_structure(atoms), lambda: doped_supercell("B", count=1, host=atoms)):
        try:
            call()
        except InputError as exc:
            print(f"InputError: {exc}", file=sys.stderr)
        else:
            print("accepted", file=sys.stderr)
    sys.exit(2)
""")


def _start_secantus(port: int, storage: Path, log: Path, auth: bool) -> subprocess.Popen:
    exe = Path(sys.executable).parent / "secantusd-py"
    cmd = [str(exe) if exe.exists() else "secantusd-py", "--host", HOST, "--port", str(port),
           "--storage-path", str(storage), "--log-level", "WARNING"] + (["--auth"] if auth else [])
    with open(log, "ab") as out:
        return subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                start_new_session=True)


def _wait_port(port: int, timeout: float = 60) -> bool:
    def up() -> bool:
        with socket.socket() as s:
            s.settimeout(0.5)
            return s.connect_ex((HOST, port)) == 0
    return bool(wait_for(up, timeout, 0.1))


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def scenario_bad_inputs(root: Path, home: Home | None) -> None:
    if home is None:  # a home with results in it, so "unchanged" means something
        home = Home(root, "s4-bad-inputs")
        proc = home.run(["-q", "run", str(home.write_spec(dopants=["B"], counts=[1])), "--json"])
        if proc.returncode != 0:
            record("4 setup", "a finished campaign to protect", f"exit {proc.returncode}", False)
            return
    try:
        _bad_inputs(root, home)
    finally:
        home.close()


def _bad_inputs(root: Path, home: Home) -> None:
    base = doc_hashes(home.db())
    bad = root / "bad-inputs"
    bad.mkdir(exist_ok=True)

    def check(label: str, expected: str, fn: Callable[[], tuple[bool, str]], allow_new: int = 0) -> None:
        before = doc_hashes(home.db())
        try:
            ok, seen = fn()
        except Exception as exc:  # a drill bug, not a sianode one: show it
            ok, seen = False, f"drill error: {type(exc).__name__}: {exc}"
        after = doc_hashes(home.db())
        kept = {k: after.get(k) for k in before}
        unchanged = collection_hash(kept) == collection_hash(before)
        new = len(set(after) - set(before))
        seen += f"; stored docs {'unchanged' if unchanged else 'CHANGED'} ({len(before)} hashed, {new} new)"
        record(f"4 {label}", expected + "; stored docs unchanged", seen, ok and unchanged and new <= allow_new)

    def cli(args: list[str], *needles: str, timeout: float = 120, **env: str) -> Callable[[], tuple[bool, str]]:
        def fn() -> tuple[bool, str]:
            proc = home.run(args, timeout=timeout, **env)
            ok, seen = one_line_error(proc)
            missing = [n for n in needles if n.lower() not in proc.stderr.lower()]
            if missing:
                seen += f" (missing {missing})"
            return ok and not missing, seen
        return fn

    one = "one stderr line, exit != 0"
    check("unknown element", one + ", names Xx",
          cli(["structures", "arrangements", "--dopant", "Xx", "--count", "1"], "Xx"))
    check("percent 60", one + ", names 60 and the range",
          cli(["structures", "arrangements", "--dopant", "B", "--percent", "60"], "60", "50"))
    check("percent 0.01", one + ", unreachable %",
          cli(["structures", "arrangements", "--dopant", "B", "--percent", "0.01"], "0.01"))

    import yaml

    malformed = bad / "malformed.yaml"
    malformed.write_text("name: broken\ndopants: [B, Ge\ncounts: [1]\n")
    check("malformed YAML campaign", one + ", 'malformed YAML' with line", cli(["run", str(malformed)], "malformed YAML", "line"))
    unknown_key = bad / "unknown-key.yaml"
    unknown_key.write_text(yaml.safe_dump({**TINY, "name": "badkey", "colour": "red"}))
    check("unknown key in campaign", one + ", names the key", cli(["run", str(unknown_key)], "colour", "unknown key"))
    unknown_calc = bad / "unknown-calc.yaml"
    unknown_calc.write_text(yaml.safe_dump({**TINY, "name": "badcalc", "calculator": {"name": "nosuchcalc"}}))
    check("unknown calculator in campaign", one + ", names it and the allowed ones",
          cli(["run", str(unknown_calc)], "nosuchcalc", "allowed"))

    # overlapping atoms: no CLI command takes a user structure; the Python API does (host=)
    overlap = bad / "overlap.xyz"
    overlap.write_text("2\nLattice=\"5.431 0 0 0 5.431 0 0 0 5.431\" Properties=species:S:1:pos:R:3 pbc=\"T T T\"\n"
                       "Si 0.0 0.0 0.0\nSi 0.2 0.0 0.0\n")

    def overlap_fn() -> tuple[bool, str]:
        proc = subprocess.run([sys.executable, "-c", OVERLAP_SCRIPT, str(overlap)], env=home.env(), cwd=home.path,
                              capture_output=True, text=True, timeout=120)
        lines = [ln for ln in proc.stderr.strip().splitlines() if ln.strip()]
        ok = len(lines) == 2 and all(ln.startswith("InputError:") and "apart" in ln for ln in lines)
        return ok, (f"check_structure / doped_supercell(host=): {lines[0][:110] if lines else '(nothing)'}"
                    f" ({len(lines)} lines for 2 calls)")
    check("overlapping atoms (0.2 A, API)", "InputError, one line, names the distance", overlap_fn)

    # NaN energy through the store-backed relax step: recorded as failed with its reason
    def nan_fn() -> tuple[bool, str]:
        proc = subprocess.run([sys.executable, "-c", NAN_SCRIPT], env=home.env(), cwd=home.path,
                              capture_output=True, text=True, timeout=120)
        out = proc.stdout.strip().splitlines()
        if proc.returncode != 0 or not out:
            return False, f"exit {proc.returncode}: {(proc.stderr.strip().splitlines() or [''])[-1][:150]}"
        key, status, reason = (out[-1].split(" ", 2) + ["", ""])[:3]
        doc = home.db()["calculations"].find_one({"_id": key}) or {}
        ok = status == "failed" and doc.get("status") == "failed" and bool(doc.get("reason")) and \
            any(w in str(doc.get("reason")).lower() for w in ("nan", "non-finite"))
        return ok, f"stored status {doc.get('status')}: {str(doc.get('reason'))[:110]}"
    check("NaN energy (API relax_step)", "recorded failed with reason", nan_fn, allow_new=1)

    # non-converged NEB: its own relax/reference settings, so it shares no document with the base
    neb_spec = home.write_spec("neb1.yaml", name="neb1", dopants=["B"], counts=[1], include_pure=False,
                               neb={"n_images": 3, "fmax": 0.2, "steps": 1}, relax={"fmax": 0.09, "steps": 200},
                               reference={"fmax": 0.04})

    def neb_fn() -> tuple[bool, str]:
        proc = home.run(["-q", "run", str(neb_spec), "--json"])
        summary = run_json(proc)
        d = home.db()
        nebs = list(d["calculations"].find({"kind": "neb", "labels.campaign": "neb1"}, {"status": 1, "reason": 1}))
        others = list(d["calculations"].find({"kind": {"$ne": "neb"}, "labels.campaign": "neb1"}, {"status": 1}))
        failed = [n for n in nebs if n["status"] == "failed" and "not_converged" in str(n.get("reason"))]
        ok = bool(summary.get("complete")) and bool(nebs) and len(failed) == len(nebs) and \
            all(o["status"] == "completed" for o in others) and set(fw_states(d, "neb1")) == {"COMPLETED"}
        reason = str((nebs[0] if nebs else {}).get("reason"))[:90]
        return ok, (f"exit {proc.returncode}, complete {summary.get('complete')}; {len(failed)}/{len(nebs)} hops "
                    f"failed not_converged, {sum(o['status'] == 'completed' for o in others)}/{len(others)} "
                    f"others completed; reason: {reason}")
    check("non-converged NEB (steps: 1)", "hop stored failed 'not_converged', rest completes", neb_fn, allow_new=100)

    # unreachable database: a closed loopback port
    port = _closed_port()
    secret = "pw5ecret"

    def unreachable_fn() -> tuple[bool, str]:
        t0 = time.monotonic()
        proc = home.run(["--db", f"mongodb://u:{secret}@{HOST}:{port}/x", "query"], timeout=60)
        wall = time.monotonic() - t0
        ok, seen = one_line_error(proc)
        names = f"{HOST}:{port}" in proc.stderr
        hidden = secret not in proc.stderr + proc.stdout
        return ok and names and hidden and wall < 10, (f"{seen} ({wall:.1f} s, names host:port {names}, "
                                                       f"password hidden {hidden})")
    check("database unreachable", one + f", names {HOST}:<port>, password masked, < 10 s", unreachable_fn)

    # wrong password: a SecantusDB with --auth and a user alice
    def wrong_password_fn() -> tuple[bool, str]:
        import pymongo

        port = _closed_port()
        storage = bad / "auth-db"
        log = bad / "auth-db.log"
        proc = _start_secantus(port, storage, log, auth=False)
        try:
            if not _wait_port(port):
                return False, "secantusd-py did not start"
            client = pymongo.MongoClient(f"mongodb://{HOST}:{port}/?directConnection=true",
                                         serverSelectionTimeoutMS=5000)
            client.admin.command("createUser", "alice", pwd="right", roles=["root"])
            client.close()
        finally:
            _stop(proc)
        proc = _start_secantus(port, storage, log, auth=True)
        try:
            if not _wait_port(port):
                return False, "secantusd-py --auth did not start"
            t0 = time.monotonic()
            bad_proc = home.run(["--db", f"mongodb://alice:wrong@{HOST}:{port}/sianode?authSource=admin", "query"],
                                timeout=60)
            wall = time.monotonic() - t0
            good = home.run(["--db", f"mongodb://alice:right@{HOST}:{port}/sianode?authSource=admin", "db", "status"],
                            timeout=60)
        finally:
            _stop(proc)
        ok, seen = one_line_error(bad_proc)
        says = "authentication failed" in bad_proc.stderr.lower()
        hidden = ":wrong@" not in bad_proc.stderr + bad_proc.stdout and "wrong@" not in bad_proc.stderr
        return ok and says and hidden and good.returncode == 0, (
            f"{seen} ({wall:.1f} s, password hidden {hidden}; right password: exit {good.returncode})")
    check("wrong password", one + ", 'authentication failed', password not shown", wrong_password_fn)

    final = doc_hashes(home.db())
    kept = {k: final.get(k) for k in base}
    record("4 all bad inputs", "base documents unchanged after all of them",
           f"collection hash of the {len(base)} base docs {collection_hash(base)[:12]} -> {collection_hash(kept)[:12]}",
           collection_hash(kept) == collection_hash(base))


# ------------------------------------------------------------------ main
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-s", "--scenario", type=int, action="append", choices=(1, 2, 3, 4),
                        help="run only these scenarios (repeatable); default all")
    parser.add_argument("--keep", action="store_true", help="keep the temporary homes")
    parser.add_argument("--repeat", type=int, default=0, metavar="N",
                        help="run scenario 2 (kill -9 the database) N times, each at another kill moment, "
                             "instead of once (use with -s 2)")
    parser.add_argument("--json", type=Path, default=None, help="with --repeat: write every repetition here")
    args = parser.parse_args(argv)
    chosen = set(args.scenario or (1, 2, 3, 4))
    root = Path(tempfile.mkdtemp(prefix="sianode-drill-"))
    print(f"drill homes under {root}", file=sys.stderr)
    t0 = time.monotonic()
    shared: Home | None = None
    try:
        if 1 in chosen:
            _guard("1a (drill)", lambda: scenario_kill_worker(root, kill_run=False))
            _guard("1b (drill)", lambda: scenario_kill_worker(root, kill_run=True))
        if 2 in chosen and args.repeat:
            _guard("2 repeated (drill)", lambda: repeat_kill_server(root, args.repeat))
            if args.json:
                args.json.write_text(json.dumps(REPEAT_RESULTS, indent=1))
        elif 2 in chosen:
            _guard("2 (drill)", lambda: scenario_kill_server(root))
        if 3 in chosen:
            shared = _guard("3 (drill)", lambda: scenario_concurrent(root))
        if 4 in chosen:
            _guard("4 (drill)", lambda: scenario_bad_inputs(root, shared))
    finally:
        if shared is not None:
            shared.close()
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)
    print()
    print_table(ROWS)
    print(f"drill wall time {time.monotonic() - t0:.0f} s on {os.cpu_count()} CPUs")
    return 0 if ROWS and all(r.ok for r in ROWS) else 1


def _guard(label: str, fn: Callable[[], Any]) -> Any:
    try:
        return fn()
    except Exception as exc:
        traceback.print_exc()
        record(label, "scenario runs", f"drill raised {type(exc).__name__}: {exc}", False)
        return None


if __name__ == "__main__":
    sys.exit(main())
