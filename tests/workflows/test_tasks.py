"""FireTasks: one way down. Parents pass their result keys; a child reads its inputs once and
runs its one step (lj-test, NOT physics)."""

from __future__ import annotations

from collections import Counter

import pytest


@pytest.fixture
def spy(monkeypatch):
    """Counts ``steps.relax_step`` / ``steps.neb_step`` calls by the role they were asked for."""
    from sianode.workflows import steps

    calls: Counter[str] = Counter()
    real_relax, real_neb = steps.relax_step, steps.neb_step

    def relax_step(*args, labels=None, **kwargs):
        calls[(labels or {}).get("role") or "?"] += 1
        return real_relax(*args, labels=labels, **kwargs)

    def neb_step(*args, labels=None, **kwargs):
        calls["neb"] += 1
        return real_neb(*args, labels=labels, **kwargs)

    monkeypatch.setattr(steps, "relax_step", relax_step)
    monkeypatch.setattr(steps, "neb_step", neb_step)
    return calls


def _tiny(wf):
    from sianode.workflows.plan import plan_campaign

    spec = wf.spec(dopants=["B"], counts=[1])
    (host,) = plan_campaign(spec).hosts
    return spec, host


def _task_kwargs(spec, host):
    return dict(calculator=spec.calculator_spec().as_dict(), host=host.host_params(), labels=host.labels(spec.name),
                relax=spec.relax.model_dump())


def test_insertion_with_its_parents_keys_runs_one_step(db_uri, store, spy, wf):
    from sianode.workflows import stages
    from sianode.workflows.tasks import SPEC_KEYS, HostTask, InsertionTask, LatticeTask

    spec, host = _tiny(wf)
    env = {"_fw_env": {"sianode_db": db_uri}}
    lattice = LatticeTask(calculator=spec.calculator_spec().as_dict(), relax=spec.relax.model_dump(),
                          campaign=spec.name).run_task(env)
    ((lattice_set,),) = [list(m["_set"].items()) for m in lattice.mod_spec]
    assert lattice_set == (f"{SPEC_KEYS}->lattice", lattice.stored_data["key"])
    host_action = HostTask(**_task_kwargs(spec, host)).run_task({**env, SPEC_KEYS: {"lattice": lattice_set[1]}})
    assert spy == {"lattice": 1, "host": 1}  # the host read the lattice by its key: no lattice step
    host_key = host_action.stored_data["key"]
    assert host_action.mod_spec == [{"_set": {f"{SPEC_KEYS}->host": host_key}}]

    spy.clear()
    site = host.sites[0].as_dict()
    action = InsertionTask(site=site, **_task_kwargs(spec, host)).run_task({**env, SPEC_KEYS: {"host": host_key}})
    assert action.stored_data["status"] == "completed" and spy == {"insertion": 1}  # no lattice, no host step
    key = action.stored_data["key"]
    assert action.mod_spec == [{"_set": {f"{SPEC_KEYS}->insertions->{site['label']}": key}}]
    assert store.get(key)["labels"]["host_key"] == host_key

    # a Firework queued before keys were passed: re-walks lattice -> host through the store (nothing recomputed)
    spy.clear()
    old = InsertionTask(site=site, **_task_kwargs(spec, host)).run_task(env)
    assert old.stored_data["key"] == key and old.stored_data["computed"] == 0
    assert spy == {"lattice": 1, "host": 1, "insertion": 1}
    assert stages.ParentKeys.from_dict(None) == stages.ParentKeys()


def test_hop_with_its_parents_keys_relaxes_nothing(db_uri, store, spy, wf):
    from sianode.workflows import stages
    from sianode.workflows.tasks import SPEC_KEYS, HopTask

    spec, host = _tiny(wf)
    kw = dict(host=host.host_params(), labels=host.labels(spec.name), relax=spec.relax.model_dump())
    calc = spec.calculator_spec()
    host_key = stages.host_stage(store, calc, **kw).key
    hop = host.hops[0]
    t_sites = stages._ideal_t_sites(host.host_params())[1]
    inserted = {label: stages.insertion_stage(store, calc, site=t_sites[label], **kw).key
                for label in {hop.start_site, hop.end_site}}
    spy.clear()
    fw_spec = {"_fw_env": {"sianode_db": db_uri}, SPEC_KEYS: {"host": host_key, "insertions": inserted}}
    action = HopTask(hop=hop.as_dict(), neb=spec.neb.model_dump(), **_task_kwargs(spec, host)).run_task(fw_spec)
    assert action.stored_data["status"] == "completed", action.stored_data["reason"]
    assert spy == {"neb": 1}  # the end points were read by their keys
    doc = store.get(action.stored_data["key"])
    assert doc["labels"]["host_key"] == host_key
    assert {doc["labels"]["start_key"], doc["labels"]["end_key"]} == set(inserted.values())


