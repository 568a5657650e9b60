"""Reading result documents: labels, energies, structures and calculator identities.

The readers of :mod:`sianode.analysis` are built on the vocabulary of
:mod:`sianode.store.schema`; this module holds the few accessors they share, tolerant
of the two shapes a ``calculator`` block may have (the identity ``{"name", "model",
"weights_sha256", "parameters"}`` or the provenance ``{"calculator", "model", ...}``).
"""

from __future__ import annotations

import dataclasses
import logging
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Iterable, Mapping, Sequence

import numpy as np

from sianode.errors import InputError
from sianode.store import COMPLETED, mask_secrets, schema
from sianode.store.hashing import canonical_json

if TYPE_CHECKING:
    from sianode.store.protocols import StoreLike

logger = logging.getLogger(__name__)
_PURE_NAMES = ("si", "pure", "none", "")


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
    """The relaxed structure dict of a document's output, ``output.structure`` (None when not recorded)."""
    value = (doc.get("output") or {}).get("structure")
    if isinstance(value, Mapping) and "cell" in value:
        return dict(value)
    return None


def cell_volume_A3(structure: Mapping[str, Any]) -> float:
    """Volume of a structure dict's cell, Angstrom^3."""
    return float(abs(np.linalg.det(np.asarray(structure["cell"], dtype=float).reshape(3, 3))))


def n_atoms(structure: Mapping[str, Any]) -> int:
    return len(structure.get("symbols") or [])


def percent_matches(value: Any, percent: float | None, tol: float = 1e-3) -> bool:
    """True when ``percent`` is None or ``value`` is within ``tol`` of it (atom %)."""
    if percent is None:
        return True
    try:
        return abs(float(value) - float(percent)) <= tol
    except (TypeError, ValueError):
        return False


def store_description(store: StoreLike) -> str:
    """``mongodb://host:port/database`` of a store, with any password masked."""
    try:
        host, port = store.db.client.address
        return mask_secrets(f"mongodb://{host}:{port}/{store.db.name}")
    except Exception:  # noqa: BLE001 - only for a message
        return f"database {getattr(store.db, 'name', '?')}"


def as_store(db: StoreLike | str | None) -> StoreLike:
    """A :class:`~sianode.store.ResultStore` from a store, a URI / launchpad path or None."""
    from sianode.store import ResultStore, open_store

    if isinstance(db, ResultStore):
        return db
    if db is None or isinstance(db, str):
        return open_store(db)
    raise InputError(f"db must be a ResultStore, a MongoDB URI, a launchpad path or None, got {type(db).__name__}")


def campaign_filter(campaign: str) -> dict[str, Any]:
    """MongoDB filter of the documents a campaign used: first asked for them
    (``labels.campaign``) or shared them (``labels.campaigns``, set by the workflow steps)."""
    return {"$or": [{"labels.campaign": campaign}, {"labels.campaigns": campaign}]}


#: ``DocFilter.kind`` values: the calculation documents each names (``insertion`` / ``barrier``
#: are the rows analysis derives E_ins and barriers from)
KIND_FILTERS: dict[str, dict[str, Any]] = {
    "insertion": {"kind": schema.RELAX, "labels.role": schema.ROLE_INSERTION},
    "barrier": {"kind": schema.NEB, "labels.role": schema.ROLE_HOP},
    "relax": {"kind": schema.RELAX},
    "neb": {"kind": schema.NEB},
    "reference": {"kind": schema.REFERENCE},
    "host": {"kind": schema.RELAX, "labels.role": schema.ROLE_HOST},
}
#: every calculation document: not the derived values, not the aliases a re-key left at old keys
CALCULATIONS: dict[str, Any] = {"kind": {"$nin": [schema.DERIVED, schema.ALIAS]}}
STATUSES = (schema.COMPLETED, schema.FAILED, schema.RUNNING)
#: a document is at ``percent`` when its ``labels.percent`` is within this (atom %)
PERCENT_TOL = 1e-3


def _check_choice(name: str, value: str | None, allowed: Iterable[str]) -> None:
    allowed = tuple(allowed)
    if value is not None and value not in allowed:
        raise InputError(f"{name} {value!r} is not allowed; choose one of {', '.join(allowed)}")


