"""``sianode calculators list|show``."""

from __future__ import annotations

import json

import typer
from typer.testing import CliRunner

from sianode.commands.calculators import register


def _app() -> typer.Typer:
    app = typer.Typer()
    register(app)
    return app


def test_list_shows_every_calculator():
    result = CliRunner().invoke(_app(), ["calculators", "list", "--json"])
    assert result.exit_code == 0, result.output
    rows = {r["name"]: r for r in json.loads(result.output)}
    assert rows["sevennet"]["weights"] == "yes" and len(rows["sevennet"]["sha256"]) == 12
    assert rows["chgnet"]["weights"] == "yes"
    assert rows["sw"]["weights"] == "-"
    for row in rows.values():  # every calculator: elements, licence, version, weights checksum, installed
        assert {"elements", "licence", "version", "weights_sha256", "installed"} <= set(row)
    assert rows["meam-lisi"]["elements"] == ["Li", "Si"] and rows["meam-lisi"]["installed"]
    assert rows["sevennet"]["weights_sha256"].startswith(rows["sevennet"]["sha256"])
    assert rows["gpaw"]["weights_sha256"] is None
    text = CliRunner().invoke(_app(), ["calculators", "list"]).output
    assert "sevennet" in text and "lj-test" in text and "meam-lisi" in text and "CDDL-1.0" in text


def test_show_prints_provenance():
    result = CliRunner().invoke(_app(), ["calculators", "show", "tersoff"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    assert doc["provenance"]["calculator"] == "tersoff"
    assert doc["identity"]["weights_sha256"] == doc["provenance"]["weights_sha256"]


def test_show_unknown_name_through_main(capsys):
    import pytest

    from sianode.cli import main

    with pytest.raises(SystemExit) as exit_info:
        main(["calculators", "show", "nope"])
    assert exit_info.value.code == 2
    assert "unknown calculator 'nope'" in capsys.readouterr().err
