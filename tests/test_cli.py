"""Usage errors of the command line: click's own one-line message, exit 2, no traceback."""

from __future__ import annotations

import subprocess
import sys

import pytest
from tests.cli import run_cli as _cli


@pytest.mark.parametrize(("argv", "needles"), [
    (["quer"], ["No such command 'quer'", "Did you mean 'query'?", "sianode --help"]),
    (["db", "stp"], ["No such command 'stp'", "Did you mean 'stop'?"]),
    (["status", "--bogus"], ["No such option", "--bogus", "sianode status --help"]),
    (["run", "--workers", "two", "campaign.yaml"], ["Invalid value for '--workers'", "integer"]),
    (["run"], ["Missing argument", "campaign"]),
])
def test_usage_error_is_one_line_exit_2(argv, needles, capsys):
    code, out, err = _cli(argv, capsys)
    lines = err.strip().splitlines()
    assert code == 2
    assert len(lines) == 1, err
    assert lines[0].startswith("sianode: error: ")
    for needle in needles:
        assert needle in lines[0]
    assert "Traceback" not in err and not out


def test_mistyped_command_through_the_console_script():
    proc = subprocess.run([sys.executable, "-m", "sianode.cli", "quer"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        "sianode: error: No such command 'quer'. Did you mean 'query'? (try 'sianode --help')"]
    assert "Traceback" not in proc.stderr
