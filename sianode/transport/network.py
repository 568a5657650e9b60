"""The periodic hop network of Li in a crystal: sites, hops, validation and the JSON file.

A :class:`HopNetwork` is one periodic cell of a Markov jump network (PHYSICS.md section 6):
sites ``i`` (Li T sites) with energies ``E_i`` and UNORDERED hops ``i -- j`` through a
saddle (an H site) with energy ``E_ij^s``, the same in both directions. A hop goes from
site ``i`` to site ``j`` displaced by ``image`` lattice vectors; its vector (Angstrom) is
``(frac[j] + image - frac[i]) @ cell``. Harmonic transition-state theory gives the rates
(Vineyard, J. Phys. Chem. Solids 3 (1957) 121)::

    k_ij = nu exp(-(E_ij^s - E_i) / kT),   k_ji = nu exp(-(E_ij^s - E_j) / kT).

The file format (``sianode transport network FILE.json``)::

    {"cell": [[ax, ay, az], [bx, by, bz], [cx, cy, cz]],
     "sites": [{"frac": [x, y, z], "energy_eV": e, "label": "T1"}, ...],
     "hops": [{"i": 0, "j": 5, "image": [0, 0, 1], "saddle_energy_eV": s,
               "label": "hop1"}, ...],
     "attempt_frequency_Hz": 1e13}

``label`` is optional; ``attempt_frequency_Hz`` defaults to 1e13 Hz.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

# default attempt frequency of a Li hop, Hz: defined once, in sianode.constants (PHYSICS.md section 4)
from sianode.constants import DEFAULT_ATTEMPT_FREQUENCY_HZ
from sianode.errors import InputError

log = logging.getLogger(__name__)


#: a saddle may lie this far (eV) below an end point's energy before it is an error
#: (rounding in stored numbers).
SADDLE_TOLERANCE_EV = 1e-6


class NetworkError(InputError):
    """A hop network that cannot describe long-range diffusion; the message says why."""


def _array(value: Any, name: str, dtype: Any, shape: tuple[int | None, ...]) -> np.ndarray:
    """``value`` as an array of ``shape`` (None: any length), or NetworkError naming it."""
    try:
        arr = np.array(value, dtype=dtype)
    except (TypeError, ValueError) as exc:
        raise NetworkError(f"hop network: {name} must be numbers of shape {_shape_text(shape)}; got {value!r:.80}") from exc
    if arr.ndim != len(shape) or any(s is not None and s != a for s, a in zip(shape, arr.shape)):
        raise NetworkError(
            f"hop network: {name} must have shape {_shape_text(shape)}; got shape {tuple(arr.shape)}"
        )
    return arr


def _shape_text(shape: tuple[int | None, ...]) -> str:
    return "(" + ", ".join("n" if s is None else str(s) for s in shape) + ")"


@dataclass(eq=False)
class HopNetwork:
    """One periodic cell of a Li hop network.

    Parameters
    ----------
    cell_A : (3, 3) array
        Lattice vectors (rows), Angstrom.
    frac : (n, 3) array
        Fractional coordinates of the sites.
    energies_eV : (n,) array
        Site energies E_i, eV (any common reference).
    i, j : (m,) int arrays
        End sites of each unordered hop (each hop listed once).
    image : (m, 3) int array
        Lattice vectors added to site ``j``: the hop vector is ``(frac[j] + image - frac[i]) @ cell``.
    saddle_eV : (m,) array
        Saddle energy E_ij^s of each hop, eV (same reference as the sites).
    attempt_frequency_Hz : float
        Attempt frequency nu of every hop, Hz.
    site_labels, hop_labels : list of str, optional
        Class labels (e.g. ``T3``, ``hop2``), carried through the JSON file.

    Notes
    -----
    Construction converts to arrays and checks shapes; :meth:`validate` checks the rest
    (sites that exist, saddles above both ends, a connected network that percolates in 3D).
    """

    cell_A: np.ndarray
    frac: np.ndarray
    energies_eV: np.ndarray
    i: np.ndarray
    j: np.ndarray
    image: np.ndarray
    saddle_eV: np.ndarray
    attempt_frequency_Hz: float = DEFAULT_ATTEMPT_FREQUENCY_HZ
    site_labels: list[str] | None = None
    hop_labels: list[str] | None = None
    _valid: dict[bool, bytes] = field(default_factory=dict, init=False, repr=False)

    def __post_init__(self) -> None:
        self.cell_A = _array(self.cell_A, "cell", float, (3, 3))
        self.frac = _array(self.frac, "site frac", float, (None, 3))
        n = len(self.frac)
        self.energies_eV = _array(self.energies_eV, "site energies", float, (n,))
        self.i = self._int_array(self.i, "hop i", (None,))
        m = len(self.i)
        self.j = self._int_array(self.j, "hop j", (m,))
        self.image = self._int_array(self.image, "hop image", (m, 3))
        self.saddle_eV = _array(self.saddle_eV, "hop saddle energies", float, (m,))
        try:
            self.attempt_frequency_Hz = float(self.attempt_frequency_Hz)
        except (TypeError, ValueError) as exc:
            raise NetworkError(
                f"hop network: attempt_frequency_Hz must be a positive number; got {self.attempt_frequency_Hz!r}"
            ) from exc
        for name, labels, size in (("site_labels", self.site_labels, n), ("hop_labels", self.hop_labels, m)):
            if labels is not None and len(labels) != size:
                raise NetworkError(f"hop network: {name} has {len(labels)} entries; need one per item ({size})")
        if self.site_labels is not None:
            self.site_labels = [str(s) for s in self.site_labels]
        if self.hop_labels is not None:
            self.hop_labels = [str(s) for s in self.hop_labels]

    @staticmethod
    def _int_array(value: Any, name: str, shape: tuple[int | None, ...]) -> np.ndarray:
        arr = _array(value, name, float, shape)
        if not np.all(np.isfinite(arr)) or np.any(arr != np.round(arr)):
            raise NetworkError(f"hop network: {name} must be integers; got {value!r:.80}")
        return arr.astype(np.int64)

    # ------------------------------------------------------------------ basic facts
    @property
    def n_sites(self) -> int:
        """Number of sites in the cell."""
        return len(self.frac)

    @property
    def n_hops(self) -> int:
        """Number of unordered hops in the cell."""
        return len(self.i)

    def hop_vectors_A(self) -> np.ndarray:
        """(m, 3) Cartesian vector of each hop i -> j + image, Angstrom."""
        return (self.frac[self.j] + self.image - self.frac[self.i]) @ self.cell_A

    def hop_midpoints_frac(self) -> np.ndarray:
        """(m, 3) fractional position of the middle of each hop (the H site), not wrapped."""
        return self.frac[self.i] + 0.5 * (self.frac[self.j] + self.image - self.frac[self.i])

    # ------------------------------------------------------------------ validation
    def validate(self, *, check_percolation: bool = True) -> HopNetwork:
        """Check the network; raise :class:`NetworkError` naming the first problem.

        Checks: finite numbers, a non-singular cell, a positive attempt frequency, hops
        between sites that exist, no zero-length self-hop, no hop listed twice, each saddle
        at or above both end energies, every site reachable from site 0, and (unless
        ``check_percolation`` is False) paths that percolate along three independent
        lattice directions. ``check_percolation=False`` allows lower-dimensional networks
        (a 1D chain embedded in 3D); the diffusion tensor is then zero across them.

        Returns ``self`` so calls chain. A network that passed is not checked again until
        one of its numbers changes (a hash of the arrays is kept).
        """
        fingerprint = self._fingerprint()
        if self._valid.get(check_percolation) == fingerprint:
            return self
        n, m = self.n_sites, self.n_hops
        if n == 0:
            raise NetworkError("hop network: it has no sites; need at least one")
        if m == 0:
            raise NetworkError("hop network: it has no hops; need at least one")
        for name, arr in (("cell", self.cell_A), ("site frac", self.frac), ("site energies", self.energies_eV),
                          ("hop saddle energies", self.saddle_eV)):
            if not np.all(np.isfinite(arr)):
                raise NetworkError(f"hop network: {name} contain a non-finite number (nan or inf); all must be finite")
        if abs(np.linalg.det(self.cell_A)) < 1e-6:
            raise NetworkError("hop network: cell vectors are linearly dependent (zero volume); need three independent vectors")
        nu = self.attempt_frequency_Hz
        if not (math.isfinite(nu) and nu > 0):
            raise NetworkError(f"hop network: attempt_frequency_Hz = {nu!r}; must be a positive number of Hz")
        for name, idx in (("i", self.i), ("j", self.j)):
            bad = np.flatnonzero((idx < 0) | (idx >= n))
            if bad.size:
                h = int(bad[0])
                raise NetworkError(
                    f"hop network: hop {h} goes to site {name} = {int(idx[h])}, which does not exist "
                    f"(sites are 0..{n - 1})"
                )
        self_zero = np.flatnonzero((self.i == self.j) & np.all(self.image == 0, axis=1))
        if self_zero.size:
            h = int(self_zero[0])
            raise NetworkError(f"hop network: hop {h} goes from site {int(self.i[h])} to itself with image [0, 0, 0]; "
                               "a hop must go to another site or another lattice image")
        self._check_duplicates()
        low = self.saddle_eV + SADDLE_TOLERANCE_EV < np.maximum(self.energies_eV[self.i], self.energies_eV[self.j])
        if np.any(low):
            h = int(np.flatnonzero(low)[0])
            a, b = int(self.i[h]), int(self.j[h])
            raise NetworkError(
                f"hop network: hop {h} ({a} -> {b}) has saddle energy {self.saddle_eV[h]:.6g} eV below an end's "
                f"energy (site {a}: {self.energies_eV[a]:.6g} eV, site {b}: {self.energies_eV[b]:.6g} eV); "
                "a saddle must be at or above both ends"
            )
        dim = percolation_dimension(self)
        if check_percolation and dim < 3:
            raise NetworkError(
                f"hop network: it does not percolate in 3D (paths through the periodic cell extend along "
                f"{dim} independent lattice direction(s)); long-range 3D diffusion needs 3"
            )
        self._valid[check_percolation] = fingerprint
        return self

    def _fingerprint(self) -> bytes:
        """Hash of every number of the network (to skip re-validating an unchanged network)."""
        h = hashlib.blake2b(digest_size=16)
        for arr in (self.cell_A, self.frac, self.energies_eV, self.i, self.j, self.image, self.saddle_eV):
            a = np.ascontiguousarray(arr)
            h.update(str((a.dtype.str, a.shape)).encode())
            h.update(a.tobytes())
        h.update(repr(self.attempt_frequency_Hz).encode())
        return h.digest()

    def _check_duplicates(self) -> None:
        """Each unordered hop once: (i, j, image) and (j, i, -image) are the same hop."""
        flip = (self.i > self.j) | ((self.i == self.j) & _lex_negative(self.image))
        a = np.where(flip, self.j, self.i)
        b = np.where(flip, self.i, self.j)
        img = np.where(flip[:, None], -self.image, self.image)
        keys = np.column_stack([a, b, img])
        order = np.lexsort(keys.T[::-1])
        same = np.flatnonzero(np.all(keys[order[1:]] == keys[order[:-1]], axis=1))
        if same.size:
            h1, h2 = sorted((int(order[same[0]]), int(order[same[0] + 1])))
            k = keys[h1]
            raise NetworkError(
                f"hop network: hops {h1} and {h2} are the same unordered hop "
                f"({int(k[0])} -> {int(k[1])}, image {k[2:].tolist()}); list each hop once"
            )

    # ------------------------------------------------------------------ JSON
    def to_json_dict(self) -> dict[str, Any]:
        """The network as the JSON-ready dict of the file format (module docstring)."""
        sites = []
        for k in range(self.n_sites):
            site: dict[str, Any] = {"frac": [float(x) for x in self.frac[k]], "energy_eV": float(self.energies_eV[k])}
            if self.site_labels is not None:
                site["label"] = self.site_labels[k]
            sites.append(site)
        hops = []
        for h in range(self.n_hops):
            hop: dict[str, Any] = {
                "i": int(self.i[h]),
                "j": int(self.j[h]),
                "image": [int(x) for x in self.image[h]],
                "saddle_energy_eV": float(self.saddle_eV[h]),
            }
            if self.hop_labels is not None:
                hop["label"] = self.hop_labels[h]
            hops.append(hop)
        return {
            "cell": [[float(x) for x in row] for row in self.cell_A],
            "sites": sites,
            "hops": hops,
            "attempt_frequency_Hz": float(self.attempt_frequency_Hz),
        }

    @classmethod
    def from_json_dict(cls, d: Any) -> HopNetwork:
        """Build a network from the file format; :class:`NetworkError` names a missing key.

        The result is not yet validated: call :meth:`validate`.
        """
        if not isinstance(d, dict):
            raise NetworkError(f"hop network file: top level must be an object with keys cell, sites, hops; got {type(d).__name__}")
        for key in ("cell", "sites", "hops"):
            if key not in d:
                raise NetworkError(f"hop network file: missing key {key!r} (need cell, sites, hops)")
        sites, hops = d["sites"], d["hops"]
        for key, value in (("sites", sites), ("hops", hops)):
            if not isinstance(value, list):
                raise NetworkError(f"hop network file: {key!r} must be a list; got {type(value).__name__}")
        frac, energies, site_labels = [], [], []
        for k, s in enumerate(sites):
            if not isinstance(s, dict):
                raise NetworkError(f"hop network file: site {k} must be an object with keys frac, energy_eV")
            for key in ("frac", "energy_eV"):
                if key not in s:
                    raise NetworkError(f"hop network file: site {k} has no key {key!r} (need frac, energy_eV)")
            frac.append(s["frac"])
            energies.append(s["energy_eV"])
            site_labels.append(s.get("label"))
        ii, jj, image, saddle, hop_labels = [], [], [], [], []
        for h, hop in enumerate(hops):
            if not isinstance(hop, dict):
                raise NetworkError(f"hop network file: hop {h} must be an object with keys i, j, image, saddle_energy_eV")
            for key in ("i", "j", "image", "saddle_energy_eV"):
                if key not in hop:
                    raise NetworkError(
                        f"hop network file: hop {h} has no key {key!r} (need i, j, image, saddle_energy_eV)"
                    )
            ii.append(hop["i"])
            jj.append(hop["j"])
            image.append(hop["image"])
            saddle.append(hop["saddle_energy_eV"])
            hop_labels.append(hop.get("label"))
        return cls(
            cell_A=d["cell"],
            frac=frac if frac else np.zeros((0, 3)),
            energies_eV=energies,
            i=ii,
            j=jj,
            image=np.zeros((0, 3)) if not image else image,
            saddle_eV=saddle,
            attempt_frequency_Hz=d.get("attempt_frequency_Hz", DEFAULT_ATTEMPT_FREQUENCY_HZ),
            site_labels=None if all(s is None for s in site_labels) else [str(s) for s in site_labels],
            hop_labels=None if all(s is None for s in hop_labels) else [str(s) for s in hop_labels],
        )

    @classmethod
    def from_json_file(cls, path: str | Path) -> HopNetwork:
        """Read a network file; a missing file or bad JSON is a :class:`NetworkError`."""
        p = Path(path)
        try:
            text = p.read_text()
        except OSError as exc:
            raise NetworkError(f"hop network file {str(p)!r} cannot be read ({exc.strerror or exc})") from exc
        try:
            d = json.loads(text)
        except json.JSONDecodeError as exc:
            raise NetworkError(
                f"hop network file {str(p)!r} is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})"
            ) from exc
        return cls.from_json_dict(d)

    def write_json(self, path: str | Path) -> Path:
        """Write the network file; returns the path."""
        p = Path(path)
        p.write_text(json.dumps(self.to_json_dict(), indent=1))
        return p


def _lex_negative(v: np.ndarray) -> np.ndarray:
    """True where the first non-zero component of each row of ``v`` is negative."""
    nz = v != 0
    first = np.argmax(nz, axis=1)
    val = v[np.arange(len(v)), first]
    return val < 0


def _tree_offsets(n: int, i: np.ndarray, j: np.ndarray, image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Reachability from site 0 and each site's lattice image along a spanning tree.

    Returns ``(reached (n,) bool, offset (n, 3) int)``: following tree hops from site 0,
    site ``v`` is reached in lattice image ``offset[v]``.
    """
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import breadth_first_order

    src = np.concatenate([i, j])
    dst = np.concatenate([j, i])
    img = np.concatenate([image, -image])
    graph = coo_matrix((np.ones(len(src)), (src, dst)), shape=(n, n)).tocsr()
    order, pred = breadth_first_order(graph, 0, directed=True, return_predecessors=True)
    reached = np.zeros(n, dtype=bool)
    reached[order] = True
    # image of the tree hop pred[v] -> v: look up the directed hop (pred[v], v)
    key = src * n + dst
    sort = np.argsort(key, kind="stable")
    nodes = order[1:]
    pos = np.searchsorted(key[sort], pred[nodes] * n + nodes)
    step = np.zeros((n, 3), dtype=np.int64)
    step[nodes] = img[sort[pos]]
    parent = np.zeros(n, dtype=np.int64)  # unreached sites hang on the root (reported by the caller)
    parent[nodes] = pred[nodes]
    # pointer jumping: acc[v] = offset[v] - offset[parent[v]]; halve the path lengths until
    # every parent is the root, then acc is the offset itself (O(n log n), no Python loop over sites).
    offset = step
    while np.any(parent != 0):
        offset = offset + offset[parent]
        parent = parent[parent]
    return reached, offset


