"""Analysis: derived quantities, queries, plots and validation, from the results store alone.

Importing this package is cheap: pandas, matplotlib and the calculators are imported by the
functions that need them.
"""

from __future__ import annotations

from typing import Any

__all__ = ["atomistic_inputs", "results", "store_derived"]


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
