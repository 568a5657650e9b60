"""Every layer's benchmark in one run, as one table of ratios.

Each figure is a ratio against a baseline measured in the same run (or, for the
structures and continuum timings, against the issue's fixed goal):

=============  ===========================================================  ===========
layer          ratio                                                        goal
=============  ===========================================================  ===========
store          ``get_or_compute`` (first call, cached call) / plain call    cached < 1
structures     time / 10 s limit (benchmarks/structures.py)                 <= 1
neb            force calls, sianode settings / ASE defaults (sevennet)      <= 0.6
workflows      wall / calculator time on 1 worker; wall(1) / wall(2)        <= 1.05; >= 1.8
continuum      time / goal (benchmarks/continuum.py)                        <= 1
duplicates     calculator calls when re-running a finished campaign / first  == 0
recipes        superposition curves of the demo's 4 dopants (its rerun's     <= 1
               analysis) / the 60 s a demo rerun may take
=============  ===========================================================  ===========

Usage::

    .venv/bin/python benchmarks/run_all.py --quick    # cheap calculators, small sizes: < 10 min on 2 cores
    .venv/bin/python benchmarks/run_all.py            # full: sevennet NEB and demo-like campaign
    .venv/bin/python benchmarks/run_all.py --quick --markdown table.md

The workflow ratios with ``--quick`` use ``lj-test`` (NOT physics): they measure the
machinery, and the overhead goal is for the real calculator, where a calculation takes
seconds, not milliseconds; so they are shown without pass/fail. The NEB uses sevennet at
the production settings (5 images, fmax 0.05 eV/A) in both modes, since the goal is defined
there: lj-test collapses the 64-atom diamond cell and the classical Si potentials have no Li. Prints a plain table, then the same as Markdown.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import re
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent


@dataclass
class Row:
    layer: str
    measure: str
    value: str
    baseline: str
    ratio: float | None
    goal: str
    ok: bool | None

    @property
    def verdict(self) -> str:
        return "-" if self.ok is None else ("pass" if self.ok else "FAIL")


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("SIANODE_DB_URI", "SIANODE_LAUNCHPAD", "SIANODE_CALL_LOG")}
    env.update({"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1",
                "PYTHONWARNINGS": "ignore"})
    return env


def _script(name: str, args: list[str], timeout: float, home: Path) -> str:
    """stdout of ``benchmarks/<name>`` run with this Python; RuntimeError with the stderr tail if it fails."""
    env = _env()
    env["SIANODE_HOME"] = str(home / name.replace(".py", ""))
    proc = subprocess.run([sys.executable, str(HERE / name), *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=timeout)
    if proc.returncode != 0:
        tail = (proc.stderr.strip().splitlines() or [f"exit {proc.returncode}"])[-1]
        raise RuntimeError(f"{name} {' '.join(args)} failed (exit {proc.returncode}): {tail}")
    return proc.stdout


_TIMING = re.compile(r"^(?P<name>.+?)\s+(?P<t>[\d.]+)\s+(?P<goal>[\d.]+)\s+(?P<ratio>[\d.]+)\s*$")


def _timings(text: str) -> list[tuple[str, float, float]]:
    """(name, time_s, goal_s) from a 'name time goal ratio' table."""
    out = []
    for line in text.splitlines():
        m = _TIMING.match(line)
        if m and not line.lstrip().startswith("benchmark"):
            out.append((m["name"].strip(), float(m["t"]), float(m["goal"])))
    return out


# ------------------------------------------------------------------ layers
def bench_store(quick: bool, home: Path) -> list[Row]:
    import importlib.util

    spec = importlib.util.spec_from_file_location("sianode_bench_store", HERE / "store.py")
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    with contextlib.redirect_stdout(io.StringIO()):
        rows = module.main(["-n", "200" if quick else "2000"])
    out = []
    for r in rows:
        if not r.get("ratio"):
            continue
        ratio = float(str(r["ratio"]).rstrip("x"))
        if "first" in r["measure"]:  # claim + durable commit on top of the work: no stated goal
            out.append(Row("store", r["measure"], f"{r['value']:.2f} {r['unit']}", r["baseline"], ratio, "-", None))
        else:  # a cache hit must beat computing again
            out.append(Row("store", r["measure"], f"{r['value']:.2f} {r['unit']}", r["baseline"], ratio, "< 1",
                           ratio < 1.0))
    return out


def bench_structures(quick: bool, home: Path) -> list[Row]:
    limit = 10.0
    return [Row("structures", name, f"{t:.3f} s", f"{limit:.0f} s limit", t / limit, "<= 1", t <= limit)
            for name, t, _ in _timings(_script("structures.py", [], 900, home))]


#: NEB calculator: it must handle Li in Si (lj-test collapses the 64-atom diamond cell, the
#: classical potentials are Si-only); --quick skips only its E+F timing table
NEB_CALCULATOR = "sevennet"


def bench_neb(quick: bool, home: Path) -> list[Row]:
    calc = NEB_CALCULATOR
    # the goal is defined at the production settings (5 images, fmax 0.05), so --quick keeps them
    # and only skips the per-calculator E+F timing table
    args = ["--no-timing", "--calculator", calc] if quick else ["--calculator", calc]
    text = _script("neb.py", args, 1800 if not quick else 600, home)
    rows = re.findall(r"^((?:sianode|ASE defaults) .*?\))\s+(\S+)\s+(\S+)\s+(\d+)\s+(\d+)\s+([\d.]+)\s*$", text, re.M)
    m = re.search(r"force-call ratio sianode / ASE defaults = ([\d.]+)", text)
    ours = next((r for r in rows if r[0].startswith("sianode")), None)  # the first sianode row: its settings now
    ase = next((r for r in rows if r[0].startswith("ASE defaults")), None)
    if not m or ours is None or ase is None:
        raise RuntimeError("could not read the NEB force calls from benchmarks/neb.py")
    ratio = float(m.group(1))
    shown = f"{calc}, 5 images, fmax 0.05"
    return [Row("neb", f"force calls to converge, T->H->T hop in 64 Si ({shown})",
                f"{ours[4]} calls ({ours[1]})", f"{ase[4]} calls ASE defaults ({ase[1]})", ratio, "<= 0.6",
                ratio <= 0.6)]


def bench_workflows(quick: bool, home: Path) -> list[Row]:
    args = ["--quick"] if quick else ["--calculator", "sevennet"]
    text = _script("workflows.py", args, 600 if quick else 3600, home)
    rows = re.findall(r"^\s*(\d+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s*$", text, re.M)
    head = next((ln for ln in text.splitlines() if ln.startswith("campaign ")), "")
    if len(rows) != 2:
        raise RuntimeError("could not read the table of benchmarks/workflows.py")
    (w1, wall1, calc1, over1, _), (w2, wall2, _, _, speed) = rows
    calc = "lj-test, NOT physics" if quick else "sevennet"
    n = re.search(r"(\d+) calculations", head)
    what = f"{n.group(1)} calculations, {calc}" if n else calc
    return [
        Row("workflows", f"orchestration overhead, 1 worker ({what})", f"{float(wall1):.1f} s wall",
            f"{float(calc1):.1f} s calculator", float(over1), "<= 1.05 (real calculator)",
            None if quick else float(over1) <= 1.05),
        Row("workflows", f"speed-up, {w2} workers vs 1 ({what})", f"{float(wall2):.1f} s wall",
            f"{float(wall1):.1f} s on 1 worker", float(speed), ">= 1.8 (2 free cores)",
            None if quick else float(speed) >= 1.8),
    ]


def bench_continuum(quick: bool, home: Path) -> list[Row]:
    return [Row("continuum", name, f"{t:.4f} s", f"{goal:g} s goal", t / goal, "<= 1", t <= goal)
            for name, t, goal in _timings(_script("continuum.py", [], 900, home))]


QUICK_CAMPAIGN = {
    "name": "dup-check", "dopants": ["B", "Ge"], "counts": [1], "max_supercell": 1, "include_pure": True,
    "sites": {"nearest": 1}, "hops": "far", "calculator": {"name": "lj-test"},
    "relax": {"fmax": 0.1, "steps": 200}, "neb": {"n_images": 3, "fmax": 0.2, "steps": 200},
    "reference": {"fmax": 0.05},
}


def bench_duplicates(quick: bool, home: Path) -> list[Row]:
    """Run a campaign through the CLI, then again: the re-run makes 0 calculator calls."""
    import yaml

    data = dict(QUICK_CAMPAIGN)
    if not quick:
        data.update(counts=[1, 2], sites={"nearest": 2})
    here = home / "duplicates"
    here.mkdir(parents=True, exist_ok=True)
    spec = here / "campaign.yaml"
    spec.write_text(yaml.safe_dump(data))
    log = here / "calls.log"
    log.write_text("")
    env = _env()
    env.update(SIANODE_HOME=str(here), SIANODE_CALL_LOG=str(log))
    exe = Path(sys.executable).parent / "sianode"
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "sianode.cli"]
    try:
        counts = []
        for _ in range(2):
            proc = subprocess.run(cmd + ["-q", "run", str(spec), "--workers", "2"], env=env, cwd=here,
                                  capture_output=True, text=True, timeout=900)
            if proc.returncode != 0:
                raise RuntimeError(f"sianode run failed: {(proc.stderr.strip().splitlines() or [''])[-1]}")
            counts.append(len([ln for ln in log.read_text().splitlines() if ln.strip()]))
    finally:
        subprocess.run(cmd + ["db", "stop"], env=env, cwd=here, capture_output=True, timeout=60)
    first, total = counts
    again = total - first
    return [Row("duplicates", "calculator calls re-running a finished campaign (lj-test)", f"{again} calls",
                f"{first} calls first run", again / first if first else None, "== 0", again == 0 and first > 0)]


def bench_recipes(quick: bool, home: Path) -> list[Row]:
    """The dominant cost of a demo rerun (nothing computed): the superposition curve of each of
    the 4 dopants at the demo's concentrations (sianode.analysis.concentration defaults: 11
    atom %, 4 seeds, 1728-site cells, E_a,eff from a 7-temperature Arrhenius fit each), on a
    one-dopant trap kernel (the 4 nearest T sites 0.1 eV lower, saddles unchanged)."""
    import numpy as np

    from sianode.analysis.concentration import DEFAULT_L, DEFAULT_SEEDS, default_curve_percents
    from sianode.transport import concentration_curve, diamond_t_network, kernel_from_network

    a = 5.431
    net = diamond_t_network(2, a, saddle_energy_eV=0.5)
    offset = net.frac @ net.cell_A
    offset = offset - np.round(net.frac) @ net.cell_A  # minimum image from the Si at the origin
    dist = np.linalg.norm(offset, axis=1)
    energies = np.where(dist < dist.min() + 0.1, -0.1, 0.0)
    net.energies_eV = energies
    kernel = kernel_from_network(net, [0.0, 0.0, 0.0], site_energy_pure_eV=0.0, saddle_energy_pure_eV=0.5, a_A=a)
    percents = default_curve_percents([100 / 216, 1.5625, 3.125])
    t0 = time.perf_counter()
    for _ in range(1 if quick else 4):
        concentration_curve(kernel, percents, L=DEFAULT_L, seeds=DEFAULT_SEEDS)
    t = (time.perf_counter() - t0) * (4 if quick else 1)  # quick: one dopant timed, x 4
    goal = 60.0
    return [Row("recipes", f"superposition curves, 4 dopants x {len(percents)} atom % x {DEFAULT_SEEDS} seeds, "
                           f"{8 * DEFAULT_L ** 3}-site cells" + (" (1 timed, x 4)" if quick else ""),
                f"{t:.1f} s", f"{goal:.0f} s demo rerun", t / goal, "<= 1", t <= goal)]


LAYERS: list[tuple[str, Callable[[bool, Path], list[Row]]]] = [
    ("store", bench_store),
    ("structures", bench_structures),
    ("neb", bench_neb),
    ("workflows", bench_workflows),
    ("continuum", bench_continuum),
    ("duplicates", bench_duplicates),
    ("recipes", bench_recipes),
]


# ------------------------------------------------------------------ output
def _ratio(r: Row) -> str:
    return "-" if r.ratio is None else f"{r.ratio:.3g}"


def plain_table(rows: list[Row]) -> str:
    cols = ["layer", "measure", "value", "baseline", "ratio", "goal", "pass"]
    data = [[r.layer, r.measure, r.value, r.baseline, _ratio(r), r.goal, r.verdict] for r in rows]
    widths = [max(len(c), *(len(d[i]) for d in data)) if data else len(c) for i, c in enumerate(cols)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(cols, widths)), "  ".join("-" * w for w in widths)]
    lines += ["  ".join(v.ljust(w) for v, w in zip(d, widths)) for d in data]
    return "\n".join(lines)


def markdown_table(rows: list[Row]) -> str:
    def esc(text: str) -> str:
        return str(text).replace("|", "\\|")

    lines = ["| layer | measure | value | baseline (same run) | ratio | goal | pass |", "|---|---|---|---|---:|---|---|"]
    lines += [f"| {esc(r.layer)} | {esc(r.measure)} | {esc(r.value)} | {esc(r.baseline)} | {_ratio(r)} | "
              f"{esc(r.goal)} | {'**FAIL**' if r.ok is False else r.verdict} |" for r in rows]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="cheap calculators, small sizes (< 10 min on 2 cores)")
    parser.add_argument("--only", action="append", choices=[n for n, _ in LAYERS], help="run only these layers")
    parser.add_argument("--markdown", type=Path, default=None, help="also write the Markdown table to this file")
    args = parser.parse_args(argv)
    os.environ.update({"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"})
    rows: list[Row] = []
    t_all = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="sianode-run-all-") as tmp:
        for name, fn in LAYERS:
            if args.only and name not in args.only:
                continue
            t0 = time.perf_counter()
            print(f"running {name} ...", file=sys.stderr, flush=True)
            try:
                got = fn(args.quick, Path(tmp))
            except Exception as exc:  # one broken benchmark must not hide the others
                got = [Row(name, "benchmark failed to run", f"{type(exc).__name__}: {exc}"[:200], "", None, "", False)]
            print(f"  {name}: {time.perf_counter() - t0:.0f} s", file=sys.stderr, flush=True)
            rows.extend(got)
    mode = "quick (cheap calculators, small sizes)" if args.quick else "full"
    print(f"sianode benchmarks, {mode}: {os.cpu_count()} CPUs, 1 thread per process, "
          f"{time.perf_counter() - t_all:.0f} s in all\n")
    print(plain_table(rows))
    md = markdown_table(rows)
    print("\nMarkdown:\n")
    print(md)
    if args.markdown:
        args.markdown.write_text(md + "\n")
    return 1 if any(r.ok is False for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
