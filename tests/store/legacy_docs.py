"""A database as sianode 0.1 (schema version 1) wrote it, made with that release's dict shapes.

The shapes are copied from the 0.1 writers, frozen here so the migration tests keep testing
version-1 documents whatever today's writers do: the envelope of
``ResultStore.get_or_compute``, the ``input.parameters`` of ``steps.relax_parameters`` /
``neb_parameters`` / ``reference_parameters``, the outputs of ``RelaxResult.as_dict`` /
``NEBResult.as_dict`` / ``ReferenceResult.as_dict`` (plus ``mu_li_eV`` and
``lattice_constant_A`` added by ``steps.reference_step``), the labels of
``workflows.stages`` and the derived documents of ``analysis.persist``. Keys are the content
keys 0.1 computed, so a re-key can check them. Numbers are arbitrary (this is a data test).
"""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
from ase.build import bulk

from sianode.store.hashing import content_key
from sianode.structures.serialize import atoms_to_dict

#: the provenance 0.1 stored (``CalculatorSpec.provenance()``)
PROVENANCE = {"calculator": "lj-test", "what": "test pair potential", "package": "sianode", "package_version": "0.1.0",
              "model": "lj-test", "weights_file": None, "weights_present": None, "weights_sha256": None,
              "parameters": {}, "device": "cpu", "threads": 1, "not_physics": True}
IDENTITY = {"name": "lj-test", "model": "lj-test", "weights_sha256": None, "parameters": {}}
CAMPAIGN = "old"


def _si8() -> Any:
    return bulk("Si", "diamond", a=5.431, cubic=True)


def _with_li(frac: list[float]) -> Any:
    atoms = _si8()
    atoms.append("Li")
    atoms.positions[-1] = np.asarray(frac) @ atoms.cell
    return atoms


def _envelope(kind: str, key: str, inp: dict[str, Any], labels: dict[str, Any], output: dict[str, Any] | None,
              status: str = "completed", reason: str | None = None) -> dict[str, Any]:
    doc = {"kind": kind, "input": inp, "calculator": dict(PROVENANCE), "labels": labels, "_id": key, "key": key,
           "status": status, "reason": reason, "timings": {"created": 1.0e9, "started": 1.0e9, "finished": 1.0e9 + 3,
                                                           "wall_s": 3.0},
           "attempts": 1, "host": "node1", "sianode_version": "0.1.0"}
    if status == "completed":
        doc["output"], doc["files"] = output, {}
    if status == "running":
        doc["lease"] = {"owner": "node1:123:abcd", "expires": 1.0e9}
        del doc["timings"]["finished"], doc["timings"]["wall_s"]
    return doc


def _relax_out(atoms: Any, energy: float, cell: bool) -> dict[str, Any]:
    n = len(atoms)
    return {"structure": atoms_to_dict(atoms), "energy_eV": energy, "forces_eV_A": np.zeros((n, 3)).tolist(),
            "stress_eV_A3": [0.0] * 6, "converged": True, "steps": 12, "n_force_calls": 13, "fmax_eV_A": 0.03,
            "fmax_target_eV_A": 0.05, "cell_relaxed": cell, "optimizer": "FIRE", "wall_s": 2.5,
            "calculator": dict(PROVENANCE)}


def relax_doc(atoms: Any, labels: dict[str, Any], energy: float, *, cell: bool = False,
              status: str = "completed") -> dict[str, Any]:
    params = {"fmax": 0.05, "steps": 300, "cell": cell, "optimizer": "FIRE"}
    key = content_key("relax", atoms, IDENTITY, params)
    out = _relax_out(atoms, energy, cell) if status == "completed" else None
    reason = "relaxation did not converge in 300 steps" if status == "failed" else None
    return _envelope("relax", key, {"structure": atoms_to_dict(atoms), "parameters": params}, labels, out,
                     status, reason)


