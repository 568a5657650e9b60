"""Run a campaign locally: add it to the LaunchPad once, recover lost runs, start workers.

FireWorks keeps its collections (``fireworks``, ``workflows``, ``launches``, ...) in the
same database as the results store: the configured one (``--db``, ``$SIANODE_DB_URI``,
``$SIANODE_LAUNCHPAD``) or the embedded server. ``LaunchPad.reset`` is never called
except by :func:`reset_launchpad` (``sianode run --reset``).

Adding is idempotent: a workflow whose metadata has the same campaign name and spec hash
is resumed, not added again. Before workers start (and whenever one dies), runs of
workers that are gone are detected: a ``sianode-worker:<host>:<pid>`` launch on this
host whose process is dead is lost at once; any other RUNNING launch not pinged for
``lost_after_s`` is lost too (``LaunchPad.detect_lostruns(rerun=True)``). Their store
claims are released, so the rerun takes the calculation over without waiting for the
lease.
"""

from __future__ import annotations

import logging
import os
import re
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable
from urllib.parse import urlsplit, urlunsplit

from sianode.errors import InputError
from sianode.store.server import pid_alive
from sianode.workflows.flows import META_CAMPAIGN, META_HASH, SPEC_CAMPAIGN

log = logging.getLogger(__name__)

#: a RUNNING launch not pinged for this long is lost (the workers ping every 30 s)
DEFAULT_LOST_AFTER_S = 120
ACTIVE_STATES = ("READY", "WAITING", "RUNNING", "RESERVED")
STATES = ("COMPLETED", "RUNNING", "RESERVED", "READY", "WAITING", "FIZZLED", "DEFUSED", "PAUSED", "ARCHIVED")


@dataclass
class RunSummary:
    """What ``sianode run`` did.

    Attributes
    ----------
    campaign : str
    added : bool
        The workflow was added now (False: an existing one was resumed).
    states : dict
        Fireworks per state at the end.
    wall_s : float
        Wall time of the run, seconds.
    computed, reused : int
        Calculations run by this run's workers vs found in the store.
    calc_wall_s : float
        Sum of the calculator wall times of the calculations run, seconds.
    lost_rerun : list of int
        Firework ids found lost and rerun.
    failed : list of (str, str)
        (Firework name, reason) of failed, skipped and fizzled Fireworks.
    """

    campaign: str
    added: bool
    states: dict[str, int] = field(default_factory=dict)
    wall_s: float = 0.0
    computed: int = 0
    reused: int = 0
    calc_wall_s: float = 0.0
    lost_rerun: list[int] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)
    workers: int = 0

    @property
    def complete(self) -> bool:
        return not any(self.states.get(s, 0) for s in ACTIVE_STATES)

    def as_dict(self) -> dict[str, Any]:
        return {"campaign": self.campaign, "added": self.added, "states": dict(self.states), "wall_s": self.wall_s,
                "computed": self.computed, "reused": self.reused, "calc_wall_s": self.calc_wall_s,
                "lost_rerun": list(self.lost_rerun), "failed": [list(f) for f in self.failed],
                "workers": self.workers, "complete": self.complete}


# ------------------------------------------------------------------ database
def uri_with_database(uri: str, database: str) -> str:
    """``uri`` with ``database`` as its path (keeps credentials and options)."""
    parts = urlsplit(uri)
    return urlunsplit((parts.scheme, parts.netloc, f"/{database}", parts.query, parts.fragment))


def campaign_launchpad(db: str | None = None) -> tuple[Any, Any]:
    """The FireWorks ``LaunchPad`` on sianode's database, and its ``DatabaseTarget``.

    Starts the embedded server when no database is configured.
    """
    from fireworks import LaunchPad

    from sianode.store import connect, database_target

    target = database_target(db)
    connect(target).client.close()  # one clear line when unreachable
    uri = uri_with_database(target.uri, target.database)
    lp = LaunchPad(host=uri, uri_mode=True, name=target.database, strm_lvl="WARNING",
                   mongoclient_kwargs={"serverSelectionTimeoutMS": 10000})
    initialize_launchpad(lp)
    return lp, target


