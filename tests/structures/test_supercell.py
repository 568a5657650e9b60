from __future__ import annotations

import json

import numpy as np
import pytest

from sianode.errors import InputError
from sianode.structures import (
    DopedCell,
    achievable_percents,
    check_structure,
    doped_supercell,
    pure_supercell,
)


@pytest.mark.parametrize("n,sites", [(1, 8), (2, 64), (3, 216), (4, 512), ((2, 1, 1), 16)])
def test_pure_supercell_sizes(n, sites):
    atoms = pure_supercell(n)
    assert len(atoms) == sites
    assert set(atoms.get_chemical_symbols()) == {"Si"}


def test_ge_6_25_percent_is_exact():
    cell = doped_supercell("Ge", percent=6.25)
    assert isinstance(cell, DopedCell)
    assert (cell.n_sites, cell.n_dopants) == (64, 4)
    assert cell.actual_percent == pytest.approx(6.25)
    assert cell.deviation == pytest.approx(0.0)
    assert cell.atoms.get_chemical_symbols().count("Ge") == 4
    assert all(cell.atoms[i].symbol == "Ge" for i in cell.dopant_indices)


def _nearest(p):
    """Independent brute force: closest count/N over n = 1..4, smaller cell at a tie."""
    best = None
    for n in (1, 2, 3, 4):
        sites = 8 * n**3
        for c in range(1, sites // 2):
            key = (abs(100 * c / sites - p), sites)
            if best is None or key < best[0]:
                best = (key, sites, c)
    return best[1], best[2]


@pytest.mark.parametrize("p", [1.0, 3.125, 1.5625, 0.5, 12.5, 20.0])
def test_percent_picks_nearest_cell(p):
    sites, count = _nearest(p)
    cell = doped_supercell("B", percent=p)
    assert (cell.n_sites, cell.n_dopants) == (sites, count)
    assert cell.actual_percent == pytest.approx(100 * count / sites)
    assert cell.deviation == pytest.approx(100 * count / sites - p)
    assert cell.requested_percent == p


def test_one_percent_reports_actual():
    cell = doped_supercell("P", percent=1)
    assert cell.actual_percent != 1
    assert abs(cell.actual_percent - 1) <= max(0.25, 0.1)
    assert cell.as_dict()["actual_percent"] == cell.actual_percent


def test_mixed_dopants_and_explicit_indices():
    cell = doped_supercell({"B": 1, "Ge": 2}, supercell=2)
    syms = cell.atoms.get_chemical_symbols()
    assert (syms.count("B"), syms.count("Ge"), cell.n_dopants) == (1, 2, 3)
    cell = doped_supercell("S", count=2, arrangement=[5, 40])
    assert cell.dopant_indices == (5, 40)
    assert cell.atoms[5].symbol == cell.atoms[40].symbol == "S"
    json.dumps(cell.as_dict())


def test_default_arrangement_is_dispersed_compact_on_request():
    # PHYSICS.md section 7: the compact cluster is never the default
    cell = doped_supercell("B", count=2, supercell=2)
    i, j = cell.dopant_indices
    # independent: the largest minimum-image distance between two sites of the 64-site cell
    # is half its body diagonal, sqrt(3)/2 x 2a, and a Si site sits there (a lattice vector away)
    assert cell.atoms.get_distance(i, j, mic=True) == pytest.approx(np.sqrt(3) / 2 * 2 * 5.431)
    compact = doped_supercell("B", count=2, supercell=2, arrangement="compact")
    i, j = compact.dopant_indices
    assert compact.atoms.get_distance(i, j, mic=True) == pytest.approx(np.sqrt(3) / 4 * 5.431)
    assert doped_supercell("B", count=2, supercell=2, arrangement=0).dopant_indices == compact.dopant_indices
    with pytest.raises(InputError, match="'tight' does not exist"):
        doped_supercell("B", count=2, supercell=2, arrangement="tight")


def test_no_import_cycle_between_arrangements_and_supercell():
    import ast
    import importlib.util

    def imports(module):
        tree = ast.parse(open(importlib.util.find_spec(module).origin).read())
        return {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}

    assert "sianode.structures.supercell" not in imports("sianode.structures.arrangements")
    assert "sianode.structures.supercell" not in imports("sianode.structures.strategies")
    assert "sianode.structures.arrangements" in imports("sianode.structures.supercell")


def test_user_host_and_pymatgen_round_trip():
    from pymatgen.io.ase import AseAtomsAdaptor

    host = AseAtomsAdaptor.get_structure(pure_supercell(1))
    cell = doped_supercell("B", count=1, host=host)
    assert type(cell.atoms).__name__ == "Structure"
    assert cell.n_sites == 8


@pytest.mark.parametrize(
    "kwargs,needle",
    [
        (dict(dopant="Xx", percent=1), "Xx"),
        (dict(dopant="Si", percent=1), "Si"),
        (dict(dopant="Ar", percent=1), "Ar"),
        (dict(dopant="B", percent=0), "percent=0"),
        (dict(dopant="B", percent=-3), "percent=-3"),
        (dict(dopant="B", percent=50), "percent=50"),
        (dict(dopant="B", percent=0.05), "0.1953"),
        (dict(dopant="B", percent=3.0, supercell=1), "12.5"),
        (dict(dopant="B", percent=3.0, supercell=0), "supercell=0"),
        (dict(dopant="B", count=1, supercell=-2), "supercell=-2"),
        (dict(dopant="B", count=0), "count=0"),
    ],
)
def test_bad_input(kwargs, needle):
    with pytest.raises(InputError) as err:
        doped_supercell(**kwargs)
    msg = str(err.value)
    assert needle in msg and "\n" not in msg


def test_dopant_on_non_si_site():
    host = pure_supercell(1)
    host[3].symbol = "Ge"
    with pytest.raises(InputError, match="index 3"):
        doped_supercell("B", count=1, host=host, arrangement=[3])


def test_check_structure_overlap():
    atoms = pure_supercell(1)
    check_structure(atoms)
    atoms.positions[1] = atoms.positions[0] + [0.2, 0.1, 0.0]
    with pytest.raises(InputError, match="0.224"):
        check_structure(atoms)
    with pytest.raises(InputError):
        doped_supercell("B", count=1, host=atoms)


def test_achievable_percents():
    got = {(8 * n**3, c): p for n, c, p in achievable_percents()}
    assert got[(64, 1)] == pytest.approx(1.5625)
    assert got[(64, 4)] == pytest.approx(6.25)
    assert got[(216, 1)] == pytest.approx(100 / 216)
    assert all(0 < p < 50 for p in got.values())