def neb_doc(start: Any, end: Any, labels: dict[str, Any], energies: list[float] | None) -> dict[str, Any]:
    params = {"n_images": 3, "fmax": 0.05, "steps": 500, "climb": True, "method": "improvedtangent",
              "interpolation": "idpp", "band": "DyNEB", "scale_fmax": 1.0}
    key = content_key("neb", [start, end], IDENTITY, params)
    inp = {"structures": [atoms_to_dict(start), atoms_to_dict(end)], "parameters": params}
    if energies is None:
        return _envelope("neb", key, inp, labels, None, "failed", "NEB status 'not_converged' after at most 500 steps")
    out = {"status": "ok", "barrier_eV": max(energies) - energies[0], "energies_eV": energies, "saddle_index": 2,
           "saddle_structure": atoms_to_dict(start), "start_structure": atoms_to_dict(start),
           "end_structure": atoms_to_dict(end), "converged": True, "steps": 40, "n_force_calls": 150, "n_images": 3,
           "fmax_eV_A": 0.04, "fmax_saddle_eV_A": 0.02, "fmax_target_eV_A": 0.05,
           "reaction_energy_eV": energies[-1] - energies[0], "wall_s": 9.0, "calculator": dict(PROVENANCE),
           "settings": {"climb": True, "climbed": True, "preconverge_fmax_eV_A": 0.5, "optimizer": "FIRE",
                        "interpolation": "idpp", "method": "improvedtangent", "k_eV_A2": 0.1, "max_steps": 500,
                        "dynamic": True, "scale_fmax_1_A": 1.0}}
    return _envelope("neb", key, inp, labels, out)


def reference_doc(mu: float) -> dict[str, Any]:
    params = {"fmax": 0.01, "structure": "bcc Li", "cell": True}
    key = content_key("reference", None, IDENTITY, params)
    li = bulk("Li", "bcc", a=3.43, cubic=True)
    out = {"mu_Li_eV": mu, "a_A": 3.43, "structure": atoms_to_dict(li), "energy_eV": 2 * mu, "n_atoms": 2,
           "converged": True, "steps": 8, "n_force_calls": 9, "wall_s": 0.4, "calculator": dict(PROVENANCE),
           "mu_li_eV": mu, "lattice_constant_A": 3.43}
    return _envelope("reference", key, {"structure": None, "parameters": params},
                     {"campaign": CAMPAIGN, "campaigns": [CAMPAIGN], "role": "li_metal"}, out)


def derived_doc(role: str, source: dict[str, Any], sources: list[str], output: dict[str, Any],
                extra: dict[str, Any]) -> dict[str, Any]:
    key = content_key("derived", None, IDENTITY, {"role": role, "sources": sources})
    lab = source["labels"]
    labels = {"role": role, "dopant": lab["dopant"], "percent": lab["percent"],
              "distance_to_dopant_A": lab.get("distance_to_dopant_A"), "campaign": CAMPAIGN, "source_key": source["key"],
              **extra, "campaigns": [CAMPAIGN]}
    return {"kind": "derived", "status": "completed", "reason": None, "labels": labels, "calculator": dict(IDENTITY),
            "sources": list(sources), "output": output, "_id": key, "key": key}


