"""Run a campaign locally: add it to the LaunchPad once, reconcile after crashes, start workers.

FireWorks keeps its collections (``fireworks``, ``workflows``, ``launches``, ...) in the
same database as the results store: the configured one (``--db``, ``$SIANODE_DB_URI``,
``$SIANODE_LAUNCHPAD``) or the embedded server. ``LaunchPad.reset`` is never called
except by :func:`reset_launchpad` (``sianode run --reset``).

Adding is idempotent: a workflow whose metadata has the same campaign name and spec hash
is resumed, not added again. Before workers start, whenever one dies, and when the
workers stop with work left, the campaign is reconciled
(:func:`~sianode.workflows.recovery.reconcile_campaign`): runs of dead workers are rerun,
Fireworks whose state a crash left behind their launches are refreshed, locks of dead
processes are released, crashed (FIZZLED) Fireworks are rerun. Finished calculations are
in the store, so nothing is computed twice.

Where things go (``<launch dir>`` = ``--launch-dir`` or ``$SIANODE_HOME/launches/<campaign>``):
FireWorks' ``launcher_*`` folders, ``workers.log`` (every worker's output) and
``progress.log`` (the progress lines, also with ``-q``); ``sianode status`` names both.
"""

from __future__ import annotations

import logging
import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from sianode.errors import InputError
from sianode.workflows import recovery
from sianode.workflows.flows import META_CAMPAIGN, META_HASH
from sianode.workflows.launchpad import (  # noqa: F401  (re-exported: queue.py, tests)
    campaign_launchpad, ensure_indexes, initialize_launchpad, uri_with_database)
from sianode.workflows.recovery import DEFAULT_LOST_AFTER_S, campaign_query, workflow_query
from sianode.workflows.states import (  # noqa: F401  (re-exported: queue.py, tests)
    ACTIVE_STATES, STATES, Tracker, campaign_fw_ids, campaign_states, launch_stats, max_launch_id, problems,
    state_counts, workflow_states)

log = logging.getLogger(__name__)

WORKERS_LOG = "workers.log"
PROGRESS_LOG = "progress.log"
#: collection of where each campaign's last run wrote its launch folders and logs
RUNS = "sianode_runs"
#: collection of (campaign, spec hash) markers that make adding a campaign atomic
CAMPAIGN_MARKERS = "sianode_campaigns"
#: how long a run waits for another run that is adding the same campaign, seconds
ADD_WAIT_S = 60.0
#: how often the run reads Firework states at most / at least (it adapts to the database's speed)
POLL_MAX_S = 10.0
#: the run waits this many times as long as its last read of the Firework states took
POLL_DUTY = 20.0


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
        Firework ids found lost or crashed and rerun.
    failed : list of (str, str)
        (Firework name, reason) of failed, skipped and fizzled Fireworks.
    launch_dir : str
        Launch folders, ``workers.log`` and ``progress.log``.
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
    launch_dir: str = ""
    reconciled: list[dict[str, Any]] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        return not any(self.states.get(s, 0) for s in ACTIVE_STATES)

    def as_dict(self) -> dict[str, Any]:
        return {"campaign": self.campaign, "added": self.added, "states": dict(self.states), "wall_s": self.wall_s,
                "computed": self.computed, "reused": self.reused, "calc_wall_s": self.calc_wall_s,
                "lost_rerun": list(self.lost_rerun), "failed": [list(f) for f in self.failed],
                "workers": self.workers, "complete": self.complete, "launch_dir": self.launch_dir}


# ------------------------------------------------------------------ database
def reset_launchpad(lp: Any) -> None:
    """Delete every workflow of the LaunchPad (only with the user's explicit ``--reset``)."""
    lp.reset("", require_password=False, max_reset_wo_password=10 ** 9)
    lp.db[CAMPAIGN_MARKERS].delete_many({})
    ensure_indexes(lp)


# ------------------------------------------------------------------ adding
def find_workflow(lp: Any, name: str, spec_hash: str | None = None) -> dict[str, Any] | None:
    """The workflow document of campaign ``name`` (and spec hash), newest first; None if absent."""
    docs = list(lp.workflows.find(workflow_query(name, spec_hash), {"nodes": 1, "metadata": 1})
                .sort("created_on", -1).limit(1))
    return docs[0] if docs else None


