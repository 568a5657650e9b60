"""Records of the concentration trends: weighted statistics over arrangement classes, the
numbers of one host, explicit points, superposition curve points, and per-dopant trends.

Filled by :func:`sianode.analysis.concentration.concentration_trends`; plain dataclasses with
``as_dict()`` (JSON-safe), no database access.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any, Sequence

import numpy as np

from sianode.analysis.docs import short
from sianode.errors import InputError

__all__ = [
    "ADDITIVITY_FACTOR", "CurvePoint", "DopantTrend", "ExplicitPoint", "HostValues", "Stat", "Trends",
    "nearest_curve_point", "percent_text", "weighted_stat",
]

#: the superposition is taken as checked at a concentration when it gives the explicit network's
#: D_eff / D_pure within this factor (|log10 difference| <= log10 2); beyond it the dopant's
#: shifts do not add up (e.g. a charge transfer that spreads over the whole cell)
ADDITIVITY_FACTOR = 2.0


def percent_text(percent: float) -> str:
    """An actual atom % as users read it: 4 decimals at most, trailing zeros dropped (1/216 -> ``0.463``,
    1/64 -> ``1.5625``)."""
    return f"{round(float(percent), 4):g}"


# ------------------------------------------------------------------ statistics
@dataclass
class Stat:
    """A quantity over the arrangement classes (hosts) of one concentration.

    Attributes
    ----------
    mean : float
        Weighted mean, sum_c w_c x_c / sum_c w_c over the hosts with a value.
    spread : float
        Weighted standard deviation (0 for one host): the ensemble spread.
    lo, hi : float
        Smallest and largest host value.
    n : int
        Hosts with a value.
    covered_weight : float or None
        Fraction of the total weight of all arrangement classes at this concentration that
        these hosts carry (1: the whole ensemble; None when the total is unknown).
    """

    mean: float
    spread: float
    lo: float
    hi: float
    n: int
    covered_weight: float | None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def weighted_stat(values: Sequence[float | None], weights: Sequence[float],
                  total_weight: float | None = None) -> Stat | None:
    """Weighted mean, spread (standard deviation), range and covered weight; None values skipped.

    Parameters
    ----------
    values : sequence of float or None, shape (n,)
    weights : sequence of float, shape (n,)
        Non-negative weights of the hosts (any normalisation).
    total_weight : float, optional
        Total weight of every class at this concentration, same normalisation; None: unknown.

    Returns
    -------
    Stat or None
        None when no value is given.
    """
    if len(values) != len(weights):
        raise InputError(f"weighted_stat needs one weight per value, got {len(weights)} and {len(values)}")
    pairs = [(float(v), float(w)) for v, w in zip(values, weights) if v is not None and math.isfinite(float(v))]
    if not pairs:
        return None
    x = np.array([p[0] for p in pairs])
    w = np.array([p[1] for p in pairs])
    if np.any(w < 0):
        raise InputError(f"weights must be >= 0, got {w.tolist()}")
    if w.sum() <= 0:
        w = np.ones_like(w)
    mean = float(np.sum(w * x) / np.sum(w))
    spread = float(math.sqrt(max(float(np.sum(w * (x - mean) ** 2) / np.sum(w)), 0.0)))
    covered = None if not total_weight else min(float(np.sum(w)) / float(total_weight), 1.0)
    return Stat(mean, spread, float(x.min()), float(x.max()), int(x.size), covered)


# ------------------------------------------------------------------ records
@dataclass
class HostValues:
    """The numbers of one stored host (one arrangement class at one concentration).

    ``weight``: ``labels.arrangement_weight`` when stored (``weight_kind`` "ensemble"), else
    the arrangement multiplicity (``weight_kind`` "multiplicity"). Energies in eV, E_ins vs
    bcc Li; ``ratio_to_pure`` = D_eff / D_pure (same calculator, ``T_K``).
    """

    host_key: str
    dopant: str
    percent: float
    supercell: int | None
    n_dopants: int
    arrangement: Any
    weight: float
    weight_kind: str
    n_t_done: int = 0
    n_t_failed: int = 0
    e_ins_nearest_eV: float | None = None
    e_ins_min_eV: float | None = None
    e_ins_avg_eV: float | None = None
    n_hops_done: int = 0
    barrier_near_eV: float | None = None
    barrier_min_eV: float | None = None
    barrier_max_eV: float | None = None
    ratio_to_pure: float | None = None
    Ea_eff_eV: float | None = None
    D_eff_m2_s: float | None = None
    network_missing: list[str] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class ExplicitPoint:
    """Explicit cells of one dopant at one actual atom %: every quantity as a :class:`Stat`."""

    dopant: str
    percent: float
    supercell: int | None
    n_dopants: int
    hosts: list[HostValues]
    e_ins_nearest: Stat | None = None
    e_ins_min: Stat | None = None
    e_ins_avg: Stat | None = None
    barrier_near: Stat | None = None
    barrier_min: Stat | None = None
    barrier_max: Stat | None = None
    ratio_to_pure: Stat | None = None
    Ea_eff: Stat | None = None

    @property
    def n_hosts(self) -> int:
        return len(self.hosts)

    @property
    def network_complete(self) -> bool:
        """Every host of this concentration has a complete hop network."""
        return bool(self.hosts) and all(h.ratio_to_pure is not None for h in self.hosts)

    @property
    def network_missing(self) -> list[str]:
        return [f"{short(h.host_key)}: {m}" for h in self.hosts for m in h.network_missing]

    @property
    def sources(self) -> list[str]:
        return list(dict.fromkeys(k for h in self.hosts for k in h.sources))

    def as_dict(self) -> dict[str, Any]:
        out = {"dopant": self.dopant, "percent": self.percent, "supercell": self.supercell,
               "n_dopants": self.n_dopants, "n_hosts": self.n_hosts, "network_complete": self.network_complete,
               "network_missing": self.network_missing, "hosts": [h.as_dict() for h in self.hosts]}
        for name in ("e_ins_nearest", "e_ins_min", "e_ins_avg", "barrier_near", "barrier_min", "barrier_max",
                     "ratio_to_pure", "Ea_eff"):
            stat = getattr(self, name)
            out[name] = stat.as_dict() if stat is not None else None
        return out


@dataclass
class CurvePoint:
    """One point of the superposition curve (:func:`sianode.transport.concentration_curve`)."""

    percent: float
    n_dopants: int
    ratio_to_pure: float
    ratio_stderr: float
    Ea_eff_eV: float | None
    D_m2_s: float
    stderr_m2_s: float

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class DopantTrend:
    """Explicit points, superposition curve and their differences for one dopant.

    ``comparisons``: one dict per explicit concentration with a complete network: ``percent,
    explicit_ratio, explicit_spread, superposition_ratio, superposition_stderr,
    log10_difference`` (log10 explicit / superposition), ``explicit_Ea_eV,
    superposition_Ea_eV, Ea_difference_eV``.
    """

    dopant: str
    points: list[ExplicitPoint] = field(default_factory=list)
    curve: list[CurvePoint] = field(default_factory=list)
    curve_source: dict[str, Any] = field(default_factory=dict)
    curve_missing: str | None = None
    comparisons: list[dict[str, Any]] = field(default_factory=list)

    def point(self, percent: float) -> ExplicitPoint | None:
        return next((p for p in self.points if abs(p.percent - percent) <= 1e-3), None)

    @property
    def additivity_ok(self) -> bool | None:
        """Whether the superposition matched every explicit complete network within
        :data:`ADDITIVITY_FACTOR` (None: nothing to compare with)."""
        diffs = [c["log10_difference"] for c in self.comparisons if c["log10_difference"] is not None]
        if not diffs:
            return None
        return all(abs(d) <= math.log10(ADDITIVITY_FACTOR) for d in diffs)

    def curve_at(self, percent: float) -> CurvePoint | None:
        """The curve point of ``percent`` (its superposition cell's actual % within half a dopant)."""
        return nearest_curve_point(self.curve, percent)

    def as_dict(self) -> dict[str, Any]:
        return {"dopant": self.dopant, "points": [p.as_dict() for p in self.points],
                "curve": [c.as_dict() for c in self.curve], "curve_source": dict(self.curve_source),
                "curve_missing": self.curve_missing, "comparisons": [dict(c) for c in self.comparisons],
                "additivity_ok": self.additivity_ok}


@dataclass
class Trends:
    """Concentration trends of one calculator: pure Si points, one :class:`DopantTrend` per dopant."""

    calculator: str
    T_K: float
    pure: list[ExplicitPoint] = field(default_factory=list)
    dopants: dict[str, DopantTrend] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    def pure_reference(self) -> ExplicitPoint | None:
        """The pure-Si point of the 64-site cell when there is one, else the largest cell."""
        if not self.pure:
            return None
        return min(self.pure, key=lambda p: (p.supercell != 2, -(p.supercell or 0)))

    @property
    def percents(self) -> list[float]:
        """Every actual atom % with an explicit host, ascending."""
        return sorted({round(p.percent, 6) for t in self.dopants.values() for p in t.points})

    def as_dict(self) -> dict[str, Any]:
        return {"calculator": self.calculator, "T_K": self.T_K, "pure": [p.as_dict() for p in self.pure],
                "dopants": {k: v.as_dict() for k, v in self.dopants.items()}, "problems": list(self.problems)}


def nearest_curve_point(curve: Sequence[CurvePoint], percent: float) -> CurvePoint | None:
    """The curve point at ``percent`` (same number of dopants per site within 0.5 of one dopant)."""
    best = min(curve, key=lambda c: abs(c.percent - percent), default=None)
    if best is None:
        return None
    cell_sites = 100.0 * best.n_dopants / best.percent if best.percent > 0 else None
    tol = 50.0 / cell_sites if cell_sites else 1e-3  # half a dopant of the superposition cell, in atom %
    return best if abs(best.percent - percent) <= max(tol, 1e-3) else None
