"""AtomicCollection: the same answers as the server's own findAndModify, and safe under races."""

from __future__ import annotations

import threading

import pymongo
import pytest
from pymongo import ReturnDocument

from sianode.store.atomic import ENV, AtomicCollection, atomic, guard, needs_atomic_emulation, update_paths


@pytest.fixture
def db(db_uri):
    client = pymongo.MongoClient(db_uri)
    yield client.get_default_database()
    client.close()


def _seed(coll) -> None:
    coll.create_index("fw_id", unique=True)
    coll.insert_many([{"_id": i, "fw_id": i, "state": "READY" if i % 3 else "WAITING", "n": i * 10,
                       "spec": {"_priority": i % 4, "tags": ["a"]}, "fw_states": {str(i): "READY"}}
                      for i in range(12)])


#: (method, args, kwargs): every shape FireWorks and the results store use, and the edge cases
CALLS = [
    ("find_one_and_update", ({"fw_id": 4}, {"$set": {"state": "RESERVED"}}), {}),
    ("find_one_and_update", ({"fw_id": 5}, {"$set": {"state": "RUNNING"}}), {"return_document": ReturnDocument.AFTER}),
    ("find_one_and_update", ({"state": "READY"}, {"$set": {"state": "RESERVED"}}),
     {"sort": [("spec._priority", -1), ("fw_id", 1)]}),
    ("find_one_and_update", ({"fw_id": 7, "locked": {"$exists": False}}, {"$set": {"locked": True}}), {}),
    ("find_one_and_update", ({"fw_id": 7, "locked": {"$exists": False}}, {"$set": {"locked": True}}), {}),  # None
    ("find_one_and_update", ({"fw_id": 7}, {"$unset": {"locked": True}}), {}),
    ("find_one_and_update", ({"fw_id": 2}, {"$inc": {"n": 5}, "$push": {"spec.tags": "b"}}), {}),
    ("find_one_and_update", ({"fw_id": 2}, {"$addToSet": {"spec.tags": "b"}, "$set": {"fw_states.2": "DONE"}}),
     {"return_document": True}),
    ("find_one_and_update", ({"fw_id": 8}, {"$set": {"state": "X"}}), {"projection": {"state": 1}}),
    ("find_one_and_update", ({"fw_id": 9}, {"$set": {"state": "X"}}), {"projection": {"spec": 0, "_id": 0}}),
    ("find_one_and_update", ({"fw_id": 99}, {"$set": {"state": "X"}}), {}),  # no match: None
    ("find_one_and_update", ({"fw_id": 100}, {"$set": {"state": "NEW"}}), {"upsert": True}),  # inserts: server
    ("find_one_and_update", ({"fw_id": 3}, {"$rename": {"n": "m"}}), {}),  # unsupported operator: server
    ("find_one_and_replace", ({"fw_id": 10}, {"fw_id": 10, "state": "REPLACED"}), {}),
    ("find_one_and_replace", ({"fw_id": 11}, {"fw_id": 11, "other": 1}), {"return_document": True}),
    ("find_one_and_replace", ({"fw_id": 101}, {"fw_id": 101, "state": "UP"}), {"upsert": True}),
]


def test_same_results_as_the_server(db):
    raw, emulated = db["raw"], AtomicCollection(db["emulated"])
    _seed(raw)
    _seed(emulated)
    for method, args, kwargs in CALLS:
        expected = getattr(raw, method)(*args, **kwargs)
        got = getattr(emulated, method)(*args, **kwargs)
        if expected is not None and "_id" in expected and not isinstance(expected["_id"], int):
            expected.pop("_id"), got.pop("_id")  # upserted: ObjectIds differ
        assert got == expected, (method, args, kwargs)
    strip = {"_id": 0}
    assert list(emulated.find({}, strip).sort("fw_id", 1)) == list(raw.find({}, strip).sort("fw_id", 1))


def test_counter_never_hands_out_a_value_twice(db):
    coll = AtomicCollection(db["counter"])
    coll.insert_one({"_id": -1, "next_id": 0})
    got: list[int] = []

    def take(k: int) -> None:
        for _ in range(k):
            got.append(coll.find_one_and_update({}, {"$inc": {"next_id": 1}})["next_id"])

    # 6 x 60 racing increments: the server's own find_one_and_update handed out 204 distinct
    # "before" values of 360 here (the counter reached 360): its pre-image is not atomic
    threads = [threading.Thread(target=take, args=(60,)) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(got) == list(range(360))
    assert coll.find_one({"_id": -1})["next_id"] == 360


def test_one_lock_holder_among_racers(db):
    coll = AtomicCollection(db["locks"])
    coll.insert_one({"_id": 1, "nodes": [1, 2, 3]})
    winners: list[int] = []
    barrier = threading.Barrier(6)

    def grab(i: int) -> None:
        barrier.wait()
        if coll.find_one_and_update({"nodes": 2, "locked": {"$exists": False}}, {"$set": {"locked": i}}):
            winners.append(i)

    threads = [threading.Thread(target=grab, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(winners) == 1
    assert coll.find_one({"_id": 1})["locked"] == winners[0]


def test_only_secantus_gets_the_emulation(db, monkeypatch):
    assert needs_atomic_emulation(db.client)  # the test server is SecantusDB
    assert isinstance(atomic(db["x"]), AtomicCollection)
    assert atomic(atomic(db["x"])).wrapped == db["x"]  # never wrapped twice
    monkeypatch.setenv(ENV, "server")
    assert atomic(db["x"]) is not None and not isinstance(atomic(db["x"]), AtomicCollection)


def test_paths_and_guard():
    assert update_paths({"$set": {"a.b": 1}, "$unset": {"c": ""}}) == ["a.b", "c"]
    assert update_paths({"$set": {"a.$.b": 1}}) is None  # positional: the server decides
    assert update_paths([{"$set": {"a": 1}}]) is None  # pipeline
    assert update_paths({"$rename": {"a": "b"}}) is None
    assert guard({"a": {"b": [5, 6]}}, ["a.b.1", "x"]) == {"a.b.1": 6, "x": {"$exists": False}}


def test_store_and_launchpad_use_it(store, db_uri):
    from sianode.workflows.launchpad import campaign_launchpad

    assert isinstance(store.coll, AtomicCollection)
    lp, _ = campaign_launchpad(db_uri)
    try:
        assert all(isinstance(getattr(lp, n), AtomicCollection)
                   for n in ("fireworks", "workflows", "launches", "fw_id_assigner"))
    finally:
        lp.connection.close()


def test_replace_upsert_inserts_without_the_server_find_and_modify(db, monkeypatch):
    """FireWorks creates each launch with find_one_and_replace(upsert=True): an insert here."""
    coll = AtomicCollection(db["launches"])
    calls = []
    monkeypatch.setattr(coll.wrapped.__class__, "find_one_and_replace",
                        lambda self, *a, **k: calls.append(a) or None)
    assert coll.find_one_and_replace({"launch_id": 7}, {"launch_id": 7, "state": "RESERVED"}, upsert=True) is None
    doc = coll.find_one_and_replace({"_id": "x"}, {"state": "NEW"}, upsert=True, return_document=True)
    assert doc == {"_id": "x", "state": "NEW"} and calls == []
    assert coll.find_one({"launch_id": 7})["state"] == "RESERVED"
