"""Write a host, its Li-site insertions and hop end points to disk (extxyz and CIF)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Sequence

from sianode.errors import InputError

log = logging.getLogger(__name__)

#: formats written for every structure (``ase.io.write`` format names)
FORMATS = (("extxyz", "extxyz"), ("cif", "cif"))


def write_structures(
    outdir: str | Path, host: Any, dopant_indices: Sequence[int] | None = None, select: str = "all"
) -> list[str]:
    """Write ``host``, ``li_<site>`` for every T/H class and ``<hop>_start/_end`` end points.

    Parameters
    ----------
    outdir
        Directory (created if missing).
    host
        ASE ``Atoms`` / pymatgen ``Structure`` of the (doped) host.
    dopant_indices
        Dopant atom indices (default: non-Si atoms).
    select
        Hop paths to write: ``near``, ``far``, ``all`` or ``within:R`` (see
        :func:`~sianode.structures.select_hop_paths`); one start and end point per
        unordered path, as a campaign's NEB has them.

    Returns
    -------
    list of str
        Paths written, in order.
    """
    from ase.io import write

    from sianode.structures.hops import hop_endpoints, insert_li, li_hop_paths, select_hop_paths
    from sianode.structures.serialize import as_ase
    from sianode.structures.sites import li_sites

    atoms = as_ase(host)
    out = Path(outdir)
    if out.exists() and not out.is_dir():
        raise InputError(f"output {str(out)!r} is a file: give a directory")
    out.mkdir(parents=True, exist_ok=True)
    items: list[tuple[str, Any]] = [("host", atoms)]
    sites = li_sites(atoms, dopant_indices)
    items += [(f"li_{c.label}", insert_li(atoms, c.frac)) for c in sites.T + sites.H]
    for hop in select_hop_paths(li_hop_paths(atoms, dopant_indices), select):
        start, end = hop_endpoints(atoms, hop)
        items += [(f"{hop.label}_start", start), (f"{hop.label}_end", end)]
    written = []
    for name, struct in items:
        for ext, fmt in FORMATS:
            path = out / f"{name}.{ext}"
            write(path, struct, format=fmt)
            written.append(str(path))
    log.info("wrote %d files to %s", len(written), out)
    return written
