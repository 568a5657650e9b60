"""Attempt frequency of a Li hop from a harmonic (Vineyard) estimate.

Vineyard, J. Phys. Chem. Solids 3 (1957) 121: in harmonic transition-state theory the
prefactor of the hop rate k = nu* exp(-E_a/kT) is the ratio of the normal-mode frequencies
at the minimum to the real ones at the saddle::

    nu* = prod_{i=1..N} nu_i(minimum) / prod_{i=1..N-1} nu'_i(saddle).

Here only the hopping Li atom moves (the host is frozen: N = 3): its 3 x 3 Hessian
H_ab = d^2 E / dx_a dx_b is taken by central finite differences of the forces,
H[:, b] = -(F(x + delta e_b) - F(x - delta e_b)) / (2 delta), symmetrised, and divided by
the Li mass; the eigenvalues are omega^2. The minimum must have three positive eigenvalues
and the saddle exactly one negative one; nu = omega / (2 pi). The frozen-host estimate is
the usual one for a light interstitial (the host modes nearly cancel in the ratio).
"""

from __future__ import annotations

import logging
import math
from typing import Any

import numpy as np
from ase.units import _amu, _e

from sianode.errors import InputError

log = logging.getLogger(__name__)

#: eigenvalue of H/m in eV / (Angstrom^2 amu) -> omega^2 in s^-2.
_EV_PER_A2_AMU_TO_S2 = _e / (1e-20 * _amu)


def li_hessian(atoms: Any, index: int, calculator: Any, delta_A: float = 0.01) -> np.ndarray:
    """3 x 3 Hessian (eV / Angstrom^2) of the energy in the position of atom ``index`` only.

    Central finite differences of the forces (the other atoms fixed); ``atoms`` is not
    changed (a copy carries the calculator).
    """
    if not (isinstance(index, (int, np.integer)) and 0 <= index < len(atoms)):
        raise InputError(f"index = {index!r}; need an atom index in 0..{len(atoms) - 1}")
    if not (math.isfinite(delta_A) and delta_A > 0):
        raise InputError(f"delta_A = {delta_A!r}; need a positive displacement in Angstrom (e.g. 0.01)")
    work = atoms.copy()
    work.calc = calculator
    pos0 = work.get_positions()
    hess = np.zeros((3, 3))
    for b in range(3):
        forces = []
        for sign in (1.0, -1.0):
            pos = pos0.copy()
            pos[index, b] += sign * delta_A
            work.set_positions(pos)
            forces.append(work.get_forces()[index])
        hess[:, b] = -(forces[0] - forces[1]) / (2.0 * delta_A)
    return 0.5 * (hess + hess.T)


def harmonic_frequencies_Hz(hessian_eV_A2: np.ndarray, mass_amu: float) -> np.ndarray:
    """Signed frequencies sign(w^2) sqrt(|w^2|) / (2 pi), Hz, ascending, of H / m."""
    w2 = np.linalg.eigvalsh(np.asarray(hessian_eV_A2, dtype=float) / mass_amu) * _EV_PER_A2_AMU_TO_S2
    return np.sign(w2) * np.sqrt(np.abs(w2)) / (2.0 * math.pi)


def vineyard_attempt_frequency(minimum: Any, saddle: Any, index: int, calculator: Any, delta_A: float = 0.01) -> float:
    """Vineyard attempt frequency nu* (Hz) of the hop of atom ``index`` (module docstring).

    Parameters
    ----------
    minimum, saddle : ase.Atoms
        Relaxed start structure and the saddle (e.g. the climbing image of an NEB), same
        atoms in the same order.
    index : int
        Index of the hopping Li atom.
    calculator : ase Calculator
        Any ASE calculator (attached to copies; the inputs are not changed).
    delta_A : float
        Finite-difference displacement, Angstrom.

    Returns
    -------
    float
        nu* = prod(3 frequencies at the minimum) / prod(2 real frequencies at the saddle), Hz.
    """
    if len(minimum) != len(saddle):
        raise InputError(f"minimum has {len(minimum)} atoms and saddle {len(saddle)}; they must be the same system")
    mass = float(minimum.get_masses()[index]) if 0 <= index < len(minimum) else 0.0
    f_min = harmonic_frequencies_Hz(li_hessian(minimum, index, calculator, delta_A), mass)
    f_sad = harmonic_frequencies_Hz(li_hessian(saddle, index, calculator, delta_A), mass)
    if np.any(f_min <= 0):
        raise InputError(
            f"Vineyard: the minimum is not a minimum for atom {index} (frequencies {np.round(f_min / 1e12, 3).tolist()} THz; "
            "need three positive); relax it first"
        )
    if not (f_sad[0] < 0 < f_sad[1]):
        raise InputError(
            f"Vineyard: the saddle is not a first-order saddle for atom {index} (frequencies "
            f"{np.round(f_sad / 1e12, 3).tolist()} THz; need exactly one imaginary, shown negative)"
        )
    nu = float(np.prod(f_min) / np.prod(f_sad[1:]))
    log.debug("Vineyard: minimum %s THz, saddle %s THz, nu* = %.4g Hz", f_min / 1e12, f_sad / 1e12, nu)
    return nu
