"""``sianode crosscheck``: a campaign's insertion energies and barriers recomputed with a
reference calculator (DFT) at the campaign's own geometries.

A recipe (layer 8). The campaign's calculator relaxed the structures; nothing is relaxed
again. Each structure a number rests on is computed once more with the reference
calculator as a **single point**, through the store like every other calculation
(:func:`single_point_step`: content key kind ``single_point``, the structure, the reference
calculator's identity; deduplicated by ``store.get_or_compute``; a failure is stored as
``failed`` with its reason), and each number is formed again from those energies:

* insertion (one T-site class of one host):
  E_ins = E(host + Li) - E(host) - E(bcc Li)/n_Li (Long, Chan, Greeley, Gewirth,
  J. Phys. Chem. C 115 (2011) 18916), at the campaign's relaxed host + Li, relaxed host and
  relaxed bcc-Li cell (the campaign calculator's own lattice constant of Li);
* barrier (one NEB hop): E(saddle image) - E(start image) (forward, as
  :mod:`sianode.analysis.hops` reads it: Henkelman, Uberuaga, Jonsson, J. Chem. Phys. 113
  (2000) 9901) and, when the hop joins two different T classes, E(saddle) - E(end image)
  (reverse), at the campaign's climbing image and end points.

The difference reference - calculator is the error bar of the campaign's number that comes
from its potential energy surface alone, at fixed geometry: it does not include what a
reference relaxation or NEB would change (geometry relaxation lowers both energies; a
saddle that moves lowers the barrier).

GPAW settings (the default ``--reference gpaw`` parameters, :data:`REFERENCE_DEFAULTS`)
--------------------------------------------------------------------------------------
Chosen to fit a 2-core machine: PBE, plane waves (``PW``) at ``ecut_eV`` 300 eV, k-points
from ``kpts_density`` 1.5 points per 1/A (Gamma-centred; ``N = ceil(2 pi d / L)``: the
Gamma point alone in the 64/65-atom cell, L = 10.9 A), Fermi-Dirac smearing 0.05 eV,
spin-unpolarised, serial GPAW with OpenBLAS, GPAW's default SCF criteria. bcc Li (a 2-atom
metal cell) gets ``kpts_density`` 5.0 (:data:`LI_METAL_OVERRIDES`: 10 x 10 x 10 at a = 3.43 A)
with the same cutoff, smearing and functional: mu_Li is converged on its own, the host and
host + Li share one setting so that their errors cancel in the difference. LCAO was not
needed: a Gamma-point plane-wave single point of 65 atoms fits in a few minutes. Measured on
this project's 2-core machine (GPAW 26.7 built by ``make dft``, setups gpaw-data 1.2.1; the
sevennet geometries of ``benchmarks/crosscheck.py``'s campaign, whose ``--convergence``
reruns the cutoff and k-point checks):

* cost: one 64/65-atom single point (Gamma, 300 eV, 12 SCF iterations, about 1 GB) took
  160-220 s wall on one thread with the machine's load at 7-10 (other jobs running), up to
  380 s with a second GPAW run beside it; bcc Li 60 s. The benchmark (pure Si, B, P: nearest
  T site and near hop, 15 single points) took about 65 min; 400 eV costs about 2.5 times as much.
* cutoff: E_ins of Li at the pure-Si T site (sevennet geometries) +0.3261 eV at 300 eV,
  +0.3255 eV at 400 eV (0.6 meV); mu_Li -1.89850 vs -1.89860 eV.
* mu_Li (bcc Li, a = 3.43 A, 300 eV): -1.90144 / -1.89851 / -1.90017 eV at kpts_density
  3 / 5 / 8 (6^3 / 10^3 / 15^3 k-points): 5.0 is within 2 meV of 8.0.
* k-points of the 64/65-atom cell, Gamma -> 2 x 2 x 2 (Gamma-centred, kpts_density 3.0):
  E_ins at the pure-Si T site +0.326 -> +0.262 eV (-0.064 eV; consistent with Gamma alone
  sampling the conduction band, where Li's electron goes, at X instead of near its minimum at
  0.85 X), the pure-Si barrier +0.587 -> +0.625 eV (+0.038 eV); 2 x 2 x 2 costs 3-6 times as
  much (10-21 min per 65-atom single point here). So the default's k-point error is about
  0.06 eV on E_ins and 0.04 eV on a barrier (measured for pure Si only; next to B, whose
  acceptor takes Li's electron, it may be smaller: not measured). Pass
  ``reference_parameters={"kpts_density": 3.0}`` (CLI ``--param kpts_density=3.0``) when that
  matters.
* symmetry: the B hop's end image (a relaxed insertion mapped by a symmetry operation of the
  doped cell) and that insertion itself differ by 5e-6 eV in GPAW.

Spin is not polarised: pure Si + Li and the B- and P-doped hosts without Li hold an odd number
of electrons; the unpaired electron is delocalised over the 64-atom cell, so the
spin-polarisation energy is small, but it is not in these numbers.

Running it on a cluster
-----------------------
:func:`single_point_step` is the plain function a FireTask calls; :class:`SinglePointTask`
is that FireTask (one structure, one reference calculator, through the worker's store).
:func:`crosscheck_fireworks` builds one Firework per single point of a crosscheck, so the
expensive DFT runs are spread over the workers of ``sianode submit``-style queues; running
``crosscheck`` afterwards finds every result in the store and computes nothing.
"""

