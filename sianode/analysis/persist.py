"""Derived values stored back into the database, and handed to the continuum layer.

:func:`store_derived` is what the workflow's final analysis step calls: it stores each
insertion energy and barrier as a ``derived`` document whose key is the content hash of
its sources, so running it again adds nothing. :func:`atomistic_inputs` gives the
continuum model the numbers of one dopant concentration, each with the key of the
document it came from.
"""

from __future__ import annotations

import logging
from typing import Any

from sianode.analysis import derive
from sianode.analysis.docs import as_store, calculator_name, labels, percent_matches
from sianode.errors import InputError
from sianode.store import COMPLETED, content_key, schema

logger = logging.getLogger(__name__)


def _derived_doc(role: str, value: Any, output: dict[str, Any], extra_labels: dict[str, Any],
                 campaign: str | None) -> tuple[str, dict[str, Any]]:
    key = content_key(schema.DERIVED, None, value.calculator_identity, {"role": role, "sources": value.sources})
    lab = {"role": role, "dopant": value.dopant, "percent": value.percent,
           "distance_to_dopant_A": value.distance_to_dopant_A, "campaign": campaign or value.campaign,
           "source_key": value.key, **extra_labels}
    if campaign:
        lab["campaigns"] = [campaign]
    doc = {"kind": schema.DERIVED, "status": COMPLETED, "reason": None, "labels": lab,
           "calculator": value.calculator_identity, "sources": list(value.sources), "output": output}
    return key, doc


def store_derived(store: Any, campaign: str | None = None) -> list[dict[str, Any]]:
    """Compute and store the insertion energies and barriers of a campaign.

    One ``derived`` document per completed value: ``labels.role`` is
    ``insertion_energy`` (output ``e_ins_eV``) or ``barrier`` (output ``barrier_eV``,
    ``reverse_barrier_eV``, ``energies_eV`` relative to the start), ``sources`` lists the
    keys of the calculation documents used, and the key is
    ``content_key("derived", None, calculator identity, {"role", "sources"})``. Values whose
    inputs failed are not stored (a later retry of the input then gives a new value).

    Parameters
    ----------
    store : ResultStore
    campaign : str, optional
        Only documents used by this campaign (``labels.campaign`` or ``labels.campaigns``).

    Returns
    -------
    list of dict
        The derived documents (newly inserted or already present).
    """
    stored: list[dict[str, Any]] = []
    for v in derive.insertion_energies(store, campaign=campaign, require_reference=False):
        if v.e_ins_eV is None:
            logger.info("no insertion energy for %s: %s", v.key[:12], v.reason)
            continue
        key, doc = _derived_doc(schema.ROLE_INSERTION_ENERGY, v, {"e_ins_eV": v.e_ins_eV, "energy_eV": v.energy_eV},
                                {"site": v.site, "site_kind": v.site_kind, "site_multiplicity": v.multiplicity,
                                 "arrangement_multiplicity": v.arrangement_multiplicity}, campaign)
        stored.append(_insert(store, key, doc, campaign))
    for b in derive.barriers(store, campaign=campaign):
        if b.barrier_eV is None:
            logger.info("no barrier for %s: %s", b.key[:12], b.reason)
            continue
        key, doc = _derived_doc(schema.ROLE_BARRIER, b, {"barrier_eV": b.barrier_eV,
                                                         "reverse_barrier_eV": b.reverse_barrier_eV,
                                                         "energies_eV": b.energies_eV},
                                {"hop": b.hop, "hop_multiplicity": b.multiplicity, "selection": b.selection}, campaign)
        stored.append(_insert(store, key, doc, campaign))
    logger.info("%d derived value(s) for campaign %s", len(stored), campaign)
    return stored


def _insert(store: Any, key: str, doc: dict[str, Any], campaign: str | None) -> dict[str, Any]:
    existing = store.insert(key, doc)
    if campaign and campaign not in (labels(existing).get("campaigns") or []):
        store.tag(key, campaign)
        existing = store.get(key) or existing
    return existing


def _choose_calculator(names: list[str], calculator: str | None, what: str) -> str | None:
    if calculator is not None:
        return calculator
    if len(names) <= 1:
        return names[0] if names else None
    from sianode.calculators import DEFAULT_CALCULATOR

    chosen = DEFAULT_CALCULATOR if DEFAULT_CALCULATOR in names else names[0]
    logger.info("%s has results of %s; using %s (pass calculator= to choose)", what, ", ".join(names), chosen)
    return chosen


