from __future__ import annotations

import numpy as np
import pytest

from sianode.errors import InputError
from sianode.structures import doped_supercell, hop_endpoints, insert_li, li_hops, li_sites, select_hops

from .structures_reference import A


def test_pure_hops(si64):
    hops = li_hops(si64)
    assert len(hops) == 1
    (hop,) = hops
    assert hop.multiplicity == 64 * 4  # every T has 4 neighbouring T sites
    cell = si64.cell[:]
    assert np.linalg.norm((hop.end - hop.start) @ cell) == pytest.approx(np.sqrt(3) / 4 * A, abs=1e-6)
    assert np.linalg.norm((hop.end - hop.start) @ cell) == pytest.approx(2.35, abs=0.01)
    assert np.allclose(hop.saddle, (hop.start + hop.end) / 2)
    assert (hop.start_site_label, hop.end_site_label, hop.distance_to_dopant) == ("T1", "T1", None)


@pytest.fixture
def doped():
    return doped_supercell("B", count=1, supercell=2)


def test_doped_hops(doped):
    hops = li_hops(doped.atoms, doped.dopant_indices)
    assert sum(h.multiplicity for h in hops) == 256
    sites = li_sites(doped.atoms, doped.dopant_indices)
    t_labels = {c.label for c in sites.T}
    h = {c.label: c for c in sites.H}
    dist = [h.distance_to_dopant for h in hops]
    assert dist == sorted(dist)
    for hop in hops:
        assert {hop.start_site_label, hop.end_site_label} <= t_labels
        assert hop.distance_to_dopant == pytest.approx(h[hop.saddle_site_label].distance_to_dopant)
        # the saddle is a member of its H class (modulo lattice vectors)
        d = h[hop.saddle_site_label].members - hop.saddle
        d -= np.round(d)
        assert np.any(np.all(np.abs(d) < 1e-6, axis=1))
    # hops out of each T class: 4 per site
    out = {}
    for hop in hops:
        out[hop.start_site_label] = out.get(hop.start_site_label, 0) + hop.multiplicity
    assert out == {c.label: 4 * c.multiplicity for c in sites.T}


def test_select(doped):
    hops = li_hops(doped)
    near, far = select_hops(hops, "near"), select_hops(hops, "far")
    assert near and far and select_hops(hops, "all") == hops
    assert all(x.distance_to_dopant == min(h.distance_to_dopant for h in hops) for x in near)
    assert all(x.distance_to_dopant == max(h.distance_to_dopant for h in hops) for x in far)
    with pytest.raises(InputError, match="middle"):
        select_hops(hops, "middle")


def test_endpoints_on_relaxed_host(doped):
    hop = select_hops(li_hops(doped), "near")[0]
    host = doped.atoms.copy()
    host.set_cell(host.cell[:] * 1.02, scale_atoms=True)  # a "relaxed" host
    start, end = hop_endpoints(host, hop)
    assert len(start) == len(end) == len(host) + 1
    assert start[-1].symbol == end[-1].symbol == "Li"
    assert start.get_chemical_symbols() == end.get_chemical_symbols()
    assert np.allclose(start.positions[:-1], end.positions[:-1])
    li_s, li_e = start.positions[-1], end.positions[-1]
    assert np.linalg.norm(li_e - li_s) == pytest.approx(1.02 * np.sqrt(3) / 4 * A, abs=1e-6)
    assert np.allclose((li_s + li_e) / 2, hop.saddle @ host.cell[:])
    assert np.allclose(start.get_scaled_positions(wrap=False)[-1], hop.start)


def test_insert_li_pymatgen(doped):
    from pymatgen.io.ase import AseAtomsAdaptor

    s = insert_li(AseAtomsAdaptor.get_structure(doped.atoms), [0.25, 0.25, 0.25])
    assert type(s).__name__ == "Structure"
    assert str(s[-1].specie) == "Li"
