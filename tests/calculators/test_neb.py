"""CI-NEB on an analytic potential with a known barrier; honest statuses."""

from __future__ import annotations

import json

import pytest
from ase import Atoms

from sianode.calculators import neb



def _ends(a=1.5):
    start = Atoms("H", positions=[[-a, 0.0, 0.0]], cell=[20, 20, 20], pbc=False)
    end = Atoms("H", positions=[[a, 0.0, 0.0]], cell=[20, 20, 20], pbc=False)
    return start, end


def test_climbing_image_finds_analytic_barrier(analytic):
    calc = analytic.CurvedDoubleWell(E0=0.7, a=1.5, c=0.4, k=4.0)
    start, end = _ends()
    result = neb(start, end, calc, n_images=5, fmax=0.01, steps=1000, interpolation="linear")
    assert result.status == "ok", result.status
    assert result.barrier_eV == pytest.approx(0.7, abs=2e-3)
    x, y, _ = result.saddle_structure.positions[0]
    assert x == pytest.approx(0.0, abs=0.02) and y == pytest.approx(-0.4 * 1.5**2, abs=0.02)
    assert result.n_force_calls >= result.steps
    assert result.arrays["positions_A"].shape == (7, 1, 3)
    doc = json.loads(json.dumps(result.as_dict()))
    assert doc["status"] == "ok" and len(doc["energies_eV"]) == 7


def test_too_few_steps_is_not_converged_without_barrier(analytic):
    start, end = _ends()
    result = neb(start, end, analytic.CurvedDoubleWell(), n_images=5, steps=2, interpolation="linear")
    assert result.status == "not_converged"
    assert result.barrier_eV is None
    assert result.as_dict()["barrier_eV"] is None


def test_maximum_at_endpoint_reported_as_such(analytic):
    start, end = _ends()
    result = neb(start, end, analytic.Downhill(), n_images=3, fmax=0.05, steps=300, interpolation="linear")
    assert result.status == "maximum_at_endpoint"
    assert result.barrier_eV is None


def test_periodic_hop_with_idpp_and_test_calculator():
    """Li hopping T -> H -> T in a 8-atom Si cell with the cheap pair potential: runs, counts calls."""
    from ase.build import bulk

    host = bulk("Si", "diamond", a=5.43, cubic=True)
    start, end = host.copy(), host.copy()
    start.append("Li")
    end.append("Li")
    start.positions[-1] = [0.5 * 5.43] * 3
    end.positions[-1] = [0.75 * 5.43] * 3
    result = neb(start, end, "lj-test", n_images=3, fmax=0.1, steps=200)
    assert result.status in ("ok", "maximum_at_endpoint", "not_converged")
    assert result.n_force_calls > 0
    assert result.calculator["calculator"] == "lj-test"
