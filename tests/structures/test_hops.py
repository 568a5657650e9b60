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


# ------------------------------------------------------------------ unordered hop paths
D_TT = np.sqrt(3) / 4 * A  # T -> T hop length (PHYSICS.md section 2)


def _mod_match(points, p, tol=1e-6):
    """Index of the point of ``points`` equal to ``p`` modulo lattice vectors (None if none)."""
    d = np.asarray(points) - np.asarray(p)
    d -= np.round(d)
    hit = np.flatnonzero(np.all(np.abs(d) < tol, axis=1))
    return int(hit[0]) if hit.size else None


def _class_of(classes, p):
    """Label of the class whose members contain ``p`` (modulo lattice vectors)."""
    found = [c.label for c in classes if _mod_match(c.members, p) is not None]
    assert len(found) == 1, (p, found)
    return found[0]


def test_one_dopant_hop_paths_are_the_h_classes(doped):
    from sianode.structures import li_hop_paths

    paths = li_hop_paths(doped.atoms, doped.dopant_indices)
    sites = li_sites(doped.atoms, doped.dopant_indices)
    assert len(paths) == len(sites.H) == 10
    assert [p.label for p in paths] == [f"hop{i}" for i in range(1, 11)]
    assert [p.h_label for p in paths] == [c.label for c in sites.H]  # hopN goes through HN
    assert sum(p.multiplicity for p in paths) == sum(c.multiplicity for c in sites.H) == 128
    dist = [p.distance_to_dopant for p in paths]
    assert dist == sorted(dist)
    cell = doped.atoms.cell[:]
    t_index = {c.label: n for n, c in enumerate(sites.T)}
    for p, h in zip(paths, sites.H):
        assert p.multiplicity == h.multiplicity and p.distance_to_dopant == pytest.approx(h.distance_to_dopant)
        assert np.linalg.norm((p.end - p.start) @ cell) == pytest.approx(D_TT, abs=1e-6)
        assert np.allclose(p.saddle, (p.start + p.end) / 2)
        assert _mod_match(h.members, p.saddle) is not None  # the saddle is an H site of its class
        # the start is exactly the representative of its T class: the insertion a campaign relaxes
        assert np.array_equal(p.start, sites.by_label(p.start_site_label).frac)
        assert _class_of(sites.T, p.end) == p.end_site_label
        assert t_index[p.start_site_label] <= t_index[p.end_site_label]  # start: the class nearer the dopant


def test_hop_path_ends_by_brute_force_geometry(doped):
    """Every H site of a class joins the same unordered pair of T classes: found from distances."""
    from sianode.structures import li_hop_paths

    sites = li_sites(doped.atoms, doped.dopant_indices)
    cell = doped.atoms.cell[:]
    t_all = np.concatenate([c.members for c in sites.T])
    t_lab = np.concatenate([[c.label] * c.multiplicity for c in sites.T])
    expected = {}
    for h in sites.H:
        pairs = set()
        for m in h.members:
            d = t_all - m
            d -= np.round(d)
            near = np.flatnonzero(np.abs(np.linalg.norm(d @ cell, axis=1) - D_TT / 2) < 1e-6)
            assert len(near) == 2  # the midpoint of exactly two T sites
            pairs.add(frozenset(t_lab[near]))
        assert len(pairs) == 1
        expected[h.label] = pairs.pop()
    got = {p.h_label: frozenset({p.start_site_label, p.end_site_label}) for p in li_hop_paths(doped)}
    assert got == expected


@pytest.mark.parametrize("n", [1, 2])
def test_pure_si_one_hop_path(n):
    from sianode.structures import li_hop_paths, pure_supercell

    atoms = pure_supercell(n)
    (path,) = li_hop_paths(atoms)
    sites = li_sites(atoms)
    assert path.multiplicity == sites.H[0].multiplicity == 16 * n**3  # 128 in the 64-site cell
    assert (path.label, path.h_label, path.start_site_label, path.end_site_label) == ("hop1", "H1", "T1", "T1")
    assert path.distance_to_dopant is None
    assert np.linalg.norm((path.end - path.start) @ atoms.cell[:]) == pytest.approx(D_TT, abs=1e-6)
    d = path.as_dict()
    assert d["h_label"] == "H1" and d["multiplicity"] == 16 * n**3 and len(d["end"]) == 3


