from __future__ import annotations

import numpy as np
import pytest

from sianode.analysis import derive, plots
from sianode.errors import InputError
from sianode.plotting import dopant_color


def _legend(fig):
    return [t.get_text() for t in fig.axes[0].get_legend().get_texts()]


def test_insertion_plot(store, campaign, tmp_path):
    path = tmp_path / "ins.png"
    fig = plots.plot_from_store(store, "insertion", path)
    assert path.stat().st_size > 1000 and path.read_bytes()[:4] == b"\x89PNG"
    ax = fig.axes[0]
    assert ax.get_xlabel() == "dopant concentration (atom %)"
    assert "E_" in ax.get_ylabel() and "(eV)" in ax.get_ylabel()
    legend = _legend(fig)
    assert "B" in legend and "P" in legend and any(t.startswith("pure Si (0.40 eV)") for t in legend)
    # the B marker is the Boltzmann average of its two T classes, with min-max bars
    avg = derive.boltzmann_average([-0.30, -0.10], [4, 12], 300.0)
    b_line = [c for c in ax.containers if c.get_label() == "B"][0].lines[0]
    assert b_line.get_ydata()[0] == pytest.approx(avg) and b_line.get_xdata()[0] == pytest.approx(1.5625)
    assert b_line.get_color() == dopant_color("B")


def test_neb_plot_pdf(store, campaign, tmp_path):
    path = tmp_path / "neb.pdf"
    fig = plots.plot_from_store(store, "neb", path)
    assert path.read_bytes()[:4] == b"%PDF"
    ax = fig.axes[0]
    assert ax.get_xlabel() == "image index" and "E_" in ax.get_ylabel() and "(eV)" in ax.get_ylabel()
    legend = _legend(fig)
    assert len(legend) == 3  # pure, B near, B far; the failed P hop is absent
    assert any("B 1.5625 % TT1 (near): 0.50 eV" == t for t in legend)
    near = [l for l in ax.get_lines() if "near" in l.get_label()][0]
    assert np.allclose(near.get_ydata(), [0.0, 0.2, 0.5, 0.3, 0.1])


def test_barrier_plot(store, campaign, tmp_path):
    fig = plots.plot_from_store(store, "barriers", tmp_path / "b.png")
    ax = fig.axes[0]
    assert "barrier" in ax.get_ylabel() and "(eV)" in ax.get_ylabel()
    legend = _legend(fig)
    assert "B (near hop)" in legend and "pure Si (0.60 eV)" in legend
    assert any("Pell" in t for t in legend) and any("Wan" in t for t in legend)


def test_plot_refuses_bad_extension_and_mixed_calculators(store, campaign, build, make_calc, tmp_path):
    with pytest.raises(InputError, match="extension"):
        plots.plot_from_store(store, "insertion", tmp_path / "x.jpg")
    host = build.host("Ge", 1.5625, -1.0, calculator=make_calc("chgnet"))
    build.neb(host, "TT1", [0.0, 0.3, 0.0])
    with pytest.raises(InputError, match="several calculators .*chgnet, fake.*--calculator"):
        plots.plot_from_store(store, "barriers", tmp_path / "x.png")
    fig = plots.plot_from_store(store, "barriers", tmp_path / "x.png", calculator="chgnet")
    assert "Ge (near hop)" in _legend(fig)


def test_plot_cli(db_uri, campaign, tmp_path, capsys):
    from sianode.cli import main

    path = tmp_path / "fig.png"
    main(["--db", db_uri, "plot", "insertion", "-o", str(path)])
    assert path.stat().st_size > 1000


def test_critical_size_plot(store, campaign, tmp_path):
    path = tmp_path / "crit.png"
    rows = plots.critical_size_rows(store, "fake", n_nodes=31, n_steps=40)
    assert [r["dopant"] for r in rows] == ["Si", "B"]
    assert rows[1]["barrier_source"] == campaign["B_near"]["key"]
    assert all(r["critical_diameter_m"] > 0 for r in rows)
    out = plots.plot_from_store(store, "critical-size", path, n_nodes=31, n_steps=40)
    assert path.stat().st_size > 1000 and out == path
