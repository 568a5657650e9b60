from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from sianode.cli import app, main

runner = CliRunner()


def run_json(*args):
    result = runner.invoke(app, ["structures", *args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_arrangements_count():
    data = run_json("arrangements", "--dopant", "B", "--count", "2", "--supercell", "2")
    assert {"n_sites", "n_dopants", "actual_percent", "exact", "classes"} <= set(data)
    assert (data["n_sites"], data["n_dopants"], data["exact"]) == (64, 2, True)
    assert data["actual_percent"] == pytest.approx(3.125)
    assert len(data["classes"]) == 9
    assert sum(c["multiplicity"] for c in data["classes"]) == 2016
    assert set(data["classes"][0]) == {"id", "multiplicity", "dopant_indices"}


def test_arrangements_percent():
    data = run_json("arrangements", "--dopant", "B", "--percent", "3.125")
    assert (data["n_sites"], data["n_dopants"], len(data["classes"])) == (64, 2, 9)


def test_sites_doped_and_pure():
    data = run_json("sites", "--dopant", "B", "--supercell", "2")
    assert len(data["T"]) == 9 and len(data["H"]) == 10
    assert set(data["T"][0]) == {"label", "multiplicity", "frac", "distance_to_dopant"}
    pure = run_json("sites", "--supercell", "2")
    assert [(c["label"], c["multiplicity"], c["distance_to_dopant"]) for c in pure["T"]] == [("T1", 64, None)]
    assert pure["H"][0]["multiplicity"] == 128


def test_hops():
    data = run_json("hops", "--dopant", "B", "--supercell", "2")
    assert sum(h["multiplicity"] for h in data["hops"]) == 128  # unordered paths: one per H site
    assert {"label", "h_label", "multiplicity", "start", "saddle", "end", "distance_to_dopant"} <= set(data["hops"][0])
    assert len(run_json("hops", "--dopant", "B", "--supercell", "2", "--select", "within:4")["hops"]) == 3


def test_tables_without_json():
    result = runner.invoke(app, ["structures", "arrangements", "--dopant", "B", "--count", "2", "--supercell", "1"])
    assert result.exit_code == 0 and "multiplicity" in result.stdout


def test_write(tmp_path):
    out = tmp_path / "cells"
    data = run_json("write", "--dopant", "B", "--percent", "3.125", "-o", str(out), "--select", "near")
    names = {p.name for p in out.iterdir()}
    assert {"host.extxyz", "host.cif", "li_T1.extxyz", "li_H1.cif", "hop1_start.extxyz", "hop1_end.cif"} <= names
    assert len(data["files"]) == len(names)
    from ase.io import read

    start, end = read(out / "hop1_start.extxyz"), read(out / "hop1_end.extxyz")
    assert start[-1].symbol == end[-1].symbol == "Li" and len(start) == 65


@pytest.mark.parametrize(
    "args,needle",
    [
        (["sites", "--dopant", "Xx"], "Xx"),
        (["arrangements", "--dopant", "B", "--percent", "0"], "percent=0"),
        (["arrangements", "--dopant", "B", "--percent", "55"], "percent=55"),
        (["arrangements", "--dopant", "B", "--percent", "3", "--supercell", "1"], "12.5"),
        (["hops", "--dopant", "B", "--supercell", "-1"], "supercell=-1"),
    ],
)
def test_bad_input_exits_2_with_one_line(args, needle, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["structures", *args])
    assert exc.value.code == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and needle in err


def test_mixed_dopants_and_arrangement_id():
    data = run_json("arrangements", "--dopant", "B:1,Ge:2")
    assert (data["n_sites"], data["n_dopants"]) == (64, 3)
    sites = run_json("sites", "--dopant", "B", "--count", "2", "--arrangement", "8")
    assert sum(c["multiplicity"] for c in sites["T"]) == 64
