"""Tests of sianode/commands/continuum.py (the ``sianode continuum`` commands)."""

from __future__ import annotations

import json
from types import SimpleNamespace

import numpy as np
import pytest
import typer
from typer.testing import CliRunner

from sianode.commands.continuum import register
from sianode.continuum.units import parse_length_m
from sianode.errors import InputError


@pytest.fixture
def app() -> typer.Typer:
    """A root app with only the continuum commands (isolated from other layers)."""
    root = typer.Typer()

    @root.callback()
    def _main(ctx: typer.Context) -> None:
        ctx.obj = SimpleNamespace(db=None, quiet=True, verbose=0)

    register(root)
    return root


def invoke(app, args):
    return CliRunner().invoke(app, args, catch_exceptions=True)


def test_parse_length():
    assert parse_length_m("75nm") == pytest.approx(75e-9)
    assert parse_length_m("1um") == pytest.approx(1e-6)
    assert parse_length_m("7.5e-8") == pytest.approx(7.5e-8)
    with pytest.raises(InputError, match="'-5nm'"):
        parse_length_m("-5nm")
    with pytest.raises(InputError, match="'75 furlongs'"):
        parse_length_m("75 furlongs")


def test_stress_json_keys(app, tmp_path):
    plot = tmp_path / "profiles.png"
    res = invoke(app, ["continuum", "stress", "--radius", "75nm", "--c-rate", "1", "--nodes", "21",
                       "--outputs", "3", "--json", "--plot", str(plot)])
    assert res.exit_code == 0, res.output
    d = json.loads(res.stdout)
    for key in ("radius_m", "r_m", "times_s", "c_mol_m3", "sigma_r_pa", "sigma_t_pa", "boundary", "parameters"):
        assert key in d
    assert np.array(d["sigma_t_pa"]).shape == (3, 21)
    assert d["parameters"]["diffusivity_m2_s"]["source"].startswith("Pell")
    assert plot.stat().st_size > 0


def test_stress_overrides_and_flux(app, tmp_path):
    res = invoke(app, ["continuum", "stress", "--radius", "1um", "--flux", "1e-3", "--diffusivity", "1e-14",
                       "--omega", "8e-6", "--youngs", "40e9", "--poisson", "0.25", "--time", "10",
                       "--nodes", "11", "--json"])
    assert res.exit_code == 0, res.output
    d = json.loads(res.stdout)
    assert d["boundary"] == {"type": "galvanostatic", "flux_mol_m2_s": 1e-3, "time_s": 10.0}
    assert d["parameters"]["youngs_lisi_pa"] == {"value": 40e9, "unit": "Pa", "source": "user override"}
    pdf = tmp_path / "p.pdf"
    res = invoke(app, ["continuum", "stress", "--potentiostatic", "--time", "5", "--nodes", "11", "--plot", str(pdf)])
    assert res.exit_code == 0, res.output
    assert pdf.read_bytes()[:4] == b"%PDF"


def test_critical_size_json(app):
    res = invoke(app, ["continuum", "critical-size", "--json"])
    assert res.exit_code == 0, res.output
    d = json.loads(res.stdout)
    for key in ("critical_radius_m", "critical_diameter_m", "criterion", "citation", "criterion_parameters"):
        assert key in d
    assert 75e-9 <= d["critical_diameter_m"] <= 300e-9
    assert all({"value", "unit", "source"} <= set(v) for v in d["criterion_parameters"].values())
    res = invoke(app, ["continuum", "critical-size", "--dopant", "B", "--percent", "3.125", "--diffusivity", "1e-16", "--json"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["dopant"] == "B"


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["continuum", "stress", "--radius", "0nm"], "'0nm'"),
        (["continuum", "stress", "--radius", "-7.5e-8"], "'-7.5e-8'"),
        (["continuum", "stress", "--diffusivity", "0"], "diffusivity_m2_s = 0.0"),
        (["continuum", "stress", "--c-rate", "0"], "C-rate = 0"),
        (["continuum", "stress", "--c-rate", "-1"], "C-rate = -1"),
        (["continuum", "stress", "--nodes", "2"], "nodes = 2"),
        (["continuum", "critical-size", "--dopant", "Ge", "--percent", "6.25"], "no atomistic data for dopant Ge"),
    ],
)
def test_bad_inputs_raise_input_error(app, args, needle):
    res = invoke(app, args)
    assert isinstance(res.exception, InputError), res.output
    assert needle in str(res.exception)


def test_through_sianode_main(capsys):
    """The real entry point: JSON on stdout; bad input is one line on stderr, exit 2."""
    cli = pytest.importorskip("sianode.cli")
    with pytest.raises(SystemExit) as exc:
        cli.main(["continuum", "stress", "--radius", "-5nm"])
    assert exc.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "-5nm" in err[0]
    cli.main(["continuum", "parameters", "--json"])
    d = json.loads(capsys.readouterr().out)
    assert d["youngs_csi_pa"]["value"] == 185e9
