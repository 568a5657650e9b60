"""Tests of sianode.workflows.launchpad that need no database."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from sianode.workflows.flows import META_CAMPAIGN
from sianode.workflows.launchpad import ensure_indexes, initialize_launchpad, uri_with_database


@pytest.mark.parametrize("uri, db, expected", [
    ("mongodb://h:27017", "camp", "mongodb://h:27017/camp"),
    ("mongodb://h:27017/old", "camp", "mongodb://h:27017/camp"),
    ("mongodb://al%40ice:p%40ss@h1:1,h2:2/old?authSource=admin&replicaSet=rs0", "new",
     "mongodb://al%40ice:p%40ss@h1:1,h2:2/new?authSource=admin&replicaSet=rs0"),
    ("mongodb+srv://u:pw@cluster.example/?retryWrites=true", "x", "mongodb+srv://u:pw@cluster.example/x?retryWrites=true"),
])
def test_uri_with_database_keeps_credentials_and_options(uri, db, expected):
    out = uri_with_database(uri, db)
    assert out == expected
    a, b = urlsplit(uri), urlsplit(out)
    assert (a.scheme, a.netloc, a.query) == (b.scheme, b.netloc, b.query)
    assert b.path == f"/{db}"


class _Coll:
    def __init__(self, docs=()):
        self.docs = list(docs)
        self.updates = []
        self.indexes = []

    def find_one(self, query):
        return self.docs[0] if self.docs else None

    def update_one(self, flt, update, upsert=False):
        self.updates.append((flt, update, upsert))

    def create_index(self, key):
        self.indexes.append(key)


class _LP:
    def __init__(self, counters=()):
        self.fw_id_assigner = _Coll(counters)
        self.workflows = _Coll()
        self.tuned = 0

    def tuneup(self, bkground=True):
        self.tuned += 1


def test_initialize_fresh_database_writes_counters_once():
    lp = _LP()
    assert initialize_launchpad(lp) is True
    assert lp.fw_id_assigner.updates == [
        ({"_id": -1}, {"$setOnInsert": {"next_fw_id": 1, "next_launch_id": 1}}, True)]
    assert lp.tuned == 1
    assert lp.workflows.indexes == [f"metadata.{META_CAMPAIGN}"]


def test_initialize_existing_database_touches_nothing_but_indexes():
    lp = _LP(counters=[{"next_fw_id": 42, "next_launch_id": 7}])
    assert initialize_launchpad(lp) is False
    assert lp.fw_id_assigner.updates == [] and lp.tuned == 0
    ensure_indexes(lp)
    assert lp.workflows.indexes == [f"metadata.{META_CAMPAIGN}"] * 2
