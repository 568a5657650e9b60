"""Dilute superposition: one dopant's energy shifts, added over many dopants (issue 12, item 2).

PHYSICS.md section 7: the site and saddle energy shifts caused by ONE substitutional dopant
(its "kernel", read off the hop network of a one-dopant cell) are added over the dopants of
a large random supercell of the diamond T-site network; the exact diffusivity of that
network (:mod:`sianode.transport.solver`) then gives D_eff at any concentration, with the
spread over random arrangements. Additivity is an assumption; explicit multi-dopant cells
test where it breaks.

Geometry (PHYSICS.md section 2): Si at fcc + (0,0,0) ("A") and fcc + (1/4,1/4,1/4) ("B"),
T sites at fcc + (1/2,1/2,1/2) and fcc + (3/4,3/4,3/4), H sites midway between neighbouring
T sites. The environment of a B-site dopant is that of an A-site dopant inverted through
the Si-Si bond centre (a symmetry of the diamond lattice), so the kernel stores its offsets
as seen from an A-site dopant and a B-site dopant uses them negated.

Offsets are taken by minimum image from the dopant; a site that lies equally far from
several images of the dopant (on the boundary of the source cell) is listed once per image
with its shift divided equally, so a one-dopant cell of the source's size is reproduced
exactly (tests/transport/test_superposition.py) and larger cells see a symmetric kernel.
"""

from __future__ import annotations

import itertools
import logging
import math
from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np

from sianode.errors import InputError
from sianode.transport.arrhenius import arrhenius_fit
from sianode.transport.diamond import (
    HOP_VECTORS_Q,
    SI_BASIS_Q,
    T_BASIS_Q,
    cells_tuple,
    diamond_t_network,
    lattice_points_q,
)
from sianode.transport.network import DEFAULT_ATTEMPT_FREQUENCY_HZ, HopNetwork
from sianode.transport.solver import diffusivity
from sianode.transport.tst import diamond_tst_diffusivity

log = logging.getLogger(__name__)

#: offsets within this fraction of a grid step (a/4 for T, a/8 for H) of a lattice point count as on it.
GRID_TOLERANCE = 0.2
#: images of a site within this distance (Angstrom) of the nearest count as equally near.
TIE_TOLERANCE_A = 1e-6

_IMAGES = np.array(list(itertools.product((-1, 0, 1), repeat=3)), dtype=float)


