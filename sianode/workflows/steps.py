"""Store-backed calculation steps: one plain function per kind of calculation.

Each step computes the content key of its calculation (kind, input structure(s),
calculator identity, operation parameters), asks the store for it and runs the
calculator only when no one has (:meth:`sianode.store.ResultStore.get_or_compute`).
So the same calculation is never run twice, whichever campaign, workflow or command
asked for it, and every caller gets the same stored document.

A content key is the call: the operation's parameters are one object
(:mod:`sianode.workflows.params`: :class:`RelaxParams`, :class:`NEBParams`,
:class:`ReferenceParams`, the call's defaults filled in) whose ``key_dict()`` is hashed
into the key and whose ``call_kwargs()`` are unpacked into the call, so nothing the call
uses is left out of the key. Documents are built through the models of
:mod:`sianode.store.documents` (:func:`~sianode.store.documents.build_meta`,
:func:`~sianode.store.documents.build_output`) and carry ``schema_version``.

Every returned document has ``status`` ``"completed"`` or ``"failed"`` (with
``reason``). A relaxation that did not converge, an NEB whose status is not ``ok``,
a NaN energy or atoms that are too close are recorded as ``failed`` with a reason that
names the value: never as a number.

No FireWorks here: the FireTasks in :mod:`sianode.workflows.tasks` and the
``sianode validate`` command call these same functions.

Auditing calculator calls
-------------------------
When ``$SIANODE_CALL_LOG`` names a file, each step that actually runs the calculator
appends one line ``<kind> <key> <pid>`` to it (the workflow tests count calls this way).
"""

from __future__ import annotations

import dataclasses
import logging
import math
import os
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Mapping, Sequence, TypeVar

from sianode.errors import CalculationFailed, SianodeError
from sianode.store import COMPLETED, FAILED, schema
from sianode.store.documents import build_meta, build_output
from sianode.workflows.params import NEBParams, ReferenceParams, RelaxParams

if TYPE_CHECKING:
    from ase import Atoms

    from sianode.store.protocols import CalculatorLike, StoreLike

log = logging.getLogger(__name__)

P = TypeVar("P", RelaxParams, NEBParams, ReferenceParams)

#: env var naming a file that receives one line per calculator run
CALL_LOG_ENV = "SIANODE_CALL_LOG"


@dataclass
class StepStats:
    """What a series of steps did: calculations run here vs found in the store.

    Attributes
    ----------
    computed : int
        Calculations this process ran (calculator calls).
    reused : int
        Calculations whose document was already in the store (or run by another worker).
    failed : int
        Steps whose document is ``failed`` (run here or found).
    wall_s : float
        Wall time spent inside the calculator calls run here, seconds.
    keys : list of str
        Content keys of the calculations run here.
    """

    computed: int = 0
    reused: int = 0
    failed: int = 0
    wall_s: float = 0.0
    keys: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"computed": self.computed, "reused": self.reused, "failed": self.failed,
                "wall_s": self.wall_s, "keys": list(self.keys)}

    def record(self, key: str, doc: Mapping[str, Any], ran_s: Sequence[float]) -> None:
        """Count one step: computed here (``ran_s`` holds its calculator wall time) or
        reused (``ran_s`` empty), and whether its document is ``failed``."""
        if ran_s:
            self.computed += 1
            self.wall_s += ran_s[0]
            self.keys.append(key)
        else:
            self.reused += 1
        if doc.get("status") == FAILED:
            self.failed += 1


# ------------------------------------------------------------------ helpers
def _result_dict(result: Any) -> dict[str, Any]:
    return dict(result.as_dict() if hasattr(result, "as_dict") else result)


def _get(result: Any, name: str, default: Any = None) -> Any:
    if isinstance(result, Mapping):
        return result.get(name, default)
    return getattr(result, name, default)


def _check_energy(result: Any, what: str) -> None:
    energy = _get(result, "energy_eV")
    if energy is not None and not math.isfinite(float(energy)):
        raise CalculationFailed(f"{what} gave a non-finite energy ({energy}); allowed: a finite number of eV")


