"""Physics checks with the default calculator (``pytest -m physics``; not in the default run).

References: Si a = 5.431 A (experiment); Li T -> H -> T barrier 0.58 eV (DFT, Wan et al.,
J. Phys.: Condens. Matter 22 (2010) 415501) and 0.66 eV (experiment, Pell, Phys. Rev. 119
(1960) 1222); E_ins(B-doped) < E_ins(pure) < E_ins(P-doped) (Long et al., J. Phys. Chem. C
115 (2011) 18916). T sites are built here directly: Si at fcc + (0,0,0) and fcc + (1/4,1/4,1/4)
of the conventional cell, T at (1/2,1/2,1/2), H at (5/8,5/8,5/8), next T at (3/4,3/4,3/4).
"""

from __future__ import annotations

import numpy as np
import pytest
from ase.build import bulk
from ase.constraints import FixAtoms

from sianode.calculators import DEFAULT_CALCULATOR, bcc_li_reference, get_calculator, neb, relax

pytestmark = pytest.mark.physics

T_SITE = (0.5, 0.5, 0.5)
H_SITE = (0.625, 0.625, 0.625)
T_NEXT = (0.75, 0.75, 0.75)


@pytest.fixture(scope="module")
def spec():
    return get_calculator(DEFAULT_CALCULATOR, threads=1)


@pytest.fixture(scope="module")
def a_si(spec) -> float:
    result = relax(bulk("Si", "diamond", a=5.43, cubic=True), spec, fmax=0.005, cell=True, optimizer="BFGS")
    assert result.converged
    return float(result.structure.get_volume() ** (1 / 3))


def _host(a: float, dopant: str | None = None):
    host = bulk("Si", "diamond", a=a, cubic=True) * (2, 2, 2)
    if dopant:
        t = np.asarray(T_SITE) * a
        index = int(np.argmin(np.linalg.norm(host.positions - t, axis=1)))  # Si nearest the T site
        host[index].symbol = dopant
    return host


def _with_li(host, frac, fix_li=False):
    atoms = host.copy()
    atoms.append("Li")
    atoms.positions[-1] = np.asarray(frac) * np.asarray(host.cell).diagonal() / 2
    if fix_li:
        atoms.set_constraint(FixAtoms(indices=[len(atoms) - 1]))
    return atoms


def test_lattice_constant_within_1_percent(a_si):
    print(f"\na(Si) = {a_si:.4f} A")
    assert a_si == pytest.approx(5.431, rel=0.01)


def test_h_site_above_t_site(spec, a_si):
    host = _host(a_si)
    e_t = relax(_with_li(host, T_SITE), spec, fmax=0.02, optimizer="BFGS").energy_eV
    e_h = relax(_with_li(host, H_SITE, fix_li=True), spec, fmax=0.02, optimizer="BFGS").energy_eV
    print(f"\nE(H) - E(T) = {e_h - e_t:.3f} eV")
    assert e_h - e_t > 0


def test_t_h_t_barrier(spec, a_si):
    host = _host(a_si)
    start = relax(_with_li(host, T_SITE), spec, fmax=0.01, optimizer="BFGS")
    end = relax(_with_li(host, T_NEXT), spec, fmax=0.01, optimizer="BFGS")
    result = neb(start.structure, end.structure, spec, n_images=5, fmax=0.05, steps=400)
    print(f"\nT->H->T barrier = {result.barrier_eV} eV ({result.status}, {result.n_force_calls} calls, "
          f"{result.wall_s:.0f} s)")
    assert result.status == "ok"
    assert 0.40 <= result.barrier_eV <= 0.80


def test_insertion_energy_ordering(spec, a_si):
    mu = bcc_li_reference(spec).mu_Li_eV
    e_ins = {}
    for dopant in (None, "B", "P"):
        host = relax(_host(a_si, dopant), spec, fmax=0.02, optimizer="BFGS")
        with_li = relax(_with_li(host.structure, T_SITE), spec, fmax=0.02, optimizer="BFGS")
        e_ins[dopant or "pure"] = with_li.energy_eV - host.energy_eV - mu
    print(f"\nmu_Li = {mu:.4f} eV; E_ins: " + ", ".join(f"{k} {v:.3f} eV" for k, v in e_ins.items()))
    assert e_ins["B"] < e_ins["pure"] < e_ins["P"]