def initialize_launchpad(lp: Any) -> bool:
    """Create FireWorks' id counters in a database that has none (what ``lpad reset`` would
    do first), without deleting anything; returns True when it initialised them."""
    if lp.fw_id_assigner.find_one({}) is not None:
        return False
    # the same document LaunchPad._restart_ids writes; _id -1 makes concurrent first runs agree
    lp.fw_id_assigner.update_one({"_id": -1}, {"$setOnInsert": {"next_fw_id": 1, "next_launch_id": 1}}, upsert=True)
    lp.tuneup(bkground=False)
    return True


def reset_launchpad(lp: Any) -> None:
    """Delete every workflow of the LaunchPad (only with the user's explicit ``--reset``)."""
    lp.reset("", require_password=False, max_reset_wo_password=10 ** 9)
    lp.db[CAMPAIGN_MARKERS].delete_many({})


# ------------------------------------------------------------------ adding
def find_workflow(lp: Any, name: str, spec_hash: str | None = None) -> dict[str, Any] | None:
    """The workflow document of campaign ``name`` (and spec hash), newest first; None if absent."""
    query: dict[str, Any] = {f"metadata.{META_CAMPAIGN}": name}
    if spec_hash is not None:
        query[f"metadata.{META_HASH}"] = spec_hash
    docs = list(lp.workflows.find(query).sort("created_on", -1).limit(1))
    return docs[0] if docs else None


#: collection of (campaign, spec hash) markers that make adding a campaign atomic
CAMPAIGN_MARKERS = "sianode_campaigns"


def add_campaign(lp: Any, spec: Any) -> tuple[list[int], bool]:
    """Add the campaign's workflow unless it is there already; returns (fw_ids, added)."""
    from sianode.workflows.flows import build_workflow

    existing = find_workflow(lp, spec.name, spec.spec_hash())
    if existing is not None:
        log.info("campaign %s (spec %s) is in the LaunchPad already: resuming", spec.name, spec.spec_hash()[:12])
        return list(existing["nodes"]), False
    from pymongo.errors import DuplicateKeyError

    # one marker per (campaign, spec): of two runs started at once, only one adds the workflow
    markers = lp.db[CAMPAIGN_MARKERS]
    marker = {"_id": f"{spec.name}:{spec.spec_hash()}"}
    try:
        markers.insert_one({**marker, "created": time.time()})
    except DuplicateKeyError:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:  # the other run is adding it now
            existing = find_workflow(lp, spec.name, spec.spec_hash())
            if existing is not None:
                return list(existing["nodes"]), False
            time.sleep(0.2)
        log.warning("campaign %s: a run that was adding it died; adding it now", spec.name)
    other = find_workflow(lp, spec.name)
    if other is not None:
        log.warning("campaign %s was added before with another spec (%s); adding this spec (%s) as a new workflow",
                    spec.name, other["metadata"].get(META_HASH, "?")[:12], spec.spec_hash()[:12])
    old_to_new = lp.add_wf(build_workflow(spec))
    return sorted(old_to_new.values()), True


# ------------------------------------------------------------------ lost runs
def dead_local_launches(lp: Any) -> list[int]:
    """RUNNING launches of sianode workers on this host whose process is gone."""
    from sianode.workflows.worker import WORKER_PREFIX

    prefix = f"{WORKER_PREFIX}:{socket.gethostname()}:"
    lost = []
    for launch in lp.launches.find({"state": "RUNNING", "fworker.name": {"$regex": f"^{re.escape(prefix)}"}},
                                   {"launch_id": 1, "fworker.name": 1}):
        pid = int(launch["fworker"]["name"].rsplit(":", 1)[1])
        if not pid_alive(pid):
            lost.append(int(launch["launch_id"]))
    return lost


def release_dead_claims(store: Any) -> int:
    """Expire store claims (``running`` documents) held by dead processes on this host."""
    return store.release_dead_local_claims()


def release_stale_locks(lp: Any, query: dict[str, Any] | None = None) -> int:
    """Unlock workflows locked by a process that died inside FireWorks' ``WFLock``.

    FireWorks holds a workflow lock only while it updates the workflow, from a process that
    has a RUNNING launch; with no RUNNING launch among the workflow's Fireworks the lock
    is left over from a crash (a killed worker or database), and FireWorks itself would
    wait ``WFLOCK_EXPIRATION_SECS`` (300 s) and then fail.
    """
    fw_ids = [d["fw_id"] for d in lp.fireworks.find(query or {}, {"fw_id": 1})]
    released = 0
    for wf in lp.workflows.find({"nodes": {"$in": fw_ids}, "locked": {"$exists": True}}, {"nodes": 1}):
        if lp.launches.count_documents({"fw_id": {"$in": wf["nodes"]}, "state": "RUNNING"}) == 0:
            res = lp.workflows.update_one({"_id": wf["_id"], "locked": {"$exists": True}}, {"$unset": {"locked": ""}})
            released += res.modified_count
    if released:
        log.warning("released %d workflow lock(s) left by a crashed process", released)
    return released


