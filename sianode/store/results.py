"""The results store: one MongoDB document per calculation, keyed by its content hash.

Document layout (collection ``calculations``, ``_id`` = ``key`` = content hash)::

    {
      "_id": key, "key": key,
      "kind": "relax" | "neb" | "reference" | "single_point" | ...,
      "status": "running" | "completed" | "failed",
      "reason": None | "why it failed",
      "input": {... structures as dicts, operation parameters ...},
      "calculator": {... provenance: name, package, version, model, weights_sha256,
                     parameters, device, threads ...},
      "labels": {"dopant": "B", "percent": 1.5625, "site": "T1", "campaign": ...},
      "output": {... energy_eV, forces, stress, final structure, converged, steps ...},
      "files": {"trajectory": <GridFS id>, ...},
      "timings": {"created", "started", "finished", "wall_s"},
      "host": ..., "sianode_version": ..., "attempts": n,
      "lease": {"owner": ..., "expires": unix time}   # only while running
    }

:meth:`ResultStore.get_or_compute` guarantees that a completed result is computed
once and never overwritten: the first caller claims the key by inserting a
``running`` document (the unique ``_id`` decides races), renews a lease while it
works, and a concurrent caller waits for the result; a claim whose lease expired
(its worker died) is taken over.
"""

from __future__ import annotations

import io
import logging
import os
import re
import socket
import threading
import time
import traceback
import uuid
from typing import Any, Callable, Mapping

import numpy as np

from sianode.errors import CalculationFailed, DatabaseUnavailable
from sianode.store.schema import COMPLETED, FAILED, RUNNING

log = logging.getLogger(__name__)

COLLECTION = "calculations"
DEFAULT_LEASE_S = 120.0

__all__ = ["COMPLETED", "FAILED", "RUNNING", "ResultStore", "connect"]

#: Indexes for the queries users run.
INDEXES: tuple[tuple[str, ...], ...] = (
    ("status",),
    ("kind",),
    ("labels.dopant",),
    ("labels.percent",),
    ("labels.campaign",),
    ("labels.campaigns",),
    ("calculator.calculator",),
    ("kind", "calculator.calculator", "labels.dopant", "labels.percent"),
)


#: reasons of failures that were sianode's own bugs, fixed since (not the calculation's): such a
#: document is computed again when it is asked for, its old reason kept in ``previous_reasons``
#: ("does not fit RelaxOutput": a 3x3 stress of CHGNet, fixed 2026-12)
BUG_REASONS: tuple[str, ...] = ("output does not fit RelaxOutput: stress_eV_A3",)


def failed_by_a_bug(doc: Mapping[str, Any]) -> bool:
    """Whether a failed document failed because of a sianode bug of :data:`BUG_REASONS`."""
    reason = str(doc.get("reason") or "")
    return doc.get("status") == FAILED and any(r in reason for r in BUG_REASONS)


def _owner_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class _LeaseRenewer(threading.Thread):
    """Renews a claim's lease every ``lease_s / 3`` seconds until stopped."""

    def __init__(self, coll: Any, key: str, owner: str, lease_s: float) -> None:
        super().__init__(daemon=True, name=f"lease-{key[:8]}")
        self.coll, self.key, self.owner, self.lease_s = coll, key, owner, lease_s
        self.stop_event = threading.Event()

    def run(self) -> None:
        while not self.stop_event.wait(self.lease_s / 3.0):
            try:
                self.coll.update_one(
                    {"_id": self.key, "status": RUNNING, "lease.owner": self.owner},
                    {"$set": {"lease.expires": time.time() + self.lease_s}},
                )
            except Exception as exc:  # the database may be restarting: keep trying
                log.debug("lease renewal for %s failed: %s", self.key[:12], exc)

    def stop(self) -> None:
        self.stop_event.set()
        self.join(timeout=5)


