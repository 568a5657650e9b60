"""Benchmark: the default calculator's E_ins and near-hop barrier against GPAW (issue 13).

Runs a small campaign with the default calculator (pure Si, B and P at 1.5625 atom %: one
dopant in the 64-site cell; the T site nearest the dopant; the hop nearest the dopant),
then ``sianode crosscheck --reference gpaw`` on it: every structure an insertion energy or a
barrier rests on is computed again with GPAW (the settings of
:data:`sianode.recipes.crosscheck.REFERENCE_DEFAULTS`) as a single point, and each
difference GPAW - calculator is printed, with the wall time of each GPAW single point.

Usage::

    python benchmarks/crosscheck.py                          # pure Si, B, P; insertion and barrier
    python benchmarks/crosscheck.py --dopants Si,B --kind insertion    # a cheaper subset
    python benchmarks/crosscheck.py --time-one               # only time one 65-atom GPAW single point
    python benchmarks/crosscheck.py --convergence            # also E_ins of pure Si at 400 eV and 2x2x2 k

Everything lives in an embedded database under ``--home`` (default
``$TMPDIR/sianode-crosscheck-bench``, kept): an interrupted run resumes where it stopped,
and a finished one prints its table again in seconds. Needs ``make dft`` (GPAW).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

CAMPAIGN = {
    "name": "crosscheck-bench", "dopants": ["B", "P"], "counts": [1], "max_supercell": 2,
    "include_pure": True, "sites": {"nearest": 1}, "hops": "near",
}


def _time_one(threads: int) -> None:
    """Wall and CPU time of one GPAW single point of Li at the T site of 64-atom pure Si."""
    from sianode.calculators import single_point
    from sianode.recipes.crosscheck import reference_calculator
    from sianode.structures import insert_li, li_sites, pure_supercell

    host = pure_supercell(2)
    atoms = insert_li(host, li_sites(host).T[0].frac)
    spec = reference_calculator("gpaw")
    t0, c0 = time.perf_counter(), time.process_time()
    result = single_point(atoms, spec)
    print(f"GPAW {spec.parameters}: {len(atoms)} atoms, E = {result.energy_eV:.4f} eV, "
          f"wall {time.perf_counter() - t0:.0f} s, CPU {time.process_time() - c0:.0f} s, {threads} thread(s)")


#: settings of the convergence check (on top of the defaults): cutoff, then k-points in the 64/65-atom
#: cell (kpts_density 3.0: 2 x 2 x 2, Gamma-centred); bcc Li keeps its own k-points (LI_METAL_OVERRIDES)
CONVERGENCE = ({"ecut_eV": 400.0}, {"kpts_density": 3.0})


def convergence(store, calculator: str, progress) -> list[tuple[str, float | None]]:
    """E_ins of Li at the pure-Si T site with the default GPAW settings and each of :data:`CONVERGENCE`,
    at the campaign's geometries (single points through the store)."""
    from sianode.recipes import crosscheck as xc
    from sianode.structures.serialize import atoms_from_dict

    out = []
    for change in ({}, *CONVERGENCE):
        plan = xc.plan_crosscheck(store, reference="gpaw", calculator=calculator, dopant="Si", kind="insertion",
                                  reference_parameters=change)
        bulk = xc.reference_calculator("gpaw", {k: v for k, v in change.items() if k != "kpts_density"},
                                       li_metal=True)
        (item,) = plan.chosen
        value = 0.0
        for term in item.terms:
            spec = bulk if term.role == "li_metal" else plan.reference
            progress(f"convergence {change or 'default'}: {term.role} with {spec.parameters}")
            doc = xc.single_point_step(store, atoms_from_dict(term.structure), spec,
                                       labels={"of": term.source, "structure_role": term.role, "dopant": "Si",
                                               "percent": 0.0, "campaign_calculator": calculator})
            energy = (doc.get("output") or {}).get("energy_eV")
            value = None if energy is None or value is None else value + term.coefficient * energy
        out.append((str(change or "default"), value))
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--home", default=os.path.join(tempfile.gettempdir(), "sianode-crosscheck-bench"),
                        help="SIANODE_HOME of the benchmark's database (kept; a rerun resumes)")
    parser.add_argument("--calculator", default=None, help="campaign calculator (default: sianode's default)")
    parser.add_argument("--dopants", default="Si,B,P", help="hosts to crosscheck (Si = pure)")
    parser.add_argument("--kind", default=None, choices=("insertion", "barrier"), help="only this kind")
    parser.add_argument("--workers", type=int, default=2, help="campaign workers")
    parser.add_argument("--threads", type=int, default=2, help="BLAS threads of GPAW")
    parser.add_argument("--retry-failed", action="store_true", help="rerun failed GPAW single points")
    parser.add_argument("--time-one", action="store_true", help="only time one 65-atom GPAW single point")
    parser.add_argument("--convergence", action="store_true",
                        help="also pure-Si E_ins at 400 eV and at 2x2x2 k-points (cutoff and k convergence)")
    args = parser.parse_args(argv)
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ[var] = str(args.threads)
    if args.time_one:
        _time_one(args.threads)
        return 0

    Path(args.home).mkdir(parents=True, exist_ok=True)
    os.environ["SIANODE_HOME"] = args.home
    for var in ("SIANODE_DB_URI", "SIANODE_LAUNCHPAD"):
        os.environ.pop(var, None)
    from sianode.calculators import DEFAULT_CALCULATOR
    from sianode.recipes.crosscheck import crosscheck
    from sianode.store import open_store
    from sianode.workflows.run import run_campaign
    from sianode.workflows.spec import campaign_from_dict

    calculator = args.calculator or DEFAULT_CALCULATOR
    spec = campaign_from_dict({**CAMPAIGN, "calculator": {"name": calculator}}, "benchmark")
    t0 = time.perf_counter()
    os.environ["OMP_NUM_THREADS"] = "1"  # campaign workers: one thread each
    summary = run_campaign(spec, workers=args.workers, launch_dir=os.path.join(args.home, "launches"), poll_s=1.0)
    os.environ["OMP_NUM_THREADS"] = str(args.threads)
    print(f"campaign {spec.name} ({calculator}): {summary.states}, computed {summary.computed}, reused "
          f"{summary.reused}, {time.perf_counter() - t0:.0f} s", flush=True)
    if not summary.complete:
        print(f"campaign incomplete: {summary.failed}", file=sys.stderr)

    from sianode.commands.crosscheck import render_table

    store = open_store()
    started = time.perf_counter()
    t_last = [started]

    def progress(line: str) -> None:
        now = time.perf_counter()
        print(f"  [{now - started:6.0f} s, +{now - t_last[0]:5.0f} s] {line}", flush=True)
        t_last[0] = now

    rows = []
    try:
        for dopant in args.dopants.split(","):
            report = crosscheck(store, reference="gpaw", calculator=calculator, dopant=dopant, kind=args.kind,
                                progress=progress, retry_failed=args.retry_failed)
            print(render_table(report), flush=True)
            rows += report.rows
        if args.convergence:
            conv = convergence(store, calculator, progress)
            print("\nconvergence of E_ins, pure Si T site (eV):")
            for what, value in conv:
                shift = "" if value is None or conv[0][1] is None else f"  ({value - conv[0][1]:+.3f} vs default)"
                print(f"  {what:<28} {'-' if value is None else format(value, '+.4f')}{shift}")
        print("\nsingle points (GPAW), wall time each:")
        for doc in store.find({"kind": "single_point", "calculator.calculator": "gpaw"}):
            lab = doc.get("labels") or {}
            n = len(((doc.get("input") or {}).get("structure") or {}).get("symbols") or [])
            print(f"  {lab.get('dopant')!s:<3} {lab.get('structure_role')!s:<10} {n:>3} atoms  {doc['status']:<9} "
                  f"{(doc.get('timings') or {}).get('wall_s', 0.0):7.0f} s  {doc.get('reason') or ''}")
    finally:
        store.db.client.close()
    print(f"\nall: {len(rows)} numbers; GPAW - {calculator} (eV):")
    for r in rows:
        diff = "-" if r.difference_eV is None else f"{r.difference_eV:+.3f}"
        print(f"  {r.dopant:<3} {r.kind:<9} {r.item:<22} {calculator} {r.calc_eV:+.3f}  gpaw "
              f"{'-' if r.reference_eV is None else format(r.reference_eV, '+.3f')}  diff {diff}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
