"""Benchmark of local campaigns: workflow overhead and 2-worker scaling.

Prints a table with, for one campaign run on a fresh database each time:

* overhead = (campaign wall time on 1 worker) / (sum of calculator wall times)
  (goal <= 1.05 for a demo-like campaign with the real calculator),
* speed-up = (wall time on 1 worker) / (wall time on 2 workers), each worker pinned to
  one thread (goal >= 1.8 on 2 free cores).

Usage::

    python benchmarks/workflows.py --quick                    # lj-test (NOT physics), seconds
    python benchmarks/workflows.py --calculator sevennet      # demo-like, minutes

A private embedded database (in memory) is started and stopped by the script.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import uuid

QUICK = {
    "name": "bench-quick", "dopants": ["B", "Ge"], "counts": [1, 2], "max_supercell": 1,
    "include_pure": True, "sites": {"nearest": 2}, "hops": "far", "calculator": {"name": "lj-test"},
    "relax": {"fmax": 0.05, "steps": 300}, "neb": {"n_images": 3, "fmax": 0.2, "steps": 300},
    "reference": {"fmax": 0.02},
}

DEMO = {
    "name": "bench-demo", "dopants": ["B", "P"], "percents": [1.5], "max_supercell": 2, "include_pure": True,
    "sites": {"nearest": 2}, "hops": "near", "calculator": {"name": "sevennet"},
    "relax": {"fmax": 0.05, "steps": 300}, "neb": {"n_images": 3, "fmax": 0.1, "steps": 300},
    "reference": {"fmax": 0.02},
}


def _run(spec, uri: str, workers: int, launch_dir: str):
    from sianode.workflows.run import run_campaign

    return run_campaign(spec, db=uri, workers=workers, launch_dir=launch_dir, poll_s=0.2)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="cheap lj-test campaign (default)")
    parser.add_argument("--calculator", default=None, help="run the demo-like campaign with this calculator")
    parser.add_argument("--workers", type=int, default=2, help="workers of the scaling run")
    args = parser.parse_args(argv)
    os.environ["OMP_NUM_THREADS"] = "1"

    from sianode.store.server import EmbeddedServer
    from sianode.workflows.spec import campaign_from_dict

    data = dict(QUICK)
    if args.calculator and not args.quick:
        data = {**DEMO, "calculator": {"name": args.calculator}}
    spec = campaign_from_dict(data, "benchmark")
    home = tempfile.mkdtemp(prefix="sianode-bench-")
    server = EmbeddedServer(home=home, storage_path=":memory:")
    state = server.start()
    rows = []
    try:
        for workers in (1, args.workers):
            uri = f"mongodb://127.0.0.1:{state.port}/bench_{uuid.uuid4().hex[:8]}?directConnection=true"
            t0 = time.perf_counter()
            summary = _run(spec, uri, workers, os.path.join(home, f"launch{workers}"))
            wall = time.perf_counter() - t0
            if not summary.complete:
                print(f"campaign did not complete with {workers} worker(s): {summary.states}", file=sys.stderr)
                return 1
            rows.append((workers, wall, summary.calc_wall_s, summary.computed, sum(summary.states.values())))
    finally:
        server.stop()
    (w1, wall1, calc1, n1, fws), (w2, wall2, calc2, n2, _) = rows
    print(f"campaign {spec.name}: calculator {spec.calculator.name}, {fws} Fireworks, {n1} calculations; "
          f"{os.cpu_count()} CPUs, 1 thread per worker")
    print(f"{'workers':>8} {'wall_s':>9} {'calc_s':>9} {'wall/calc':>10} {'speed-up':>9}")
    print(f"{w1:>8d} {wall1:>9.2f} {calc1:>9.2f} {wall1 / calc1:>10.3f} {1.0:>9.2f}")
    print(f"{w2:>8d} {wall2:>9.2f} {calc2:>9.2f} {wall2 * w2 / calc2:>10.3f} {wall1 / wall2:>9.2f}")
    print("goals: wall/calc <= 1.05 on 1 worker (demo-like, real calculator); speed-up >= 1.8 on 2 free cores")
    return 0


if __name__ == "__main__":
    sys.exit(main())
