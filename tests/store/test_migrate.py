"""``sianode db migrate`` on a database written with sianode 0.1's document shapes."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from bson import ObjectId

from sianode.store import documents as D
from sianode.store.hashing import derived_key
from sianode.store.migrate import migrate, upgrade_document
from tests.store.legacy_docs import IDENTITY, campaign_docs, insert_all, legacy_spellings


@pytest.fixture
def v1(store) -> dict[str, dict[str, Any]]:
    docs = {**campaign_docs(), **legacy_spellings()}
    docs["neb"]["files"] = {"positions_A": ObjectId()}
    insert_all(store, docs)
    return docs


def _readings(store, keymap: dict[str, str] | None = None) -> dict[str, Any]:
    """What the analysis readers and the typed models read, keys mapped back to the old ones
    (typed: the documents of today's spellings; the others read their canonical names only
    after the migration)."""
    from sianode.analysis import derive

    back = {new: old for old, new in (keymap or {}).items()}

    def unkey(value: Any) -> Any:
        if isinstance(value, str):
            value = back.get(value, value)
            for new, old in back.items():  # short keys in messages
                value = value.replace(new[:12], old[:12])
            return value
        if isinstance(value, list):
            return [unkey(v) for v in value]
        if isinstance(value, dict):
            return {k: unkey(v) for k, v in value.items()}
        return value

    refs = {t: derive.mu_li_eV(d) for t, d in derive.li_references(store).items()}
    typed = {}
    legacy = {d["_id"] for d in legacy_spellings().values()}
    for doc in store.find({"kind": {"$ne": D.ALIAS}}):
        if unkey(doc["_id"]) in legacy:
            continue
        model = D.parse_document(doc)
        out = getattr(model, "output", None)
        typed[unkey(doc["_id"])] = {
            "status": model.status,
            "energy_eV": getattr(out, "energy_eV", None), "mu_Li_eV": getattr(out, "mu_Li_eV", None),
            "a_A": getattr(out, "a_A", None), "energies_eV": getattr(out, "energies_eV", None),
            "fmax_eV_A": getattr(out, "fmax_eV_A", None),
            "structure": out.structure.to_document() if getattr(out, "structure", None) else None,
        }
    def by_key(rows: Any) -> list[dict[str, Any]]:
        return sorted((unkey(r.as_dict() if hasattr(r, "as_dict") else r) for r in rows), key=lambda r: r["key"])

    return {
        "e_ins": by_key(derive.insertion_energies(store, require_reference=False)),
        "barriers": by_key(derive.barriers(store)),
        "hosts": by_key(derive.host_lattices(store)),
        "mu": sorted(refs.values()),
        "typed": typed,
    }


#: the other names sianode 0.1's readers accepted for a quantity (derive.mu_li_eV, docs.final_structure,
#: steps.relaxed_atoms, hops.profile_energies, hops.barrier), frozen here: today's readers read one
#: spelling only, so a version-1 database reads through ``sianode db migrate``
V1_READERS = {"output": {"mu_li_eV": "mu_Li_eV", "final_fmax": "fmax_eV_A", "final_structure": "structure",
                         "energies": "energies_eV"},
              "labels": {"multiplicity": "hop_multiplicity"}}


def _v1_readings(store, docs: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """What 0.1's readers read from ``docs``: the readings of a twin database holding the documents
    with each quantity under the name today's readers read (the value 0.1's readers took first)."""
    from sianode.store import ResultStore

    twin = ResultStore(store.db.client[f"{store.db.name}_v1"], ensure_indexes=False)
    try:
        for doc in docs.values():
            doc = copy.deepcopy(doc)
            for part, names in V1_READERS.items():
                block = doc.get(part) or {}
                for legacy, canonical in names.items():
                    if legacy in block:
                        block[canonical] = block.pop(legacy)
            twin.coll.insert_one(doc)
        return _readings(twin)
    finally:
        store.db.client.drop_database(twin.db.name)


def test_readers_read_one_spelling_only(store, v1):
    """Before the migration a 0.1 reference that has only ``mu_li_eV`` gives no mu_Li; after, it does."""
    from sianode.analysis import derive

    legacy = v1["reference_legacy"]
    assert derive.mu_li_eV(store.get(legacy["_id"])) is None
    migrate(store)
    assert derive.mu_li_eV(store.get(legacy["_id"])) == -1.8


def test_migrate_reads_identically_and_a_second_run_changes_nothing(store, v1):
    before_docs = {d["_id"]: d for d in store.find()}
    before = _v1_readings(store, v1)
    report = migrate(store)
    assert report.examined == len(v1) and report.created == 0 and not report.rekeyed
    assert report.skipped == {"running": 1}
    assert report.changed == len(v1) - 1
    assert report.reasons["schema_version"] == len(v1) - 1
    assert report.reasons["unordered"] == 3
    assert report.reasons["output.mu_li_eV"] == 2 and report.reasons["output.lattice_constant_A"] == 2
    assert _readings(store) == before
    assert store.count() == len(v1)

    again = migrate(store)
    assert (again.changed, again.created, again.reasons) == (0, 0, {})
    assert {d["_id"]: d for d in store.find()} == {d["_id"]: d for d in store.find()}

    after = {d["_id"]: d for d in store.find()}
    assert after[v1["running"]["_id"]] == before_docs[v1["running"]["_id"]]  # running: left alone
    for key, doc in after.items():
        if doc["status"] != "running":
            assert doc["schema_version"] == 2
            D.parse_document(doc)  # version 2: no legacy spelling left
    ref = after[v1["reference"]["_id"]]["output"]
    assert "mu_li_eV" not in ref and "lattice_constant_A" not in ref and ref["mu_Li_eV"] == -1.9
    assert after[v1["neb"]["_id"]]["labels"]["unordered"] is False
    assert after[v1["neb"]["_id"]]["files"] == v1["neb"]["files"]


def test_no_number_is_lost_or_changed(store, v1):
    migrate(store)
    for name, old in v1.items():
        new = store.get(old["_id"])
        names = D.LEGACY_OUTPUT_NAMES.get(old["kind"], {})
        legacy = (new.get("migration") or {}).get("legacy", {}).get("output", {})
        for field, value in (old.get("output") or {}).items():
            canonical = names.get(field, field)
            assert new["output"][canonical] == value or legacy.get(field) == value, (name, field)
        assert {k: v for k, v in new.items() if k not in ("output", "labels", "schema_version", "migration")} == \
            {k: v for k, v in old.items() if k not in ("output", "labels")}, name


def test_legacy_spellings_become_the_canonical_ones(store, v1):
    report = migrate(store)
    relax = store.get(v1["relax_legacy"]["_id"])
    assert relax["output"]["fmax_eV_A"] == 0.03 and "final_fmax" not in relax["output"]
    assert relax["output"]["structure"] == v1["relax_legacy"]["output"]["final_structure"]
    neb = store.get(v1["neb_legacy"]["_id"])
    assert neb["output"]["energies_eV"] == [0.0, 0.4, 0.1] and neb["labels"]["hop_multiplicity"] == 4
    ref = store.get(v1["reference_legacy"]["_id"])
    assert ref["output"]["mu_Li_eV"] == -1.8  # from mu_li_eV
    assert ref["output"]["a_A"] == 3.43 and ref["migration"]["legacy"]["output"]["lattice_constant_A"] == 3.5
    assert report.reasons["output.final_structure"] == 1 and report.reasons["labels.multiplicity"] == 1


def test_dry_run_writes_nothing_and_counts_the_same(store, v1):
    before = {d["_id"]: d for d in store.find()}
    dry = migrate(store, dry_run=True)
    assert {d["_id"]: d for d in store.find()} == before
    real = migrate(store)
    assert dry.dry_run and dry.as_dict() | {"dry_run": False} == real.as_dict()


def _synthetic(kind: str, parameters: dict[str, Any]) -> dict[str, Any]:
    """A key definition change: every operation gains a parameter."""
    return {**parameters, "synthetic": 1}


def test_rekey_moves_documents_and_leaves_aliases(store, v1):
    before = _v1_readings(store, v1)
    n = store.count()
    report = migrate(store, upgrade_parameters=_synthetic)
    moved = report.rekeyed
    calc = [k for k in ("reference", "lattice", "host", "insertion", "hop_end", "neb", "neb_failed",
                        "insertion_failed", "relax_legacy", "neb_legacy")]
    assert {v1[k]["_id"] for k in calc + ["derived_e_ins", "derived_barrier"]} == set(moved)
    assert report.skipped == {"running": 1, "key_not_reproduced": 1}  # the reference with a made-up key
    assert report.created == len(moved) and store.count() == n + len(moved)
    assert _readings(store, moved) == before

    for old, new in moved.items():
        alias = store.coll.find_one({"_id": old})
        assert alias["kind"] == "alias" and alias["superseded_by"] == new and "original" not in alias
        doc = store.get(new)
        assert doc["previous_keys"] == [old] and doc["migration"]["rekeyed_from"] == old
        assert D.parse_document(doc).to_document() == doc and doc["schema_version"] == 2
        if doc["kind"] != "derived":
            assert doc["input"]["parameters"]["synthetic"] == 1
            assert "synthetic" not in doc["migration"]["previous_parameters"]
    neb = store.get(moved[v1["neb"]["_id"]])
    assert neb["output"] == v1["neb"]["output"] and neb["files"] == v1["neb"]["files"]
    assert neb["labels"]["host_key"] == moved[v1["host"]["_id"]]
    assert neb["labels"]["start_key"] == moved[v1["insertion"]["_id"]]
    assert neb["labels"]["end_key"] == moved[v1["hop_end"]["_id"]]
    ins = store.get(moved[v1["insertion"]["_id"]])
    assert ins["labels"]["also"][0]["host_key"] == moved[v1["host"]["_id"]]
    assert store.get(moved[v1["host"]["_id"]])["labels"]["lattice_key"] == moved[v1["lattice"]["_id"]]
    e_ins = store.get(moved[v1["derived_e_ins"]["_id"]])
    assert e_ins["sources"] == [moved[k] for k in v1["derived_e_ins"]["sources"]]
    assert derived_key(e_ins["calculator"], "insertion_energy", e_ins["sources"]) == e_ins["_id"]
    running = store.get(v1["running"]["_id"])  # a running document: only its references move
    assert running["labels"] == {**v1["running"]["labels"], "host_key": moved[v1["host"]["_id"]],
                                 "lattice_key": moved[v1["lattice"]["_id"]]}
    assert {k: v for k, v in running.items() if k != "labels"} == \
        {k: v for k, v in v1["running"].items() if k != "labels"}

    again = migrate(store, upgrade_parameters=_synthetic)
    assert (again.changed, again.created, again.rekeyed, again.reasons) == (0, 0, {}, {})
    assert store.count() == n + len(moved)

    # a caller still asking for an old key gets the moved document, computed nothing
    old = v1["neb"]["_id"]
    assert store.get(old)["_id"] == moved[old]
    assert store.get_or_compute(old, lambda: pytest.fail("recomputed"))["_id"] == moved[old]
    # ... and one whose moved document was forgotten (failed) computes under the new key
    failed = v1["neb_failed"]["_id"]
    assert store.forget(moved[failed])
    redone = store.get_or_compute(failed, lambda: {"energies_eV": [0.0, 0.1, 0.0]}, meta={"kind": "neb"})
    assert redone["_id"] == moved[failed] and redone["status"] == "completed"


def test_rekey_never_overwrites_a_result_already_at_the_new_key(store, v1):
    from sianode.store.migrate import stored_key

    host = v1["host"]
    new = stored_key(host, _synthetic("relax", host["input"]["parameters"]))
    other = {**copy.deepcopy(host), "_id": new, "key": new, "output": {**host["output"], "energy_eV": -99.0}}
    store.coll.insert_one(other)
    migrate(store, upgrade_parameters=_synthetic)
    assert store.get(new)["output"]["energy_eV"] == -99.0 and store.get(new)["previous_keys"] == [host["_id"]]
    alias = store.coll.find_one({"_id": host["_id"]})
    assert alias["superseded_by"] == new and alias["original"]["output"]["energy_eV"] == -36.0


def test_rekey_to_the_parameter_objects_keys(store, v1):
    """Today's parameter objects: relax keys stay; NEB and reference keys become the call's."""
    from sianode.structures.serialize import atoms_from_dict
    from sianode.workflows.params import V1_UNRECORDED, NEBParams, ReferenceParams, upgrade_parameters

    report = migrate(store, upgrade_parameters=upgrade_parameters)
    for name in ("lattice", "host", "insertion", "hop_end", "insertion_failed"):
        assert v1[name]["_id"] not in report.rekeyed
    neb = v1["neb"]
    start, end = (atoms_from_dict(s) for s in neb["input"]["structures"])
    # 0.1 ran neb()'s defaults of its release otherwise (FIRE, k 0.1, preconverge 0.5), not today's
    call = NEBParams(n_images=3, fmax=0.05, steps=500, climb=True, **V1_UNRECORDED["neb"])
    assert call.optimizer == "FIRE"
    assert report.rekeyed[neb["_id"]] == call.key([start, end], IDENTITY)
    assert store.get(call.key([start, end], IDENTITY))["input"]["parameters"] == call.key_dict()
    assert report.rekeyed[v1["reference"]["_id"]] == ReferenceParams(fmax=0.01).key(None, IDENTITY)
    assert migrate(store, upgrade_parameters=upgrade_parameters).changed == 0


def test_an_unordered_hop_without_the_label_is_not_called_ordered():
    doc = campaign_docs()["neb"]
    doc["labels"] = {**doc["labels"], "h_site": "H3", "start_site": "T1", "end_site": "T2"}
    assert upgrade_document(doc).set["labels.unordered"] is True
    assert upgrade_document(campaign_docs()["neb"]).set["labels.unordered"] is False
    doc["labels"]["unordered"] = True
    assert "labels.unordered" not in upgrade_document(doc).set


def test_upgrade_document_of_a_version2_document_is_empty():
    doc = campaign_docs()["lattice"]
    assert upgrade_document({**doc, "schema_version": 2}).reasons == []
    assert upgrade_document(doc).set == {"schema_version": 2}


def test_cli_migrate_json(db_uri, store, v1):
    from typer.testing import CliRunner

    from sianode.cli import app

    dry = CliRunner().invoke(app, ["--db", db_uri, "db", "migrate", "--dry-run", "--json"])
    assert dry.exit_code == 0, dry.output
    assert json.loads(dry.output)["changed"] == len(v1) - 1 and store.get(v1["neb"]["_id"]).get("schema_version") is None
    first = CliRunner().invoke(app, ["--db", db_uri, "db", "migrate", "--json"])  # re-keys by default
    report = json.loads(first.output)
    assert report["changed"] == len(v1) - 1 and report["rekeyed"] == json.loads(dry.output)["rekeyed"]
    moved = report["rekeyed"]
    assert v1["neb"]["_id"] in moved and v1["reference"]["_id"] in moved and v1["host"]["_id"] not in moved
    second = CliRunner().invoke(app, ["--db", db_uri, "db", "migrate"])
    n = len(v1) + report["created"]
    assert second.exit_code == 0 and second.output.startswith(f"examined {n} documents; changed 0, added 0")


def test_cli_migrate_no_rekey_keeps_the_keys(db_uri, store, v1):
    from typer.testing import CliRunner

    from sianode.cli import app

    out = CliRunner().invoke(app, ["--db", db_uri, "db", "migrate", "--no-rekey", "--json"])
    assert out.exit_code == 0, out.output
    assert json.loads(out.output)["rekeyed"] == {} and store.count() == len(v1)