class ResultStore:
    """Calculation results in a MongoDB database (pymongo only).

    Parameters
    ----------
    database
        A ``pymongo.database.Database``; use :func:`sianode.store.open_store` to get one
        from a URI, a launchpad file or the embedded server.
    """

    def __init__(self, database: Any, *, ensure_indexes: bool = True) -> None:
        import gridfs

        from sianode.store.atomic import atomic

        self.db = database
        self.coll = atomic(database[COLLECTION])  # findAndModify without a scan on the embedded server
        self.fs = gridfs.GridFS(database, collection="arrays")
        if ensure_indexes:
            self.ensure_indexes()

    def ensure_indexes(self) -> None:
        for fields in INDEXES:
            self.coll.create_index([(f, 1) for f in fields])

    # ------------------------------------------------------------------ reads
    def get(self, key: str) -> dict[str, Any] | None:
        """The document of ``key``, or None; an alias left by a re-key (``sianode db migrate
        --rekey``: ``superseded_by``) is followed to the document that replaced it."""
        return self._resolve(key)[1]

    def _resolve(self, key: str) -> tuple[str, dict[str, Any] | None]:
        """``(key, document)`` after following aliases (the document None when absent)."""
        doc = self.coll.find_one({"_id": key})
        for _ in range(8):  # an alias points to a document, never to an alias: the bound guards a loop
            if doc is None or not doc.get("superseded_by"):
                break
            key = doc["superseded_by"]
            doc = self.coll.find_one({"_id": key})
        return key, doc

    def find(self, filter: Mapping[str, Any] | None = None, **kwargs: Any) -> list[dict[str, Any]]:
        """Documents matching a MongoDB filter."""
        return list(self.coll.find(dict(filter or {}), **kwargs))

    def count(self, filter: Mapping[str, Any] | None = None) -> int:
        return int(self.coll.count_documents(dict(filter or {})))

    # ----------------------------------------------------------------- arrays
    def put_array(self, array: np.ndarray, **metadata: Any) -> Any:
        """Store a numpy array in GridFS; returns its id."""
        buf = io.BytesIO()
        np.save(buf, np.asarray(array), allow_pickle=False)
        return self.fs.put(buf.getvalue(), metadata=metadata)

    def get_array(self, file_id: Any) -> np.ndarray:
        """Load an array stored by :meth:`put_array`."""
        return np.load(io.BytesIO(self.fs.get(file_id).read()), allow_pickle=False)

    def get_arrays(self, doc: Mapping[str, Any]) -> dict[str, np.ndarray]:
        """All GridFS arrays referenced from a document's ``files``."""
        return {name: self.get_array(fid) for name, fid in (doc.get("files") or {}).items()}

    # ------------------------------------------------------------ computation
    def insert(self, key: str, document: Mapping[str, Any]) -> dict[str, Any]:
        """Insert a finished document as is; an existing key is left untouched.

        Returns the stored document (the existing one if ``key`` was present).
        """
        from pymongo.errors import DuplicateKeyError

        doc = {**document, "_id": key, "key": key}
        doc.setdefault("status", COMPLETED)
        try:
            self.coll.insert_one(doc)
            return doc
        except DuplicateKeyError:
            return self.get(key)  # type: ignore[return-value]

    def get_or_compute(
        self,
        key: str,
        fn: Callable[[], Any],
        *,
        meta: Mapping[str, Any] | None = None,
        retry_failed: bool = False,
        lease_s: float = DEFAULT_LEASE_S,
        poll_s: float = 0.2,
        wait_timeout_s: float | None = None,
    ) -> dict[str, Any]:
        """Return the document of ``key``, running ``fn`` only if no one has.

        Parameters
        ----------
        key
            Content hash of the calculation (:func:`sianode.store.hashing.content_key`).
        fn
            Does the calculation; returns a mapping (or an object with ``as_dict()``)
            that becomes ``output``; a key ``"arrays"`` holding ``{name: ndarray}`` is
            moved to GridFS and referenced from ``files``. Raising
            :class:`~sianode.errors.CalculationFailed` records the document as failed
            with the message as reason; any other exception is recorded as failed too
            (with its type) and then re-raised.
        meta
            Stored with the claim: ``kind``, ``input``, ``calculator``, ``labels``.
        retry_failed
            Run ``fn`` again for a key whose stored status is ``failed``.
        lease_s
            A claim not renewed for this long is taken over by the next caller.
        wait_timeout_s
            Give up waiting for another worker's result after this long (None: wait
            as long as its lease is renewed).
        """
        from pymongo.errors import DuplicateKeyError

        owner = _owner_id()
        meta = dict(meta or {})
        waited_since = time.monotonic()
        delay = poll_s
        while True:
            key, doc = self._resolve(key)  # an alias: the calculation lives under its new key
            now = time.time()
            claim_update = {
                "status": RUNNING, "reason": None,
                "lease": {"owner": owner, "expires": now + lease_s},
                "timings.started": now,
            }
            if doc is None:
                try:
                    self.coll.insert_one({
                        **meta, "_id": key, "key": key, **{k: v for k, v in claim_update.items() if "." not in k},
                        "timings": {"created": now, "started": now}, "attempts": 1,
                        "host": socket.gethostname(), "sianode_version": _version(),
                    })
                    return self._compute(key, fn, owner, lease_s)
                except DuplicateKeyError:
                    continue
            status = doc.get("status")
            if status == COMPLETED or (status == FAILED and not retry_failed and not failed_by_a_bug(doc)):
                return doc
            if status == FAILED or (status == RUNNING and (doc.get("lease") or {}).get("expires", 0) < now):
                update: dict[str, Any] = {
                    "$set": {**claim_update, **{k: v for k, v in meta.items() if k in ("input", "calculator", "labels",
                                                                                    "kind", "schema_version")}},
                    "$inc": {"attempts": 1}, "$unset": {"output": "", "files": ""}}
                if status == FAILED:  # the earlier reason is kept
                    update["$push"] = {"previous_reasons": doc.get("reason")}
                took = self.coll.find_one_and_update(
                    {"_id": key, "status": status, "lease": doc.get("lease")}, update)
                if took is not None:
                    if status == RUNNING:
                        log.warning("taking over calculation %s: its worker's lease expired", key[:12])
                    return self._compute(key, fn, owner, lease_s)
                continue
            if wait_timeout_s is not None and time.monotonic() - waited_since > wait_timeout_s:
                raise CalculationFailed(f"timed out after {wait_timeout_s:.0f} s waiting for calculation {key[:12]} run by another worker")
            time.sleep(delay)
            delay = min(delay * 1.5, 2.0)

    def _compute(self, key: str, fn: Callable[[], Any], owner: str, lease_s: float) -> dict[str, Any]:
        renewer = _LeaseRenewer(self.coll, key, owner, lease_s)
        renewer.start()
        t0 = time.perf_counter()
        update: dict[str, Any]
        error: BaseException | None = None
        try:
            result = fn()
            output = dict(result.as_dict() if hasattr(result, "as_dict") else result)
            arrays = output.pop("arrays", None) or {}
            files = {name: self.put_array(arr, key=key, name=name) for name, arr in arrays.items()}
            update = {"status": COMPLETED, "output": output, "files": files}
        except CalculationFailed as exc:
            update = {"status": FAILED, "reason": str(exc)}
        except BaseException as exc:  # record, then let the caller see the bug
            error = exc
            update = {
                "status": FAILED,
                "reason": f"{type(exc).__name__}: {exc}",
                "traceback": "".join(traceback.format_exception(exc))[-4000:],
            }
        finally:
            renewer.stop()
        now = time.time()
        update.update({"timings.finished": now, "timings.wall_s": time.perf_counter() - t0})
        res = self.coll.find_one_and_update(
            {"_id": key, "status": RUNNING, "lease.owner": owner},
            {"$set": update, "$unset": {"lease": ""}},
            return_document=True,
        )
        if error is not None:
            raise error
        if res is None:  # our claim was taken over meanwhile: the other worker's result stands
            log.warning("claim on %s was taken over while computing; keeping the other result", key[:12])
            return self.get(key)  # type: ignore[return-value]
        return res

    def tag(self, key: str, campaign: str) -> None:
        """Add ``campaign`` to ``labels.campaigns`` of a document shared by campaigns.

        The only change ever made to a finished document; its result is never touched.
        """
        self.coll.update_one({"_id": key}, {"$addToSet": {"labels.campaigns": campaign}})

    def relabel(self, key: str, labels: Mapping[str, Any]) -> None:
        """Make ``labels`` the primary labels of a document, keeping the previous ones
        under ``labels.also`` and its ``labels.campaigns``. Only labels change: the
        input, output and status of a calculation are never touched."""
        doc = self.get(key)
        if doc is None:
            return
        old = dict(doc.get("labels") or {})
        also = [*old.pop("also", []), {k: v for k, v in old.items() if k != "campaigns"}]
        new = {**labels, "campaigns": sorted(set(old.get("campaigns") or []) | set(labels.get("campaigns") or [])),
               "also": also}
        self.coll.update_one({"_id": key, "labels": doc.get("labels")}, {"$set": {"labels": new}})

    def release_dead_local_claims(self) -> int:
        """Expire the leases of ``running`` claims held by dead processes on this host,
        so the next caller takes them over at once instead of waiting for the lease."""
        from sianode.store.server import pid_alive

        host = socket.gethostname()
        released = 0
        for doc in self.coll.find({"status": RUNNING, "lease.owner": {"$regex": f"^{re.escape(host)}:"}}, {"lease": 1}):
            owner = (doc.get("lease") or {}).get("owner", "")
            try:
                pid = int(owner.split(":")[1])
            except (IndexError, ValueError):
                continue
            if not pid_alive(pid):
                res = self.coll.update_one({"_id": doc["_id"], "status": RUNNING, "lease.owner": owner},
                                           {"$set": {"lease.expires": 0.0}})
                released += res.modified_count
                log.warning("released the claim of dead process %d on calculation %s", pid, str(doc["_id"])[:12])
        return released

    def forget(self, key: str) -> bool:
        """Delete a *failed* document (a completed one is never deleted)."""
        return self.coll.delete_one({"_id": key, "status": FAILED}).deleted_count == 1


