"""Content keys: the same calculation always gets the same key, whoever asks.

The key is the SHA-256 of a canonical JSON form of (kind, structure, calculator
identity, parameters). The structure's canonical form is invariant under translation
by a lattice vector and under permutation of atoms:

* positions are wrapped into the cell (fractional coordinates in [0, 1)),
* Cartesian positions and the cell are rounded to ``POSITION_DECIMALS`` decimals
  (1e-4 Angstrom: a 1e-3 Angstrom change gives a different key),
* atoms are sorted by (species, x, y, z).

Rounding to a grid means two structures closer than the tolerance may still hash
differently when they straddle a rounding boundary; that costs a recomputation,
never a wrong result.
"""

from __future__ import annotations

import hashlib
import json
import math
from typing import Any, Mapping

import numpy as np

from sianode.structures.serialize import as_ase

#: Decimals kept of Cartesian positions and cell vectors (Angstrom).
POSITION_DECIMALS = 4
#: Fractional coordinates closer than this to 1 are wrapped to 0.
WRAP_EPS = 10.0 ** -(POSITION_DECIMALS + 3)


def canonical_structure(structure: Any) -> dict[str, Any]:
    """Canonical, JSON-safe form of a periodic structure (see module docstring)."""
    atoms = as_ase(structure)
    cell = np.asarray(atoms.get_cell(), dtype=float)
    pbc = [bool(p) for p in atoms.get_pbc()]
    if all(pbc) and abs(np.linalg.det(cell)) > 1e-8:
        frac = np.linalg.solve(cell.T, atoms.get_positions().T).T
        frac = np.mod(frac, 1.0)
        frac[frac > 1.0 - WRAP_EPS] = 0.0
        pos = frac @ cell
    else:
        pos = np.asarray(atoms.get_positions(), dtype=float)
    pos = np.round(pos, POSITION_DECIMALS) + 0.0  # + 0.0 turns -0.0 into 0.0
    symbols = atoms.get_chemical_symbols()
    order = sorted(range(len(atoms)), key=lambda i: (symbols[i], *pos[i]))
    return {
        "symbols": [symbols[i] for i in order],
        "positions": [[float(x) for x in pos[i]] for i in order],
        "cell": (np.round(cell, POSITION_DECIMALS) + 0.0).tolist(),
        "pbc": pbc,
    }


def _plain(obj: Any) -> Any:
    """Convert numpy scalars/arrays and tuples into JSON-safe values, recursively."""
    if isinstance(obj, Mapping):
        return {str(k): _plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_plain(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return _plain(obj.tolist())
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, float) and not math.isfinite(obj):
        return repr(obj)
    return obj


def canonical_json(obj: Any) -> str:
    """Deterministic JSON text (sorted keys, no whitespace)."""
    return json.dumps(_plain(obj), sort_keys=True, separators=(",", ":"))


def content_key(
    kind: str,
    structures: Any | list[Any] | None,
    calculator: Mapping[str, Any] | None,
    parameters: Mapping[str, Any] | None = None,
) -> str:
    """SHA-256 hex key of one calculation.

    Parameters
    ----------
    kind
        ``"single_point"``, ``"relax"``, ``"neb"``, ``"reference"``, ...
    structures
        One structure (ASE ``Atoms``, pymatgen ``Structure`` or dict) or a list of them
        (an NEB's end points, in order). Order of the list matters; order of atoms does not.
    calculator
        The calculator's identity (name, model, weights checksum, parameters);
        not the thread count or host, which do not change the numbers.
    parameters
        The operation's parameters (fmax, steps, cell relaxation, n_images, ...).
    """
    if structures is None:
        canon: Any = None
    elif isinstance(structures, (list, tuple)):
        canon = [canonical_structure(s) for s in structures]
    else:
        canon = canonical_structure(structures)
    payload = {"kind": kind, "structure": canon, "calculator": calculator or {}, "parameters": parameters or {}}
    return hashlib.sha256(canonical_json(payload).encode()).hexdigest()


def derived_key(calculator: Mapping[str, Any], role: str, sources: list[str]) -> str:
    """Content key of a derived value: ``content_key("derived", None, calculator identity,
    {"role", "sources"})`` (``sources``: keys of the documents it was derived from, in order)."""
    return content_key("derived", None, dict(calculator), {"role": role, "sources": list(sources)})
