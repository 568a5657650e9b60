"""Climbing-image NEB with the improved tangent and an IDPP start path (ASE ``ase.mep.NEB``).

Method: Henkelman, Uberuaga, Jonsson, J. Chem. Phys. 113 (2000) 9901 (climbing image);
Henkelman, Jonsson, J. Chem. Phys. 113 (2000) 9978 (improved tangent); Smidstrup et al.,
J. Chem. Phys. 140 (2014) 214106 (IDPP interpolation). The band is first relaxed without the
climbing image to ``preconverge_fmax``, then the highest image climbs until ``fmax``.

By default the band is an ASE ``DyNEB`` (Lindgren, Kastlunger, Peterson, J. Chem. Theory Comput.
15 (2019) 5787): an image whose NEB force is below its criterion is not moved and so not
recomputed, and with ``scale_fmax > 0`` the criterion of image i grows with its distance from the
highest image, fmax_i = fmax (1 + scale_fmax |R_i - R_max|) (|.| over all atoms, A). The climbing
image is always held to ``fmax`` itself, so the saddle and the barrier are converged as tightly as
without scaling; only images away from the saddle (which do not enter the barrier) are looser.
Every calculator evaluation of every image, end points included, is counted in
``n_force_calls``: images that are skipped are not computed, so they cost nothing.

Optimizer: L-BFGS by default (ASE ``LBFGS``; Liu, Nocedal, Math. Program. 45 (1989) 503, as
recommended for NEB by Sheppard, Terrell, Henkelman, J. Chem. Phys. 128 (2008) 134106). sianode 0.1
used FIRE; on the Li T -> H -> T hop in 64-atom Si, L-BFGS converges the same band in about half
the force calls (SevenNet 7net-0: 33 vs 68, barrier 0.4671 vs 0.4678 eV; Li-Si MEAM on five hops:
43-73 vs 93-152 calls, barriers within 0.004 eV of a plain-NEB fmax 0.01 reference, FIRE's
within 0.005 eV). ``benchmarks/neb.py`` measures old and new on the same hop in one run.

Evaluation (:class:`BandEvaluation`, not a parameter of the result: it does not change the
numbers): the images that need a calculator call in one optimizer step are computed together
where the calculator allows it (:func:`sianode.calculators.batch.batch_evaluator`: SevenNet on a
GPU in one batched model call, on CPU with 2+ threads two images at a time), else one after the
other. For that, which images are frozen in a step is decided once, from the forces the optimizer
was given, before any image moves (ASE's ``DyNEB.set_positions`` re-decides after each moved image,
which evaluates the moved images one at a time). ``BandEvaluation.previous()`` is sianode 0.1's.

A path that did not converge, or whose highest image is an end point, is reported by its
``status`` with ``barrier_eV = None``: never as a barrier number.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from sianode.calculators.guards import GuardedCalculator, check_geometry, evaluate_together
from sianode.calculators.registry import DEFAULT_CALCULATOR
from sianode.calculators.relax import optimizer_class
from sianode.calculators.results import NEBResult, guarded, resolve_calculator
from sianode.errors import CalculationFailed, InputError
from sianode.structures.serialize import as_ase

logger = logging.getLogger(__name__)

STATUSES = ("ok", "not_converged", "maximum_at_endpoint")

#: default DyNEB ``scale_fmax`` (1/A): criterion of image i is fmax (1 + SCALE_FMAX |R_i - R_max|).
SCALE_FMAX = 1.0

#: the optimizer of the band (sianode 0.1: "FIRE").
NEB_OPTIMIZER = "LBFGS"


@dataclass(frozen=True)
class BandEvaluation:
    """How the band's images are evaluated and stepped; none of it is a parameter of the result.

    Attributes
    ----------
    batch : bool or None
        Evaluate the pending images of one step together. None: where the calculator has a path
        for it; False: one at a time.
    mode : str
        How, for :func:`sianode.calculators.batch.batch_evaluator`: ``auto`` (one batched model
        call on a GPU, images in parallel threads on CPU with 2+ threads), ``batch``, ``parallel``.
    decide_frozen_first : bool
        DyNEB: decide which images are frozen once per step, before moving any (so the moved
        images can be evaluated together). False: ASE's ``DyNEB.set_positions``.
    """

    batch: bool | None = None
    mode: str = "auto"
    decide_frozen_first: bool = True

    @classmethod
    def previous(cls) -> "BandEvaluation":
        """sianode 0.1: one image at a time, ASE's DyNEB stepping (use with ``optimizer="FIRE"``)."""
        return cls(batch=False, decide_frozen_first=False)

    def as_dict(self) -> dict[str, Any]:
        """``{"batch", "mode", "decide_frozen_first"}``."""
        return {"batch": self.batch, "mode": self.mode, "decide_frozen_first": self.decide_frozen_first}


