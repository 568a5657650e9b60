"""Where a campaign stands, read cheaply: Firework states, problems, calculator calls, an ETA.

Every query is scoped by campaign or by a range of ids and filtered here: the embedded
SecantusDB evaluates ``$in`` over a list of ids in O(documents x ids) (45 s for 5,000 ids).
"""

from __future__ import annotations

import datetime
from typing import Any

from sianode.workflows.recovery import campaign_query, workflow_query

ACTIVE_STATES = ("READY", "WAITING", "RUNNING", "RESERVED")
STATES = ("COMPLETED", "RUNNING", "RESERVED", "READY", "WAITING", "FIZZLED", "DEFUSED", "PAUSED", "ARCHIVED")


def campaign_fw_ids(lp: Any, name: str, spec_hash: str | None = None) -> list[int]:
    """Firework ids of every workflow of campaign ``name`` (or of one spec hash)."""
    return sorted(i for wf in lp.workflows.find(workflow_query(name, spec_hash), {"nodes": 1}) for i in wf["nodes"])


def campaign_states(lp: Any, name: str, spec_hash: str | None = None) -> dict[str, int]:
    """Fireworks per state of a campaign, from its Fireworks (exact)."""
    counts: dict[str, int] = {}
    for doc in lp.fireworks.aggregate([{"$match": campaign_query(name, spec_hash)},
                                       {"$group": {"_id": "$state", "n": {"$sum": 1}}}]):
        counts[doc["_id"]] = int(doc["n"])
    return counts


def workflow_states(lp: Any, name: str, spec_hash: str | None = None) -> dict[str, int]:
    """Fireworks per state from the workflows' ``fw_states`` (one document per workflow: cheap,
    what progress reports use; :func:`campaign_states` is exact)."""
    counts: dict[str, int] = {}
    for wf in lp.workflows.find(workflow_query(name, spec_hash), {"fw_states": 1}):
        for state in (wf.get("fw_states") or {}).values():
            counts[state] = counts.get(state, 0) + 1
    return counts


def state_counts(lp: Any, fw_ids: list[int]) -> dict[str, int]:
    """Fireworks per state of the Fireworks ``fw_ids`` (an id range, filtered here: the embedded
    server's ``$in`` is O(documents x ids))."""
    counts: dict[str, int] = {}
    for doc in by_ids(lp.fireworks, "fw_id", fw_ids, {"fw_id": 1, "state": 1}):
        counts[doc["state"]] = counts.get(doc["state"], 0) + 1
    return counts


def by_ids(collection: Any, key: str, ids: list[int], projection: dict[str, Any],
            extra: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """Documents whose ``key`` is in ``ids``: a range query on ``key`` filtered in Python."""
    if not ids:
        return []
    wanted = set(ids)
    query = {key: {"$gte": min(wanted), "$lte": max(wanted)}, **(extra or {})}
    return [d for d in collection.find(query, {**projection, key: 1}) if d.get(key) in wanted]


def problems(lp: Any, fw_ids: list[int]) -> list[tuple[str, str, str]]:
    """(name, status, reason) of failed / skipped (COMPLETED) and FIZZLED Fireworks."""
    fws = {d["fw_id"]: d for d in by_ids(lp.fireworks, "fw_id", fw_ids, {"name": 1, "state": 1, "launches": 1})}
    wanted = {max(d["launches"]): i for i, d in fws.items()
              if d.get("launches") and d.get("state") in ("COMPLETED", "FIZZLED")}
    out = []
    for launch in by_ids(lp.launches, "launch_id", list(wanted), {"state": 1, "action.stored_data": 1}):
        fw = fws[wanted[launch["launch_id"]]]
        data = (launch.get("action") or {}).get("stored_data") or {}
        if launch.get("state") == "FIZZLED" or fw["state"] == "FIZZLED":
            exc = data.get("_exception") or {}
            trace = str(exc.get("_stacktrace") or "").strip().splitlines()
            out.append((fw["name"], "fizzled", trace[-1] if trace else "unknown error"))
        elif data.get("problems"):  # a Firework of several calculations names each failed one
            out.extend((f"{fw['name']}:{what}", str(status), str(reason)) for what, status, reason in data["problems"])
        elif data.get("status") in ("failed", "skipped"):
            out.append((fw["name"], data["status"], str(data.get("reason"))))
    return sorted(out)


def launch_stats(lp: Any, fw_ids: list[int], after_launch_id: int = 0) -> dict[str, float]:
    """Sum of ``computed``, ``reused``, ``calc_wall_s`` and FireWorks' ``runtime_secs`` (``runtime_s``)
    over the COMPLETED launches of ``fw_ids`` newer than ``after_launch_id``."""
    total = {"computed": 0, "reused": 0, "calc_wall_s": 0.0, "runtime_s": 0.0, "launches": 0}
    wanted = set(fw_ids)
    for launch in lp.launches.find({"launch_id": {"$gt": after_launch_id}, "state": "COMPLETED"},
                                   {"fw_id": 1, "action.stored_data": 1, "runtime_secs": 1}):
        if launch.get("fw_id") not in wanted:
            continue
        data = (launch.get("action") or {}).get("stored_data") or {}
        for k in ("computed", "reused", "calc_wall_s"):
            total[k] += data.get(k) or 0
        total["runtime_s"] += float(launch.get("runtime_secs") or 0.0)
        total["launches"] += 1
    return total


def max_launch_id(lp: Any) -> int:
    doc = lp.launches.find_one({}, {"launch_id": 1}, sort=[("launch_id", -1)])
    return int(doc["launch_id"]) if doc else 0


class Tracker:
    """What the run knows for progress: calculator calls and an ETA from the launches' timings.

    Reads only launches that ended since the last call (``time_end`` index), so each read
    costs what changed, not the campaign's size.
    """

    def __init__(self, lp: Any, fw_ids: list[int], after_launch_id: int, workers: int,
                 clock: Any = None) -> None:
        import time

        self.lp, self.fw_ids, self.after, self.workers = lp, set(fw_ids), after_launch_id, workers
        self.seen: set[int] = set()
        self.computed = self.reused = 0
        self.runtime_s = 0.0
        self.since = "0"
        self.clock = clock or time.monotonic
        self.t0 = self.clock()

    def update(self) -> None:
        now = datetime.datetime.now(datetime.timezone.utc)
        query = {"time_end": {"$gte": self.since}, "launch_id": {"$gt": self.after}, "state": "COMPLETED"}
        for launch in self.lp.launches.find(query, {"launch_id": 1, "fw_id": 1, "runtime_secs": 1,
                                                    "action.stored_data.computed": 1,
                                                    "action.stored_data.reused": 1}):
            if launch["launch_id"] in self.seen or launch.get("fw_id") not in self.fw_ids:
                continue
            self.seen.add(launch["launch_id"])
            data = (launch.get("action") or {}).get("stored_data") or {}
            self.computed += int(data.get("computed") or 0)
            self.reused += int(data.get("reused") or 0)
            self.runtime_s += float(launch.get("runtime_secs") or 0.0)
        self.since = (now - datetime.timedelta(seconds=30)).isoformat()  # a launch is written as it ends

    def eta_s(self, states: dict[str, int]) -> float | None:
        """Fireworks left x the wall time per Firework finished so far in this run (FireWorks'
        launch records: run time and the orchestration between launches, all workers together);
        None until one finished."""
        if not self.seen:
            return None
        left = sum(states.get(s, 0) for s in ACTIVE_STATES)
        per_fw = max(self.clock() - self.t0, self.runtime_s / max(self.workers, 1)) / len(self.seen)
        return per_fw * left
