"""Pure and substitutionally doped diamond-Si supercells.

Diamond Si (Fd-3m, No. 227, a = 5.431 Angstrom; PHYSICS.md section 1): the conventional
8-atom cell repeated ``n x n x n`` has ``8 n^3`` sites (64, 216, 512 for n = 2, 3, 4).
Dopant atom % = ``n_dopant / n_sites x 100``.

Choosing the cell for a requested %
-----------------------------------
Over the allowed supercells (n = 1..4 unless the user names one) the count nearest to
``p N / 100`` is taken; the (supercell, count) whose actual % is closest to the request
wins, the smaller cell at a tie. The request is met when

    |actual - requested| <= max(0.25 x requested, 0.1)   (percentage points)

otherwise :class:`~sianode.errors.InputError` names the nearest achievable values.
Dopants are substitutional (on Si sites); S also forms interstitials in Si, which this
layer does not build.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import numpy as np

from sianode.errors import InputError
from sianode.structures.arrangements import ArrangementClass, enumerate_arrangements
from sianode.structures.diamond import A_SI, Supercell, _reps, pure_supercell
from sianode.structures.strategies import ArrangementStrategy, parse_strategy, select_arrangements

__all__ = ["A_SI", "DEFAULT_SUPERCELLS", "DopedCell", "Supercell", "achievable_percents", "check_structure",
           "choose_cell", "doped_supercell", "pure_supercell", "tolerance", "validate_element"]

log = logging.getLogger(__name__)

#: supercells searched when the user names none
DEFAULT_SUPERCELLS = (1, 2, 3, 4)
#: atoms closer than this (Angstrom) make a structure invalid
MIN_DISTANCE = 0.5
_NOBLE = {"He", "Ne", "Ar", "Kr", "Xe", "Rn", "Og"}


def validate_element(symbol: str) -> str:
    """Return ``symbol`` if it is an element that may substitute for Si, else InputError."""
    from ase.data import chemical_symbols

    if not isinstance(symbol, str) or symbol not in chemical_symbols[1:]:
        raise InputError(f"dopant {symbol!r} is not an element symbol: use e.g. B, P, S, Ge")
    if symbol == "Si":
        raise InputError("dopant 'Si' not allowed: the host is Si; use e.g. B, P, S, Ge")
    if symbol in _NOBLE:
        raise InputError(f"dopant {symbol!r} not allowed: noble gases do not substitute; use e.g. B, P, S, Ge")
    return symbol


def check_structure(atoms: Any, min_distance: float = MIN_DISTANCE) -> None:
    """Raise InputError if two atoms (minimum image) are closer than ``min_distance`` Angstrom."""
    from ase.neighborlist import neighbor_list

    from sianode.structures.serialize import as_ase

    atoms = as_ase(atoms)
    if len(atoms) < 2 and not any(atoms.pbc):
        return
    i, j, d = neighbor_list("ijd", atoms, float(min_distance), self_interaction=False)
    if len(d):
        c = int(np.argmin(d))
        raise InputError(
            f"atoms {int(i[c])} and {int(j[c])} are {float(d[c]):.3f} A apart: "
            f"atoms must be at least {min_distance} A apart"
        )


def achievable_percents(
    supercells: Sequence[Supercell] = DEFAULT_SUPERCELLS, max_percent: float = 50.0
) -> list[tuple[Supercell, int, float]]:
    """Every ``(supercell, count, percent)`` with ``0 < percent < max_percent``, by percent."""
    out = []
    for sc in supercells:
        n_sites = 8 * math.prod(_reps(sc))
        for count in range(1, n_sites + 1):
            pct = 100.0 * count / n_sites
            if pct >= max_percent:
                break
            out.append((sc, count, pct))
    return sorted(out, key=lambda x: (x[2], 8 * math.prod(_reps(x[0]))))


def tolerance(percent: float) -> float:
    """Allowed |actual - requested| in percentage points: ``max(0.25 p, 0.1)``."""
    return max(0.25 * float(percent), 0.1)


def choose_cell(percent: float, supercells: Sequence[Supercell] = DEFAULT_SUPERCELLS) -> tuple[Supercell, int, float]:
    """Supercell and dopant count whose % is closest to ``percent`` (smaller cell at a tie).

    Raises
    ------
    InputError
        ``percent`` outside ``0 < p < 50``, or no cell within :func:`tolerance`.
    """
    try:
        p = float(percent)
    except (TypeError, ValueError):
        raise InputError(f"percent={percent!r} is not a number: need 0 < percent < 50") from None
    if not 0.0 < p < 50.0:
        raise InputError(f"percent={percent} not allowed: need 0 < percent < 50 (atom %)")
    best = None
    for sc in supercells:
        n_sites = 8 * math.prod(_reps(sc))
        count = min(max(1, round(p * n_sites / 100.0)), math.ceil(n_sites / 2) - 1)
        for c in {count, max(1, count - 1), count + 1}:  # guard against rounding at .5
            act = 100.0 * c / n_sites
            if not 0 < act < 50:
                continue
            key = (round(abs(act - p), 12), n_sites)
            if best is None or key < best[0]:
                best = (key, sc, c, act)
    if best is None or best[0][0] > tolerance(p) + 1e-12:
        near = sorted(achievable_percents(supercells), key=lambda x: abs(x[2] - p))[:3]
        shown = ", ".join(
            f"{x[2]:.4g} % ({x[1]} in {8 * math.prod(_reps(x[0]))})" for x in sorted(near, key=lambda x: x[2])
        )
        raise InputError(
            f"percent={percent} cannot be met within max(0.25*p, 0.1) = {tolerance(p):.3g} points by "
            f"supercells {list(supercells)}; nearest achievable: {shown}"
        )
    return best[1], best[2], best[3]


@dataclass
class DopedCell:
    """A doped supercell and how well it meets the request.

    Attributes
    ----------
    atoms
        ASE ``Atoms`` (or pymatgen ``Structure`` when the host was one).
    dopant_indices
        Indices of the dopant atoms, sorted.
    n_sites, n_dopants
        Si sites of the host cell, dopants placed.
    supercell
        Repetitions ``(n1, n2, n3)`` of the conventional cell (``None`` for a user host).
    requested_percent, actual_percent, deviation
        Atom % asked for (``None`` when a count was given), obtained, and
        ``actual - requested`` (percentage points; 0 when a count was given).
    dopants
        Species per dopant index (mixed dopants).
    """

    atoms: Any
    dopant_indices: tuple[int, ...]
    n_sites: int
    n_dopants: int
    supercell: tuple[int, int, int] | None
    requested_percent: float | None
    actual_percent: float
    deviation: float
    dopants: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        from sianode.structures.serialize import atoms_to_dict

        return {
            "atoms": atoms_to_dict(self.atoms),
            "dopant_indices": list(self.dopant_indices),
            "n_sites": self.n_sites,
            "n_dopants": self.n_dopants,
            "supercell": list(self.supercell) if self.supercell else None,
            "requested_percent": self.requested_percent,
            "actual_percent": self.actual_percent,
            "deviation": self.deviation,
            "dopants": dict(self.dopants),
        }


def _dopant_counts(dopant: str | Mapping[str, int], count: int | None) -> dict[str, int] | None:
    if isinstance(dopant, Mapping):
        counts = {validate_element(el): n for el, n in dopant.items()}
        for el, n in counts.items():
            if not isinstance(n, (int, np.integer)) or n < 1:
                raise InputError(f"dopant count {el}={n!r} not allowed: need a positive integer")
        if count is not None:
            raise InputError("give counts in the dopant mapping or count=, not both")
        return {el: int(n) for el, n in counts.items()}
    validate_element(dopant)
    if count is None:
        return None
    if not isinstance(count, (int, np.integer)) or count < 1:
        raise InputError(f"count={count!r} not allowed: need a positive integer number of dopants")
    return {dopant: int(count)}


def doped_supercell(
    dopant: str | Mapping[str, int],
    percent: float | None = None,
    count: int | None = None,
    supercell: Supercell | None = None,
    a: float = A_SI,
    arrangement: Any = None,
    *,
    host: Any = None,
    seed: int = 0,
) -> DopedCell:
    """Substitute dopants on Si sites of a diamond supercell.

    Parameters
    ----------
    dopant
        Element symbol (B, P, S, Ge or any non-noble element but Si), or a mapping of
        counts for mixed dopants, e.g. ``{"B": 1, "Ge": 2}``.
    percent
        Requested atom %, ``0 < p < 50``; the cell and count closest to it are chosen
        (see module docstring for the tolerance rule ``max(0.25 p, 0.1)`` points).
    count
        Number of dopants instead of ``percent`` (default supercell 2 = 64 sites).
    supercell
        ``n`` or ``(n1, n2, n3)``; default: search n = 1..4 for ``percent``.
    a
        Lattice constant, Angstrom.
    arrangement
        ``None`` (default): the ``dispersed`` strategy, the class of
        :func:`~sianode.structures.arrangements.enumerate_arrangements` that keeps the
        dopants farthest apart (PHYSICS.md section 7: never the compact cluster by default);
        a strategy name or mapping (``"compact"``, ``"sqs"``, ``{"classes": [3]}``, see
        :mod:`sianode.structures.strategies`; an ensemble gives its highest-weight class);
        an int class id of that list (0 = most compact); an :class:`ArrangementClass`; or a
        sequence of site indices. With mixed dopants the species fill the chosen sites in
        mapping order.
    host
        A user structure (ASE/pymatgen) to dope instead of a pure supercell; dopants go
        on Si sites only, the structure is checked with :func:`check_structure`.
    seed
        Seed for a sampled arrangement.

    Returns
    -------
    DopedCell
    """
    from sianode.structures.serialize import as_ase

    counts = _dopant_counts(dopant, count)
    if counts is None and percent is None:
        raise InputError("give percent= (0 < p < 50) or count= for the dopant")
    if counts is not None and percent is not None:
        raise InputError("give either percent= or count=, not both")
    return_structure = host is not None and not _is_ase(host)
    if host is not None:
        atoms = as_ase(host).copy()
        check_structure(atoms)
        reps = None
        n_sites = int(np.sum(np.array(atoms.get_chemical_symbols()) == "Si"))
        if counts is None:
            k = max(1, round(float(percent) * n_sites / 100.0))
            act = 100.0 * k / n_sites
            _check_percent_in_host(percent, act)
            counts = {str(dopant): k}
    else:
        if counts is None:
            choices = DEFAULT_SUPERCELLS if supercell is None else (supercell,)
            sc, k, _ = choose_cell(percent, choices)
            counts = {str(dopant): k}
        else:
            sc = 2 if supercell is None else supercell
        reps = _reps(sc)
        atoms = pure_supercell(reps, a)
        n_sites = len(atoms)
    k_total = sum(counts.values())
    if k_total >= n_sites:
        raise InputError(f"{k_total} dopants not allowed in {n_sites} Si sites: need fewer dopants than sites")
    if arrangement is None or isinstance(arrangement, (str, Mapping, ArrangementStrategy)):
        strategy = parse_strategy(arrangement)
        classes = None if strategy.kind == "sqs" else enumerate_arrangements(atoms, k_total, seed=seed, n_samples=200)
        idx = select_arrangements(atoms, k_total, strategy, arrangements=classes)[0].dopant_indices
    elif isinstance(arrangement, (int, np.integer)) and not isinstance(arrangement, bool):
        classes = enumerate_arrangements(atoms, k_total, seed=seed, n_samples=200)
        cid = int(arrangement)
        if not 0 <= cid < len(classes):
            raise InputError(f"arrangement={arrangement} not allowed: class ids are 0..{len(classes) - 1}")
        idx = classes[cid].dopant_indices
    elif isinstance(arrangement, ArrangementClass):
        idx = arrangement.dopant_indices
    else:
        idx = tuple(int(i) for i in arrangement)
    idx = tuple(sorted(idx))
    _check_indices(atoms, idx, k_total)
    species = [el for el, n in counts.items() for _ in range(n)]
    symbols = atoms.get_chemical_symbols()
    for i, el in zip(idx, species):
        symbols[i] = el
    atoms.set_chemical_symbols(symbols)
    actual = 100.0 * k_total / n_sites
    requested = None if percent is None else float(percent)
    out = atoms
    if return_structure:
        from pymatgen.io.ase import AseAtomsAdaptor

        out = AseAtomsAdaptor.get_structure(atoms)
    return DopedCell(
        atoms=out,
        dopant_indices=idx,
        n_sites=n_sites,
        n_dopants=k_total,
        supercell=reps,
        requested_percent=requested,
        actual_percent=actual,
        deviation=0.0 if requested is None else actual - requested,
        dopants=dict(counts),
    )


def _check_percent_in_host(percent: float, actual: float) -> None:
    """InputError unless ``actual`` meets ``percent`` within :func:`tolerance`."""
    if not 0.0 < float(percent) < 50.0:
        raise InputError(f"percent={percent} not allowed: need 0 < percent < 50 (atom %)")
    if abs(actual - float(percent)) > tolerance(float(percent)) + 1e-12:
        raise InputError(
            f"percent={percent} cannot be met in this host within max(0.25*p, 0.1) points; "
            f"nearest achievable: {actual:.4g} %"
        )


def _check_indices(atoms: Any, idx: tuple[int, ...], k: int) -> None:
    n = len(atoms)
    if len(set(idx)) != len(idx) or len(idx) != k:
        raise InputError(f"dopant indices {list(idx)} not allowed: need {k} distinct indices")
    bad = [i for i in idx if not 0 <= i < n]
    if bad:
        raise InputError(f"dopant indices {bad} out of range: allowed 0..{n - 1}")
    symbols = atoms.get_chemical_symbols()
    not_si = [i for i in idx if symbols[i] != "Si"]
    if not_si:
        raise InputError(
            f"dopant index {not_si[0]} is a {symbols[not_si[0]]} site: dopants substitute on Si sites only"
        )


def _is_ase(obj: Any) -> bool:
    from ase import Atoms

    return isinstance(obj, Atoms)
