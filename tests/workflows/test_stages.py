"""Campaign stages: cell-relaxed hosts (``relax.host_cell``) and their content keys.

lj-test is NOT physics: these tests check which calculation runs with which key, and
that a dopant the pair potential sizes differently from Si changes the relaxed cell.
"""

from __future__ import annotations

import numpy as np
import pytest

RELAX = {"fmax": 0.1, "steps": 300}
HOST = {"dopant": "B", "supercell": 1, "dopant_indices": [0]}
LABELS = {"campaign": "c", "role": "host", "dopant": "B", "percent": 12.5}
SITE = {"label": "T1", "frac": [0.5, 0.5, 0.5], "multiplicity": 4, "distance_to_dopant_A": 2.0}


@pytest.fixture
def calc():
    from sianode.calculators import get_calculator

    return get_calculator("lj-test")


def test_host_cell_relaxes_the_host_cell(store, call_log, calc, wf):
    from sianode.workflows import stages
    from sianode.workflows.plan import build_host
    from sianode.workflows.steps import relax_key, relaxed_atoms

    fixed = stages.host_stage(store, calc, host=HOST, labels=LABELS, relax={**RELAX, "host_cell": False})
    free = stages.host_stage(store, calc, host=HOST, labels=LABELS, relax={**RELAX, "host_cell": True})
    assert fixed.status == free.status == "completed"
    assert fixed.keys["lattice"] == free.keys["lattice"]  # one lattice stage for both
    assert fixed.keys["host"] != free.keys["host"]  # the cell flag is part of the content key

    a = store.get(free.keys["host"])["labels"]["lattice_constant_A"]
    ideal = build_host(HOST, a)
    free_doc, fixed_doc = store.get(free.keys["host"]), store.get(fixed.keys["host"])
    assert free_doc["input"]["parameters"]["cell"] is True and free_doc["output"]["cell_relaxed"] is True
    assert free_doc["labels"]["host_cell"] is True and "host_cell" not in fixed_doc["labels"]
    # the fixed-cell host keeps the ideal cell; B (smaller than Si in lj-test) changes the free one
    np.testing.assert_allclose(relaxed_atoms(store, fixed_doc).cell[:], ideal.cell[:], atol=1e-8)
    free_cell = relaxed_atoms(store, free_doc).cell
    assert abs(free_cell.volume - ideal.cell.volume) > 1e-3 * ideal.cell.volume

    # host_cell false (or absent, as in Fireworks written before the key) = the keys of before
    assert fixed.keys["host"] == relax_key(ideal, calc, fmax=RELAX["fmax"], steps=RELAX["steps"], cell=False)
    assert free.keys["host"] == relax_key(ideal, calc, fmax=RELAX["fmax"], steps=RELAX["steps"], cell=True)
    n = len(wf.calls(call_log))
    absent = stages.host_stage(store, calc, host=HOST, labels=LABELS, relax=RELAX)
    assert absent.keys["host"] == fixed.keys["host"] and len(wf.calls(call_log)) == n


def test_insertion_uses_the_relaxed_host_cell_fixed(store, calc):
    from sianode.workflows import stages
    from sianode.workflows.steps import relaxed_atoms

    relax = {**RELAX, "host_cell": True}
    out = stages.insertion_stage(store, calc, host=HOST, labels=LABELS, site=SITE, relax=relax)
    assert out.status == "completed"
    doc, host_doc = store.get(out.key), store.get(out.keys["host"])
    assert doc["labels"]["host_key"] == host_doc["key"] and doc["labels"]["site_kind"] == "T"
    assert doc["input"]["parameters"]["cell"] is False
    np.testing.assert_allclose(relaxed_atoms(store, doc).cell[:], relaxed_atoms(store, host_doc).cell[:], atol=1e-8)
    h = stages.insertion_stage(store, calc, host=HOST, labels=LABELS, relax=relax,
                               site={**SITE, "label": "H1", "frac": [0.625, 0.625, 0.625], "kind": "H"})
    assert store.get(h.key)["labels"]["site_kind"] == "H"


def test_spec_host_cell_default_and_hash(wf):
    import hashlib
    import json

    spec = wf.spec(relax=RELAX)  # host_cell not given: true
    assert spec.relax.host_cell is True
    old = wf.spec(relax={**RELAX, "host_cell": False})
    assert old.relax.host_cell is False and old.spec_hash() != wf.spec(relax=RELAX).spec_hash()
    # host_cell false hashes as a spec written before the key existed
    data = old.as_dict()
    data.pop("threads")
    data.pop("fireworks")  # how the work is cut into Fireworks: not hashed either
    data["relax"].pop("host_cell")
    expected = hashlib.sha256(json.dumps(data, sort_keys=True, separators=(",", ":")).encode()).hexdigest()
    assert old.spec_hash() == expected


def test_workflow_passes_host_cell(wf):
    from sianode.workflows.flows import build_workflow

    workflow = build_workflow(wf.spec(sites={"nearest": 1}, hops="none", counts=[1], dopants=["B"], relax=RELAX))
    relax = [fw.tasks[0]["relax"] for fw in workflow.fws if "relax" in fw.tasks[0]]
    assert relax and all(r["host_cell"] is True for r in relax)


def test_plan_host_matches_the_campaign_plan(wf):
    from sianode.workflows.plan import plan_campaign, plan_host

    spec = wf.spec(dopants=["Ge"], counts=[2], max_supercell=1, include_pure=True, sites="all",
                   hops=["near", {"within": 3.0}])
    plan = plan_campaign(spec)
    for host in plan.hosts:
        one = plan_host(host.dopant, len(host.dopant_indices), host.supercell, hops=spec.hop_selections,
                        arrangements=spec.as_dict().get("arrangements") or "dispersed")
        assert one.name == host.name and one.dopant_indices == host.dopant_indices
        assert [s.as_dict() for s in one.sites] == [s.as_dict() for s in host.sites]
        assert [h.as_dict() for h in one.hops] == [h.as_dict() for h in host.hops]
        assert one.labels("c") == {**host.labels("c"), "requested_percent": one.labels("c")["requested_percent"]}