def _band_class() -> Any:
    from ase.mep import DyNEB

    class Band(DyNEB):
        """ASE ``DyNEB`` whose pending images are computed together before the NEB forces are formed."""

        def __init__(self, images: list[Any], *, wrappers: list[GuardedCalculator], batch: Any,
                     decide_frozen_first: bool, **kwargs: Any) -> None:
            super().__init__(images, **kwargs)
            self._pairs = list(zip(images, wrappers))
            self._batch = batch
            self._decide_first = decide_frozen_first
            self.n_batched_calls = 0

        def get_forces(self) -> np.ndarray:
            if self._batch is not None and evaluate_together(self._pairs, self._batch):
                self.n_batched_calls += 1
            return super().get_forces()

        def set_positions(self, positions: np.ndarray) -> None:
            if not (self.dynamic_relaxation and self._decide_first):
                return super().set_positions(positions)
            # the frozen set of the forces the optimizer just used (all cached: no call here)
            frozen = [f < self.fmax for f in self._fmax_all(self.images)]
            n = self.natoms
            for i, image in enumerate(self.images[1:-1]):
                if not frozen[i]:
                    image.set_positions(positions[i * n:(i + 1) * n])

    return Band


def _check_endpoints(start: Any, end: Any) -> None:
    if len(start) != len(end) or start.get_chemical_symbols() != end.get_chemical_symbols():
        raise InputError(f"NEB end points must have the same atoms in the same order; got "
                         f"{start.get_chemical_formula()} ({len(start)} atoms) and "
                         f"{end.get_chemical_formula()} ({len(end)} atoms)")
    if not np.allclose(start.get_cell(), end.get_cell(), atol=1e-6):
        raise InputError("NEB end points must have the same cell (variable-cell NEB is not supported)")


def neb(
    start: Any,
    end: Any,
    calculator: Any = DEFAULT_CALCULATOR,
    n_images: int = 5,
    fmax: float = 0.05,
    climb: bool = True,
    steps: int = 500,
    preconverge_fmax: float = 0.5,
    optimizer: str = NEB_OPTIMIZER,
    interpolation: str = "idpp",
    method: str = "improvedtangent",
    k: float = 0.1,
    dynamic: bool = True,
    scale_fmax: float | None = None,
) -> NEBResult:
    """Minimum-energy path and barrier between two relaxed end points.

    Every argument is a parameter of the result (and of the NEB content key); how the images
    are evaluated is not (:class:`BandEvaluation`; :func:`run_neb` takes it explicitly).

    Parameters
    ----------
    start, end : ase.Atoms
        Relaxed end points, same atoms in the same order, same cell (not modified).
    calculator : CalculatorSpec | str | ase Calculator
        Registry name, spec or ready calculator; one model is shared, each image has its own
        counting wrapper and result cache.
    n_images : int
        Number of intermediate (moving) images.
    fmax : float
        Final force criterion on the band, eV/A.
    climb : bool
        Switch the climbing image on after the pre-converge phase.
    steps : int
        Total optimizer steps over both phases.
    preconverge_fmax : float
        Force criterion (eV/A) of the phase without climbing image (skipped if <= fmax).
    optimizer : str
        ``"FIRE"``, ``"BFGS"`` or ``"LBFGS"``.
    interpolation : str
        ``"idpp"`` (default) or ``"linear"``.
    method : str
        ASE NEB tangent method, default ``"improvedtangent"``.
    k : float
        Spring constant, eV/A^2.
    dynamic : bool
        Dynamic relaxation (ASE ``DyNEB``): images below their force criterion are frozen and not
        recomputed until spring changes push them above it again. False: plain ASE ``NEB``.
    scale_fmax : float or None
        DyNEB criterion scaling, 1/A: image i is converged at fmax (1 + scale_fmax |R_i - R_max|),
        R_max the highest image (which is always held to ``fmax``). 0 holds every image to
        ``fmax``. None: :data:`SCALE_FMAX` with ``dynamic``, 0 without; a value > 0 needs
        ``dynamic=True``.

    Returns
    -------
    NEBResult
        ``status`` 'ok' | 'not_converged' | 'maximum_at_endpoint'; ``barrier_eV`` only when 'ok'.
        'maximum_at_endpoint' (the highest image is an end point, converged or not) takes
        precedence over 'not_converged'. ``converged`` is checked again after the run on the full
        (unfrozen) NEB forces: every image below its criterion, the highest image below ``fmax``.
        ``fmax_eV_A`` is the largest full NEB force on any moving image, ``fmax_saddle_eV_A``
        that on the highest image.
    """
    return run_neb(start, end, calculator, n_images=n_images, fmax=fmax, climb=climb, steps=steps,
                   preconverge_fmax=preconverge_fmax, optimizer=optimizer, interpolation=interpolation,
                   method=method, k=k, dynamic=dynamic, scale_fmax=scale_fmax)


