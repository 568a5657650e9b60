"""Derived values stored back into the database, and handed to the continuum layer.

:func:`store_derived` stores each insertion energy and barrier as a ``derived`` document
(:class:`~sianode.store.documents.DerivedDocument`) whose key is the content hash of its
sources, so running it again adds nothing. The workflow does not call it (workflows sit
below analysis); the command that ran a campaign may, after the run. :func:`atomistic_inputs` gives the
continuum model the numbers of one dopant concentration (D_eff / D_eff,pure of the hop
networks), each with the keys of the documents it came from; :func:`parameters_from_store`
hands them to :func:`sianode.continuum.parameters.parameters_for`.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from sianode.analysis import derive
from sianode.analysis.docs import as_store, labels
from sianode.store import schema
from sianode.store.documents import build_derived
from sianode.store.hashing import derived_key

if TYPE_CHECKING:
    from sianode.analysis.hops import Barrier
    from sianode.store.protocols import StoreLike

logger = logging.getLogger(__name__)


def _derived_doc(role: str, value: derive.InsertionEnergy | Barrier, output: dict[str, Any],
                 extra_labels: dict[str, Any], campaign: str | None) -> tuple[str, dict[str, Any]]:
    key = derived_key(value.calculator_identity, role, list(value.sources))
    lab = {"role": role, "dopant": value.dopant, "percent": value.percent,
           "distance_to_dopant_A": value.distance_to_dopant_A, "campaign": campaign or value.campaign,
           "source_key": value.key, **extra_labels}
    if campaign:
        lab["campaigns"] = [campaign]
    doc = build_derived(key, labels=lab, calculator=value.calculator_identity, sources=list(value.sources),
                        output=output)
    return key, doc


def store_derived(store: StoreLike, campaign: str | None = None) -> list[dict[str, Any]]:
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
                                {"hop": b.hop, "hop_multiplicity": b.multiplicity, "selection": b.selection,
                                 "h_site": b.h_site, "start_site": b.start_site, "end_site": b.end_site}, campaign)
        stored.append(_insert(store, key, doc, campaign))
    logger.info("%d derived value(s) for campaign %s", len(stored), campaign)
    return stored


def _insert(store: StoreLike, key: str, doc: dict[str, Any], campaign: str | None) -> dict[str, Any]:
    existing = store.insert(key, doc)
    if campaign and campaign not in (labels(existing).get("campaigns") or []):
        store.tag(key, campaign)
        existing = store.get(key) or existing
    return existing


def atomistic_inputs(
    db_uri: StoreLike | str | None,
    dopant: str | None,
    percent: float | None,
    *,
    calculator: str | None = None,
    temperature_K: float = 300.0,
) -> dict[str, Any]:
    """Atomistic inputs of the continuum model for one dopant concentration: numbers + sources.

    The dopant's diffusivity enters the continuum as Pell's measured pure-Si D times
    D_eff / D_eff,pure of the hop networks of the same calculator at the same temperature
    (:func:`sianode.analysis.network.transport_summary`; PHYSICS.md sections 5-6).

    Returns
    -------
    dict
        ``{}`` when the database has no host of the dopant at all. Otherwise, for a complete
        network: ``diffusivity_ratio`` (D_eff / D_eff,pure), ``D_eff_m2_s``, ``D_pure_m2_s``,
        ``Ea_eff_eV`` -- each ``{"value", "unit", "source", "sources" (document keys),
        "calculator", "temperature_K"}`` -- and ``lattice_constant_A`` of the host when it has
        a structure. With missing classes, no diffusivity entries but ``missing`` (list of
        str) and ``reason`` (one line saying why there is no D). ``omega_m3_mol`` is never
        given: one Li in a supercell yields only the dilute partial molar volume, not the
        average over lithiation to Li15Si4 the stress model needs.

    Parameters
    ----------
    db_uri : str, ResultStore or None
        MongoDB URI / launchpad path, a store, or None (the configured database).
    dopant : str or None
        ``"B"``, ``"P"``, ``"S"``, ``"Ge"``; ``"Si"``, ``"pure"`` or None for pure Si.
    percent : float or None
        Dopant atom % (within 1e-3); None: the only concentration stored for the dopant.
    calculator : str, optional
        Calculator name; default: the only one, else the default calculator when present.
    temperature_K : float
        Temperature of the ratio, K (the continuum's temperature).

    Raises
    ------
    InputError
        ``percent`` is None and several concentrations are stored, or ``percent`` /
        ``calculator`` is not in the store (the message names what it has).
    """
    store = as_store(db_uri)
    try:
        return _atomistic_inputs(store, dopant, percent, calculator, temperature_K)
    finally:
        if store is not db_uri:  # opened here
            store.db.client.close()


def _entry(value: float, unit: str, source: str, summary: dict[str, Any]) -> dict[str, Any]:
    return {"value": float(value), "unit": unit, "source": source, "sources": list(summary["sources"]),
            "calculator": summary["calculator"], "temperature_K": summary["temperature_K"]}


def _atomistic_inputs(store: StoreLike, dopant: str | None, percent: float | None, calculator: str | None,
                      temperature_K: float) -> dict[str, Any]:
    from sianode.analysis.network import transport_summary

    pure = dopant is None or str(dopant).strip().lower() in ("", "si", "pure", "none")
    name = schema.PURE if pure else str(dopant)
    if pure and percent is None:
        percent = 0.0
    if not store.count({"kind": schema.RELAX, "labels.role": schema.ROLE_HOST, "labels.dopant": name}):
        return {}
    summary = transport_summary(store, dopant=name, percent=percent, calculator=calculator,
                                temperature_K=temperature_K)
    calc = summary["calculator"]
    where = f"{'pure Si' if pure else name} {summary['percent']:g} % ({calc})"
    inputs: dict[str, Any] = {}
    hosts = [r for r in derive.host_lattices(store, dopant=name, percent=summary["percent"], calculator=calc)
             if r["key"] == summary["host_key"] and r["lattice_constant_A"] is not None]
    if hosts:
        inputs["lattice_constant_A"] = {"value": hosts[0]["lattice_constant_A"], "unit": "Angstrom",
                                        "source": hosts[0]["key"], "calculator": calc}
    if summary["ratio_to_pure"] is None:
        inputs["missing"] = list(summary["missing"])
        shown = "; ".join(summary["missing"][:4]) + ("; ..." if len(summary["missing"]) > 4 else "")
        inputs["reason"] = (f"the hop network of {where} is incomplete ({len(summary['missing'])} missing: {shown}), "
                            "so there is no D_eff / D_pure")
        return inputs
    keys = f"host {summary['host_key'][:12]}, pure host {str(summary['pure_host_key'])[:12]}, " \
           f"{len(summary['sources'])} documents"
    at = f"{summary['temperature_K']:g} K"
    inputs["diffusivity_ratio"] = _entry(
        summary["ratio_to_pure"], "1",
        f"D_eff / D_eff,pure = {summary['ratio_to_pure']:.4g} of the hop networks of {where} at {at} ({keys})", summary)
    inputs["D_eff_m2_s"] = _entry(summary["D_eff_m2_s"], "m^2/s",
                                  f"exact D_eff of the hop network of {where} at {at} ({keys})", summary)
    inputs["D_pure_m2_s"] = _entry(summary["D_pure_m2_s"], "m^2/s",
                                   f"exact D_eff of the pure-Si hop network ({calc}) at {at}", summary)
    inputs["Ea_eff_eV"] = _entry(summary["Ea_eff_eV"], "eV",
                                 f"Arrhenius slope of D_eff over {summary['arrhenius_range_K'][0]:g}-"
                                 f"{summary['arrhenius_range_K'][1]:g} K, hop network of {where}", summary)
    return inputs


def parameters_from_store(
    db_uri: StoreLike | str | None,
    dopant: str | None,
    percent: float | None,
    overrides: dict[str, Any] | None = None,
    *,
    calculator: str | None = None,
) -> Any:
    """Continuum parameters of one dopant concentration with its D from the store's hop networks.

    :func:`atomistic_inputs` (at the temperature of ``overrides["temperature_k"]``, default
    300 K) handed to :func:`sianode.continuum.parameters.parameters_for`. Pure Si uses the
    cited defaults without opening the database; a dopant's D is Pell's measured pure-Si D
    times D_eff / D_eff,pure; an overridden D skips the database.

    Raises
    ------
    InputError
        No data for the dopant, an incomplete hop network (the message says which classes
        are missing), or bad overrides.
    """
    from sianode.continuum.parameters import is_pure, parameters_for

    overrides = dict(overrides or {})
    atomistic = None
    has_d = any(overrides.get(k) is not None for k in ("diffusivity", "diffusivity_m2_s"))
    if not is_pure(dopant) and not has_d:
        t = overrides.get("temperature_k")
        t_K = float(getattr(t, "value", t)) if t is not None else 300.0
        atomistic = atomistic_inputs(db_uri, dopant, percent, calculator=calculator, temperature_K=t_K)
    return parameters_for(dopant, percent, atomistic=atomistic, overrides=overrides)