def add_campaign(lp: Any, spec: Any) -> tuple[list[int], bool]:
    """Add the campaign's workflow(s) unless there already; returns (fw_ids, added).

    The campaign's workflows (:func:`~sianode.workflows.flows.build_workflows`: one per host)
    are added in one bulk insert; the marker is completed after it.
    """
    from pymongo.errors import DuplicateKeyError

    from sianode.workflows.flows import build_workflows

    spec_hash = spec.spec_hash()
    if find_workflow(lp, spec.name, spec_hash) is not None and _added(lp, spec.name, spec_hash):
        log.info("campaign %s (spec %s) is in the LaunchPad already: resuming", spec.name, spec_hash[:12])
        return campaign_fw_ids(lp, spec.name, spec_hash), False
    # one marker per (campaign, spec): of two runs started at once, only one adds the workflow
    markers = lp.db[CAMPAIGN_MARKERS]
    marker = {"_id": f"{spec.name}:{spec_hash}"}
    try:
        markers.insert_one({**marker, "created": time.time()})
    except DuplicateKeyError:
        deadline = time.monotonic() + ADD_WAIT_S
        while time.monotonic() < deadline:  # the other run is adding it now
            if _added(lp, spec.name, spec_hash) and find_workflow(lp, spec.name, spec_hash) is not None:
                return campaign_fw_ids(lp, spec.name, spec_hash), False
            time.sleep(0.2)
        log.warning("campaign %s: a run that was adding it died; adding it again", spec.name)
        _delete_partial(lp, spec.name, spec_hash)
    other = find_workflow(lp, spec.name)
    if other is not None and other["metadata"].get(META_HASH) != spec_hash:
        log.warning("campaign %s was added before with another spec (%s); adding this spec (%s) as a new workflow",
                    spec.name, str(other["metadata"].get(META_HASH, "?"))[:12], spec_hash[:12])
    fw_ids = add_workflows(lp, build_workflows(spec))
    markers.update_one(marker, {"$set": {"added": time.time()}}, upsert=True)
    return sorted(fw_ids), True


def add_workflows(lp: Any, workflows: list[Any]) -> list[int]:
    """Add ``workflows`` with FireWorks' ``bulk_add_wfs`` (two inserts, not three writes per
    workflow); returns the Firework ids they got, sorted. FireWorks' progress bar is silenced."""
    import contextlib
    import io

    if not workflows:
        return []
    with contextlib.redirect_stderr(io.StringIO()):
        lp.bulk_add_wfs(workflows)
    return sorted(fw.fw_id for wf in workflows for fw in wf.fws)


def _added(lp: Any, name: str, spec_hash: str) -> bool:
    """The campaign's workflows are all in: its marker says so, or it predates markers with ``added``."""
    doc = lp.db[CAMPAIGN_MARKERS].find_one({"_id": f"{name}:{spec_hash}"})
    return doc is None or "added" in doc or time.time() - float(doc.get("created", 0)) > 3600


def _delete_partial(lp: Any, name: str, spec_hash: str) -> None:
    """Remove what an add cut short left: the workflows and Fireworks of this campaign and spec
    (a bulk add inserts the workflows first, so some may have no Fireworks; none has a launch)."""
    workflows = lp.workflows.delete_many(workflow_query(name, spec_hash)).deleted_count
    fireworks = lp.fireworks.delete_many(campaign_query(name, spec_hash)).deleted_count
    log.warning("campaign %s: removed %d workflow(s) and %d Firework(s) of an add cut short", name, workflows,
                fireworks)


# ------------------------------------------------------------------ recovery (see recovery.py)
def dead_local_launches(lp: Any, campaign: str | None = None) -> list[int]:
    """RUNNING launches of sianode workers on this host whose process is gone."""
    out = []
    for launch in lp.launches.find({"state": "RUNNING"}, {"launch_id": 1, "fworker.name": 1, "fw_id": 1}):
        pid = recovery.local_worker_pid(launch)
        if pid is not None and not recovery.pid_alive(pid):
            out.append(int(launch["launch_id"]))
    return sorted(out)


def release_dead_claims(store: Any) -> int:
    """Expire store claims (``running`` documents) held by dead processes on this host."""
    return store.release_dead_local_claims()