from __future__ import annotations

import importlib.util
import logging
import math
import os
import random
import time
from dataclasses import asdict, dataclass, field
from typing import Any, Callable, Mapping, Sequence

from sianode.errors import CalculationFailed, InputError, SianodeError
from sianode.store import COMPLETED, FAILED, content_key, schema

logger = logging.getLogger(__name__)

#: the kinds of number a crosscheck recomputes
KINDS = ("insertion", "barrier")
#: labels.role of a crosscheck single point
ROLE_CROSSCHECK = "crosscheck"
#: operation parameters of a single point (part of its content key): energy and forces
SINGLE_POINT_PARAMETERS: dict[str, Any] = {"properties": ["energy", "forces"]}
#: default parameters of each reference calculator (others: the registry's defaults)
REFERENCE_DEFAULTS: dict[str, dict[str, Any]] = {
    "gpaw": {"ecut_eV": 300.0, "kpts_density": 1.5, "xc": "PBE", "smearing_eV": 0.05},
}
#: parameters that replace the reference's for the bcc-Li metal cell (k-points of a metal)
LI_METAL_OVERRIDES: dict[str, dict[str, Any]] = {
    "gpaw": {"kpts_density": 5.0},
}
#: self-consistent calculators that start every single point from scratch (the process's cached
#: calculator objects are dropped first): one reused for the next structure would start from the
#: previous wave functions and, when only the positions changed, keep the previous structure's
#: symmetry (GPAW 26.7 then raises SymmetryBrokenError)
FRESH_PER_STRUCTURE = frozenset({"gpaw"})
#: seed of ``sample``: the same store and N give the same items
DEFAULT_SEED = 0

Progress = Callable[[str], None]


# ------------------------------------------------------------------ single points
def single_point_key(atoms: Any, calculator: Any) -> str:
    """Content key of :func:`single_point_step` (no store access).

    Parameters
    ----------
    atoms : ase.Atoms
    calculator : CalculatorSpec
    """
    return content_key(schema.SINGLE_POINT, atoms, calculator.identity(), SINGLE_POINT_PARAMETERS)


def _failure_from(exc: BaseException) -> CalculationFailed | None:
    """A run failure of the reference calculator as :class:`CalculationFailed` (None: a bug)."""
    if isinstance(exc, CalculationFailed):
        return exc
    if isinstance(exc, SianodeError):  # e.g. an element the reference does not have
        return CalculationFailed(str(exc))
    if type(exc).__name__.endswith("ConvergenceError"):  # GPAW's KohnShamConvergenceError
        return CalculationFailed(f"{type(exc).__name__}: {exc}")
    return None


