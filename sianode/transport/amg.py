"""Aggregation algebraic multigrid for the cell problem's graph Laplacian (numpy + scipy.sparse).

The cell problem of :mod:`sianode.transport.solver` is a symmetric positive definite
graph-Laplacian system. A sparse LU factorisation solves it exactly, but its fill grows
fast in 3D (about 4e7 factor entries and a minute at 100k sites with SuperLU), so large
networks use flexible conjugate gradients preconditioned by an aggregation multigrid
K-cycle, which needs tens of iterations:

- aggregation by locally dominant ("mutual strongest neighbour") matching of the
  strength graph ``s_ij = |a_ij| / sqrt(a_ii a_jj)``, two pairwise passes per level
  (aggregates of about four unknowns): double pairwise aggregation, Notay, Electron. Trans.
  Numer. Anal. 37 (2010) 123. Low-saddle (fast) hops end up inside aggregates;
- piecewise-constant prolongation P, Galerkin coarse operators ``P^T A P`` (again graph
  Laplacians), damped Jacobi smoothing, dense Cholesky on the coarsest level;
- the K-cycle (two Krylov-accelerated coarse corrections per level; Notay, Vassilevski,
  Numer. Linear Algebra Appl. 15 (2008) 473) as the preconditioner of flexible CG
  (Notay, SIAM J. Sci. Comput. 22 (2000) 1444).

Right-hand sides are columns of one array, solved together. The result is checked
against the direct solver in tests/transport/test_solver.py.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Callable

import numpy as np
import scipy.linalg
import scipy.sparse as sp

log = logging.getLogger(__name__)

#: stop coarsening at this many unknowns (dense Cholesky below).
COARSEST_SIZE = 400
#: matching rounds per pairwise pass.
MATCHING_ROUNDS = 6


def _row_argmax(indptr: np.ndarray, indices: np.ndarray, vals: np.ndarray, n: int) -> np.ndarray:
    """Column of the largest positive value of each CSR row, -1 where a row has none."""
    best = np.full(n, -1, dtype=np.int64)
    counts = np.diff(indptr)
    nonempty = counts > 0
    if not np.any(nonempty):
        return best
    full = np.full(n, -np.inf)
    full[nonempty] = np.maximum.reduceat(vals, indptr[:-1][nonempty])
    rows = np.repeat(np.arange(n), counts)
    hit_idx = np.flatnonzero((vals == full[rows]) & (vals > 0))[::-1]  # reversed: the first hit wins
    best[rows[hit_idx]] = indices[hit_idx]
    return best


def _pairwise(strength: sp.csr_matrix) -> tuple[np.ndarray, int]:
    """Aggregate number of each unknown, and the count, from mutual-strongest-neighbour matching."""
    n = strength.shape[0]
    indptr, indices = strength.indptr, strength.indices
    rows = np.repeat(np.arange(n), np.diff(indptr))
    # symmetric tie-breaking so that a uniform lattice still has unique maxima
    lo, hi = np.minimum(rows, indices), np.maximum(rows, indices)
    data = strength.data * (1.0 + 1e-6 * (((lo * 7919 + hi * 104729) % 1000003) / 1000003.0))
    partner = np.full(n, -1, dtype=np.int64)
    for _ in range(MATCHING_ROUNDS):
        free = partner < 0
        vals = np.where(free[rows] & free[indices] & (rows != indices), data, -1.0)
        best = _row_argmax(indptr, indices, vals, n)
        u = np.flatnonzero(free & (best >= 0))
        if u.size == 0:
            break
        mutual = u[best[best[u]] == u]
        left = mutual[mutual < best[mutual]]
        if left.size == 0:
            break
        partner[left] = best[left]
        partner[best[left]] = left
    agg = np.full(n, -1, dtype=np.int64)
    pairs = np.flatnonzero((partner >= 0) & (np.arange(n) < partner))
    agg[pairs] = np.arange(pairs.size)
    agg[partner[pairs]] = np.arange(pairs.size)
    n_agg = pairs.size
    lone = np.flatnonzero(agg < 0)
    if lone.size:  # join the aggregate of the strongest matched neighbour, else stay alone
        vals = np.where((agg[indices] >= 0) & (rows != indices), data, -1.0)
        best = _row_argmax(indptr, indices, vals, n)
        joins = lone[best[lone] >= 0]
        agg[joins] = agg[best[joins]]
        alone = lone[best[lone] < 0]
        agg[alone] = n_agg + np.arange(alone.size)
        n_agg += alone.size
    return agg, n_agg


def _strength(a: sp.csr_matrix) -> sp.csr_matrix:
    """s_ij = |a_ij| / sqrt(a_ii a_jj) off the diagonal (CSR, symmetric)."""
    d = np.sqrt(np.abs(a.diagonal()))
    d[d == 0] = 1.0
    s = (sp.diags(1.0 / d) @ abs(a) @ sp.diags(1.0 / d)).tocsr()
    s.setdiag(0.0)
    s.eliminate_zeros()
    return s


def _aggregate(a: sp.csr_matrix, passes: int) -> tuple[np.ndarray, int]:
    """``passes`` pairwise matchings: aggregates of about 2**passes unknowns."""
    s = _strength(a)
    local, n_agg = _pairwise(s)
    agg = local
    for _ in range(passes - 1):
        p1 = sp.csr_matrix((np.ones(len(local)), (np.arange(len(local)), local)), shape=(len(local), n_agg))
        s = (p1.T @ s @ p1).tocsr()
        s.setdiag(0.0)
        s.eliminate_zeros()
        local, n_agg = _pairwise(s)
        agg = local[agg]
    return agg, n_agg


@dataclass
class _Level:
    a: sp.csr_matrix
    dw: np.ndarray  # damped Jacobi weights omega / a_ii, shape (n, 1)
    p: sp.csr_matrix | None = None
    r: sp.csr_matrix | None = None


class AggregationAMG:
    """Aggregation multigrid hierarchy of an SPD matrix; :meth:`kcycle` is the preconditioner."""

    def __init__(self, a: sp.spmatrix, *, sweeps: int = 1, passes: int = 2) -> None:
        self.sweeps = sweeps
        self.levels: list[_Level] = []
        a = sp.csr_matrix(a)
        while True:
            dinv = 1.0 / a.diagonal()
            rho = float(np.max(abs(a).sum(axis=1).A1 * dinv))  # Gershgorin bound of D^-1 A
            level = _Level(a=a, dw=(4.0 / (3.0 * rho) * dinv)[:, None])
            self.levels.append(level)
            n = a.shape[0]
            if n <= COARSEST_SIZE:
                break
            agg, n_agg = _aggregate(a, passes)
            if n_agg >= 0.9 * n:  # coarsening stalled
                break
            p = sp.csr_matrix((np.ones(n), (np.arange(n), agg)), shape=(n, n_agg))
            level.p, level.r = p, p.T.tocsr()
            a = (level.r @ a @ p).tocsr()
        coarse = self.levels[-1].a.toarray()
        try:
            self._coarse: tuple[str, object] = ("chol", scipy.linalg.cho_factor(coarse))
        except np.linalg.LinAlgError:
            self._coarse = ("lu", scipy.linalg.lu_factor(coarse))
        log.debug("AMG levels: %s", [lv.a.shape[0] for lv in self.levels])

    @property
    def sizes(self) -> list[int]:
        """Unknowns on each level, finest first."""
        return [lv.a.shape[0] for lv in self.levels]

    def _coarse_solve(self, b: np.ndarray) -> np.ndarray:
        kind, fac = self._coarse
        return scipy.linalg.cho_solve(fac, b) if kind == "chol" else scipy.linalg.lu_solve(fac, b)

    def kcycle(self, b: np.ndarray, k: int = 0) -> np.ndarray:
        """Approximate ``A^-1 b`` (b: (n, c)) by one K-cycle from a zero guess."""
        if k == len(self.levels) - 1:
            return self._coarse_solve(b)
        lv = self.levels[k]
        x = lv.dw * b
        for _ in range(self.sweeps - 1):
            x = x + lv.dw * (b - lv.a @ x)
        rc = lv.r @ (b - lv.a @ x)
        if k + 1 == len(self.levels) - 1:
            xc = self._coarse_solve(rc)
        else:  # two steps of a Krylov method on the coarse system, preconditioned recursively
            ac = self.levels[k + 1].a
            v = self.kcycle(rc, k + 1)
            w = ac @ v
            rho1, alpha1 = _dot(v, w), _dot(v, rc)
            rt = rc - _div(alpha1, rho1) * w
            d = self.kcycle(rt, k + 1)
            wd = ac @ d
            gamma, beta, alpha2 = _dot(d, w), _dot(d, wd), _dot(d, rt)
            rho2 = beta - _div(gamma * gamma, rho1)
            xc = (_div(alpha1, rho1) - _div(gamma * _div(alpha2, rho2), rho1)) * v + _div(alpha2, rho2) * d
        x = x + lv.p @ xc
        for _ in range(self.sweeps):
            x = x + lv.dw * (b - lv.a @ x)
        return x


def _dot(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.sum(a * b, axis=0)


def _div(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.divide(a, b, out=np.zeros_like(a), where=b != 0)


def fcg(
    a: sp.spmatrix, b: np.ndarray, precond: Callable[[np.ndarray], np.ndarray], *, rtol: float, maxiter: int
) -> tuple[np.ndarray, int, bool]:
    """Flexible conjugate gradients for ``a x = b`` (b: (n, c), columns together).

    Returns ``(x, iterations, converged)``; a column has converged when its residual norm is
    at most ``rtol`` times that of its right-hand side.
    """
    a = sp.csr_matrix(a)
    x = np.zeros_like(b)
    r = b.copy()
    bnorm = np.linalg.norm(b, axis=0)
    target = rtol * np.where(bnorm > 0, bnorm, 1.0)
    p = ap = pap = None
    for it in range(1, maxiter + 1):
        z = precond(r)
        p = z if p is None else z - _div(_dot(z, ap), pap) * p
        ap = a @ p
        pap = _dot(p, ap)
        alpha = _div(_dot(p, r), pap)
        x += alpha * p
        r -= alpha * ap
        if np.all(np.linalg.norm(r, axis=0) <= target):
            return x, it, True
    return x, maxiter, False


def solve_spd(a: sp.spmatrix, b: np.ndarray, *, rtol: float = 1e-8, maxiter: int = 1000) -> tuple[np.ndarray, int, bool]:
    """Solve the SPD system ``a x = b`` by K-cycle-preconditioned flexible CG."""
    ml = AggregationAMG(a)
    return fcg(a, b, ml.kcycle, rtol=rtol, maxiter=maxiter)
