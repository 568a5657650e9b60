"""Structures layer: pure functions over ASE ``Atoms`` (pymatgen ``Structure`` accepted).

Doped diamond-Si supercells, symmetry-distinct dopant arrangements, Li T/H interstitial
sites, unordered T -> H -> T hop paths (one NEB each) with their NEB end points, the
periodic hop network, and the symmetry operations that map one relaxed insertion onto
an equivalent site. No database, no workflow engine.

The submodules are imported lazily (on first attribute access), so ``import
sianode.structures`` stays cheap.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "A_SI": "supercell",
    "DopedCell": "supercell",
    "achievable_percents": "supercell",
    "check_structure": "supercell",
    "choose_cell": "supercell",
    "doped_supercell": "supercell",
    "pure_supercell": "supercell",
    "tolerance": "supercell",
    "validate_element": "supercell",
    "ArrangementClass": "arrangements",
    "ArrangementSet": "arrangements",
    "enumerate_arrangements": "arrangements",
    "orbit_multiplicity": "arrangements",
    "ArrangementStrategy": "strategies",
    "ensemble_weights": "strategies",
    "min_dopant_distance": "strategies",
    "parse_strategy": "strategies",
    "select_arrangements": "strategies",
    "ensemble_hosts": "strategies",
    "sqs_indices": "sqs",
    "PermutationGroup": "symmetry",
    "SiteClass": "sites",
    "SiteSet": "sites",
    "li_sites": "sites",
    "find_t_sites": "sites",
    "HopClass": "hops",
    "li_hops": "hops",
    "insert_li": "hops",
    "hop_endpoints": "hops",
    "select_hops": "hops",
    "HopPath": "hops",
    "HopTopology": "hops",
    "li_hop_paths": "hops",
    "select_hop_paths": "hops",
    "hop_selection_name": "hops",
    "network_topology": "hops",
    "symmetry_operation": "hops",
    "transform_structure": "hops",
    "write_structures": "writer",
    "atoms_to_dict": "serialize",
    "atoms_from_dict": "serialize",
    "as_ase": "serialize",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        module = importlib.import_module(f"sianode.structures.{_EXPORTS[name]}")
        return getattr(module, name)
    raise AttributeError(f"module 'sianode.structures' has no attribute {name!r}")


def __dir__() -> list[str]:
    return __all__
