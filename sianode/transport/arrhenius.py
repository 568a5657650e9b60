"""Effective activation energy and prefactor of a network's diffusivity (PHYSICS.md section 6).

D_eff(T) of a network is not a single exponential; the effective activation energy is the
slope of a least-squares line of ln D_eff against 1/kT over a stated range::

    ln D = ln D0 - E_a,eff / (k T)

(the Arrhenius form that experiments such as Pell, Phys. Rev. 119 (1960) 1222 report:
D = 2.3e-3 exp(-0.66 eV / kT) cm^2/s). On a single-barrier network it returns that barrier
and the prefactor (1/6) z d^2 nu exactly.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from ase.units import kB

from sianode.errors import InputError
from sianode.transport.network import HopNetwork
from sianode.transport.solver import diffusivity


@dataclass(frozen=True)
class ArrheniusFit:
    """Arrhenius fit of D_eff(T).

    Attributes
    ----------
    Ea_eV : float
        Effective activation energy, eV.
    D0_m2_s : float
        Prefactor, m^2/s.
    t_range_K : tuple[float, float]
        Temperature range of the fit, K.
    """

    Ea_eV: float
    D0_m2_s: float
    t_range_K: tuple[float, float]

    def diffusivity_m2_s(self, temperature_K: float) -> float:
        """D0 exp(-Ea / kT), m^2/s."""
        return self.D0_m2_s * math.exp(-self.Ea_eV / (kB * float(temperature_K)))

    def as_dict(self) -> dict[str, Any]:
        return {"Ea_eV": self.Ea_eV, "D0_m2_s": self.D0_m2_s, "t_range_K": list(self.t_range_K)}


def parse_t_range(t_range_K: Any) -> tuple[float, float]:
    """``(T1, T2)`` or ``"T1:T2"`` as two floats with 0 < T1 < T2, or InputError."""
    text = t_range_K
    if isinstance(t_range_K, str):
        parts = t_range_K.split(":")
        if len(parts) != 2:
            raise InputError(f"temperature range {t_range_K!r}; write it as T1:T2 in kelvin, e.g. 250:400")
        t_range_K = parts
    try:
        t1, t2 = (float(x) for x in t_range_K)
    except (TypeError, ValueError) as exc:
        raise InputError(f"temperature range {text!r}; need two numbers of kelvin, e.g. 250:400") from exc
    if not (math.isfinite(t1) and math.isfinite(t2) and 0 < t1 < t2):
        raise InputError(f"temperature range {text!r}; need 0 < T1 < T2 (kelvin), e.g. 250:400")
    return t1, t2


def fit_arrhenius(temperatures_K: np.ndarray, d_m2_s: np.ndarray) -> tuple[float, float]:
    """Least-squares (Ea_eV, D0_m2_s) of ln D = ln D0 - Ea / kT."""
    x = 1.0 / (kB * np.asarray(temperatures_K, dtype=float))
    y = np.log(np.asarray(d_m2_s, dtype=float))
    slope, intercept = np.polyfit(x, y, 1)
    return float(-slope), float(math.exp(intercept))


def arrhenius_fit(net: HopNetwork, t_range_K: Any = (250.0, 400.0), n_points: int = 7) -> ArrheniusFit:
    """Fit the exact D_eff(T) of ``net`` at ``n_points`` temperatures evenly spaced in 1/T.

    Parameters
    ----------
    net : HopNetwork
    t_range_K : (T1, T2) or "T1:T2"
        Temperature range, K.
    n_points : int
        Number of temperatures (>= 2).
    """
    t1, t2 = parse_t_range(t_range_K)
    if isinstance(n_points, bool) or not isinstance(n_points, (int, np.integer)) or n_points < 2:
        raise InputError(f"n_points = {n_points!r}; need an integer >= 2")
    temps = 1.0 / np.linspace(1.0 / t1, 1.0 / t2, int(n_points))
    ds = np.array([diffusivity(net, t) for t in temps])
    ea, d0 = fit_arrhenius(temps, ds)
    return ArrheniusFit(Ea_eV=ea, D0_m2_s=d0, t_range_K=(t1, t2))
