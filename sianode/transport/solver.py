"""Exact diffusion tensor of a periodic Markov jump network: the "cell problem".

Theory (PHYSICS.md section 6). Sites i of one periodic cell carry stationary occupations
pi_i = exp(-E_i/kT) / Z; hop i -> j (vector d_ij) has the harmonic-TST rate
k_ij = nu exp(-(E_ij^s - E_i)/kT) (Vineyard, J. Phys. Chem. Solids 3 (1957) 121). Detailed
balance holds with a symmetric edge weight (the equilibrium flux through the hop)::

    w_ij = pi_i k_ij = pi_j k_ji = nu exp(-E_ij^s / kT) / Z.

The long-time diffusion tensor of the walker follows from homogenisation / linear response
(Kehr, Kutner, Binder, Phys. Rev. B 23 (1981) 4931; Haus, Kehr, Phys. Rep. 150 (1987) 263,
section 4; Kipnis, Varadhan, Commun. Math. Phys. 104 (1986) 1): the corrector chi (one
3-vector per site) solves the cell problem::

    sum_j k_ij (chi_j - chi_i + d_ij) = 0    for every site i,   sum_i pi_i chi_i = 0,

and then::

    D = 1/2 sum_i pi_i sum_j k_ij u_ij (x) u_ij = sum_{unordered hops} w_ij u_ij (x) u_ij,
    u_ij = d_ij + chi_j - chi_i.

Multiplying the cell problem by pi_i turns it into a symmetric graph-Laplacian system
``L chi = b`` with ``L = sum_hops w (e_i - e_j)(e_i - e_j)^T`` and
``b_i = sum_{hops at i} w d_(i -> other end)``. ``L`` is positive semi-definite with the
constant vector as its null space (the network is connected); the null space is pinned by
fixing chi at one site, and the pi-weighted mean is removed afterwards (D does not depend on
a constant shift of chi). Small networks are solved by sparse LU (SuperLU,
``scipy.sparse.linalg.splu``); large ones by aggregation-multigrid preconditioned CG
(:mod:`sianode.transport.amg`), after eliminating one sublattice exactly when the hop graph
is bipartite (the diamond T lattice is).

Checks (tests/transport/test_solver.py): the perfect diamond T lattice gives
D = (1/6) z d^2 k exactly (chi = 0); a 1D chain with equal site energies gives a^2 / <1/k>;
with unchanged saddles and trap sites, D = D_0 / <exp(-(E_i - E_0)/kT)> (Oriani form).
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from ase.units import kB

from sianode.transport.network import HopNetwork, NetworkError

log = logging.getLogger(__name__)

#: Angstrom^2 -> m^2.
A2_TO_M2 = 1e-20
#: ``method="auto"`` solves networks up to this many sites directly (sparse LU).
DIRECT_MAX_SITES = 16000
#: relative residual of the iterative solve (D's error is of second order in it).
ITERATIVE_RTOL = 1e-8
#: iteration limit of the iterative solve before falling back to the direct one.
ITERATIVE_MAXITER = 1000


@dataclass
class CellProblemSolution:
    """Result of :func:`solve_cell_problem`.

    Attributes
    ----------
    tensor_m2_s : (3, 3) array
        Diffusion tensor, m^2/s.
    chi_A : (n, 3) array
        Corrector per site (Angstrom), pi-weighted mean zero.
    pi : (n,) array
        Stationary occupations, summing to 1.
    temperature_K : float
    method : str
        "direct" or "iterative" (the linear solver used).
    iterations : int
        CG iterations of the iterative solver (0 for direct).
    """

    tensor_m2_s: np.ndarray
    chi_A: np.ndarray
    pi: np.ndarray
    temperature_K: float
    method: str = "direct"
    iterations: int = 0

    @property
    def D_m2_s(self) -> float:
        """Scalar diffusivity trace(D)/3, m^2/s."""
        return float(np.trace(self.tensor_m2_s) / 3.0)


def _check_temperature(temperature_K: float) -> float:
    try:
        t = float(temperature_K)
    except (TypeError, ValueError) as exc:
        raise NetworkError(f"temperature_K = {temperature_K!r}; need a positive number of kelvin") from exc
    if not (math.isfinite(t) and t > 0):
        raise NetworkError(f"temperature_K = {temperature_K!r}; need a positive number of kelvin")
    return t


def stationary_occupations(net: HopNetwork, temperature_K: float) -> np.ndarray:
    """pi_i = exp(-E_i/kT) / sum_k exp(-E_k/kT) (Boltzmann; shifted for overflow safety)."""
    beta = 1.0 / (kB * _check_temperature(temperature_K))
    x = -beta * (net.energies_eV - net.energies_eV.min())
    p = np.exp(x)
    return p / p.sum()


def solve_cell_problem(
    net: HopNetwork,
    temperature_K: float,
    *,
    check_percolation: bool = True,
    method: str = "auto",
    rtol: float = ITERATIVE_RTOL,
) -> CellProblemSolution:
    """Solve the cell problem of ``net`` at ``temperature_K`` (module docstring for the equations).

    Parameters
    ----------
    net : HopNetwork
        The network; validated first (``check_percolation=False`` allows 1D/2D networks).
    temperature_K : float
        Temperature, K.
    method : {"auto", "direct", "iterative"}
        ``direct``: sparse LU of the whole Laplacian (exact to rounding). ``iterative``: one
        sublattice eliminated exactly when the network is bipartite (the diamond T lattice
        is), then aggregation-multigrid preconditioned CG to relative residual ``rtol``
        (:mod:`sianode.transport.amg`); D is a minimum of the energy functional, so its
        error is of second order in the residual. ``auto``: direct up to
        ``DIRECT_MAX_SITES`` sites, iterative above (falling back to direct if it does
        not converge).

    Returns
    -------
    CellProblemSolution
    """
    t = _check_temperature(temperature_K)
    if method not in ("auto", "direct", "iterative"):
        raise NetworkError(f"cell problem: method = {method!r}; allowed: auto, direct, iterative")
    net.validate(check_percolation=check_percolation)
    beta = 1.0 / (kB * t)
    n = net.n_sites
    e_min = float(net.energies_eV.min())
    s_min = float(net.saddle_eV.min())
    # w_ij = nu exp(-s/kT) / Z = scale * w_rel, with w_rel = exp(-(s - s_min)/kT) in (0, 1]
    boltz = np.exp(-beta * (net.energies_eV - e_min))
    z_rel = float(boltz.sum())
    pi = boltz / z_rel
    w_rel = np.exp(-beta * (net.saddle_eV - s_min))
    scale = net.attempt_frequency_Hz * math.exp(-beta * (s_min - e_min)) / z_rel
    d = net.hop_vectors_A()
    i, j = net.i, net.j

    chi = np.zeros((n, 3))
    iterations = 0
    if method == "auto":
        method = "direct" if n <= DIRECT_MAX_SITES else "iterative"
    if n > 1:
        lap, b = _laplacian(n, i, j, w_rel, d)
        if method == "iterative":
            iterations = _solve_iterative(lap, b, i, j, chi, rtol)
        if iterations == 0:
            method = "direct"
            _solve_direct(lap, b, chi)
        if not np.all(np.isfinite(chi)):
            raise NetworkError(
                "hop network: the cell problem has no finite solution at "
                f"T = {t:g} K (rates span too many orders of magnitude); try a higher temperature"
            )
        chi -= pi @ chi
    u = d + chi[j] - chi[i]
    tensor = scale * A2_TO_M2 * np.einsum("h,ha,hb->ab", w_rel, u, u)
    tensor = 0.5 * (tensor + tensor.T)
    log.debug("cell problem: %d sites, %d hops, T = %g K, D = %.4g m^2/s", n, net.n_hops, t, np.trace(tensor) / 3)
    return CellProblemSolution(tensor_m2_s=tensor, chi_A=chi, pi=pi, temperature_K=t, method=method, iterations=iterations)


def _laplacian(n: int, i: np.ndarray, j: np.ndarray, w: np.ndarray, d: np.ndarray) -> tuple[Any, np.ndarray]:
    """Weighted graph Laplacian L (CSR) and right-hand side b (n, 3) of ``L chi = b``."""
    from scipy.sparse import coo_matrix

    b = np.zeros((n, 3))
    np.add.at(b, i, w[:, None] * d)  # b_i = sum_{hops at i} w d(i -> other end)
    np.add.at(b, j, -w[:, None] * d)
    off = i != j  # a hop from a site to its own image adds nothing to L or b
    ii, jj, ww = i[off], j[off], w[off]
    diag = np.bincount(ii, ww, minlength=n) + np.bincount(jj, ww, minlength=n)
    rows = np.concatenate([ii, jj, np.arange(n)])
    cols = np.concatenate([jj, ii, np.arange(n)])
    lap = coo_matrix((np.concatenate([-ww, -ww, diag]), (rows, cols)), shape=(n, n)).tocsr()
    return lap, b


def _solve_direct(lap: Any, b: np.ndarray, chi: np.ndarray) -> None:
    """chi[1:] from the SPD system with chi[0] = 0 pinned (SuperLU, symmetric mode)."""
    from scipy.sparse.linalg import splu

    reduced = lap[1:, 1:].tocsc()
    lu = splu(reduced, permc_spec="MMD_AT_PLUS_A", diag_pivot_thresh=0.0, options={"SymmetricMode": True})
    chi[0] = 0.0
    chi[1:] = lu.solve(np.ascontiguousarray(b[1:]))


def _two_colouring(n: int, i: np.ndarray, j: np.ndarray) -> np.ndarray | None:
    """Colour (n,) bool of a 2-colouring of the cell's hop graph, or None if it is not bipartite."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import breadth_first_order

    off = i != j
    ii, jj = i[off], j[off]
    graph = coo_matrix((np.ones(2 * ii.size), (np.concatenate([ii, jj]), np.concatenate([jj, ii]))), shape=(n, n)).tocsr()
    order, pred = breadth_first_order(graph, 0, directed=True, return_predecessors=True)
    if order.size != n:
        return None
    parent = np.where(pred >= 0, pred, 0)
    parity = (np.arange(n) != 0).astype(np.int8)  # parity of the path length to site 0
    while np.any(parent != 0):
        parity = parity ^ parity[parent]
        parent = parent[parent]
    colour = parity.astype(bool)
    return colour if np.all(colour[ii] != colour[jj]) else None


