"""A content key is the call: one parameters object per calculator operation.

Each object holds every parameter that reaches the calculation, the operation's defaults
filled in explicitly (read from the signatures of :func:`sianode.calculators.relax`,
:func:`~sianode.calculators.neb` and :func:`~sianode.calculators.bcc_li_reference` with
:mod:`inspect`, so they cannot drift apart). The same object is hashed into the content key
(:meth:`key_dict`) and unpacked into the call (:meth:`call_kwargs`)::

    p = NEBParams(n_images=5, fmax=0.05, steps=500)
    key = p.key([start, end], calculator)          # content_key("neb", ..., p.key_dict())
    result = neb(start, end, calculator, **p.call_kwargs())

So changing any parameter changes the key, and nothing is hashed that the call does not
use. The calculator's device and thread count are not parameters of the operation (they
do not change the numbers); the calculator's identity is hashed separately.

:func:`upgrade_parameters` translates the ``input.parameters`` a version-1 document
stored (sianode 0.1's ``steps.relax_parameters`` / ``neb_parameters`` /
``reference_parameters``) into today's :meth:`key_dict`, for ``sianode db migrate --rekey``.
"""

from __future__ import annotations

import inspect
from dataclasses import asdict, dataclass, fields
from typing import Any, Callable, ClassVar, Mapping

from sianode.calculators.neb import SCALE_FMAX
from sianode.calculators.neb import neb as _neb
from sianode.calculators.reference import bcc_li_reference as _bcc_li_reference
from sianode.calculators.relax import OPTIMIZERS
from sianode.calculators.relax import relax as _relax
from sianode.errors import InputError
from sianode.store import content_key, schema

#: arguments of the operations that are not parameters (the structures and the calculator)
NOT_PARAMETERS = frozenset({"atoms", "start", "end", "calculator"})


def operation_defaults(fn: Callable[..., Any]) -> dict[str, Any]:
    """``{name: default}`` of every parameter of ``fn`` except :data:`NOT_PARAMETERS`."""
    out = {}
    for name, p in inspect.signature(fn).parameters.items():
        if name in NOT_PARAMETERS or p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            continue
        out[name] = None if p.default is inspect.Parameter.empty else p.default
    return out


_RELAX = operation_defaults(_relax)
_NEB = operation_defaults(_neb)
_REFERENCE = operation_defaults(_bcc_li_reference)


