"""Special quasirandom structures (SQS) for cells too large to enumerate, via icet.

An SQS is the occupation of a given supercell whose cluster correlation functions come
closest to those of the infinite random alloy at the same concentration (Zunger, Wei,
Ferreira, Bernard, Phys. Rev. Lett. 65 (1990) 353). icet searches it by simulated
annealing over occupations of the supercell (``generate_sqs_from_supercells``; Angqvist,
Munoz, Rahm, Fransson, Durniak, Rozyczko, Rod, Erhart, Adv. Theory Simul. 2 (2019)
1900015), with the objective of van de Walle et al., Calphad 42 (2013) 13.

icet is optional (``pip install icet``; pure Python + numba, no torch): without it
:func:`sqs_indices` raises an :class:`~sianode.errors.InputError` that says so. The dopant
species does not enter (only which sites are occupied), so a placeholder is used.
"""

from __future__ import annotations

import logging
import warnings
from typing import Any, Sequence

import numpy as np

from sianode.errors import InputError
from sianode.structures.arrangements import ArrangementClass, orbit_multiplicity

log = logging.getLogger(__name__)

#: (pair, triplet) cluster cutoffs, Angstrom: pairs to the 7th shell of diamond Si, triplets to 4 A
DEFAULT_CUTOFFS_A = (7.0, 4.0)
_PLACEHOLDER = "Ge"


def _icet() -> Any:
    try:
        from icet import ClusterSpace
        from icet.tools.structure_generation import generate_sqs_from_supercells
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise InputError(f"arrangements: sqs needs the icet package ({exc}); install it with `pip install icet`, "
                         "or use arrangements: dispersed") from None
    return ClusterSpace, generate_sqs_from_supercells


def sqs_indices(host_atoms: Any, count: int, *, steps: int = 5000, seed: int = 0,
                cutoffs_A: Sequence[float] | None = None) -> tuple[int, ...]:
    """Site indices (into ``host_atoms``) of an SQS with ``count`` dopants on the Si sites.

    Parameters
    ----------
    host_atoms : ase.Atoms
        A pure Si supercell (every atom a candidate site), e.g. ``pure_supercell(3)``.
    count : int
        Dopants, ``1 <= count < N``.
    steps : int
        Monte Carlo steps of the annealing (about 1 ms each for 216 sites).
    seed : int
        Random seed (same seed, same structure).
    cutoffs_A : (pair, triplet), optional
        Cluster cutoffs, Angstrom; the pair cutoff is capped at half the shortest cell
        length so no pair meets its own image.

    Returns
    -------
    tuple of int
        Sorted dopant indices.
    """
    ClusterSpace, generate = _icet()
    symbols = np.array(host_atoms.get_chemical_symbols())
    n = len(host_atoms)
    if set(symbols.tolist()) != {"Si"}:
        raise InputError("arrangements: sqs needs a pure Si host (every atom a candidate Si site)")
    if not 1 <= int(count) < n:
        raise InputError(f"count={count} not allowed for an SQS: need 1 <= count < {n} sites")
    pair, triplet = cutoffs_A or DEFAULT_CUTOFFS_A
    half = 0.5 * float(min(host_atoms.cell.lengths())) - 1e-3
    cutoffs = [min(float(pair), half), min(float(triplet), half)]
    x = int(count) / n
    with warnings.catch_warnings():  # spglib's legacy-error-handling DeprecationWarning, through icet
        warnings.simplefilter("ignore", DeprecationWarning)
        space = ClusterSpace(host_atoms, cutoffs, [["Si", _PLACEHOLDER]] * n)
        out = generate(space, [host_atoms.copy()], {"Si": 1.0 - x, _PLACEHOLDER: x}, n_steps=int(steps),
                       random_seed=int(seed))
    # map the occupied positions back onto the host's atoms (minimum image)
    from sianode.structures.symmetry import mic_lengths

    occupied = out.get_positions()[np.array(out.get_chemical_symbols()) == _PLACEHOLDER]
    pos = host_atoms.get_positions()
    idx = []
    for r in occupied:
        d = mic_lengths(pos - r, host_atoms.cell[:])
        idx.append(int(np.argmin(d)))
    if len(set(idx)) != int(count):
        raise InputError(f"icet returned {len(set(idx))} dopant sites for count={count}: cannot map the SQS")
    log.info("SQS: %d dopants on %d sites (cutoffs %s A, %d steps, seed %d)", count, n, cutoffs, steps, seed)
    return tuple(sorted(idx))


def sqs_arrangement(host_atoms: Any, count: int, *, steps: int = 5000, seed: int = 0) -> ArrangementClass:
    """The SQS as an :class:`ArrangementClass` (id -1, its orbit size, weight 1, source ``sqs``)."""
    idx = sqs_indices(host_atoms, count, steps=steps, seed=seed)
    return ArrangementClass(id=-1, multiplicity=orbit_multiplicity(host_atoms, idx), dopant_indices=idx,
                            weight=1.0, weight_source="sqs")