def _run(store: StoreLike, key: str, kind: str, fn: Callable[[], Any], meta: Mapping[str, Any],
         stats: StepStats | None) -> dict[str, Any]:
    """``store.get_or_compute`` with bookkeeping of whether the calculator ran here."""
    ran: list[float] = []

    def wrapped() -> Any:
        t0 = time.perf_counter()
        log_path = os.environ.get(CALL_LOG_ENV)
        if log_path:
            with open(log_path, "a", encoding="utf-8") as fh:
                fh.write(f"{kind} {key} {os.getpid()}\n")
        try:
            try:
                return fn()
            except CalculationFailed:
                raise
            except SianodeError as exc:  # e.g. an element the calculator lacks
                raise CalculationFailed(str(exc)) from exc
        finally:
            ran.append(time.perf_counter() - t0)

    campaign = (meta.get("labels") or {}).get("campaign")
    if campaign is not None:
        meta = {**meta, "labels": {**meta["labels"], "campaigns": [str(campaign)]}}
    doc = store.get_or_compute(key, wrapped, meta={**meta, "kind": kind})
    doc = _primary_labels(store, doc, meta.get("labels") or {})
    if campaign is not None:
        doc = tag_campaign(store, doc, str(campaign))
    if stats is not None:
        stats.record(key, doc, ran)
    if doc.get("status") == FAILED:
        log.warning("%s %s failed: %s", kind, key[:12], doc.get("reason"))
    return doc


#: When one calculation serves two roles (Li at a T-site representative is both an
#: ``insertion`` and a hop's end point: same structure, same key, computed once), the
#: role that analysis reads first wins the document's primary labels.
ROLE_PRIORITY = {schema.ROLE_HOP_END: 1, schema.ROLE_INSERTION: 2, schema.ROLE_HOST: 2,
                 schema.ROLE_LATTICE: 2, schema.ROLE_LI_METAL: 2, schema.ROLE_HOP: 2}


def _primary_labels(store: StoreLike, doc: dict[str, Any], labels: Mapping[str, Any]) -> dict[str, Any]:
    """Give ``doc`` the requested ``labels`` when their role outranks the stored one."""
    old_role = (doc.get("labels") or {}).get("role")
    new_role = labels.get("role")
    if new_role is None or new_role == old_role:
        return doc
    if ROLE_PRIORITY.get(new_role, 0) <= ROLE_PRIORITY.get(old_role, 0):
        return doc
    store.relabel(doc["_id"], dict(labels))
    return store.get(doc["_id"]) or doc


def tag_campaign(store: StoreLike, doc: dict[str, Any], campaign: str) -> dict[str, Any]:
    """Record that ``campaign`` uses the calculation ``doc`` (``labels.campaigns``, a set).

    ``labels.campaign`` keeps the campaign that first asked for the calculation; a
    document shared by several campaigns lists them all in ``labels.campaigns``, so
    ``{"labels.campaigns": name}`` finds every document a campaign uses. Only this tag
    is ever added to a finished document; its result is never touched.
    """
    if campaign in ((doc.get("labels") or {}).get("campaigns") or ()):
        return doc
    store.tag(doc["_id"], campaign)
    labels = dict(doc.get("labels") or {})
    labels["campaigns"] = [*(labels.get("campaigns") or []), campaign]
    return {**doc, "labels": labels}


def _params(cls: type[P], params: P | None, **overrides: Any) -> P:
    """``params`` (default: the operation's defaults) with the given keyword values replaced."""
    base = params if params is not None else cls()
    changes = {k: v for k, v in overrides.items() if v is not None}
    return dataclasses.replace(base, **changes) if changes else base


def relax_key(atoms: Atoms, calculator: CalculatorLike, *, params: RelaxParams | None = None,
              fmax: float | None = None, steps: int | None = None, cell: bool | None = None) -> str:
    """Content key of :func:`relax_step` with these arguments (no store access)."""
    return _params(RelaxParams, params, fmax=fmax, steps=steps, cell=cell).key(atoms, calculator)


