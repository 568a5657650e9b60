from __future__ import annotations

import math

import numpy as np
import pytest

from sianode.analysis import hops
from sianode.errors import InputError



def test_barrier_from_profile():
    fwd, rev = hops.barrier_from_profile([-10.0, -9.8, -9.5, -9.7, -9.9])
    assert fwd == pytest.approx(0.5) and rev == pytest.approx(0.4)
    with pytest.raises(InputError):
        hops.barrier_from_profile([1.0])


def test_barriers_from_store(store, campaign):
    rows = {(b.dopant, b.hop): b for b in hops.barriers(store)}
    assert rows[("Si", "TT1")].barrier_eV == pytest.approx(0.6)
    near = rows[("B", "TT1")]
    assert near.barrier_eV == pytest.approx(0.5) and near.reverse_barrier_eV == pytest.approx(0.4)
    assert near.energies_eV == pytest.approx([0.0, 0.2, 0.5, 0.3, 0.1])
    assert near.sources == [campaign["B_near"]["key"]] and near.selection == "near"
    failed = rows[("P", "TT1")]
    assert failed.barrier_eV is None and "not_converged" in failed.reason
    assert [b.dopant for b in hops.barriers(store, dopant="B", percent=1.5626)] == ["B", "B"]


def test_reaction_coordinate_and_profile(store, build):
    host = build.host("Si", 0.0, -300.0)
    pos = np.zeros((3, 2, 3))
    pos[1, 0] = [1.0, 0.0, 0.0]
    pos[2, 0] = [2.0, 0.0, 0.0]
    pos[2, 1] = [0.0, 0.0, 9.0]  # crosses the periodic boundary of a 10 A cell: 1 A
    cell = np.eye(3) * 10.0
    assert hops.reaction_coordinate_A(pos, cell) == pytest.approx([0.0, 1.0, 1.0 + math.sqrt(2.0)])
    doc = build.neb(host, "TT1", [0.0, 0.5, 0.1], positions=pos)
    doc["output"]["start_structure"]["cell"] = cell.tolist()
    prof = hops.neb_profile(store, doc)
    assert prof["reaction_coordinate_A"] == pytest.approx([0.0, 1.0, 1.0 + math.sqrt(2.0)])
    assert prof["energy_eV"] == pytest.approx([0.0, 0.5, 0.1]) and prof["barrier_eV"] == pytest.approx(0.5)


def test_near_hop_choice(store, campaign):
    rows = hops.barriers(store, dopant="B")
    assert hops.near_hop(rows).key == campaign["B_near"]["key"]
    assert hops.near_hop(hops.barriers(store, dopant="P")) is None  # the only hop failed
    assert hops.near_hop(hops.barriers(store, dopant="Si")).barrier_eV == pytest.approx(0.6)
