"""Tests of sianode/commands/transport.py (``sianode transport network``)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
import typer
from typer.testing import CliRunner

from sianode.commands.transport import register
from sianode.transport import diamond_tst_diffusivity

from .transport_reference import A_SI

SIANODE = Path(sys.executable).with_name("sianode")


@pytest.fixture
def app() -> typer.Typer:
    root = typer.Typer()

    @root.callback()
    def _main(ctx: typer.Context) -> None:
        ctx.obj = SimpleNamespace(db=None, quiet=True, verbose=0)

    register(root)
    return root


def test_network_json(app, pure_json):
    res = CliRunner().invoke(app, ["transport", "network", str(pure_json), "--temperature", "350", "--json",
                                   "--arrhenius", "250:400"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    expected = diamond_tst_diffusivity(A_SI, 0.58, 350.0)
    assert out["D_m2_s"] == pytest.approx(expected, rel=1e-10)
    assert out["D_tensor_m2_s"][1][1] == pytest.approx(expected, rel=1e-10)
    assert out["temperature_K"] == 350.0
    assert out["Ea_eff_eV"] == pytest.approx(0.58, abs=1e-9)
    assert out["D0_m2_s"] == pytest.approx(diamond_tst_diffusivity(A_SI, 0.0, 300.0), rel=1e-9)


def test_network_text(app, pure_json):
    res = CliRunner().invoke(app, ["transport", "network", str(pure_json)])
    assert res.exit_code == 0, res.output
    assert "D_m2_s" in res.stdout and "Ea_eff_eV" not in res.stdout


def _bad_files(tmp_path: Path, pure_json: Path) -> dict[str, tuple[Path, str]]:
    good = json.loads(pure_json.read_text())
    files = {}

    def write(name, text, expect):
        p = tmp_path / name
        p.write_text(text)
        files[name] = (p, expect)

    write("notjson.json", "{cell: oops", "not valid JSON")
    d = dict(good)
    d.pop("sites")
    write("nosites.json", json.dumps(d), "missing key 'sites'")
    d = json.loads(json.dumps(good))
    d["hops"][3]["j"] = 99
    write("badsite.json", json.dumps(d), "site j = 99, which does not exist")
    d = json.loads(json.dumps(good))
    d["hops"] = [h for h in d["hops"] if h["image"][2] == 0 and h["image"][1] == 0]
    write("slab.json", json.dumps(d), "does not percolate in 3D")
    return files


def test_bad_files_are_one_line_and_exit_2(tmp_path, pure_json, capsys):
    """Through sianode.cli.main: one line on stderr, exit status 2."""
    from sianode.cli import main

    for name, (path, expect) in _bad_files(tmp_path, pure_json).items():
        with pytest.raises(SystemExit) as exc:
            main(["transport", "network", str(path)])
        err = capsys.readouterr().err
        assert exc.value.code == 2, (name, err)
        lines = err.strip().splitlines()
        assert len(lines) == 1 and expect in lines[0], (name, err)


def test_console_script_bad_range_exit_2(pure_json):
    """The installed ``sianode`` script: a bad --arrhenius range is one line and exit 2."""
    proc = subprocess.run([str(SIANODE), "transport", "network", str(pure_json), "--arrhenius", "400-250"],
                          capture_output=True, text=True)
    assert proc.returncode == 2 and len(proc.stderr.strip().splitlines()) == 1 and "400-250" in proc.stderr