def _version() -> str:
    from sianode import __version__

    return __version__


def connect(target: Any, *, timeout_s: float = 5.0) -> Any:
    """A ``pymongo.database.Database`` for a :class:`~sianode.store.uri.DatabaseTarget`.

    Raises :class:`~sianode.errors.DatabaseUnavailable` within ``timeout_s`` naming the
    host (password masked) when the server cannot be reached or refuses the login.
    """
    import pymongo
    from pymongo.errors import ConfigurationError, OperationFailure, PyMongoError, ServerSelectionTimeoutError

    ms = int(timeout_s * 1000)
    try:
        client = pymongo.MongoClient(target.uri, serverSelectionTimeoutMS=ms, connectTimeoutMS=ms, socketTimeoutMS=max(ms * 6, 30000))
        client.admin.command("ping")
        db = client[target.database]
        db.list_collection_names()  # checks authorisation for this database
    except ServerSelectionTimeoutError:
        raise DatabaseUnavailable(
            f"cannot reach the database at {target.hosts} ({target.source}) within {timeout_s:.0f} s: "
            "check the host and port, that the server runs, and the network"
        ) from None
    except OperationFailure as exc:
        if exc.code in (18, 13, 8000):
            raise DatabaseUnavailable(
                f"the database at {target.hosts} refused the login ({target.source}): authentication failed; "
                "check the user name and password"
            ) from None
        raise DatabaseUnavailable(f"the database at {target.hosts} refused the request: {exc.details and exc.details.get('errmsg') or exc}") from None
    except (ConfigurationError, PyMongoError) as exc:
        from sianode.store.uri import mask_secrets

        raise DatabaseUnavailable(f"cannot use the database at {target.hosts}: {mask_secrets(str(exc))}") from None
    return db
