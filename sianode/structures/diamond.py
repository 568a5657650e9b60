"""Pure diamond-Si cells: the lattice every other structures module builds on.

Diamond Si (Fd-3m, No. 227), experimental a = 5.431 Angstrom (PHYSICS.md section 1): the
conventional 8-atom cell repeated ``n x n x n`` has ``8 n^3`` sites (64, 216, 512 for
n = 2, 3, 4). This module imports nothing else of :mod:`sianode.structures`, so both
:mod:`~sianode.structures.arrangements` and :mod:`~sianode.structures.supercell` can use it
without importing each other in a cycle.
"""

from __future__ import annotations

from typing import Any, Sequence, Union

import numpy as np

from sianode.errors import InputError

#: experimental lattice constant of c-Si, Angstrom (PHYSICS.md section 1)
A_SI = 5.431

Supercell = Union[int, Sequence[int]]


def _reps(supercell: Supercell) -> tuple[int, int, int]:
    """Normalise ``n`` or ``(n1, n2, n3)``; InputError unless every entry is a positive int."""
    reps = (supercell,) * 3 if np.isscalar(supercell) else tuple(supercell)
    try:
        ok = len(reps) == 3 and all(int(r) == r and int(r) >= 1 for r in reps)
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise InputError(
            f"supercell={supercell!r} not allowed: need a positive integer n or three of them (n1, n2, n3)"
        )
    return tuple(int(r) for r in reps)  # type: ignore[return-value]


def pure_supercell(n: Supercell, a: float = A_SI) -> Any:
    """Pure diamond Si, the conventional 8-atom cell repeated ``n`` (int or 3-tuple).

    Parameters
    ----------
    n
        Repetitions; ``2`` gives 64 sites.
    a
        Cubic lattice constant, Angstrom.

    Returns
    -------
    ase.Atoms
        ``8 n1 n2 n3`` Si atoms, periodic.
    """
    from ase.build import bulk

    reps = _reps(n)
    if not a > 0:
        raise InputError(f"lattice constant a={a} not allowed: need a > 0 Angstrom")
    return bulk("Si", "diamond", a=float(a), cubic=True).repeat(reps)