def single_point_step(
    store: Any,
    atoms: Any,
    calculator: Any,
    *,
    labels: Mapping[str, Any] | None = None,
    stats: Any = None,
    retry_failed: bool = False,
) -> dict[str, Any]:
    """Energy and forces of ``atoms`` with ``calculator``, through the store.

    The plain function a FireTask calls (:class:`SinglePointTask`). The content key is
    :func:`single_point_key`; the calculator runs only when no one has computed that key.

    Parameters
    ----------
    store : ResultStore
    atoms : ase.Atoms
        The structure (not modified).
    calculator : CalculatorSpec
        The reference calculator.
    labels : dict, optional
        Stored with the document when it is computed here (``role`` ``crosscheck`` and
        what the structure is: ``of`` (the key of the campaign document it comes from),
        ``structure_role``, dopant, percent).
    stats : sianode.workflows.steps.StepStats, optional
        Counts a calculation run here (``computed``) or found (``reused``), and failures.
    retry_failed : bool
        Run a single point again whose stored status is ``failed`` (default: a failure is a
        result and is returned as it is).

    Returns
    -------
    dict
        The stored document: ``status`` ``completed`` (``output.energy_eV``, eV;
        ``output.forces_eV_A``) or ``failed`` with ``reason`` (an element the reference
        lacks, atoms too close, a non-finite energy, an SCF that did not converge).
    """
    from sianode.structures.serialize import atoms_to_dict
    from sianode.workflows.steps import CALL_LOG_ENV

    key = single_point_key(atoms, calculator)
    ran: list[float] = []

    def compute() -> Any:
        from sianode.calculators import single_point
        from sianode.calculators.registry import clear_cache

        log_path = os.environ.get(CALL_LOG_ENV)
        if log_path:
            with open(log_path, "a", encoding="utf-8") as fh:
                fh.write(f"{schema.SINGLE_POINT} {key} {os.getpid()}\n")
        t0 = time.perf_counter()
        try:
            if calculator.name in FRESH_PER_STRUCTURE:
                clear_cache()  # the next make() builds a new calculator object
            result = single_point(atoms.copy(), calculator)
        except Exception as exc:  # noqa: BLE001 - run failures are recorded, bugs re-raised
            failure = _failure_from(exc)
            if failure is None:
                raise
            raise failure from exc
        finally:
            ran.append(time.perf_counter() - t0)
        if not math.isfinite(float(result.energy_eV)):
            raise CalculationFailed(f"single point gave a non-finite energy ({result.energy_eV}); "
                                    "allowed: a finite number of eV")
        return result

    meta = {"kind": schema.SINGLE_POINT,
            "input": {"structure": atoms_to_dict(atoms), "parameters": dict(SINGLE_POINT_PARAMETERS)},
            "calculator": calculator.provenance(), "labels": {"role": ROLE_CROSSCHECK, **dict(labels or {})}}
    doc = store.get_or_compute(key, compute, meta=meta, retry_failed=retry_failed)
    if stats is not None:
        stats.record(key, doc, ran)
    if doc.get("status") == FAILED:
        logger.warning("single point %s with %s failed: %s", key[:12], calculator.name, doc.get("reason"))
    return doc


# ------------------------------------------------------------------ what is checked
@dataclass
class Term:
    """One energy of a number: ``coefficient`` x E(``structure``).

    ``role``: host, insertion, li_metal, saddle, start, end; ``source``: key of the campaign
    document the structure and its campaign energy come from.
    """

    role: str
    structure: dict[str, Any]
    coefficient: float
    source: str


@dataclass
class Item:
    """A campaign number that can be recomputed: sum of ``coefficient x E`` over ``terms``."""

    dopant: str | None
    percent: float | None
    kind: str
    item: str
    calc_eV: float
    sources: list[str]
    terms: list[Term]

    @property
    def sort_key(self) -> tuple[Any, ...]:
        return (str(self.dopant), float(self.percent or 0.0), KINDS.index(self.kind), self.item, self.sources[0])


