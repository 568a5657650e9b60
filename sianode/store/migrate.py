"""``sianode db migrate``: upgrade stored documents in place to :data:`SCHEMA_VERSION`.

What a migration does, document by document (``calculations`` collection):

1. **One spelling per quantity**: the legacy names of :data:`~sianode.store.documents.LEGACY_OUTPUT_NAMES`
   and :data:`~sianode.store.documents.LEGACY_LABEL_NAMES` become the canonical ones (a
   value stored under both names with the same value keeps one; two different values keep
   the canonical one in place and the other under ``migration.legacy``: no number is lost
   or changed).
2. Version-1 hop NEBs (ordered hops) get ``labels.unordered = False``, so analysis can tell
   them from the unordered hop classes of later campaigns (those name their saddle's H class,
   ``labels.h_site``, and get ``True`` when the label is missing).
3. ``schema_version`` is set once the document fits its model
   (:func:`~sianode.store.documents.parse_document`); one that does not is counted as
   ``invalid`` and keeps its version.
4. **Re-keying** (only with ``upgrade_parameters``): a calculation whose stored input
   reproduces its key (so its parameters are fully known) and whose parameters translate to
   another key dict gets a copy under the new key (input parameters translated, the old
   ones kept under ``migration``, ``previous_keys`` naming the old key); the old key is left
   as an :class:`~sianode.store.documents.AliasDocument` pointing to it. References to moved
   keys (``labels.*_key``, a derived document's ``sources``) are rewritten, and derived
   documents whose sources moved are re-keyed the same way.

Running documents are left alone. Nothing is ever deleted; a completed result's output is
never changed except for the renames of step 1. A second run changes nothing. Run it while
no campaign is running (a tag added between the read and the alias is caught and the
document left for the next run).
"""

from __future__ import annotations

import copy
import logging
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Mapping

from sianode.errors import InputError
from sianode.store import schema
from sianode.store.documents import (
    ALIAS,
    LEGACY_LABEL_NAMES,
    LEGACY_OUTPUT_NAMES,
    SCHEMA_VERSION,
    SUPERSEDED,
    calculator_identity,
    parse_document,
)
from sianode.store.hashing import content_key, derived_key

log = logging.getLogger(__name__)

#: translates a calculation's stored ``input.parameters`` into today's key dict (None: unknown)
ParameterUpgrade = Callable[[str, Mapping[str, Any]], "dict[str, Any] | None"]

RUNNING = "running"


@dataclass
class MigrationReport:
    """What a migration examined and changed.

    Attributes
    ----------
    examined : int
        Documents read.
    changed : int
        Documents changed (in place, or replaced by an alias).
    created : int
        Documents added (copies under a new key).
    reasons : dict
        Documents changed, per reason (``"output.mu_li_eV"``: that name became the
        canonical one; ``"unordered"``, ``"schema_version"``, ``"rekey"``, ``"references"``).
    skipped : dict
        Documents left as they are, per reason (``"running"``, ``"invalid"``,
        ``"key_not_reproduced"``, ``"parameters_unknown"``, ``"changed_meanwhile"``).
    rekeyed : dict
        Old key -> new key.
    invalid : list of str
        Keys of documents that do not fit their model (first 50), with the reason.
    dry_run : bool
        Nothing was written.
    """

    examined: int = 0
    changed: int = 0
    created: int = 0
    reasons: dict[str, int] = field(default_factory=dict)
    skipped: dict[str, int] = field(default_factory=dict)
    rekeyed: dict[str, str] = field(default_factory=dict)
    invalid: list[str] = field(default_factory=list)
    dry_run: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {"examined": self.examined, "changed": self.changed, "created": self.created,
                "reasons": dict(self.reasons), "skipped": dict(self.skipped), "rekeyed": dict(self.rekeyed),
                "invalid": list(self.invalid), "dry_run": self.dry_run}

    def lines(self) -> list[str]:
        """Human-readable summary, one line each."""
        verb = "would change" if self.dry_run else "changed"
        out = [f"examined {self.examined} documents; {verb} {self.changed}, "
               f"{'would add' if self.dry_run else 'added'} {self.created}"]
        out += [f"  {n:6d}  {reason}" for reason, n in sorted(self.reasons.items())]
        out += [f"  {n:6d}  left as is: {reason}" for reason, n in sorted(self.skipped.items())]
        out += [f"  invalid: {line}" for line in self.invalid]
        return out