@dataclass(frozen=True)
class DocFilter:
    """The six filters of the analysis readers (``sianode query``, E_ins, barriers, host lattices).

    Attributes
    ----------
    dopant : str, optional
        ``labels.dopant`` (``"Si"`` for pure silicon), as stored.
    percent : float, optional
        Dopant atom %, matched within :data:`PERCENT_TOL`.
    kind : str, optional
        A key of :data:`KIND_FILTERS` (``insertion``, ``barrier``, ``relax``, ``neb``,
        ``reference``, ``host``); None: every calculation document (:data:`CALCULATIONS`).
    calculator : str, optional
        Calculator registry name (``calculator.calculator`` of a calculation, ``calculator.name``
        of a derived value).
    campaign : str, optional
        Campaign that asked for or shared the document (:func:`campaign_filter`).
    status : str, optional
        ``completed``, ``failed`` or ``running``.

    Raises
    ------
    InputError
        An unknown ``kind`` or ``status`` (the message lists the allowed ones).
    """

    dopant: str | None = None
    percent: float | None = None
    kind: str | None = None
    calculator: str | None = None
    campaign: str | None = None
    status: str | None = None

    def __post_init__(self) -> None:
        _check_choice("kind", self.kind, KIND_FILTERS)
        _check_choice("status", self.status, STATUSES)
        if self.percent is not None:
            try:
                object.__setattr__(self, "percent", float(self.percent))
            except (TypeError, ValueError):
                raise InputError(f"percent {self.percent!r} is not a number of atom %") from None

    def to_mongo(self) -> dict[str, Any]:
        """The MongoDB filter of these documents."""
        clauses: list[dict[str, Any]] = [dict(KIND_FILTERS[self.kind]) if self.kind else dict(CALCULATIONS)]
        if self.dopant is not None:
            clauses.append({"labels.dopant": self.dopant})
        if self.percent is not None:
            clauses.append({"labels.percent": {"$gte": self.percent - PERCENT_TOL,
                                               "$lte": self.percent + PERCENT_TOL}})
        if self.calculator is not None:
            clauses.append({"$or": [{"calculator.calculator": self.calculator},
                                    {"calculator.name": self.calculator}]})
        if self.campaign is not None:
            clauses.append(campaign_filter(self.campaign))
        if self.status is not None:
            clauses.append({"status": self.status})
        return clauses[0] if len(clauses) == 1 else {"$and": clauses}

    def find(self, store: StoreLike, **kwargs: Any) -> list[dict[str, Any]]:
        """The documents of ``store`` this filter matches (unordered; ``kwargs`` go to ``find``)."""
        return store.find(self.to_mongo(), **kwargs)

    def replace(self, **changes: Any) -> "DocFilter":
        """This filter with the given fields replaced (values None are left as they are)."""
        return dataclasses.replace(self, **{k: v for k, v in changes.items() if v is not None})


def doc_filter(where: DocFilter | None, kind: str | None = None, **filters: Any) -> DocFilter:
    """``where`` (default: no filter) with ``kind`` and the keyword filters that are not None
    replaced: the readers take either a :class:`DocFilter` or its fields as keywords."""
    return (where or DocFilter()).replace(kind=kind, **filters)


def doc_order(d: Mapping[str, Any]) -> tuple[Any, ...]:
    """A stable order of documents: dopant, percent, site or hop, key."""
    lab = labels(d)
    return (str(lab.get("dopant")), float(lab.get("percent") or 0.0), str(lab.get("site") or lab.get("hop")),
            str(d.get("key")))


# ------------------------------------------------------------ host choice
def dopant_label(dopant: str | None) -> str:
    """The ``labels.dopant`` of a dopant name: ``"Si"`` for None, ``"si"``, ``"pure"``, ``"none"``."""
    if dopant is None or str(dopant).strip().lower() in _PURE_NAMES:
        return schema.PURE
    return str(dopant).strip()


def supercell_n(value: Any) -> int | None:
    """n of an n x n x n ``labels.supercell`` (``[n, n, n]`` or ``n``; None when absent)."""
    if value is None:
        return None
    if isinstance(value, (list, tuple)):
        return int(value[0]) if value else None
    return int(value)


def _fmt_percents(values: Sequence[Any]) -> str:
    return ", ".join(f"{p:g}" for p in sorted({round(float(v), 6) for v in values if v is not None})) or "none"


