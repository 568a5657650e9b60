"""Benchmark of the transport layer: exact solve time of 1k, 10k and 100k-site hop networks.

Run: ``python benchmarks/transport.py [--quick] [--lu-100k]``. Networks are diamond T-site
lattices (L^3 conventional cells, 8 L^3 sites) with random site energies U(0, 0.1) eV and
saddles max(ends) + U(0.4, 0.7) eV ("disordered": hop rates over five decades at 300 K),
plus one dopant-superposition network (1.5625 % of a trapping dopant) at 100k. Each row
prints the time of the exact cell-problem solve (best of several) against the issue's goal
(100k sites under 5 s on 2 cores), and a baseline measured in the same run:

- 1k: a dense solve of the same cell problem (numpy.linalg.solve on the full matrix), and
  the time kinetic Monte Carlo needs for a 1 % standard error (measured, then scaled as
  1/stderr^2);
- 10k (and 100k with ``--lu-100k``): the multigrid-CG solver against sparse LU of the whole
  Laplacian (SuperLU), the solver ``method="auto"`` uses below 16k sites.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from ase.units import kB

from sianode.transport import (
    DopantKernel,
    HopNetwork,
    diamond_t_network,
    kmc_diffusivity,
    solve_cell_problem,
    superposed_network,
)

A_SI = 5.431
T_K = 300.0


def disordered(L: int, seed: int = 0) -> HopNetwork:
    net = diamond_t_network(L, A_SI, saddle_energy_eV=0.5)
    rng = np.random.default_rng(seed)
    e = rng.uniform(0.0, 0.1, net.n_sites)
    s = np.maximum(e[net.i], e[net.j]) + rng.uniform(0.4, 0.7, net.n_hops)
    return HopNetwork(net.cell_A, net.frac, e, net.i, net.j, net.image, s).validate()


def superposed(L: int) -> HopNetwork:
    """A trapping dopant (nearest T sites -0.15 eV, their saddles +0.05 eV) at 1.5625 %."""
    near_t = np.array([[-1, -1, -1], [1, 1, -1], [1, -1, 1], [-1, 1, 1]]) * A_SI / 4
    hop_q = np.array([[1, 1, 1], [1, -1, -1], [-1, 1, -1], [-1, -1, 1]])  # T(A) -> T(B), a/4
    near_h = np.concatenate([near_t - v * A_SI / 8 for v in hop_q])  # the 4 hops out of each nearest T(B)
    kernel = DopantKernel(A_SI, near_t, [-0.15] * 4, near_h, [0.05] * 16, 0.0, 0.58)
    return superposed_network(kernel, L, int(round(0.015625 * 8 * L**3)), seed=0).validate()


def best_time(fn, repeats: int) -> tuple[float, object]:
    best, out = float("inf"), None
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def dense_solve(net: HopNetwork) -> float:
    """The cell problem with a dense matrix: an independent baseline (and check) at 1k sites."""
    beta = 1 / (kB * T_K)
    n = net.n_sites
    w = np.exp(-beta * (net.saddle_eV - net.saddle_eV.min()))
    d = net.hop_vectors_A()
    lap = np.zeros((n, n))
    b = np.zeros((n, 3))
    for h, (i, j) in enumerate(zip(net.i, net.j)):
        lap[i, i] += w[h]
        lap[j, j] += w[h]
        lap[i, j] -= w[h]
        lap[j, i] -= w[h]
        b[i] += w[h] * d[h]
        b[j] -= w[h] * d[h]
    chi = np.zeros((n, 3))
    chi[1:] = np.linalg.solve(lap[1:, 1:], b[1:])
    u = d + chi[net.j] - chi[net.i]
    z = np.exp(-beta * (net.energies_eV - net.energies_eV.min())).sum()
    scale = net.attempt_frequency_Hz * np.exp(-beta * (net.saddle_eV.min() - net.energies_eV.min())) / z
    return float(scale * 1e-20 * np.einsum("h,ha,ha->", w, u, u) / 3)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="skip the 100k rows")
    ap.add_argument("--lu-100k", action="store_true", help="also time sparse LU at 100k (about a minute)")
    args = ap.parse_args()
    rows = []  # (name, sites, seconds, baseline name, baseline seconds, goal seconds, note)

    net = disordered(5)
    t, sol = best_time(lambda: solve_cell_problem(net, T_K), 5)
    t_dense, d_dense = best_time(lambda: dense_solve(net), 1)
    assert abs(d_dense / sol.D_m2_s - 1) < 1e-8, (d_dense, sol.D_m2_s)
    walkers, hops = 2000, 500
    t_kmc, res = best_time(lambda: kmc_diffusivity(net, T_K, n_walkers=walkers, n_hops=hops, seed=0), 1)
    t_kmc_1pc = t_kmc * (res.stderr_m2_s / (0.01 * res.D_m2_s)) ** 2
    rows.append(("disordered L=5", net.n_sites, t, "dense solve", t_dense, 5.0, f"{sol.method}"))
    rows.append(("disordered L=5", net.n_sites, t, "KMC to 1 % (scaled)", t_kmc_1pc, 5.0,
                 f"KMC {walkers}x{hops}: {t_kmc:.2f} s, {100 * res.stderr_m2_s / res.D_m2_s:.1f} %"))

    net = disordered(11)
    t, sol = best_time(lambda: solve_cell_problem(net, T_K, method="iterative"), 3)
    t_lu, lu = best_time(lambda: solve_cell_problem(net, T_K, method="direct"), 2)
    assert abs(lu.D_m2_s / sol.D_m2_s - 1) < 1e-8
    rows.append(("disordered L=11", net.n_sites, t, "sparse LU", t_lu, 5.0,
                 f"{sol.method}, {sol.iterations} CG it. (auto picks LU below 16k sites)"))

    if not args.quick:
        for name, net in (("disordered L=23", disordered(23)), ("superposed 1.56 % L=23", superposed(23))):
            t, sol = best_time(lambda: solve_cell_problem(net, T_K), 2)
            t_lu = float("nan")
            if args.lu_100k:
                t_lu, lu = best_time(lambda: solve_cell_problem(net, T_K, method="direct"), 1)
                assert abs(lu.D_m2_s / sol.D_m2_s - 1) < 1e-8
            rows.append((name, net.n_sites, t, "sparse LU" if args.lu_100k else "-", t_lu, 5.0,
                         f"{sol.method}, {sol.iterations} CG it."))

    print(f"{'network':<24} {'sites':>7} {'exact (s)':>10} {'goal (s)':>9} {'ratio':>6}  "
          f"{'baseline':<20} {'base (s)':>9} {'speed-up':>9}  note")
    for name, n, t, bname, tb, goal, note in rows:
        speed = f"{tb / t:9.1f}" if np.isfinite(tb) else f"{'-':>9}"
        base = f"{tb:9.3f}" if np.isfinite(tb) else f"{'-':>9}"
        print(f"{name:<24} {n:7d} {t:10.3f} {goal:9.2f} {t / goal:6.3f}  {bname:<20} {base} {speed}  {note}")


if __name__ == "__main__":
    main()