@dataclass
class CrosscheckRow:
    """One number of the campaign's calculator next to the reference's at the same geometries.

    Attributes
    ----------
    dopant, percent : str, float
        Host (``"Si"``, 0.0 for pure), atom %.
    kind : str
        ``insertion`` (E_ins vs bcc Li, eV) or ``barrier`` (saddle minus end image, eV).
    item : str
        The T class (``T1``) or the hop (``hop1 T1->T2 (H3)``).
    calc_eV, reference_eV, difference_eV : float or None
        The campaign's value, the reference's, reference minus campaign (eV); the last two
        None when a reference single point failed (``reason``).
    sources : list of str
        Keys of the campaign documents, then of the reference single points.
    reason : str or None
    """

    dopant: str | None
    percent: float | None
    kind: str
    item: str
    calc_eV: float
    reference_eV: float | None
    difference_eV: float | None
    sources: list[str]
    reason: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class CrosscheckReport:
    """Rows of a crosscheck and their summary.

    ``summary``: per kind, ``n`` (rows), ``n_compared`` (rows with a reference value),
    ``mean_difference_eV`` (signed: a systematic shift), ``mean_abs_difference_eV``,
    ``max_abs_difference_eV``; ``stats``: single points computed here / found in the store
    / failed, and their wall time (s).
    """

    reference: str
    calculator: str
    reference_identity: dict[str, Any]
    rows: list[CrosscheckRow]
    summary: dict[str, dict[str, Any]]
    n_candidates: int
    stats: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """The JSON form of ``sianode crosscheck --json``."""
        return {"reference": self.reference, "calculator": self.calculator,
                "reference_identity": self.reference_identity, "n_candidates": self.n_candidates,
                "rows": [r.as_dict() for r in self.rows], "summary": self.summary, "stats": self.stats}


def summarize(rows: Sequence[CrosscheckRow]) -> dict[str, dict[str, Any]]:
    """Per kind: n, n_compared, mean (signed), mean absolute and max absolute difference, eV."""
    out: dict[str, dict[str, Any]] = {}
    for kind in KINDS:
        mine = [r for r in rows if r.kind == kind]
        if not mine:
            continue
        diffs = [r.difference_eV for r in mine if r.difference_eV is not None]
        out[kind] = {
            "n": len(mine), "n_compared": len(diffs),
            "mean_difference_eV": sum(diffs) / len(diffs) if diffs else None,
            "mean_abs_difference_eV": sum(abs(d) for d in diffs) / len(diffs) if diffs else None,
            "max_abs_difference_eV": max(abs(d) for d in diffs) if diffs else None,
        }
    return out


# ------------------------------------------------------------------ candidates from the store
def _normalize_dopant(dopant: str | None) -> str | None:
    if dopant is None:
        return None
    if dopant.lower() in ("pure", "si"):
        return schema.PURE
    return dopant


def _campaign_counts(store: Any) -> dict[str, dict[str, dict[str, int]]]:
    """calculator name -> "insertions"/"NEBs" -> dopant -> number of completed documents."""
    from sianode.analysis.docs import calculator_name

    counts: dict[str, dict[str, dict[str, int]]] = {}
    for kind, role, what in ((schema.RELAX, schema.ROLE_INSERTION, "insertions"),
                             (schema.NEB, schema.ROLE_HOP, "NEBs")):
        for doc in store.find({"kind": kind, "labels.role": role, "status": COMPLETED},
                              projection={"calculator": 1, "labels.dopant": 1}):
            per = counts.setdefault(str(calculator_name(doc)), {}).setdefault(what, {})
            dopant = str((doc.get("labels") or {}).get("dopant"))
            per[dopant] = per.get(dopant, 0) + 1
    return counts


def store_contents(store: Any) -> str:
    """What the store holds that a crosscheck could use: completed insertions and NEBs per
    calculator and dopant (one phrase, for error messages)."""
    counts = _campaign_counts(store)
    if not counts:
        return (f"the store holds no completed insertion or NEB ({store.count()} documents in all); "
                "run a campaign first (`sianode run campaign.yaml`)")
    parts = []
    for name, whats in sorted(counts.items()):
        parts.append(f"{name}: " + ", ".join(
            f"{sum(per.values())} {what} ({', '.join(f'{d} {n}' for d, n in sorted(per.items()))})"
            for what, per in sorted(whats.items(), reverse=True)))
    return "the store holds completed " + "; ".join(parts)


def campaign_calculators(store: Any) -> list[str]:
    """Calculator names with completed insertions or NEBs in the store, sorted."""
    return sorted(_campaign_counts(store))


