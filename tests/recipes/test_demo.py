"""The demo recipe: its campaigns, its cost arithmetic, its tables and plots from a store with
complete synthetic networks, graceful degradation, and a tiny end-to-end run on lj-test."""

from __future__ import annotations

import importlib.util
import math
from pathlib import Path

import pytest
from rich.console import Console

from sianode.recipes import demo

_spec = importlib.util.spec_from_file_location(
    "network_docs", Path(__file__).parents[1] / "analysis" / "network_docs.py")
nd = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(nd)


def _text(renderable) -> str:
    console = Console(width=240, record=True)
    console.print(renderable)
    return console.export_text()


def test_demo_campaigns_are_three_concentrations_and_complete_one_dopant_networks():
    from sianode.workflows.plan import plan_campaign

    specs = demo.demo_specs()
    assert [s.name for s in specs] == ["demo", "demo-2in64", "demo-4in64"]
    from sianode.calculators import DEFAULT_CALCULATOR

    assert all(s.calculator.name == DEFAULT_CALCULATOR and s.dopants == ["B", "P", "S", "Ge"] for s in specs)
    plans = [plan_campaign(s) for s in specs]
    percents = sorted({round(h.percent, 4) for p in plans for h in p.hosts if h.dopant != "Si"})
    assert percents == [1.5625, 3.125, 6.25]
    main = plans[0]
    doped = [h for h in main.hosts if h.dopant != "Si"]
    # one dopant in 64 sites: 9 T classes and 10 H classes (PHYSICS.md section 2), every one computed
    assert all(len(h.sites) == 9 and len(h.hops) == 10 for h in doped)
    (pure,) = [h for h in main.hosts if h.dopant == "Si"]
    assert (len(pure.sites), len(pure.hops)) == (1, 1)
    # 2/64 and 4/64 dispersed: every hop path too (5 and 4 H classes), so every network is complete
    assert [[len(h.hops) for h in p.hosts] for p in plans[1:]] == [[5] * 4, [4] * 4]
    assert [{len(h.dopant_indices) for h in p.hosts} for p in plans[1:]] == [{2}, {4}]
    # dispersed: the pair is not nearest neighbours (the compact class 0 would be)
    from sianode.structures import pure_supercell

    cell = pure_supercell(2)
    pair = plans[1].hosts[0].dopant_indices
    assert cell.get_distance(*pair, mic=True) > 2.4


def test_demo_specs_for_another_calculator_and_prefix():
    specs = demo.demo_specs("lj-test")
    assert [s.name for s in specs] == ["demo-lj-test", "demo-lj-test-2in64", "demo-lj-test-4in64"]
    assert {s.calculator.name for s in specs} == {"lj-test"}
    assert [s.name for s in demo.demo_specs(name="mine")] == ["mine", "mine-2in64", "mine-4in64"]
    assert all(s.neb.n_images == demo.validation_settings().n_images == 3 for s in specs)


def test_cost_estimate_is_the_plan_times_the_unit_costs():
    specs = demo.demo_specs()
    cost = {"insertion_64": 10.0, "insertion_216": 50.0, "host_64": 2.0, "host_216": 20.0, "neb_64": 60.0}
    est = demo.estimate_cost_s(specs, cost)
    # demo: 5 hosts, 4 x 9 + 1 insertions, 4 x 10 + 1 NEBs
    assert est["demo"] == pytest.approx(5 * 2 + 37 * 10 + 41 * 60)
    # 2/64 and 4/64 dispersed: 4 hosts each, 5 T classes each, 5 and 4 hop paths
    assert est["demo-2in64"] == pytest.approx(4 * 2 + 20 * 10 + 20 * 60)
    assert est["demo-4in64"] == pytest.approx(4 * 2 + 20 * 10 + 16 * 60)
    total_min = sum(demo.estimate_cost_s(specs).values()) / 2 / 60  # 2 workers
    assert total_min < 25  # the budget of `make demo` on 2 cores


def _store_with_networks(store):
    """pure Si and B, S with complete one-dopant networks; B at 2/64 with insertion energies only."""
    flat = lambda h, s, e: 0.5  # noqa: E731
    nd.network_host(store, "Si", [], lambda c: 0.02, flat)
    nd.network_host(store, "B", [0], lambda c: -0.2 if c.distance_to_dopant < 2.5 else 0.0, flat)
    nd.network_host(store, "S", [0], lambda c: 0.1 if c.distance_to_dopant < 2.5 else 0.02,
                    lambda h, s, e: 0.45)
    nd.insertions(store, nd.host(store, "B", [0, 35], arrangement=3, multiplicity=96), lambda c: -0.3)


