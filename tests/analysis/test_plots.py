"""Plots against concentration: files written, axis reads the actual atom %, markers offset,
bands where the numbers say so; artists read back and compared with the input numbers."""

from __future__ import annotations

import importlib.util
import math
from pathlib import Path

import numpy as np
import pytest

from sianode.analysis import plots
from sianode.analysis.concentration import CurvePoint, DopantTrend, ExplicitPoint, HostValues, Stat, Trends
from sianode.errors import InputError
from sianode.plotting import dopant_color

_spec = importlib.util.spec_from_file_location("network_docs", Path(__file__).with_name("network_docs.py"))
nd = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(nd)

PERCENTS = (100 / 216, 1.5625, 3.125)


def _stat(mean, spread=0.0, n=1):
    return Stat(mean, spread, mean - spread, mean + spread, n, 1.0)


def _point(dopant, percent, *, e=None, ratio=None, ea=None, near=None, spread=0.0):
    host = HostValues("k" * 64, dopant, percent, 2, 1, 0, 1.0, "multiplicity", ratio_to_pure=ratio)
    return ExplicitPoint(dopant, percent, 2, 1, [host], e_ins_nearest=_stat(e) if e is not None else None,
                         e_ins_min=_stat(e - 0.05) if e is not None else None,
                         e_ins_avg=_stat(e, spread) if e is not None else None,
                         barrier_near=_stat(near) if near is not None else None,
                         barrier_min=_stat(near - 0.1) if near is not None else None,
                         barrier_max=_stat(near + 0.2) if near is not None else None,
                         ratio_to_pure=_stat(ratio, spread) if ratio is not None else None,
                         Ea_eff=_stat(ea) if ea is not None else None)


def synthetic_trends() -> Trends:
    """B and P at 1/216, 1/64 and 2/64; networks (ratios) at 1/64 only; superposition curves."""
    t = Trends("fake", 300.0, pure=[_point("Si", 0.0, e=0.02, ratio=1.0, ea=0.47, near=0.47)])
    for dopant, e, ratio, ea in (("B", -0.2, 0.3, 0.52), ("P", 0.05, 2.0, 0.44)):
        tr = DopantTrend(dopant)
        for p in PERCENTS:
            net = p == 1.5625
            tr.points.append(_point(dopant, p, e=e - 0.01 * p, ratio=ratio if net else None, ea=ea if net else None,
                                    near=0.45 if net else None, spread=0.02 if p == 3.125 else 0.0))
        tr.curve = [CurvePoint(x, 1, ratio ** (x / 1.5625), 0.1 * ratio ** (x / 1.5625), ea + 0.01 * x, 1e-18, 1e-19)
                    for x in (0.25, *PERCENTS, 4.0)]
        t.dopants[dopant] = tr
    return t


def _xticks(ax):
    return list(ax.get_xticks()), [t.get_text() for t in ax.get_xticklabels()]


def _lines(ax, label):
    return [line for line in ax.get_lines() if line.get_label() == label]


def test_insertion_plot_from_store(store, tmp_path):
    nd.insertions(store, nd.host(store, "Si", []), lambda c: 0.02)
    for dopant, shift in (("B", -0.2), ("P", 0.1)):
        nd.insertions(store, nd.host(store, dopant, [0]), lambda c, s=shift: s + 0.001 * (c.distance_to_dopant or 0))
        nd.insertions(store, nd.host(store, dopant, [0, 35], arrangement=3, multiplicity=96),
                      lambda c, s=shift: 2 * s)
    path = tmp_path / "ins.png"
    fig = plots.plot_from_store(store, "insertion", path)
    assert path.stat().st_size > 1000 and path.read_bytes()[:4] == b"\x89PNG"
    ax = fig.axes[0]
    assert ax.get_xlabel() == "atom %" and "E_" in ax.get_ylabel() and "(eV" in ax.get_ylabel()
    ticks, labels = _xticks(ax)
    assert ticks == pytest.approx([0.0, 1.5625, 3.125]) and labels == ["0", "1.5625", "3.125"]
    (b,), (p,) = _lines(ax, "B"), _lines(ax, "P")
    assert b.get_color() == dopant_color("B")
    # markers of the two dopants at the same % are offset, by the documented amount, and centred
    step = plots.OFFSET_FRACTION * 3.125
    assert np.allclose(b.get_xdata(), np.array([1.5625, 3.125]) - step / 2)
    assert np.allclose(p.get_xdata(), np.array([1.5625, 3.125]) + step / 2)
    assert b.get_ydata()[1] == pytest.approx(-0.4) and p.get_ydata()[1] == pytest.approx(0.2)
    pure = [line for line in ax.get_lines() if line.get_label().startswith("pure Si")]
    assert len(pure) == 1 and pure[0].get_ydata()[0] == pytest.approx(0.02)


