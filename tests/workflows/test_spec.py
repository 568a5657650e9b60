"""Campaign specs: the example validates; every bad spec is one line, exit 2, nothing added."""

from __future__ import annotations

import pytest
import yaml


def _cli(argv):
    from sianode.cli import main

    try:
        main(argv)
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0


def test_example_spec_validates():
    from sianode.workflows.spec import EXAMPLE_SPEC, campaign_from_dict

    data = yaml.safe_load(EXAMPLE_SPEC)
    assert data["calculator"]["name"] == "sevennet-mf0"
    data["calculator"]["name"] = "lj-test"  # never load the ML model in tests
    spec = campaign_from_dict(data)
    assert spec.dopants == ["B", "P", "S", "Ge"] and spec.percents == [1.5, 3.1, 6.25]
    assert spec.hop_selections and spec.nearest_sites is None  # the hops default belongs to the hop planning
    assert spec.arrangement_strategy.kind == "dispersed" and spec.max_arrangements is None
    assert spec.threads == 1
    assert len(spec.spec_hash()) == 64


def test_spec_hash_ignores_threads(wf):
    assert wf.spec(threads=1).spec_hash() == wf.spec(threads=4).spec_hash()
    assert wf.spec().spec_hash() != wf.spec(relax={"fmax": 0.2, "steps": 200}).spec_hash()


BAD = [
    ("dopant", {"dopants": ["B", "Xx"]}, ["dopants[1]", "'Xx'", "allowed: B, P, S, Ge"]),
    ("calculator", {"calculator": {"name": "nope"}}, ["calculator.name", "'nope'", "allowed:", "lj-test"]),
    ("percent", {"counts": None, "percents": [1.5, 60.0]}, ["percents[1]", "60", "0 < p < 50"]),
    ("percent-unreachable", {"counts": None, "percents": [0.2]}, ["percents[0]", "0.2", "nearest achievable"]),
    ("unknown key", {"colour": "red"}, ["colour", "unknown key", "allowed keys:", "dopants"]),
    ("wrong type", {"relax": {"fmax": "abc"}}, ["relax.fmax", "'abc'", "allowed:"]),
    ("arrangement strategy", {"arrangements": "clustered"},
     ["arrangements = 'clustered'", "does not exist", "allowed: dispersed, compact"]),
    ("ensemble max < 1", {"arrangements": {"ensemble": {"max": 0, "temperature_K": "inf"}}},
     ["ensemble.max = 0", "integer >= 1"]),
    ("negative temperature", {"arrangements": {"ensemble": {"max": 2, "temperature_K": -300}}},
     ["ensemble.temperature_K = -300", ">= 0 (K) or inf"]),
    ("class id", {"counts": [2], "arrangements": {"classes": [0, 7]}},
     ["arrangements.classes = [0, 7]", "class id 7 does not exist", "2 dopants in 8 sites", "class ids 0-1"]),
    ("old and new key", {"arrangements": "compact", "max_arrangements": 2},
     ["max_arrangements = 2", "not both", "{compact: 2}"]),
]


@pytest.mark.parametrize("label, change, needles", BAD, ids=[b[0] for b in BAD])
def test_bad_spec_one_line_exit_2_nothing_added(label, change, needles, db_uri, tmp_path, wf, capsys):
    import pymongo

    client = pymongo.MongoClient(db_uri)
    workflows = client.get_default_database()["workflows"]
    before = workflows.count_documents({})
    path = tmp_path / "campaign.yaml"
    data = {**wf.tiny, **change}
    path.write_text(yaml.safe_dump({k: v for k, v in data.items() if v is not None}))
    assert _cli(["--db", db_uri, "run", str(path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    for needle in needles:
        assert needle in err[0], err[0]
    assert err[0].startswith("sianode: error: campaign.yaml: ")
    assert workflows.count_documents({}) == before
    client.close()


def test_malformed_yaml(db_uri, tmp_path, capsys):
    path = tmp_path / "campaign.yaml"
    path.write_text("name: x\ndopants: [B, P\n")
    assert _cli(["--db", db_uri, "run", str(path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "malformed YAML at line" in err[0] and "allowed:" in err[0]


def test_init_writes_example(tmp_path, capsys):
    path = tmp_path / "c.yaml"
    assert _cli(["init", str(path)]) == 0
    from sianode.workflows.spec import load_campaign

    path.write_text(path.read_text().replace("name: sevennet-mf0", "name: lj-test"))
    assert load_campaign(path).name == "demo"
    assert _cli(["init", str(path)]) == 2  # no silent overwrite


def test_arrangements_default_and_old_max_arrangements(wf):
    import hashlib
    import json

    from sianode.workflows.spec import campaign_from_dict

    plain = {k: v for k, v in wf.tiny.items() if k != "arrangements"}
    spec = campaign_from_dict(plain)
    assert spec.arrangement_strategy.kind == "dispersed" and spec.as_dict()["arrangements"] == "dispersed"
    assert "max_arrangements" not in spec.as_dict()
    # a campaign written before `arrangements` existed still loads, and means what it meant
    old = campaign_from_dict({**plain, "max_arrangements": 2})
    assert (old.arrangement_strategy.kind, old.arrangement_strategy.count) == ("compact", 2)
    data = old.as_dict()
    assert data["max_arrangements"] == 2 and "arrangements" not in data
    assert campaign_from_dict(data).spec_hash() == old.spec_hash()
    # hashed exactly as before the key existed (threads, fireworks and host_cell false left out)
    data.pop("threads")
    data.pop("fireworks")
    data["relax"].pop("host_cell")
    expected = hashlib.sha256(json.dumps(data, sort_keys=True, separators=(",", ":")).encode()).hexdigest()
    assert old.spec_hash() == expected
    ens = wf.spec(arrangements={"ensemble": {"max": 3, "temperature_K": float("inf")}})
    assert ens.as_dict()["arrangements"] == {"ensemble": {"max": 3, "temperature_K": "inf"}}
    assert campaign_from_dict(ens.as_dict()).arrangement_strategy == ens.arrangement_strategy
