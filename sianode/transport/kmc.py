"""Kinetic Monte Carlo of Li walkers on a periodic hop network (a check of the exact solver).

Rejection-free continuous-time kinetic Monte Carlo (Bortz, Kalos, Lebowitz, J. Comput. Phys.
17 (1975) 10; Gillespie, J. Comput. Phys. 22 (1976) 403): a walker on site i with escape
rate R_i = sum_j k_ij waits an exponential time dt = -ln(u1) / R_i and takes hop i -> j with
probability k_ij / R_i (u2 against the cumulative rates). Rates are the harmonic-TST rates of
the network, k_ij = nu exp(-(E_ij^s - E_i)/kT) (Vineyard 1957).

Walkers are independent, start from the stationary distribution pi_i ~ exp(-E_i/kT), carry
unwrapped Cartesian displacements, and are stopped at the same time t, chosen so that a
walker makes ``n_hops`` hops on average (t = n_hops / sum_i pi_i R_i). Each walker gives an
independent estimate of the Einstein relation (Einstein, Ann. Phys. 17 (1905) 549)::

    D_w = |R_w(t)|^2 / (6 t),   D_ab,w = R_a R_b / (2 t),

and D is their mean, with standard error std(D_w) / sqrt(n_walkers). All walkers advance
together as numpy arrays.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from ase.units import kB

from sianode.errors import InputError
from sianode.transport.network import HopNetwork, NetworkError
from sianode.transport.solver import A2_TO_M2, stationary_occupations

log = logging.getLogger(__name__)


@dataclass(frozen=True, eq=False)
class KMCResult:
    """Diffusivity from kinetic Monte Carlo.

    Attributes
    ----------
    D_m2_s : float
        Mean of the walkers' |R|^2 / (6 t), m^2/s.
    stderr_m2_s : float
        Standard error of that mean, m^2/s.
    tensor_m2_s : (3, 3) array
        Mean of R (x) R / (2 t), m^2/s.
    n_walkers, n_hops : int
        Walkers and mean hops per walker requested.
    time_s : float
        Simulated time of every walker, s.
    hops_per_walker : float
        Mean number of hops actually made.
    """

    D_m2_s: float
    stderr_m2_s: float
    tensor_m2_s: np.ndarray
    n_walkers: int = 0
    n_hops: int = 0
    time_s: float = 0.0
    hops_per_walker: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "D_m2_s": self.D_m2_s,
            "stderr_m2_s": self.stderr_m2_s,
            "tensor_m2_s": np.asarray(self.tensor_m2_s).tolist(),
            "n_walkers": self.n_walkers,
            "n_hops": self.n_hops,
            "time_s": self.time_s,
            "hops_per_walker": self.hops_per_walker,
        }


def _positive_int(name: str, value: Any, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise InputError(f"{name} = {value!r}; need an integer >= {minimum}")
    return int(value)


def kmc_diffusivity(
    net: HopNetwork,
    temperature_K: float,
    *,
    n_walkers: int = 1000,
    n_hops: int = 1000,
    seed: int = 0,
    check_percolation: bool = True,
) -> KMCResult:
    """Diffusivity of ``net`` at ``temperature_K`` from independent KMC walkers (module docstring).

    Parameters
    ----------
    net : HopNetwork
    temperature_K : float
        Temperature, K.
    n_walkers : int
        Independent walkers (>= 2, for the standard error).
    n_hops : int
        Mean number of hops per walker (>= 1); the systematic error of the finite time
        falls as 1 / n_hops.
    seed : int
        Seed of ``numpy.random.default_rng``.
    check_percolation : bool
        False allows networks that percolate in fewer than 3 directions.
    """
    n_walkers = _positive_int("n_walkers", n_walkers, 2)
    n_hops = _positive_int("n_hops", n_hops, 1)
    pi = stationary_occupations(net, temperature_K)
    net.validate(check_percolation=check_percolation)
    beta = 1.0 / (kB * float(temperature_K))
    vec = net.hop_vectors_A()
    src = np.concatenate([net.i, net.j])
    dst = np.concatenate([net.j, net.i])
    dvec = np.concatenate([vec, -vec])
    rate = net.attempt_frequency_Hz * np.exp(-beta * (np.concatenate([net.saddle_eV, net.saddle_eV]) - net.energies_eV[src]))
    order = np.argsort(src, kind="stable")
    src, dst, dvec, rate = src[order], dst[order], dvec[order], rate[order]
    n = net.n_sites
    total = np.bincount(src, rate, minlength=n)
    if np.any(total <= 0):
        k = int(np.flatnonzero(total <= 0)[0])
        raise NetworkError(
            f"kinetic Monte Carlo: every hop out of site {k} has rate 0 at T = {float(temperature_K):g} K "
            "(barriers too high for this temperature); use a higher temperature"
        )
    ptr = np.concatenate([[0], np.cumsum(np.bincount(src, minlength=n))])
    # cumulative probability within each site's hops, offset by the site index: one sorted key array
    cum = np.cumsum(rate)
    start_cum = np.concatenate([[0.0], cum])[ptr[:-1]]
    within = (cum - start_cum[src]) / total[src]
    within[ptr[1:] - 1] = 1.0
    keys = src + within

    t_end = n_hops / float(pi @ total)
    rng = np.random.default_rng(seed)
    site = rng.choice(n, size=n_walkers, p=pi)
    t = np.zeros(n_walkers)
    disp = np.zeros((n_walkers, 3))
    hops = np.zeros(n_walkers, dtype=np.int64)
    active = np.arange(n_walkers)
    max_loops = 100 * n_hops + 10000
    for _ in range(max_loops):
        if active.size == 0:
            break
        s = site[active]
        dt = -np.log(1.0 - rng.random(active.size)) / total[s]
        go = t[active] + dt <= t_end
        active, s, dt = active[go], s[go], dt[go]
        t[active] += dt
        idx = np.searchsorted(keys, s + rng.random(active.size), side="left")
        idx = np.clip(idx, ptr[s], ptr[s + 1] - 1)
        disp[active] += dvec[idx]
        site[active] = dst[idx]
        hops[active] += 1
    else:  # pragma: no cover - only with absurd rate contrasts
        raise NetworkError("kinetic Monte Carlo: walkers did not reach the end time; lower n_hops")

    scale = A2_TO_M2 / t_end
    d_w = np.einsum("wa,wa->w", disp, disp) * scale / 6.0
    tensor = np.einsum("wa,wb->ab", disp, disp) * scale / (2.0 * n_walkers)
    d = float(d_w.mean())
    err = float(d_w.std(ddof=1) / math.sqrt(n_walkers))
    log.debug("KMC: %d walkers, %.1f hops each, D = %.4g +- %.2g m^2/s", n_walkers, hops.mean(), d, err)
    return KMCResult(
        D_m2_s=d,
        stderr_m2_s=err,
        tensor_m2_s=tensor,
        n_walkers=n_walkers,
        n_hops=n_hops,
        time_s=t_end,
        hops_per_walker=float(hops.mean()),
    )
