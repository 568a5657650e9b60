"""Reading result documents: labels, energies, structures and calculator identities.

The readers of :mod:`sianode.analysis` are built on the vocabulary of
:mod:`sianode.store.schema`; this module holds the few accessors they share, tolerant
of the two shapes a ``calculator`` block may have (the identity ``{"name", "model",
"weights_sha256", "parameters"}`` or the provenance ``{"calculator", "model", ...}``).
"""

from __future__ import annotations

import logging
import math
from typing import Any, Iterable, Mapping

import numpy as np

from sianode.errors import InputError
from sianode.store import COMPLETED, mask_secrets
from sianode.store.hashing import canonical_json

logger = logging.getLogger(__name__)

#: Boltzmann constant, eV/K (CODATA 2018).
K_B_EV_K = 8.617333262e-5


def short(key: str | None) -> str:
    """The first 12 characters of a document key (how keys are shown to users)."""
    return (key or "?")[:12]


def labels(doc: Mapping[str, Any]) -> dict[str, Any]:
    """The document's ``labels`` (empty dict when absent)."""
    return dict(doc.get("labels") or {})


def calculator_identity(doc: Mapping[str, Any]) -> dict[str, Any]:
    """What defines a document's numbers: calculator name, model, weights SHA-256, parameters.

    Parameters
    ----------
    doc
        A result document; its ``calculator`` block may be an identity
        (:meth:`~sianode.calculators.CalculatorSpec.identity`) or a provenance record.
    """
    calc = doc.get("calculator") or {}
    if not isinstance(calc, Mapping):
        calc = {"name": str(calc)}
    name = calc.get("name") or calc.get("calculator")
    return {
        "name": name,
        "model": calc.get("model"),
        "weights_sha256": calc.get("weights_sha256"),
        "parameters": dict(calc.get("parameters") or {}),
    }


def calculator_name(doc: Mapping[str, Any]) -> str | None:
    """The calculator's registry name of a document (None when unrecorded)."""
    return calculator_identity(doc)["name"]


def identity_token(doc: Mapping[str, Any]) -> str:
    """A string equal for two documents exactly when their calculator identities are equal."""
    return canonical_json(calculator_identity(doc))


def describe_identity(identity: Mapping[str, Any]) -> str:
    """One-phrase description of a calculator identity, for error messages."""
    sha = identity.get("weights_sha256")
    parts = [f"model {identity.get('model')}"]
    if sha:
        parts.append(f"weights {str(sha)[:12]}")
    if identity.get("parameters"):
        parts.append(f"parameters {canonical_json(identity['parameters'])}")
    return f"{identity.get('name')!s} ({', '.join(parts)})"


def require_same_calculator(docs: Iterable[Mapping[str, Any] | None]) -> dict[str, Any] | None:
    """Return the common calculator identity of ``docs`` (None entries skipped).

    Raises
    ------
    InputError
        Two documents come from different calculators (name, model, weights or
        parameters differ); the message names both documents and both calculators.
    """
    first: Mapping[str, Any] | None = None
    for doc in docs:
        if doc is None:
            continue
        if first is None:
            first = doc
            continue
        if identity_token(doc) != identity_token(first):
            raise InputError(
                f"refusing to mix calculators: document {short(first.get('key'))} was computed with "
                f"{describe_identity(calculator_identity(first))} but document {short(doc.get('key'))} with "
                f"{describe_identity(calculator_identity(doc))}; derive values from one calculator's "
                "documents only (filter with --calculator)"
            )
    return calculator_identity(first) if first is not None else None


def energy_eV(doc: Mapping[str, Any]) -> float | None:
    """Total energy of a completed document, eV (None when failed, missing or not finite)."""
    if doc.get("status") != COMPLETED:
        return None
    value = (doc.get("output") or {}).get("energy_eV")
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def why_unusable(doc: Mapping[str, Any] | None, what: str, key: str | None = None) -> str | None:
    """Why a document cannot contribute a number (None when it can)."""
    if doc is None:
        return f"{what} document {short(key)} is not in the database"
    status = doc.get("status")
    if status != COMPLETED:
        reason = doc.get("reason")
        return f"{what} {short(doc.get('key'))} is {status}" + (f": {reason}" if reason else "")
    return None


def final_structure(doc: Mapping[str, Any]) -> dict[str, Any] | None:
    """The relaxed structure dict of a document's output (None when not recorded)."""
    out = doc.get("output") or {}
    for name in ("final_structure", "structure", "atoms", "final_atoms"):
        value = out.get(name)
        if isinstance(value, Mapping) and "cell" in value:
            return dict(value)
    return None


def cell_volume_A3(structure: Mapping[str, Any]) -> float:
    """Volume of a structure dict's cell, Angstrom^3."""
    return float(abs(np.linalg.det(np.asarray(structure["cell"], dtype=float).reshape(3, 3))))


def n_atoms(structure: Mapping[str, Any]) -> int:
    return len(structure.get("symbols") or structure.get("numbers") or [])


def percent_matches(value: Any, percent: float | None, tol: float = 1e-3) -> bool:
    """True when ``percent`` is None or ``value`` is within ``tol`` of it (atom %)."""
    if percent is None:
        return True
    try:
        return abs(float(value) - float(percent)) <= tol
    except (TypeError, ValueError):
        return False


def store_description(store: Any) -> str:
    """``mongodb://host:port/database`` of a store, with any password masked."""
    try:
        host, port = store.db.client.address
        return mask_secrets(f"mongodb://{host}:{port}/{store.db.name}")
    except Exception:  # noqa: BLE001 - only for a message
        return f"database {getattr(store.db, 'name', '?')}"


def as_store(db: Any) -> Any:
    """A :class:`~sianode.store.ResultStore` from a store, a URI / launchpad path or None."""
    from sianode.store import ResultStore, open_store

    if isinstance(db, ResultStore):
        return db
    if db is None or isinstance(db, str):
        return open_store(db)
    raise InputError(f"db must be a ResultStore, a MongoDB URI, a launchpad path or None, got {type(db).__name__}")


def kind_role_filter(
    role: str,
    kind: str,
    dopant: str | None,
    campaign: str | None,
) -> dict[str, Any]:
    """MongoDB filter of documents of ``kind`` and ``labels.role``, optionally one dopant / campaign."""
    query: dict[str, Any] = {"kind": kind, "labels.role": role}
    if dopant is not None:
        query["labels.dopant"] = dopant
    if campaign is not None:
        query.update(campaign_filter(campaign))
    return query


def campaign_filter(campaign: str) -> dict[str, Any]:
    """MongoDB filter of the documents a campaign used: first asked for them
    (``labels.campaign``) or shared them (``labels.campaigns``, set by the workflow steps)."""
    return {"$or": [{"labels.campaign": campaign}, {"labels.campaigns": campaign}]}


def select_docs(docs: Iterable[dict[str, Any]], percent: float | None, calculator: str | None) -> list[dict[str, Any]]:
    """Documents at ``percent`` (within 1e-3) of ``calculator``, in a stable order."""
    return sorted(
        (
            d for d in docs
            if percent_matches(labels(d).get("percent"), percent)
            and (calculator is None or calculator_name(d) == calculator)
        ),
        key=lambda d: (str(labels(d).get("dopant")), float(labels(d).get("percent") or 0.0),
                       str(labels(d).get("site") or labels(d).get("hop")), str(d.get("key"))),
    )