def _pick_calculator(store: Any, calculator: str | None) -> str:
    from sianode.analysis.docs import pick_calculator

    names = campaign_calculators(store)
    return pick_calculator(
        names, calculator, prefer_default=True,
        unknown=lambda: (f"calculator {calculator!r} has no completed insertion or NEB to check; "
                         f"{store_contents(store)}"),
        empty=lambda: f"nothing to crosscheck: {store_contents(store)}",
        several=lambda: (f"the store holds campaigns of several calculators ({', '.join(names)}); "
                         "pick one with --calculator"))


def _structure(doc: Mapping[str, Any], *names: str) -> dict[str, Any] | None:
    out = doc.get("output") or {}
    for name in names:
        value = out.get(name)
        if isinstance(value, Mapping) and "cell" in value:
            return dict(value)
    return None


def insertion_items(store: Any, *, calculator: str, dopant: str | None = None,
                    percent: float | None = None) -> list[Item]:
    """One :class:`Item` per completed T-site insertion energy of ``calculator``.

    E_ins = E(host + Li) - E(host) - E(bcc Li)/n (:func:`sianode.analysis.derive.insertion_energy`).
    """
    from sianode.analysis import derive

    items = []
    for v in derive.insertion_energies(store, dopant=dopant, percent=percent, calculator=calculator,
                                       require_reference=False):
        if v.e_ins_eV is None or v.site_kind not in (None, "T") or len(v.sources) != 3:
            continue
        docs = [store.get(k) for k in v.sources]
        structs = [_structure(docs[0], "structure", "final_structure"),
                   _structure(docs[1], "structure", "final_structure"),
                   _structure(docs[2], "structure", "final_structure")]
        if any(s is None for s in structs):
            logger.warning("insertion %s: a structure is missing from its documents; not checked", v.key[:12])
            continue
        n_li = len(structs[2]["symbols"])  # type: ignore[index]
        terms = [Term("insertion", structs[0], 1.0, v.sources[0]),  # type: ignore[arg-type]
                 Term("host", structs[1], -1.0, v.sources[1]),  # type: ignore[arg-type]
                 Term(schema.ROLE_LI_METAL, structs[2], -1.0 / n_li, v.sources[2])]  # type: ignore[arg-type]
        items.append(Item(v.dopant, v.percent, "insertion", str(v.site), float(v.e_ins_eV), list(v.sources), terms))
    return items


def barrier_items(store: Any, *, calculator: str, dopant: str | None = None,
                  percent: float | None = None) -> list[Item]:
    """Forward (and, between two T classes, reverse) barrier :class:`Item` of every completed NEB.

    Forward: E(saddle) - E(start image); reverse: E(saddle) - E(end image)
    (:func:`sianode.analysis.hops.barrier_from_profile`).
    """
    from sianode.analysis import derive

    items = []
    for b in derive.barriers(store, dopant=dopant, percent=percent, calculator=calculator):
        if b.barrier_eV is None:
            continue
        doc = store.get(b.key)
        saddle = _structure(doc, "saddle_structure")
        start = _structure(doc, "start_structure")
        end = _structure(doc, "end_structure")
        if saddle is None or start is None:
            logger.warning("NEB %s has no saddle or start structure in its output; not checked", b.key[:12])
            continue
        h = f" ({b.h_site})" if b.h_site else ""
        ends = f" {b.start_site}->{b.end_site}" if b.start_site and b.end_site else ""
        items.append(Item(b.dopant, b.percent, "barrier", f"{b.hop}{ends}{h}", float(b.barrier_eV), [b.key],
                          [Term("saddle", saddle, 1.0, b.key), Term("start", start, -1.0, b.key)]))
        if (b.start_site and b.end_site and b.start_site != b.end_site and end is not None
                and b.reverse_barrier_eV is not None):
            items.append(Item(b.dopant, b.percent, "barrier", f"{b.hop} {b.end_site}->{b.start_site}{h}",
                              float(b.reverse_barrier_eV), [b.key],
                              [Term("saddle", saddle, 1.0, b.key), Term("end", end, -1.0, b.key)]))
    return items