def run_neb(
    start: Any,
    end: Any,
    calculator: Any = DEFAULT_CALCULATOR,
    *,
    evaluation: BandEvaluation | None = None,
    n_images: int = 5,
    fmax: float = 0.05,
    climb: bool = True,
    steps: int = 500,
    preconverge_fmax: float = 0.5,
    optimizer: str = NEB_OPTIMIZER,
    interpolation: str = "idpp",
    method: str = "improvedtangent",
    k: float = 0.1,
    dynamic: bool = True,
    scale_fmax: float | None = None,
) -> NEBResult:
    """:func:`neb` with an explicit :class:`BandEvaluation` (default: ``BandEvaluation()``).

    ``BandEvaluation.previous()`` reproduces sianode 0.1's evaluation (benchmarks/neb.py compares
    the two on the same hop). The result's ``settings["evaluation"]`` records which was used and
    ``settings["batched_calls"]`` how many batched model calls were made.
    """
    from sianode.calculators.batch import batch_evaluator

    evaluation = BandEvaluation() if evaluation is None else evaluation
    if not (isinstance(n_images, int) and n_images >= 1):
        raise InputError(f"n_images must be a positive integer, got {n_images!r}")
    if not (isinstance(fmax, (int, float)) and fmax > 0):
        raise InputError(f"fmax must be a positive number in eV/A, got {fmax!r}")
    if not (isinstance(steps, int) and steps >= 0):
        raise InputError(f"steps must be a non-negative integer, got {steps!r}")
    if interpolation not in ("idpp", "linear"):
        raise InputError(f"interpolation must be 'idpp' or 'linear', got {interpolation!r}")
    if scale_fmax is None:
        scale_fmax = SCALE_FMAX if dynamic else 0.0
    if not (isinstance(scale_fmax, (int, float)) and scale_fmax >= 0):
        raise InputError(f"scale_fmax must be a non-negative number in 1/A, got {scale_fmax!r}")
    if scale_fmax > 0 and not dynamic:
        raise InputError(f"scale_fmax={scale_fmax!r} needs dynamic=True (DyNEB); use scale_fmax=0 "
                         "with dynamic=False")
    opt_cls = optimizer_class(optimizer)
    start, end = as_ase(start).copy(), as_ase(end).copy()
    _check_endpoints(start, end)
    inner, provenance = resolve_calculator(calculator, start)
    check_geometry(start, "NEB start")
    check_geometry(end, "NEB end")

    images = [start] + [start.copy() for _ in range(n_images)] + [end]
    wrappers = [guarded(inner, provenance) for _ in images]
    for image, wrapper in zip(images, wrappers):
        image.calc = wrapper
    threads = int(provenance.get("threads") or 1)
    batch = batch_evaluator(inner, threads=threads, mode=evaluation.mode) if evaluation.batch in (None, True) else None
    if evaluation.batch and batch is None:
        logger.info("calculator %s has no batched path: images are evaluated one at a time",
                    provenance.get("calculator"))
    band = _band_class()(images, wrappers=wrappers, batch=batch, decide_frozen_first=evaluation.decide_frozen_first,
                         k=k, fmax=float(fmax), climb=False, method=method, dynamic_relaxation=bool(dynamic),
                         scale_fmax=float(scale_fmax))
    band.interpolate(method=interpolation, mic=bool(start.pbc.any()), apply_constraint=False)
    for n, image in enumerate(images[1:-1], start=1):
        check_geometry(image, f"interpolated NEB image {n}")

    t0 = time.perf_counter()
    converged = False
    used = 0
    try:
        if preconverge_fmax > fmax and climb:
            band.fmax = float(preconverge_fmax)  # DyNEB's criterion must be the optimizer's
            opt = opt_cls(band, logfile=None)
            opt.run(fmax=preconverge_fmax, steps=steps)
            used = opt.nsteps
            band.fmax = float(fmax)
        # no climbing towards an end point: a downhill band would never converge
        top = int(np.argmax([image.get_potential_energy() for image in images]))
        band.climb = bool(climb) and 0 < top < len(images) - 1
        opt = opt_cls(band, logfile=None)
        converged = bool(opt.run(fmax=fmax, steps=max(steps - used, 0)))
        used += opt.nsteps
        energies = np.array([image.get_potential_energy() for image in images])
        image_fmax, criteria = _image_fmax(band, float(fmax), float(scale_fmax) if dynamic else 0.0)
    except (FloatingPointError, np.linalg.LinAlgError) as exc:
        raise CalculationFailed(f"NEB failed numerically: {exc}") from exc
    wall = time.perf_counter() - t0

    positions = np.array([image.get_positions() for image in images])
    fmax_now = float(image_fmax.max())
    imax = int(np.argmax(energies))
    # the optimizer saw DyNEB's zeroed forces: check convergence again on the full ones
    converged = converged and bool(np.all(image_fmax <= criteria))
    if imax in (0, len(images) - 1):
        status = "maximum_at_endpoint"
    elif not converged:
        status = "not_converged"
    else:
        status = "ok"
    barrier = float(energies[imax] - energies[0]) if status == "ok" else None
    n_calls = sum(w.n_calls for w in wrappers)
    logger.info("NEB %s: status=%s barrier=%s steps=%d calls=%d", start.get_chemical_formula(), status,
                barrier, used, n_calls)
    saddle = images[imax].copy()
    saddle.calc = None
    return NEBResult(
        status=status, barrier_eV=barrier, energies_eV=[float(e) for e in energies], saddle_index=imax,
        saddle_structure=saddle, start_structure=_bare(start), end_structure=_bare(end),
        converged=converged, steps=used, n_force_calls=n_calls, n_images=n_images, fmax_eV_A=fmax_now,
        fmax_target_eV_A=float(fmax), reaction_energy_eV=float(energies[-1] - energies[0]), wall_s=wall,
        calculator=provenance,
        settings={"climb": bool(climb), "climbed": bool(band.climb),
                  "preconverge_fmax_eV_A": float(preconverge_fmax), "optimizer": optimizer,
                  "interpolation": interpolation, "method": method, "k_eV_A2": float(k), "max_steps": steps,
                  "dynamic": bool(dynamic), "scale_fmax_1_A": float(scale_fmax),
                  "evaluation": evaluation.as_dict(), "batched": batch is not None,
                  "batched_calls": int(band.n_batched_calls)},
        fmax_saddle_eV_A=float(image_fmax[imax - 1]) if 0 < imax < len(images) - 1 else None,
        arrays={"positions_A": positions, "energies_eV": energies},
    )


