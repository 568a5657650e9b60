"""Query stored results as a table: one row per calculation document.

:func:`results` is the Python side of ``sianode query``: the same filters, the same
columns (:data:`COLUMNS`). Rows of ``insertion`` relaxations carry their insertion
energy (``e_ins_eV``), rows of NEB hops their barrier (``barrier_eV``), both derived on
the fly by :mod:`sianode.analysis.derive` (so a row's ``sources`` lists the documents
the number came from). JSON and CSV written by :func:`format_results` read back with
:func:`read_results` to the same DataFrame.
"""

from __future__ import annotations

import dataclasses
import io
import json
import logging
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sianode.analysis import derive
from sianode.analysis.docs import (
    CALCULATIONS,
    KIND_FILTERS,
    PERCENT_TOL,
    STATUSES,
    DocFilter,
    _check_choice,
    as_store,
    calculator_name,
    doc_filter,
    identity_token,
    labels,
    store_description,
)
from sianode.errors import InputError
from sianode.store import schema

if TYPE_CHECKING:
    from sianode.store.protocols import StoreLike

logger = logging.getLogger(__name__)

#: columns of :func:`results`, in order.
COLUMNS = (
    "key", "kind", "role", "dopant", "percent", "site", "hop", "site_kind", "multiplicity",
    "distance_to_dopant_A", "energy_eV", "e_ins_eV", "barrier_eV", "lattice_constant_A",
    "volume_change_percent", "status", "reason", "calculator", "campaign", "sources",
)
#: float columns (units in the names; percent in atom %); ``multiplicity`` is an integer.
FLOAT_COLUMNS = ("percent", "distance_to_dopant_A", "energy_eV", "e_ins_eV", "barrier_eV", "lattice_constant_A",
                 "volume_change_percent")
INT_COLUMNS = ("multiplicity",)
STRING_COLUMNS = tuple(c for c in COLUMNS if c not in FLOAT_COLUMNS + INT_COLUMNS)

#: ``--kind`` values (:data:`sianode.analysis.docs.KIND_FILTERS`); ``insertion`` / ``barrier`` are derived
#: rows. Calculation documents are :data:`~sianode.analysis.docs.CALCULATIONS` (no derived values, no
#: aliases); ``--status`` values :data:`~sianode.analysis.docs.STATUSES`; percent within ``PERCENT_TOL``.
__all__ = ["CALCULATIONS", "COLUMNS", "FORMATS", "KIND_FILTERS", "PERCENT_TOL", "STATUSES", "DocFilter",
           "fetch_documents", "format_results", "read_results", "results", "rich_table", "typed_frame"]
FORMATS = ("table", "json", "csv")
#: separator of the keys in the ``sources`` column
SOURCES_SEP = ";"


def _present(docs: list[dict[str, Any]], field: str) -> list[str]:
    values: set[str] = set()
    for d in docs:
        lab = labels(d)
        if field == "calculator":
            values.add(str(calculator_name(d)))
        elif field == "campaign":
            values.update(str(c) for c in [lab.get("campaign"), *(lab.get("campaigns") or [])] if c is not None)
        elif lab.get(field) is not None:
            values.add(str(lab[field]))
    return sorted(values)


def _resolve_dopant(dopant: str | None, present: list[str]) -> str | None:
    if dopant is None:
        return None
    wanted = schema.PURE if dopant.strip().lower() in ("pure", "si") else dopant.strip()
    for d in present:
        if d.lower() == wanted.lower():
            return d
    raise InputError(f"no results for dopant {dopant!r}; dopants in the database: {', '.join(present) or 'none'}")


def fetch_documents(
    store: StoreLike,
    where: DocFilter | None = None,
    *,
    dopant: str | None = None,
    percent: float | None = None,
    kind: str | None = None,
    calculator: str | None = None,
    status: str | None = None,
    campaign: str | None = None,
) -> list[dict[str, Any]]:
    """The calculation documents matching ``where`` (a :class:`DocFilter`; the keyword filters
    replace its fields), derived documents and re-key aliases excluded.

    Raises
    ------
    InputError
        Empty database; unknown kind, status, dopant, calculator or campaign (the
        message names what the database holds).
    """
    where = doc_filter(where, dopant=dopant, percent=percent, kind=kind, calculator=calculator, status=status,
                       campaign=campaign)
    everything = store.find(CALCULATIONS, projection={"labels": 1, "calculator": 1, "kind": 1})
    if not everything:
        raise InputError(f"no results in the database at {store_description(store)}; run `sianode run campaign.yaml` first")
    where = dataclasses.replace(where, dopant=_resolve_dopant(where.dopant, _present(everything, "dopant")))
    for name, value in (("calculator", where.calculator), ("campaign", where.campaign)):
        present = _present(everything, name)
        if value is not None and value not in present:
            raise InputError(f"no results for {name} {value!r}; {name}s in the database: {', '.join(present) or 'none'}")
    docs = where.find(store)
    return sorted(docs, key=lambda d: (d.get("kind") or "", str(labels(d).get("role")), str(labels(d).get("dopant")),
                                       float(labels(d).get("percent") or 0.0),
                                       str(labels(d).get("site") or labels(d).get("hop") or ""), d["key"]))


