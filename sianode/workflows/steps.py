"""Store-backed calculation steps: one plain function per kind of calculation.

Each step computes the content key of its calculation (kind, input structure(s),
calculator identity, operation parameters), asks the store for it and runs the
calculator only when no one has (:meth:`sianode.store.ResultStore.get_or_compute`).
So the same calculation is never run twice, whichever campaign, workflow or command
asked for it, and every caller gets the same stored document.

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

import logging
import math
import os
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

from sianode.errors import CalculationFailed, SianodeError
from sianode.store import FAILED, content_key
from sianode.store import schema

log = logging.getLogger(__name__)

#: the optimizer of every relaxation (part of the content key)
RELAX_OPTIMIZER = "FIRE"
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


# ------------------------------------------------------------------ helpers
def _result_dict(result: Any) -> dict[str, Any]:
    return dict(result.as_dict() if hasattr(result, "as_dict") else result)


def _get(result: Any, name: str, default: Any = None) -> Any:
    if isinstance(result, Mapping):
        return result.get(name, default)
    return getattr(result, name, default)


def _check_energy(result: Any, what: str) -> None:
    energy = _get(result, "energy_eV", _get(result, "energy"))
    if energy is not None and not math.isfinite(float(energy)):
        raise CalculationFailed(f"{what} gave a non-finite energy ({energy}); allowed: a finite number of eV")


def _run(store: Any, key: str, kind: str, fn: Callable[[], Any], meta: Mapping[str, Any],
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
        if ran:
            stats.computed += 1
            stats.wall_s += ran[0]
            stats.keys.append(key)
        else:
            stats.reused += 1
        if doc.get("status") == FAILED:
            stats.failed += 1
    if doc.get("status") == FAILED:
        log.warning("%s %s failed: %s", kind, key[:12], doc.get("reason"))
    return doc


#: When one calculation serves two roles (Li at a T-site representative is both an
#: ``insertion`` and a hop's end point: same structure, same key, computed once), the
#: role that analysis reads first wins the document's primary labels.
ROLE_PRIORITY = {schema.ROLE_HOP_END: 1, schema.ROLE_INSERTION: 2, schema.ROLE_HOST: 2,
                 schema.ROLE_LATTICE: 2, schema.ROLE_LI_METAL: 2, schema.ROLE_HOP: 2}


def _primary_labels(store: Any, doc: dict[str, Any], labels: Mapping[str, Any]) -> dict[str, Any]:
    """Give ``doc`` the requested ``labels`` when their role outranks the stored one."""
    old_role = (doc.get("labels") or {}).get("role")
    new_role = labels.get("role")
    if new_role is None or new_role == old_role:
        return doc
    if ROLE_PRIORITY.get(new_role, 0) <= ROLE_PRIORITY.get(old_role, 0):
        return doc
    store.relabel(doc["_id"], dict(labels))
    return store.get(doc["_id"]) or doc


def tag_campaign(store: Any, doc: dict[str, Any], campaign: str) -> dict[str, Any]:
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


def relax_parameters(*, fmax: float, steps: int, cell: bool) -> dict[str, Any]:
    """The operation parameters of a relaxation (part of its content key)."""
    return {"fmax": float(fmax), "steps": int(steps), "cell": bool(cell), "optimizer": RELAX_OPTIMIZER}


def relax_key(atoms: Any, calculator: Any, *, fmax: float = 0.05, steps: int = 300, cell: bool = False) -> str:
    """Content key of :func:`relax_step` with these arguments (no store access)."""
    return content_key(schema.RELAX, atoms, calculator.identity(), relax_parameters(fmax=fmax, steps=steps, cell=cell))


#: the band of every NEB: dynamic relaxation (ASE DyNEB) with this ``scale_fmax`` (1/A)
NEB_SCALE_FMAX = 1.0


def neb_parameters(*, n_images: int, fmax: float, steps: int, climb: bool) -> dict[str, Any]:
    """The operation parameters of an NEB (part of its content key): everything that can
    change its numbers, the band algorithm included."""
    return {"n_images": int(n_images), "fmax": float(fmax), "steps": int(steps), "climb": bool(climb),
            "method": "improvedtangent", "interpolation": "idpp", "band": "DyNEB",
            "scale_fmax": NEB_SCALE_FMAX}


def reference_parameters(*, fmax: float) -> dict[str, Any]:
    """The operation parameters of the bcc-Li reference (part of its content key)."""
    return {"fmax": float(fmax), "structure": "bcc Li", "cell": True}


# -------------------------------------------------------------------- steps
def relax_step(
    store: Any,
    atoms: Any,
    calculator: Any,
    *,
    fmax: float = 0.05,
    steps: int = 300,
    cell: bool = False,
    labels: Mapping[str, Any] | None = None,
    stats: StepStats | None = None,
) -> dict[str, Any]:
    """Relax ``atoms`` with ``calculator`` through the store.

    Parameters
    ----------
    store : ResultStore
        Where the result lives.
    atoms : ase.Atoms
        Start structure (not modified).
    calculator : CalculatorSpec
        From :func:`sianode.calculators.get_calculator`.
    fmax : float
        Force criterion, eV/Angstrom.
    steps : int
        Maximum optimizer steps; not converged within them is a failure.
    cell : bool
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

    params = relax_parameters(fmax=fmax, steps=steps, cell=cell)
    key = content_key(schema.RELAX, atoms, calculator.identity(), params)

    def compute() -> Any:
        from sianode.calculators.tasks import relax

        work = atoms.copy()
        calculator.check_elements(work)
        result = relax(work, calculator, fmax=fmax, cell=cell, steps=steps, optimizer=RELAX_OPTIMIZER)
        _check_energy(result, "relaxation")
        if not _get(result, "converged", True):
            final = _get(result, "fmax_eV_A", _get(result, "final_fmax", _get(result, "fmax")))
            shown = f"{float(final):.4f} eV/A" if final is not None else "unknown"
            raise CalculationFailed(
                f"relaxation did not converge in {steps} steps: final fmax {shown} > {fmax} eV/A; "
                "allowed: raise relax.steps or loosen relax.fmax")
        return result

    meta = {"input": {"structure": atoms_to_dict(atoms), "parameters": params},
            "calculator": calculator.provenance(), "labels": dict(labels or {})}
    return _run(store, key, schema.RELAX, compute, meta, stats)


