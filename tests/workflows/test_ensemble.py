"""Finite-temperature arrangement ensembles: Boltzmann weights from the relaxed hosts, the Li work
of the chosen classes added to the running workflow (lj-test: NOT physics, only the plumbing)."""

from __future__ import annotations

import math

import numpy as np
import pytest

K_B_EV_K = 8.617333262e-5  # CODATA 2018 Boltzmann constant, eV/K (independent of ase.units)

RELAX = {"fmax": 0.1, "steps": 200, "host_cell": False}


def _spec(wf, temperature_K=1000.0, **changes):
    return wf.spec(dopants=["B"], counts=[2], max_supercell=1, include_pure=False, sites={"nearest": 1},
                   hops="none", relax=RELAX, arrangements={"ensemble": {"max": 1, "temperature_K": temperature_K}},
                   **changes)


def test_plan_holds_every_class_and_no_li_work_yet(wf):
    from sianode.workflows.plan import plan_campaign

    plan = plan_campaign(_spec(wf))
    assert [h.arrangement_multiplicity for h in plan.hosts] == [16, 12]  # C(8, 2) = 28 in two classes
    assert all(not h.carries_li and not h.sites and h.arrangement_weight is None for h in plan.hosts)
    assert all(h.weight_source == "boltzmann T=1000 K" for h in plan.hosts)
    (group,) = plan.ensembles
    assert group.hosts == [h.name for h in plan.hosts]


def test_selection_weights_are_boltzmann_over_relaxed_hosts(store, wf):
    from sianode.workflows import stages
    from sianode.workflows.ensemble import run_ensemble_selection
    from sianode.workflows.plan import plan_campaign

    spec = _spec(wf)
    plan = plan_campaign(spec)
    calc = spec.calculator_spec()
    energies, g, keys = [], [], []
    for host in plan.hosts:
        out = stages.host_stage(store, calc, host=host.host_params(), labels=host.labels(spec.name),
                                relax=spec.relax.model_dump())
        doc = store.get(out.key)
        energies.append(doc["output"]["energy_eV"])
        g.append(host.arrangement_multiplicity)
        keys.append(out.key)
    selection, chosen = run_ensemble_selection(store, spec, plan.ensembles[0])
    # independent: w_c = g_c exp(-(E_c - E_min)/kT) / Z
    e = np.array(energies)
    w = np.array(g) * np.exp(-(e - e.min()) / (K_B_EV_K * 1000.0))
    w /= w.sum()
    got = [selection.weights[h.arrangement] for h in plan.hosts]
    np.testing.assert_allclose(got, w, rtol=1e-6)
    assert selection.chosen == [plan.hosts[int(np.argmax(w))].arrangement]
    assert selection.covered_weight == pytest.approx(w.max())
    (host,) = chosen.hosts
    assert host.carries_li and host.sites and host.arrangement_weight == pytest.approx(w.max())
    for key, weight in zip(keys, w):
        labels = store.get(key)["labels"]
        assert labels["arrangement_weight"] == pytest.approx(weight)
        assert labels["arrangement_weight_source"] == "boltzmann T=1000 K"


@pytest.mark.slow
def test_finite_temperature_campaign_adds_li_work_of_the_chosen_class(db_uri, store, tmp_path, wf):
    from sianode.workflows.run import run_campaign

    spec = _spec(wf, name="ens")
    summary = run_campaign(spec, db=db_uri, workers=1, launch_dir=tmp_path / "launch")
    assert summary.complete, summary.failed
    hosts = store.find({"labels.role": "host"})
    assert len(hosts) == 2 and all(math.isfinite(d["labels"]["arrangement_weight"]) for d in hosts)
    best = max(hosts, key=lambda d: d["labels"]["arrangement_weight"])
    insertions = store.find({"labels.role": "insertion"})
    assert insertions and {d["labels"]["host_key"] for d in insertions} == {best["key"]}
