"""Bring a campaign's FireWorks state back in line after a crash (a worker, a run, the database).

FireWorks keeps one run of a Firework in three documents written one after the other: the
Firework (``fireworks``: its state and launch ids), the launch (``launches``: its state,
pings and result) and the workflow (``workflows``: ``fw_states`` of every Firework, used to
decide when a child is READY, and a ``locked`` flag while a process updates it). A crash
between two of these writes leaves them apart, and FireWorks itself then waits for ever
(a RUNNING Firework whose launch ended, a child WAITING on a parent that completed) or
300 s per call (a workflow lock nobody holds any more).

:func:`reconcile_campaign` puts every such combination right, with FireWorks' own tools
where it has them:

================================================  ==============================================
seen                                              done
================================================  ==============================================
workflow ``locked``, no live RUNNING launch in    lock released (``lpad admin unlock``'s update)
it (worker dead, or silent for ``lost_after_s``)
launch RUNNING, worker dead (this host) or not    ``LaunchPad.mark_fizzled`` + ``rerun_fw`` (what
pinged for ``lost_after_s``                       ``detect_lostruns(rerun=True)`` does): the launch
                                                  FIZZLED, its Firework rerun
Firework RUNNING, its launch COMPLETED/FIZZLED    the workflow refreshed from the launches
                                                  (``Workflow.refresh``, what ``detect_lostruns
                                                  (refresh=True)`` does)
Firework RESERVED, no launch, older than          refreshed: READY again
``lost_after_s`` (checkout cut short)
``fw_states`` of the workflow != the Firework's   refreshed
own state
Firework WAITING although every parent is done    its parents, then it, refreshed
Firework FIZZLED (sianode's tasks record          ``LaunchPad.rerun_fw``
calculation failures and COMPLETE; a FIZZLED one
crashed)
Firework of the campaign in no workflow (adding   deleted
the workflow was cut short)
store claim of a dead process on this host        released (the rerun takes the calculation over)
================================================  ==============================================

Nothing here recomputes a finished calculation: results live in the store by content key,
so a rerun Firework finds its calculations there.

Every query is scoped by the campaign's spec fields and avoids ``$in`` over many ids (the
embedded SecantusDB evaluates ``$in`` in O(documents x values): 45 s for 5,000 ids).
"""

from __future__ import annotations

import datetime
import logging
import re
import socket
from dataclasses import dataclass, field
from typing import Any

from sianode.store.server import pid_alive
from sianode.workflows.flows import META_CAMPAIGN, META_HASH, SPEC_CAMPAIGN, SPEC_HASH

log = logging.getLogger(__name__)

#: FireWorker names of sianode workers: ``sianode-worker:<host>:<pid>`` (:func:`~sianode.workflows.worker.worker_name`).
WORKER_PREFIX = "sianode-worker"

#: a RUNNING launch not pinged for this long is lost (the workers ping every 30 s)
DEFAULT_LOST_AFTER_S = 120
#: FireWorks' state ranks (``Firework.STATE_RANKS``): a Firework's state is its best launch's
STATE_RANKS = {"ARCHIVED": -2, "FIZZLED": -1, "DEFUSED": 0, "PAUSED": 0, "WAITING": 1, "READY": 2,
               "RESERVED": 3, "RUNNING": 4, "COMPLETED": 5}
DONE_STATES = ("COMPLETED",)


@dataclass
class Reconciliation:
    """What :func:`reconcile_campaign` found and did (Firework ids unless said otherwise)."""

    unlocked: int = 0
    lost_launches: list[int] = field(default_factory=list)
    lost_rerun: list[int] = field(default_factory=list)
    refreshed: list[int] = field(default_factory=list)
    fizzled_rerun: list[int] = field(default_factory=list)
    orphans_deleted: list[int] = field(default_factory=list)
    claims_released: int = 0

    @property
    def rerun(self) -> list[int]:
        """Fireworks rerun (lost or crashed)."""
        return sorted(set(self.lost_rerun) | set(self.fizzled_rerun))

    @property
    def changed(self) -> bool:
        return bool(self.unlocked or self.lost_launches or self.refreshed or self.fizzled_rerun
                    or self.orphans_deleted)

    def as_dict(self) -> dict[str, Any]:
        return {"unlocked": self.unlocked, "lost_launches": list(self.lost_launches),
                "lost_rerun": list(self.lost_rerun), "refreshed": list(self.refreshed),
                "fizzled_rerun": list(self.fizzled_rerun), "orphans_deleted": list(self.orphans_deleted),
                "claims_released": self.claims_released}


