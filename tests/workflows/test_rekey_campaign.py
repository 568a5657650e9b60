"""A campaign stored under sianode 0.1's content keys, migrated, run again: nothing is recomputed
except the calculations whose call really changed since 0.1 (lj-test, NOT physics)."""

from __future__ import annotations

import copy
import json
from typing import Any

from sianode.store import content_key
from sianode.store.documents import calculator_identity

def _v1_parameters(kind: str, p: dict[str, Any]) -> dict[str, Any]:
    """The ``input.parameters`` sianode 0.1's steps stored for today's ``p`` (its
    steps.relax_parameters / neb_parameters / reference_parameters, frozen here)."""
    if kind == "relax":
        return {"fmax": p["fmax"], "steps": p["steps"], "cell": p["cell"], "optimizer": "FIRE"}
    if kind == "neb":
        return {"n_images": p["n_images"], "fmax": p["fmax"], "steps": p["steps"], "climb": p["climb"],
                "method": "improvedtangent", "interpolation": "idpp", "band": "DyNEB", "scale_fmax": 1.0}
    return {"fmax": p["fmax"], "structure": "bcc Li", "cell": True}


def _as_written_by_0_1(store: Any) -> dict[str, str]:
    """Rewrite every document as 0.1 wrote it: its parameters, its key, its spellings, no version.
    Returns today's key -> the 0.1 key."""
    keymap: dict[str, str] = {}
    docs = store.find({})
    for doc in docs:
        kind, inp = doc["kind"], doc["input"]
        params = _v1_parameters(kind, inp["parameters"])
        structures = inp["structures"] if kind == "neb" else inp.get("structure")
        keymap[doc["_id"]] = content_key(kind, structures, calculator_identity(doc["calculator"]), params)
    store.coll.delete_many({})
    for doc in docs:
        old = copy.deepcopy(doc)
        old["_id"] = old["key"] = keymap[doc["_id"]]
        old["input"]["parameters"] = _v1_parameters(doc["kind"], doc["input"]["parameters"])
        old.pop("schema_version", None)
        for name, value in list(old["labels"].items()):
            if name.endswith("_key") and value in keymap:
                old["labels"][name] = keymap[value]
        if old["kind"] == "reference" and old.get("output"):
            old["output"]["mu_li_eV"] = old["output"]["mu_Li_eV"]  # 0.1's reference step wrote both names
            old["output"]["lattice_constant_A"] = old["output"]["a_A"]
        if old["kind"] == "neb":
            old["labels"].pop("unordered", None)
        store.coll.insert_one(old)
    return keymap


def _run_inline(store: Any, spec: Any) -> list[Any]:
    """Every stage of the campaign, in the workflow's order, without FireWorks."""
    from sianode.workflows import stages
    from sianode.workflows.plan import plan_campaign

    calc, relax, neb = spec.calculator_spec(), spec.relax.model_dump(), spec.neb.model_dump()
    out = [stages.reference_stage(store, calc, fmax=spec.reference.fmax, campaign=spec.name)]
    for host in plan_campaign(spec).hosts:
        kw = dict(host=host.host_params(), labels=host.labels(spec.name), relax=relax)
        out.append(stages.host_stage(store, calc, **kw))
        out += [stages.insertion_stage(store, calc, site=s.as_dict(), **kw) for s in host.sites]
        out += [stages.hop_stage(store, calc, hop=h.as_dict(), neb=neb, **kw) for h in host.hops]
    return out


def test_migrated_campaign_runs_again_computing_only_what_changed(db_uri, store, call_log, wf):
    from typer.testing import CliRunner

    from sianode.cli import app
    from sianode.workflows.params import upgrade_parameters
    from sianode.workflows.stages import neb_params

    spec = wf.spec(name="old", dopants=["B"], counts=[1])
    first = _run_inline(store, spec)
    assert all(o.status == "completed" for o in first), [o.reason for o in first]
    n_neb = store.count({"kind": "neb"})
    assert n_neb >= 1 and store.count({"kind": "reference"}) == 1
    keymap = _as_written_by_0_1(store)
    assert store.count({"_id": {"$in": list(keymap)}, "kind": {"$in": ["neb", "reference"]}}) == 0  # keys moved

    out = CliRunner().invoke(app, ["--db", db_uri, "db", "migrate"])  # re-keys by default
    assert out.exit_code == 0, out.output
    n_calls = len(wf.calls(call_log))
    again = _run_inline(store, spec)
    assert all(o.status == "completed" for o in again)
    computed = [store.get(k)["kind"] for o in again for k in o.stats.keys]
    assert len(wf.calls(call_log)) - n_calls == len(computed)
    # 0.1's NEB ran neb()'s defaults of its release (FIRE); a default that changed since is another call
    neb_changed = upgrade_parameters("neb", _v1_parameters("neb", neb_params(spec.neb.model_dump()).key_dict())) \
        != neb_params(spec.neb.model_dump()).key_dict()
    assert sorted(computed) == (["neb"] * n_neb if neb_changed else [])
    # documents written today are already what the migration makes: a migrate changes nothing
    last = json.loads(CliRunner().invoke(app, ["--db", db_uri, "db", "migrate", "--json"]).output)
    assert (last["changed"], last["created"], last["rekeyed"]) == (0, 0, {})
    # the reference and every relaxation were found under today's keys (the documents of the first run)
    for before, after in zip(first, again):
        used = {role: key for role, key in after.keys.items() if store.get(key)["kind"] != "neb"}
        assert used == {role: key for role, key in before.keys.items() if role in used}