def recover_lost_runs(lp: Any, store: Any | None = None, *, campaign: str,
                      lost_after_s: float = DEFAULT_LOST_AFTER_S) -> list[int]:
    """Reconcile ``campaign`` (:func:`~sianode.workflows.recovery.reconcile_campaign`); returns
    the Firework ids rerun."""
    return recovery.reconcile_campaign(lp, store, campaign, lost_after_s=lost_after_s).rerun


# ------------------------------------------------------------------ running
def _start_worker(target: Any, campaign: str, threads: int, launch_dir: Path, ping_s: float) -> subprocess.Popen:
    env = dict(os.environ)
    env.update({"OMP_NUM_THREADS": str(threads), "MKL_NUM_THREADS": str(threads),
                "OPENBLAS_NUM_THREADS": str(threads),
                "SIANODE_DB_URI": uri_with_database(target.uri, target.database)})
    env.pop("SIANODE_LAUNCHPAD", None)
    cmd = [sys.executable, "-m", "sianode.workflows.worker", "--campaign", campaign, "--threads", str(threads),
           "--launch-dir", str(launch_dir), "--ping-s", str(ping_s)]
    log_path = launch_dir / WORKERS_LOG
    with open(log_path, "ab") as out:
        proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    log.info("worker pid %d started (log %s)", proc.pid, log_path)
    return proc


def default_launch_dir(name: str) -> Path:
    """``$SIANODE_HOME/launches/<campaign>``: where FireWorks writes its launch folders."""
    from sianode.store.uri import sianode_home

    return sianode_home() / "launches" / name


def record_run(lp: Any, campaign: str, launch_dir: Path, *, workers_log: str, how: str) -> None:
    """Remember where the campaign's launch folders and logs are (``sianode status`` shows them)."""
    lp.db[RUNS].update_one({"_id": campaign}, {"$set": {
        "launch_dir": str(launch_dir), "workers_log": workers_log, "progress_log": str(launch_dir / PROGRESS_LOG),
        "host": socket.gethostname(), "pid": os.getpid(), "how": how, "started": time.time()}}, upsert=True)


def _progress_reporter(progress: Any, launch_dir: Path) -> Any:
    """A :class:`~sianode.workflows.progress.Progress` that also writes ``progress.log``."""
    from sianode.workflows.progress import Progress

    if isinstance(progress, Progress):
        progress.add_log_file(launch_dir / PROGRESS_LOG)
        return progress
    return Progress(quiet=True, log_file=launch_dir / PROGRESS_LOG)  # lines at changes and every 30 s


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
        Launch folders and logs (default :func:`default_launch_dir`).
    lost_after_s : float
        A RUNNING launch not pinged for this long is lost and rerun.
    ping_s : float
        How often workers ping the LaunchPad, seconds.
    reset : bool
        ``LaunchPad.reset`` first: deletes EVERY workflow in the database (never implicit).
    progress : callable or Progress, optional
        Called as ``progress(state_counts, total)`` while the campaign runs; a
        :class:`~sianode.workflows.progress.Progress` also gets calculator calls and an ETA.
        Progress lines always go to ``<launch dir>/progress.log``.
    poll_s : float
        Shortest time between two looks at the workers (Firework states are read less
        often when the database is slow: at most every ``POLL_MAX_S``).

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
    launch_dir = Path(launch_dir) if launch_dir else default_launch_dir(spec.name)
    launch_dir.mkdir(parents=True, exist_ok=True)
    summary = RunSummary(spec.name, added, workers=workers, launch_dir=str(launch_dir))
    record_run(lp, spec.name, launch_dir, workers_log=str(launch_dir / WORKERS_LOG), how="sianode run")
    reporter = _progress_reporter(progress, launch_dir)
    plain = progress if progress is not None and progress is not reporter else None
    before = max_launch_id(lp)
    total = len(fw_ids)
    tracker = Tracker(lp, fw_ids, before, workers)

    def reconcile(why: str) -> None:
        report = recovery.reconcile_campaign(lp, store, spec.name, lost_after_s=lost_after_s)
        summary.lost_rerun += report.rerun
        if report.changed:
            summary.reconciled.append({"why": why, **report.as_dict()})

    def report_states(states: dict[str, int]) -> None:
        tracker.update()
        reporter.fireworks(states, total, campaign=spec.name, computed=tracker.computed, reused=tracker.reused,
                           eta_s=tracker.eta_s(states))
        if plain is not None:
            plain(states, total)

    reconcile("start")
    procs: list[subprocess.Popen] = []
    states = campaign_states(lp, spec.name, spec_hash)
    report_states(states)
    if any(states.get(s, 0) for s in ("READY", "RUNNING", "RESERVED")):
        procs = [_start_worker(target, spec.name, spec.threads, launch_dir, ping_s) for _ in range(workers)]
    restarts = 0
    max_restarts = 3 * workers if max_restarts is None else max_restarts
    interval = poll_s
    next_poll = 0.0
    try:
        while procs:
            time.sleep(poll_s)
            died = [p for p in procs if p.poll() is not None and p.returncode != 0]
            procs = [p for p in procs if p.poll() is None]
            if died:
                for p in died:
                    log.warning("worker pid %d exited with status %s (log %s)", p.pid, p.returncode,
                                launch_dir / WORKERS_LOG)
                reconcile("a worker died")
            if procs and not died and time.monotonic() < next_poll:
                continue
            t_poll = time.monotonic()
            states = workflow_states(lp, spec.name, spec_hash) if procs else campaign_states(lp, spec.name, spec_hash)
            report_states(states)
            # read states at least every POLL_MAX_S, and spend at most ~5 % of the time reading them
            # (a campaign of thousands of Fireworks: 0.14 s per read on the embedded server)
            interval = min(POLL_MAX_S, max(poll_s, POLL_DUTY * (time.monotonic() - t_poll)))
            next_poll = time.monotonic() + interval
            if not procs and any(states.get(s, 0) for s in ACTIVE_STATES) and restarts < max_restarts:
                reconcile("workers stopped with work left")  # e.g. a child left WAITING by a crash
                states = campaign_states(lp, spec.name, spec_hash)
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
    states = campaign_states(lp, spec.name, spec_hash)
    report_states(states)
    summary.states = states
    stats = launch_stats(lp, fw_ids, before)
    summary.computed, summary.reused = int(stats["computed"]), int(stats["reused"])
    summary.calc_wall_s = float(stats["calc_wall_s"])
    summary.failed = [(n, f"{s}: {r}") for n, s, r in problems(lp, fw_ids)]
    summary.lost_rerun = sorted(set(summary.lost_rerun))
    summary.wall_s = time.perf_counter() - t0
    return summary


