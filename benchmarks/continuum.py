"""Benchmark of the continuum layer: a full 1C charge and a critical-size search.

Run: ``python benchmarks/continuum.py``. Prints each timing against its goal as a ratio
(< 1 meets the goal); best of several repeats.
"""

from __future__ import annotations

import time

from sianode.continuum.fracture import critical_radius
from sianode.continuum.parameters import parameters_for
from sianode.continuum.stress import run_stress


def best_time(fn, repeats: int = 5) -> float:
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def main() -> None:
    params = parameters_for(None, None)
    nodes, steps = 200, 400
    rows = []
    t_charge = best_time(lambda: run_stress(params, 75e-9, c_rate=1.0, n_nodes=nodes, n_steps=steps, n_out=11))
    rows.append((f"1C charge + stresses, R = 75 nm, {nodes} nodes, {steps} steps", t_charge, 0.5))
    result = critical_radius(params)
    t_crit = best_time(lambda: critical_radius(params), repeats=3)
    rows.append((f"critical-size search (energy_release_rate, 101 nodes) -> D_c = {result.critical_diameter_m * 1e9:.1f} nm", t_crit, 5.0))
    t_hoop = best_time(lambda: critical_radius(params, "hoop_strength"), repeats=3)
    rows.append(("critical-size search (hoop_strength, 101 nodes)", t_hoop, 5.0))
    print(f"{'benchmark':<80} {'time (s)':>10} {'goal (s)':>9} {'ratio':>7}")
    for name, t, goal in rows:
        print(f"{name:<80} {t:10.4f} {goal:9.2f} {t / goal:7.3f}")


if __name__ == "__main__":
    main()