def neb_key(start: Atoms, end: Atoms, calculator: CalculatorLike, *, params: NEBParams | None = None,
            **overrides: Any) -> str:
    """Content key of :func:`neb_step` with these arguments (no store access)."""
    return _params(NEBParams, params, **overrides).key([start, end], calculator)


def reference_key(calculator: CalculatorLike, *, params: ReferenceParams | None = None,
                  fmax: float | None = None) -> str:
    """Content key of :func:`reference_step` with these arguments (no store access)."""
    return _params(ReferenceParams, params, fmax=fmax).key(None, calculator)


# -------------------------------------------------------------------- steps
def relax_step(
    store: StoreLike,
    atoms: Atoms,
    calculator: CalculatorLike,
    *,
    params: RelaxParams | None = None,
    fmax: float | None = None,
    steps: int | None = None,
    cell: bool | None = None,
    labels: Mapping[str, Any] | None = None,
    stats: StepStats | None = None,
) -> dict[str, Any]:
    """Relax ``atoms`` with ``calculator`` through the store.

    The :class:`~sianode.workflows.params.RelaxParams` (``params``, default the call's
    defaults, with ``fmax`` / ``steps`` / ``cell`` replaced when given) are both hashed into
    the content key and unpacked into :func:`sianode.calculators.relax`.

    Parameters
    ----------
    store : ResultStore
        Where the result lives.
    atoms : ase.Atoms
        Start structure (not modified).
    calculator : CalculatorSpec
        From :func:`sianode.calculators.get_calculator`.
    params : RelaxParams, optional
        Every parameter of the relaxation.
    fmax : float, optional
        Force criterion, eV/Angstrom.
    steps : int, optional
        Maximum optimizer steps; not converged within them is a failure.
    cell : bool, optional
        Relax the cell too.
    labels : dict
        Campaign labels (see :mod:`sianode.store.schema`).
    stats : StepStats, optional
        Updated with whether the calculator ran here.

    Returns
    -------
    dict
        The stored document (``status`` ``"completed"`` or ``"failed"`` with ``reason``).
    """
    from sianode.structures.serialize import atoms_to_dict

    p = _params(RelaxParams, params, fmax=fmax, steps=steps, cell=cell)
    key = p.key(atoms, calculator)

    def compute() -> dict[str, Any]:
        work = atoms.copy()
        calculator.check_elements(work)
        result = RelaxParams.OPERATION(work, calculator, **p.call_kwargs())
        _check_energy(result, "relaxation")
        if not _get(result, "converged", True):
            final = _get(result, "fmax_eV_A")
            shown = f"{float(final):.4f} eV/A" if final is not None else "unknown"
            raise CalculationFailed(
                f"relaxation did not converge in {p.steps} steps: final fmax {shown} > {p.fmax} eV/A; "
                "allowed: raise relax.steps or loosen relax.fmax")
        return build_output(schema.RELAX, _result_dict(result))

    meta = build_meta(schema.RELAX, input={"structure": atoms_to_dict(atoms), "parameters": p.key_dict()},
                      calculator=calculator.provenance(), labels=dict(labels or {}))
    return _run(store, key, schema.RELAX, compute, meta, stats)