def atomistic_inputs(
    db_uri: Any,
    dopant: str | None,
    percent: float | None,
    *,
    calculator: str | None = None,
) -> dict[str, Any]:
    """Atomistic inputs of the continuum model for one dopant concentration.

    Returns ``{"barrier_eV": {"value", "unit", "source", "calculator"}, "reference_barrier_eV":
    {...} (pure Si's near-hop barrier, same calculator), "lattice_constant_A": {...},
    "attempt_frequency_Hz": {...}}`` with ``source`` the key of the document each value
    came from; an entry the database cannot give is omitted (an empty dict when it has
    nothing). ``omega_m3_mol`` is never given: one Li in a supercell yields only the dilute
    partial molar volume, not the average over lithiation to Li15Si4 the stress model needs.

    Choices: the barrier is that of the ``near`` hop (:func:`sianode.analysis.derive.near_hop`:
    the hop next to the dopant, closest one first; any hop for pure Si); the lattice constant
    is that of the host the hop ran in (else any completed host of that concentration), both
    from one calculator: ``calculator``, else the only one, else sevennet when present, else
    the first by name.

    Parameters
    ----------
    db_uri : str, ResultStore or None
        MongoDB URI / launchpad path, a store, or None (the configured database).
    dopant : str or None
        ``"B"``, ``"P"``, ``"S"``, ``"Ge"``; ``"Si"``, ``"pure"`` or None for pure Si.
    percent : float or None
        Dopant atom % (within 1e-3); None: the only concentration stored for the dopant.

    Raises
    ------
    InputError
        ``percent`` is None and several concentrations are stored (they are named).
    """
    store = as_store(db_uri)
    try:
        return _atomistic_inputs(store, dopant, percent, calculator)
    finally:
        if store is not db_uri:  # opened here
            store.db.client.close()


def _atomistic_inputs(store: Any, dopant: str | None, percent: float | None, calculator: str | None) -> dict[str, Any]:
    pure = dopant is None or str(dopant).strip().lower() in ("", "si", "pure", "none")
    name = schema.PURE if pure else str(dopant)
    if pure and percent is None:
        percent = 0.0
    docs = store.find({"kind": {"$in": [schema.NEB, schema.RELAX]}, "labels.dopant": name, "status": COMPLETED,
                       "labels.role": {"$in": [schema.ROLE_HOP, schema.ROLE_HOST]}})
    if percent is None:
        percents = sorted({round(float(labels(d)["percent"]), 6) for d in docs if labels(d).get("percent") is not None})
        if len(percents) > 1:
            raise InputError(f"dopant {name} has results at {', '.join(f'{p:g}' for p in percents)} atom %; "
                             "give the percent")
        percent = percents[0] if percents else None
    docs = [d for d in docs if percent_matches(labels(d).get("percent"), percent)]
    calc = _choose_calculator(sorted({str(calculator_name(d)) for d in docs}), calculator, f"{name} {percent} %")
    inputs: dict[str, Any] = {}
    if calc is None:
        return inputs
    rep = derive.near_hop(derive.barriers(store, dopant=name, percent=percent, calculator=calc))
    host_key = None
    if rep is not None:
        inputs["barrier_eV"] = {"value": rep.barrier_eV, "unit": "eV", "source": rep.key, "calculator": calc}
        neb_doc = store.get(rep.key) or {}
        host_key = labels(neb_doc).get("host_key")
        nu = (neb_doc.get("output") or {}).get("attempt_frequency_Hz")
        if nu is not None:
            inputs["attempt_frequency_Hz"] = {"value": float(nu), "unit": "Hz", "source": rep.key, "calculator": calc}
        ref = rep if pure else derive.near_hop(derive.barriers(store, dopant=schema.PURE, percent=0.0, calculator=calc))
        if ref is not None:  # the same calculator's pure-Si barrier: lets the continuum use barrier shifts
            inputs["reference_barrier_eV"] = {"value": ref.barrier_eV, "unit": "eV", "source": ref.key,
                                              "calculator": calc}
    hosts = [r for r in derive.host_lattices(store, dopant=name, percent=percent, calculator=calc)
             if r["lattice_constant_A"] is not None]
    hosts.sort(key=lambda r: (r["key"] != host_key, r["key"]))
    if hosts:
        inputs["lattice_constant_A"] = {"value": hosts[0]["lattice_constant_A"], "unit": "Angstrom",
                                        "source": hosts[0]["key"], "calculator": calc}
    return inputs
