"""Li transport through the whole hop network: plain functions over numbers and arrays.

Layer 3 of sianode (PHYSICS.md sections 6-7): numpy, scipy and ase.units only; no
database, no calculators, no workflows.

- :class:`HopNetwork` (sites, hops, validation, the JSON file of
  ``sianode transport network``) and :class:`NetworkError`;
- :func:`diffusion_tensor` / :func:`diffusivity`: exact D of the periodic jump network
  (the homogenisation "cell problem"; Haus, Kehr, Phys. Rep. 150 (1987) 263);
- :func:`kmc_diffusivity`: rejection-free kinetic Monte Carlo of the same network
  (Bortz, Kalos, Lebowitz, J. Comput. Phys. 17 (1975) 10);
- :func:`arrhenius_fit`: effective activation energy and prefactor over a T range;
- :func:`tst_rate`, :func:`diamond_tst_diffusivity`: (1/6) z d^2 nu exp(-E_a/kT);
  :func:`diamond_t_network`: the perfect diamond T-site network;
- :func:`vineyard_attempt_frequency`: harmonic attempt frequency (Vineyard 1957);
- :class:`DopantKernel`, :func:`kernel_from_network`, :func:`superposed_network`,
  :func:`concentration_curve`: dilute superposition of one dopant's shifts.

Heavy imports (scipy.sparse) happen inside the functions that need them.
"""

from __future__ import annotations

from sianode.transport.arrhenius import ArrheniusFit, arrhenius_fit
from sianode.transport.diamond import diamond_t_network
from sianode.transport.kmc import KMCResult, kmc_diffusivity
from sianode.transport.network import DEFAULT_ATTEMPT_FREQUENCY_HZ, HopNetwork, NetworkError
from sianode.transport.solver import diffusion_tensor, diffusivity, solve_cell_problem
from sianode.transport.superposition import (
    DopantKernel,
    concentration_curve,
    kernel_from_network,
    superposed_network,
)
from sianode.transport.tst import diamond_tst_diffusivity, tst_rate
from sianode.transport.vineyard import vineyard_attempt_frequency

__all__ = [
    "DEFAULT_ATTEMPT_FREQUENCY_HZ",
    "ArrheniusFit",
    "DopantKernel",
    "HopNetwork",
    "KMCResult",
    "NetworkError",
    "arrhenius_fit",
    "concentration_curve",
    "diamond_t_network",
    "diamond_tst_diffusivity",
    "diffusion_tensor",
    "diffusivity",
    "kernel_from_network",
    "kmc_diffusivity",
    "solve_cell_problem",
    "superposed_network",
    "tst_rate",
    "vineyard_attempt_frequency",
]
