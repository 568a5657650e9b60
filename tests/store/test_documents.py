"""Typed result documents: today's documents parse to their model and round-trip exactly."""

from __future__ import annotations

import copy

import pytest
from bson import ObjectId

from sianode.errors import InputError
from sianode.store import documents as D
from sianode.store.hashing import derived_key
from tests.store.legacy_docs import IDENTITY, campaign_docs, insert_all, legacy_spellings

EXPECTED = {
    "reference": D.ReferenceDocument, "lattice": D.LatticeDocument, "host": D.HostDocument,
    "insertion": D.InsertionDocument, "hop_end": D.HopEndDocument, "neb": D.HopDocument,
    "neb_failed": D.HopDocument, "insertion_failed": D.InsertionDocument, "running": D.InsertionDocument,
    "derived_e_ins": D.DerivedDocument, "derived_barrier": D.DerivedDocument,
    "relax_legacy": D.InsertionDocument, "reference_legacy": D.ReferenceDocument, "neb_legacy": D.HopDocument,
}


def test_version1_documents_parse_to_their_model_and_round_trip():
    docs = {**campaign_docs(), **legacy_spellings()}
    docs["neb"]["files"] = {"positions_A": ObjectId()}
    assert set(docs) == set(EXPECTED)
    for name, doc in docs.items():
        before = copy.deepcopy(doc)
        model = D.parse_document(doc)
        assert type(model) is EXPECTED[name], name
        assert model.schema_version == 1
        assert model.to_document() == before, name
        assert doc == before  # parsing does not touch the dict


def test_round_trip_through_the_database(store):
    docs = campaign_docs()
    insert_all(store, docs)
    for stored in store.find():
        assert D.parse_document(stored).to_document() == stored


def test_typed_fields_read_the_one_spelling():
    docs = campaign_docs()
    ref = D.parse_document(docs["reference"])
    assert ref.output.mu_Li_eV == docs["reference"]["output"]["mu_Li_eV"]
    assert ref.output.a_A == pytest.approx(3.43)
    assert ref.calculator.identity().model_dump() == IDENTITY
    neb = D.parse_document(docs["neb"])
    assert neb.labels.hop_multiplicity == 4 and neb.labels.unordered is None
    assert neb.output.energies_eV[0] == -38.2 and neb.input.parameters["band"] == "DyNEB"
    assert neb.input.structures[0].symbols[-1] == "Li"
    ins = D.parse_document(docs["insertion"])
    assert ins.labels.site == "T1" and ins.labels.also[0]["role"] == "hop_end"
    assert ins.output.fmax_eV_A == 0.03 and ins.output.structure.cell[0][0] == pytest.approx(5.431)
    failed = D.parse_document(docs["neb_failed"])
    assert failed.status == "failed" and failed.output is None and "not_converged" in failed.reason
    running = D.parse_document(docs["running"])
    assert running.lease.owner.startswith("node1:")


def test_version2_document_with_a_legacy_spelling_is_refused():
    doc = {**campaign_docs()["reference"], "schema_version": 2}
    with pytest.raises(InputError, match=r"legacy field\(s\) \['lattice_constant_A', 'mu_li_eV'\]"):
        D.parse_document(doc)
    for name in ("mu_li_eV", "lattice_constant_A"):
        del doc["output"][name]
    assert D.parse_document(doc).schema_version == 2


def test_document_that_does_not_fit_names_key_and_field():
    doc = campaign_docs()["neb"]
    doc["output"]["status"] = "sort of"
    with pytest.raises(InputError, match=r"does not fit HopDocument: output.status"):
        D.parse_document(doc)
    doc = campaign_docs()["derived_barrier"]
    del doc["sources"]
    with pytest.raises(InputError, match="sources"):
        D.parse_document(doc)


def test_unknown_kind_falls_back_to_the_envelope():
    doc = {"_id": "k", "key": "k", "kind": "phonons", "status": "completed", "output": {"omega_THz": [1.0]}}
    model = D.parse_document(doc)
    assert type(model) is D.ResultDocument and model.to_document() == doc


def test_alias_document():
    alias = D.AliasDocument(_id="a", key="a", superseded_by="b", alias_of={"kind": "neb", "role": "hop"})
    doc = alias.model_dump(by_alias=True)
    assert doc["kind"] == "alias" and doc["status"] == "superseded" and doc["schema_version"] == 2
    assert D.parse_document(doc).superseded_by == "b"


def test_calculator_identity_of_a_provenance_record_is_the_spec_identity():
    from sianode.calculators import get_calculator

    spec = get_calculator("lj-test")
    assert D.calculator_identity(spec.provenance()) == spec.identity()
    assert D.calculator_identity(IDENTITY) == IDENTITY


def test_derived_key_is_the_key_derived_documents_were_stored_under():
    for name in ("derived_e_ins", "derived_barrier"):
        doc = campaign_docs()[name]
        assert derived_key(doc["calculator"], doc["labels"]["role"], doc["sources"]) == doc["_id"]


def test_every_quantity_with_a_unit_has_a_description():
    for model in (D.RelaxOutput, D.NEBOutput, D.ReferenceOutput, D.DerivedOutput, D.Structure, D.Timings):
        for name, info in model.model_fields.items():
            if name.endswith(("_eV", "_A", "_eV_A", "_eV_A3", "_s", "_Hz")) or name in ("positions", "cell"):
                assert info.description, f"{model.__name__}.{name} has no description"


def test_todays_writers_documents_parse(store):
    """Completed and failed documents of the store-backed steps (cheap lj-test and a failing double)."""
    from sianode.calculators import get_calculator
    from sianode.structures import insert_li, pure_supercell
    from sianode.workflows.steps import relax_step
    from tests.doubles import FailingCalculator

    atoms = insert_li(pure_supercell(1), [0.5, 0.5, 0.5])
    done = relax_step(store, atoms, get_calculator("lj-test"), fmax=0.2, steps=100, labels={"role": "insertion"})
    model = D.parse_document(store.get(done["_id"]))
    assert type(model) is D.InsertionDocument and model.status == "completed"
    assert model.output.energy_eV == done["output"]["energy_eV"]
    assert model.to_document() == store.get(done["_id"])
    for mode in ("nan", "raise"):
        failed = relax_step(store, atoms, FailingCalculator(mode), fmax=0.2, steps=5, labels={"role": "insertion"})
        model = D.parse_document(store.get(failed["_id"]))
        assert model.status == "failed" and model.output is None and model.reason
