"""Campaigns of thousands: orchestration seconds per calculation against campaign size.

Runs synthetic campaigns of about 100, 1,000 and 5,000 calculations with the ``lj-test``
calculator (NOT physics: 8-atom cells, any element as a dopant, so a campaign can have as
many hosts as wanted) on the embedded SecantusDB server (on-disk storage, ``--sync-on-commit``,
as a user gets it) in a fresh temporary ``$SIANODE_HOME`` per run, with 1 and 2 local
workers (one thread each), and prints per run:

* ``calcs``: calculations run (``computed``; a campaign's failures and skips included),
* ``wall_s``: wall time of ``run_campaign`` (adding the workflow included),
* ``calc_s``: the sum of the calculator wall times of those calculations,
* ``orch_s/calc``: orchestration seconds per calculation,
  ``(workers * wall_s - calc_s) / calcs``: everything that is not the calculator, summed over
  the workers (FireWorks checkout and state updates, store reads and writes, building
  structures, idle workers waiting for a parent);
* ``in_fw/calc``: the part of it spent inside Fireworks (FireWorks' launch run time minus the
  calculator time: structures, store, FireWorks' own writes at the end of a launch);
* ``+%@10s``: the wall time orchestration would add to a campaign of the same size whose
  calculations take 10 s each, ``orch_s/calc / 10 s`` (the issue's goal: under 5 % with 2 workers).

The slope of ``orch_s/calc`` against campaign size (least squares, seconds per calculation
per 1,000 calculations) says whether the overhead grows with the campaign.

Usage::

    .venv/bin/python benchmarks/scale.py                        # 100, 1000, 5000; 1 and 2 workers
    .venv/bin/python benchmarks/scale.py --sizes 100 1000 --workers 2
    .venv/bin/python benchmarks/scale.py --sizes 100 --json scale.json
    .venv/bin/python benchmarks/scale.py --sizes 100 1000 --baseline   # also the previous layout, same run
    .venv/bin/python benchmarks/scale.py --sizes 1000 --variants per-host one per-host+server one+server
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

#: campaign shape per target size: counts, max_arrangements, calculations per dopant (measured by
#: planning one dopant; the dopant list is then cut to reach the size)
SHAPES = {
    "small": {"counts": [1], "max_arrangements": 1},
    "medium": {"counts": [1, 2], "max_arrangements": 3},
    "large": {"counts": [1, 2, 3, 4], "max_arrangements": 10},
}
#: force criteria at the allowed maximum (5 eV/A): every relaxation and NEB stops after a few
#: force calls, so what is measured is the orchestration around the calculator, not lj-test
BASE: dict[str, Any] = {
    "max_supercell": 1, "include_pure": False, "sites": {"nearest": 1}, "hops": "far",
    "calculator": {"name": "lj-test"},
    "relax": {"fmax": 5.0, "steps": 50, "host_cell": False},
    "neb": {"n_images": 3, "fmax": 5.0, "steps": 50},
    "reference": {"fmax": 5.0},
}


def dopant_pool() -> list[str]:
    """Elements the campaign spec accepts as dopants (lj-test takes any Z <= 86)."""
    from ase.data import chemical_symbols

    from sianode.errors import InputError
    from sianode.structures import validate_element

    pool = []
    # the usual dopants first, then the rest of the periodic table
    for symbol in ["B", "P", "Ge", "S", "Al", "Ga", "As", "Sn", "C", "N"] + chemical_symbols[1:87]:
        if symbol in pool or symbol in ("Si", "Li"):
            continue
        try:
            validate_element(symbol)
        except InputError:
            continue
        pool.append(symbol)
    return pool


def calcs_of_plan(plan: Any) -> int:
    """About the calculations of a plan: hosts, insertions, per hop its NEB and (often) the
    insertion of an end class outside ``sites: {nearest: 1}``, reference, lattice."""
    return len(plan.hosts) + plan.n_insertions + 2 * plan.n_hops + 2


def shape_for(size: int) -> dict[str, Any]:
    return SHAPES["small"] if size <= 200 else SHAPES["medium"] if size <= 2000 else SHAPES["large"]


def campaign_for(size: int, name: str, fireworks: str = "auto") -> tuple[Any, int]:
    """A campaign spec of about ``size`` calculations and its planned number of calculations."""
    from sianode.workflows.plan import plan_campaign
    from sianode.workflows.spec import campaign_from_dict

    shape = shape_for(size)
    pool = dopant_pool()
    one = plan_campaign(campaign_from_dict({**BASE, **shape, "name": name, "dopants": pool[:1]}))
    per_dopant = calcs_of_plan(one) - 2
    n = max(1, min(len(pool), round((size - 2) / max(per_dopant, 1))))
    spec = campaign_from_dict({**BASE, **shape, "name": name, "dopants": pool[:n], "fireworks": fireworks})
    return spec, n * per_dopant + 2


def launch_runtime_s(home: Path, campaign: str) -> float:
    """Sum of FireWorks' ``runtime_secs`` of the campaign's COMPLETED launches."""
    from sianode.workflows.run import campaign_launchpad

    lp, _ = campaign_launchpad(None)
    try:
        fw_ids = [d["fw_id"] for d in lp.fireworks.find({"spec._sianode_campaign": campaign}, {"fw_id": 1})]
        total = 0.0
        for launch in lp.launches.find({"fw_id": {"$in": fw_ids}, "state": "COMPLETED"}, {"runtime_secs": 1}):
            total += float(launch.get("runtime_secs") or 0.0)
        return total
    finally:
        lp.connection.close()


#: what is compared: workflow layout (:func:`sianode.workflows.flows.build_workflows`) and
#: whether findAndModify is emulated on the embedded server (:mod:`sianode.store.atomic`)
VARIANTS = {
    # what sianode does now: a workflow per host, fireworks: auto (one Firework per host from 64 hosts on)
    "per-host": {"layout": "per-host", "find_and_modify": "emulated", "fireworks": "auto"},
    # the same with one Firework per calculation at every size
    "per-calc": {"layout": "per-host", "find_and_modify": "emulated", "fireworks": "calculation"},
    # the baseline: the previous layout (one workflow, a Firework per calculation, the server's findAndModify)
    "one+server": {"layout": "one", "find_and_modify": "server", "fireworks": "calculation"},
    "one": {"layout": "one", "find_and_modify": "emulated", "fireworks": "calculation"},
    "per-calc+server": {"layout": "per-host", "find_and_modify": "server", "fireworks": "calculation"},
}


def run_one(size: int, workers: int, root: Path, variant: str = "per-host") -> dict[str, Any]:
    """One campaign of about ``size`` calculations with ``workers`` workers, in a fresh home."""
    import functools

    import sianode.workflows.flows as flows
    from sianode.store.atomic import ENV
    from sianode.store.server import EmbeddedServer
    from sianode.workflows.run import run_campaign

    setting = VARIANTS[variant]
    build = flows.build_workflows
    # add_campaign imports build_workflows when it runs; workers inherit the environment
    flows.build_workflows = functools.partial(build, layout=setting["layout"])
    saved_env = os.environ.get(ENV)
    os.environ[ENV] = "server" if setting["find_and_modify"] == "server" else "emulated"
    home = root / f"n{size}-w{workers}-{variant.replace('+', '-')}"
    home.mkdir(parents=True)
    os.environ["SIANODE_HOME"] = str(home)
    for var in ("SIANODE_DB_URI", "SIANODE_LAUNCHPAD"):
        os.environ.pop(var, None)
    try:
        t_plan = time.perf_counter()
        spec, planned = campaign_for(size, f"scale-{size}", setting["fireworks"])
        plan_s = time.perf_counter() - t_plan
        t0 = time.perf_counter()
        summary = run_campaign(spec, workers=workers, launch_dir=home / "launches", poll_s=0.5)
        wall = time.perf_counter() - t0
        runtime = launch_runtime_s(home, spec.name)
    finally:
        flows.build_workflows = build
        if saved_env is None:
            os.environ.pop(ENV, None)
        else:
            os.environ[ENV] = saved_env
        EmbeddedServer(home=home).stop()
    n = max(summary.computed, 1)
    orch = (workers * wall - summary.calc_wall_s) / n
    row = {"size": size, "workers": workers, "layout": variant, "dopants": len(spec.dopants),
           "planned": planned,
           "fireworks": sum(summary.states.values()), "calcs": summary.computed, "reused": summary.reused,
           "complete": summary.complete, "states": summary.states, "plan_s": plan_s, "wall_s": wall,
           "calc_s": summary.calc_wall_s, "launch_runtime_s": runtime, "orch_s_per_calc": orch,
           "in_fw_s_per_calc": (runtime - summary.calc_wall_s) / n,
           "added_at_10s_pct": 100.0 * orch / 10.0}
    print(json.dumps(row), file=sys.stderr, flush=True)
    return row


def slope(rows: list[dict[str, Any]]) -> float | None:
    """Least-squares slope of orch_s/calc against calcs, seconds per calculation per 1,000 calculations."""
    if len({r["calcs"] for r in rows}) < 2:
        return None
    import numpy as np

    x = np.array([r["calcs"] for r in rows], float) / 1000.0
    y = np.array([r["orch_s_per_calc"] for r in rows], float)
    return float(np.polyfit(x, y, 1)[0])


def print_table(rows: list[dict[str, Any]]) -> None:
    print(f"{'size':>6} {'variant':>15} {'workers':>7} {'fireworks':>9} {'calcs':>6} {'wall_s':>9} {'calc_s':>9} "
          f"{'orch_s/calc':>11} {'in_fw/calc':>10} {'+%@10s':>7} {'complete':>8}")
    for r in rows:
        print(f"{r['size']:>6d} {r['layout']:>15} {r['workers']:>7d} {r['fireworks']:>9d} {r['calcs']:>6d} "
              f"{r['wall_s']:>9.1f} "
              f"{r['calc_s']:>9.1f} {r['orch_s_per_calc']:>11.3f} {r['in_fw_s_per_calc']:>10.3f} "
              f"{r['added_at_10s_pct']:>6.1f}% {str(r['complete']):>8}")
    for layout in sorted({r["layout"] for r in rows}):
        for w in sorted({r["workers"] for r in rows}):
            s = slope([r for r in rows if r["workers"] == w and r["layout"] == layout])
            if s is not None:
                print(f"slope ({layout}, {w} worker(s)): {s:+.4f} s per calculation per 1,000 calculations")
    for r in rows:
        base = next((b for b in rows if b["layout"] == "one+server" and b["size"] == r["size"]
                     and b["workers"] == r["workers"]), None)
        if base is not None and r is not base:
            print(f"size {r['size']}, {r['workers']} worker(s): {r['layout']} / one+server orchestration per "
                  f"calculation = {r['orch_s_per_calc'] / base['orch_s_per_calc']:.2f}")
    print(f"{os.cpu_count()} CPUs; lj-test (NOT physics); embedded SecantusDB on disk; 1 thread per worker")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 1000, 5000],
                        help="approximate calculations per campaign")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2], help="local workers per run")
    parser.add_argument("--variants", nargs="+", default=["per-host"], choices=sorted(VARIANTS),
                        help="per-host: sianode now (fireworks: auto); per-calc: a Firework per calculation; "
                             "one+server: the previous layout as the baseline (one workflow, the server's findAndModify); one, "
                             "per-calc+server: each change alone")
    parser.add_argument("--baseline", action="store_true",
                        help="also run one+server at every size up to --baseline-max")
    parser.add_argument("--baseline-max", type=int, default=1000, help="largest size run with the baseline")
    parser.add_argument("--json", type=Path, default=None, help="also write the rows as JSON")
    parser.add_argument("--keep", action="store_true", help="keep the temporary homes")
    args = parser.parse_args(argv)
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ[var] = "1"
    root = Path(tempfile.mkdtemp(prefix="sianode-scale-"))
    print(f"homes under {root}", file=sys.stderr)
    rows: list[dict[str, Any]] = []
    try:
        for size in args.sizes:
            variants = list(dict.fromkeys(args.variants + (["one+server"] if args.baseline
                                                           and size <= args.baseline_max else [])))
            for workers in args.workers:
                for variant in variants:
                    rows.append(run_one(size, workers, root, variant))
                    if args.json:
                        args.json.write_text(json.dumps(rows, indent=1))
    finally:
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)
    print_table(rows)
    return 0 if rows and all(r["complete"] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
