"""Synthetic stored campaigns with COMPLETE hop networks, for the concentration and plot tests.

Documents follow contract C (insertion docs with ``site``/``site_kind``/``site_multiplicity``/
``host_key``; NEB docs with ``hop``/``h_site``/``start_site``/``end_site``/``unordered``) and
carry energies chosen by the test: E_ins of each T class and the saddle energy of each H
class (eV vs bcc Li), so that the expected diffusivity can be computed independently.

Loaded by the test modules with :func:`load` (the test folders are not packages).
"""

from __future__ import annotations

import hashlib
import importlib.util
import itertools
from pathlib import Path
from typing import Any, Callable

from sianode.store import schema

_counter = itertools.count()
MU_LI_EV = -2.0
E_HOST_EV = -300.0


def load() -> Any:
    """This module, imported by file path (works with pytest's importlib import mode)."""
    spec = importlib.util.spec_from_file_location("sianode_test_network_docs", Path(__file__))
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


def _key(tag: str) -> str:
    return hashlib.sha256(f"{tag}-{next(_counter)}-{id(_counter)}".encode()).hexdigest()


def calc(name: str = "fake") -> dict[str, Any]:
    return {"calculator": name, "model": name, "weights_sha256": None, "parameters": {}, "package": "test",
            "threads": 1, "device": "cpu"}


def reference(store: Any, calculator: str = "fake") -> dict[str, Any]:
    found = [d for d in store.find({"kind": schema.REFERENCE}) if d["calculator"]["calculator"] == calculator]
    if found:
        return found[0]
    return store.insert(_key("ref"), {
        "kind": schema.REFERENCE, "status": "completed", "reason": None, "calculator": calc(calculator),
        "labels": {"role": schema.ROLE_LI_METAL},
        "output": {"mu_Li_eV": MU_LI_EV, "a_A": 3.44, "energy_eV": 2 * MU_LI_EV, "n_atoms": 2}})


def host(store: Any, dopant: str, dopant_indices: list[int], *, supercell: int = 2, calculator: str = "fake",
         campaign: str = "c1", arrangement: Any = 0, multiplicity: int | None = None, weight: float | None = None,
         a_A: float = 5.431) -> dict[str, Any]:
    """A completed host relax document whose structure is the ideal doped cell at ``a_A``."""
    from sianode.structures.serialize import atoms_to_dict
    from sianode.workflows.plan import build_host

    reference(store, calculator)
    pure = dopant == schema.PURE
    n_sites = 8 * supercell**3
    atoms = build_host({"dopant": dopant, "supercell": supercell, "dopant_indices": [] if pure else dopant_indices},
                       a_A)
    lab = {"role": schema.ROLE_HOST, "dopant": dopant, "percent": 0.0 if pure else 100.0 * len(dopant_indices) / n_sites,
           "supercell": [supercell] * 3, "n_dopants": 0 if pure else len(dopant_indices), "arrangement": arrangement,
           "arrangement_multiplicity": multiplicity if multiplicity is not None else (1 if pure else n_sites),
           "campaign": campaign}
    if weight is not None:
        lab["arrangement_weight"] = weight
    return store.insert(_key("host"), {
        "kind": schema.RELAX, "status": "completed", "reason": None, "calculator": calc(calculator), "labels": lab,
        "output": {"energy_eV": E_HOST_EV, "structure": atoms_to_dict(atoms), "cell_relaxed": True}})


def t_classes(host_doc: dict[str, Any]) -> list[Any]:
    """T site classes of the host (:func:`sianode.structures.li_sites` on its ideal cell)."""
    from sianode.structures import li_sites
    from sianode.structures.supercell import A_SI
    from sianode.workflows.plan import build_host

    lab = host_doc["labels"]
    idx = [i for i, s in enumerate(host_doc["output"]["structure"]["symbols"]) if s != "Si"]
    ideal = build_host({"dopant": lab["dopant"], "supercell": lab["supercell"][0], "dopant_indices": idx}, A_SI)
    return list(li_sites(ideal, idx).T)


def insertions(store: Any, host_doc: dict[str, Any], energy: Callable[[Any], float],
               only: Callable[[Any], bool] | None = None) -> dict[str, float]:
    """One insertion per T class with E_ins = ``energy(site_class)``; returns label -> E_ins."""
    out = {}
    for c in t_classes(host_doc):
        if only is not None and not only(c):
            continue
        e = float(energy(c))
        out[c.label] = e
        store.insert(_key("ins"), {
            "kind": schema.RELAX, "status": "completed", "reason": None, "calculator": host_doc["calculator"],
            "labels": {**host_doc["labels"], "role": schema.ROLE_INSERTION, "site": c.label, "site_kind": "T",
                       "site_multiplicity": int(c.multiplicity),
                       "distance_to_dopant_A": None if c.distance_to_dopant is None else float(c.distance_to_dopant),
                       "host_key": host_doc["key"]},
            "output": {"energy_eV": e + E_HOST_EV + MU_LI_EV}})
    return out


def hops(store: Any, host_doc: dict[str, Any], e_t: dict[str, float],
         saddle: Callable[[str, str, str], float]) -> dict[str, float]:
    """One NEB per H class with saddle energy ``saddle(h_label, start_label, end_label)`` (eV vs bcc Li)."""
    from sianode.structures import network_topology
    from sianode.structures.supercell import A_SI
    from sianode.workflows.plan import build_host

    lab = host_doc["labels"]
    idx = [i for i, s in enumerate(host_doc["output"]["structure"]["symbols"]) if s != "Si"]
    ideal = build_host({"dopant": lab["dopant"], "supercell": lab["supercell"][0], "dopant_indices": idx}, A_SI)
    topo = network_topology(ideal, idx or None)
    out = {}
    for h, h_label in enumerate(topo.h_labels):
        if h_label in out:
            continue
        start, end = topo.t_labels[topo.pairs[h, 0]], topo.t_labels[topo.pairs[h, 1]]
        s = float(saddle(h_label, start, end))
        out[h_label] = s
        base = E_HOST_EV + MU_LI_EV
        energies = [e_t[start] + base, 0.5 * (e_t[start] + s) + base, s + base, 0.5 * (e_t[end] + s) + base,
                    e_t[end] + base]
        store.insert(_key("neb"), {
            "kind": schema.NEB, "status": "completed", "reason": None, "calculator": host_doc["calculator"],
            "labels": {**host_doc["labels"], "role": schema.ROLE_HOP, "hop": f"hop{len(out)}", "h_site": h_label,
                       "hop_multiplicity": topo.h_labels.count(h_label), "start_site": start, "end_site": end,
                       "distance_to_dopant_A": None, "selection": "all", "host_key": host_doc["key"],
                       "unordered": True},
            "output": {"energies_eV": energies, "barrier_eV": s - e_t[start]}})
    return out


def network_host(store: Any, dopant: str, dopant_indices: list[int], energy: Callable[[Any], float],
                 saddle: Callable[[str, str, str], float], **kwargs: Any) -> dict[str, Any]:
    """A host with every T class and every H class computed: its network is complete."""
    doc = host(store, dopant, dopant_indices, **kwargs)
    e_t = insertions(store, doc, energy)
    hops(store, doc, e_t, saddle)
    return doc
