"""Benchmark of the structures layer (prints a table).

1. Exact enumeration of 3 identical dopants in the 216-site cell (3x3x3).
2. T and H site classes of the 512-site cell (4x4x4) with one dopant.
3. T -> H -> T hop classes of the same cell.
4. Default doped cell for 1 atom % (5 in 512, sampled arrangements).

Run: ``.venv/bin/python benchmarks/structures.py``. Each timing is the best of a few
repeats, in seconds, printed against its goal (ratio < 1 meets it; the issue's limit is
10 s on 2 cores, the aim 3 s).
"""

from __future__ import annotations

import time


def best_time(fn, repeats: int = 3):
    best, result = float("inf"), None
    for _ in range(repeats):
        t0 = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - t0)
    return best, result


def main() -> None:
    from sianode.structures import doped_supercell, enumerate_arrangements, li_hops, li_sites, pure_supercell

    rows = []
    host216 = pure_supercell(3)
    t, arr = best_time(lambda: enumerate_arrangements(host216, 3))
    rows.append((f"3 dopants, 216 sites: {len(arr)} classes, exact={arr.exact}, sum={arr.total_multiplicity}", t, 3.0))
    cell = doped_supercell("B", count=1, supercell=4)
    t, sites = best_time(lambda: li_sites(cell.atoms, cell.dopant_indices))
    rows.append((f"T/H classes, 512 sites + 1 B: {len(sites.T)} T, {len(sites.H)} H classes", t, 3.0))
    t, hops = best_time(lambda: li_hops(cell.atoms, cell.dopant_indices))
    rows.append((f"hop classes, 512 sites + 1 B: {len(hops)} classes", t, 3.0))
    t, doped = best_time(lambda: doped_supercell("P", percent=1.0))
    rows.append((f"doped cell for 1 %: {doped.n_dopants} in {doped.n_sites} ({doped.actual_percent:.4f} %)", t, 3.0))
    print(f"{'benchmark':<72} {'time (s)':>9} {'goal (s)':>9} {'ratio':>7}")
    for name, t, goal in rows:
        print(f"{name:<72} {t:9.3f} {goal:9.2f} {t / goal:7.3f}")


if __name__ == "__main__":
    main()