def _image_fmax(band: Any, fmax: float, scale_fmax: float) -> tuple[np.ndarray, np.ndarray]:
    """Full NEB force (eV/A) of each moving image and its convergence criterion (eV/A).

    Uses the plain NEB forces (``BaseNEB.get_forces``, without DyNEB's zeroing of frozen images) on
    the images as they are, so every result comes from the calculators' caches: no new call.
    The criterion is ``fmax (1 + scale_fmax |R_i - R_max|)``, ``fmax`` itself for the highest image.
    """
    from ase.mep.neb import BaseNEB

    n = band.natoms
    forces = BaseNEB.get_forces(band).reshape(band.nimages - 2, n, 3)
    image_fmax = np.sqrt((forces ** 2).sum(axis=2)).max(axis=1)
    positions = np.array([image.get_positions() for image in band.images[1:-1]])
    top = int(band.imax) - 1
    if 0 <= top < len(positions):
        distance = np.sqrt(((positions - positions[top]) ** 2).sum(axis=(1, 2)))
    else:  # highest image is an end point: no scaling (the status says so anyway)
        distance = np.zeros(len(positions))
    criteria = fmax * (1.0 + scale_fmax * distance)
    return image_fmax, criteria


def _bare(atoms: Any) -> Any:
    copy = atoms.copy()
    copy.calc = None
    return copy