# ------------------------------------------------------------------ queries
def campaign_query(campaign: str, spec_hash: str | None = None) -> dict[str, Any]:
    """The ``fireworks`` query of a campaign's Fireworks (of one spec hash, if given)."""
    query: dict[str, Any] = {f"spec.{SPEC_CAMPAIGN}": campaign}
    if spec_hash is not None:
        query[f"spec.{SPEC_HASH}"] = spec_hash
    return query


def workflow_query(campaign: str, spec_hash: str | None = None) -> dict[str, Any]:
    """The ``workflows`` query of a campaign's workflows."""
    query: dict[str, Any] = {f"metadata.{META_CAMPAIGN}": campaign}
    if spec_hash is not None:
        query[f"metadata.{META_HASH}"] = spec_hash
    return query


def _parse_time(value: Any) -> datetime.datetime | None:
    if isinstance(value, datetime.datetime):
        return value if value.tzinfo else value.replace(tzinfo=datetime.timezone.utc)
    try:
        parsed = datetime.datetime.fromisoformat(str(value))
    except (TypeError, ValueError):
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=datetime.timezone.utc)


def last_ping_age_s(launch: dict[str, Any], now: datetime.datetime | None = None) -> float | None:
    """Seconds since a launch's last ping (``state_history[-1].updated_on`` / ``created_on``)."""
    history = launch.get("state_history") or []
    if not history:
        return None
    entry = history[-1]
    stamp = _parse_time(entry.get("updated_on") or entry.get("created_on"))
    if stamp is None:
        return None
    now = now or datetime.datetime.now(datetime.timezone.utc)
    return (now - stamp).total_seconds()


def local_worker_pid(launch: dict[str, Any]) -> int | None:
    """pid of the sianode worker on THIS host that runs ``launch``, else None."""
    name = str((launch.get("fworker") or {}).get("name") or "")
    match = re.fullmatch(rf"{re.escape(WORKER_PREFIX)}:{re.escape(socket.gethostname())}:(\d+)", name)
    return int(match.group(1)) if match else None


def launch_is_live(launch: dict[str, Any], lost_after_s: float) -> bool:
    """A RUNNING launch whose worker still runs: alive on this host, or pinged recently elsewhere."""
    pid = local_worker_pid(launch)
    if pid is not None:
        return pid_alive(pid)
    age = last_ping_age_s(launch)
    return age is not None and age < lost_after_s


def running_launches(lp: Any, fw_ids: set[int]) -> list[dict[str, Any]]:
    """RUNNING launches of the Fireworks ``fw_ids`` (the ``state`` index; few documents)."""
    docs = lp.launches.find({"state": "RUNNING"}, {"launch_id": 1, "fw_id": 1, "fworker.name": 1,
                                                   "state_history": {"$slice": -1}})
    return [d for d in docs if d.get("fw_id") in fw_ids]


# ------------------------------------------------------------------ pieces
def release_stale_locks(lp: Any, campaign: str, lost_after_s: float = DEFAULT_LOST_AFTER_S,
                        fw_ids: set[int] | None = None) -> int:
    """Unlock the campaign's workflows locked by a process that died inside FireWorks' ``WFLock``.

    A lock is held only while a process with a RUNNING launch updates the workflow; a
    workflow with no live RUNNING launch (see :func:`launch_is_live`) holds a left-over lock.
    """
    if fw_ids is None:
        fw_ids = {d["fw_id"] for d in lp.fireworks.find(campaign_query(campaign), {"fw_id": 1, "_id": 0})}
    live_fw = {d["fw_id"] for d in running_launches(lp, fw_ids) if launch_is_live(d, lost_after_s)}
    released = 0
    for wf in lp.workflows.find({**workflow_query(campaign), "locked": {"$exists": True}}, {"nodes": 1}):
        if not live_fw.intersection(wf["nodes"]):
            res = lp.workflows.update_one({"_id": wf["_id"], "locked": {"$exists": True}}, {"$unset": {"locked": ""}})
            released += res.modified_count
    if released:
        log.warning("campaign %s: released %d workflow lock(s) left by a crashed process", campaign, released)
    return released


def detect_lost(lp: Any, fw_ids: set[int], lost_after_s: float) -> list[int]:
    """Launch ids of RUNNING launches of ``fw_ids`` whose worker is gone (see :func:`launch_is_live`)."""
    return sorted(d["launch_id"] for d in running_launches(lp, fw_ids) if not launch_is_live(d, lost_after_s))


