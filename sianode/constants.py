"""Physical constants and cited reference values used by more than one package (layer 1).

Every module takes them from here (or from :mod:`ase.units` directly), none redefines them.
Units: eV, Kelvin, SI with the unit in the name.
"""

from __future__ import annotations

from ase.units import kB as _KB

#: Boltzmann constant, eV/K (:data:`ase.units.kB`, ASE's CODATA set).
K_B_EV_K: float = float(_KB)

#: Citation of Pell's measurement of Li diffusion in crystalline Si.
PELL_1960 = "Pell, Phys. Rev. 119 (1960) 1222: D = 2.3e-3 exp(-0.66 eV/kT) cm^2/s"
#: Pre-exponential factor of Pell's Arrhenius fit, m^2/s (2.3e-3 cm^2/s; measured at 25-1350 C).
PELL_D0_M2_S: float = 2.3e-7
#: Activation energy of Pell's Arrhenius fit, eV.
PELL_EA_EV: float = 0.66

#: Attempt frequency of a Li hop when none is computed, Hz (the usual phonon scale, 1e13 Hz;
#: harmonic TST, Vineyard, J. Phys. Chem. Solids 3 (1957) 121; PHYSICS.md section 4).
DEFAULT_ATTEMPT_FREQUENCY_HZ: float = 1e13

__all__ = ["DEFAULT_ATTEMPT_FREQUENCY_HZ", "K_B_EV_K", "PELL_1960", "PELL_D0_M2_S", "PELL_EA_EV"]
