"""``sianode plan``: a dry run that counts, looks up and prices a campaign, and writes nothing."""

from __future__ import annotations

import json
import time

import pytest
import yaml
from tests.cli import run_cli as _cli

#: a demo-like campaign of our own: four dopants at 1/64 and 2/64, pure Si, every T site and hop
CAMPAIGN = {
    "name": "plan-demo",
    "dopants": ["B", "P", "S", "Ge"],
    "percents": [1.5625, 3.125],
    "max_supercell": 2,
    "calculator": {"name": "lj-test"},
}

HOST_KEYS = {"dopant", "percent", "supercell", "n_sites", "arrangement", "n_t_sites", "n_hops"}


def _snapshot(client):
    """Every database, collection and document count on the server."""
    return {db: {c: client[db][c].count_documents({}) for c in client[db].list_collection_names()}
            for db in client.list_database_names()}


def test_plan_json_contract_and_no_write(db_uri, tmp_path, capsys):
    import pymongo

    path = tmp_path / "campaign.yaml"
    path.write_text(yaml.safe_dump(CAMPAIGN))
    client = pymongo.MongoClient(db_uri)
    client.get_default_database()["unrelated"].insert_one({"x": 1})  # a database that exists
    before = _snapshot(client)
    t0 = time.perf_counter()
    code, out, err = _cli(["--db", db_uri, "plan", str(path), "--json"], capsys)
    wall = time.perf_counter() - t0
    assert code == 0, err
    assert _snapshot(client) == before  # nothing written: no database, collection, index document or doc
    assert wall < 60
    data = json.loads(out)
    assert set(data) == {"hosts", "calculations", "in_store", "estimated_core_hours"}
    hosts = data["hosts"]
    assert all(set(h) == HOST_KEYS for h in hosts)
    assert all(set(h["arrangement"]) == {"id", "multiplicity", "weight", "dopant_indices"} for h in hosts)
    # 1 pure 64-site host + 4 dopants x 2 concentrations
    assert len(hosts) == 9 and [h["dopant"] for h in hosts].count("Si") == 1
    for h in hosts:
        assert h["n_sites"] == 64 and h["supercell"] == [2, 2, 2]
        n = len(h["arrangement"]["dopant_indices"])
        assert h["percent"] == pytest.approx(100 * n / 64)
    two = [h for h in hosts if len(h["arrangement"]["dopant_indices"]) == 2]
    # dispersed: the pair half a body diagonal apart (32 such pairs)
    assert len(two) == 4 and all(h["arrangement"]["multiplicity"] == 32 for h in two)
    calc = data["calculations"]
    assert calc["reference"] == 1 and calc["lattice"] == 1 and calc["host"] == len(hosts)
    assert calc["insertion"] == sum(h["n_t_sites"] for h in hosts)
    assert calc["neb"] == sum(h["n_hops"] for h in hosts)
    assert data["in_store"] == 0  # an empty store has none of them
    assert data["estimated_core_hours"] is None  # no timings of lj-test in it
    client.close()


def test_plan_text_and_no_server_started(sianode_home, tmp_path, capsys):
    from sianode.store.server import EmbeddedServer

    path = tmp_path / "campaign.yaml"
    path.write_text(yaml.safe_dump({**CAMPAIGN, "dopants": ["Ge"], "percents": [3.125],
                                    "arrangements": {"ensemble": {"max": 2, "temperature_K": "inf"}}}))
    code, out, err = _cli(["plan", str(path)], capsys)
    assert code == 0, err
    assert EmbeddedServer(home=sianode_home).read_state() is None  # not started by a dry run
    assert "in store: not checked" in out and "calculations: reference 1, lattice 1, host 10" in out
    # 9 classes of 2 Ge in 64 sites, every one relaxed; the 2 heaviest carry the Li work
    lines = [line.split() for line in out.splitlines() if line.strip().startswith("Ge")]
    assert len(lines) == 9 and sum(line[-1] != "-" for line in lines) == 2
    assert all("multiplicity" in line for line in lines)


def test_plan_bad_class_id_one_line(tmp_path, capsys):
    path = tmp_path / "campaign.yaml"
    path.write_text(yaml.safe_dump({**CAMPAIGN, "percents": [3.125], "arrangements": {"classes": [12]}}))
    code, out, err = _cli(["plan", str(path), "--no-store"], capsys)
    assert code == 2
    assert err.count("\n") == 1 and "class id 12 does not exist" in err and "class ids 0-8" in err


@pytest.mark.slow
def test_plan_counts_what_the_store_has(db_uri, store, tmp_path, capsys, wf):
    from sianode.workflows.run import run_campaign

    small = {"dopants": ["B"], "counts": [1], "max_supercell": 1, "include_pure": False, "sites": {"nearest": 1}}
    spec = wf.spec(name="done", **small)
    assert run_campaign(spec, db=db_uri, workers=1, launch_dir=tmp_path / "launch").complete
    path = wf.write_spec(tmp_path / "done.yaml", name="done", **small)
    code, out, err = _cli(["--db", db_uri, "plan", str(path), "--json"], capsys)
    assert code == 0, err
    data = json.loads(out)
    assert data["in_store"] == sum(data["calculations"].values())
    assert data["estimated_core_hours"] == 0.0
    # a bigger campaign over the same store: the shared calculations are found, the rest priced
    path = wf.write_spec(tmp_path / "more.yaml", name="more", **{**small, "counts": [1, 2]})
    code, out, err = _cli(["--db", db_uri, "plan", str(path), "--json"], capsys)
    more = json.loads(out)
    assert more["in_store"] == data["in_store"] < sum(more["calculations"].values())
    assert more["estimated_core_hours"] > 0