def _row(doc: dict[str, Any], e_ins: derive.InsertionEnergy | None, hop: derive.Barrier | None,
         lattice: dict[str, Any] | None = None) -> dict[str, Any]:
    lab = labels(doc)
    out = doc.get("output") or {}
    derived = e_ins or hop
    reason = doc.get("reason") or (derived.reason if derived is not None else None)
    mult = lab.get("site_multiplicity", lab.get("hop_multiplicity"))
    energy = out.get("energy_eV") if doc.get("status") == "completed" else None
    return {
        "key": doc["key"], "kind": doc.get("kind"), "role": lab.get("role"), "dopant": lab.get("dopant"),
        "percent": lab.get("percent"), "site": lab.get("site"), "hop": lab.get("hop"),
        "site_kind": lab.get("site_kind"), "multiplicity": mult,
        "distance_to_dopant_A": lab.get("distance_to_dopant_A"), "energy_eV": energy,
        "e_ins_eV": e_ins.e_ins_eV if e_ins else None, "barrier_eV": hop.barrier_eV if hop else None,
        "lattice_constant_A": (lattice or {}).get("lattice_constant_A"),
        "volume_change_percent": (lattice or {}).get("volume_change_percent"),
        "status": doc.get("status"), "reason": reason or None, "calculator": calculator_name(doc),
        "campaign": lab.get("campaign"),
        "sources": SOURCES_SEP.join(derived.sources) if derived is not None and derived.sources else None,
    }


def results(
    db: StoreLike | str | None = None,
    where: DocFilter | None = None,
    *,
    dopant: str | None = None,
    percent: float | None = None,
    kind: str | None = None,
    calculator: str | None = None,
    status: str | None = None,
    campaign: str | None = None,
) -> Any:
    """Stored results as a :class:`pandas.DataFrame` with the columns :data:`COLUMNS`.

    Parameters
    ----------
    db : ResultStore, str or None
        A store, a MongoDB URI / launchpad path, or None (the configured database).
    where : DocFilter, optional
        The filters as one object; the keyword filters below replace its fields.
    dopant : str, optional
        ``"B"``, ``"P"``, ``"S"``, ``"Ge"``, or ``"Si"``/``"pure"`` for pure Si.
    percent : float, optional
        Dopant atom %, matched within 1e-3.
    kind : {"insertion", "barrier", "relax", "neb", "reference", "host"}, optional
        ``insertion``: host + Li relaxations with E_ins; ``barrier``: NEB hops with their
        barrier; ``host``: host relaxations.
    calculator, status, campaign : str, optional
        Calculator name; ``completed``/``failed``/``running``; campaign name.

    Returns
    -------
    pandas.DataFrame
        One row per document; energies in eV, distances in Angstrom, percent in atom %.
        ``e_ins_eV`` / ``barrier_eV`` are NaN (with ``reason``) when an input failed.

    Raises
    ------
    InputError
        Empty database, unknown filter values, or (``kind="insertion"``) a calculator
        without its bcc-Li reference.
    """
    store = as_store(db)
    where = doc_filter(where, dopant=dopant, percent=percent, kind=kind, calculator=calculator, status=status,
                       campaign=campaign)
    docs = fetch_documents(store, where)
    inserted = [d for d in docs if d.get("kind") == schema.RELAX and labels(d).get("role") == schema.ROLE_INSERTION]
    e_ins: dict[str, derive.InsertionEnergy] = {}
    if inserted:
        hosts_keys = sorted({labels(d).get("host_key") for d in inserted if labels(d).get("host_key")})
        hosts = {d["key"]: d for d in store.find({"_id": {"$in": hosts_keys}})}
        refs = derive.li_references(store)
        if where.kind == "insertion":
            derive.check_references(inserted, refs)
        for d in inserted:
            e_ins[d["key"]] = derive.insertion_energy(d, hosts.get(labels(d).get("host_key")),
                                                      refs.get(identity_token(d)))
    hops = {d["key"]: derive.barrier(d) for d in docs if d.get("kind") == schema.NEB}
    lattices: dict[str, dict[str, Any]] = {}
    if any(labels(d).get("role") == schema.ROLE_HOST and d.get("status") == "completed" for d in docs):
        lattices = {r["key"]: r for r in derive.host_lattices(store, campaign=where.campaign)}
    rows = [_row(d, e_ins.get(d["key"]), hops.get(d["key"]), lattices.get(d["key"])) for d in docs]
    return typed_frame(rows)


