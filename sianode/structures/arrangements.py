"""Symmetry-distinct arrangements of ``k`` substitutional dopants on ``N`` host sites.

Two dopant sets are equivalent when an operation of the host's space group (spglib
point operations x lattice translations, as site permutations, see
:mod:`sianode.structures.symmetry`) maps one onto the other (PHYSICS.md section 1).

Exact enumeration (canonical-form orbit enumeration)
----------------------------------------------------
Let the candidate sites fall into site orbits ``O_1, O_2, ...`` with representatives
``r_j`` (smallest index). Every class of k-sets whose lowest site orbit is ``O_j``
contains a set holding ``r_j``, so only the ``C(|allowed|, k-1)`` sets holding ``r_j``
are generated (for diamond, one orbit: ``C(N-1, k-1)`` instead of ``C(N, k)``). The
canonical form of a set ``S`` is the lexicographically smallest sorted image
``h g_s S`` over ``s`` in ``S`` n ``O_j``, ``g_s`` one element with ``g_s s = r_j``
and ``h`` in the stabiliser of ``r_j``: exactly the members of the orbit that hold
``r_j``, hence an orbit invariant. Counting, per canonical form, the ``c`` generated
sets gives the orbit size by double counting of (set, site in ``O_j``) pairs:
``|orbit| = |O_j| c / |S n O_j|``. The sizes are checked to add up to ``C(N, k)``.

Class order (documented, deterministic): by shortest dopant-dopant distance (minimum
image), then by the sum of all dopant-dopant distances (most compact first), then by
multiplicity (largest first), then by the representative's site indices. ``id`` is
the position in that order (0 = the most compact class).

Which classes a calculation uses (PHYSICS.md section 7)
--------------------------------------------------------
:func:`select_arrangements` applies an :class:`ArrangementStrategy` (campaign key
``arrangements``, parsed by :func:`parse_strategy`):

* ``dispersed`` (default): the classes whose dopants are farthest apart (largest minimum
  dopant-dopant distance, minimum image, then largest multiplicity): the dilute,
  random-alloy representative. The most compact cluster is the least likely arrangement
  of a real doped crystal and is never the default.
* ``compact``: the most compact classes (id 0, 1, ...), the behaviour before strategies.
* ``{classes: [ids]}``: the named class ids.
* ``{ensemble: {max: N, temperature_K: T}}``: every class is a host; the classes holding
  most of the weight :func:`ensemble_weights` (up to N) carry the Li work.
* ``sqs``: one special quasirandom structure (icet, :mod:`sianode.structures.sqs`) for cells
  too large to enumerate.
"""

from __future__ import annotations

import itertools
import logging
import math
from dataclasses import dataclass, field
from typing import Any, Iterator, Sequence

import numpy as np

from sianode.errors import InputError
from sianode.structures.diamond import pure_supercell
from sianode.structures.symmetry import PermutationGroup, mic_lengths

log = logging.getLogger(__name__)

#: an enumeration is exact when k <= 3 and N <= 512, or C(N, k) <= this
MAX_EXACT = 2_000_000
#: combinations generated per batch
_BATCH = 8192
#: ints per numpy batch when canonicalising (|Stab| x k x k per set)
_BUDGET = 2_000_000
_BIG = np.iinfo(np.int64).max


@dataclass(frozen=True)
class ArrangementClass:
    """One symmetry class of dopant sets.

    Attributes
    ----------
    id : int
        Position in the documented order (0 = most compact; -1 for a structure that is not
        in an enumeration, such as an SQS).
    multiplicity : int
        Number of dopant sets in the class (orbit size).
    dopant_indices : tuple of int
        Atom indices (into the host) of one representative set, sorted.
    weight : float or None
        Weight of the class in the concentration it stands for (set by
        :func:`select_arrangements`; the weights of an ensemble add up to 1 over all classes).
    weight_source : str or None
        ``"multiplicity"`` (g_c / sum g), ``"boltzmann T=... K"``, ``"sqs"``.
    """

    id: int
    multiplicity: int
    dopant_indices: tuple[int, ...]
    weight: float | None = None
    weight_source: str | None = None

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id, "multiplicity": self.multiplicity,
                               "dopant_indices": list(self.dopant_indices)}
        if self.weight is not None:
            out["weight"] = self.weight
            out["weight_source"] = self.weight_source
        return out