def test_analysis_writes_table_comparison_and_every_plot(store, tmp_path):
    _store_with_networks(store)
    result = demo.DemoResult(calculator="fake")
    shown = []
    demo._analyse(store, result, ["c1"], tmp_path, shown.append, L=4, seeds=2)
    assert sorted(result.plots) == ["barriers", "critical-size", "diffusivity", "insertion", "network"]
    for path in result.plots.values():
        assert path.exists() and path.read_bytes()[:4] == b"\x89PNG"
    assert result.problems == []
    rows = {(r["dopant"], round(r["percent"], 4)): r for r in result.rows}
    assert rows[("B", 1.5625)]["transport_source"] == "network"
    assert rows[("B", 3.125)]["transport_source"] == "superposition"  # no hops there: from the kernel
    from sianode.analysis.plots import critical_size_rows

    crit = {r["label"]: r for r in critical_size_rows(result.trends, n_nodes=31, n_steps=40)}
    b_host = next(d["key"] for d in store.find({"labels.role": "host", "labels.dopant": "B", "labels.n_dopants": 1}))
    assert b_host in crit["B 3.125 % (sup.)"]["diffusivity_sources"]  # the kernel's documents
    assert crit["B 3.125 % (sup.)"]["ratio_to_pure"] == pytest.approx(rows[("B", 3.125)]["ratio_to_pure"])
    table, comparison = (_text(x) for x in shown)
    marker = " sup! " if rows[("B", 3.125)]["superposition_checked"] is False else " sup "
    assert "3.125" in table and " net " in table and marker in table and "B" in table
    assert "explicit hop network vs dilute superposition" in comparison and "1.5625" in comparison


def test_missing_piece_is_named_and_the_rest_goes_on(store, tmp_path, monkeypatch):
    from sianode.analysis import concentration

    _store_with_networks(store)

    def no_transport(*args, **kwargs):
        raise ImportError("cannot import name 'concentration_curve' from 'sianode.transport'")

    monkeypatch.setattr(concentration, "superposition_curve", no_transport)
    result = demo.DemoResult(calculator="fake")
    demo._analyse(store, result, ["c1"], tmp_path, None, L=4, seeds=2)
    assert any("concentration_curve" in p for p in result.problems)
    assert {"insertion", "diffusivity", "network"} <= set(result.plots)  # explicit networks still drawn
    assert next(r for r in result.rows if r["dopant"] == "B" and r["percent"] > 3)["ratio_to_pure"] is None


def test_unknown_campaign_key_is_dropped_and_named(monkeypatch):
    from sianode.workflows import spec as spec_module

    real = spec_module.campaign_from_dict

    def without_arrangements(data, source="campaign"):
        if "arrangements" in data:
            from sianode.errors import InputError

            raise InputError(f"{source}: arrangements: unknown key; allowed keys: name, dopants")
        return real(data, source)

    monkeypatch.setattr(spec_module, "campaign_from_dict", without_arrangements)
    problems: list[str] = []
    specs = demo.demo_specs(problems=problems)
    assert len(specs) == 3 and len(problems) == 2 and all("arrangements" in p for p in problems)
    assert "demo-2in64" in problems[0] and "demo-4in64" in problems[1]


@pytest.mark.slow
def test_tiny_demo_end_to_end_and_rerun_computes_nothing(db_uri, tmp_path, monkeypatch):
    tiny = {"dopants": ["B"], "calculator": {"name": "lj-test"}, "relax": {"fmax": 0.1, "steps": 200,
            "host_cell": False}, "neb": {"n_images": 3, "fmax": 0.2, "steps": 200}, "reference": {"fmax": 0.05}}
    monkeypatch.setattr(demo, "DEMO_CAMPAIGNS", [
        {**tiny, "name": "demo", "counts": [1], "max_supercell": 1, "include_pure": True, "sites": "all",
         "hops": "all"},
        {**tiny, "name": "demo-2in8", "counts": [2], "max_supercell": 1, "include_pure": False,
         "sites": {"nearest": 1}, "hops": "none"}])
    monkeypatch.setenv("SIANODE_HOME", str(tmp_path / "home"))
    first = demo.run_demo(db=db_uri, outdir=tmp_path / "out", workers=1, calculator="lj-test", validate=False)
    assert first.campaign_names == ["demo-lj-test", "demo-lj-test-2in8"] and first.computed > 0, first.problems
    assert {(r["dopant"], round(r["percent"], 3)) for r in first.rows} >= {("pure Si", 0.0), ("B", 12.5), ("B", 25.0)}
    assert (tmp_path / "out" / "insertion.png").exists()
    import io

    from sianode.workflows.progress import Progress

    piped = io.StringIO()  # not a terminal: plain lines, and the same lines in the log file
    with Progress(stream=piped, log_file=tmp_path / "demo-progress.log") as progress:
        again = demo.run_demo(db=db_uri, outdir=tmp_path / "out", workers=1, calculator="lj-test", validate=False,
                              progress=progress)
    lines = piped.getvalue().splitlines()
    assert any("campaign 1/2: demo-lj-test" in line for line in lines)
    assert any("demo-lj-test-2in8: fireworks" in line and "done" in line for line in lines), lines
    assert any("trends over atom %" in line for line in lines)
    assert len((tmp_path / "demo-progress.log").read_text().splitlines()) >= len(lines)
    assert again.computed == 0 and [s.complete for s in again.campaigns] == [True, True]
    assert [r["e_ins_avg_eV"] for r in again.rows] == [r["e_ins_avg_eV"] for r in first.rows]
    assert not math.isnan(first.wall_s)
