"""``fireworks: host``: one Firework per host runs its insertions and hops in turn.

Checked against the one-Firework-per-calculation campaign on the same spec (lj-test, NOT
physics): the same calculations with the same content keys, and fewer Fireworks.
"""

from __future__ import annotations

import uuid

import pytest


def _keys(uri: str) -> dict[str, str]:
    """content key -> status of every calculation in the database at ``uri``."""
    from sianode.store import open_store

    store = open_store(uri)
    try:
        return {d["_id"]: d["status"] for d in store.coll.find({}, {"status": 1})}
    finally:
        store.db.client.close()


def test_host_fireworks_compute_exactly_the_per_calculation_keys(wf, db_server, tmp_path, monkeypatch):
    from sianode.workflows.run import run_campaign

    monkeypatch.setenv("SIANODE_HOME", str(tmp_path / "home"))
    runs = {}
    for granularity in ("calculation", "host"):
        uri = f"mongodb://{db_server.host}:{db_server.port}/hw_{uuid.uuid4().hex[:10]}?directConnection=true"
        spec = wf.spec(fireworks=granularity)
        summary = run_campaign(spec, db=uri, workers=1, launch_dir=tmp_path / granularity, poll_s=0.2)
        assert summary.complete, summary.failed
        runs[granularity] = (summary, _keys(uri))
    (calc_summary, calc_keys), (host_summary, host_keys) = runs["calculation"], runs["host"]
    assert host_keys == calc_keys and len(host_keys) > 0
    assert host_summary.computed == calc_summary.computed
    assert sum(host_summary.states.values()) < sum(calc_summary.states.values())  # fewer Fireworks
    # the same failures, each named by the host Firework and its part
    assert sorted(r for _, r in host_summary.failed) == sorted(r for _, r in calc_summary.failed)


def test_host_layout_builds_one_firework_per_host(wf):
    from sianode.workflows.flows import AUTO_HOST_FIREWORKS, build_workflows, firework_granularity
    from sianode.workflows.plan import plan_campaign

    spec = wf.spec(fireworks="host")
    plan = plan_campaign(spec)
    workflows = build_workflows(spec, plan)
    hosts = [w for w in workflows if w.metadata["sianode_part"] not in ("reference", "lattice")]
    assert len(hosts) == len(plan.hosts) and all(len(w.fws) == 1 for w in hosts)
    for w, host in zip(hosts, plan.hosts):
        (task,) = w.fws[0].tasks
        assert type(task).__name__ == "HostWorkTask" and w.metadata["fireworks"] == "host"
        assert [s["label"] for s in task["sites"]] == [s.label for s in host.sites]
        assert [h["label"] for h in task["hops"]] == [h.label for h in host.hops]
    assert len(plan.hosts) < AUTO_HOST_FIREWORKS and firework_granularity(wf.spec(), plan) == "calculation"
    assert wf.spec(fireworks="host").spec_hash() == wf.spec().spec_hash()  # not what is computed


def test_failed_parts_are_listed_and_the_rest_goes_on(store, monkeypatch):
    from sianode.calculators import get_calculator
    from sianode.workflows import stages
    from sianode.workflows.plan import plan_host

    plan = plan_host("B", 1, 1, hops=("all",))
    assert len(plan.sites) >= 2 and plan.hops
    real = stages.insertion_stage
    broken = plan.sites[0].label

    def insertion_stage(*args, site, **kwargs):
        if site["label"] == broken:
            return stages.StageOutcome(stages.FAILED_, None, "forced failure")
        return real(*args, site=site, **kwargs)

    monkeypatch.setattr(stages, "insertion_stage", insertion_stage)
    relax = {"fmax": 0.1, "steps": 200, "host_cell": False}
    out = stages.host_work_stage(store, get_calculator("lj-test"), host=plan.host_params(), labels=plan.labels("c"),
                                 sites=[s.as_dict() for s in plan.sites], hops=[h.as_dict() for h in plan.hops],
                                 relax=relax, neb={"n_images": 3, "fmax": 0.2, "steps": 200})
    data = out.as_dict()
    assert out.status == "failed" and data["problems"][0] == [f"insertion:{broken}", "failed", "forced failure"]
    assert "1 of" in out.reason or f"of {1 + len(plan.sites) + len(plan.hops)} parts" in out.reason
    # the other insertions and the hops still ran (a hop computes a missing end insertion itself)
    assert all(f"insertion:{s.label}" in out.keys for s in plan.sites[1:])
    ran = {k for k in out.keys if k.startswith("hop:")} | {p[0] for p in data["problems"] if p[0].startswith("hop:")}
    assert ran == {f"hop:{h.label}" for h in plan.hops}
    assert data["computed"] == out.stats.computed > 0
