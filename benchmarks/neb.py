"""Benchmark of sianode's calculators and NEB settings (prints tables).

1. E+F calls per second for a 65-atom cell (64 Si + Li at a T site; Si-only 64-atom cell
   for the Si-only potentials) for each calculator.
2. Relax of Li at a T site in 64-atom Si (steps, force calls, wall time).
3. Force calls to fmax = 0.05 eV/A for the pure-Si Li T -> H -> T hop (relaxed end points),
   sianode's settings (IDPP start path, improved tangent, pre-converge to 0.5 eV/A without
   climbing, then climbing image) vs ASE's defaults (linear interpolation, method='aseneb',
   climbing image from the start), same calculator and optimizer, same run. Goal: ratio <= 0.6.

Usage: python benchmarks/neb.py [--calculator sevennet] [--quick] [--threads N]
(--quick: only the chosen calculator's timing, 3 images, looser fmax 0.1).
"""

from __future__ import annotations

import argparse
import time

import numpy as np


def si64(a: float):
    from ase.build import bulk

    return bulk("Si", "diamond", a=a, cubic=True) * (2, 2, 2)


def with_li(host, frac_conventional):
    """Host 2x2x2 cell plus Li at a fractional position of the first conventional cell."""
    atoms = host.copy()
    atoms.append("Li")
    atoms.positions[-1] = np.asarray(frac_conventional) @ (np.asarray(host.cell) / 2)
    return atoms


def relaxed_a(spec) -> float:
    from ase.build import bulk

    from sianode.calculators import relax

    result = relax(bulk("Si", "diamond", a=5.43, cubic=True), spec, fmax=0.01, cell=True, optimizer="BFGS")
    return float(result.structure.get_volume() ** (1 / 3))


def timing(name: str, threads: int, n_calls: int) -> tuple[float, float]:
    """(seconds per E+F call, calls per second) on a 65-atom (or 64 Si-only) cell."""
    from sianode.calculators import get_calculator

    spec = get_calculator(name, threads=threads)
    host = si64(5.43)
    atoms = host if spec.supported_elements == frozenset({"Si"}) else with_li(host, (0.5, 0.5, 0.5))
    calc = spec.make()
    atoms.calc = calc
    atoms.rattle(0.01, seed=0)
    atoms.get_forces()  # warm-up (graph compilation, neighbour lists)
    t0 = time.perf_counter()
    for n in range(n_calls):
        atoms.positions[0, 0] += 1e-4
        atoms.get_forces()
    dt = (time.perf_counter() - t0) / n_calls
    return dt, 1.0 / dt


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calculator", default="sevennet")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--n-images", type=int, default=None)
    args = parser.parse_args()

    from sianode.calculators import get_calculator, neb, relax

    names = [args.calculator] if args.quick else ["sevennet", "sevennet-l3i5", "chgnet", "tersoff", "sw", "lj-test"]
    print("E+F timing, 65-atom cell (64 Si + Li; Si-only potentials: 64 Si)")
    print(f"{'calculator':14s} {'s/call':>8s} {'calls/s':>8s}")
    for name in names:
        dt, rate = timing(name, args.threads or 1, 3 if name in ("tersoff", "sevennet-l3i5") else 10)
        print(f"{name:14s} {dt:8.3f} {rate:8.2f}", flush=True)

    spec = get_calculator(args.calculator, threads=args.threads)
    fmax = 0.1 if args.quick else 0.05
    n_images = args.n_images or (3 if args.quick else 5)
    a = relaxed_a(spec)
    host = si64(a)
    t0 = time.perf_counter()
    start = relax(with_li(host, (0.5, 0.5, 0.5)), spec, fmax=0.01, optimizer="BFGS")
    end = relax(with_li(host, (0.75, 0.75, 0.75)), spec, fmax=0.01, optimizer="BFGS")
    print(f"\n{args.calculator}: a(Si) = {a:.4f} A; relax Li@T in 64 Si: {start.steps} steps, "
          f"{start.n_force_calls} calls, {start.wall_s:.1f} s (fmax 0.01, BFGS); second end point "
          f"{end.steps} steps, {end.wall_s:.1f} s; both {time.perf_counter() - t0:.1f} s", flush=True)

    print(f"\nNEB T->H->T, {n_images} images, fmax {fmax} eV/A, FIRE, {args.calculator}")
    print(f"{'settings':36s} {'status':20s} {'barrier_eV':>10s} {'steps':>6s} {'calls':>6s} {'wall_s':>7s}")
    runs = {
        "sianode (idpp, improvedtangent, CI after 0.5)": dict(interpolation="idpp", method="improvedtangent",
                                                             preconverge_fmax=0.5),
        "ASE defaults (linear, aseneb, CI at start)": dict(interpolation="linear", method="aseneb",
                                                          preconverge_fmax=0.0),
    }
    calls = {}
    for label, kw in runs.items():
        r = neb(start.structure, end.structure, spec, n_images=n_images, fmax=fmax, steps=1000, **kw)
        calls[label] = r.n_force_calls
        barrier = "None" if r.barrier_eV is None else f"{r.barrier_eV:.3f}"
        print(f"{label:36s} {r.status:20s} {barrier:>10s} {r.steps:6d} {r.n_force_calls:6d} {r.wall_s:7.1f}",
              flush=True)
    first, second = calls.values()
    print(f"\nforce-call ratio sianode / ASE defaults = {first / second:.2f} (goal <= 0.6)")


if __name__ == "__main__":
    main()