@dataclass
class Upgrade:
    """The in-place changes of one document: ``$set`` (dotted paths), ``$unset``, reasons."""

    set: dict[str, Any] = field(default_factory=dict)
    unset: list[str] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)
    invalid: str | None = None

    def __bool__(self) -> bool:
        return bool(self.set or self.unset)


# ------------------------------------------------------------ dotted paths
def _apply(doc: dict[str, Any], sets: Mapping[str, Any], unsets: Iterable[str]) -> dict[str, Any]:
    """``doc`` with MongoDB-style ``$set``/``$unset`` of dotted paths applied (a new dict)."""
    out = copy.deepcopy(doc)
    for path in unsets:
        *head, last = path.split(".")
        node = out
        for part in head:
            node = node.get(part) if isinstance(node, dict) else None
        if isinstance(node, dict):
            node.pop(last, None)
    for path, value in sets.items():
        *head, last = path.split(".")
        node = out
        for part in head:
            if not isinstance(node.get(part), dict):
                node[part] = {}
            node = node[part]
        node[last] = value
    return out


def _rename(part: Mapping[str, Any], prefix: str, names: Mapping[str, str], up: Upgrade) -> None:
    """Move legacy names of ``part`` (stored at ``prefix``) to their canonical names."""
    present = dict(part)
    for legacy, canonical in names.items():
        if legacy not in present:
            continue
        value = present.pop(legacy)
        up.unset.append(f"{prefix}.{legacy}")
        up.reasons.append(f"{prefix}.{legacy}")
        if canonical not in present:
            present[canonical] = value
            up.set[f"{prefix}.{canonical}"] = value
        elif present[canonical] != value:
            up.set[f"migration.legacy.{prefix}.{legacy}"] = value


def upgrade_document(doc: Mapping[str, Any]) -> Upgrade:
    """The in-place changes that make ``doc`` a version-2 document (steps 1-3 of the
    module docstring); empty for a version-2 document."""
    up = Upgrade()
    if doc.get("schema_version", 1) >= SCHEMA_VERSION or doc.get("kind") == ALIAS:
        return up
    kind = str(doc.get("kind"))
    output, labels = doc.get("output"), doc.get("labels")
    if isinstance(output, Mapping):
        _rename(output, "output", LEGACY_OUTPUT_NAMES.get(kind, {}), up)
    if isinstance(labels, Mapping):
        _rename(labels, "labels", LEGACY_LABEL_NAMES.get(str(labels.get("role")), {}), up)
        if kind == schema.NEB and labels.get("role") == schema.ROLE_HOP and "unordered" not in labels:
            # an unordered hop class names its saddle's H class (contract of the hop paths)
            up.set["labels.unordered"] = "h_site" in labels
            up.reasons.append("unordered")
    upgraded = _apply(dict(doc), {**up.set, "schema_version": SCHEMA_VERSION}, up.unset)
    try:
        parse_document(upgraded)
    except InputError as exc:
        up.invalid = str(exc)
        return up
    up.set["schema_version"] = SCHEMA_VERSION
    up.reasons.append("schema_version")
    return up


# ------------------------------------------------------------------ re-key
def _structures(doc: Mapping[str, Any]) -> Any:
    inp = doc.get("input") or {}
    return inp["structures"] if doc.get("kind") == schema.NEB else inp.get("structure")


def stored_key(doc: Mapping[str, Any], parameters: Mapping[str, Any] | None = None) -> str | None:
    """The content key recomputed from a calculation document's stored input
    (``parameters`` replacing ``input.parameters`` when given); None when it cannot be."""
    inp = doc.get("input")
    if not isinstance(inp, Mapping) or not isinstance(inp.get("parameters"), Mapping):
        return None
    try:
        return content_key(str(doc["kind"]), _structures(doc), calculator_identity(doc.get("calculator")),
                           dict(inp["parameters"] if parameters is None else parameters))
    except Exception as exc:  # noqa: BLE001 - an unreadable input only means: not re-keyable
        log.debug("no key from the input of %s: %s", str(doc.get("_id"))[:12], exc)
        return None


