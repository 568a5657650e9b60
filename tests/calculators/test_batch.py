"""Images evaluated together: same numbers as one at a time, honest counts, same NEB barrier."""

from __future__ import annotations

import numpy as np
import pytest
from ase.build import bulk

from sianode.calculators import get_calculator
from sianode.calculators.guards import GuardedCalculator, evaluate_together
from sianode.calculators.neb import BandEvaluation, run_neb
from sianode.errors import CalculationFailed


def _li_in_si8(shift: float):
    atoms = bulk("Si", "diamond", a=5.43, cubic=True)
    atoms.append("Li")
    atoms.positions[-1] = np.array([0.5, 0.5, 0.5]) * 5.43 + shift
    return atoms


def test_evaluate_together_counts_and_caches(analytic):
    from ase import Atoms

    inner = analytic.CurvedDoubleWell()
    images = [Atoms("H", positions=[[x, 0.1, 0.0]], cell=[20, 20, 20]) for x in (-1.0, 0.0, 1.0)]
    wrappers = [GuardedCalculator(inner) for _ in images]
    seen = []

    def batch(atoms_list):
        seen.append(len(atoms_list))
        out = []
        for atoms in atoms_list:
            inner.calculate(atoms, ["energy", "forces"])
            out.append(dict(inner.results))
        return out

    assert evaluate_together(list(zip(images, wrappers)), batch) == 3
    assert seen == [3] and [w.n_calls for w in wrappers] == [1, 1, 1]
    for atoms, wrapper in zip(images, wrappers):
        atoms.calc = wrapper
        reference = analytic.CurvedDoubleWell()
        reference.calculate(atoms, ["energy", "forces"])
        assert atoms.get_potential_energy() == pytest.approx(reference.results["energy"])
        assert np.allclose(atoms.get_forces(), reference.results["forces"])
    assert [w.n_calls for w in wrappers] == [1, 1, 1]  # served from the cache
    assert evaluate_together(list(zip(images, wrappers)), batch) == 0  # nothing pending
    images[1].positions[0, 0] += 0.1
    assert evaluate_together(list(zip(images, wrappers)), batch) == 0  # one pending: left to its own call
    nan = [{"energy": float("nan"), "forces": np.zeros((1, 3))}] * 3
    for atoms in images:
        atoms.positions[0, 1] += 0.1
    with pytest.raises(CalculationFailed, match="non-finite energy"):
        evaluate_together(list(zip(images, wrappers)), lambda atoms_list: nan)


@pytest.mark.parametrize("mode", ["batch", "parallel"])
def test_sevennet_together_equals_one_at_a_time(mode):
    from sianode.calculators.batch import batch_evaluator

    calc = get_calculator("sevennet", threads=1, device="cpu").make()
    images = [_li_in_si8(s) for s in (0.0, 0.2, 0.4)]
    for n, atoms in enumerate(images):
        atoms.rattle(0.02, seed=n)
    together = batch_evaluator(calc, threads=2, mode=mode)(images)
    for atoms, result in zip(images, together):
        calc.calculate(atoms, ["energy", "forces", "stress"])
        assert result["energy"] == pytest.approx(calc.results["energy"], abs=2e-4)  # float32 sums
        assert np.allclose(result["forces"], calc.results["forces"], atol=1e-5)
        assert np.allclose(result["stress"], calc.results["stress"], atol=1e-6)
    assert batch_evaluator(calc, threads=1) is None  # CPU, one thread: one at a time is fastest


def test_no_batched_path_for_other_calculators():
    from sianode.calculators.batch import batch_evaluator

    assert batch_evaluator(get_calculator("lj-test").make(), threads=4) is None


def test_neb_together_is_the_same_band(analytic, monkeypatch):
    """With a batched path the band is the same, number for number; calls are counted the same."""
    import sianode.calculators.batch as batch_module
    from ase import Atoms

    calls = []

    def fake_evaluator(inner, threads=1, mode="auto"):
        def batch(images):
            calls.append(len(images))
            out = []
            for atoms in images:
                inner.calculate(atoms, ["energy", "forces"])
                out.append(dict(inner.results))
            return out
        return batch

    start = Atoms("H", positions=[[-1.5, 0.0, 0.0]], cell=[20, 20, 20], pbc=False)
    end = Atoms("H", positions=[[1.5, 0.0, 0.0]], cell=[20, 20, 20], pbc=False)
    kw = dict(n_images=5, fmax=0.01, steps=1000, interpolation="linear")
    alone = run_neb(start, end, analytic.CurvedDoubleWell(), evaluation=BandEvaluation(batch=False), **kw)
    monkeypatch.setattr(batch_module, "batch_evaluator", fake_evaluator)
    together = run_neb(start, end, analytic.CurvedDoubleWell(), **kw)
    assert together.settings["batched"] and together.settings["batched_calls"] == len(calls) >= 1
    assert calls[0] == 7  # the first evaluation: every image, end points included, in one call
    assert together.energies_eV == alone.energies_eV
    assert together.n_force_calls == alone.n_force_calls and together.steps == alone.steps


@pytest.mark.physics
@pytest.mark.parametrize("mode", ["batch", "parallel"])
def test_sevennet_neb_together_same_barrier(mode):
    spec = get_calculator("sevennet", threads=2, device="cpu")
    start, end = _li_in_si8(0.0), _li_in_si8(0.0)
    end.positions[-1] = np.array([0.75, 0.75, 0.75]) * 5.43
    kw = dict(n_images=3, fmax=0.1, steps=300)
    alone = run_neb(start, end, spec, evaluation=BandEvaluation(batch=False), **kw)
    together = run_neb(start, end, spec, evaluation=BandEvaluation(mode=mode), **kw)
    assert alone.status == together.status == "ok"
    assert together.settings["batched"] and together.settings["batched_calls"] >= 1
    assert together.barrier_eV == pytest.approx(alone.barrier_eV, abs=1e-3)


def test_new_band_same_barrier_as_previous_on_meam_hop():
    """LBFGS with frozen images decided per step vs sianode 0.1 (FIRE, ASE DyNEB): within 0.005 eV."""
    spec = get_calculator("meam-lisi")
    from sianode.calculators import relax

    host = bulk("Si", "diamond", a=5.4223, cubic=True) * (2, 2, 2)
    ends = []
    for frac in (0.5, 0.75):
        atoms = host.copy()
        atoms.append("Li")
        atoms.positions[-1] = np.array([frac] * 3) * 5.4223
        ends.append(relax(atoms, spec, fmax=0.01, optimizer="LBFGS").structure)
    new = run_neb(*ends, spec)
    old = run_neb(*ends, spec, evaluation=BandEvaluation.previous(), optimizer="FIRE")
    assert new.status == old.status == "ok"
    assert abs(new.barrier_eV - old.barrier_eV) < 0.005
    assert new.n_force_calls < 0.7 * old.n_force_calls
    assert new.settings["optimizer"] == "LBFGS" and old.settings["optimizer"] == "FIRE"