def rerun_lost(lp: Any, launch_ids: list[int]) -> list[int]:
    """What ``LaunchPad.detect_lostruns(rerun=True)`` does for ``launch_ids``, with FireWorks' own
    ``mark_fizzled`` and ``rerun_fw``: each launch FIZZLED (its Firework refreshed: COMPLETED
    if another launch completed it, else FIZZLED) and each Firework left FIZZLED rerun.

    ``detect_lostruns`` itself also scans every launch of the database (its "inconsistent"
    aggregation, a ``$lookup`` per launch); the refresh below does that part per campaign.
    """
    for lid in launch_ids:
        lp.mark_fizzled(lid)
    rerun = []
    for lid in launch_ids:
        fw = lp.fireworks.find_one({"launches": lid}, {"fw_id": 1, "state": 1})
        if fw is not None and fw["state"] == "FIZZLED" and fw["fw_id"] not in rerun:
            lp.rerun_fw(fw["fw_id"])
            rerun.append(fw["fw_id"])
    return sorted(rerun)


def _depths(links: dict[str, list[int]]) -> dict[int, int]:
    """Depth of every node of a workflow (roots 0) from its ``links`` (parent -> children)."""
    parents: dict[int, list[int]] = {}
    nodes: set[int] = set()
    for parent, children in links.items():
        nodes.add(int(parent))
        for child in children:
            parents.setdefault(int(child), []).append(int(parent))
            nodes.add(int(child))
    depth: dict[int, int] = {}
    for node in sorted(nodes):
        stack = [node]
        while stack:
            top = stack[-1]
            todo = [p for p in parents.get(top, []) if p not in depth]
            if todo:
                stack.extend(todo)
                continue
            stack.pop()
            depth[top] = 1 + max((depth[p] for p in parents.get(top, [])), default=-1)
    return depth


def inconsistent_fireworks(lp: Any, campaign: str, fws: dict[int, dict[str, Any]],
                           lost_after_s: float) -> dict[Any, set[int]]:
    """Fireworks to refresh, per workflow ``_id`` (see the module docstring's table)."""
    now = datetime.datetime.now(datetime.timezone.utc)
    active = {i: f for i, f in fws.items() if f.get("state") in ("RUNNING", "RESERVED")}
    launch_ids = [lid for f in active.values() for lid in (f.get("launches") or [])]
    launch_state: dict[int, str] = {}
    if launch_ids:
        for d in lp.launches.find({"launch_id": {"$in": launch_ids}}, {"launch_id": 1, "state": 1}):
            launch_state[int(d["launch_id"])] = d["state"]
    suspects: set[int] = set()
    for fw_id, f in active.items():
        states = [launch_state.get(int(lid)) for lid in (f.get("launches") or [])]
        best = max((s for s in states if s), key=lambda s: STATE_RANKS.get(s, 0), default=None)
        if f["state"] == "RUNNING" and best in ("COMPLETED", "FIZZLED"):
            suspects.add(fw_id)  # the launch ended, the Firework was not told
        elif f["state"] == "RESERVED" and best is None:
            updated = _parse_time(f.get("updated_on"))
            if updated is None or (now - updated).total_seconds() > lost_after_s:
                suspects.add(fw_id)  # checkout cut short
    out: dict[Any, set[int]] = {}
    for wf in lp.workflows.find(workflow_query(campaign), {"nodes": 1, "fw_states": 1, "links": 1,
                                                           "parent_links": 1}):
        fw_states = {int(k): v for k, v in (wf.get("fw_states") or {}).items()}
        parent_links = {int(k): [int(p) for p in v] for k, v in (wf.get("parent_links") or {}).items()}
        todo = {i for i in wf["nodes"] if i in suspects}
        for i in wf["nodes"]:
            f = fws.get(i)
            if f is None:
                continue
            if fw_states.get(i) != f["state"]:
                todo.add(i)
            parents = parent_links.get(i, [])
            allow = bool((f.get("spec") or {}).get("_allow_fizzled_parents"))
            ok_parent = ("COMPLETED", "FIZZLED") if allow else ("COMPLETED",)
            if f["state"] == "WAITING" and parents and all(fws.get(p, {}).get("state") in ok_parent for p in parents):
                # a child left WAITING: refresh its parents (their fw_states), then the child itself
                todo.update(parents)
                todo.add(i)
        if todo:
            out[wf["_id"]] = todo
    return out


