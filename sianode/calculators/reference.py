"""The Li chemical potential: relaxed bcc Li with the same calculator as the host.

E_ins = E(host + Li) - E(host) - mu_Li, mu_Li = E(bcc Li) / atom (PHYSICS.md section 3;
Long, Chan, Greeley, Gewirth, J. Phys. Chem. C 115 (2011) 18916).
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np

from sianode.calculators.registry import DEFAULT_CALCULATOR
from sianode.calculators.relax import relax
from sianode.calculators.results import ReferenceResult
from sianode.errors import CalculationFailed

logger = logging.getLogger(__name__)

#: start lattice constant of bcc Li, A (experiment at 78 K: 3.48 A; DFT-PBE about 3.44 A).
LI_BCC_A_START = 3.44


def bcc_li_reference(calculator: Any = DEFAULT_CALCULATOR, fmax: float = 0.01, steps: int = 300,
                     a_start_A: float = LI_BCC_A_START) -> ReferenceResult:
    """Relax the conventional bcc Li cell (2 atoms, cell relaxed) and return mu_Li per atom.

    Raises
    ------
    CalculationFailed
        When the relaxation does not converge within ``steps`` (a chemical potential from an
        unrelaxed cell would silently shift every insertion energy).
    """
    from ase.build import bulk

    atoms = bulk("Li", "bcc", a=a_start_A, cubic=True)
    result = relax(atoms, calculator, fmax=fmax, cell=True, steps=steps, optimizer="BFGS")
    if not result.converged:
        raise CalculationFailed(f"bcc Li reference did not converge to fmax={fmax} eV/A in {steps} steps "
                                f"(reached {result.fmax_eV_A:.3g} eV/A); raise steps or fmax")
    final = result.structure
    a = float(np.mean(final.cell.lengths()))
    mu = result.energy_eV / len(final)
    logger.info("bcc Li reference: a = %.4f A, mu_Li = %.6f eV/atom", a, mu)
    return ReferenceResult(mu_Li_eV=float(mu), a_A=a, structure=final, energy_eV=result.energy_eV,
                           converged=True, steps=result.steps, n_force_calls=result.n_force_calls,
                           wall_s=result.wall_s, calculator=result.calculator, arrays=result.arrays)
