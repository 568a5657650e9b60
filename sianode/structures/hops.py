"""Li T -> H -> T hops: unordered hop paths (one NEB each) and their NEB end points.

Hop paths (what a campaign computes)
------------------------------------
Each H site is the saddle of exactly one UNORDERED pair of neighbouring T sites
(PHYSICS.md sections 2 and 6: hop length ``d = sqrt(3)/4 a`` = 2.35 A, ``z = 4`` per T
site), so a T -> H -> T path and its reverse are one calculation: one climbing-image NEB
gives the saddle energy, and both barriers follow from the two end energies.
:func:`li_hop_paths` returns one :class:`HopPath` per H-site class of the doped cell
(the classes of :func:`~sianode.structures.sites.li_sites`), labelled ``hop1, hop2, ...``
in the order of the distance from the saddle (H) to the nearest dopant, then the H label
(so ``hopN`` goes through the H class ``HN``). Multiplicities add up to the number of H
sites.

The representative path starts exactly at the representative site of its lower T class
(the class closer to the dopant; :class:`~sianode.structures.sites.SiteClass` ``frac``),
so a relaxed Li insertion at that class is the path's start point as it is; the end point
is the insertion of the end's T class mapped onto the end site by a symmetry operation of
the doped cell (:func:`symmetry_operation`, :func:`transform_structure`): no second
relaxation of an equivalent structure. Of the candidates the one with the smallest wrapped
saddle coordinates is taken; ``saddle = start + v/2`` and ``end = start + v`` with ``v``
the fractional T -> T vector, so they may lie outside ``[0, 1)``.

:func:`network_topology` lists every T and H site of the cell with its class label and
the T -> T connectivity (lattice images included): with the per-class energies it is the
periodic jump network of PHYSICS.md section 6.

Ordered hop classes (``li_hops``)
---------------------------------
:func:`li_hops` groups ORDERED pairs, so ``A -> B`` and ``B -> A`` are distinct unless a
symmetry reverses the hop; order: distance from the saddle to the nearest dopant, then
start-site label, end-site label, multiplicity (largest first), the representative's
coordinates. Kept for callers that want ordered classes (and for hop Fireworks written
before hop paths existed); campaigns, ``sianode structures hops`` and ``write`` use paths.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

import numpy as np

from sianode.errors import InputError
from sianode.structures.sites import _classes, analyse_sites, doped_operations, prepare_host
from sianode.structures.symmetry import mic_vectors, orbit_labels, wrap_frac

log = logging.getLogger(__name__)


@dataclass
class HopClass:
    """One symmetry class of T -> H -> T hops.

    Attributes
    ----------
    label : str
        ``hop1``, ``hop2``, ... (see module docstring for the order).
    multiplicity : int
        Number of ordered hops in the class.
    start, saddle, end : numpy.ndarray
        (3,) fractional coordinates of the representative (start in ``[0, 1)``; saddle and
        end unwrapped, on the straight line from start).
    distance_to_dopant : float or None
        Minimum-image distance from the saddle (H) to the nearest dopant, Angstrom.
    start_site_label, end_site_label : str
        T-site class labels (as in :func:`~sianode.structures.sites.li_sites`).
    saddle_site_label : str
        H-site class label of the saddle.
    """

    label: str
    multiplicity: int
    start: np.ndarray
    saddle: np.ndarray
    end: np.ndarray
    distance_to_dopant: float | None
    start_site_label: str
    end_site_label: str
    saddle_site_label: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "multiplicity": self.multiplicity,
            "start": [round(float(x), 10) for x in self.start],
            "saddle": [round(float(x), 10) for x in self.saddle],
            "end": [round(float(x), 10) for x in self.end],
            "distance_to_dopant": self.distance_to_dopant,
            "start_site_label": self.start_site_label,
            "end_site_label": self.end_site_label,
            "saddle_site_label": self.saddle_site_label,
        }


def li_hops(atoms: Any, dopant_indices: Sequence[int] | None = None, symprec: float = 1e-3) -> list[HopClass]:
    """Symmetry-distinct T -> H -> T hops of a (doped) host.

    Parameters
    ----------
    atoms
        ASE ``Atoms``, pymatgen ``Structure`` or :class:`DopedCell` (unrelaxed).
    dopant_indices
        Atom indices of the dopants; default every atom that is not Si.

    Returns
    -------
    list of HopClass
        In the order of the module docstring; multiplicities add up to ``2 x n_H``.
    """
    ana = analyse_sites(atoms, dopant_indices, symprec)
    cell = ana.atoms.cell[:]
    t_cls, t_class_of = _classes("T", ana.t_frac, ana.t_perm, ana.t_dist, cell)
    h_cls, h_class_of = _classes("H", ana.h_frac, ana.h_perm, ana.h_dist, cell)
    n_h = len(ana.h_frac)
    # ordered hop 2h + 0: pair[h,0] -> pair[h,1]; 2h + 1: reverse
    a, b = ana.h_pairs[:, 0], ana.h_pairs[:, 1]
    img_h = ana.h_perm  # (nG, nH)
    img_a = ana.t_perm[:, a]  # where the start of forward hop h goes
    same_dir = img_a == a[img_h]
    if not np.all(same_dir | (img_a == b[img_h])):
        raise InputError("symmetry does not map T-H-T hops onto hops: try a different symprec")
    fwd = 2 * img_h + np.where(same_dir, 0, 1)
    rev = 2 * img_h + np.where(same_dir, 1, 0)
    hop_perm = np.empty((len(img_h), 2 * n_h), dtype=np.int64)
    hop_perm[:, 0::2] = fwd
    hop_perm[:, 1::2] = rev
    labels = orbit_labels(hop_perm)
    hop_h = np.repeat(np.arange(n_h), 2)
    start_t = np.where(np.arange(2 * n_h) % 2 == 0, a[hop_h], b[hop_h])
    end_t = np.where(np.arange(2 * n_h) % 2 == 0, b[hop_h], a[hop_h])
    vec = np.where((np.arange(2 * n_h) % 2 == 0)[:, None], ana.h_vec[hop_h], -ana.h_vec[hop_h])
    entries = []
    for lab in np.unique(labels):
        idx = np.flatnonzero(labels == lab)
        keys = np.round(np.concatenate([ana.t_frac[start_t[idx]], ana.t_frac[start_t[idx]] + vec[idx]], axis=1), 6)
        rep = idx[np.lexsort(keys.T[::-1])[0]]
        h = hop_h[rep]
        d = None if ana.h_dist is None else float(np.round(ana.h_dist[h], 6))
        entries.append(
            (
                0.0 if d is None else d,
                t_class_of[start_t[rep]],
                t_class_of[end_t[rep]],
                -len(idx),
                tuple(keys[np.flatnonzero(idx == rep)[0]]),
                rep,
                d,
            )
        )
    entries.sort(key=lambda e: e[:5])
    hops = []
    for n, (_, s_cls, e_cls, negm, _, rep, d) in enumerate(entries):
        start = ana.t_frac[start_t[rep]].copy()
        hops.append(
            HopClass(
                label=f"hop{n + 1}",
                multiplicity=-negm,
                start=start,
                saddle=start + 0.5 * vec[rep],
                end=start + vec[rep],
                distance_to_dopant=d,
                start_site_label=t_cls[s_cls].label,
                end_site_label=t_cls[e_cls].label,
                saddle_site_label=h_cls[h_class_of[hop_h[rep]]].label,
            )
        )
    return hops


def select_hops(hops: Sequence[HopClass], which: str = "all") -> list[HopClass]:
    """Pick hops: ``"near"`` (smallest distance to the dopant), ``"far"`` (largest), ``"all"``.

    All classes that share the extreme distance (within 1e-6 A) are returned; in a pure
    host (distance ``None``) every selection returns all hops.
    """
    if which not in ("near", "far", "all"):
        raise InputError(f"hop selection {which!r} not allowed: use near, far or all")
    hops = list(hops)
    dists = [h.distance_to_dopant for h in hops]
    if which == "all" or not hops or any(d is None for d in dists):
        return hops
    target = min(dists) if which == "near" else max(dists)
    return [h for h in hops if abs(h.distance_to_dopant - target) < 1e-6]  # type: ignore[operator]


def insert_li(host_atoms: Any, frac: Sequence[float]) -> Any:
    """Copy of the host with one Li appended as the LAST atom at fractional ``frac``.

    ``frac`` is taken in the given host's cell, so a relaxed host works too. A pymatgen
    ``Structure`` in gives a ``Structure`` out; ``frac`` is not wrapped.
    """
    from ase import Atom

    from sianode.structures.serialize import as_ase

    atoms = as_ase(host_atoms).copy()
    frac = np.asarray(frac, dtype=float).reshape(3)
    atoms.append(Atom("Li", position=frac @ atoms.cell[:]))
    if not _is_ase(host_atoms) and not isinstance(host_atoms, dict):
        from pymatgen.io.ase import AseAtomsAdaptor

        return AseAtomsAdaptor.get_structure(atoms)
    return atoms


def hop_endpoints(host_atoms: Any, hop: HopClass | HopPath) -> tuple[Any, Any]:
    """NEB end points ``(start, end)`` of a hop: host + Li (last atom), same ordering.

    The end Li is at ``hop.end`` unwrapped, so the straight line start -> end passes
    through the saddle (minimum-image consistent for ASE's NEB interpolation).
    """
    return insert_li(host_atoms, hop.start), insert_li(host_atoms, hop.end)


def _is_ase(obj: Any) -> bool:
    from ase import Atoms

    return isinstance(obj, Atoms)


# ------------------------------------------------------------------ unordered hop paths
@dataclass
class HopPath:
    """One symmetry class of UNORDERED T -> H -> T hop paths (one per H-site class).

    Attributes
    ----------
    label : str
        ``hop1``, ``hop2``, ... (by distance from the saddle to the nearest dopant, then H label).
    h_label : str
        Label of the H-site class of the saddle, as in :func:`~sianode.structures.sites.li_sites`.
    multiplicity : int
        Number of paths in the class (= H sites in the class).
    start : numpy.ndarray
        (3,) fractional coordinates of the start T site: the representative of its T class
        (in ``[0, 1)``).
    saddle, end : numpy.ndarray
        (3,) fractional ``start + v/2`` and ``start + v`` (``v`` the T -> T vector through
        the H site); may lie outside ``[0, 1)``.
    start_site_label, end_site_label : str
        T-site class labels of the two ends (start: the class closer to the dopant).
    distance_to_dopant : float or None
        Minimum-image distance from the saddle (H) to the nearest dopant, Angstrom (None: pure).
    """

    label: str
    h_label: str
    multiplicity: int
    start: np.ndarray
    saddle: np.ndarray
    end: np.ndarray
    start_site_label: str
    end_site_label: str
    distance_to_dopant: float | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "h_label": self.h_label,
            "multiplicity": self.multiplicity,
            "start": [round(float(x), 10) for x in self.start],
            "saddle": [round(float(x), 10) for x in self.saddle],
            "end": [round(float(x), 10) for x in self.end],
            "start_site_label": self.start_site_label,
            "end_site_label": self.end_site_label,
            "distance_to_dopant": self.distance_to_dopant,
        }


def li_hop_paths(atoms: Any, dopant_indices: Sequence[int] | None = None, symprec: float = 1e-3) -> list[HopPath]:
    """Unordered T -> H -> T hop paths of a (doped) host, one per H-site class.

    Parameters
    ----------
    atoms
        ASE ``Atoms``, pymatgen ``Structure`` or :class:`DopedCell` (unrelaxed: ideal symmetry).
    dopant_indices
        Atom indices of the dopants; default every atom that is not Si.
    symprec
        spglib tolerance, Angstrom.

    Returns
    -------
    list of HopPath
        In the order of the module docstring; multiplicities add up to the number of H sites.
    """
    ana = analyse_sites(atoms, dopant_indices, symprec)
    cell = ana.atoms.cell[:]
    t_cls, t_class_of = _classes("T", ana.t_frac, ana.t_perm, ana.t_dist, cell)
    h_cls, h_class_of = _classes("H", ana.h_frac, ana.h_perm, ana.h_dist, cell)
    t_rep = {n: int(np.flatnonzero(np.all(ana.t_frac == c.frac, axis=1))[0]) for n, c in enumerate(t_cls)}
    a, b = ana.h_pairs[:, 0], ana.h_pairs[:, 1]
    paths = []
    for n, hc in enumerate(h_cls):
        members = np.flatnonzero(h_class_of == n)
        low = int(min(t_class_of[a[members]].min(), t_class_of[b[members]].min()))
        cands = []  # (rounded wrapped saddle, H index, direction)
        for h in members:
            for start, sign in ((a[h], 1.0), (b[h], -1.0)):
                if start == t_rep[low]:
                    cands.append((tuple(np.round(ana.h_frac[h], 6)), int(h), sign))
        if not cands:  # pragma: no cover - the orbit of the class always reaches the representative
            raise InputError(f"H class {hc.label}: no path starts at the T representative; try a different symprec")
        _, h, sign = min(cands)
        start = ana.t_frac[t_rep[low]].copy()
        vec = sign * ana.h_vec[h]
        end_t = b[h] if sign > 0 else a[h]
        paths.append(HopPath(
            label="", h_label=hc.label, multiplicity=hc.multiplicity, start=start, saddle=start + 0.5 * vec,
            end=start + vec, start_site_label=t_cls[low].label, end_site_label=t_cls[t_class_of[end_t]].label,
            distance_to_dopant=hc.distance_to_dopant))
    # H classes are already in (distance, label) order; sort again so the rule is explicit
    order = sorted(range(len(paths)), key=lambda k: (paths[k].distance_to_dopant or 0.0, k))
    out = [paths[k] for k in order]
    for n, p in enumerate(out):
        p.label = f"hop{n + 1}"
    return out


def _parse_selection(which: Any) -> tuple[str, float | None]:
    """``(kind, radius_A)`` of a hop selection; InputError naming the value otherwise."""
    allowed = "allowed: near, far, all, none or {within: R} (R > 0, Angstrom)"
    if isinstance(which, str):
        if which in ("near", "far", "all", "none"):
            return which, None
        if which.startswith("within:"):
            try:
                return "within", _radius(float(which.split(":", 1)[1]), which)
            except ValueError:
                raise InputError(f"hop selection {which!r} not allowed: {allowed}") from None
    elif isinstance(which, Mapping) and set(which) == {"within"}:
        return "within", _radius(which["within"], which)
    elif hasattr(which, "within") and not isinstance(which, Mapping):
        return "within", _radius(getattr(which, "within"), which)
    raise InputError(f"hop selection {which!r} not allowed: {allowed}")


def _radius(value: Any, which: Any) -> float:
    ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    if not ok or not np.isfinite(float(value)) or float(value) <= 0:
        raise InputError(f"hop selection {which!r}: within = {value!r} is not allowed; allowed: a number of "
                         "Angstrom > 0")
    return float(value)


def hop_selection_name(which: Any) -> str:
    """The name of a hop selection as stored in labels: ``near``, ..., ``within:4.5``."""
    kind, radius = _parse_selection(which)
    return kind if radius is None else f"within:{radius:g}"


def select_hop_paths(paths: Sequence[HopPath], which: Any = "all") -> list[HopPath]:
    """Pick hop paths by the distance of their saddle to the nearest dopant.

    Parameters
    ----------
    paths
        From :func:`li_hop_paths`.
    which
        ``"near"`` (the smallest distance; all classes within 1e-6 A of it), ``"far"``
        (the largest), ``"all"``, ``"none"`` (no path), or ``{"within": R}`` (also the
        string ``"within:R"``): every path whose saddle is within ``R`` Angstrom (> 0) of a
        dopant. In a pure host (distance None) every selection but ``none`` returns all
        paths (its one path class is the reference every doped host is compared with).
    """
    kind, radius = _parse_selection(which)
    paths = list(paths)
    if kind == "none":
        return []
    dists = [p.distance_to_dopant for p in paths]
    if kind == "all" or not paths or any(d is None for d in dists):
        return paths
    if kind == "within":
        return [p for p in paths if p.distance_to_dopant <= radius + 1e-6]  # type: ignore[operator]
    target = min(dists) if kind == "near" else max(dists)  # type: ignore[type-var]
    return [p for p in paths if abs(p.distance_to_dopant - target) < 1e-6]  # type: ignore[operator]


# ------------------------------------------------------------------ network topology
@dataclass
class HopTopology:
    """Every T and H site of a cell, their class labels and the T -> T hops.

    Attributes
    ----------
    t_frac : numpy.ndarray
        (nT, 3) fractional T positions in ``[0, 1)``.
    t_labels : list of str
        T class label of every T site (as in :func:`~sianode.structures.sites.li_sites`).
    h_frac : numpy.ndarray
        (nH, 3) fractional H positions in ``[0, 1)``.
    h_labels : list of str
        H class label of every H site (= :attr:`HopPath.h_label` of its path).
    pairs : numpy.ndarray
        (nH, 2) int: the hop through H site ``h`` goes from T ``pairs[h, 0]`` ...
    images : numpy.ndarray
        (nH, 3) int: ... to T ``pairs[h, 1]`` displaced by ``images[h]`` supercell lattice
        vectors: its vector is ``(t_frac[j] + images[h] - t_frac[i]) @ cell``.
    """

    t_frac: np.ndarray
    t_labels: list[str]
    h_frac: np.ndarray
    h_labels: list[str]
    pairs: np.ndarray
    images: np.ndarray

    def as_dict(self) -> dict[str, Any]:
        return {"t_frac": self.t_frac.tolist(), "t_labels": list(self.t_labels), "h_frac": self.h_frac.tolist(),
                "h_labels": list(self.h_labels), "pairs": self.pairs.tolist(), "images": self.images.tolist()}


def network_topology(atoms: Any, dopant_indices: Sequence[int] | None = None, symprec: float = 1e-3) -> HopTopology:
    """The periodic T-site hop network of a (doped) host (PHYSICS.md section 6).

    Every T site has z = 4 hops, each through one H site (midpoint of the pair); labels are
    those of :func:`~sianode.structures.sites.li_sites` and :func:`li_hop_paths`.
    """
    ana = analyse_sites(atoms, dopant_indices, symprec)
    cell = ana.atoms.cell[:]
    t_cls, t_class_of = _classes("T", ana.t_frac, ana.t_perm, ana.t_dist, cell)
    h_cls, h_class_of = _classes("H", ana.h_frac, ana.h_perm, ana.h_dist, cell)
    i, j = ana.h_pairs[:, 0], ana.h_pairs[:, 1]
    images = np.round(ana.t_frac[i] + ana.h_vec - ana.t_frac[j]).astype(np.int64)
    return HopTopology(
        t_frac=ana.t_frac.copy(), t_labels=[t_cls[c].label for c in t_class_of], h_frac=ana.h_frac.copy(),
        h_labels=[h_cls[c].label for c in h_class_of], pairs=ana.h_pairs.astype(np.int64).copy(), images=images)


# ------------------------------------------------------------------ symmetry mapping
def symmetry_operation(atoms: Any, dopant_indices: Sequence[int] | None, from_frac: Sequence[float],
                       to_frac: Sequence[float], symprec: float = 1e-3, tol: float = 1e-3) -> tuple[np.ndarray, np.ndarray]:
    """A space-group operation of the doped cell mapping ``from_frac`` onto ``to_frac``.

    Parameters
    ----------
    atoms
        The (ideal, unrelaxed) host: ASE ``Atoms``, ``Structure`` or ``DopedCell``.
    dopant_indices
        Dopant atom indices (None: every atom that is not Si); the operation maps the
        dopant sites onto dopant sites.
    from_frac, to_frac
        (3,) fractional coordinates (``to_frac`` may be unwrapped).
    tol
        Fractional tolerance of the match.

    Returns
    -------
    (R, t)
        ``R`` (3, 3) int and ``t`` (3,) with ``R @ from_frac + t == to_frac`` (within ``tol``,
        not only modulo the lattice: ``t`` carries the lattice vector). A pure translation is
        preferred when one exists (it is exact even for a slightly strained relaxed cell).

    Raises
    ------
    InputError
        When no operation maps one point onto the other (not in the same symmetry class).
    """
    host, dopants = prepare_host(atoms, dopant_indices)
    rot, trans = doped_operations(host, dopants, symprec)
    a = np.asarray(from_frac, dtype=float).reshape(3)
    b = np.asarray(to_frac, dtype=float).reshape(3)
    img = np.einsum("gij,j->gi", rot, a) + trans
    diff = b - img
    resid = diff - np.round(diff)
    ok = np.flatnonzero(np.all(np.abs(resid) < tol, axis=1))
    if ok.size == 0:
        raise InputError(f"no symmetry operation of the doped cell maps {a.tolist()} onto {b.tolist()}: "
                         "the two sites are not in the same class")
    ident = np.all(rot[ok].reshape(len(ok), 9) == np.eye(3, dtype=int).ravel(), axis=1)
    g = int(ok[np.argmax(ident)]) if ident.any() else int(ok[0])
    return rot[g].copy(), trans[g] + np.round(diff[g])


def transform_structure(atoms: Any, R: np.ndarray, t: np.ndarray, reference: Any = None) -> Any:
    """Apply a fractional operation: ``frac' = R frac + t`` (wrapped), same cell.

    Parameters
    ----------
    atoms : ase.Atoms
        Structure to transform (not modified); a symmetry operation of its host maps a
        relaxed host + Li onto an equally relaxed host + Li with the Li moved.
    R, t
        (3, 3) rotation and (3,) translation in fractional coordinates.
    reference : ase.Atoms, optional
        The symmetric host the first ``len(reference)`` atoms of ``atoms`` were made from,
        in the same order (e.g. the relaxed host of a relaxed host + Li). The operation
        permutes the host's atoms; that permutation is read from the reference itself
        (``R x_i + t`` lands on atom ``p(i)`` of the same species), so it holds however far
        the Li pushed its neighbours. The output then has the reference's atom order:
        atom ``p(i)`` is the image of atom ``i``, placed at the lattice image nearest
        ``reference[p(i)]``; the remaining atoms (the Li) follow in their order. Two
        structures transformed this way have the same atom order, as an NEB needs.

    Returns
    -------
    ase.Atoms

    Raises
    ------
    InputError
        When the operation does not map the reference onto itself (within 0.3 A).
    """
    from sianode.structures.serialize import as_ase

    out = as_ase(atoms).copy()
    R = np.asarray(R, dtype=float)
    t = np.asarray(t, dtype=float)
    out.set_scaled_positions(wrap_frac(out.get_scaled_positions(wrap=False) @ R.T + t))
    if reference is None:
        return out
    ref = as_ase(reference)
    n = len(ref)
    if n > len(out) or ref.get_chemical_symbols() != out.get_chemical_symbols()[:n]:
        raise InputError(f"reference ({ref.get_chemical_formula()}) is not the first {n} atoms of the structure "
                         f"({out.get_chemical_formula()})")
    cell = out.cell[:]
    moved = wrap_frac(ref.get_scaled_positions(wrap=False) @ R.T + t) @ cell
    vec = mic_vectors((moved[:, None, :] - ref.positions[None, :, :]).reshape(-1, 3), cell).reshape(n, n, 3)
    dist = np.linalg.norm(vec, axis=2)
    sym = np.array(ref.get_chemical_symbols())
    dist[sym[:, None] != sym[None, :]] = np.inf
    perm = np.argmin(dist, axis=1)  # atom i of the reference goes to atom perm[i]
    if len(set(perm.tolist())) != n or dist[np.arange(n), perm].max() > 0.3:
        raise InputError("the operation does not map the reference onto itself within 0.3 A: "
                         "it is not a symmetry of this host")
    order = np.empty(n, dtype=np.int64)
    order[perm] = np.arange(n)
    new = out[np.concatenate([order, np.arange(n, len(out))])]
    new.positions[:n] = ref.positions + mic_vectors(new.positions[:n] - ref.positions, cell)
    return new
