"""The Li T-site network of the diamond lattice (PHYSICS.md section 2).

Conventional cubic cell of edge a: Si at fcc + (0,0,0) and fcc + (1/4,1/4,1/4); Li T sites
at fcc + (1/2,1/2,1/2) ("A") and fcc + (3/4,3/4,3/4) ("B"), 8 per cell; each T site has
z = 4 neighbouring T sites at distance d = sqrt(3)/4 a, and the H site (the saddle of the
T -> H -> T hop) lies midway between them (Wan et al., J. Phys.: Condens. Matter 22 (2010)
415501). Positions are handled as integers in units of a/4 (T, Si) or a/8 (H) so that
look-ups are exact.
"""

from __future__ import annotations

import numpy as np

from sianode.transport.network import HopNetwork, NetworkError

#: fcc translations of the conventional cell, units of a/4.
FCC_Q = np.array([[0, 0, 0], [0, 2, 2], [2, 0, 2], [2, 2, 0]], dtype=np.int64)
#: T sites in one conventional cell, units of a/4 (A = fcc + 1/2 first, then B = fcc + 3/4).
T_BASIS_Q = np.concatenate([FCC_Q + 2, FCC_Q + 3]) % 4
#: Si sites in one conventional cell, units of a/4 (fcc + 0 first, then fcc + 1/4).
SI_BASIS_Q = np.concatenate([FCC_Q, FCC_Q + 1]) % 4
#: T(A) -> T(B) hop vectors, units of a/4 (the B -> A hops are their negatives).
HOP_VECTORS_Q = np.array([[1, 1, 1], [1, -1, -1], [-1, 1, -1], [-1, -1, 1]], dtype=np.int64)


def cells_tuple(n_cells: int | tuple[int, int, int] | list[int]) -> tuple[int, int, int]:
    """``n`` or ``(n1, n2, n3)`` as a tuple of three positive ints (NetworkError otherwise)."""
    raw = (n_cells,) * 3 if isinstance(n_cells, (int, np.integer)) else tuple(n_cells)
    if len(raw) != 3 or any(not isinstance(x, (int, np.integer)) or isinstance(x, bool) or x < 1 for x in raw):
        raise NetworkError(f"diamond network: n_cells = {n_cells!r}; need a positive int or three positive ints")
    return tuple(int(x) for x in raw)  # type: ignore[return-value]


def lattice_points_q(cells: tuple[int, int, int], basis_q: np.ndarray) -> np.ndarray:
    """Integer positions (units of a/4) of ``basis_q`` repeated over the cells, cell-major order."""
    grid = np.stack(np.meshgrid(*(np.arange(c) for c in cells), indexing="ij"), axis=-1).reshape(-1, 3)
    return (4 * grid[:, None, :] + basis_q[None, :, :]).reshape(-1, 3)


def site_lookup(points_q: np.ndarray, cells: tuple[int, int, int], scale: int = 4) -> np.ndarray:
    """Dense index grid: ``grid[tuple(q mod (scale*cells))]`` is the index of the point, else -1."""
    shape = tuple(scale * c for c in cells)
    grid = np.full(shape, -1, dtype=np.int64)
    q = np.mod(points_q, shape)
    grid[q[:, 0], q[:, 1], q[:, 2]] = np.arange(len(points_q))
    return grid


def diamond_t_network(
    n_cells: int | tuple[int, int, int],
    a_A: float,
    *,
    site_energy_eV: float = 0.0,
    saddle_energy_eV: float,
    attempt_frequency_Hz: float = 1e13,
) -> HopNetwork:
    """The T-site network of n1 x n2 x n3 conventional diamond cells, all sites and saddles equal.

    Parameters
    ----------
    n_cells : int or (3,) ints
        Conventional cells along each axis (8 T sites and 16 hops per cell).
    a_A : float
        Cubic lattice constant, Angstrom.
    site_energy_eV, saddle_energy_eV : float
        Energy of every T site and every H saddle, eV; the barrier is their difference.
    attempt_frequency_Hz : float
        Attempt frequency nu, Hz.

    Returns
    -------
    HopNetwork
        Sites in cell-major order (8 per cell, A sites first); hop ``h`` goes from an A
        site to a B site.
    """
    cells = cells_tuple(n_cells)
    if not (np.isfinite(a_A) and a_A > 0):
        raise NetworkError(f"diamond network: a_A = {a_A!r}; need a positive lattice constant in Angstrom")
    q = lattice_points_q(cells, T_BASIS_Q)
    grid = site_lookup(q, cells)
    shape = np.array([4 * c for c in cells])
    is_a = np.tile(np.arange(8) < 4, int(np.prod(cells)))
    src = np.repeat(np.flatnonzero(is_a), 4)
    target = q[src] + np.tile(HOP_VECTORS_Q, (int(is_a.sum()), 1))
    image = np.floor_divide(target, shape)
    wrapped = target - image * shape
    dst = grid[wrapped[:, 0], wrapped[:, 1], wrapped[:, 2]]
    assert np.all(dst >= 0), "T(A) + hop vector must be a T(B) site"
    cell = np.diag([c * a_A for c in cells]).astype(float)
    frac = q / shape
    n, m = len(q), len(src)
    return HopNetwork(
        cell_A=cell,
        frac=frac,
        energies_eV=np.full(n, float(site_energy_eV)),
        i=src,
        j=dst,
        image=image,
        saddle_eV=np.full(m, float(saddle_energy_eV)),
        attempt_frequency_Hz=attempt_frequency_Hz,
    )
