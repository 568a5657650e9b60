"""Tests of sianode/transport/network.py: HopNetwork, validation, JSON file."""

from __future__ import annotations

import json

import numpy as np
import pytest

from sianode.errors import InputError
from sianode.transport import HopNetwork, NetworkError, diamond_t_network
from sianode.transport.network import percolation_dimension

from .transport_reference import A_SI, chain_network, random_diamond_network


def _two_site(**over):
    """Two sites in a cubic cell, hops along x, y and z: percolates in 3D."""
    d = dict(
        cell_A=np.eye(3) * 3.0,
        frac=[[0, 0, 0], [0.5, 0.5, 0.5]],
        energies_eV=[0.0, 0.1],
        i=[0, 0, 0, 0],
        j=[1, 1, 1, 1],
        image=[[0, 0, 0], [-1, 0, 0], [0, -1, 0], [0, 0, -1]],
        saddle_eV=[0.5, 0.5, 0.5, 0.5],
    )
    d.update(over)
    return HopNetwork(**d)


def test_network_error_is_input_error():
    assert issubclass(NetworkError, InputError)


def test_diamond_network_geometry():
    net = diamond_t_network(2, A_SI, saddle_energy_eV=0.58)
    assert net.n_sites == 64 and net.n_hops == 128  # 8 T and 16 H sites per conventional cell
    lengths = np.linalg.norm(net.hop_vectors_A(), axis=1)
    np.testing.assert_allclose(lengths, np.sqrt(3) / 4 * A_SI)  # PHYSICS.md: 2.35 A
    assert np.all(np.bincount(np.concatenate([net.i, net.j])) == 4)  # z = 4
    mids = np.mod(net.hop_midpoints_frac() * 2 * 8, 8)  # H sites at odd eighths of a, e.g. (5/8,5/8,5/8)
    np.testing.assert_allclose(mids, np.round(mids))
    assert np.all(np.round(mids).astype(int) % 2 == 1)
    assert percolation_dimension(net.validate()) == 3


def test_json_round_trip(tmp_path):
    net = random_diamond_network(1, seed=4)
    net.site_labels = [f"T{k}" for k in range(net.n_sites)]
    net.hop_labels = [f"hop{k}" for k in range(net.n_hops)]
    path = net.write_json(tmp_path / "net.json")
    back = HopNetwork.from_json_file(path)
    for name in ("cell_A", "frac", "energies_eV", "i", "j", "image", "saddle_eV"):
        np.testing.assert_array_equal(getattr(back, name), getattr(net, name))
    assert back.attempt_frequency_Hz == net.attempt_frequency_Hz
    assert back.site_labels == net.site_labels and back.hop_labels == net.hop_labels
    assert back.to_json_dict() == json.loads(path.read_text())


def test_json_defaults_attempt_frequency():
    d = _two_site().to_json_dict()
    del d["attempt_frequency_Hz"]
    assert HopNetwork.from_json_dict(d).attempt_frequency_Hz == 1e13


@pytest.mark.parametrize(
    "edit, match",
    [
        (lambda d: d.pop("hops"), "missing key 'hops'"),
        (lambda d: d.pop("cell"), "missing key 'cell'"),
        (lambda d: d["sites"][1].pop("energy_eV"), "site 1 has no key 'energy_eV'"),
        (lambda d: d["hops"][2].pop("saddle_energy_eV"), "hop 2 has no key 'saddle_energy_eV'"),
        (lambda d: d["hops"][0].pop("image"), "hop 0 has no key 'image'"),
        (lambda d: d.__setitem__("cell", [[1, 0], [0, 1]]), r"cell must have shape \(3, 3\)"),
        (lambda d: d["hops"][1].__setitem__("image", [0.5, 0, 0]), "must be integers"),
    ],
)
def test_json_errors_name_the_key(edit, match):
    d = _two_site().to_json_dict()
    edit(d)
    with pytest.raises(NetworkError, match=match):
        HopNetwork.from_json_dict(d).validate()


def test_bad_json_file(tmp_path):
    path = tmp_path / "broken.json"
    path.write_text("{not json")
    with pytest.raises(NetworkError, match="not valid JSON"):
        HopNetwork.from_json_file(path)
    with pytest.raises(NetworkError, match="cannot be read"):
        HopNetwork.from_json_file(tmp_path / "missing.json")


def test_validation_errors():
    _two_site().validate()
    with pytest.raises(NetworkError, match="site j = 7, which does not exist"):
        _two_site(j=[1, 7, 1, 1]).validate()
    with pytest.raises(NetworkError, match="site i = -1"):
        _two_site(i=[0, -1, 0, 0]).validate()
    with pytest.raises(NetworkError, match=r"hop 3 \(0 -> 1\) has saddle energy 0.05 eV below"):
        _two_site(saddle_eV=[0.5, 0.5, 0.5, 0.05]).validate()
    with pytest.raises(NetworkError, match="does not percolate in 3D"):
        _two_site(i=[0, 0], j=[1, 1], image=[[0, 0, 0], [-1, 0, 0]], saddle_eV=[0.5, 0.5]).validate()
    with pytest.raises(NetworkError, match="not connected"):
        _two_site(i=[0, 0, 0], j=[0, 0, 0], image=[[1, 0, 0], [0, 1, 0], [0, 0, 1]], saddle_eV=[0.5] * 3).validate()
    with pytest.raises(NetworkError, match="same unordered hop"):
        _two_site(i=[0, 0, 0, 0, 1], j=[1, 1, 1, 1, 0], image=[[0, 0, 0], [-1, 0, 0], [0, -1, 0], [0, 0, -1], [1, 0, 0]],
                  saddle_eV=[0.5] * 5).validate()
    with pytest.raises(NetworkError, match="to itself with image"):
        _two_site(i=[0, 0, 0, 0, 0], j=[1, 1, 1, 1, 0], image=[[0, 0, 0], [-1, 0, 0], [0, -1, 0], [0, 0, -1], [0, 0, 0]],
                  saddle_eV=[0.5] * 5).validate()
    with pytest.raises(NetworkError, match="non-finite"):
        _two_site(energies_eV=[0.0, np.nan]).validate()
    with pytest.raises(NetworkError, match="attempt_frequency_Hz"):
        _two_site(attempt_frequency_Hz=-1.0).validate()
    with pytest.raises(NetworkError, match="zero volume"):
        _two_site(cell_A=np.zeros((3, 3))).validate()
    with pytest.raises(NetworkError, match="shape"):
        _two_site(energies_eV=[0.0]).validate()


def test_chain_percolates_in_one_dimension():
    chain = chain_network([0.0] * 4, [0.3] * 4)
    assert percolation_dimension(chain) == 1
    chain.validate(check_percolation=False)
    with pytest.raises(NetworkError, match="1 independent lattice direction"):
        chain.validate()


def test_validation_sees_changes_after_a_pass():
    net = _two_site().validate()
    net.saddle_eV[2] = -1.0  # changed in place after validating
    with pytest.raises(NetworkError, match="hop 2"):
        net.validate()
