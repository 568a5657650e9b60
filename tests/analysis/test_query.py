from __future__ import annotations

import json

import pandas as pd
import pytest

from sianode.analysis import query, results
from sianode.errors import InputError
from tests.cli import run_cli


def test_results_columns_and_derived_values(store, campaign):
    df = results(store)
    assert tuple(df.columns) == query.COLUMNS
    assert len(df) == 13  # every calculation document
    ins = results(store, kind="insertion")
    assert set(ins["role"]) == {"insertion"}
    b1 = ins[(ins.dopant == "B") & (ins.site == "T1")].iloc[0]
    assert b1.e_ins_eV == pytest.approx(-0.30)
    assert b1.multiplicity == 4 and b1.distance_to_dopant_A == 2.0 and b1.calculator == "fake"
    assert b1.sources.split(query.SOURCES_SEP) == [campaign["B_T1"]["key"], campaign["B"]["key"], campaign["ref"]["key"]]
    failed = ins[(ins.dopant == "P") & (ins.site == "T2")].iloc[0]
    assert pd.isna(failed.e_ins_eV) and failed.status == "failed" and "atoms too close" in failed.reason
    bar = results(store, kind="barrier", dopant="B")
    assert sorted(bar.barrier_eV) == pytest.approx([0.5, 0.6])


def test_aliases_left_by_a_rekey_are_not_rows(store, campaign):
    from sianode.analysis.query import results

    n = len(results(store))
    old = campaign["B_T1"]
    store.coll.insert_one({"_id": "0" * 64, "key": "0" * 64, "kind": "alias", "status": "superseded",
                           "superseded_by": old["key"], "alias_of": {"kind": "relax", "role": "insertion"},
                           "schema_version": 2})
    df = results(store)
    assert len(df) == n and "0" * 64 not in set(df["key"]) and "alias" not in set(df["kind"])


def test_filters(store, campaign):
    assert set(results(store, percent=1.5625 + 5e-4).dopant) == {"B", "P"}
    assert results(store, percent=1.6).empty
    assert set(results(store, dopant="pure").dopant) == {"Si"}
    assert set(results(store, kind="host").role) == {"host"}
    assert set(results(store, kind="reference").kind) == {"reference"}
    assert set(results(store, status="failed").key) == {campaign["P_T2"]["key"], campaign["P_near"]["key"]}
    assert len(results(store, campaign="c1")) == 12  # the reference carries no campaign
    assert len(results(store, calculator="fake")) == 13


@pytest.mark.parametrize("fmt", ["json", "csv"])
def test_round_trip(store, campaign, tmp_path, fmt):
    df = results(store)
    text = query.format_results(df, fmt)
    path = tmp_path / f"r.{fmt}"
    path.write_text(text)
    back = query.read_results(path)
    pd.testing.assert_frame_equal(back, df)
    if fmt == "json":  # plain JSON readers see the same values
        plain = json.loads(text)
        assert plain[0].keys() == set(query.COLUMNS)
        assert [r["e_ins_eV"] for r in plain] == [None if pd.isna(v) else v for v in df.e_ins_eV]


def test_table_is_readable(store, campaign):
    text = query.format_results(results(store, kind="insertion"), "table")
    assert "E_ins (eV)" in text and "-0.300" in text and "atoms too close" in text
    assert campaign["B_T1"]["key"][:12] in text and campaign["B_T1"]["key"] not in text


def test_cli_query_formats(db_uri, store, campaign, capsys, tmp_path):
    code, out, _ = run_cli(["--db", db_uri, "query", "--kind", "barrier", "--format", "json"], capsys)
    assert code == 0
    rows = json.loads(out)
    values = sorted(r["barrier_eV"] for r in rows if r["barrier_eV"] is not None)
    assert values == pytest.approx([0.5, 0.6, 0.6]) and len(rows) == 4
    target = tmp_path / "ins.csv"
    code, _, _ = run_cli(["--db", db_uri, "query", "--kind", "insertion", "--dopant", "B",
                          "--format", "csv", "-o", str(target)], capsys)
    assert code == 0
    pd.testing.assert_frame_equal(query.read_results(target), results(store, kind="insertion", dopant="B"))
    code, out, _ = run_cli(["--db", db_uri, "query", "--percent", "1.5625"], capsys)
    assert code == 0 and "result(s)" in out


def test_empty_database(db_uri, store, capsys):
    code, _, err = run_cli(["--db", db_uri, "query"], capsys)
    assert code == 2
    assert err.count("\n") == 1
    assert "no results in the database at mongodb://" in err and "run `sianode run campaign.yaml` first" in err
    with pytest.raises(InputError, match="no results in the database"):
        results(store)


def test_unknown_dopant_names_those_present(db_uri, campaign, capsys):
    code, _, err = run_cli(["--db", db_uri, "query", "--dopant", "Xe"], capsys)
    assert code == 2 and err.count("\n") == 1
    assert "dopant 'Xe'" in err and "B, P, Si" in err


def test_missing_reference_names_calculator(db_uri, store, build, make_calc, capsys):
    host = build.host("B", 1.5625, -299.0, calculator=make_calc("chgnet"))
    build.insertion(host, "T1", -301.0)
    code, _, err = run_cli(["--db", db_uri, "query", "--kind", "insertion"], capsys)
    assert code == 2 and err.count("\n") == 1
    assert "no bcc-Li reference" in err and "chgnet" in err
    df = results(store)  # without --kind insertion the row says why instead
    assert "no bcc-Li reference for calculator 'chgnet'" in df[df.role == "insertion"].iloc[0].reason


def test_bad_choices(store, campaign):
    with pytest.raises(InputError, match="kind 'foo' is not allowed"):
        results(store, kind="foo")
    with pytest.raises(InputError, match="status"):
        results(store, status="done")
    with pytest.raises(InputError, match="calculators in the database: fake"):
        results(store, calculator="sevennet")
