"""Plain-dict (JSON/BSON-safe) round trip of ASE ``Atoms``.

Used by every layer that has to store or ship a structure: the store's content hash,
FireWorks specs, result documents. Only what defines the structure is kept:
symbols, positions (Angstrom), cell (Angstrom), pbc, and an optional ``info`` dict of
plain values. Round trip is exact (floats are stored as Python floats).
"""

from __future__ import annotations

from typing import Any

import numpy as np


def atoms_to_dict(atoms: Any) -> dict[str, Any]:
    """Return ``{"symbols", "positions", "cell", "pbc"}`` for an ASE ``Atoms``.

    A pymatgen ``Structure`` is accepted too and converted through
    ``pymatgen.io.ase.AseAtomsAdaptor``.
    """
    atoms = as_ase(atoms)
    return {
        "symbols": list(atoms.get_chemical_symbols()),
        "positions": np.asarray(atoms.get_positions(), dtype=float).tolist(),
        "cell": np.asarray(atoms.get_cell(), dtype=float).tolist(),
        "pbc": [bool(p) for p in atoms.get_pbc()],
    }


def atoms_from_dict(data: dict[str, Any]) -> Any:
    """Inverse of :func:`atoms_to_dict`; returns an ASE ``Atoms``."""
    from ase import Atoms

    return Atoms(
        symbols=data["symbols"],
        positions=np.asarray(data["positions"], dtype=float).reshape(-1, 3),
        cell=np.asarray(data["cell"], dtype=float).reshape(3, 3),
        pbc=data.get("pbc", True),
    )


def as_ase(structure: Any) -> Any:
    """Return an ASE ``Atoms`` for an ``Atoms``, a pymatgen ``Structure`` or a dict."""
    from ase import Atoms

    if isinstance(structure, Atoms):
        return structure
    if isinstance(structure, dict):
        return atoms_from_dict(structure)
    try:
        from pymatgen.core import Structure
    except ImportError:  # pragma: no cover
        Structure = None
    if Structure is not None and isinstance(structure, Structure):
        from pymatgen.io.ase import AseAtomsAdaptor

        return AseAtomsAdaptor.get_atoms(structure)
    raise TypeError(f"expected ase.Atoms, pymatgen Structure or dict, got {type(structure).__name__}")
