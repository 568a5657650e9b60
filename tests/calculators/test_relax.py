"""Single points, relaxations, guards and the bcc-Li reference."""

from __future__ import annotations

import json

import numpy as np
import pytest
from ase.build import bulk

from sianode.calculators import bcc_li_reference, get_calculator, relax, single_point
from sianode.errors import CalculationFailed, InputError



def _parabola_a0(name: str) -> float:
    """Lattice constant of diamond Si from an independent E(a) scan and a parabola fit."""
    calc = get_calculator(name).make()
    grid = np.linspace(5.38, 5.48, 7)
    energies = []
    for a in grid:
        atoms = bulk("Si", "diamond", a=a, cubic=True)
        atoms.calc = calc
        energies.append(atoms.get_potential_energy())
    c2, c1, _ = np.polyfit(grid, energies, 2)
    return -c1 / (2 * c2)


@pytest.mark.parametrize("name", ["sw", "tersoff"])
def test_cell_relax_finds_own_lattice_constant(name, si8_rattled):
    result = relax(si8_rattled, name, fmax=0.005, cell=True, optimizer="BFGS", steps=200)
    assert result.converged
    a_relaxed = result.structure.get_volume() ** (1 / 3)
    a_scan = _parabola_a0(name)
    assert a_relaxed == pytest.approx(a_scan, abs=2e-3)
    assert a_scan == pytest.approx(5.431, abs=0.01)  # SW 1985 and Tersoff 1988 are fitted to it
    assert result.n_force_calls >= result.steps
    assert result.arrays["positions_A"].shape == (result.steps + 1, 8, 3)
    assert result.arrays["energies_eV"].shape == (result.steps + 1,)
    doc = json.loads(json.dumps(result.as_dict()))
    assert doc["converged"] is True and len(doc["stress_eV_A3"]) == 6
    assert doc["calculator"]["calculator"] == name


def test_sevennet_cell_relax(si8_rattled):
    result = relax(si8_rattled, get_calculator("sevennet", threads=1), fmax=0.02, cell=True, steps=200)
    assert result.converged
    a = result.structure.get_volume() ** (1 / 3)
    assert a == pytest.approx(5.431, rel=0.02)


def test_steps_running_out_is_not_converged(si8_rattled):
    result = relax(si8_rattled, "sw", fmax=1e-4, cell=True, steps=2)
    assert result.converged is False
    assert result.steps == 2


def test_nan_energy_is_calculation_failed(si8_rattled, analytic):
    with pytest.raises(CalculationFailed, match="non-finite energy"):
        single_point(si8_rattled, analytic.NaNCalculator())
    with pytest.raises(CalculationFailed, match="NaN"):
        relax(si8_rattled, analytic.NaNCalculator())


def test_atoms_too_close_is_calculation_failed():
    atoms = bulk("Si", "diamond", a=5.43, cubic=True)
    atoms.positions[1] = atoms.positions[0] + [0.3, 0.0, 0.0]
    with pytest.raises(CalculationFailed, match="closer than the allowed 0.5 A"):
        single_point(atoms, "sw")


def test_unsupported_element_is_input_error_before_computing():
    atoms = bulk("Si", "diamond", a=5.43, cubic=True)
    atoms.append("Li")
    atoms.positions[-1] = [2.715, 2.715, 2.715]
    with pytest.raises(InputError, match=r"'tersoff'.*Li"):
        relax(atoms, "tersoff")


def test_single_point_as_dict_is_json_safe():
    atoms = bulk("Si", "diamond", a=5.43, cubic=True)
    for symbol, index in (("B", 1), ("P", 2), ("S", 3), ("Ge", 4)):
        atoms[index].symbol = symbol
    atoms.append("Li")
    atoms.positions[-1] = [2.715, 2.715, 2.715]
    result = single_point(atoms, "lj-test")
    doc = json.loads(json.dumps(result.as_dict()))
    assert doc["n_force_calls"] == 1
    assert np.isfinite(doc["energy_eV"])
    assert doc["structure"]["symbols"][-1] == "Li"


def test_ase_calculator_accepted_directly(si8_rattled):
    from sianode.calculators.sw import StillingerWeber

    result = single_point(si8_rattled, StillingerWeber())
    assert result.calculator["calculator"] == "StillingerWeber"


def test_bcc_li_reference_with_test_calculator():
    ref = bcc_li_reference("lj-test", fmax=0.01)
    assert ref.converged
    assert ref.mu_Li_eV == pytest.approx(ref.energy_eV / 2)
    doc = json.loads(json.dumps(ref.as_dict()))
    assert doc["n_atoms"] == 2 and doc["a_A"] > 0


def test_chgnet_cell_relax_stores_a_voigt_stress(si8_rattled):
    """CHGNet leaves a 3x3 stress in its results: stored as Voigt (6,), as the document model wants
    (it failed every chgnet relaxation of a cell with 'relax output does not fit RelaxOutput')."""
    from ase.stress import full_3x3_to_voigt_6_stress

    from sianode.store.documents import RelaxOutput

    spec = get_calculator("chgnet", threads=1)
    result = relax(si8_rattled, spec, fmax=0.05, cell=True, steps=100)
    assert result.stress_eV_A3.shape == (6,)
    atoms = si8_rattled.copy()
    atoms.calc = spec.make()
    assert np.allclose(full_3x3_to_voigt_6_stress(atoms.get_stress(voigt=False)), atoms.get_stress())
    RelaxOutput.model_validate(result.as_dict())
