"""Store benchmark: server cold start, inserts and lookups per second, and the
overhead of ``get_or_compute`` against a plain function call.

Run: ``.venv/bin/python benchmarks/store.py [-n 2000]``. Prints one table; every
rate is measured in this run against this run's own baseline.
"""

from __future__ import annotations

import argparse
import tempfile
import time

import numpy as np


def main(argv: list[str] | None = None) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("-n", type=int, default=2000, help="documents to insert / look up")
    args = parser.parse_args(argv)

    from ase.build import bulk

    from sianode.store import ResultStore, connect, content_key
    from sianode.store.server import EmbeddedServer
    from sianode.store.uri import DatabaseTarget

    rows: list[dict] = []
    with tempfile.TemporaryDirectory() as home:
        server = EmbeddedServer(home=home)
        t0 = time.perf_counter()
        state = server.start()
        cold = time.perf_counter() - t0
        rows.append({"measure": "server cold start (on-disk, sync-on-commit)", "value": cold, "unit": "s", "baseline": "", "ratio": ""})
        try:
            store = ResultStore(connect(DatabaseTarget(uri=state.uri, database="bench", embedded=True)))
            atoms = bulk("Si", "diamond", a=5.431, cubic=True).repeat(2)
            calc = {"name": "bench"}
            t0 = time.perf_counter()
            keys = [content_key("bench", atoms, calc, {"i": i}) for i in range(args.n)]
            t_hash = (time.perf_counter() - t0) / args.n
            rows.append({"measure": "content key of a 64-atom structure", "value": t_hash * 1e3, "unit": "ms", "baseline": "", "ratio": ""})

            t0 = time.perf_counter()
            for k in keys:
                store.insert(k, {"kind": "bench", "output": {"energy_eV": -1.0}})
            ins = args.n / (time.perf_counter() - t0)
            t0 = time.perf_counter()
            for k in keys:
                store.get(k)
            look = args.n / (time.perf_counter() - t0)
            rows.append({"measure": "insert (durable commit each)", "value": ins, "unit": "doc/s", "baseline": "", "ratio": ""})
            rows.append({"measure": "lookup by key", "value": look, "unit": "doc/s", "baseline": "", "ratio": ""})

            def work():  # a ~20 ms stand-in for a cheap calculation
                a = np.random.default_rng(0).normal(size=(300, 300))
                t = time.perf_counter()
                while time.perf_counter() - t < 0.02:
                    a = a @ a.T / 300.0
                return {"energy_eV": float(a[0, 0])}

            m = 50
            t0 = time.perf_counter()
            for _ in range(m):
                work()
            plain = (time.perf_counter() - t0) / m
            t0 = time.perf_counter()
            for i in range(m):
                store.get_or_compute(content_key("goc", None, calc, {"i": i}), work)
            first = (time.perf_counter() - t0) / m
            t0 = time.perf_counter()
            for i in range(m):
                store.get_or_compute(content_key("goc", None, calc, {"i": i}), work)
            again = (time.perf_counter() - t0) / m
            rows.append({"measure": "get_or_compute, first call (20 ms work)", "value": first * 1e3, "unit": "ms",
                         "baseline": f"{plain * 1e3:.1f} ms plain call", "ratio": f"{first / plain:.2f}x"})
            rows.append({"measure": "get_or_compute, cached call", "value": again * 1e3, "unit": "ms",
                         "baseline": f"{plain * 1e3:.1f} ms plain call", "ratio": f"{again / plain:.3f}x"})
        finally:
            server.stop()

    print(f"{'measure':46s} {'value':>10s} {'unit':6s} {'baseline':>22s} {'ratio':>8s}")
    for r in rows:
        print(f"{r['measure']:46s} {r['value']:10.2f} {r['unit']:6s} {r['baseline']:>22s} {r['ratio']:>8s}")
    return rows


if __name__ == "__main__":
    main()