def percolation_dimension(net: HopNetwork) -> int:
    """Number of independent lattice directions along which the network percolates (0-3).

    Lift the network to the infinite crystal: follow a spanning tree of the cell's sites
    from site 0 and record the lattice image in which each site is reached; every hop then
    closes a cycle whose net lattice translation is ``offset[i] + image - offset[j]``. The
    rank of these translations is the dimension of the infinite cluster (3: the network
    percolates in 3D). Raises :class:`NetworkError` when some site cannot be reached from
    site 0 at all (the stationary state would not be unique).
    """
    reached, offset = _tree_offsets(net.n_sites, net.i, net.j, net.image)
    if not np.all(reached):
        missing = np.flatnonzero(~reached)
        shown = ", ".join(str(int(k)) for k in missing[:5]) + (", ..." if missing.size > 5 else "")
        raise NetworkError(
            f"hop network: it is not connected: {missing.size} site(s) ({shown}) cannot be reached from site 0 "
            "by any hop; every site must be reachable"
        )
    cycles = offset[net.i] + net.image - offset[net.j]
    cycles = cycles[np.any(cycles != 0, axis=1)]
    if cycles.size:  # distinct rows only (lexsort: fast for many rows)
        cycles = cycles[np.lexsort(cycles.T[::-1])]
        cycles = cycles[np.concatenate([[True], np.any(cycles[1:] != cycles[:-1], axis=1)])]
    if cycles.size == 0:
        return 0
    return int(np.linalg.matrix_rank(cycles.astype(float)))
