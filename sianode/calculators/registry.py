"""Named, offline, provenance-recorded ASE calculators.

A calculator is chosen by name (:func:`get_calculator`) and comes back as a
:class:`CalculatorSpec`: a small, JSON-safe description that can build the ASE calculator
(:meth:`CalculatorSpec.make`, cached per process), say where its numbers come from
(:meth:`CalculatorSpec.provenance`) and which part of that defines the numbers
(:meth:`CalculatorSpec.identity`, used by the store's content hash).

Nothing is downloaded: ML weights are read from the installed wheels only, and a model whose
weights are not inside the wheel is an :class:`~sianode.errors.InputError`.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import importlib.util
import json
import logging
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from sianode.errors import InputError, SianodeError

logger = logging.getLogger(__name__)

#: the calculator used when none is named: SevenNet-MF-0 with its PBE modal, chosen from
#: ``benchmarks/validate_all.py`` and the GPAW cross-check (README, "Calculators and how far
#: to trust them"): Li's T->H->T barrier in pure Si 0.592 eV (DFT 0.58; GPAW at the same
#: geometries 0.569) and E_H - E_T 0.590 eV (DFT 0.58), where 7net-0 (the default
#: until 2026-12) gives 0.470 and 0.468, at 0.93x 7net-0's cost per call.
DEFAULT_CALCULATOR = "sevennet-mf0"

#: SevenNet model names -> checkpoint path inside the ``sevenn`` wheel
#: (mirrors ``sevenn.util.pretrained_name_to_path`` and ``sevenn._const``, sevenn 0.13).
SEVENNET_CHECKPOINTS = {
    "7net-0": "pretrained_potentials/SevenNet_0__11Jul2024/checkpoint_sevennet_0.pth",
    "7net-0_11jul2024": "pretrained_potentials/SevenNet_0__11Jul2024/checkpoint_sevennet_0.pth",
    "7net-0_22may2024": "pretrained_potentials/SevenNet_0__22May2024/checkpoint_sevennet_0.pth",
    "7net-l3i5": "pretrained_potentials/SevenNet_l3i5/checkpoint_l3i5.pth",
}
#: multi-fidelity SevenNet models inside the wheel -> (checkpoint, modals); the modal (the DFT
#: functional the output head reproduces) is a parameter and part of the identity.
SEVENNET_MF_CHECKPOINTS = {
    "7net-mf-0": ("pretrained_potentials/SevenNet_MF_0/checkpoint_sevennet_mf_0.pth", ("PBE", "R2SCAN")),
}
#: SevenNet models that sevenn knows but that are downloaded on first use (not offline).
SEVENNET_DOWNLOADED = ("7net-omat", "7net-mf-ompa", "7net-omni", "7net-omni-i8", "7net-omni-i12")

#: CHGNet model names -> checkpoint path inside the ``chgnet`` wheel (chgnet.model.CHGNet.load).
CHGNET_CHECKPOINTS = {
    "0.3.0": "pretrained/0.3.0/chgnet_0.3.0_e29f68s314m37.pth.tar",
    "0.2.0": "pretrained/0.2.0/chgnet_0.2.0_e30f77s348m32.pth.tar",
}

_SHA_CACHE: dict[tuple[str, int, float], str] = {}
_CALC_CACHE: dict[str, Any] = {}
_CACHE_LOCK = threading.Lock()


def package_dir(package: str) -> Path | None:
    """Directory of an installed package, found without importing it (None if absent)."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(list(spec.submodule_search_locations)[0])


def package_version(distribution: str) -> str | None:
    """Installed version of a distribution, or None when it is not installed."""
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return None


