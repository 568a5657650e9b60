"""``find_one_and_update`` / ``find_one_and_replace`` that stay O(1) on the embedded server.

Measured on SecantusDB 0.7.0b3 (``benchmarks/scale.py``, ``tests/store/test_atomic.py``): its
``findAndModify`` scans the whole collection whatever the filter (even ``{"_id": k}`` with
the unique index): 3 ms per call with 200 documents, 29 ms with 3,000, 81 ms with 4,000,
while ``update`` and ``find`` by an indexed field stay at 1-2 ms. Worse, the document it
returns is not taken atomically with its write: 6 threads x 60 ``$inc`` through the server's
``find_one_and_update`` got 204 distinct "before" values out of 360 (the counter itself
reached 360), so FireWorks' id counters could hand out one Firework or launch id twice. FireWorks calls
``findAndModify`` on ``fireworks``, ``workflows`` and ``launches`` several times per
Firework (check-out, state changes, the workflow lock), and the results store on
``calculations`` for its claims, so every Firework of a campaign of N cost O(N).

:class:`AtomicCollection` wraps a pymongo ``Collection`` and does each such call as

1. ``find_one(filter, sort=sort)``: the candidate document (index lookup);
2. ``update_one({"_id": its id, <filter>, <guard>}, update)`` (or ``replace_one``), where
   the guard requires every field the update writes to still hold the value read in 1
   (absent: ``{"$exists": False}``). The server applies the filter and the write
   atomically, so when another process changed the document in between, nothing is
   written (``matched_count == 0``) and the call starts again from 1;
3. the document before (read in 1) or after (read again by ``_id``), as asked.

A ``find_one_and_replace(..., upsert=True)`` that finds nothing inserts the replacement
(``insert_one``; FireWorks creates every launch that way), as the server would.

A caller sees what ``find_one_and_update`` promises: the write happens only to a document
that matches ``filter`` at the moment of the write, at most one of two racing callers
claims a document, a ``$inc`` counter never hands out one value twice, and the document
returned ``before`` holds the written fields' values as they were just before the write.
Only fields the update does not write may be from a moment slightly earlier (another
process's later write to them is ordered after this call). Anything this cannot say
exactly (an update's upsert that inserts, positional paths ``$``, update operators other than
those in :data:`OPERATORS`, a pipeline update, extra arguments, a dotted projection) is
passed to the server's own ``findAndModify`` unchanged. A call that loses the race reads
again (with a growing random pause) until it wins; after :data:`RETRY_S` it raises.

Used only where the server needs it (:func:`needs_atomic_emulation`: the server reports
``secantusVersion``); on MongoDB the collections are used as they are.
``SIANODE_FIND_AND_MODIFY=server`` turns the emulation off (the baseline of
``benchmarks/scale.py --baseline``).
"""

from __future__ import annotations

import os
import random
import time
from typing import Any, Callable, Iterable, Mapping

#: update operators whose written paths are the keys of their argument
OPERATORS = frozenset({"$set", "$unset", "$inc", "$push", "$addToSet", "$pull", "$min", "$max", "$mul",
                       "$currentDate", "$setOnInsert"})
#: how long a call keeps losing races (read + conditional write, with backoff) before it gives up,
#: seconds; it never falls back to the server's findAndModify, whose pre-images are not atomic
RETRY_S = 120.0
#: environment variable: ``server`` uses the server's findAndModify everywhere
ENV = "SIANODE_FIND_AND_MODIFY"

_MISSING = object()
_CHECKED: dict[tuple, bool] = {}


def needs_atomic_emulation(client: Any) -> bool:
    """True when ``client``'s server is SecantusDB (its ``buildInfo`` carries ``secantusVersion``)
    and ``$SIANODE_FIND_AND_MODIFY`` is not ``server``; cached per server address."""
    if os.environ.get(ENV, "").strip().lower() == "server":
        return False
    try:
        address = tuple(sorted(str(a) for a in client.nodes)) or (id(client),)
    except Exception:  # noqa: BLE001 - a client double without nodes
        address = (id(client),)
    if address not in _CHECKED:
        try:
            _CHECKED[address] = "secantusVersion" in client.admin.command("buildInfo")
        except Exception:  # noqa: BLE001 - unknown server: leave its findAndModify alone
            return False
    return _CHECKED[address]


def atomic(collection: Any) -> Any:
    """``collection`` wrapped in :class:`AtomicCollection` when its server needs it, else itself."""
    if isinstance(collection, AtomicCollection):
        return collection
    return AtomicCollection(collection) if needs_atomic_emulation(collection.database.client) else collection


def _lookup(doc: Any, path: str) -> Any:
    """The value at dotted ``path`` of ``doc`` (list indices as digits), or ``_MISSING``."""
    current = doc
    for part in path.split("."):
        if isinstance(current, Mapping):
            if part not in current:
                return _MISSING
            current = current[part]
        elif isinstance(current, list) and part.isdigit() and int(part) < len(current):
            current = current[int(part)]
        else:
            return _MISSING
    return current


def update_paths(update: Any) -> list[str] | None:
    """The paths an update document writes, or None when they cannot be told exactly."""
    if not isinstance(update, Mapping) or not update:
        return None
    paths: list[str] = []
    for op, fields in update.items():
        if op not in OPERATORS or not isinstance(fields, Mapping):
            return None
        if op == "$setOnInsert":  # only written by an insert, which goes to the server
            continue
        for path in fields:
            if "$" in path:
                return None
            paths.append(str(path))
    return paths


