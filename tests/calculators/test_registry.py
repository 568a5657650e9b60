"""Registry, parameters, provenance and element checks."""

from __future__ import annotations

import hashlib
import json

import pytest
from ase.build import bulk

from sianode.calculators import DEFAULT_CALCULATOR, available_calculators, get_calculator
from sianode.errors import InputError


def test_available_names_default_first():
    names = available_calculators()
    assert names[0] == DEFAULT_CALCULATOR == "sevennet-mf0"
    assert {"sevennet", "sevennet-l3i5", "chgnet", "gpaw", "tersoff", "sw", "lj-test"} <= set(names)


def test_unknown_name_lists_allowed():
    with pytest.raises(InputError, match="'nope'.*allowed: sevennet-mf0"):
        get_calculator("nope")


def test_unknown_parameter_is_input_error():
    with pytest.raises(InputError, match="colour.*tersoff"):
        get_calculator("tersoff", colour="red")
    with pytest.raises(InputError, match="variant"):
        get_calculator("tersoff", variant="Si(Z)")
    with pytest.raises(InputError, match="threads"):
        get_calculator("sw", threads=0)


def test_sevennet_model_not_in_wheel_is_input_error():
    with pytest.raises(InputError, match="not inside the installed sevenn wheel"):
        get_calculator("sevennet", model="7net-omat")


@pytest.mark.parametrize("name", ["sevennet", "sevennet-l3i5", "chgnet", "tersoff"])
def test_provenance_sha256_matches_file(name):
    spec = get_calculator(name, threads=2)
    prov = spec.provenance()
    for key in ("calculator", "package", "package_version", "model", "weights_sha256", "parameters", "device",
                "threads"):
        assert key in prov
    assert prov["calculator"] == name and prov["device"] == "cpu" and prov["threads"] == 2
    assert prov["package_version"]
    digest = hashlib.sha256(spec.weights_path.read_bytes()).hexdigest()
    assert prov["weights_sha256"] == digest
    json.dumps(prov)
    ident = spec.identity()
    assert set(ident) == {"name", "model", "weights_sha256", "parameters"}
    assert ident["weights_sha256"] == digest
    assert get_calculator(name, threads=1).identity() == ident


def test_identity_depends_on_parameters():
    assert get_calculator("tersoff").identity() != get_calculator("tersoff", variant="Si(B)").identity()
    assert get_calculator("sevennet").identity() != get_calculator("sevennet-l3i5").identity()


def test_spec_round_trip():
    spec = get_calculator("lj-test", epsilon_eV=0.3)
    again = type(spec).from_dict(json.loads(json.dumps(spec.as_dict())))
    assert again.identity() == spec.identity()


def test_threads_from_environment(monkeypatch):
    monkeypatch.setenv("OMP_NUM_THREADS", "3")
    assert get_calculator("sw").threads == 3


def test_tersoff_refuses_li_naming_it():
    atoms = bulk("Si", "diamond", a=5.43, cubic=True)
    atoms[0].symbol = "Li"
    with pytest.raises(InputError, match=r"'tersoff'.*element Li"):
        get_calculator("tersoff").check_elements(atoms)
    with pytest.raises(InputError, match=r"'sw'.*element Li"):
        get_calculator("sw").check_elements(atoms)


def test_lj_test_supports_every_sianode_element():
    spec = get_calculator("lj-test")
    assert {"Si", "B", "P", "S", "Ge", "Li"} <= spec.supported_elements
    assert spec.provenance()["not_physics"] is True


def test_gpaw_missing_says_make_dft():
    pytest.importorskip("ase")
    try:
        import gpaw  # noqa: F401
    except ImportError:
        with pytest.raises(InputError, match="make dft"):
            get_calculator("gpaw").make()
    else:  # pragma: no cover - only where `make dft` was run
        pytest.skip("gpaw is installed")


def test_gpaw_siteconfig_is_valid_python():
    from pathlib import Path

    import sianode.calculators as pkg

    path = Path(pkg.__file__).parent / "gpaw_siteconfig.py"
    namespace: dict = {}
    exec(compile(path.read_text(), str(path), "exec"), namespace)
    assert namespace["mpi"] is False
    assert {"xc", "openblas"} <= set(namespace["libraries"])
