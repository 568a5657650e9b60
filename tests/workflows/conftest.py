"""Fixtures of the workflow tests: a tiny campaign on the cheap ``lj-test`` calculator
(NOT physics), written as YAML, and a call log counting every calculator run."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

#: 1x1x1 cells (8 Si), B and Ge at 1 and 2 dopants, nearest T site, far hop paths: 15 Fireworks
TINY = {
    "name": "tiny",
    "dopants": ["B", "Ge"],
    "counts": [1, 2],
    "max_supercell": 1,
    "include_pure": False,
    "sites": {"nearest": 1},
    "hops": "far",
    # the compact class (the behaviour these tests were tuned on): in 8-site cells lj-test gives the
    # dispersed 2-dopant class NEBs whose maximum is at an end point (lj-test is not physics)
    "arrangements": "compact",
    "calculator": {"name": "lj-test"},
    # fixed-cell hosts: in 8-atom cells lj-test distorts a cell-relaxed 2-B host so much that a
    # far hop has its maximum at an end point (test_stages.py covers host_cell: true)
    "relax": {"fmax": 0.1, "steps": 200, "host_cell": False},
    "neb": {"n_images": 3, "fmax": 0.2, "steps": 200},
    "reference": {"fmax": 0.05},
}


def write_spec(path: Path, **changes) -> Path:
    data = {**TINY, **changes}
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


@pytest.fixture
def call_log(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """``$SIANODE_CALL_LOG``: every calculator run (in any worker process) appends a line."""
    path = tmp_path / "calls.log"
    path.write_text("")
    monkeypatch.setenv("SIANODE_CALL_LOG", str(path))
    return path


def calls(path: Path) -> list[str]:
    """Content keys of the calculator runs logged so far."""
    return [line.split()[1] for line in path.read_text().splitlines() if line.strip()]


@pytest.fixture
def wf():
    """The helpers of this conftest (importlib import mode: test modules cannot import it)."""

    class Helpers:
        tiny = TINY
        write_spec = staticmethod(write_spec)
        calls = staticmethod(calls)

        @staticmethod
        def spec(**changes):
            from sianode.workflows.spec import campaign_from_dict

            return campaign_from_dict({**TINY, **changes})

    return Helpers