def new_key(doc: Mapping[str, Any], upgrade_parameters: ParameterUpgrade) -> tuple[str | None, dict[str, Any] | None, str]:
    """``(new key, new parameters, reason)`` of a calculation document under today's key
    definition; the key is None when the document keeps its key (reason says why)."""
    if stored_key(doc) != doc["_id"]:
        return None, None, "key_not_reproduced"
    params = upgrade_parameters(str(doc["kind"]), dict(doc["input"]["parameters"]))
    if params is None:
        return None, None, "parameters_unknown"
    key = stored_key(doc, params)
    return (None, None, "same_key") if key in (None, doc["_id"]) else (key, params, "rekey")


def _rewrite(doc: Mapping[str, Any], keymap: Mapping[str, str]) -> dict[str, Any]:
    """``$set`` paths that point ``labels.*_key`` and ``sources`` at moved keys."""
    sets: dict[str, Any] = {}
    labels = doc.get("labels") or {}
    for name, value in labels.items():
        if name.endswith("_key") and isinstance(value, str) and value in keymap:
            sets[f"labels.{name}"] = keymap[value]
    also = labels.get("also")
    if isinstance(also, list):
        new = [{k: keymap.get(v, v) if k.endswith("_key") and isinstance(v, str) else v for k, v in entry.items()}
               if isinstance(entry, Mapping) else entry for entry in also]
        if new != also:
            sets["labels.also"] = new
    sources = doc.get("sources")
    if isinstance(sources, list) and any(s in keymap for s in sources):
        sets["sources"] = [keymap.get(s, s) for s in sources]
    return sets


# --------------------------------------------------------------- migrate
def migrate(store: Any, dry_run: bool = False, *, upgrade_parameters: ParameterUpgrade | None = None,
            ) -> MigrationReport:
    """Upgrade every document of ``store`` to :data:`SCHEMA_VERSION` (see module docstring).

    Parameters
    ----------
    store : ResultStore
        The results store (its ``coll`` is written).
    dry_run : bool
        Count what would change; write nothing.
    upgrade_parameters : callable, optional
        ``(kind, stored parameters) -> today's key dict or None``
        (:func:`sianode.workflows.params.upgrade_parameters`): re-key calculations whose
        key definition changed. None: keys are left as they are.

    Returns
    -------
    MigrationReport
    """
    report = MigrationReport(dry_run=dry_run)
    reasons: Counter[str] = Counter()
    skipped: Counter[str] = Counter()
    changed: set[str] = set()
    docs: dict[str, dict[str, Any]] = {}  # every document but the running ones, as upgraded
    running: dict[str, dict[str, Any]] = {}
    for doc in store.coll.find({}, sort=[("_id", 1)]):
        report.examined += 1
        if doc.get("status") == RUNNING:
            skipped["running"] += 1
            running[doc["_id"]] = doc
            continue
        up = upgrade_document(doc)
        if up.invalid:
            skipped["invalid"] += 1
            if len(report.invalid) < 50:
                report.invalid.append(up.invalid)
        if up:
            if not dry_run and not _update(store, doc, up):
                skipped["changed_meanwhile"] += 1
                continue
            doc = _apply(doc, up.set, up.unset)
            changed.add(doc["_id"])
            reasons.update(set(up.reasons))
        docs[doc["_id"]] = doc

    keymap, new_params = _plan_keys(docs, upgrade_parameters, skipped) if upgrade_parameters else ({}, {})
    report.rekeyed = dict(keymap)
    # references to moved keys, in every document (labels only: running ones too)
    copies = {key: docs[key] for key in keymap}
    for key, doc in {**docs, **running}.items():
        sets = _rewrite(doc, keymap) if doc.get("kind") != ALIAS else {}
        if sets and key in keymap:
            copies[key] = _apply(doc, sets, ())
        elif sets:
            reasons["references"] += 1
            changed.add(key)
            if not dry_run:
                store.coll.update_one({"_id": key}, {"$set": sets})
    for old, new in keymap.items():
        report.created += _move(store, copies[old], new, new_params.get(old), dry_run)
        reasons["rekey"] += 1
        changed.add(old)
        if not dry_run and not _leave_alias(store, docs[old], new):
            skipped["changed_meanwhile"] += 1
    report.changed = len(changed)
    report.reasons, report.skipped = dict(reasons), dict(skipped)
    log.info("migration: %s", "; ".join(report.lines()))
    return report