def test_offsets_are_distinct_and_centred():
    off = plots.offsets(["B", "Ge", "P", "S"], 3.125)
    values = list(off.values())
    assert len(set(values)) == 4 and sum(values) == pytest.approx(0.0)
    assert np.allclose(np.diff(values), plots.OFFSET_FRACTION * 3.125)
    assert max(values) - min(values) < (1.5625 - 100 / 216) / 2  # never reaches the next concentration


def test_diffusivity_plot(tmp_path):
    trends = synthetic_trends()
    path = tmp_path / "d.svg"
    fig = plots.plot_diffusivity_trend(trends, path)
    assert path.read_text().lstrip().startswith("<?xml")
    ax = fig.axes[0]
    assert ax.get_yscale() == "log" and "D_" in ax.get_ylabel() and ax.get_xlabel() == "atom %"
    ticks, labels = _xticks(ax)
    assert labels == ["0", "0.463", "1.5625", "3.125"] and ticks == pytest.approx([0.0, *PERCENTS])
    off = plots.offsets(["B", "P"], 3.125)
    for dopant, ratio in (("B", 0.3), ("P", 2.0)):
        (explicit,) = _lines(ax, f"{dopant} explicit network")
        assert list(explicit.get_xdata()) == pytest.approx([1.5625 + off[dopant]])  # only the complete network
        assert list(explicit.get_ydata()) == pytest.approx([ratio])
        (curve,) = _lines(ax, f"{dopant} superposition")
        assert list(curve.get_xdata()) == pytest.approx([0.25, *PERCENTS, 4.0])  # curves at the true %
        assert curve.get_ydata()[2] == pytest.approx(ratio)
    bands = [c for c in ax.collections if c.get_label() == "_stderr"]
    assert len(bands) == 2
    verts = bands[0].get_paths()[0].vertices  # B: ratio +- stderr at 1.5625 % on the band's outline
    at = verts[np.isclose(verts[:, 0], 1.5625)][:, 1]
    assert at.min() == pytest.approx(0.3 * 0.9) and at.max() == pytest.approx(0.3 * 1.1)
    assert any(line.get_label() == "pure Si (= 1)" and line.get_ydata()[0] == 1.0 for line in ax.get_lines())


def test_barrier_plot(tmp_path):
    fig = plots.plot_barrier_trend(synthetic_trends(), tmp_path / "b.pdf")
    assert (tmp_path / "b.pdf").read_bytes()[:4] == b"%PDF"
    ax = fig.axes[0]
    labels = [line.get_label() for line in ax.get_lines()]
    assert any(t.startswith("pure Si (0.470") for t in labels)
    assert any("Pell" in t for t in labels) and any("Wan" in t for t in labels)
    (ea,) = _lines(ax, "B $E_{a,\\mathrm{eff}}$ (network)")
    assert list(ea.get_ydata()) == pytest.approx([0.52])
    near = [c for c in ax.containers if c.get_label() == "B near hop (bars: all hops)"][0]
    assert near.lines[0].get_ydata()[0] == pytest.approx(0.45)
    # error bar spans the lowest to the highest computed barrier: 0.35 to 0.65 eV
    seg = near.lines[2][0].get_segments()[0]
    assert sorted(seg[:, 1]) == pytest.approx([0.35, 0.65])


def test_ensemble_spread_is_a_band(tmp_path):
    fig = plots.plot_insertion_trend(synthetic_trends())
    ax = fig.axes[0]
    bands = [c for c in ax.collections if c.get_label() == "_band"]
    assert len(bands) == 2  # B and P have a spread at 3.125 %
    verts = bands[0].get_paths()[0].vertices
    x3 = 3.125 + plots.offsets(["B", "P"], 3.125)["B"]
    at = verts[np.isclose(verts[:, 0], x3)][:, 1]
    assert at.max() - at.min() == pytest.approx(0.04)