def _positive(name: str, value: Any, unit: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
        raise InputError(f"{name} must be a positive number in {unit}, got {value!r}")
    return float(value)


def _count(name: str, value: Any, minimum: int = 0) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise InputError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def _choice(name: str, value: Any, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise InputError(f"{name} {value!r} is not allowed; choose one of {', '.join(allowed)}")
    return str(value)


class _Params:
    """Shared behaviour: key dict = call kwargs = every field, plain JSON values."""

    KIND: ClassVar[str]
    OPERATION: ClassVar[Callable[..., Any]]

    def key_dict(self) -> dict[str, Any]:
        """The parameters hashed into the content key (every field; no device, no threads)."""
        return asdict(self)  # type: ignore[call-overload]

    def call_kwargs(self) -> dict[str, Any]:
        """Keyword arguments of the operation (unpacked into the call)."""
        return asdict(self)  # type: ignore[call-overload]

    def key(self, structures: Any, calculator: Any) -> str:
        """Content key of this operation on ``structures`` with ``calculator``
        (a :class:`~sianode.calculators.CalculatorSpec`; its ``identity()`` is hashed)."""
        identity = calculator.identity() if hasattr(calculator, "identity") else dict(calculator)
        return content_key(self.KIND, structures, identity, self.key_dict())

    @classmethod
    def from_key_dict(cls, data: Mapping[str, Any]) -> Any:
        """The object whose :meth:`key_dict` is ``data``; None when ``data`` has other keys."""
        names = {f.name for f in fields(cls)}  # type: ignore[arg-type]
        if set(data) != names:
            return None
        return cls(**dict(data))


@dataclass(frozen=True)
class RelaxParams(_Params):
    """Parameters of :func:`sianode.calculators.relax`.

    Attributes
    ----------
    fmax : float
        Force criterion, eV/Angstrom.
    cell : bool
        Relax the cell too (FrechetCellFilter).
    steps : int
        Maximum optimizer steps.
    optimizer : str
        ASE optimizer name.
    """

    KIND: ClassVar[str] = schema.RELAX
    OPERATION: ClassVar[Callable[..., Any]] = _relax

    fmax: float = _RELAX["fmax"]
    cell: bool = _RELAX["cell"]
    steps: int = _RELAX["steps"]
    optimizer: str = _RELAX["optimizer"]

    def __post_init__(self) -> None:
        object.__setattr__(self, "fmax", _positive("relax fmax", self.fmax, "eV/A"))
        object.__setattr__(self, "cell", bool(self.cell))
        object.__setattr__(self, "steps", _count("relax steps", self.steps))
        _choice("relax optimizer", self.optimizer, OPTIMIZERS)


@dataclass(frozen=True)
class NEBParams(_Params):
    """Parameters of :func:`sianode.calculators.neb` (see its docstring for the method).

    Attributes
    ----------
    n_images : int
        Moving images.
    fmax : float
        Final force criterion, eV/Angstrom.
    climb : bool
        Climbing image.
    steps : int
        Optimizer steps over both phases.
    preconverge_fmax : float
        Criterion of the phase without climbing image, eV/Angstrom.
    optimizer : str
        ASE optimizer name.
    interpolation : str
        ``"idpp"`` or ``"linear"``.
    method : str
        ASE tangent method.
    k : float
        Spring constant, eV/Angstrom^2.
    dynamic : bool
        DyNEB dynamic relaxation.
    scale_fmax : float
        DyNEB criterion scaling, 1/Angstrom; None in the call's signature is filled in here
        as the call resolves it (``SCALE_FMAX`` with ``dynamic``, 0 without).
    """

    KIND: ClassVar[str] = schema.NEB
    OPERATION: ClassVar[Callable[..., Any]] = _neb

    n_images: int = _NEB["n_images"]
    fmax: float = _NEB["fmax"]
    climb: bool = _NEB["climb"]
    steps: int = _NEB["steps"]
    preconverge_fmax: float = _NEB["preconverge_fmax"]
    optimizer: str = _NEB["optimizer"]
    interpolation: str = _NEB["interpolation"]
    method: str = _NEB["method"]
    k: float = _NEB["k"]
    dynamic: bool = _NEB["dynamic"]
    scale_fmax: float | None = _NEB["scale_fmax"]

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        set_(self, "n_images", _count("neb n_images", self.n_images, 1))
        set_(self, "fmax", _positive("neb fmax", self.fmax, "eV/A"))
        set_(self, "climb", bool(self.climb))
        set_(self, "steps", _count("neb steps", self.steps))
        set_(self, "preconverge_fmax", _positive("neb preconverge_fmax", self.preconverge_fmax, "eV/A"))
        _choice("neb optimizer", self.optimizer, OPTIMIZERS)
        _choice("neb interpolation", self.interpolation, ("idpp", "linear"))
        set_(self, "method", str(self.method))
        set_(self, "k", _positive("neb k", self.k, "eV/A^2"))
        set_(self, "dynamic", bool(self.dynamic))
        scale = self.scale_fmax
        if scale is None:
            scale = SCALE_FMAX if self.dynamic else 0.0
        if isinstance(scale, bool) or not isinstance(scale, (int, float)) or scale < 0:
            raise InputError(f"neb scale_fmax must be a non-negative number in 1/A, got {scale!r}")
        if scale > 0 and not self.dynamic:
            raise InputError(f"neb scale_fmax={scale!r} needs dynamic=True (DyNEB); use scale_fmax=0 "
                             "with dynamic=False")
        set_(self, "scale_fmax", float(scale))


@dataclass(frozen=True)
class ReferenceParams(_Params):
    """Parameters of :func:`sianode.calculators.bcc_li_reference`.

    Attributes
    ----------
    fmax : float
        Force criterion of the cell relaxation, eV/Angstrom.
    steps : int
        Maximum optimizer steps.
    a_start_A : float
        Start lattice constant of bcc Li, Angstrom.
    """

    KIND: ClassVar[str] = schema.REFERENCE
    OPERATION: ClassVar[Callable[..., Any]] = _bcc_li_reference

    fmax: float = _REFERENCE["fmax"]
    steps: int = _REFERENCE["steps"]
    a_start_A: float = _REFERENCE["a_start_A"]

    def __post_init__(self) -> None:
        object.__setattr__(self, "fmax", _positive("reference fmax", self.fmax, "eV/A"))
        object.__setattr__(self, "steps", _count("reference steps", self.steps))
        object.__setattr__(self, "a_start_A", _positive("reference a_start_A", self.a_start_A, "Angstrom"))

    def key(self, structures: Any, calculator: Any) -> str:
        """Content key of the reference (it has no input structure: ``structures`` is ignored)."""
        return super().key(None, calculator)


PARAMS: dict[str, type[_Params]] = {schema.RELAX: RelaxParams, schema.NEB: NEBParams,
                                    schema.REFERENCE: ReferenceParams}

#: Parameters sianode 0.1 passed to no call, so the operation's defaults of that release
#: ran (commit d63e7a5 to this one): neb() of the NEB step, bcc_li_reference() of the reference.
V1_UNRECORDED: dict[str, dict[str, Any]] = {
    schema.NEB: {"preconverge_fmax": 0.5, "optimizer": "FIRE", "k": 0.1},
    schema.REFERENCE: {"steps": 300, "a_start_A": 3.44},
}


def _v1_params(kind: str, parameters: Mapping[str, Any]) -> _Params | None:
    p = dict(parameters)
    if kind == schema.RELAX and set(p) == {"fmax", "steps", "cell", "optimizer"}:
        return RelaxParams(**p)
    if kind == schema.NEB and set(p) == {"n_images", "fmax", "steps", "climb", "method", "interpolation", "band",
                                         "scale_fmax"} and p["band"] == "DyNEB":
        return NEBParams(n_images=p["n_images"], fmax=p["fmax"], steps=p["steps"], climb=p["climb"],
                         method=p["method"], interpolation=p["interpolation"], dynamic=True,
                         scale_fmax=p["scale_fmax"], **V1_UNRECORDED[schema.NEB])
    if kind == schema.REFERENCE and set(p) == {"fmax", "structure", "cell"} and p["structure"] == "bcc Li" \
            and p["cell"] is True:
        return ReferenceParams(fmax=p["fmax"], **V1_UNRECORDED[schema.REFERENCE])
    return None


def upgrade_parameters(kind: str, parameters: Mapping[str, Any]) -> dict[str, Any] | None:
    """Today's key dict of a stored calculation's ``input.parameters``.

    Parameters in today's form are returned as they are; those of sianode 0.1 are
    translated, filling in :data:`V1_UNRECORDED`. None when they are not fully known
    (another shape, or a kind without a parameters object): such a document keeps its key.
    """
    cls = PARAMS.get(kind)
    if cls is None:
        return None
    try:
        params = cls.from_key_dict(parameters) or _v1_params(kind, parameters)
    except (InputError, TypeError):
        return None
    return None if params is None else params.key_dict()