def test_keys_reach_the_children_through_fireworks(db_uri, store, spy, wf, tmp_path, monkeypatch):
    """A whole tiny campaign in this process: every child gets its parents' keys and each
    calculation is asked for exactly once (by its own Firework)."""
    from fireworks import FWorker
    from fireworks.core.rocket_launcher import rapidfire

    from sianode.workflows.flows import build_workflow
    from sianode.workflows.run import campaign_launchpad
    from sianode.workflows.tasks import SPEC_KEYS

    spec, host = _tiny(wf)
    lp, _ = campaign_launchpad(db_uri)
    try:
        lp.add_wf(build_workflow(spec))
        monkeypatch.chdir(tmp_path)
        rapidfire(lp, FWorker(env={"sianode_db": db_uri}), nlaunches=0, strm_lvl="ERROR")
        fws = list(lp.fireworks.find({}, {"spec": 1, "state": 1}))
    finally:
        lp.connection.close()
    assert {fw["state"] for fw in fws} == {"COMPLETED"}
    (host_doc,) = store.find({"labels.role": "host"})
    for fw in fws:
        stage, keys = fw["spec"]["_sianode_stage"], fw["spec"].get(SPEC_KEYS) or {}
        if stage == "host":
            assert keys["lattice"] == host_doc["labels"]["lattice_key"]
        if stage in ("insertion", "hop"):
            assert keys["host"] == host_doc["key"]
    assert spy["lattice"] == spy["host"] == 1
    # an end class outside ``sites: {nearest: 1}`` has no insertion Firework: its hop asks for it itself
    inserted = {s.label for s in host.sites}
    not_inserted = sum(len({h.start_site, h.end_site} - inserted) for h in host.hops)
    assert spy["insertion"] == len(inserted) + not_inserted and spy["neb"] == len(host.hops)


def test_an_analysis_firework_of_an_earlier_release_still_loads_and_does_nothing(store):
    from fireworks import Firework

    old = {"spec": {"_tasks": [{"_fw_name": "{{sianode.workflows.tasks.AnalysisTask}}", "campaign": "c"}],
                    "_sianode_stage": "analysis", "_allow_fizzled_parents": True},
           "fw_id": 7, "name": "c:analysis", "state": "WAITING"}
    fw = Firework.from_dict(old)
    n = store.count()
    action = fw.tasks[0].run_task({})
    assert action.stored_data["status"] == "skipped" and action.stored_data["computed"] == 0
    assert store.count() == n  # nothing stored, nothing read


def test_worker_device_reaches_ml_calculators(monkeypatch):
    """A GPU worker's device (FWorker env, else $SIANODE_DEVICE) replaces ``device: auto``;
    an explicit campaign device stays; the content identity does not change."""
    from sianode.calculators import CalculatorSpec
    from sianode.workflows.tasks import task_calculator

    monkeypatch.delenv("SIANODE_DEVICE", raising=False)
    auto = {"calculator": CalculatorSpec("sevennet").as_dict()}
    plain = task_calculator(auto, {})
    on_gpu = task_calculator(auto, {"_fw_env": {"sianode_device": "cuda"}})
    assert plain.parameters["device"] == "auto" and on_gpu.parameters["device"] == "cuda"
    assert on_gpu.identity() == plain.identity()
    monkeypatch.setenv("SIANODE_DEVICE", "cpu")
    assert task_calculator(auto, {}).parameters["device"] == "cpu"
    explicit = {"calculator": CalculatorSpec("sevennet", {"device": "cpu"}).as_dict()}
    assert task_calculator(explicit, {"_fw_env": {"sianode_device": "cuda"}}).parameters["device"] == "cpu"
    lj = task_calculator({"calculator": CalculatorSpec("lj-test").as_dict()}, {"_fw_env": {"sianode_device": "cuda"}})
    assert "device" not in lj.parameters
