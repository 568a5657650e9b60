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


def test_derived_documents_are_built_through_their_model(store, campaign):
    from sianode.store import parse_document
    from sianode.store.documents import SCHEMA_VERSION, DerivedDocument
    from sianode.store.hashing import derived_key

    for doc in store_derived(store, campaign="c1"):
        stored = store.get(doc["key"])
        assert stored["schema_version"] == SCHEMA_VERSION
        assert isinstance(parse_document(stored), DerivedDocument)
        assert stored["key"] == derived_key(stored["calculator"], stored["labels"]["role"], stored["sources"])


def test_atomistic_inputs(store, campaign):
    """The fixture's NEBs are ordered hops without h_site: no hop network, so no D, and it says why."""
    b = atomistic_inputs(store, "B", 1.5625)
    assert "diffusivity_ratio" not in b and "H1: no NEB" in b["missing"] and "incomplete" in b["reason"]
    assert b["lattice_constant_A"]["value"] == pytest.approx(5.41)
    assert b["lattice_constant_A"]["source"] == campaign["B"]["key"]
    assert "omega_m3_mol" not in b
    assert atomistic_inputs(store, "S", 1.5625) == {}


def test_atomistic_inputs_needs_percent_when_ambiguous(store, build):
    build.host("B", 1.5625, -1.0)
    build.host("B", 3.125, -1.0)
    with pytest.raises(InputError, match="1.5625, 3.125 atom %"):
        atomistic_inputs(store, "B", None)


def test_continuum_uses_it(db_uri, campaign):
    """No network, no D: one line naming the missing classes (tests/analysis/test_network.py has the numbers)."""
    from sianode.analysis.persist import parameters_from_store

    with pytest.raises(InputError, match="no diffusivity for B 1.5625 %: the hop network .* is incomplete"):
        parameters_from_store(db_uri, "B", 1.5625)
    params = parameters_from_store(db_uri, "B", 1.5625, {"diffusivity": 1e-17})
    assert params.diffusivity_m2_s.value == 1e-17