def _solve_iterative(lap: Any, b: np.ndarray, i: np.ndarray, j: np.ndarray, chi: np.ndarray, rtol: float) -> int:
    """Fill chi by AMG-preconditioned CG; return the iterations, 0 (chi untouched) if it did not converge.

    On a bipartite graph one colour class B (no hops among its sites) is eliminated exactly
    first: ``S = L_AA - L_AB D_B^-1 L_BA`` is again a graph Laplacian (star-mesh transform),
    half the size and better conditioned; ``chi_B = D_B^-1 (b_B - L_BA chi_A)``.
    """
    import scipy.sparse as sp

    from sianode.transport.amg import solve_spd

    n = lap.shape[0]
    colour = _two_colouring(n, i, j)
    if colour is not None and np.count_nonzero(~colour) >= 2:
        a_idx = np.flatnonzero(~colour)  # contains site 0
        b_idx = np.flatnonzero(colour)
        l_ab = lap[a_idx][:, b_idx]
        d_b = lap.diagonal()[b_idx]
        system = (lap[a_idx][:, a_idx] - l_ab @ sp.diags(1.0 / d_b) @ l_ab.T).tocsr()
        rhs = b[a_idx] - l_ab @ (b[b_idx] / d_b[:, None])
    else:
        a_idx, b_idx = np.arange(n), None
        system, rhs = lap, b
    x, iterations, ok = solve_spd(system[1:, 1:], np.ascontiguousarray(rhs[1:]), rtol=rtol, maxiter=ITERATIVE_MAXITER)
    if not ok:
        log.warning("cell problem: multigrid CG did not converge in %d iterations; solving directly", iterations)
        return 0
    log.debug("cell problem: multigrid CG converged in %d iterations", iterations)
    chi[a_idx[0]] = 0.0
    chi[a_idx[1:]] = x
    if b_idx is not None:
        chi[b_idx] = (b[b_idx] - l_ab.T @ chi[a_idx]) / d_b[:, None]
    return max(iterations, 1)