def rerun_fizzled(lp: Any, fw_ids: list[int]) -> list[int]:
    """Rerun FIZZLED Fireworks: sianode's tasks record calculation failures in the store and
    complete, so a FIZZLED one crashed (its database went away, say). The store keeps every
    finished calculation, so a rerun recomputes nothing that was done."""
    fizzled = [d["fw_id"] for d in lp.fireworks.find({"fw_id": {"$in": fw_ids}, "state": "FIZZLED"}, {"fw_id": 1})]
    for fw_id in fizzled:
        lp.rerun_fw(fw_id)
    if fizzled:
        log.warning("rerunning Fireworks that crashed before: %s", fizzled)
    return fizzled


def recover_lost_runs(lp: Any, store: Any | None = None, *, campaign: str | None = None,
                      lost_after_s: float = DEFAULT_LOST_AFTER_S) -> list[int]:
    """Mark lost runs FIZZLED and rerun them; returns the Firework ids rerun.

    A run is lost when its sianode worker on this host is dead, or when it has not pinged
    for ``lost_after_s`` seconds (``LaunchPad.detect_lostruns``).
    """
    rerun: list[int] = []
    dead = dead_local_launches(lp)
    if dead:
        _, fw_ids, _ = lp.detect_lostruns(expiration_secs=0, rerun=True, launch_query={"launch_id": {"$in": dead}})
        rerun.extend(fw_ids)
    query = {f"spec.{SPEC_CAMPAIGN}": campaign} if campaign else None
    release_stale_locks(lp, query)
    # refresh=True also repairs Fireworks left RUNNING although their launch ended (a crash,
    # e.g. of the database, between FireWorks' writes)
    _, fw_ids, _ = lp.detect_lostruns(expiration_secs=lost_after_s, rerun=True, refresh=True, query=query)
    rerun.extend(fw_ids)
    if store is not None:
        release_dead_claims(store)
    if rerun:
        log.warning("lost runs rerun: Fireworks %s", sorted(set(rerun)))
    return sorted(set(rerun))


# ------------------------------------------------------------------ state
def campaign_fw_ids(lp: Any, name: str, spec_hash: str | None = None) -> list[int]:
    """Firework ids of every workflow of campaign ``name`` (or of one spec hash)."""
    query: dict[str, Any] = {f"metadata.{META_CAMPAIGN}": name}
    if spec_hash is not None:
        query[f"metadata.{META_HASH}"] = spec_hash
    return sorted(i for wf in lp.workflows.find(query, {"nodes": 1}) for i in wf["nodes"])


def state_counts(lp: Any, fw_ids: list[int]) -> dict[str, int]:
    """Fireworks per state."""
    counts: dict[str, int] = {}
    for doc in lp.fireworks.aggregate([{"$match": {"fw_id": {"$in": fw_ids}}},
                                       {"$group": {"_id": "$state", "n": {"$sum": 1}}}]):
        counts[doc["_id"]] = int(doc["n"])
    return counts


def problems(lp: Any, fw_ids: list[int]) -> list[tuple[str, str, str]]:
    """(name, status, reason) of failed / skipped (COMPLETED) and FIZZLED Fireworks."""
    out = []
    names = {d["fw_id"]: (d["name"], d["state"]) for d in lp.fireworks.find({"fw_id": {"$in": fw_ids}},
                                                                           {"fw_id": 1, "name": 1, "state": 1})}
    seen: set[int] = set()
    for launch in lp.launches.find({"fw_id": {"$in": fw_ids}}, {"fw_id": 1, "state": 1, "action": 1}).sort(
            "launch_id", -1):
        fw_id = launch["fw_id"]
        if fw_id in seen or names.get(fw_id, ("", ""))[1] not in ("COMPLETED", "FIZZLED"):
            continue
        if launch.get("state") not in ("COMPLETED", "FIZZLED"):
            continue
        seen.add(fw_id)
        data = (launch.get("action") or {}).get("stored_data") or {}
        if launch["state"] == "FIZZLED":
            exc = data.get("_exception") or {}
            trace = str(exc.get("_stacktrace") or "").strip().splitlines()
            out.append((names[fw_id][0], "fizzled", trace[-1] if trace else "unknown error"))
        elif data.get("status") in ("failed", "skipped"):
            out.append((names[fw_id][0], data["status"], str(data.get("reason"))))
    return sorted(out)