def candidates(store: Any, *, calculator: str, dopant: str | None = None, kind: str | None = None,
               percent: float | None = None) -> list[Item]:
    """Every number of ``calculator``'s campaigns a crosscheck can recompute, in a stable order."""
    items: list[Item] = []
    if kind in (None, "insertion"):
        items += insertion_items(store, calculator=calculator, dopant=dopant, percent=percent)
    if kind in (None, "barrier"):
        items += barrier_items(store, calculator=calculator, dopant=dopant, percent=percent)
    return sorted(items, key=lambda it: it.sort_key)


def sample_items(items: Sequence[Item], n: int | None, seed: int = DEFAULT_SEED) -> list[Item]:
    """``n`` of ``items`` drawn without replacement with ``random.Random(seed)``, in their order
    (all of them when ``n`` is None or not smaller than their number)."""
    if n is None or n >= len(items):
        return list(items)
    chosen = set(random.Random(seed).sample(range(len(items)), n))
    return [it for i, it in enumerate(items) if i in chosen]


# ------------------------------------------------------------------ the reference calculator
def reference_calculator(reference: str, parameters: Mapping[str, Any] | None = None,
                         *, li_metal: bool = False, require_installed: bool = True) -> Any:
    """The :class:`~sianode.calculators.CalculatorSpec` of the reference.

    Parameters: :data:`REFERENCE_DEFAULTS` of ``reference``, then ``parameters``; for the bcc-Li
    cell (``li_metal``) :data:`LI_METAL_OVERRIDES` on top (unless ``parameters`` sets them).
    ``require_installed=False``: only the identity is needed (reading stored single points).

    Raises
    ------
    InputError
        Unknown reference, bad parameters, or its package is not installed.
    """
    from sianode.calculators import available_calculators, get_calculator

    if reference not in available_calculators():
        raise InputError(f"unknown --reference {reference!r}; allowed: {', '.join(available_calculators())}")
    params = {**REFERENCE_DEFAULTS.get(reference, {}), **dict(parameters or {})}
    if li_metal:
        params.update({k: v for k, v in LI_METAL_OVERRIDES.get(reference, {}).items()
                       if k not in (parameters or {})})
    spec = get_calculator(reference, **params)
    package = spec.backend.package
    if require_installed and package not in ("sianode", "ase") and importlib.util.find_spec(package) is None:
        hint = "`make dft` (the sianode[dft] extra)" if reference == "gpaw" else f"the {package} package"
        raise InputError(f"reference calculator {reference!r} needs {package}, which is not installed: install {hint}")
    return spec


# ------------------------------------------------------------------ the recipe
@dataclass
class Job:
    """One reference single point a crosscheck needs (``key``: its content key)."""

    key: str
    atoms: Any
    calculator: Any
    labels: dict[str, Any]

    def as_dict(self) -> dict[str, Any]:
        """JSON-safe: ``key``, ``structure`` (atoms_to_dict), ``calculator`` (spec.as_dict()), ``labels``."""
        from sianode.structures.serialize import atoms_to_dict

        return {"key": self.key, "structure": atoms_to_dict(self.atoms), "calculator": self.calculator.as_dict(),
                "labels": dict(self.labels)}


@dataclass
class Plan:
    """What a crosscheck compares: the campaign calculator, its candidates, the chosen items,
    the single points (by key, in row order) and the key of each item's terms."""

    calculator: str
    reference: Any
    candidates: list[Item]
    chosen: list[Item]
    jobs: dict[str, Job]
    term_keys: list[list[str]]