def campaign_docs() -> dict[str, dict[str, Any]]:
    """Every kind and role of a 0.1 campaign (pure Si and one B host), by name."""
    base = {"campaign": CAMPAIGN, "campaigns": [CAMPAIGN]}
    docs: dict[str, dict[str, Any]] = {"reference": reference_doc(-1.9)}
    lattice = relax_doc(_si8(), {**base, "role": "lattice", "dopant": "Si", "percent": 0.0, "supercell": [1, 1, 1]},
                        -37.0, cell=True)
    docs["lattice"] = lattice
    host_labels = {**base, "role": "host", "dopant": "B", "percent": 12.5, "requested_percent": None,
                   "supercell": [1, 1, 1], "n_dopants": 1, "arrangement": 0, "arrangement_multiplicity": 1,
                   "lattice_key": lattice["key"], "lattice_constant_A": 5.431}
    host_atoms = _si8()
    host_atoms[0].symbol = "B"
    host = relax_doc(host_atoms, host_labels, -36.0)
    docs["host"] = host
    on_host = {**host_labels, "host_key": host["key"]}
    del on_host["role"]

    def li_in_host(frac: list[float]) -> Any:
        atoms = host_atoms.copy()
        atoms.append("Li")
        atoms.positions[-1] = np.asarray(frac) @ atoms.cell
        return atoms

    ins_labels = {**on_host, "role": "insertion", "site": "T1", "site_kind": "T", "site_multiplicity": 4,
                  "distance_to_dopant_A": 2.35}
    # the T1 insertion is also the hop's start point: primary labels insertion, hop_end kept in `also`
    start = li_in_host([0.5, 0.5, 0.5])
    insertion = relax_doc(start, {**ins_labels, "also": [{**on_host, "hop": "hop1", "role": "hop_end",
                                                          "end": "start"}]}, -38.2)
    docs["insertion"] = insertion
    end = li_in_host([0.25, 0.25, 0.75])
    docs["hop_end"] = relax_doc(end, {**on_host, "hop": "hop1", "role": "hop_end", "end": "end"}, -38.1)
    hop_labels = {**on_host, "hop": "hop1", "role": "hop", "hop_multiplicity": 4, "distance_to_dopant_A": 2.0,
                  "selection": "near", "start_key": insertion["key"], "end_key": docs["hop_end"]["key"]}
    docs["neb"] = neb_doc(start, end, hop_labels, [-38.2, -37.9, -37.6, -37.8, -38.1])
    far_end = li_in_host([0.75, 0.75, 0.75])
    docs["neb_failed"] = neb_doc(end, far_end, {**hop_labels, "hop": "hop2", "selection": "far",
                                                "start_key": docs["hop_end"]["key"]}, None)
    docs["insertion_failed"] = relax_doc(li_in_host([0.75, 0.25, 0.25]), {**ins_labels, "site": "T2"}, 0.0,
                                         status="failed")
    docs["running"] = relax_doc(li_in_host([0.75, 0.75, 0.25]), {**ins_labels, "site": "T3"}, 0.0, status="running")
    e_ins = -38.2 - (-36.0) - (-1.9)
    docs["derived_e_ins"] = derived_doc(
        "insertion_energy", insertion, [insertion["key"], host["key"], docs["reference"]["key"]],
        {"e_ins_eV": e_ins, "energy_eV": -38.2},
        {"site": "T1", "site_kind": "T", "site_multiplicity": 4, "arrangement_multiplicity": 1})
    docs["derived_barrier"] = derived_doc(
        "barrier", docs["neb"], [docs["neb"]["key"]],
        {"barrier_eV": 0.6, "reverse_barrier_eV": 0.5, "energies_eV": [0.0, 0.3, 0.6, 0.4, 0.1]},
        {"hop": "hop1", "hop_multiplicity": 4, "selection": "near"})
    return docs


def legacy_spellings() -> dict[str, dict[str, Any]]:
    """Documents with the other spellings the 0.1 readers accepted (older development builds)."""
    atoms = _with_li([0.5, 0.5, 0.5])
    relax = relax_doc(atoms, {"campaign": "dev", "role": "insertion", "dopant": "Si", "percent": 0.0}, -40.0)
    out = relax["output"]
    out["final_fmax"] = out.pop("fmax_eV_A")
    out["final_structure"] = out.pop("structure")
    ref = reference_doc(-1.8)
    ref["_id"] = ref["key"] = "0" * 64  # another calculator's reference, say
    del ref["output"]["mu_Li_eV"]
    ref["output"]["lattice_constant_A"] = 3.5  # conflicts with a_A = 3.43: both numbers are kept
    neb = neb_doc(atoms, _with_li([0.25, 0.25, 0.75]), {"campaign": "dev", "role": "hop", "hop": "TT1",
                                                         "multiplicity": 4}, [0.0, 0.4, 0.1])
    neb["output"]["energies"] = neb["output"].pop("energies_eV")
    return {"relax_legacy": relax, "reference_legacy": ref, "neb_legacy": neb}


def insert_all(store: Any, docs: dict[str, dict[str, Any]]) -> None:
    """Insert the documents as they are (a copy: the dicts stay as built)."""
    store.coll.insert_many([copy.deepcopy(d) for d in docs.values()])
