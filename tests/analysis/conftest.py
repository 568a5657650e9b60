"""Hand-written result documents (following :mod:`sianode.store.schema`) for the analysis tests."""

from __future__ import annotations

import hashlib
import itertools
from typing import Any

import numpy as np
import pytest

from sianode.store import schema

_counter = itertools.count()


def calc(name: str = "fake", model: str | None = None, sha: str | None = None, **parameters: Any) -> dict[str, Any]:
    """A provenance record as the workflow steps store it."""
    return {"calculator": name, "model": model or name, "weights_sha256": sha, "parameters": parameters,
            "package": "test", "threads": 1, "device": "cpu"}


def new_key(tag: str = "") -> str:
    return hashlib.sha256(f"{tag}-{next(_counter)}".encode()).hexdigest()


def structure(n: int, a: float) -> dict[str, Any]:
    """A cubic cell holding ``n`` atoms at the diamond density of lattice constant ``a``."""
    side = a * (n / 8.0) ** (1.0 / 3.0)
    return {"symbols": ["Si"] * n, "positions": [[0.0, 0.0, 0.0]] * n,
            "cell": [[side, 0, 0], [0, side, 0], [0, 0, side]], "pbc": [True] * 3}


class Builder:
    """Inserts documents into a store and remembers them."""

    def __init__(self, store: Any) -> None:
        self.store = store

    def _put(self, doc: dict[str, Any]) -> dict[str, Any]:
        key = new_key(doc["kind"])
        return self.store.insert(key, doc)

    def reference(self, mu: float, calculator: dict | None = None, status: str = "completed") -> dict[str, Any]:
        out = {"mu_Li_eV": mu, "a_A": 3.44, "energy_eV": 2 * mu, "n_atoms": 2} if status == "completed" else None
        return self._put({"kind": schema.REFERENCE, "status": status, "reason": None if status == "completed" else "boom",
                          "calculator": calculator or calc(), "labels": {"role": schema.ROLE_LI_METAL},
                          "output": out})

    def host(self, dopant: str, percent: float, energy: float, *, a: float = 5.431, n: int = 64,
             calculator: dict | None = None, status: str = "completed", campaign: str = "c1") -> dict[str, Any]:
        ok = status == "completed"
        return self._put({
            "kind": schema.RELAX, "status": status, "reason": None if ok else "relaxation did not converge",
            "calculator": calculator or calc(),
            "labels": {"role": schema.ROLE_HOST, "dopant": dopant, "percent": percent, "supercell": 2,
                       "n_dopants": 0 if dopant == "Si" else 1, "arrangement": "A1",
                       "arrangement_multiplicity": 1, "campaign": campaign},
            "output": {"energy_eV": energy, "structure": structure(n, a), "cell_relaxed": True} if ok else None,
        })

    def insertion(self, host: dict[str, Any], site: str, energy: float, *, multiplicity: int = 4,
                  distance: float = 2.0, site_kind: str = "T", calculator: dict | None = None,
                  status: str = "completed") -> dict[str, Any]:
        ok = status == "completed"
        return self._put({
            "kind": schema.RELAX, "status": status, "reason": None if ok else "atoms too close",
            "calculator": calculator or host["calculator"],
            "labels": {**host["labels"], "role": schema.ROLE_INSERTION, "site": site, "site_kind": site_kind,
                       "site_multiplicity": multiplicity, "distance_to_dopant_A": distance, "host_key": host["key"]},
            "output": {"energy_eV": energy, "structure": structure(65, 5.431)} if ok else None,
        })

    def neb(self, host: dict[str, Any], hop: str, energies: list[float] | None, *, selection: str = "near",
            distance: float = 2.5, multiplicity: int = 4, calculator: dict | None = None,
            positions: np.ndarray | None = None) -> dict[str, Any]:
        ok = energies is not None
        doc = {
            "kind": schema.NEB, "status": "completed" if ok else "failed",
            "reason": None if ok else "NEB status 'not_converged'",
            "calculator": calculator or host["calculator"],
            "labels": {**host["labels"], "role": schema.ROLE_HOP, "hop": hop, "hop_multiplicity": multiplicity,
                       "distance_to_dopant_A": distance, "selection": selection, "host_key": host["key"]},
            "output": {"energies_eV": energies, "barrier_eV": max(energies) - energies[0],
                       "start_structure": structure(65, 5.431)} if ok else None,
        }
        if positions is not None:
            doc["files"] = {"positions_A": self.store.put_array(positions)}
        return self._put(doc)


@pytest.fixture
def build(store) -> Builder:
    return Builder(store)


@pytest.fixture
def campaign(build: Builder) -> dict[str, Any]:
    """A small finished campaign: pure Si, B and P at 1.5625 %, two T classes each, NEBs."""
    docs: dict[str, Any] = {"ref": build.reference(-1.90)}
    pure = build.host("Si", 0.0, -300.0)
    docs["pure"] = pure
    docs["pure_T"] = build.insertion(pure, "T1", -301.5, multiplicity=64, distance=None)
    b = build.host("B", 1.5625, -299.0, a=5.41)
    docs["B"] = b
    docs["B_T1"] = build.insertion(b, "T1", -301.2, multiplicity=4, distance=2.0)
    docs["B_T2"] = build.insertion(b, "T2", -301.0, multiplicity=12, distance=3.5)
    p = build.host("P", 1.5625, -301.0, a=5.44)
    docs["P"] = p
    docs["P_T1"] = build.insertion(p, "T1", -301.9, multiplicity=4, distance=2.0)
    docs["P_T2"] = build.insertion(p, "T2", -302.1, multiplicity=12, distance=3.5, status="failed")
    docs["pure_hop"] = build.neb(pure, "TT1", [0.0, 0.2, 0.6, 0.2, 0.0], selection="all", distance=None)
    docs["B_near"] = build.neb(b, "TT1", [-10.0, -9.8, -9.5, -9.7, -9.9], selection="near", distance=2.2)
    docs["B_far"] = build.neb(b, "TT2", [-10.0, -9.6, -9.4, -9.6, -10.0], selection="far", distance=5.0)
    docs["P_near"] = build.neb(p, "TT1", None, selection="near", distance=2.2)
    return docs


@pytest.fixture
def make_calc():
    """:func:`calc` as a fixture (test modules do not import conftest)."""
    return calc