def guard(doc: Mapping[str, Any], paths: Iterable[str]) -> dict[str, Any]:
    """Filter terms requiring each path of ``doc`` to still hold its value (absent: absent)."""
    out: dict[str, Any] = {}
    for path in paths:
        value = _lookup(doc, path)
        out[path] = {"$exists": False} if value is _MISSING else value
    return out


def _project(doc: dict[str, Any], projection: Any) -> dict[str, Any] | None:
    """``doc`` with a top-level projection applied; None when the projection is not top-level."""
    if projection is None:
        return doc
    spec = {p: 1 for p in projection} if isinstance(projection, (list, tuple)) else dict(projection)
    if any("." in k or k.startswith("$") for k in spec):
        return None
    keep_id = bool(spec.pop("_id", True))
    if spec and all(bool(v) for v in spec.values()):
        out = {k: v for k, v in doc.items() if k in spec}
    elif all(not bool(v) for v in spec.values()):
        out = {k: v for k, v in doc.items() if k not in spec}
    else:
        return None
    if keep_id and "_id" in doc:
        out = {"_id": doc["_id"], **out}
    else:
        out.pop("_id", None)
    return out


class AtomicCollection:
    """A pymongo ``Collection`` whose find-and-modify calls use indexed reads and conditional
    writes (see the module docstring); every other attribute is the collection's own."""

    def __init__(self, collection: Any) -> None:
        self._collection = collection

    @property
    def wrapped(self) -> Any:
        """The pymongo collection itself."""
        return self._collection

    def __getattr__(self, name: str) -> Any:
        return getattr(self._collection, name)

    def __getitem__(self, name: str) -> Any:
        return self._collection[name]

    def __eq__(self, other: object) -> bool:
        return self._collection == getattr(other, "wrapped", other)

    def __hash__(self) -> int:
        return hash(self._collection)

    def __repr__(self) -> str:
        return f"AtomicCollection({self._collection!r})"

    # -------------------------------------------------------------- find and modify
    def find_one_and_update(self, filter: Mapping[str, Any], update: Any, projection: Any = None,
                            sort: Any = None, upsert: bool = False, return_document: bool = False,
                            **kwargs: Any) -> Any:
        """As pymongo's (``return_document``: False/BEFORE or True/AFTER)."""
        paths = update_paths(update)

        def server() -> Any:
            return self._collection.find_one_and_update(filter, update, projection=projection, sort=sort,
                                                        upsert=upsert, return_document=return_document, **kwargs)

        if kwargs or paths is None:
            return server()
        return self._emulate(filter, lambda doc: paths, lambda cond: self._collection.update_one(cond, update),
                             projection, sort, upsert, return_document, server)

    def find_one_and_replace(self, filter: Mapping[str, Any], replacement: Mapping[str, Any], projection: Any = None,
                             sort: Any = None, upsert: bool = False, return_document: bool = False,
                             **kwargs: Any) -> Any:
        """As pymongo's; the guard is every top-level field of the document and of ``replacement``."""

        def server() -> Any:
            return self._collection.find_one_and_replace(filter, replacement, projection=projection, sort=sort,
                                                         upsert=upsert, return_document=return_document, **kwargs)

        if kwargs or any(str(k).startswith("$") for k in replacement):
            return server()

        def insert() -> Any:  # an upsert that finds nothing inserts the replacement (_id from the filter)
            doc = dict(replacement)
            if "_id" in filter and not isinstance(filter["_id"], Mapping):
                doc.setdefault("_id", filter["_id"])
            return self._collection.insert_one(doc).inserted_id

        return self._emulate(filter, lambda doc: [k for k in {**doc, **replacement} if k != "_id"],
                             lambda cond: self._collection.replace_one(cond, replacement), projection, sort, upsert,
                             return_document, server, insert)

    def _emulate(self, filter: Mapping[str, Any], paths_of: Callable[[Mapping[str, Any]], list[str]],
                 write: Callable[[dict[str, Any]], Any], projection: Any, sort: Any, upsert: bool,
                 return_document: bool, server: Callable[[], Any],
                 insert: Callable[[], Any] | None = None) -> Any:
        from pymongo.errors import DuplicateKeyError

        if not return_document and _project({}, projection) is None:  # e.g. a dotted projection
            return server()
        deadline = time.monotonic() + RETRY_S
        pause = 0.001
        while True:
            before = self._collection.find_one(filter, sort=sort)
            if before is None:
                if not upsert:
                    return None
                if insert is None:  # an update's upsert builds its document from the filter: the server's
                    return server()
                try:
                    inserted = insert()
                except DuplicateKeyError:  # another process inserted it meanwhile: update that one
                    continue
                return self._collection.find_one({"_id": inserted}, projection) if return_document else None
            terms = guard(before, paths_of(before))
            # "_id" first: the embedded server serves a query from the index of its first indexed field
            condition = {"_id": before["_id"]}
            condition.update({k: v for k, v in filter.items() if k != "_id" and k not in terms})
            condition.update(terms)
            if write(condition).matched_count != 1:  # another process changed it in between: read again
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{self._collection.name}: find-and-modify lost the race to other writers "
                                       f"for {RETRY_S:.0f} s (filter {dict(filter)!r})")
                time.sleep(random.uniform(0, pause))
                pause = min(pause * 2, 0.1)
                continue
            if return_document:
                return self._collection.find_one({"_id": before["_id"]}, projection)
            return _project(before, projection)