def launch_stats(lp: Any, fw_ids: list[int], after_launch_id: int = 0) -> dict[str, float]:
    """Sum of ``computed``, ``reused`` and ``calc_wall_s`` over launches newer than ``after_launch_id``."""
    total = {"computed": 0, "reused": 0, "calc_wall_s": 0.0}
    for launch in lp.launches.find({"fw_id": {"$in": fw_ids}, "launch_id": {"$gt": after_launch_id},
                                    "state": "COMPLETED"}, {"action.stored_data": 1}):
        data = (launch.get("action") or {}).get("stored_data") or {}
        for k in total:
            total[k] += data.get(k) or 0
    return total


def _max_launch_id(lp: Any) -> int:
    doc = lp.launches.find_one({}, {"launch_id": 1}, sort=[("launch_id", -1)])
    return int(doc["launch_id"]) if doc else 0


# ------------------------------------------------------------------ running
def _start_worker(target: Any, campaign: str, threads: int, launch_dir: Path, ping_s: float) -> subprocess.Popen:
    env = dict(os.environ)
    env.update({"OMP_NUM_THREADS": str(threads), "MKL_NUM_THREADS": str(threads),
                "OPENBLAS_NUM_THREADS": str(threads),
                "SIANODE_DB_URI": uri_with_database(target.uri, target.database)})
    env.pop("SIANODE_LAUNCHPAD", None)
    cmd = [sys.executable, "-m", "sianode.workflows.worker", "--campaign", campaign, "--threads", str(threads),
           "--launch-dir", str(launch_dir), "--ping-s", str(ping_s)]
    log_path = launch_dir / "workers.log"
    with open(log_path, "ab") as out:
        proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    log.info("worker pid %d started (log %s)", proc.pid, log_path)
    return proc


def default_launch_dir(name: str) -> Path:
    """``$SIANODE_HOME/launches/<campaign>``: where FireWorks writes its launch folders."""
    from sianode.store.uri import sianode_home

    return sianode_home() / "launches" / name


def run_campaign(
    spec: Any,
    *,
    db: str | None = None,
    workers: int = 1,
    launch_dir: str | Path | None = None,
    lost_after_s: float = DEFAULT_LOST_AFTER_S,
    ping_s: float = 30.0,
    reset: bool = False,
    progress: Callable[[dict[str, int], int], None] | None = None,
    poll_s: float = 0.5,
    max_restarts: int | None = None,
) -> RunSummary:
    """Add (or resume) a campaign and run it with ``workers`` local worker processes.

    Parameters
    ----------
    spec : CampaignSpec
    db : str, optional
        MongoDB URI or ``my_launchpad.yaml`` (default: configured database / embedded server).
    workers : int
        Worker processes, each pinned to ``spec.threads`` threads.
    launch_dir : path, optional
        Where FireWorks writes launch folders (default :func:`default_launch_dir`).
    lost_after_s : float
        A RUNNING launch not pinged for this long is lost and rerun.
    ping_s : float
        How often workers ping the LaunchPad, seconds.
    reset : bool
        ``LaunchPad.reset`` first: deletes EVERY workflow in the database (never implicit).
    progress : callable, optional
        Called as ``progress(state_counts, total)`` while the campaign runs.

    Returns
    -------
    RunSummary
    """
    from sianode.store import open_store

    if not isinstance(workers, int) or workers < 1:
        raise InputError(f"--workers = {workers!r} not allowed; allowed: a positive integer")
    t0 = time.perf_counter()
    lp, target = campaign_launchpad(db)
    store = open_store(db)
    from pymongo.errors import PyMongoError

    from sianode.errors import DatabaseUnavailable

    try:
        return _run(spec, lp, target, store, t0, workers=workers, launch_dir=launch_dir, lost_after_s=lost_after_s,
                    ping_s=ping_s, reset=reset, progress=progress, poll_s=poll_s, max_restarts=max_restarts)
    except PyMongoError as exc:
        raise DatabaseUnavailable(
            f"lost the database at {target.hosts} during campaign {spec.name} ({type(exc).__name__}); "
            "every finished calculation is stored: run `sianode run` again to resume") from None
    finally:
        lp.connection.close()
        store.db.client.close()


