"""Analysis (layer 7): derived quantities, hop networks, concentration trends, queries and plots,
from the results store alone; it never runs a calculation (validation, which does, is the
recipe :mod:`sianode.recipes.validate`).

Importing this package is cheap: pandas, matplotlib and the calculators are imported by the
functions that need them.
"""

from __future__ import annotations

from typing import Any

__all__ = ["atomistic_inputs", "concentration_trends", "results", "store_derived", "transport_summary"]


def results(db: Any = None, **filters: Any) -> Any:
    """A pandas DataFrame of stored results; see :func:`sianode.analysis.query.results`."""
    from sianode.analysis.query import results as _results

    return _results(db, **filters)


def store_derived(store: Any, campaign: str | None = None) -> list[dict[str, Any]]:
    """Store derived insertion energies and barriers; see :func:`sianode.analysis.persist.store_derived`."""
    from sianode.analysis.persist import store_derived as _store_derived

    return _store_derived(store, campaign)


def atomistic_inputs(db_uri: str | None, dopant: str, percent: float | None, **kwargs: Any) -> dict[str, Any]:
    """Continuum inputs from the store; see :func:`sianode.analysis.persist.atomistic_inputs`."""
    from sianode.analysis.persist import atomistic_inputs as _atomistic_inputs

    return _atomistic_inputs(db_uri, dopant, percent, **kwargs)


def transport_summary(store: Any, **kwargs: Any) -> dict[str, Any]:
    """D_eff / D_pure and E_a,eff of a stored host; see :func:`sianode.analysis.network.transport_summary`."""
    from sianode.analysis.network import transport_summary as _transport_summary

    return _transport_summary(store, **kwargs)


def concentration_trends(store: Any, **kwargs: Any) -> Any:
    """Per dopant: explicit cells, superposition curve and their difference vs atom %; see
    :func:`sianode.analysis.concentration.concentration_trends`."""
    from sianode.analysis.concentration import concentration_trends as _concentration_trends

    return _concentration_trends(store, **kwargs)