def plan_crosscheck(
    store: Any,
    *,
    reference: str = "gpaw",
    calculator: str | None = None,
    dopant: str | None = None,
    kind: str | None = None,
    sample: int | None = None,
    reference_parameters: Mapping[str, Any] | None = None,
    percent: float | None = None,
    seed: int = DEFAULT_SEED,
    require_installed: bool = True,
) -> Plan:
    """The items and single points of :func:`crosscheck` (same arguments), nothing computed."""
    from sianode.structures.serialize import atoms_from_dict

    if kind is not None and kind not in KINDS:
        raise InputError(f"unknown --kind {kind!r}; allowed: {', '.join(KINDS)}")
    if sample is not None and (isinstance(sample, bool) or not isinstance(sample, int) or sample < 1):
        raise InputError(f"--sample must be a positive integer, got {sample!r}")
    ref = reference_calculator(reference, reference_parameters, require_installed=require_installed)
    ref_li = reference_calculator(reference, reference_parameters, li_metal=True, require_installed=require_installed)
    dopant = _normalize_dopant(dopant)
    name = _pick_calculator(store, calculator)
    items = candidates(store, calculator=name, dopant=dopant, kind=kind, percent=percent)
    if not items:
        wanted = ", ".join(f"{k} {v}" for k, v in (("dopant", dopant), ("kind", kind), ("percent", percent))
                           if v is not None)
        raise InputError(f"nothing to crosscheck for calculator {name!r}" + (f" with {wanted}" if wanted else "")
                         + f": {store_contents(store)}")
    chosen = sample_items(items, sample, seed)
    jobs: dict[str, Job] = {}
    term_keys = []
    for it in chosen:
        keys = []
        for t in it.terms:
            spec = ref_li if t.role == schema.ROLE_LI_METAL else ref
            atoms = atoms_from_dict(t.structure)
            k = single_point_key(atoms, spec)
            keys.append(k)
            if k not in jobs:
                jobs[k] = Job(k, atoms, spec, {"of": t.source, "structure_role": t.role, "dopant": it.dopant,
                                               "percent": it.percent, "campaign_calculator": name})
        term_keys.append(keys)
    return Plan(name, ref, items, chosen, jobs, term_keys)


def _energy(doc: Mapping[str, Any]) -> float | None:
    if doc.get("status") != COMPLETED:
        return None
    value = (doc.get("output") or {}).get("energy_eV")
    return float(value) if value is not None and math.isfinite(float(value)) else None


def crosscheck(
    store: Any,
    *,
    reference: str = "gpaw",
    calculator: str | None = None,
    dopant: str | None = None,
    kind: str | None = None,
    sample: int | None = None,
    reference_parameters: Mapping[str, Any] | None = None,
    progress: Progress | None = None,
    percent: float | None = None,
    seed: int = DEFAULT_SEED,
    retry_failed: bool = False,
    compute: bool = True,
) -> CrosscheckReport:
    """Recompute a campaign's insertion energies and barriers with ``reference`` at its geometries.

    Parameters
    ----------
    store : ResultStore
    reference : str
        Reference calculator name (``gpaw``; any registry name works, e.g. for tests).
    calculator : str, optional
        The campaign's calculator (default: the only one with insertions or NEBs in the store,
        else the default calculator when it is among them).
    dopant : str, optional
        Only this host's dopant (``Si`` or ``pure``: pure silicon).
    kind : {"insertion", "barrier"}, optional
        Only this kind of number.
    sample : int, optional
        Check only ``sample`` items, drawn with ``random.Random(seed)`` from the sorted candidates.
    reference_parameters : dict, optional
        Parameters of the reference calculator on top of :data:`REFERENCE_DEFAULTS`.
    progress : callable, optional
        Called with one line before each single point.
    percent : float, optional
        Only hosts at this atom % (within 1e-3).
    seed : int
        Seed of ``sample``.
    retry_failed : bool
        Run reference single points again that are stored as failed (e.g. an SCF that did
        not converge); by default a failure is a result, reported with its reason.
    compute : bool
        False: compute nothing, report only the items whose reference single points are all
        in the store already (what ``sianode validate`` shows; the reference need not be
        installed).

    Returns
    -------
    CrosscheckReport

    Raises
    ------
    InputError
        Unknown reference, kind or calculator, a bad ``sample``, or nothing in the store to
        check (the message says what the store holds).
    """
    from sianode.analysis.docs import short
    from sianode.workflows.steps import StepStats

    plan = plan_crosscheck(store, reference=reference, calculator=calculator, dopant=dopant, kind=kind,
                           sample=sample, reference_parameters=reference_parameters, percent=percent, seed=seed,
                           require_installed=compute)
    stats = StepStats()
    docs: dict[str, dict[str, Any]] = {}
    if not compute:
        docs = {k: d for k in plan.jobs if (d := store.get(k)) is not None}
    for i, job in enumerate(plan.jobs.values() if compute else (), 1):
        if progress:
            pct = f" {job.labels['percent']:g} %" if job.labels["percent"] else ""
            known = store.get(job.key)
            done = known is not None and (known.get("status") == COMPLETED
                                          or (known.get("status") == FAILED and not retry_failed))
            progress(f"single point {i}/{len(plan.jobs)}: {job.labels['dopant']}{pct} {job.labels['structure_role']} "
                     f"({len(job.atoms)} atoms) with {job.calculator.name}" + (": in the store" if done else ""))
        docs[job.key] = single_point_step(store, job.atoms, job.calculator, labels=job.labels, stats=stats,
                                          retry_failed=retry_failed)

    rows = []
    for it, keys in zip(plan.chosen, plan.term_keys):
        if not compute and not all(k in docs for k in keys):
            continue
        energies = [_energy(docs[k]) for k in keys]
        value, reason = None, None
        if any(e is None for e in energies):
            bad = next(docs[k] for k, e in zip(keys, energies) if e is None)
            reason = f"reference single point {short(bad.get('key'))} is {bad.get('status')}: {bad.get('reason')}"
        else:
            value = sum(t.coefficient * e for t, e in zip(it.terms, energies))  # type: ignore[operator]
        rows.append(CrosscheckRow(
            dopant=it.dopant, percent=it.percent, kind=it.kind, item=it.item, calc_eV=it.calc_eV,
            reference_eV=value, difference_eV=None if value is None else value - it.calc_eV,
            sources=[*it.sources, *dict.fromkeys(keys)], reason=reason))
    return CrosscheckReport(reference=reference, calculator=plan.calculator,
                            reference_identity=plan.reference.identity(), rows=rows, summary=summarize(rows),
                            n_candidates=len(plan.candidates),
                            stats={"computed": stats.computed, "reused": stats.reused, "failed": stats.failed,
                                   "wall_s": stats.wall_s})