def test_select_hop_paths(doped):
    from sianode.structures import hop_selection_name, li_hop_paths, pure_supercell, select_hop_paths

    paths = li_hop_paths(doped)
    dist = np.array([p.distance_to_dopant for p in paths])
    assert select_hop_paths(paths, "all") == paths and select_hop_paths(paths, "none") == []
    assert [p.label for p in select_hop_paths(paths, "near")] == [p.label for p in paths if p.distance_to_dopant == dist.min()]
    assert [p.label for p in select_hop_paths(paths, "far")] == [p.label for p in paths if p.distance_to_dopant == dist.max()]
    for radius in (2.0, 3.6, 5.3, 100.0):
        want = [p.label for p, d in zip(paths, dist) if d <= radius]
        assert [p.label for p in select_hop_paths(paths, {"within": radius})] == want
        assert [p.label for p in select_hop_paths(paths, f"within:{radius}")] == want
    assert hop_selection_name({"within": 4}) == "within:4" and hop_selection_name("near") == "near"
    pure = li_hop_paths(pure_supercell(2))
    assert select_hop_paths(pure, {"within": 1.0}) == pure and select_hop_paths(pure, "none") == []
    for bad, needle in [("middle", "'middle'"), ({"within": -1}, "within = -1"), ({"within": "x"}, "within = 'x'"),
                        ({"beyond": 3}, "beyond"), ("within:abc", "within:abc"), ({"within": float("nan")}, "nan")]:
        with pytest.raises(InputError, match="allowed") as exc:
            select_hop_paths(paths, bad)
        assert needle in str(exc.value)


def test_network_topology(doped):
    from sianode.structures import network_topology

    top = network_topology(doped.atoms, doped.dopant_indices)
    sites = li_sites(doped.atoms, doped.dopant_indices)
    cell = doped.atoms.cell[:]
    n_t, n_h = len(top.t_frac), len(top.h_frac)
    assert (n_t, n_h) == (64, 128) and top.pairs.shape == (n_h, 2) and top.images.shape == (n_h, 3)
    assert np.all(np.bincount(top.pairs.ravel(), minlength=n_t) == 4)  # z = 4 hops out of every T
    vec = (top.t_frac[top.pairs[:, 1]] + top.images - top.t_frac[top.pairs[:, 0]]) @ cell
    assert np.allclose(np.linalg.norm(vec, axis=1), D_TT, atol=1e-6)
    # the H site is the midpoint of its hop; each unordered hop listed once
    mid = top.t_frac[top.pairs[:, 0]] + 0.5 * (top.t_frac[top.pairs[:, 1]] + top.images - top.t_frac[top.pairs[:, 0]])
    for h in range(n_h):
        assert _mod_match(top.h_frac[h:h + 1], mid[h]) == 0
    keys = {(min(i, j), max(i, j), tuple(np.sign(i - j or 1) * im)) for (i, j), im in zip(top.pairs.tolist(), top.images.tolist())}
    assert len(keys) == n_h
    # labels: the li_sites class containing each site; counts are the multiplicities
    assert [_class_of(sites.T, p) for p in top.t_frac] == top.t_labels
    assert [_class_of(sites.H, p) for p in top.h_frac] == top.h_labels
    assert {c.label: c.multiplicity for c in sites.T} == {lab: top.t_labels.count(lab) for lab in set(top.t_labels)}
    assert {c.label: c.multiplicity for c in sites.H} == {lab: top.h_labels.count(lab) for lab in set(top.h_labels)}


