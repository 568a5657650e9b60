"""Tests of sianode/continuum/plots.py and the shared palette."""

from __future__ import annotations

import pytest

from sianode.continuum.parameters import parameters_for
from sianode.continuum.plots import plot_critical_sizes, plot_profiles
from sianode.continuum.stress import run_stress
from sianode.errors import InputError
from sianode.plotting import DOPANT_COLORS, dopant_color


def test_palette():
    assert dopant_color(None) == dopant_color("pure") == DOPANT_COLORS["Si"]
    assert len({dopant_color(d) for d in ("Si", "B", "P", "S", "Ge")}) == 5


def test_plots_write_png_and_pdf(tmp_path):
    res = run_stress(parameters_for(None, None), 75e-9, n_nodes=21, n_steps=20, n_out=5)
    assert plot_profiles(res, tmp_path / "a.png").read_bytes()[:4] == b"\x89PNG"
    rows = [
        {"label": "pure Si", "dopant": None, "critical_diameter_m": 160e-9},
        {"label": "B 1.56 %", "dopant": "B", "critical_diameter_m": 180e-9},
        {"label": "Ge 6.25 %", "dopant": "Ge", "critical_diameter_m": 140e-9},
    ]
    assert plot_critical_sizes(rows, tmp_path / "b.pdf").read_bytes()[:4] == b"%PDF"
    with pytest.raises(InputError, match="b.txt"):
        plot_critical_sizes(rows, tmp_path / "b.txt")
    with pytest.raises(InputError, match="no critical sizes"):
        plot_critical_sizes([], tmp_path / "c.png")