def _run(spec: Any, lp: Any, target: Any, store: Any, t0: float, *, workers: int, launch_dir: Any,
         lost_after_s: float, ping_s: float, reset: bool, progress: Any, poll_s: float,
         max_restarts: int | None) -> RunSummary:
    if reset:
        reset_launchpad(lp)
    spec_hash = spec.spec_hash()
    fw_ids, added = add_campaign(lp, spec)
    summary = RunSummary(spec.name, added, workers=workers)
    before = _max_launch_id(lp)
    summary.lost_rerun = recover_lost_runs(lp, store, campaign=spec.name, lost_after_s=lost_after_s)
    summary.lost_rerun += rerun_fizzled(lp, fw_ids)
    launch_dir = Path(launch_dir) if launch_dir else default_launch_dir(spec.name)
    launch_dir.mkdir(parents=True, exist_ok=True)
    total = len(fw_ids)
    procs: list[subprocess.Popen] = []
    states = state_counts(lp, fw_ids)
    if any(states.get(s, 0) for s in ("READY", "RUNNING", "RESERVED")):
        procs = [_start_worker(target, spec.name, spec.threads, launch_dir, ping_s) for _ in range(workers)]
    restarts = 0
    max_restarts = 3 * workers if max_restarts is None else max_restarts
    try:
        while procs:
            time.sleep(poll_s)
            states = state_counts(lp, fw_ids)
            if progress is not None:
                progress(states, total)
            alive = [p for p in procs if p.poll() is None]
            died = [p for p in procs if p.poll() is not None and p.returncode != 0]
            procs = alive
            if died:
                for p in died:
                    log.warning("worker pid %d exited with status %s", p.pid, p.returncode)
                summary.lost_rerun += recover_lost_runs(lp, store, campaign=spec.name, lost_after_s=lost_after_s)
            states = state_counts(lp, fw_ids)
            runnable = states.get("READY", 0) + states.get("RUNNING", 0) + states.get("RESERVED", 0)
            missing = workers - len(procs)
            if runnable and missing > 0 and (died or not procs) and restarts < max_restarts:
                for _ in range(min(missing, max(1, states.get("READY", 0)))):
                    restarts += 1
                    procs.append(_start_worker(target, spec.name, spec.threads, launch_dir, ping_s))
    except BaseException:  # interrupted, or the database went away: stop our workers
        for p in procs:
            p.terminate()
        raise
    states = state_counts(lp, campaign_fw_ids(lp, spec.name, spec_hash))
    if progress is not None:
        progress(states, total)
    summary.states = states
    stats = launch_stats(lp, fw_ids, before)
    summary.computed, summary.reused = int(stats["computed"]), int(stats["reused"])
    summary.calc_wall_s = float(stats["calc_wall_s"])
    summary.failed = [(n, f"{s}: {r}") for n, s, r in problems(lp, fw_ids)]
    summary.wall_s = time.perf_counter() - t0
    return summary


def campaign_status(db: str | None = None, name: str | None = None) -> list[dict[str, Any]]:
    """State of each campaign (or of ``name``): Fireworks per state and problems with reasons."""
    lp, _ = campaign_launchpad(db)
    try:
        return _status(lp, name)
    finally:
        lp.connection.close()


def _status(lp: Any, name: str | None) -> list[dict[str, Any]]:
    query = {f"metadata.{META_CAMPAIGN}": name} if name else {f"metadata.{META_CAMPAIGN}": {"$exists": True}}
    out = []
    for wf in lp.workflows.find(query).sort("created_on", 1):
        ids = list(wf["nodes"])
        out.append({"campaign": wf["metadata"][META_CAMPAIGN], "spec_hash": wf["metadata"].get(META_HASH),
                    "state": wf.get("state"), "fireworks": len(ids), "states": state_counts(lp, ids),
                    "problems": [{"firework": n, "status": s, "reason": r} for n, s, r in problems(lp, ids)]})
    if name and not out:
        known = sorted({wf["metadata"][META_CAMPAIGN] for wf in lp.workflows.find(
            {f"metadata.{META_CAMPAIGN}": {"$exists": True}}, {"metadata": 1})})
        raise InputError(f"campaign {name!r} is not in the database; allowed: {', '.join(known) or 'none yet'}")
    return out