def neb_step(
    store: Any,
    start: Any,
    end: Any,
    calculator: Any,
    *,
    n_images: int = 5,
    fmax: float = 0.05,
    steps: int = 300,
    climb: bool = True,
    labels: Mapping[str, Any] | None = None,
    stats: StepStats | None = None,
) -> dict[str, Any]:
    """Climbing-image NEB between two relaxed end points, through the store.

    Parameters
    ----------
    start, end : ase.Atoms
        Relaxed end points (same atoms, same order).
    n_images : int
        Intermediate images.
    fmax : float
        Force criterion, eV/Angstrom.
    steps : int
        Maximum optimizer steps.
    climb : bool
        Climbing image (Henkelman, Uberuaga, Jonsson, J. Chem. Phys. 113 (2000) 9901).

    Returns
    -------
    dict
        The stored document; ``failed`` unless the NEB status is ``ok`` (reason names it).
    """
    from sianode.structures.serialize import atoms_to_dict

    params = neb_parameters(n_images=n_images, fmax=fmax, steps=steps, climb=climb)
    key = content_key(schema.NEB, [start, end], calculator.identity(), params)

    def compute() -> Any:
        from sianode.calculators.tasks import neb

        s, e = start.copy(), end.copy()
        calculator.check_elements(s)
        result = neb(s, e, calculator, n_images=n_images, fmax=fmax, climb=climb, steps=steps,
                     dynamic=True, scale_fmax=NEB_SCALE_FMAX)
        status = _get(result, "status", "ok")
        if status != "ok":
            raise CalculationFailed(
                f"NEB status {status!r} after at most {steps} steps (fmax {fmax} eV/A, {n_images} images); "
                "only 'ok' gives a barrier")
        barrier = _get(result, "barrier_eV")
        if barrier is None or not math.isfinite(float(barrier)):
            raise CalculationFailed(f"NEB gave no finite barrier ({barrier!r})")
        return result

    meta = {"input": {"structures": [atoms_to_dict(start), atoms_to_dict(end)], "parameters": params},
            "calculator": calculator.provenance(), "labels": dict(labels or {})}
    return _run(store, key, schema.NEB, compute, meta, stats)


def reference_step(
    store: Any,
    calculator: Any,
    *,
    fmax: float = 0.01,
    labels: Mapping[str, Any] | None = None,
    stats: StepStats | None = None,
) -> dict[str, Any]:
    """The bcc-Li reference (``mu_Li``, eV/atom) of ``calculator``, through the store.

    The document has ``kind = "reference"`` and ``labels.role = "li_metal"``; its output
    holds ``mu_li_eV`` and ``lattice_constant_A`` (see :mod:`sianode.store.schema`).
    """
    params = reference_parameters(fmax=fmax)
    key = content_key(schema.REFERENCE, None, calculator.identity(), params)

    def compute() -> Any:
        from sianode.calculators.tasks import bcc_li_reference

        out = _result_dict(bcc_li_reference(calculator, fmax=fmax))
        mu = out.get("mu_li_eV", out.get("mu_Li_eV"))
        if mu is None or not math.isfinite(float(mu)):
            raise CalculationFailed(f"bcc Li reference gave a non-finite energy per atom ({mu})")
        # the names of sianode.store.schema, next to the calculator layer's own
        out.setdefault("mu_li_eV", float(mu))
        if "lattice_constant_A" not in out and out.get("a_A") is not None:
            out["lattice_constant_A"] = float(out["a_A"])
        return out

    meta = {"input": {"structure": None, "parameters": params}, "calculator": calculator.provenance(),
            "labels": {**dict(labels or {}), "role": schema.ROLE_LI_METAL}}
    return _run(store, key, schema.REFERENCE, compute, meta, stats)


def relaxed_atoms(store: Any, doc: Mapping[str, Any]) -> Any:
    """The final structure of a completed ``relax`` document, as ASE ``Atoms``.

    Raises
    ------
    CalculationFailed
        When the document is not completed (the reason names its key and reason).
    """
    from sianode.structures.serialize import atoms_from_dict

    if doc.get("status") != "completed":
        raise CalculationFailed(f"calculation {str(doc.get('key'))[:12]} is {doc.get('status')}: {doc.get('reason')}")
    out = doc.get("output") or {}
    for name in ("structure", "final_structure", "atoms", "final_atoms"):
        if isinstance(out.get(name), Mapping):
            return atoms_from_dict(dict(out[name]))
    files = doc.get("files") or {}
    start = atoms_from_dict(doc["input"]["structure"])
    for name in ("positions", "final_positions"):
        if name in files:
            atoms = start.copy()
            atoms.set_positions(store.get_array(files[name]))
            if "cell" in files:
                atoms.set_cell(store.get_array(files["cell"]), scale_atoms=False)
            return atoms
    raise CalculationFailed(f"relax document {str(doc.get('key'))[:12]} has no final structure in its output")