def campaign_status(db: str | None = None, name: str | None = None) -> list[dict[str, Any]]:
    """State of each campaign (or of ``name``): Fireworks per state, problems with reasons, logs."""
    lp, _ = campaign_launchpad(db)
    try:
        return _status(lp, name)
    finally:
        lp.connection.close()


def _status(lp: Any, name: str | None) -> list[dict[str, Any]]:
    query = workflow_query(name) if name else {f"metadata.{META_CAMPAIGN}": {"$exists": True}}
    runs = {d["_id"]: d for d in lp.db[RUNS].find({})}
    grouped: dict[tuple[str, str], dict[str, Any]] = {}
    for wf in lp.workflows.find(query, {"nodes": 1, "metadata": 1, "state": 1}).sort("created_on", 1):
        campaign, spec_hash = wf["metadata"][META_CAMPAIGN], str(wf["metadata"].get(META_HASH))
        row = grouped.setdefault((campaign, spec_hash), {"campaign": campaign, "spec_hash": spec_hash, "ids": [],
                                                         "wf_states": []})
        row["ids"].extend(wf["nodes"])
        row["wf_states"].append(wf.get("state"))
    out = []
    for (campaign, spec_hash), row in grouped.items():
        ids = row.pop("ids")
        wf_states = row.pop("wf_states")
        run = runs.get(campaign) or {}
        row.update({"state": wf_states[0] if len(set(wf_states)) == 1 else "RUNNING", "fireworks": len(ids),
                    "states": state_counts(lp, ids),
                    "problems": [{"firework": n, "status": s, "reason": r} for n, s, r in problems(lp, ids)],
                    "launch_dir": run.get("launch_dir"), "workers_log": run.get("workers_log"),
                    "progress_log": run.get("progress_log")})
        out.append(row)
    if name and not out:
        known = sorted({wf["metadata"][META_CAMPAIGN] for wf in lp.workflows.find(
            {f"metadata.{META_CAMPAIGN}": {"$exists": True}}, {"metadata": 1})})
        raise InputError(f"campaign {name!r} is not in the database; allowed: {', '.join(known) or 'none yet'}")
    return out
