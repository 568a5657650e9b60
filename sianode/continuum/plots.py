"""Figures of the continuum layer (matplotlib imported inside the functions, Agg backend).

The format follows the file extension (``.png``, ``.pdf``, ``.svg``).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from sianode.continuum.stress import StressResult
from sianode.errors import InputError
from sianode.plotting import DOPANT_COLORS, dopant_color, use_agg

logger = logging.getLogger(__name__)

_FORMATS = (".png", ".pdf", ".svg")


def _check_path(path: str | Path) -> Path:
    p = Path(path)
    if p.suffix.lower() not in _FORMATS:
        raise InputError(f"plot file {str(p)!r} is not allowed; use an extension of {', '.join(_FORMATS)}")
    return p


def plot_profiles(result: StressResult, path: str | Path, n_curves: int = 6) -> Path:
    """Concentration and hoop stress against radius at several times; returns the path.

    Parameters
    ----------
    result : StressResult
    path : str or Path
        Output file, PNG or PDF by extension.
    n_curves : int
        How many output times to draw (evenly picked, first and last included).
    """
    p = _check_path(path)
    plt = use_agg()
    idx = np.unique(np.linspace(0, result.times_s.size - 1, min(n_curves, result.times_s.size)).round().astype(int))
    cmap = plt.get_cmap("viridis")
    r_nm = result.r_m * 1e9
    fig, (ax_c, ax_s) = plt.subplots(1, 2, figsize=(10, 4), constrained_layout=True)
    for k, i in enumerate(idx):
        colour = cmap(k / max(len(idx) - 1, 1))
        label = f"t = {result.times_s[i]:.4g} s"
        ax_c.plot(r_nm, result.c_mol_m3[i] / 1e3, color=colour, label=label)
        ax_s.plot(r_nm, result.sigma_t_pa[i] / 1e9, color=colour, label=label)
    ax_c.set_xlabel("radius r (nm)")
    ax_c.set_ylabel("Li concentration c (kmol/m$^3$)")
    ax_s.set_xlabel("radius r (nm)")
    ax_s.set_ylabel("hoop stress $\\sigma_\\theta$ (GPa)")
    ax_s.axhline(0.0, color="k", lw=0.5)
    for ax in (ax_c, ax_s):
        ax.legend(fontsize="small")
    label = "pure Si" if result.parameters.dopant is None else f"{result.parameters.dopant} {result.parameters.percent} %"
    fig.suptitle(f"{label}, R = {result.radius_m * 1e9:.4g} nm, {result.boundary.get('type', '')}")
    fig.savefig(p)
    plt.close(fig)
    logger.info("wrote %s", p)
    return p


def plot_critical_sizes(rows: Sequence[dict[str, Any]], path: str | Path) -> Path:
    """Bar chart of critical diameters per dopant, pure Si as a dashed reference line.

    Parameters
    ----------
    rows : sequence of dict
        ``{"label": "B 1.56 %", "dopant": "B", "critical_diameter_m": 1.6e-7}``; a row
        with dopant None/"Si"/"pure" is drawn as the reference line (and as a bar).
    path : str or Path
        Output file, PNG or PDF by extension.
    """
    p = _check_path(path)
    if not rows:
        raise InputError("no critical sizes to plot; give at least one row")
    for row in rows:
        if "critical_diameter_m" not in row or "label" not in row:
            raise InputError(f"row {row!r} needs 'label' and 'critical_diameter_m'")
    plt = use_agg()
    fig, ax = plt.subplots(figsize=(max(4.0, 0.9 * len(rows) + 2.0), 4), constrained_layout=True)
    x = np.arange(len(rows))
    heights = [float(row["critical_diameter_m"]) * 1e9 for row in rows]
    colours = [dopant_color(row.get("dopant")) for row in rows]
    ax.bar(x, heights, color=colours, edgecolor="k", linewidth=0.5)
    ax.set_xticks(x, [str(row["label"]) for row in rows], rotation=30, ha="right")
    ax.set_ylabel("critical diameter (nm)")
    ax.set_xlabel("dopant, atom %")
    pure = [h for row, h in zip(rows, heights) if dopant_color(row.get("dopant")) == DOPANT_COLORS["Si"]]
    handles = []
    if pure:
        handles.append(ax.axhline(pure[0], color=DOPANT_COLORS["Si"], ls="--", label=f"pure Si ({pure[0]:.4g} nm)"))
    from matplotlib.patches import Patch

    seen = []
    for row in rows:
        d = row.get("dopant") or "Si"
        if d not in seen and dopant_color(d) != DOPANT_COLORS["Si"]:
            seen.append(d)
            handles.append(Patch(color=dopant_color(d), label=d))
    if handles:
        ax.legend(handles=handles, fontsize="small")
    fig.savefig(p)
    plt.close(fig)
    logger.info("wrote %s", p)
    return p


__all__ = ["plot_critical_sizes", "plot_profiles"]