def diffusion_tensor(
    net: HopNetwork, temperature_K: float, *, check_percolation: bool = True, method: str = "auto"
) -> np.ndarray:
    """Exact (3, 3) diffusion tensor of the periodic hop network, m^2/s.

    The cell-problem (homogenisation / linear-response) solution of the module docstring
    (Haus, Kehr, Phys. Rep. 150 (1987) 263; PHYSICS.md section 6). Raises
    :class:`~sianode.transport.network.NetworkError` for an invalid network.

    Parameters
    ----------
    net : HopNetwork
    temperature_K : float
        Temperature, K.
    check_percolation : bool
        False allows networks that percolate in fewer than 3 directions (a 1D chain); the
        tensor is then zero across the non-percolating directions.
    method : {"auto", "direct", "iterative"}
        Linear solver (see :func:`solve_cell_problem`).
    """
    return solve_cell_problem(net, temperature_K, check_percolation=check_percolation, method=method).tensor_m2_s


def diffusivity(
    net: HopNetwork, temperature_K: float, *, check_percolation: bool = True, method: str = "auto"
) -> float:
    """Scalar diffusivity trace(D)/3 of the network, m^2/s (see :func:`diffusion_tensor`)."""
    tensor = diffusion_tensor(net, temperature_K, check_percolation=check_percolation, method=method)
    return float(np.trace(tensor) / 3.0)