def refresh_workflow(lp: Any, wf_id: Any, fw_ids: set[int]) -> list[int]:
    """Refresh ``fw_ids`` (and their descendants) of one workflow from their launches, under its lock.

    FireWorks' ``LaunchPad._refresh_wf`` for several Fireworks at once, parents first.
    """
    from fireworks.core.launchpad import WFLock

    wf_doc = lp.workflows.find_one({"_id": wf_id}, {"nodes": 1, "links": 1})
    if wf_doc is None:
        return []
    depth = _depths(wf_doc.get("links") or {})
    ordered = sorted(fw_ids, key=lambda i: (depth.get(i, 0), i))
    anchor = ordered[0]
    updated: set[int] = set()
    with WFLock(lp, anchor):
        wf = lp.get_wf_by_fw_id_lzyfw(anchor)
        for fw_id in ordered:
            updated = wf.refresh(fw_id, updated)
        lp._update_wf(wf, updated)  # FireWorks' own write of a refreshed workflow (within the lock)
    return sorted(updated)


def rerun_fizzled(lp: Any, campaign: str, spec_hash: str | None = None) -> list[int]:
    """Rerun the campaign's FIZZLED Fireworks: sianode's tasks record calculation failures in
    the store and complete, so a FIZZLED one crashed (its database went away, say)."""
    fizzled = [d["fw_id"] for d in lp.fireworks.find({**campaign_query(campaign, spec_hash), "state": "FIZZLED"},
                                                     {"fw_id": 1, "_id": 0})]
    for fw_id in fizzled:
        lp.rerun_fw(fw_id)
    if fizzled:
        log.warning("campaign %s: rerunning Fireworks that crashed before: %s", campaign, sorted(fizzled))
    return sorted(fizzled)


def delete_orphans(lp: Any, campaign: str, fws: dict[int, dict[str, Any]], min_age_s: float = 120.0) -> list[int]:
    """Delete the campaign's Fireworks that belong to no workflow (``add_wf`` cut short), once
    they are ``min_age_s`` old (an add in progress inserts Fireworks before the workflow)."""
    nodes: set[int] = set()
    for wf in lp.workflows.find(workflow_query(campaign), {"nodes": 1}):
        nodes.update(wf["nodes"])
    now = datetime.datetime.now(datetime.timezone.utc)
    orphans = []
    for fw_id, f in fws.items():
        created = _parse_time(f.get("created_on"))
        if fw_id not in nodes and (created is None or (now - created).total_seconds() > min_age_s):
            orphans.append(fw_id)
    for fw_id in orphans:
        lp.fireworks.delete_one({"fw_id": fw_id})
    if orphans:
        log.warning("campaign %s: deleted %d Firework(s) of an unfinished add (no workflow): %s",
                    campaign, len(orphans), orphans)
    return orphans


# ------------------------------------------------------------------ all of it
def reconcile_campaign(lp: Any, store: Any | None, campaign: str, *, spec_hash: str | None = None,
                       lost_after_s: float = DEFAULT_LOST_AFTER_S) -> Reconciliation:
    """Put every inconsistent Firework / launch / workflow state of ``campaign`` right.

    See the module docstring for what is checked and done. Safe while other workers run:
    only launches of dead (or silent for ``lost_after_s``) workers count as lost, and a
    workflow lock is released only when no live launch could hold it.
    """
    report = Reconciliation()
    fields = {"fw_id": 1, "state": 1, "launches": 1, "updated_on": 1, "created_on": 1,
              "spec._allow_fizzled_parents": 1, "_id": 0}
    fws = {d["fw_id"]: d for d in lp.fireworks.find(campaign_query(campaign), fields)}
    ids = set(fws)
    report.unlocked = release_stale_locks(lp, campaign, lost_after_s, ids)
    report.lost_launches = detect_lost(lp, ids, lost_after_s)
    if report.lost_launches:
        report.lost_rerun = rerun_lost(lp, report.lost_launches)
        log.warning("campaign %s: lost runs (worker gone): launches %s; Fireworks rerun %s", campaign,
                    report.lost_launches, report.lost_rerun)
        fws = {d["fw_id"]: d for d in lp.fireworks.find(campaign_query(campaign), fields)}
    for wf_id, todo in inconsistent_fireworks(lp, campaign, fws, lost_after_s).items():
        done = refresh_workflow(lp, wf_id, todo)
        report.refreshed.extend(sorted(todo | set(done)))
        log.warning("campaign %s: Fireworks %s out of step with their launches / workflow: refreshed "
                    "(states changed: %s)", campaign, sorted(todo), done)
    report.fizzled_rerun = rerun_fizzled(lp, campaign, spec_hash)
    report.orphans_deleted = delete_orphans(lp, campaign, fws)
    if store is not None:
        report.claims_released = int(store.release_dead_local_claims() or 0)
    return report