def pick_calculator(names: Sequence[str], calculator: str | None, *, unknown: Callable[[], str],
                    empty: Callable[[], str] | None = None, several: Callable[[], str] | None = None,
                    prefer_default: bool = False) -> str:
    """The one calculator an analysis is for, out of the ``names`` the database holds.

    ``calculator`` when given (it must be one of ``names``); else the only name; with several,
    the default calculator when ``prefer_default`` and it is among them, else
    :class:`InputError` with ``several()`` (or, when ``several`` is None, the first by name).
    ``unknown``, ``empty``, ``several`` build the error messages, only when one is raised.
    """
    if calculator is not None:
        if calculator not in names:
            raise InputError(unknown())
        return calculator
    if not names:
        raise InputError(empty() if empty is not None else "no calculator has results in the database")
    if len(names) == 1:
        return names[0]
    from sianode.calculators import DEFAULT_CALCULATOR

    if prefer_default and DEFAULT_CALCULATOR in names:
        return DEFAULT_CALCULATOR
    if several is not None:
        raise InputError(several())
    return sorted(names)[0]


def choose_host_calculator(names: list[str], calculator: str | None, what: str) -> str:
    """``calculator`` (which must be in ``names``), else the only name, else the default calculator
    when present, else the first by name."""
    chosen = pick_calculator(names, calculator, prefer_default=True,
                             unknown=lambda: f"no {what} host computed with calculator {calculator!r}; "
                                             f"calculators with such hosts: {', '.join(names) or 'none'}")
    if calculator is None and len(names) > 1:
        logger.info("%s hosts of %s in the database; using %s (pass calculator= to choose)", what,
                    ", ".join(names), chosen)
    return chosen


def host_candidates(
    store: StoreLike, name: str, percent: float | None, calculator: str | None = None, arrangement: Any = None,
    campaign: str | None = None, supercell: int | None = None,
) -> tuple[list[dict[str, Any]], str]:
    """Host ``relax`` documents matching the filters (all statuses) and the calculator chosen.

    ``name`` is a ``labels.dopant`` value (:func:`dopant_label`, matched case-insensitively);
    ``percent`` None is allowed when the dopant has hosts at one atom % only.

    Raises
    ------
    InputError
        Nothing matches; the message names what the store has.
    """
    query: dict[str, Any] = {"kind": schema.RELAX, "labels.role": schema.ROLE_HOST}
    if campaign is not None:
        query.update(campaign_filter(campaign))
    hosts = store.find(query)
    dopants = sorted({str(labels(d).get("dopant")) for d in hosts})
    mine = [d for d in hosts if str(labels(d).get("dopant")).lower() == name.lower()]
    if not mine:
        where = f" of campaign {campaign!r}" if campaign is not None else ""
        raise InputError(f"no host of dopant {name!r}{where} in the database at {store_description(store)}; "
                         f"dopants with hosts: {', '.join(dopants) or 'none'}")
    name = str(labels(mine[0]).get("dopant"))
    if percent is None:
        percents = {round(float(labels(d).get("percent") or 0.0), 6) for d in mine}  # type: ignore[assignment]
        if len(percents) > 1:
            raise InputError(f"dopant {name} has hosts at {_fmt_percents(list(percents))} atom %; give the percent")
    at = [d for d in mine if percent_matches(labels(d).get("percent"), percent)]
    if not at:
        have = _fmt_percents([labels(d).get("percent") for d in mine])
        raise InputError(f"no {name} host at {float(percent):g} atom % in the database; "  # type: ignore[arg-type]
                         f"{name} hosts are at {have} atom %")
    if arrangement is not None:
        arranged = [d for d in at if str(labels(d).get("arrangement")) == str(arrangement)]
        if not arranged:
            have = sorted({str(labels(d).get("arrangement")) for d in at})
            raise InputError(f"no {name} host with arrangement {arrangement!r}; arrangements in the database: "
                             f"{', '.join(have)}")
        at = arranged
    if supercell is not None:
        sized = [d for d in at if supercell_n(labels(d).get("supercell")) == int(supercell)]
        if not sized:
            have = sorted({str(supercell_n(labels(d).get("supercell"))) for d in at})
            raise InputError(f"no {name} host in a {supercell}x{supercell}x{supercell} supercell; "
                             f"supercells in the database: {', '.join(have)}")
        at = sized
    what = f"{name} {percent if percent is not None else labels(at[0]).get('percent')} %"
    calc = choose_host_calculator(sorted({str(calculator_name(d)) for d in at}), calculator, what)
    return [d for d in at if str(calculator_name(d)) == calc], calc


def rank_hosts(store: StoreLike, hosts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Completed hosts first, then the one most insertions/NEBs refer to, then arrangement and key."""
    def rank(d: dict[str, Any]) -> tuple[Any, ...]:
        done = d.get("status") == COMPLETED
        n_used = store.count({"labels.host_key": d["key"], "status": COMPLETED}) if done else 0
        return (d.get("status") != COMPLETED, -n_used, str(labels(d).get("arrangement")), str(d["key"]))

    return sorted(hosts, key=rank)
