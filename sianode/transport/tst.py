"""Harmonic transition-state theory rates and the diamond-lattice random-walk diffusivity.

This module is the ONE place the single-barrier formula of PHYSICS.md section 4 lives::

    k = nu exp(-E_a / kT)                                  (harmonic TST; Vineyard,
                                                            J. Phys. Chem. Solids 3 (1957) 121)
    D = (1/6) z d^2 nu exp(-E_a / kT),  z = 4,  d = sqrt(3)/4 a

(random walk on the diamond T-site lattice: D = Gamma d^2 / 6 with total hop rate
Gamma = z k; e.g. Philibert, "Atom Movements: Diffusion and Mass Transport in Solids"
(1991), ch. 1). With a = 5.43 A and nu = 1e13 Hz the prefactor is 3.7e-7 m^2/s.
"""

from __future__ import annotations

import math

from sianode.constants import DEFAULT_ATTEMPT_FREQUENCY_HZ
from sianode.constants import K_B_EV_K as kB
from sianode.errors import InputError

#: T-T neighbours of a T site in diamond Si.
DIAMOND_T_COORDINATION = 4


def _positive(name: str, value: float) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError) as exc:
        raise InputError(f"{name} = {value!r}; need a positive finite number") from exc
    if not (math.isfinite(v) and v > 0):
        raise InputError(f"{name} = {value!r}; need a positive finite number")
    return v


def tst_rate(barrier_eV: float, T: float, nu: float = DEFAULT_ATTEMPT_FREQUENCY_HZ) -> float:
    """Hop rate k = nu exp(-E_a / kT), Hz (harmonic TST, Vineyard 1957).

    Parameters
    ----------
    barrier_eV : float
        Barrier E_a, eV (any finite value; a negative barrier gives k > nu).
    T : float
        Temperature, K (> 0).
    nu : float
        Attempt frequency, Hz (> 0).
    """
    t = _positive("temperature T (K)", T)
    nu = _positive("attempt frequency nu (Hz)", nu)
    e = float(barrier_eV)
    if not math.isfinite(e):
        raise InputError(f"barrier_eV = {barrier_eV!r}; need a finite number of eV")
    return nu * math.exp(-e / (kB * t))


def diamond_tst_diffusivity(a_A: float, barrier_eV: float, T: float, nu: float = DEFAULT_ATTEMPT_FREQUENCY_HZ) -> float:
    """Li diffusivity on the perfect diamond T lattice, m^2/s: (1/6) z d^2 nu exp(-E_a/kT).

    z = 4, d = sqrt(3)/4 a (PHYSICS.md section 4; Vineyard 1957 for the rate). The exact
    network solver gives the same number on :func:`~sianode.transport.diamond_t_network`
    (tests/transport/test_solver.py).

    Parameters
    ----------
    a_A : float
        Cubic lattice constant, Angstrom.
    barrier_eV : float
        T -> H -> T barrier, eV.
    T : float
        Temperature, K.
    nu : float
        Attempt frequency, Hz.
    """
    a = _positive("a_A (lattice constant, Angstrom)", a_A)
    d_m = math.sqrt(3.0) / 4.0 * a * 1e-10
    return DIAMOND_T_COORDINATION * d_m * d_m * tst_rate(barrier_eV, T, nu) / 6.0