def sha256_file(path: str | Path) -> str:
    """SHA-256 hex digest of a file (cached per process by path, size and mtime)."""
    path = Path(path)
    st = path.stat()
    key = (str(path.resolve()), st.st_size, st.st_mtime)
    if key not in _SHA_CACHE:
        digest = hashlib.sha256()
        with path.open("rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
        _SHA_CACHE[key] = digest.hexdigest()
    return _SHA_CACHE[key]


def sha1_file(path: str | Path) -> str:
    """SHA-1 hex digest of a file (the checksum some archives, e.g. OpenKIM, publish)."""
    return hashlib.sha1(Path(path).read_bytes()).hexdigest()


def resolve_threads(threads: int | None) -> int:
    """Thread count: ``threads`` if given, else ``$OMP_NUM_THREADS``, else 1."""
    if threads is None:
        env = os.environ.get("OMP_NUM_THREADS", "").strip()
        threads = int(env) if env.isdigit() and int(env) > 0 else 1
    if not isinstance(threads, int) or isinstance(threads, bool) or threads < 1:
        raise InputError(f"threads must be a positive integer, got {threads!r}")
    return threads


def set_threads(n: int | None = None) -> int:
    """Set the intra-op thread count of torch (if torch is imported) and return it.

    With N workers on N cores each worker should use ``set_threads(1)`` so they do not fight.
    ``n=None`` reads ``$OMP_NUM_THREADS`` (default 1).
    """
    n = resolve_threads(n)
    import sys

    torch = sys.modules.get("torch")
    if torch is not None and torch.get_num_threads() != n:
        torch.set_num_threads(n)
    return n


@dataclass(frozen=True)
class Backend:
    """What the registry knows about one calculator name (internal)."""

    name: str
    what: str
    package: str  # distribution name whose version is recorded
    defaults: dict[str, Any]
    factory: Callable[["CalculatorSpec"], Any]
    weights: Callable[[dict[str, Any]], Path | None]
    elements: Callable[["CalculatorSpec"], frozenset[str]]
    validate: Callable[[dict[str, Any]], None] = lambda p: None
    uses_torch: bool = False
    not_physics: bool = False
    licence: str = "see package"
    #: parameter names that choose where/how the numbers are computed, not what they are
    #: (e.g. ``device``): in the provenance, never in :meth:`CalculatorSpec.identity`.
    runtime_parameters: tuple[str, ...] = ()
    #: further files that define the numbers (name -> path), beyond ``weights``.
    data_files: Callable[[dict[str, Any]], dict[str, Path]] | None = None
    #: the device the calculator runs on, from the parameters ("cpu" when not an ML model).
    device: Callable[[dict[str, Any]], str] = lambda p: "cpu"


_BACKENDS: dict[str, Backend] = {}


def register_backend(backend: Backend) -> None:
    """Add a calculator name to the registry (used by :mod:`sianode.calculators.backends`)."""
    _BACKENDS[backend.name] = backend


def _backends() -> dict[str, Backend]:
    # sianode.calculators.backends registers every calculator; the package's __init__ imports
    # it, and Python runs that __init__ before any submodule, so the table is always full here.
    return _BACKENDS


def available_calculators() -> list[str]:
    """Names accepted by :func:`get_calculator`, default first."""
    names = sorted(_backends())
    names.remove(DEFAULT_CALCULATOR)
    return [DEFAULT_CALCULATOR, *names]


def describe(name: str) -> str:
    """One line saying what calculator ``name`` is."""
    return _backend(name).what


def _backend(name: str) -> Backend:
    backends = _backends()
    if name not in backends:
        raise InputError(f"unknown calculator {name!r}; allowed: {', '.join(available_calculators())}")
    return backends[name]


@dataclass
class CalculatorSpec:
    """A named calculator with its parameters; JSON-safe, builds the ASE calculator on demand.

    Attributes
    ----------
    name : str
        Registry name (``sevennet``, ``chgnet``, ``tersoff``, ...).
    parameters : dict
        All parameters, defaults filled in (JSON-safe). They define the numbers, except the
        backend's ``runtime_parameters`` (``device``), which say only where they are computed.
    threads : int
        torch / OpenMP thread count used when the calculator runs (not part of the identity).
    """

    name: str
    parameters: dict[str, Any] = field(default_factory=dict)
    threads: int = 1

    def __post_init__(self) -> None:
        backend = _backend(self.name)
        unknown = sorted(set(self.parameters) - set(backend.defaults))
        if unknown:
            allowed = ", ".join(sorted(backend.defaults)) or "none"
            raise InputError(f"unknown parameter(s) {', '.join(unknown)} for calculator {self.name!r}; "
                             f"allowed: {allowed}")
        self.parameters = {**backend.defaults, **self.parameters}
        try:
            json.dumps(self.parameters)
        except TypeError as exc:
            raise InputError(f"parameters of calculator {self.name!r} must be JSON-safe: {exc}") from None
        backend.validate(self.parameters)
        self.threads = resolve_threads(self.threads)

    @property
    def backend(self) -> Backend:
        return _backend(self.name)

    @property
    def weights_path(self) -> Path | None:
        """The weights / parameter file that defines the numbers (None for built-in formulas)."""
        return self.backend.weights(self.parameters)

    @property
    def model(self) -> str:
        """Model name (the ML model, the potential variant, or the calculator name)."""
        return str(self.parameters.get("model", self.parameters.get("variant", self.name)))

    def _cache_key(self) -> str:
        return json.dumps({"name": self.name, "parameters": self.parameters}, sort_keys=True)

    def make(self) -> Any:
        """The ASE calculator, built once per process for these parameters; threads applied."""
        key = self._cache_key()
        with _CACHE_LOCK:
            calc = _CALC_CACHE.get(key)
            if calc is None:
                logger.info("loading calculator %s %s", self.name, self.parameters)
                if self.backend.uses_torch:
                    import torch  # noqa: F401  (so set_threads reaches it)
                set_threads(self.threads)
                calc = self.backend.factory(self)
                _CALC_CACHE[key] = calc
        set_threads(self.threads)
        return calc

    @property
    def supported_elements(self) -> frozenset[str]:
        """Chemical symbols this calculator can compute."""
        return self.backend.elements(self)

    def check_elements(self, atoms: Any) -> None:
        """Raise :class:`InputError` naming the first element this calculator does not support."""
        supported = self.supported_elements
        for symbol in dict.fromkeys(atoms.get_chemical_symbols()):
            if symbol not in supported:
                shown = ", ".join(sorted(supported)) if len(supported) < 20 else f"{len(supported)} elements"
                raise InputError(f"calculator {self.name!r} does not support element {symbol}; "
                                 f"it supports: {shown}")

    def identity(self) -> dict[str, Any]:
        """What defines the numbers: name, model, weights SHA-256 and parameters.

        Threads, host and the backend's ``runtime_parameters`` (the ``device`` of the ML models)
        are left out: the same model on CPU or GPU is the same calculation within float tolerance.
        Backends with further data files add ``data_sha256`` (file name -> SHA-256).
        """
        path = self.weights_path
        runtime = set(self.backend.runtime_parameters)
        identity: dict[str, Any] = {
            "name": self.name,
            "model": self.model,
            "weights_sha256": sha256_file(path) if path is not None and path.is_file() else None,
            "parameters": {k: v for k, v in self.parameters.items() if k not in runtime},
        }
        files = self.data_files
        if files:
            identity["data_sha256"] = {name: sha256_file(f) if f.is_file() else None for name, f in files.items()}
        return identity

    @property
    def data_files(self) -> dict[str, Path]:
        """Further files that define the numbers (name -> path); empty for most calculators."""
        fn = self.backend.data_files
        return dict(fn(self.parameters)) if fn is not None else {}

    @property
    def device(self) -> str:
        """Where the calculator runs: ``cpu`` or ``cuda`` (``auto`` resolved)."""
        return self.backend.device(self.parameters)

    def provenance(self) -> dict[str, Any]:
        """Everything needed to say where the numbers came from (JSON-safe)."""
        backend = self.backend
        path = self.weights_path
        present = path is not None and path.is_file()
        return {
            "calculator": self.name,
            "what": backend.what,
            "package": backend.package,
            "package_version": package_version(backend.package),
            "model": self.model,
            "weights_file": str(path) if path is not None else None,
            "weights_present": bool(present) if path is not None else None,
            "weights_sha256": sha256_file(path) if present else None,
            "parameters": dict(self.parameters),
            "device": self.device,
            "threads": self.threads,
            "not_physics": backend.not_physics,
            "licence": backend.licence,
            **({"data_files": {name: {"path": str(f), "sha1": sha1_file(f) if f.is_file() else None,
                                      "sha256": sha256_file(f) if f.is_file() else None}
                               for name, f in self.data_files.items()}} if self.data_files else {}),
        }

    def as_dict(self) -> dict[str, Any]:
        """``{"name", "parameters", "threads"}``; inverse of :meth:`from_dict`."""
        return {"name": self.name, "parameters": dict(self.parameters), "threads": self.threads}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "CalculatorSpec":
        return cls(name=data["name"], parameters=dict(data.get("parameters", {})),
                   threads=data.get("threads", 1))


def get_calculator(name: str = DEFAULT_CALCULATOR, threads: int | None = None, **parameters: Any) -> CalculatorSpec:
    """The :class:`CalculatorSpec` for a registry name.

    Parameters
    ----------
    name : str
        One of :func:`available_calculators`.
    threads : int, optional
        Thread count (default ``$OMP_NUM_THREADS`` or 1).
    **parameters
        Calculator parameters; unknown ones are an :class:`InputError`. The ML calculators take
        ``device`` (``auto`` (default: ``cuda`` when torch sees a GPU), ``cpu`` or ``cuda``): it is
        recorded in the provenance, not in the identity (the content key).
    """
    if not isinstance(name, str):
        raise InputError(f"calculator name must be a string, got {name!r}")
    return CalculatorSpec(name=name, parameters=parameters, threads=resolve_threads(threads))


def calculator_table() -> list[dict[str, Any]]:
    """One JSON-safe row per calculator, default first: what ``sianode calculators list`` shows.

    Keys: ``name``, ``what``, ``package``, ``version`` (installed version or "not installed"),
    ``installed`` (package importable and weights/data files present), ``elements`` (sorted
    symbols, or "unknown: <reason>" when the model cannot be loaded), ``licence``, ``weights``
    ("yes"/"no"/"-" for none), ``sha256`` (first 12 hex digits), ``weights_sha256`` (full),
    ``data_files`` (name -> SHA-1 and SHA-256, for bundled parameter files), ``device``.
    """
    rows = []
    for name in available_calculators():
        spec = get_calculator(name)
        backend = spec.backend
        version = package_version(backend.package)
        path = spec.weights_path
        present = None if path is None else path.is_file()
        files_ok = all(f.is_file() for f in spec.data_files.values())
        installed = version is not None and present is not False and files_ok
        try:
            elements: Any = sorted(spec.supported_elements)
        except (SianodeError, ImportError) as exc:
            elements = f"unknown: {exc}"
        digest = sha256_file(path) if present else None
        rows.append({
            "name": name, "what": backend.what, "package": backend.package,
            "version": version or "not installed", "installed": bool(installed), "elements": elements,
            "licence": backend.licence,
            "weights": "-" if present is None else ("yes" if present else "no"),
            "sha256": (digest or "")[:12], "weights_sha256": digest,
            "data_files": {n: {"sha1": sha1_file(f), "sha256": sha256_file(f)} for n, f in spec.data_files.items()
                           if f.is_file()},
            "device": spec.device if installed else None,
        })
    return rows


def clear_cache() -> None:
    """Forget the calculators built in this process (tests use it)."""
    with _CACHE_LOCK:
        _CALC_CACHE.clear()
