"""Tests of sianode/continuum/parameters.py."""

from __future__ import annotations

import math

import pytest

from sianode.continuum.parameters import (
    ContinuumParameters,
    Parameter,
    parameters_for,
    pell_diffusivity,
)
from sianode.errors import InputError


def test_pell_diffusivity():
    """Pell, Phys. Rev. 119 (1960) 1222: D = 2.3e-3 cm^2/s exp(-0.66 eV/kT); 1.9e-18 m^2/s at 300 K."""
    # CODATA 2018 k_B here; sianode uses ase.units.kB (ASE's CODATA set, 3.4e-7 lower): 1e-5 relative in D
    assert pell_diffusivity(300.0) == pytest.approx(2.3e-7 * math.exp(-0.66 / (8.617333262e-5 * 300.0)), rel=1e-4)
    assert pell_diffusivity(300.0) == pytest.approx(1.9e-18, rel=0.02)


def test_defaults_pure_si_with_sources():
    p = parameters_for(None, None)
    assert p.youngs_csi_pa.value == 185e9 and "Wortman" in p.youngs_csi_pa.source
    assert p.yield_csi_pa.value == 7e9 and "Kovacs" in p.yield_csi_pa.source
    assert p.youngs_lisi_pa.value == 35e9 and "Hertzberg" in p.youngs_lisi_pa.source
    assert p.yield_lisi_pa.value == 1e9 and "Sethuraman" in p.yield_lisi_pa.source
    assert math.isclose(p.omega_m3_mol.value, 9.0e-6, rel_tol=0.01)
    assert math.isclose(p.c_max_mol_m3.value * p.omega_m3_mol.value, 2.8)
    assert "Pell" in p.diffusivity_m2_s.source
    for name, param in p.parameters().items():
        assert param.source, name
    assert parameters_for("Si", None) == p == parameters_for("pure", None)


def test_atomistic_and_overrides():
    atom = {"diffusivity_ratio": {"value": 0.37, "source": "D_eff/D_eff,pure", "sources": ["k1", "k2"],
                                  "temperature_K": 300.0},
            "omega_m3_mol": {"value": 8e-6, "source": "doc:def"}}
    p = parameters_for("b", 3.125, atomistic=atom)
    assert p.dopant == "B" and p.percent == 3.125
    assert p.diffusivity_m2_s.value / pell_diffusivity(300.0) == pytest.approx(0.37, rel=1e-12)
    assert p.diffusivity_m2_s.sources == ("k1", "k2") and "Pell" in p.diffusivity_m2_s.source
    assert p.omega_m3_mol == Parameter(8e-6, "m^3/mol", "doc:def")
    assert ContinuumParameters.from_dict(p.as_dict()) == p
    q = parameters_for("P", 1.5625, overrides={"diffusivity": 1e-16, "youngs_lisi_pa": 40e9})
    assert q.diffusivity_m2_s.value == 1e-16 and q.diffusivity_m2_s.source == "user override"
    assert q.youngs_pa == 40e9
    assert ContinuumParameters.from_dict(q.as_dict()) == q


def test_ratio_model_uses_the_ratio_at_the_model_temperature():
    """D_X(T) = D_Pell(T) x D_eff/D_eff,pure(T); a ratio computed at another T is refused."""
    atom = {"diffusivity_ratio": {"value": 2.5, "source": "net", "temperature_K": 350.0}}
    p = parameters_for("Ge", 6.25, atomistic=atom, overrides={"temperature_k": 350.0})
    assert p.diffusivity_m2_s.value == pytest.approx(2.5 * pell_diffusivity(350.0), rel=1e-12)
    with pytest.raises(InputError, match="computed at 350 K but the continuum runs at 300 K"):
        parameters_for("Ge", 6.25, atomistic=atom)


def test_absolute_model_takes_the_network_d_eff():
    atom = {"diffusivity_ratio": {"value": 0.5, "source": "ratio"},
            "D_eff_m2_s": {"value": 3e-16, "source": "exact D_eff", "sources": ["k"], "temperature_K": 300.0}}
    p = parameters_for("S", 1.5625, atomistic=atom, diffusivity_model="absolute")
    assert p.diffusivity_m2_s.value == 3e-16 and p.diffusivity_m2_s.sources == ("k",)
    with pytest.raises(InputError, match="diffusivity model 'shift' is not allowed; allowed: ratio, absolute"):
        parameters_for("S", 1.5625, atomistic=atom, diffusivity_model="shift")


def test_dopant_without_data(sianode_home):
    from sianode.analysis.persist import parameters_from_store

    with pytest.raises(InputError, match="no atomistic data for dopant Ge and no default"):
        parameters_for("Ge", 6.25)
    with pytest.raises(InputError, match="no atomistic data for dopant S"):
        parameters_from_store(None, "S", 1.5625, {})


def test_incomplete_network_is_one_line_and_no_number():
    atom = {"missing": ["H3: no NEB"],
            "reason": "the hop network of S 1.5625 % (x) is incomplete (1 missing: H3: no NEB)"}
    needle = r"^no diffusivity for S 1.5625 %: the hop network .*H3: no NEB.*--diffusivity$"
    with pytest.raises(InputError, match=needle):
        parameters_for("S", 1.5625, atomistic=atom)
    assert parameters_for("S", 1.5625, atomistic=atom, overrides={"diffusivity": 1e-17}).diffusivity_m2_s.value == 1e-17


@pytest.mark.parametrize(
    ("overrides", "needle"),
    [
        ({"diffusivity": 0.0}, "diffusivity_m2_s = 0.0"),
        ({"diffusivity": -1e-15}, "diffusivity_m2_s = -1e-15"),
        ({"poisson": 0.6}, "poisson_lisi = 0.6"),
        ({"bogus": 1.0}, "'bogus'"),
    ],
)
def test_bad_overrides(overrides, needle):
    with pytest.raises(InputError, match=needle):
        parameters_for(None, None, overrides=overrides)


def test_bad_dopant():
    with pytest.raises(InputError, match="'Xx'"):
        parameters_for("Xx", 1.0)


def test_table_renders():
    from rich.console import Console

    console = Console(record=True, width=200)
    console.print(parameters_for(None, None).table())
    text = console.export_text()
    assert "youngs_csi_pa" in text and "Hertzberg" in text


def test_pure_si_is_pell_whatever_the_network_says():
    """Pure Si's ratio to itself is 1: its D is Pell's measured value at the model temperature."""
    atom = {"diffusivity_ratio": {"value": 1.0, "source": "net", "temperature_K": 300.0}}
    pure = parameters_for(None, None, atomistic=atom)
    assert pure.diffusivity_m2_s.value == pytest.approx(pell_diffusivity(300.0), rel=1e-12)
    hot = parameters_for("Si", None, overrides={"temperature_k": 400.0})
    assert hot.diffusivity_m2_s.value == pytest.approx(pell_diffusivity(400.0), rel=1e-12)


def test_continuum_imports_no_database_layer():
    """Layer 4: numbers in, stresses out (no sianode.analysis / sianode.store import)."""
    import subprocess
    import sys

    code = ("import sys, sianode.continuum.parameters, sianode.continuum.fracture, sianode.continuum.plots; "
            "print([m for m in sys.modules "
            "if m.startswith(('sianode.analysis', 'sianode.store', 'sianode.workflows'))])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "[]"