def _update(store: Any, doc: Mapping[str, Any], up: Upgrade) -> bool:
    """Apply an :class:`Upgrade` to the stored document unless its status changed meanwhile."""
    update: dict[str, Any] = {"$set": up.set} if up.set else {}
    if up.unset:
        update["$unset"] = {path: "" for path in up.unset}
    return store.coll.update_one({"_id": doc["_id"], "status": doc.get("status")}, update).matched_count == 1


def _plan_keys(docs: Mapping[str, dict[str, Any]], upgrade_parameters: ParameterUpgrade,
               skipped: Counter[str]) -> tuple[dict[str, str], dict[str, dict[str, Any]]]:
    """Old key -> new key of the calculations whose key definition changed, then of the
    derived values whose sources moved; and the new parameters of the calculations."""
    keymap: dict[str, str] = {}
    new_params: dict[str, dict[str, Any]] = {}
    for key, doc in docs.items():
        if doc.get("kind") in (schema.DERIVED, ALIAS) or not isinstance(doc.get("input"), Mapping):
            continue
        new, params, why = new_key(doc, upgrade_parameters)
        if new is None:
            if why != "same_key":
                skipped[why] += 1
            continue
        keymap[key], new_params[key] = new, params  # type: ignore[assignment]
    for key, doc in docs.items():
        sources = doc.get("sources")
        if doc.get("kind") != schema.DERIVED or not isinstance(sources, list) or not set(sources) & set(keymap):
            continue
        calc, role = doc.get("calculator") or {}, (doc.get("labels") or {}).get("role")
        if derived_key(calc, role, sources) != key:
            skipped["key_not_reproduced"] += 1
            continue
        keymap[key] = derived_key(calc, role, [keymap.get(s, s) for s in sources])
    return keymap, new_params


def _move(store: Any, doc: dict[str, Any], new: str, params: dict[str, Any] | None, dry_run: bool) -> int:
    """Store ``doc`` under ``new`` unless a document is there; returns 1 when added."""
    old = doc["_id"]
    moved = {**doc, "_id": new, "key": new, "previous_keys": [*(doc.get("previous_keys") or []), old]}
    record = {**(doc.get("migration") or {}), "rekeyed_from": old}
    if params is not None:
        record["previous_parameters"] = doc["input"]["parameters"]
        moved["input"] = {**doc["input"], "parameters": params}
    moved["migration"] = record
    if dry_run:
        return 0 if store.coll.count_documents({"_id": new}) else 1
    from pymongo.errors import DuplicateKeyError

    try:
        store.coll.insert_one(moved)
        return 1
    except DuplicateKeyError:
        store.coll.update_one({"_id": new}, {"$addToSet": {"previous_keys": old}})
        return 0


def _leave_alias(store: Any, doc: Mapping[str, Any], new: str) -> bool:
    """Replace the document at the old key by an alias of ``new`` (the old content is kept
    under ``original`` when ``new`` held another result). False when it changed meanwhile."""
    target = store.coll.find_one({"_id": new}) or {}
    ours = (target.get("migration") or {}).get("rekeyed_from") == doc["_id"]
    alias = {"_id": doc["_id"], "key": doc["_id"], "kind": ALIAS, "status": SUPERSEDED, "superseded_by": new,
             "alias_of": {"kind": doc.get("kind"), "role": (doc.get("labels") or {}).get("role")},
             "schema_version": SCHEMA_VERSION}
    if not ours:
        alias["original"] = {k: v for k, v in doc.items() if k != "_id"}
    res = store.coll.replace_one({"_id": doc["_id"], "status": doc.get("status"), "labels": doc.get("labels")},
                                 alias)
    return res.matched_count == 1
