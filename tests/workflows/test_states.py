"""Tests of sianode.workflows.states on an in-memory collection (no database)."""

from __future__ import annotations

from collections import Counter

from sianode.workflows.states import by_ids, launch_stats, problems, state_counts


def _match(doc, query):
    for key, cond in query.items():
        value = doc.get(key)
        if isinstance(cond, dict):
            for op, arg in cond.items():
                if value is None or not {"$gte": value >= arg, "$lte": value <= arg, "$gt": value > arg}[op]:
                    return False
        elif value != cond:
            return False
    return True


class _Coll:
    """Just enough of a MongoDB collection: ``find`` with equality and range conditions."""

    def __init__(self, docs):
        self.docs = docs
        self.queries = []

    def find(self, query, projection=None):
        self.queries.append(query)
        return [dict(d) for d in self.docs if _match(d, query)]


class _LP:
    def __init__(self, fireworks, launches):
        self.fireworks = _Coll(fireworks)
        self.launches = _Coll(launches)


STATES = ["COMPLETED", "READY", "FIZZLED", "COMPLETED", "WAITING", "COMPLETED", "RUNNING", "FIZZLED"]
FWS = [{"fw_id": i + 1, "name": f"fw{i + 1}", "state": s, "launches": [10 * (i + 1)] if s in ("COMPLETED", "FIZZLED") else []}
       for i, s in enumerate(STATES)]
LAUNCHES = [
    {"launch_id": 10, "fw_id": 1, "state": "COMPLETED", "runtime_secs": 2.0,
     "action": {"stored_data": {"computed": 3, "reused": 1, "calc_wall_s": 1.5}}},
    {"launch_id": 30, "fw_id": 3, "state": "FIZZLED",
     "action": {"stored_data": {"_exception": {"_stacktrace": "Traceback\n  ...\nValueError: boom"}}}},
    {"launch_id": 40, "fw_id": 4, "state": "COMPLETED", "runtime_secs": 1.0,
     "action": {"stored_data": {"status": "failed", "reason": "no convergence", "computed": 2}}},
    {"launch_id": 60, "fw_id": 6, "state": "COMPLETED", "runtime_secs": 4.0,
     "action": {"stored_data": {"status": "skipped", "reason": "too close", "reused": 5, "calc_wall_s": 0.5}}},
    {"launch_id": 80, "fw_id": 8, "state": "FIZZLED", "action": None},
]


def test_by_ids_filters_a_range_query():
    coll = _Coll(FWS)
    ids = [2, 5, 7]
    got = by_ids(coll, "fw_id", ids, {"state": 1})
    assert sorted(d["fw_id"] for d in got) == ids
    assert coll.queries == [{"fw_id": {"$gte": 2, "$lte": 7}}]
    assert by_ids(coll, "fw_id", [], {}) == []


def test_state_counts_vs_counter():
    lp = _LP(FWS, LAUNCHES)
    ids = [1, 2, 3, 4, 6, 8]
    expected = Counter(STATES[i - 1] for i in ids)
    assert state_counts(lp, ids) == dict(expected)


def test_problems_lists_fizzled_failed_and_skipped():
    lp = _LP(FWS, LAUNCHES)
    assert problems(lp, list(range(1, 9))) == sorted([
        ("fw3", "fizzled", "ValueError: boom"),
        ("fw4", "failed", "no convergence"),
        ("fw6", "skipped", "too close"),
        ("fw8", "fizzled", "unknown error"),
    ])
    assert problems(lp, [1, 2]) == []


def test_launch_stats_sums_completed_launches():
    lp = _LP(FWS, LAUNCHES)
    s = launch_stats(lp, [1, 4, 6, 8])
    assert s == {"computed": 5, "reused": 6, "calc_wall_s": 2.0, "runtime_s": 7.0, "launches": 3}
    s = launch_stats(lp, [1, 4, 6], after_launch_id=10)
    assert s["launches"] == 2 and s["runtime_s"] == 5.0 and s["computed"] == 2