def test_critical_size_rows_use_the_ratio(tmp_path):
    from sianode.continuum.parameters import pell_diffusivity

    rows = plots.critical_size_rows(synthetic_trends(), n_nodes=31, n_steps=40)
    labels = [r["label"] for r in rows]
    assert labels[0] == "pure Si" and "B 1.5625 %" in labels and "B 3.125 % (sup.)" in labels
    b = next(r for r in rows if r["label"] == "B 1.5625 %")
    assert b["ratio_to_pure"] == pytest.approx(0.3) and b["transport_source"] == "network"
    assert "D_eff/D_pure = 0.3" in b["diffusivity_source"] and "Pell" in b["diffusivity_source"]
    assert all(r["critical_diameter_m"] > 0 for r in rows)
    # lower D -> larger concentration gradients -> smaller critical size than pure Si
    assert b["critical_diameter_m"] < rows[0]["critical_diameter_m"]
    assert pell_diffusivity(300.0) > 0


def test_neb_plot_pdf(store, campaign, tmp_path):
    path = tmp_path / "neb.pdf"
    fig = plots.plot_from_store(store, "neb", path)
    assert path.read_bytes()[:4] == b"%PDF"
    ax = fig.axes[0]
    assert ax.get_xlabel() == "image index" and "E_" in ax.get_ylabel() and "(eV)" in ax.get_ylabel()
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert len(legend) == 3  # pure, B near, B far; the failed P hop is absent
    assert "B 1.5625 % TT1 (near): 0.50 eV" in legend


def test_plot_refuses_bad_extension_and_mixed_calculators(store, tmp_path):
    nd.insertions(store, nd.host(store, "B", [0]), lambda c: -0.1)
    with pytest.raises(InputError, match=r"x\.jpg.*extension of \.png, \.pdf, \.svg"):
        plots.plot_from_store(store, "insertion", tmp_path / "x.jpg")
    nd.insertions(store, nd.host(store, "B", [0], calculator="chgnet"), lambda c: -0.2)
    with pytest.raises(InputError, match="several calculators .*chgnet, fake.*--calculator"):
        plots.plot_from_store(store, "insertion", tmp_path / "x.png")
    fig = plots.plot_from_store(store, "insertion", tmp_path / "x.png", calculator="chgnet")
    assert _lines(fig.axes[0], "B")[0].get_ydata()[0] == pytest.approx(-0.2)


def test_plot_cli_and_bad_suffix_is_one_line(db_uri, store, tmp_path, capsys):
    from sianode.cli import main

    nd.insertions(store, nd.host(store, "B", [0]), lambda c: -0.1)
    path = tmp_path / "fig.png"
    main(["--db", db_uri, "-q", "plot", "insertion", "-o", str(path)])
    assert path.stat().st_size > 1000
    with pytest.raises(SystemExit) as exc:
        main(["--db", db_uri, "plot", "diffusivity", "-o", str(tmp_path / "fig.jpeg")])
    err = capsys.readouterr().err
    assert exc.value.code == 2 and err.count("\n") == 1 and "fig.jpeg" in err and ".png" in err


def test_nothing_to_plot_is_an_input_error(store, tmp_path):
    nd.insertions(store, nd.host(store, "B", [0]), lambda c: -0.1)
    with pytest.raises(InputError, match="no diffusivities"):
        plots.plot_from_store(store, "diffusivity", tmp_path / "d.png")
    with pytest.raises(InputError, match="plot 'heat' is not allowed"):
        plots.plot_from_store(store, "heat", tmp_path / "d.png")


def test_network_plot(store, tmp_path):
    from sianode.analysis.network import host_network

    nd.network_host(store, "S", [0], lambda c: 0.3 - 0.1 * (c.distance_to_dopant < 2.5),
                    lambda h, s, e: 0.8)
    assembly = host_network(store, dopant="S", percent=1.5625)
    fig = plots.plot_network(assembly, tmp_path / "net.png")
    ax = fig.axes[0]
    sites = ax.collections[1]
    assert len(sites.get_array()) == 64 and set(np.round(sites.get_array(), 6)) == {0.2, 0.3}
    hops = ax.collections[0]
    assert len(hops.get_array()) == 128 and math.isclose(float(np.max(hops.get_array())), 0.6)
    assert (tmp_path / "net.png").stat().st_size > 1000
