"""Tests of the aggregation-AMG preconditioned CG against numpy.linalg.solve."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from sianode.transport.amg import AggregationAMG, fcg, solve_spd


def _laplacian_2d(n: int, shift: float = 1e-2) -> sp.csr_matrix:
    """SPD matrix: 5-point Laplacian on an n x n periodic grid plus shift * I."""
    one = sp.diags([-np.ones(n - 1), 2 * np.ones(n), -np.ones(n - 1)], [-1, 0, 1], format="lil")
    one[0, n - 1] = one[n - 1, 0] = -1
    one = sp.csr_matrix(one)
    eye = sp.identity(n, format="csr")
    return (sp.kron(one, eye) + sp.kron(eye, one) + shift * sp.identity(n * n)).tocsr()


def test_solve_spd_matches_dense_solve():
    a = _laplacian_2d(30)  # 900 unknowns: several AMG levels
    rng = np.random.default_rng(1)
    b = rng.normal(size=(a.shape[0], 2))
    x, iters, ok = solve_spd(a, b, rtol=1e-10)
    assert ok
    ref = np.linalg.solve(a.toarray(), b)
    assert np.allclose(x, ref, rtol=1e-6, atol=1e-8 * np.abs(ref).max())
    assert iters < 200


def test_small_random_spd_system():
    rng = np.random.default_rng(2)
    m = rng.normal(size=(12, 12))
    dense = m @ m.T + 12 * np.eye(12)
    b = rng.normal(size=(12, 1))
    x, _, ok = solve_spd(sp.csr_matrix(dense), b, rtol=1e-12)
    assert ok
    assert np.allclose(x, np.linalg.solve(dense, b), rtol=1e-8, atol=1e-10)


def test_hierarchy_coarsens():
    ml = AggregationAMG(_laplacian_2d(30))
    sizes = ml.sizes
    assert sizes[0] == 900
    assert len(sizes) >= 2
    assert all(b < a for a, b in zip(sizes, sizes[1:]))


def test_fcg_with_identity_preconditioner_is_cg():
    a = _laplacian_2d(8, shift=0.5)
    b = np.ones((64, 1))
    x, _, ok = fcg(a, b, lambda r: r.copy(), rtol=1e-12, maxiter=500)
    assert ok
    assert np.allclose(x, np.linalg.solve(a.toarray(), b))


def test_fcg_reports_non_convergence():
    a = _laplacian_2d(10, shift=1e-4)
    b = np.random.default_rng(3).normal(size=(100, 1))
    _, iters, ok = fcg(a, b, lambda r: r.copy(), rtol=1e-14, maxiter=2)
    assert not ok and iters == 2
