"""Recipes (layer 8): whole studies that run campaigns and read them back.

A recipe runs calculations through :mod:`sianode.workflows` (campaigns, or the workflow's
own stages), reads the results through :mod:`sianode.analysis`, and hands analysis results
to :mod:`sianode.continuum` as numbers with their sources. Nothing below this layer imports
it; the CLI (:mod:`sianode.commands`) calls it.

* :mod:`sianode.recipes.demo`: ``sianode demo`` (``make demo``): B, P, S, Ge at three
  concentrations and pure Si, the hop network of each one-dopant host, the concentration
  trends and their plots.
* :mod:`sianode.recipes.validate`: ``sianode validate``: a calculator against the literature,
  every number computed.

Submodules are imported on first use, so ``import sianode.recipes`` is cheap.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "run_demo": "demo",
    "DemoResult": "demo",
    "demo_specs": "demo",
    "run_validation": "validate",
    "render_report": "validate",
    "exit_code": "validate",
    "Check": "validate",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(f"sianode.recipes.{_EXPORTS[name]}"), name)
    raise AttributeError(f"module 'sianode.recipes' has no attribute {name!r}")


def __dir__() -> list[str]:
    return __all__
