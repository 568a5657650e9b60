"""Which dopant arrangements a calculation uses: strategies, distances and ensemble weights.

At a given atom %, real doped Si is close to a random substitutional alloy (or its
annealed equilibrium); the most compact cluster of k dopants is the least likely
arrangement (PHYSICS.md section 7). A strategy (campaign key ``arrangements``) picks the
symmetry classes of :func:`~sianode.structures.arrangements.enumerate_arrangements` that
carry the Li work:

=============================================  =============================================
spelling                                       classes
=============================================  =============================================
``dispersed`` / ``{dispersed: n}`` (default)   the n classes with the largest minimum
                                               dopant-dopant distance (minimum image), then
                                               the largest multiplicity
``compact`` / ``{compact: n}``                 the n most compact classes (ids 0 .. n-1)
``{classes: [ids]}``                           the named class ids
``{ensemble: {max: n, temperature_K: T}}``     every class is a relaxed host; the n classes
                                               holding most weight carry the Li work
                                               (optional ``samples``, ``seed`` for cells too
                                               large to enumerate)
``sqs`` / ``{sqs: {steps: n, seed: s}}``       one special quasirandom structure (icet)
=============================================  =============================================

Weights (:func:`ensemble_weights`): ``w_c = g_c exp(-(E_c - E_min)/kT) / Z`` with ``g_c``
the multiplicity of class c and ``E_c`` its relaxed host energy; at ``T = inf`` this is
``g_c / sum g`` (= ``g_c / C(N, k)`` for an exact enumeration, the ideal random alloy).
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, replace
from typing import Any, Mapping, Sequence

import numpy as np

from sianode.errors import InputError
from sianode.structures.arrangements import ArrangementClass, ArrangementSet, enumerate_arrangements
from sianode.structures.symmetry import mic_lengths

log = logging.getLogger(__name__)

KINDS = ("dispersed", "compact", "classes", "ensemble", "sqs")
#: the spellings of the campaign key ``arrangements`` (used in every error message)
ALLOWED = ("dispersed, compact, {dispersed: n}, {compact: n}, {classes: [ids]}, "
           "{ensemble: {max: n, temperature_K: T or inf}}, sqs")
#: classes enumerated by sampling when the cell is too large (ensemble ``samples`` default)
DEFAULT_SAMPLES = 200
#: Monte Carlo steps of an SQS search (``{sqs: {steps: n}}`` default)
DEFAULT_SQS_STEPS = 5000
_ENSEMBLE_KEYS = ("max", "temperature_K", "samples", "seed")
_SQS_KEYS = ("steps", "seed")


class StrategyError(InputError):
    """A bad ``arrangements`` value; ``problem`` is the message without the list of spellings."""

    def __init__(self, problem: str, *, spellings: bool = False) -> None:
        super().__init__(f"{problem}; allowed: {ALLOWED}" if spellings else problem)
        self.problem = problem


@dataclass(frozen=True)
class ArrangementStrategy:
    """A parsed ``arrangements`` value (see the module docstring).

    Attributes
    ----------
    kind : str
        One of :data:`KINDS`.
    count : int
        ``dispersed``/``compact``: classes taken; ``ensemble``: most classes with Li work.
    classes : tuple of int
        ``classes``: the class ids.
    temperature_K : float
        ``ensemble``: annealing temperature, K (``inf``: ideal random alloy).
    samples : int
        Sets drawn when the cell is too large to enumerate exactly.
    seed : int
        Seed of that sample and of an SQS search.
    steps : int
        ``sqs``: Monte Carlo steps.
    """

    kind: str = "dispersed"
    count: int = 1
    classes: tuple[int, ...] = ()
    temperature_K: float = math.inf
    samples: int = DEFAULT_SAMPLES
    seed: int = 0
    steps: int = DEFAULT_SQS_STEPS

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise StrategyError(f"arrangement strategy {self.kind!r} does not exist", spellings=True)
        _positive_int(self.count, "ensemble.max" if self.kind == "ensemble" else self.kind)
        _positive_int(self.samples, "samples")
        _positive_int(self.steps, "steps")
        _temperature(self.temperature_K, "ensemble.temperature_K")

    @property
    def is_ensemble(self) -> bool:
        return self.kind == "ensemble"

    @property
    def finite_temperature(self) -> bool:
        """An ensemble whose weights need the relaxed host energies (T < inf)."""
        return self.is_ensemble and math.isfinite(self.temperature_K)

    @property
    def weight_source(self) -> str:
        """``"multiplicity"``, ``"boltzmann T=... K"`` or ``"sqs"``."""
        if self.kind == "sqs":
            return "sqs"
        if self.finite_temperature:
            return f"boltzmann T={self.temperature_K:g} K"
        return "multiplicity"

    def as_dict(self) -> Any:
        """The canonical, JSON-safe spelling (``inf`` as the string ``"inf"``); parses back."""
        if self.kind in ("dispersed", "compact"):
            return self.kind if self.count == 1 else {self.kind: self.count}
        if self.kind == "classes":
            return {"classes": list(self.classes)}
        if self.kind == "sqs":
            if (self.steps, self.seed) == (DEFAULT_SQS_STEPS, 0):
                return "sqs"
            return {"sqs": {"steps": self.steps, "seed": self.seed}}
        t: Any = "inf" if math.isinf(self.temperature_K) else self.temperature_K
        out: dict[str, Any] = {"max": self.count, "temperature_K": t}
        if self.samples != DEFAULT_SAMPLES:
            out["samples"] = self.samples
        if self.seed:
            out["seed"] = self.seed
        return {"ensemble": out}

    def describe(self) -> str:
        """A short human line, e.g. ``ensemble (max 4, T = inf)``."""
        if self.kind in ("dispersed", "compact"):
            return self.kind if self.count == 1 else f"{self.kind} ({self.count} classes)"
        if self.kind == "classes":
            return f"classes {list(self.classes)}"
        if self.kind == "sqs":
            return f"sqs ({self.steps} steps, seed {self.seed})"
        t = "inf" if math.isinf(self.temperature_K) else f"{self.temperature_K:g} K"
        return f"ensemble (max {self.count}, T = {t})"


def _positive_int(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise StrategyError(f"{name} = {value!r} is not allowed: need an integer >= 1")
    return int(value)


def _temperature(value: Any, name: str = "temperature_K") -> float:
    """``value`` as a temperature in K: a number >= 0, or ``inf`` (string or float)."""
    if isinstance(value, str) and value.strip().lower() in ("inf", "+inf", "infinity", ".inf"):
        return math.inf
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise StrategyError(f"{name} = {value!r} is not allowed: need a number >= 0 (K) or inf")
    t = float(value)
    if math.isnan(t) or t < 0:
        raise StrategyError(f"{name} = {value!r} is not allowed: need a number >= 0 (K) or inf")
    return t


def _sub_mapping(value: Any, name: str, keys: tuple[str, ...]) -> Mapping[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise StrategyError(f"{name} = {value!r} is not allowed: need a mapping with keys {', '.join(keys)}")
    bad = [k for k in value if k not in keys]
    if bad:
        raise StrategyError(f"{name}.{bad[0]} is not a key of {name}; its keys are {', '.join(keys)}")
    return value


def parse_strategy(value: Any) -> ArrangementStrategy:
    """An :class:`ArrangementStrategy` from a campaign's ``arrangements`` value.

    Raises
    ------
    StrategyError
        (an :class:`~sianode.errors.InputError`) naming the bad value and the allowed spellings.
    """
    if isinstance(value, ArrangementStrategy):
        return value
    if value is None:
        return ArrangementStrategy()
    if isinstance(value, str):
        name = value.strip()
        if name in ("dispersed", "compact", "sqs"):
            return ArrangementStrategy(kind=name)
        raise StrategyError(f"arrangement strategy {value!r} does not exist", spellings=True)
    if not isinstance(value, Mapping) or len(value) != 1:
        raise StrategyError(f"arrangements = {value!r} is not a strategy: need one name or a mapping of one name",
                            spellings=True)
    ((kind, arg),) = value.items()
    if kind in ("dispersed", "compact"):
        return ArrangementStrategy(kind=kind, count=_positive_int(arg, kind))
    if kind == "classes":
        ids = [arg] if isinstance(arg, (int, np.integer)) and not isinstance(arg, bool) else arg
        if not isinstance(ids, (list, tuple)) or not ids or any(
                isinstance(i, bool) or not isinstance(i, (int, np.integer)) or i < 0 for i in ids):
            raise StrategyError(f"classes = {arg!r} is not allowed: need a list of class ids (integers >= 0)")
        return ArrangementStrategy(kind="classes", classes=tuple(dict.fromkeys(int(i) for i in ids)))
    if kind == "ensemble":
        sub = _sub_mapping(arg, "ensemble", _ENSEMBLE_KEYS)
        if "max" not in sub:
            raise StrategyError("ensemble.max is missing: need the most classes that carry Li work (>= 1)")
        return ArrangementStrategy(
            kind="ensemble", count=_positive_int(sub["max"], "ensemble.max"),
            temperature_K=_temperature(sub.get("temperature_K", "inf"), "ensemble.temperature_K"),
            samples=_positive_int(sub.get("samples", DEFAULT_SAMPLES), "ensemble.samples"),
            seed=_seed(sub.get("seed", 0)))
    if kind == "sqs":
        sub = _sub_mapping(arg, "sqs", _SQS_KEYS)
        return ArrangementStrategy(kind="sqs", steps=_positive_int(sub.get("steps", DEFAULT_SQS_STEPS), "steps"),
                                   seed=_seed(sub.get("seed", 0)))
    raise StrategyError(f"arrangement strategy {kind!r} does not exist", spellings=True)


def _seed(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
        raise StrategyError(f"seed = {value!r} is not allowed: need an integer >= 0")
    return int(value)


# ------------------------------------------------------------------ numbers
def min_dopant_distance(atoms: Any, indices: Sequence[int]) -> float:
    """Smallest minimum-image distance between two dopant sites, Angstrom.

    Parameters
    ----------
    atoms : ase.Atoms
        The host (periodic).
    indices : sequence of int
        Dopant site indices.

    Returns
    -------
    float
        ``min_{i<j} |r_j - r_i|_mic``; ``inf`` for fewer than two dopants.
    """
    idx = np.asarray(list(indices), dtype=int)
    if idx.size < 2:
        return math.inf
    pos = atoms.get_positions()[idx]
    i, j = np.triu_indices(len(idx), 1)
    return float(mic_lengths(pos[j] - pos[i], atoms.cell[:]).min())


def ensemble_weights(
    multiplicities: Sequence[int] | np.ndarray,
    energies_eV: Sequence[float] | np.ndarray | None = None,
    temperature_K: float = math.inf,
) -> np.ndarray:
    """Normalised weights of arrangement classes.

    ``w_c = g_c exp(-(E_c - E_min) / (k_B T)) / Z``, ``Z`` making ``sum w = 1``: the
    Boltzmann probability of a configuration class with degeneracy ``g_c`` in the
    configurational canonical ensemble (Grau-Crespo, Hamad, Bromley, Fernandez Lopez,
    de Leeuw, J. Phys.: Condens. Matter 19 (2007) 256201, eq. 3; PHYSICS.md section 7).
    At ``T = inf`` (or without energies at ``T = inf``) ``w_c = g_c / sum g``: the ideal
    random alloy, ``g_c / C(N, k)`` when the classes are all of them. At ``T = 0`` the
    weight is shared by the lowest-energy classes (within 1e-9 eV) by multiplicity.

    Parameters
    ----------
    multiplicities : (C,) int
        Class multiplicities ``g_c`` (> 0).
    energies_eV : (C,) float, optional
        Relaxed host energies, eV (needed when ``temperature_K`` is finite).
    temperature_K : float
        Temperature, K, >= 0 or ``inf``.

    Returns
    -------
    np.ndarray (C,)
        Weights summing to 1.
    """
    from ase.units import kB

    g = np.asarray(multiplicities, dtype=float)
    t = _temperature(temperature_K)
    if g.ndim != 1 or g.size == 0 or np.any(~np.isfinite(g)) or np.any(g <= 0):
        raise InputError(f"multiplicities = {list(np.atleast_1d(g))[:6]}: need a non-empty list of numbers > 0")
    if math.isinf(t):
        return g / g.sum()
    if energies_eV is None:
        raise InputError(f"temperature_K = {t:g} needs the host energies (energies_eV); allowed without them: inf")
    e = np.asarray(energies_eV, dtype=float)
    if e.shape != g.shape:
        raise InputError(f"energies_eV has {e.size} values for {g.size} classes: need one per class")
    if np.any(~np.isfinite(e)):
        raise InputError(f"energies_eV = {e.tolist()[:6]}: need finite energies (eV)")
    de = e - e.min()
    if t == 0.0:
        w = g * (de <= 1e-9)
    else:
        w = g * np.exp(-de / (kB * t))  # de >= 0: no overflow; the minimum class keeps exp(0) = 1
    return w / w.sum()


# ------------------------------------------------------------------ selection
def arrangement_classes(host_atoms: Any, count: int, strategy: Any = "dispersed",
                        symprec: float = 1e-3) -> ArrangementSet:
    """The enumeration a strategy chooses from (exact, or its seeded sample when too large)."""
    s = parse_strategy(strategy)
    return enumerate_arrangements(host_atoms, count, n_samples=s.samples, seed=s.seed, symprec=symprec)


def _weighted(classes: Sequence[ArrangementClass], weights: np.ndarray, source: str) -> list[ArrangementClass]:
    return [replace(c, weight=float(w), weight_source=source) for c, w in zip(classes, weights)]


def ensemble_hosts(host_atoms: Any, count: int, strategy: Any, *,
                   arrangements: ArrangementSet | None = None) -> list[ArrangementClass]:
    """Every class whose host is relaxed: all classes for an ensemble, else the selection.

    Weights are set at ``T = inf`` (by multiplicity over all classes); at a finite
    temperature they stay ``None`` until the host energies are known.
    """
    s = parse_strategy(strategy)
    if not s.is_ensemble:
        return select_arrangements(host_atoms, count, s, arrangements=arrangements)
    classes = list(arrangements if arrangements is not None else arrangement_classes(host_atoms, count, s))
    if s.finite_temperature:
        return [replace(c, weight=None, weight_source=s.weight_source) for c in classes]
    return _weighted(classes, ensemble_weights([c.multiplicity for c in classes]), s.weight_source)


def _dispersed_key(atoms: Any, c: ArrangementClass) -> tuple[float, int, int]:
    return (-round(min_dopant_distance(atoms, c.dopant_indices), 4), -c.multiplicity, c.id)


def select_arrangements(
    host_atoms: Any,
    count: int,
    strategy: Any = "dispersed",
    *,
    energies_eV: Sequence[float] | Mapping[int, float] | None = None,
    arrangements: ArrangementSet | None = None,
) -> list[ArrangementClass]:
    """The arrangement classes that carry the Li work, with their weights.

    Parameters
    ----------
    host_atoms : ase.Atoms
        The pure host (every Si atom a candidate site).
    count : int
        Dopants per cell.
    strategy
        Anything :func:`parse_strategy` accepts.
    energies_eV
        ``ensemble`` at a finite temperature: relaxed host energy of each class (a sequence
        in enumeration order, or a mapping class id -> eV; classes without one are left out).
    arrangements : ArrangementSet, optional
        The enumeration to choose from (default :func:`arrangement_classes`).

    Returns
    -------
    list of ArrangementClass
        With ``weight`` and ``weight_source``: for ``dispersed``/``compact``/``classes`` the
        class's share of the ideal random alloy, ``g_c / C(N, k)`` (what a representative
        covers, never passed off as the whole ensemble); for an ensemble the weights over all
        its classes (the chosen ones cover ``sum(weight)``); an SQS stands for the random
        alloy: 1.

    Raises
    ------
    InputError
        A bad strategy, a class id that does not exist (names it and the allowed range),
        a finite-temperature ensemble without energies.
    """
    s = parse_strategy(strategy)
    if s.kind == "sqs":
        from sianode.structures.sqs import sqs_arrangement

        return [sqs_arrangement(host_atoms, count, steps=s.steps, seed=s.seed)]
    aset = arrangements if arrangements is not None else arrangement_classes(host_atoms, count, s)
    classes = list(aset)
    if s.kind == "compact":
        chosen = classes[: s.count]
    elif s.kind == "dispersed":
        chosen = sorted(classes, key=lambda c: _dispersed_key(host_atoms, c))[: s.count]
    elif s.kind == "classes":
        by_id = {c.id: c for c in classes}
        missing = [i for i in s.classes if i not in by_id]
        if missing:
            raise InputError(
                f"arrangements: class id {missing[0]} does not exist for {count} dopants in {len(host_atoms)} sites: "
                f"allowed class ids 0-{len(classes) - 1}")
        chosen = [by_id[i] for i in s.classes]
    else:
        return _ensemble_selection(host_atoms, classes, s, energies_eV)
    total = math.comb(int(aset.n_sites), int(aset.n_dopants))
    return _weighted(chosen, np.array([c.multiplicity / total for c in chosen]), "multiplicity")


def _ensemble_selection(atoms: Any, classes: list[ArrangementClass], s: ArrangementStrategy,
                        energies_eV: Any) -> list[ArrangementClass]:
    if s.finite_temperature:
        if energies_eV is None:
            raise InputError(f"ensemble at temperature_K = {s.temperature_K:g} needs the relaxed host energy of "
                             "every class (energies_eV); allowed without them: temperature_K: inf")
        if isinstance(energies_eV, Mapping):
            have = {int(k): float(v) for k, v in energies_eV.items()}
        else:
            values = list(energies_eV)
            if len(values) != len(classes):
                raise InputError(f"energies_eV has {len(values)} values for {len(classes)} classes: need one per class")
            have = {c.id: float(v) for c, v in zip(classes, values)}
        classes = [c for c in classes if c.id in have and math.isfinite(have[c.id])]
        if not classes:
            raise InputError("no arrangement class has a host energy: relax the hosts first")
        weights = ensemble_weights([c.multiplicity for c in classes], [have[c.id] for c in classes], s.temperature_K)
    else:
        weights = ensemble_weights([c.multiplicity for c in classes])
    weighted = _weighted(classes, weights, s.weight_source)
    order = sorted(weighted, key=lambda c: (-round(float(c.weight or 0.0), 12), *_dispersed_key(atoms, c)))
    return [c for c in order if (c.weight or 0.0) > 0][: s.count]


def strategy_hosts(host_atoms: Any, count: int, strategy: Any = "dispersed") -> list[tuple[ArrangementClass, bool]]:
    """``(class, carries_li)`` of every host a strategy relaxes for one (cell, count).

    ``carries_li`` is False for the ensemble classes that are relaxed only: outside the
    ``max`` heaviest (``T = inf``), or all of them until the host energies give the
    weights (finite ``T``). Other strategies: their selection, each with Li work.
    """
    s = parse_strategy(strategy)
    if not s.is_ensemble:
        return [(c, True) for c in select_arrangements(host_atoms, count, s)]
    classes = arrangement_classes(host_atoms, count, s)
    every = ensemble_hosts(host_atoms, count, s, arrangements=classes)
    if s.finite_temperature:
        return [(c, False) for c in every]
    chosen = {c.id for c in select_arrangements(host_atoms, count, s, arrangements=classes)}
    return [(c, c.id in chosen) for c in every]
