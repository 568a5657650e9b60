from __future__ import annotations

import pytest

from sianode.analysis import atomistic_inputs, store_derived
from sianode.errors import InputError


def test_store_derived_is_idempotent(store, campaign):
    first = store_derived(store, campaign="c1")
    roles = sorted(d["labels"]["role"] for d in first)
    # 4 completed insertion energies (pure, B x2, P x1), 3 completed barriers
    assert roles == ["barrier"] * 3 + ["insertion_energy"] * 4
    n = store.count({"kind": "derived"})
    assert n == 7
    second = store_derived(store, campaign="c1")
    assert store.count({"kind": "derived"}) == n
    assert sorted(d["key"] for d in first) == sorted(d["key"] for d in second)
    b1 = next(d for d in first if d["labels"].get("site") == "T1" and d["labels"]["dopant"] == "B")
    assert b1["output"]["e_ins_eV"] == pytest.approx(-0.30)
    assert b1["sources"] == [campaign["B_T1"]["key"], campaign["B"]["key"], campaign["ref"]["key"]]
    assert b1["labels"]["campaigns"] == ["c1"]


def test_atomistic_inputs(store, campaign):
    b = atomistic_inputs(store, "B", 1.5625)
    assert b["barrier_eV"]["value"] == pytest.approx(0.5)
    assert b["barrier_eV"]["source"] == campaign["B_near"]["key"]
    assert b["lattice_constant_A"]["value"] == pytest.approx(5.41)
    assert b["lattice_constant_A"]["source"] == campaign["B"]["key"]
    assert "omega_m3_mol" not in b
    pure = atomistic_inputs(store, "Si", None)
    assert pure["barrier_eV"]["value"] == pytest.approx(0.6)
    p = atomistic_inputs(store, "P", 1.5625)  # its only hop failed: no barrier, still a lattice
    assert "barrier_eV" not in p and "lattice_constant_A" in p
    assert atomistic_inputs(store, "S", 1.5625) == {}
    assert atomistic_inputs(store, "B", None)["barrier_eV"]["value"] == pytest.approx(0.5)


def test_atomistic_inputs_needs_percent_when_ambiguous(store, build):
    build.host("B", 1.5625, -1.0)
    build.host("B", 3.125, -1.0)
    with pytest.raises(InputError, match="1.5625, 3.125 atom %"):
        atomistic_inputs(store, "B", None)


def test_continuum_uses_it(db_uri, campaign):
    from sianode.continuum.parameters import parameters_from_store

    params = parameters_from_store(db_uri, "B", 1.5625)
    assert "dE_a = 0.500 - " in params.diffusivity_m2_s.source  # barrier shift vs the pure-Si hop
    assert campaign["B_near"]["key"] in params.diffusivity_m2_s.source