# ------------------------------------------------------------------ cluster
def _single_point_task_class() -> type:
    from fireworks import FiretaskBase, FWAction, explicit_serialize

    @explicit_serialize
    class SinglePointTask(FiretaskBase):
        """One crosscheck single point (:func:`single_point_step`) through the worker's store."""

        required_params = ["structure", "calculator"]
        optional_params = ["labels"]

        def run_task(self, fw_spec: dict[str, Any]) -> Any:
            from sianode.calculators import CalculatorSpec
            from sianode.structures.serialize import atoms_from_dict
            from sianode.workflows.tasks import task_store

            doc = single_point_step(task_store(fw_spec), atoms_from_dict(self["structure"]),
                                    CalculatorSpec.from_dict(self["calculator"]), labels=self.get("labels") or {})
            return FWAction(stored_data={"key": doc["key"], "status": doc.get("status"), "reason": doc.get("reason")})

    SinglePointTask.__qualname__ = "SinglePointTask"
    return SinglePointTask


def __getattr__(name: str) -> Any:
    """``SinglePointTask`` is built on first use, so importing this module does not import FireWorks."""
    if name == "SinglePointTask":
        cls = _single_point_task_class()
        globals()[name] = cls
        return cls
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def crosscheck_fireworks(store: Any, *, name: str = "crosscheck", **kwargs: Any) -> Any:
    """A FireWorks ``Workflow`` with one Firework per single point a :func:`crosscheck` with
    ``kwargs`` still needs (those not completed in the store); None when it needs none.

    Add it to the campaign's launchpad (``lp.add_wf``) and let the workers run it (the queue
    jobs of ``sianode submit``, or ``rlaunch``); :func:`crosscheck` then finds every single
    point in the store and computes nothing.
    """
    from fireworks import Firework, Workflow

    task_cls = globals().get("SinglePointTask") or __getattr__("SinglePointTask")
    plan = plan_crosscheck(store, **kwargs)
    fws = []
    for job in plan.jobs.values():
        doc = store.get(job.key)
        if doc is not None and doc.get("status") == COMPLETED:
            continue
        d = job.as_dict()
        fws.append(Firework([task_cls(structure=d["structure"], calculator=d["calculator"], labels=d["labels"])],
                            name=f"{name}-{job.labels['dopant']}-{job.labels['structure_role']}-{job.key[:8]}"))
    return Workflow(fws, name=name) if fws else None