def neb_step(
    store: StoreLike,
    start: Atoms,
    end: Atoms,
    calculator: CalculatorLike,
    *,
    params: NEBParams | None = None,
    n_images: int | None = None,
    fmax: float | None = None,
    steps: int | None = None,
    climb: bool | None = None,
    labels: Mapping[str, Any] | None = None,
    stats: StepStats | None = None,
) -> dict[str, Any]:
    """Climbing-image NEB between two relaxed end points, through the store.

    The :class:`~sianode.workflows.params.NEBParams` (``params``, default the call's
    defaults, with the keyword values replaced when given) are both hashed into the content
    key and unpacked into :func:`sianode.calculators.neb`: the band algorithm (DyNEB,
    ``scale_fmax``), spring constant, optimizer and pre-convergence criterion included.

    Parameters
    ----------
    start, end : ase.Atoms
        Relaxed end points (same atoms, same order).
    params : NEBParams, optional
        Every parameter of the NEB.
    n_images : int, optional
        Intermediate images.
    fmax : float, optional
        Force criterion, eV/Angstrom.
    steps : int, optional
        Maximum optimizer steps.
    climb : bool, optional
        Climbing image (Henkelman, Uberuaga, Jonsson, J. Chem. Phys. 113 (2000) 9901).

    Returns
    -------
    dict
        The stored document; ``failed`` unless the NEB status is ``ok`` (reason names it).
    """
    from sianode.structures.serialize import atoms_to_dict

    p = _params(NEBParams, params, n_images=n_images, fmax=fmax, steps=steps, climb=climb)
    key = p.key([start, end], calculator)

    def compute() -> dict[str, Any]:
        s, e = start.copy(), end.copy()
        calculator.check_elements(s)
        result = NEBParams.OPERATION(s, e, calculator, **p.call_kwargs())
        status = _get(result, "status", "ok")
        if status != "ok":
            raise CalculationFailed(
                f"NEB status {status!r} after at most {p.steps} steps (fmax {p.fmax} eV/A, {p.n_images} images); "
                "only 'ok' gives a barrier")
        barrier = _get(result, "barrier_eV")
        if barrier is None or not math.isfinite(float(barrier)):
            raise CalculationFailed(f"NEB gave no finite barrier ({barrier!r})")
        return build_output(schema.NEB, _result_dict(result))

    meta = build_meta(schema.NEB, input={"structures": [atoms_to_dict(start), atoms_to_dict(end)],
                                         "parameters": p.key_dict()},
                      calculator=calculator.provenance(), labels=dict(labels or {}))
    return _run(store, key, schema.NEB, compute, meta, stats)


def reference_step(
    store: StoreLike,
    calculator: CalculatorLike,
    *,
    params: ReferenceParams | None = None,
    fmax: float | None = None,
    labels: Mapping[str, Any] | None = None,
    stats: StepStats | None = None,
) -> dict[str, Any]:
    """The bcc-Li reference (``mu_Li``, eV/atom) of ``calculator``, through the store.

    The document has ``kind = "reference"`` and ``labels.role = "li_metal"``; its output
    holds ``mu_Li_eV`` and ``a_A`` (:class:`~sianode.store.documents.ReferenceOutput`). The
    :class:`~sianode.workflows.params.ReferenceParams` (``fmax`` replaced when given) are
    hashed into the key and unpacked into :func:`sianode.calculators.bcc_li_reference`.
    """
    p = _params(ReferenceParams, params, fmax=fmax)
    key = p.key(None, calculator)

    def compute() -> dict[str, Any]:
        out = _result_dict(ReferenceParams.OPERATION(calculator, **p.call_kwargs()))
        mu = out.get("mu_Li_eV")
        if mu is None or not math.isfinite(float(mu)):
            raise CalculationFailed(f"bcc Li reference gave a non-finite energy per atom ({mu})")
        return build_output(schema.REFERENCE, out)

    meta = build_meta(schema.REFERENCE, input={"structure": None, "parameters": p.key_dict()},
                      calculator=calculator.provenance(),
                      labels={**dict(labels or {}), "role": schema.ROLE_LI_METAL})
    return _run(store, key, schema.REFERENCE, compute, meta, stats)


def relaxed_atoms(store: StoreLike, doc: Mapping[str, Any]) -> Atoms:
    """The final structure (``output.structure``) of a completed ``relax`` document, as ASE ``Atoms``.

    Raises
    ------
    CalculationFailed
        When the document is not completed (the reason names its key and reason), or has no
        ``output.structure`` (a version-1 document of another spelling: run ``sianode db migrate``).
    """
    from sianode.structures.serialize import atoms_from_dict

    if doc.get("status") != COMPLETED:
        raise CalculationFailed(f"calculation {str(doc.get('key'))[:12]} is {doc.get('status')}: {doc.get('reason')}")
    structure = (doc.get("output") or {}).get("structure")
    if not isinstance(structure, Mapping):
        raise CalculationFailed(f"relax document {str(doc.get('key'))[:12]} has no output.structure; "
                                "run `sianode db migrate` on a database written by sianode 0.1")
    return atoms_from_dict(dict(structure))