def typed_frame(rows: Any) -> Any:
    """A DataFrame with exactly :data:`COLUMNS` and their types (float / Int64 / str-or-None)."""
    import pandas as pd

    df = pd.DataFrame(list(rows) if not isinstance(rows, pd.DataFrame) else rows, columns=list(COLUMNS))
    for c in FLOAT_COLUMNS:
        df[c] = pd.to_numeric(df[c], errors="coerce").astype(float)
    for c in INT_COLUMNS:
        df[c] = pd.to_numeric(df[c], errors="coerce").astype("Int64")
    for c in STRING_COLUMNS:
        col = df[c].astype(object)
        df[c] = col.where(col.notna() & (col != ""), None).map(lambda v: None if v is None else str(v)).astype(object)
    return df.reset_index(drop=True)


def _missing(value: Any) -> bool:
    import pandas as pd

    return value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value))


def _records(df: Any) -> list[dict[str, Any]]:
    out = []
    for rec in df.to_dict(orient="records"):
        clean = {}
        for k, v in rec.items():
            if _missing(v):
                clean[k] = None
            elif k in INT_COLUMNS:
                clean[k] = int(v)
            elif k in FLOAT_COLUMNS:
                clean[k] = float(v)
            else:
                clean[k] = v
        out.append(clean)
    return out


def format_results(df: Any, fmt: str = "table", *, width: int | None = None) -> str:
    """Text of a results DataFrame: ``table`` (for a terminal), ``json`` or ``csv``."""
    _check_choice("format", fmt, FORMATS)
    if fmt == "json":
        return json.dumps(_records(df), indent=1) + "\n"
    if fmt == "csv":
        return typed_frame(df).to_csv(index=False)
    from rich.console import Console

    buf = io.StringIO()
    Console(file=buf, width=width or 200, color_system=None, force_terminal=False).print(rich_table(df))
    return buf.getvalue()


def _fmt(value: Any, spec: str = "") -> str:
    if _missing(value):
        return ""
    return format(value, spec) if spec else str(value)


def rich_table(df: Any, title: str | None = None) -> Any:
    """A :class:`rich.table.Table` of a results DataFrame (keys shortened to 12 characters)."""
    from rich.table import Table

    table = Table(title=title or f"{len(df)} result(s)")
    heads = [("key", "left"), ("kind", "left"), ("role", "left"), ("dopant", "left"), ("atom %", "right"),
             ("site/hop", "left"), ("g", "right"), ("d (A)", "right"), ("E (eV)", "right"),
             ("E_ins (eV)", "right"), ("E_a (eV)", "right"), ("status", "left"), ("calculator", "left")]
    show_reason = bool(df["reason"].notna().any()) if len(df) else False
    if show_reason:
        heads.append(("reason", "left"))
    for name, justify in heads:
        table.add_column(name, justify=justify, overflow="fold")  # type: ignore[arg-type]
    for r in df.to_dict(orient="records"):
        cells = [
            _fmt(r["key"])[:12], _fmt(r["kind"]), _fmt(r["role"]), _fmt(r["dopant"]), _fmt(r["percent"], "g"),
            _fmt(r["site"] or r["hop"]), _fmt(r["multiplicity"]), _fmt(r["distance_to_dopant_A"], ".3f"),
            _fmt(r["energy_eV"], ".4f"), _fmt(r["e_ins_eV"], ".3f"), _fmt(r["barrier_eV"], ".3f"),
            _fmt(r["status"]), _fmt(r["calculator"]),
        ]
        if show_reason:
            cells.append(_fmt(r["reason"]))
        table.add_row(*cells)
    return table


def read_results(source: str | Path, fmt: str | None = None) -> Any:
    """Read a JSON or CSV file (or text) written by :func:`format_results` back into a DataFrame.

    Parameters
    ----------
    source : str or Path
        A file path, or the text itself.
    fmt : {"json", "csv"}, optional
        Default: from the file extension, else guessed from the first character.
    """
    import pandas as pd

    path = Path(source) if isinstance(source, Path) or (isinstance(source, str) and "\n" not in source
                                                        and Path(source).is_file()) else None
    text = path.read_text() if path is not None else str(source)
    if fmt is None:
        suffix = path.suffix.lower().lstrip(".") if path is not None else ""
        fmt = suffix if suffix in ("json", "csv") else ("json" if text.lstrip().startswith("[") else "csv")
    _check_choice("format", fmt, ("json", "csv"))
    if fmt == "json":
        return typed_frame(json.loads(text))
    df = pd.read_csv(io.StringIO(text), dtype={c: str for c in STRING_COLUMNS}, keep_default_na=False,
                     na_values={c: [""] for c in COLUMNS})
    return typed_frame(df)
