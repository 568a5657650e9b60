"""Shared plot style of sianode: one colour per dopant, used by every plot.

Importing this module does not import matplotlib.
"""

from __future__ import annotations

#: colour per dopant (pure Si grey); Tableau-10 hues, readable in print and for most
#: colour-vision deficiencies.
DOPANT_COLORS: dict[str, str] = {
    "Si": "#7f7f7f",
    "pure": "#7f7f7f",
    "B": "#1f77b4",
    "P": "#d62728",
    "S": "#bcbd22",
    "Ge": "#2ca02c",
}

#: colour for anything not in :data:`DOPANT_COLORS`.
OTHER_COLOR = "#9467bd"


def dopant_color(dopant: str | None) -> str:
    """Colour of a dopant (None, "", "Si", "pure" -> grey; unknown -> :data:`OTHER_COLOR`)."""
    if dopant is None or dopant.strip().lower() in ("", "si", "pure", "none"):
        return DOPANT_COLORS["Si"]
    for name, colour in DOPANT_COLORS.items():
        if name.lower() == dopant.strip().lower():
            return colour
    return OTHER_COLOR


def use_agg():
    """Import matplotlib with the non-interactive Agg backend and return pyplot."""
    try:
        import matplotlib
    except ImportError as exc:  # pragma: no cover - matplotlib is a core dependency
        raise ImportError("plotting needs matplotlib: pip install matplotlib") from exc
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


__all__ = ["DOPANT_COLORS", "OTHER_COLOR", "dopant_color", "use_agg"]