@dataclass
class ArrangementSet:
    """All (``exact=True``) or sampled (``exact=False``) classes of ``n_dopants`` on ``n_sites``.

    ``seed`` is the random seed of a sample (``None`` for an exact enumeration).
    """

    n_sites: int
    n_dopants: int
    exact: bool
    classes: list[ArrangementClass] = field(default_factory=list)
    seed: int | None = None

    def __len__(self) -> int:
        return len(self.classes)

    def __iter__(self) -> Iterator[ArrangementClass]:
        return iter(self.classes)

    def __getitem__(self, i: int) -> ArrangementClass:
        return self.classes[i]

    @property
    def total_multiplicity(self) -> int:
        """Sum of multiplicities (``C(n_sites, n_dopants)`` when exact)."""
        return int(sum(c.multiplicity for c in self.classes))

    def as_dict(self) -> dict[str, Any]:
        return {
            "n_sites": self.n_sites,
            "n_dopants": self.n_dopants,
            "exact": self.exact,
            "seed": self.seed,
            "classes": [c.as_dict() for c in self.classes],
        }


class _Canonicaliser:
    """Canonical forms of k-sets under a :class:`PermutationGroup` (see module docstring)."""

    def __init__(self, group: PermutationGroup, candidates: np.ndarray) -> None:
        self.group = group
        labels = group.orbits()
        self.candidates = np.sort(np.asarray(candidates, dtype=np.int64))
        cand_labels = labels[self.candidates]
        # candidate orbits ordered by their smallest candidate index
        _, first = np.unique(cand_labels, return_index=True)
        orbit_ids = cand_labels[np.sort(first)]
        self.rank = np.full(group.n_points, -1, dtype=np.int64)  # orbit rank of each point
        for j, lab in enumerate(orbit_ids):
            self.rank[labels == lab] = j
        self.reps = np.array([self.candidates[cand_labels == lab].min() for lab in orbit_ids])
        self.sizes = np.array([int(np.sum(cand_labels == lab)) for lab in orbit_ids])
        targets = np.arange(group.n_points)
        ok = self.rank >= 0
        targets[ok] = self.reps[self.rank[ok]]
        self.to_rep_t, self.to_rep_r = group.elements_to(targets)
        self._stab: dict[int, np.ndarray] = {}

    def stab(self, j: int) -> np.ndarray:
        if j not in self._stab:
            self._stab[j] = self.group.stabilizer(int(self.reps[j]))
        return self._stab[j]

    def canonical(self, sets: np.ndarray, j: int) -> np.ndarray:
        """Canonical forms ``(M, k)`` of sets ``(M, k)`` whose lowest orbit rank is ``j``."""
        m, k = sets.shape
        stab = self.stab(j)
        step = max(1, _BUDGET // (len(stab) * k * k))
        out = []
        for lo in range(0, m, step):
            sub = sets[lo : lo + step]
            s = sub[:, :, None]  # the element sent to the representative
            moved = self.group.apply(self.to_rep_t[s], self.to_rep_r[s], sub[:, None, :])  # (M, k, k)
            img = np.sort(stab[:, moved], axis=3)  # (|Stab|, M, k, k)
            img = np.where((self.rank[sub] == j)[None, :, :, None], img, _BIG)
            img = img.transpose(1, 0, 2, 3).reshape(len(sub), -1, k)  # (M, |Stab| k, k)
            out.append(_lexmin_rows(img))
        return np.concatenate(out)

    def orbit_size(self, dset: np.ndarray) -> int:
        """Exact orbit size ``|G| / |Stab(S)|`` of one set.

        ``g`` fixes ``S`` iff every ``g(s)`` lies in ``S``; candidate elements are filtered
        one site at a time (most fail on the first).
        """
        inside = np.zeros(self.group.n_points, dtype=bool)
        inside[dset] = True
        t_idx, r_idx = np.meshgrid(
            np.arange(len(self.group.translations)), np.arange(len(self.group.cosets)), indexing="ij"
        )
        t_idx, r_idx = t_idx.ravel(), r_idx.ravel()
        for s in dset:
            keep = inside[self.group.translations[t_idx, self.group.cosets[r_idx, s]]]
            t_idx, r_idx = t_idx[keep], r_idx[keep]
        return self.group.order // len(t_idx)


def _lexmin_rows(a: np.ndarray) -> np.ndarray:
    """Lexicographically smallest row along axis 1 of ``a`` (M, R, k) -> (M, k)."""
    m, r, k = a.shape
    alive = np.ones((m, r), dtype=bool)
    for c in range(k):
        col = np.where(alive, a[:, :, c], _BIG)
        alive &= col == col.min(axis=1, keepdims=True)
    pick = np.argmax(alive, axis=1)
    return a[np.arange(m), pick]


def _combination_batches(pool: np.ndarray, r: int, batch: int) -> Iterator[np.ndarray]:
    """Yield ``(<=batch, r)`` arrays of the r-combinations of ``pool`` (lexicographic)."""
    if r == 0:
        yield np.zeros((1, 0), dtype=np.int64)
        return
    it = itertools.combinations(range(len(pool)), r)
    while True:
        flat = np.fromiter(itertools.chain.from_iterable(itertools.islice(it, batch)), dtype=np.int64)
        if flat.size == 0:
            return
        yield pool[flat.reshape(-1, r)]


def _host_atoms(host: Any) -> Any:
    from sianode.structures.serialize import as_ase

    if isinstance(host, (int, np.integer, tuple, list)):
        return pure_supercell(host)
    return as_ase(host)


def enumerate_arrangements(
    host: Any,
    n_dopants: int,
    *,
    sites: Sequence[int] | None = None,
    max_exact: int = MAX_EXACT,
    n_samples: int = 500,
    seed: int = 0,
    symprec: float = 1e-3,
) -> ArrangementSet:
    """Symmetry classes of ``n_dopants`` identical dopants on the host's Si sites.

    Parameters
    ----------
    host
        ASE ``Atoms``, pymatgen ``Structure``, or a supercell size ``n`` / ``(n1, n2, n3)``
        of pure diamond Si (a = 5.431 Angstrom).
    n_dopants
        Number of dopants ``k``, ``1 <= k <= N``.
    sites
        Candidate site indices (default: every Si atom).
    max_exact
        Exact enumeration when ``k <= 3`` and ``N <= 512``, or ``C(N, k) <= max_exact``;
        otherwise a reproducible random sample of ``n_samples`` sets (``exact=False``;
        each sampled class still carries its exact orbit size).
    seed
        Seed of the sample (``numpy.random.default_rng``).

    Returns
    -------
    ArrangementSet
        Classes in the order of the module docstring.
    """
    atoms = _host_atoms(host)
    symbols = np.array(atoms.get_chemical_symbols())
    if sites is None:
        cand = np.flatnonzero(symbols == "Si")
    else:
        cand = np.unique(np.asarray(list(sites), dtype=np.int64))
        if cand.size and (cand.min() < 0 or cand.max() >= len(atoms)):
            raise InputError(f"site indices {list(sites)} out of range: allowed 0..{len(atoms) - 1}")
        bad = cand[symbols[cand] != "Si"]
        if bad.size:
            raise InputError(f"sites {bad.tolist()} are not Si ({symbols[bad].tolist()}): dopants go on Si sites only")
    n_sites = int(cand.size)
    k = int(n_dopants)
    if not 1 <= k <= n_sites:
        raise InputError(f"n_dopants={n_dopants} not allowed: need 1 <= n_dopants <= {n_sites} Si sites")
    numbers = atoms.get_atomic_numbers().copy()
    numbers[cand] += 1000  # candidates form their own species: the group preserves them
    group = PermutationGroup.from_atoms(atoms, numbers=numbers, symprec=symprec)
    canon = _Canonicaliser(group, cand)
    total = math.comb(n_sites, k)
    exact = (k <= 3 and n_sites <= 512) or total <= max_exact
    if exact:
        reps, mults = _exact(canon, k, total)
        used_seed = None
    else:
        reps, mults = _sample(canon, k, n_samples, seed)
        used_seed = seed
    classes = _order_classes(atoms, reps, mults)
    log.info("%d dopants on %d sites: %d classes (%s)", k, n_sites, len(classes), "exact" if exact else "sample")
    return ArrangementSet(n_sites=n_sites, n_dopants=k, exact=exact, classes=classes, seed=used_seed)


def _exact(canon: _Canonicaliser, k: int, total: int) -> tuple[np.ndarray, np.ndarray]:
    all_forms, all_counts = [], []
    for j, rep in enumerate(canon.reps):
        pool = canon.candidates[(canon.rank[canon.candidates] >= j) & (canon.candidates != rep)]
        for combos in _combination_batches(pool, k - 1, _BATCH):
            sets = np.concatenate([np.full((len(combos), 1), rep), combos], axis=1)
            forms, counts = np.unique(canon.canonical(sets, j), axis=0, return_counts=True)
            all_forms.append(forms)
            all_counts.append(counts)
    forms, inv = np.unique(np.concatenate(all_forms), axis=0, return_inverse=True)
    counts = np.bincount(inv.ravel(), weights=np.concatenate(all_counts)).astype(np.int64)
    mults = np.empty(len(forms), dtype=np.int64)
    for i, f in enumerate(forms):
        j = int(canon.rank[f].min())
        in_orbit = int(np.sum(canon.rank[f] == j))
        num = int(canon.sizes[j]) * int(counts[i])
        assert num % in_orbit == 0, "orbit size must be an integer"
        mults[i] = num // in_orbit
    assert int(mults.sum()) == total, f"multiplicities add up to {int(mults.sum())}, not C(N,k)={total}"
    return forms, mults


def _sample(canon: _Canonicaliser, k: int, n_samples: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    sets = np.sort(
        np.stack([rng.choice(canon.candidates, size=k, replace=False) for _ in range(int(n_samples))]), axis=1
    )
    lowest = canon.rank[sets].min(axis=1)
    forms = []
    for j in np.unique(lowest):
        sub = sets[lowest == j]
        forms.append(canon.canonical(sub, int(j)))
    uniq = np.unique(np.concatenate(forms), axis=0)
    mults = np.array([canon.orbit_size(f) for f in uniq], dtype=np.int64)
    return uniq, mults


def _order_classes(atoms: Any, reps: np.ndarray, mults: np.ndarray) -> list[ArrangementClass]:
    k = reps.shape[1]
    if k >= 2:
        used = np.unique(reps)
        where = np.searchsorted(used, reps)
        pos = atoms.get_positions()[used]
        vec = (pos[None, :, :] - pos[:, None, :]).reshape(-1, 3)
        dmat = mic_lengths(vec, atoms.cell[:]).reshape(len(used), len(used))
        i, j = np.triu_indices(k, 1)
        d = dmat[where[:, i], where[:, j]]
        dmin, dsum = d.min(axis=1), d.sum(axis=1)
    else:
        dmin = dsum = np.zeros(len(reps))
    keys = sorted(
        range(len(reps)),
        key=lambda c: (round(float(dmin[c]), 4), round(float(dsum[c]), 4), -int(mults[c]), tuple(reps[c])),
    )
    return [
        ArrangementClass(id=n, multiplicity=int(mults[c]), dopant_indices=tuple(int(x) for x in reps[c]))
        for n, c in enumerate(keys)
    ]


def orbit_multiplicity(host: Any, dopant_indices: Sequence[int], *, symprec: float = 1e-3) -> int:
    """Multiplicity (orbit size ``|G| / |Stab(S)|``) of one dopant set under the host's symmetry.

    The group is that of :func:`enumerate_arrangements` (every Si atom a candidate site),
    so the number agrees with the class's ``multiplicity`` there.
    """
    atoms = _host_atoms(host)
    symbols = np.array(atoms.get_chemical_symbols())
    cand = np.flatnonzero(symbols == "Si")
    dset = np.unique(np.asarray(list(dopant_indices), dtype=np.int64))
    if dset.size == 0 or not np.all(np.isin(dset, cand)):
        raise InputError(f"dopant indices {list(dopant_indices)} not allowed: need Si sites of the host")
    numbers = atoms.get_atomic_numbers().copy()
    numbers[cand] += 1000
    group = PermutationGroup.from_atoms(atoms, numbers=numbers, symprec=symprec)
    return int(_Canonicaliser(group, cand).orbit_size(dset))