@dataclass
class DopantKernel:
    """Energy shifts around one substitutional dopant (offsets as seen from an A-site dopant).

    Attributes
    ----------
    a_A : float
        Cubic lattice constant of the host, Angstrom.
    t_offsets : (p, 3) array
        Cartesian offsets of T sites from the dopant, Angstrom.
    t_shift_eV : (p,) array
        E_i(doped) - E_T(pure) at those sites, eV.
    h_offsets : (q, 3) array
        Cartesian offsets of H saddles (hop midpoints) from the dopant, Angstrom.
    h_shift_eV : (q,) array
        E^s(doped) - E^s(pure) at those saddles, eV.
    site_energy_pure_eV, saddle_energy_pure_eV : float
        T-site and saddle energies of pure Si (same reference), eV.
    source : dict
        Where the kernel came from (cell, dopant position, attempt frequency, ...).
    """

    a_A: float
    t_offsets: np.ndarray
    t_shift_eV: np.ndarray
    h_offsets: np.ndarray
    h_shift_eV: np.ndarray
    site_energy_pure_eV: float
    saddle_energy_pure_eV: float
    source: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.a_A = float(self.a_A)
        if not (math.isfinite(self.a_A) and self.a_A > 0):
            raise InputError(f"dopant kernel: a_A = {self.a_A!r}; need a positive lattice constant in Angstrom")
        self.t_offsets = np.asarray(self.t_offsets, dtype=float).reshape(-1, 3)
        self.t_shift_eV = np.asarray(self.t_shift_eV, dtype=float).reshape(-1)
        self.h_offsets = np.asarray(self.h_offsets, dtype=float).reshape(-1, 3)
        self.h_shift_eV = np.asarray(self.h_shift_eV, dtype=float).reshape(-1)
        if len(self.t_offsets) != len(self.t_shift_eV) or len(self.h_offsets) != len(self.h_shift_eV):
            raise InputError("dopant kernel: need one shift per offset (t_offsets/t_shift_eV, h_offsets/h_shift_eV)")
        self.site_energy_pure_eV = float(self.site_energy_pure_eV)
        self.saddle_energy_pure_eV = float(self.saddle_energy_pure_eV)
        self.source = dict(self.source)

    @property
    def attempt_frequency_Hz(self) -> float:
        """Attempt frequency of the source network (1e13 Hz if it did not say)."""
        return float(self.source.get("attempt_frequency_Hz", DEFAULT_ATTEMPT_FREQUENCY_HZ))

    @property
    def barrier_pure_eV(self) -> float:
        """Pure-Si barrier, saddle minus site energy, eV."""
        return self.saddle_energy_pure_eV - self.site_energy_pure_eV

    def as_dict(self) -> dict[str, Any]:
        return {
            "a_A": self.a_A,
            "t_offsets": self.t_offsets.tolist(),
            "t_shift_eV": self.t_shift_eV.tolist(),
            "h_offsets": self.h_offsets.tolist(),
            "h_shift_eV": self.h_shift_eV.tolist(),
            "site_energy_pure_eV": self.site_energy_pure_eV,
            "saddle_energy_pure_eV": self.saddle_energy_pure_eV,
            "source": dict(self.source),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> DopantKernel:
        keys = ("a_A", "t_offsets", "t_shift_eV", "h_offsets", "h_shift_eV", "site_energy_pure_eV", "saddle_energy_pure_eV")
        missing = [k for k in keys if k not in d]
        if missing:
            raise InputError(f"dopant kernel: missing key(s) {missing}; need {list(keys)}")
        return cls(**{k: d[k] for k in keys}, source=d.get("source", {}))


def _min_image_offsets(frac_diff: np.ndarray, cell: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """All nearest images of each fractional difference: (item index, Cartesian offset, weight 1/k)."""
    wrapped = frac_diff - np.round(frac_diff)
    cand = (wrapped[:, None, :] + _IMAGES[None, :, :]) @ cell  # (n, 27, 3)
    dist = np.linalg.norm(cand, axis=2)
    near = dist <= dist.min(axis=1, keepdims=True) + TIE_TOLERANCE_A
    item, img = np.nonzero(near)
    weight = 1.0 / near.sum(axis=1)[item]
    return item, cand[item, img], weight


def kernel_from_network(
    doped: HopNetwork,
    dopant_frac: Sequence[float],
    *,
    site_energy_pure_eV: float,
    saddle_energy_pure_eV: float,
    a_A: float,
) -> DopantKernel:
    """The shifts of every T site and every saddle of a one-dopant cell, relative to pure Si.

    Parameters
    ----------
    doped : HopNetwork
        T-site network of a cell with one substitutional dopant (sites on the diamond T
        lattice of lattice constant ``a_A``).
    dopant_frac : (3,) array
        Fractional position of the dopant in ``doped.cell_A``.
    site_energy_pure_eV, saddle_energy_pure_eV : float
        Pure-Si T-site and saddle energies on the same reference as ``doped``, eV.
    a_A : float
        Lattice constant of the host, Angstrom.

    Returns
    -------
    DopantKernel
        Shifts ``E - E_pure`` at minimum-image offsets from the dopant (module docstring),
        oriented as seen from an A-site (fcc + 0) dopant.
    """
    doped.validate()
    dop = np.asarray(dopant_frac, dtype=float).reshape(-1)
    if dop.shape != (3,) or not np.all(np.isfinite(dop)):
        raise InputError(f"dopant_frac = {dopant_frac!r}; need three fractional coordinates")
    cell = doped.cell_A
    t_item, t_off, t_w = _min_image_offsets(doped.frac - dop, cell)
    h_item, h_off, h_w = _min_image_offsets(doped.hop_midpoints_frac() - dop, cell)
    t_shift = (doped.energies_eV[t_item] - float(site_energy_pure_eV)) * t_w
    h_shift = (doped.saddle_eV[h_item] - float(saddle_energy_pure_eV)) * h_w
    # orientation: nearest T sites of an A-site Si lie along (s1, s2, s3) a/4 with s1 s2 s3 = -1
    dist = np.linalg.norm(t_off, axis=1)
    nearest = t_off[dist <= dist.min() + 0.1]
    signs = np.prod(np.sign(np.round(nearest / (a_A / 4.0))), axis=1)
    if np.all(signs == -1):
        flipped = False
    elif np.all(signs == 1):
        flipped = True
        t_off, h_off = -t_off, -h_off
    else:
        raise InputError(
            f"kernel_from_network: the T sites nearest the dopant at {dop.tolist()} are not those of a Si site of "
            f"the diamond lattice with a = {a_A} A; check dopant_frac and a_A"
        )
    source = {
        "n_sites": doped.n_sites,
        "n_hops": doped.n_hops,
        "cell_A": cell.tolist(),
        "dopant_frac": dop.tolist(),
        "dopant_sublattice": "B" if flipped else "A",
        "attempt_frequency_Hz": doped.attempt_frequency_Hz,
    }
    return DopantKernel(
        a_A=a_A,
        t_offsets=t_off,
        t_shift_eV=t_shift,
        h_offsets=h_off,
        h_shift_eV=h_shift,
        site_energy_pure_eV=site_energy_pure_eV,
        saddle_energy_pure_eV=saddle_energy_pure_eV,
        source=source,
    )


def _grid_offsets(offsets: np.ndarray, step_A: float, what: str) -> np.ndarray:
    """Offsets in integer units of ``step_A``; InputError when one is off the grid."""
    q = offsets / step_A
    qi = np.round(q).astype(np.int64)
    bad = np.flatnonzero(np.any(np.abs(q - qi) > GRID_TOLERANCE, axis=1))
    if bad.size:
        k = int(bad[0])
        raise InputError(
            f"dopant kernel: {what} offset {np.round(offsets[k], 4).tolist()} A is not on the diamond {what} lattice "
            f"(step {step_A:.4g} A); the kernel's a_A must be the lattice constant of its source cell"
        )
    return qi


def _lookup(keys_sorted: np.ndarray, order: np.ndarray, query: np.ndarray, what: str) -> np.ndarray:
    pos = np.clip(np.searchsorted(keys_sorted, query), 0, len(keys_sorted) - 1)
    if np.any(keys_sorted[pos] != query):
        raise InputError(f"dopant kernel: an offset does not land on a {what} of the supercell; check the kernel's a_A")
    return order[pos]


def _linear(q: np.ndarray, shape: np.ndarray) -> np.ndarray:
    w = np.mod(q, shape)
    return (w[..., 0] * shape[1] + w[..., 1]) * shape[2] + w[..., 2]


def superposed_network(kernel: DopantKernel, L: int | tuple[int, int, int], n_dopants: int, seed: int = 0) -> HopNetwork:
    """T-site network of L x L x L conventional cells with ``n_dopants`` dopants' shifts added.

    Dopants go on distinct random Si sites (``numpy.random.default_rng(seed)``); every
    dopant adds ``kernel.t_shift_eV`` to the T sites and ``kernel.h_shift_eV`` to the
    saddles at its offsets (negated for B-site dopants). Where the summed shifts would put a
    saddle below one of its end sites, the saddle is raised to that end (barrier 0; logged).
    """
    cells = cells_tuple(L)
    n_si = 8 * int(np.prod(cells))
    if isinstance(n_dopants, bool) or not isinstance(n_dopants, (int, np.integer)) or not 0 <= n_dopants <= n_si:
        raise InputError(f"n_dopants = {n_dopants!r}; need an integer from 0 to {n_si} (Si sites of the {cells} cell)")
    net = diamond_t_network(
        cells,
        kernel.a_A,
        site_energy_eV=kernel.site_energy_pure_eV,
        saddle_energy_eV=kernel.saddle_energy_pure_eV,
        attempt_frequency_Hz=kernel.attempt_frequency_Hz,
    )
    if n_dopants == 0:
        return net
    rng = np.random.default_rng(seed)
    si_q = lattice_points_q(cells, SI_BASIS_Q)
    chosen = np.sort(rng.choice(n_si, size=int(n_dopants), replace=False))
    sign = np.where(chosen % 8 < 4, 1, -1)[:, None, None]  # A (fcc + 0) or B (fcc + 1/4)
    dop_q = si_q[chosen][:, None, :]

    shape4 = np.array([4 * c for c in cells])
    t_q = lattice_points_q(cells, T_BASIS_Q)
    t_keys = _linear(t_q, shape4)
    t_order = np.argsort(t_keys)
    t_off = _grid_offsets(kernel.t_offsets, kernel.a_A / 4.0, "T")
    t_idx = _lookup(t_keys[t_order], t_order, _linear(dop_q + sign * t_off[None], shape4), "T site")
    net.energies_eV = net.energies_eV + np.bincount(
        t_idx.reshape(-1), np.broadcast_to(kernel.t_shift_eV, t_idx.shape).reshape(-1), minlength=net.n_sites
    )

    shape8 = 2 * shape4
    a_sites = np.flatnonzero(np.tile(np.arange(8) < 4, int(np.prod(cells))))
    h_q8 = 2 * t_q[np.repeat(a_sites, 4)] + np.tile(HOP_VECTORS_Q, (a_sites.size, 1))  # hop h of diamond_t_network
    h_keys = _linear(h_q8, shape8)
    h_order = np.argsort(h_keys)
    h_off = _grid_offsets(kernel.h_offsets, kernel.a_A / 8.0, "H")
    h_idx = _lookup(h_keys[h_order], h_order, _linear(2 * dop_q + sign * h_off[None], shape8), "H site")
    saddle = net.saddle_eV + np.bincount(
        h_idx.reshape(-1), np.broadcast_to(kernel.h_shift_eV, h_idx.shape).reshape(-1), minlength=net.n_hops
    )
    ends = np.maximum(net.energies_eV[net.i], net.energies_eV[net.j])
    low = saddle < ends
    if np.any(low):
        log.info("superposition: %d of %d saddles fell below an end site and were raised to it", int(low.sum()), low.size)
    net.saddle_eV = np.maximum(saddle, ends)
    return net


def concentration_curve(
    kernel: DopantKernel,
    percents: Sequence[float],
    *,
    L: int | tuple[int, int, int] = 6,
    seeds: int = 4,
    temperature_K: float = 300.0,
    t_range_K: tuple[float, float] = (250.0, 400.0),
) -> list[dict[str, Any]]:
    """D_eff and E_a,eff against dopant atom % from the superposed kernel.

    For each requested percent, ``n = round(percent/100 * 8 L^3)`` dopants (at least one
    for a positive percent) on ``seeds`` random arrangements (seeds 0..seeds-1).

    Returns
    -------
    list of dict
        ``percent`` (the actual atom %: 100 n / (8 L^3)), ``requested_percent``,
        ``n_dopants``, ``D_m2_s`` (mean over seeds), ``stderr_m2_s`` (standard error of
        that mean; None for one seed), ``Ea_eff_eV`` (mean Arrhenius slope over
        ``t_range_K``), ``ratio_to_pure`` (D over the pure lattice's (1/6) z d^2 nu
        exp(-E_a/kT)), ``L``, ``seeds``, ``temperature_K``.
    """
    cells = cells_tuple(L)
    if isinstance(seeds, bool) or not isinstance(seeds, (int, np.integer)) or seeds < 1:
        raise InputError(f"seeds = {seeds!r}; need an integer >= 1")
    n_si = 8 * int(np.prod(cells))
    d_pure = diamond_tst_diffusivity(kernel.a_A, kernel.barrier_pure_eV, temperature_K, kernel.attempt_frequency_Hz)
    rows = []
    for p in percents:
        p = float(p)
        if not (math.isfinite(p) and 0 <= p <= 100):
            raise InputError(f"percent = {p!r}; need an atom % from 0 to 100")
        n = int(round(p / 100.0 * n_si))
        if p > 0 and n == 0:
            n = 1
        ds, eas = [], []
        for s in range(int(seeds) if n > 0 else 1):
            net = superposed_network(kernel, L, n, seed=s)
            ds.append(diffusivity(net, temperature_K))
            eas.append(arrhenius_fit(net, t_range_K).Ea_eV)
        d = float(np.mean(ds))
        err = float(np.std(ds, ddof=1) / math.sqrt(len(ds))) if len(ds) > 1 else (0.0 if n == 0 else None)
        rows.append({
            "percent": 100.0 * n / n_si,
            "requested_percent": p,
            "n_dopants": n,
            "D_m2_s": d,
            "stderr_m2_s": err,
            "Ea_eff_eV": float(np.mean(eas)),
            "ratio_to_pure": d / d_pure,
            "L": list(cells),
            "seeds": len(ds),
            "temperature_K": float(temperature_K),
        })
    return rows