def test_symmetry_operation_maps_a_class_representative_onto_every_member(doped):
    from ase.geometry import get_distances

    from sianode.structures import symmetry_operation, transform_structure

    sites = li_sites(doped.atoms, doped.dopant_indices)
    cls = next(c for c in sites.T if c.multiplicity == 12)
    host = doped.atoms
    start = insert_li(host, cls.frac)
    for member in cls.members:
        R, t = symmetry_operation(host, doped.dopant_indices, cls.frac, member)
        assert np.allclose(R @ cls.frac + t, member, atol=1e-6)  # exactly, lattice vector included
        # R, t is a symmetry of the doped host: every atom lands on an atom of the same species
        moved = transform_structure(host, R, t)
        _, d = get_distances(moved.positions, host.positions, cell=host.cell, pbc=True)
        same = np.array(moved.get_chemical_symbols())[:, None] == np.array(host.get_chemical_symbols())[None, :]
        assert np.all(np.min(np.where(same, d, np.inf), axis=1) < 1e-6)
        # host + Li at the representative -> host + Li at the member (up to atom permutation) ...
        got = transform_structure(start, R, t)
        want = insert_li(host, member)
        _, d = get_distances(got.positions, want.positions, cell=host.cell, pbc=True)
        same = np.array(got.get_chemical_symbols())[:, None] == np.array(want.get_chemical_symbols())[None, :]
        assert np.all(np.min(np.where(same, d, np.inf), axis=1) < 1e-6)
        # ... and with the host as reference, in the host's atom order, Li last
        ordered = transform_structure(start, R, t, reference=host)
        assert ordered.get_chemical_symbols() == want.get_chemical_symbols()
        assert np.allclose(ordered.positions[:-1], host.positions, atol=1e-6)
        assert np.linalg.norm(get_distances(ordered.positions[-1], want.positions[-1], cell=host.cell, pbc=True)[1]) < 1e-6
    with pytest.raises(InputError, match="not in the same class"):
        symmetry_operation(host, doped.dopant_indices, sites.T[0].frac, sites.T[1].frac)


def test_symmetry_operation_prefers_a_translation_and_keeps_a_strained_cell(doped):
    from sianode.structures import symmetry_operation, transform_structure

    from sianode.structures import pure_supercell

    frm, to = np.array([0.25, 0.25, 0.25]), np.array([0.75, 0.75, 1.25])  # T sites a translation apart
    R, t = symmetry_operation(pure_supercell(2), [], frm, to)
    assert np.array_equal(R, np.eye(3, dtype=int)) and np.allclose(t, [0.5, 0.5, 1.0])
    # in a uniformly strained ("relaxed") cell the fractional operation still maps the Li
    host = doped.atoms.copy()
    host.set_cell(host.cell[:] * 1.02, scale_atoms=True)
    sites = li_sites(doped.atoms, doped.dopant_indices)
    member = sites.T[0].members[-1]
    R, t = symmetry_operation(doped, None, sites.T[0].frac, member)
    out = transform_structure(insert_li(host, sites.T[0].frac), R, t, reference=host)
    d = out.get_scaled_positions()[-1] - member
    assert np.allclose(d - np.round(d), 0, atol=1e-8)


def test_transform_keeps_atom_identity_when_the_li_pushed_atoms_far(doped):
    """The permutation comes from the symmetric host, not from the (distorted) host + Li."""
    from sianode.structures import symmetry_operation, transform_structure

    host = doped.atoms
    sites = li_sites(host, doped.dopant_indices)
    cls = sites.T[3]
    member = cls.members[-1]
    R, t = symmetry_operation(host, doped.dopant_indices, cls.frac, member)
    distorted = insert_li(host, cls.frac)
    rng = np.random.default_rng(0)
    distorted.positions[:-1] += rng.uniform(-1.3, 1.3, size=(len(host), 3))  # more than half a Si-Si bond
    out = transform_structure(distorted, R, t, reference=host)
    # brute force: where the operation sends each host atom, by coordinates
    frac = host.get_scaled_positions()
    img = frac @ R.T + t
    diff = img[:, None, :] - frac[None, :, :]
    diff -= np.round(diff)
    perm = np.argmax(np.all(np.abs(diff) < 1e-6, axis=2), axis=1)
    want = distorted.get_scaled_positions(wrap=False) @ R.T + t
    got = out.get_scaled_positions(wrap=False)
    d = got[perm] - want[:-1]
    assert np.allclose(d - np.round(d), 0, atol=1e-8)
    d = got[-1] - want[-1]
    assert np.allclose(d - np.round(d), 0, atol=1e-8) and out[-1].symbol == "Li"
    assert out.get_chemical_symbols() == distorted.get_chemical_symbols()
