"""Benchmark of sianode's calculators and NEB settings (prints tables).

1. E+F calls per second for a 65-atom cell (64 Si + Li at a T site; Si-only 64-atom cell
   for the Si-only potentials) for each calculator.
2. Relax of Li at a T site in 64-atom Si (steps, force calls, wall time).
3. Force calls to fmax = 0.05 eV/A for the pure-Si Li T -> H -> T hop (relaxed end points),
   sianode's settings (``neb()`` defaults: IDPP start path, improved tangent, pre-converge
   without climbing, then climbing image, on a DyNEB band with dynamic relaxation and scaled
   criteria) vs ASE's defaults (plain ``NEB``, linear interpolation, method='aseneb', climbing
   image from the start), same calculator and optimizer (FIRE), same n_images, same run. Also
   sianode's previous settings (plain NEB) and a tight reference (plain NEB, fmax 0.01) for the
   accuracy guard: the barrier with sianode's settings must be within 0.01 eV of the reference.
   Goal: call ratio sianode / ASE defaults <= 0.6. Every calculator evaluation of any image
   (end points included) counts.

Usage: python benchmarks/neb.py [--calculator sevennet] [--quick] [--threads N] [--no-timing]
(--quick: only the chosen calculator's timing, 3 images, looser fmax 0.1; --no-timing: skip 1.).
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
    parser.add_argument("--no-timing", action="store_true", help="skip the E+F timing table")
    args = parser.parse_args()

    from sianode.calculators import get_calculator, neb, relax

    names = [args.calculator] if args.quick else ["sevennet", "sevennet-l3i5", "chgnet", "tersoff", "sw", "lj-test"]
    if not args.no_timing:
        print("E+F timing, 65-atom cell (64 Si + Li; Si-only potentials: 64 Si)")
        print(f"{'calculator':14s} {'s/call':>8s} {'calls/s':>8s}")
    for name in [] if args.no_timing else names:
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
    print(f"{'settings':48s} {'status':20s} {'barrier_eV':>10s} {'steps':>6s} {'calls':>6s} {'wall_s':>7s}")
    plain = dict(dynamic=False, scale_fmax=0.0)
    runs = {
        "sianode (neb() defaults)": (fmax, {}),
        "ASE defaults (NEB, linear, aseneb, CI at start)": (fmax, dict(interpolation="linear", method="aseneb",
                                                                        preconverge_fmax=0.0, **plain)),
        "sianode before (plain NEB, idpp, CI after 0.5)": (fmax, dict(preconverge_fmax=0.5, **plain)),
        "tight reference (plain NEB, fmax 0.01)": (0.01, dict(preconverge_fmax=0.5, **plain)),
    }
    results = {}
    for label, (f, kw) in runs.items():
        r = neb(start.structure, end.structure, spec, n_images=n_images, fmax=f, steps=2000, **kw)
        results[label] = r
        barrier = "None" if r.barrier_eV is None else f"{r.barrier_eV:.4f}"
        print(f"{label:48s} {r.status:20s} {barrier:>10s} {r.steps:6d} {r.n_force_calls:6d} {r.wall_s:7.1f}",
              flush=True)
    ours, ase_default, before, reference = results.values()
    st = ours.settings
    print(f"\nsianode settings: preconverge {st['preconverge_fmax_eV_A']} eV/A, dynamic {st['dynamic']}, "
          f"scale_fmax {st['scale_fmax_1_A']} 1/A; saddle image at fmax {ours.fmax_saddle_eV_A:.3f} eV/A, "
          f"band max {ours.fmax_eV_A:.3f} eV/A")
    li_h = 0.5 * (start.structure.positions[-1] + end.structure.positions[-1])  # H site, midway T -> T
    for label, r in results.items():
        if r.status == "ok":
            d = np.linalg.norm(r.saddle_structure.positions[-1] - li_h)
            print(f"saddle of {label}: image {r.saddle_index} of 0..{n_images + 1}, Li {d:.3f} A from the H site")
    ratio = ours.n_force_calls / ase_default.n_force_calls
    print(f"force calls: sianode {ours.n_force_calls}, ASE defaults {ase_default.n_force_calls}, "
          f"sianode before {before.n_force_calls}")
    print(f"force-call ratio sianode / ASE defaults = {ratio:.2f} (goal <= 0.6: {'met' if ratio <= 0.6 else 'NOT met'})")
    if reference.barrier_eV is not None:
        for label, r in results.items():
            if r is not reference and r.barrier_eV is not None:
                d = r.barrier_eV - reference.barrier_eV
                print(f"barrier - reference ({reference.barrier_eV:.4f} eV), {label}: {d:+.4f} eV "
                      f"({'within' if abs(d) <= 0.01 else 'OUTSIDE'} 0.01 eV)")


if __name__ == "__main__":
    main()
