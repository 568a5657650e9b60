"""CI-NEB on analytic potentials: known barrier, DyNEB path, honest statuses and call counts."""

from __future__ import annotations

import json

import pytest
from ase import Atoms

from sianode.calculators import neb
from sianode.errors import InputError


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
    assert doc["settings"]["dynamic"] is True and doc["settings"]["scale_fmax_1_A"] > 0


def _counting(analytic):
    """CurvedDoubleWell that counts its own evaluations (behind any wrapper)."""

    class Counting(analytic.CurvedDoubleWell):
        n_evaluations = 0

        def calculate(self, *args, **kwargs):
            Counting.n_evaluations += 1
            super().calculate(*args, **kwargs)

    return Counting


@pytest.mark.parametrize("dynamic, scale_fmax", [(False, 0.0), (True, 0.0), (True, 1.0), (True, 3.0)])
def test_dynamic_band_same_saddle_and_honest_counts(analytic, dynamic, scale_fmax):
    """DyNEB (frozen converged images, scaled criteria) finds the same saddle; every evaluation counted."""
    calc_cls = _counting(analytic)
    calc = calc_cls(E0=0.7, a=1.5, c=0.4, k=4.0)
    start, end = _ends()
    result = neb(start, end, calc, n_images=5, fmax=0.01, steps=1000, interpolation="linear",
                 dynamic=dynamic, scale_fmax=scale_fmax)
    assert result.status == "ok" and result.converged
    assert result.barrier_eV == pytest.approx(0.7, abs=2e-3)
    x, y, _ = result.saddle_structure.positions[0]
    assert x == pytest.approx(0.0, abs=0.02) and y == pytest.approx(-0.4 * 1.5**2, abs=0.02)
    # nothing evaluates the model behind the counting wrappers
    assert result.n_force_calls == calc_cls.n_evaluations
    # the climbing image itself is converged to fmax on the full (unfrozen) NEB forces
    assert result.fmax_saddle_eV_A <= 0.01
    assert result.settings["dynamic"] is dynamic and result.settings["scale_fmax_1_A"] == scale_fmax
    if scale_fmax == 0.0:
        assert result.fmax_eV_A <= 0.01


def test_dynamic_band_is_not_more_expensive(analytic):
    # with FIRE (sianode 0.1's optimizer) on the analytic well; with L-BFGS the gain shows on real
    # hops (benchmarks/neb.py), not on this 1-atom potential
    start, end = _ends()
    kw = dict(n_images=5, fmax=0.01, steps=1000, interpolation="linear", optimizer="FIRE")
    plain = neb(start, end, analytic.CurvedDoubleWell(), dynamic=False, **kw)
    assert plain.settings["scale_fmax_1_A"] == 0.0
    dynamic = neb(start, end, analytic.CurvedDoubleWell(), **kw)
    assert dynamic.n_force_calls < plain.n_force_calls
    assert dynamic.barrier_eV == pytest.approx(plain.barrier_eV, abs=2e-3)


def test_scale_fmax_needs_dynamic(analytic):
    start, end = _ends()
    with pytest.raises(InputError, match="scale_fmax"):
        neb(start, end, analytic.CurvedDoubleWell(), dynamic=False, scale_fmax=1.0)
    with pytest.raises(InputError, match="scale_fmax"):
        neb(start, end, analytic.CurvedDoubleWell(), scale_fmax=-1.0)


def test_too_few_steps_is_not_converged_without_barrier(analytic):
    start, end = _ends()
    result = neb(start, end, analytic.CurvedDoubleWell(), n_images=5, steps=2, interpolation="linear")
    assert result.status == "not_converged" and not result.converged
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
