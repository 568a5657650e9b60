"""``sianode validate``: compare a calculator with the literature, computing every number.

A recipe (layer 8): the small reference calculations run through the store with the
workflow's own stages (:mod:`sianode.workflows.stages`, hosts planned by
:func:`sianode.workflows.plan.plan_host`) and the campaign defaults, so they have the
content keys a default campaign gives them: a campaign's documents are reused here and
these are reused by campaigns; a second run is instant. The numbers are then read back
through :mod:`sianode.analysis` (insertion energies, barriers, hop networks, the
concentration trend). Protocol, as in a campaign: the pure 8-atom cell is relaxed with its
cell (the calculator's lattice constant ``a``); hosts (one dopant: the only arrangement;
pure Si) are built at that ``a`` and relaxed with their cell (``relax.host_cell``, default
true); Li is inserted at a T (or H) site found from the ideal host and relaxed at the
host's cell; a hop is a CI-NEB between relaxed insertions (one NEB per unordered hop path).

Checks (PHYSICS.md sections 1-7):

* Si lattice constant vs 5.431 A (experiment), within 1 %.
* E_H - E_T > 0 in pure Si (Li prefers T; Wan et al. 2010).
* T -> H -> T barrier in pure Si within 0.40-0.80 eV (0.58 eV DFT, Wan 2010; 0.66 eV
  experiment, Pell 1960).
* E_ins at the T site nearest the dopant: B < pure < P (Long et al. 2011), one dopant in
  the 64-site cell.
* Ge trend: the effective activation energy E_a,eff(x) of Li diffusion over 0-12.5 atom %
  Ge (Arrhenius slope of the exact hop-network D_eff, 250-400 K) has its minimum at
  6.25 % (Zhu et al., Sci. Adv. 5 (2019) eaax0651). E_a,eff(0) from the pure-Si network;
  at each x an explicit Ge cell's complete network where the store has one (every host of
  that %, weighted by arrangement), else the dilute superposition of the one-dopant Ge
  kernel on random 1728-site cells (4 seeds). validate itself computes the one-dopant Ge
  host's complete network (every T class, every hop path: 9 insertions and 10 NEBs, shared
  with the demo) and the pure-Si one; bigger explicit cells come from campaigns. See
  :func:`judge_ge_trend` for what passes.
* DFT cross-check (measured, not judged): the mean |GPAW - calculator| of the insertion
  energies and barriers whose GPAW single points ``sianode crosscheck --reference gpaw``
  stored, each difference in the note; nothing is computed here.
* E_ins of the pure-Si T site converged with the cell: |E(216) - E(64)| < 0.05 eV
  (not with ``quick``).

A calculator that lacks an element of a check (Li for tersoff and sw) reports that check
as ``not applicable``. :func:`exit_code` is 1 when any check failed.
"""

from __future__ import annotations

import logging
import math
from dataclasses import asdict, dataclass, field
from typing import Any, Callable, Sequence

from sianode.errors import CalculationFailed, InputError
from sianode.store import schema

logger = logging.getLogger(__name__)

PASS, FAIL, NOT_APPLICABLE, SKIPPED, MEASURED = "pass", "fail", "not applicable", "skipped", "measured"
CAMPAIGN = "validate"

A_SI_EXPT_A = 5.431
WAN_2010 = "Wan et al., J. Phys.: Condens. Matter 22 (2010) 415501"
PELL_1960 = "Pell, Phys. Rev. 119 (1960) 1222"
LONG_2011 = "Long, Chan, Greeley, Gewirth, J. Phys. Chem. C 115 (2011) 18916"
ZHU_2019 = "Zhu et al., Sci. Adv. 5 (2019) eaax0651"
A_EXPT_CITATION = "experiment, c-Si a = 5.431 A (PHYSICS.md section 1)"


@dataclass
class Check:
    """One validation check.

    Attributes
    ----------
    check : str
        What is compared.
    value : float or None
        sianode's value (None when not applicable or a calculation failed).
    reference : float or str
        The literature value or condition.
    unit : str
    tolerance : str
        What counts as a pass.
    passed : bool or None
        None when not applicable or skipped.
    citation : str
    status : str
        ``pass``, ``fail``, ``not applicable`` or ``skipped``.
    note : str
        Details: the compared values, or why the check did not pass.
    sources : list of str
        Keys of the calculation documents used.
    """

    check: str
    value: float | None
    reference: float | str
    unit: str
    tolerance: str
    passed: bool | None
    citation: str
    status: str = ""
    note: str = ""
    sources: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.status:
            self.status = PASS if self.passed else (FAIL if self.passed is False else NOT_APPLICABLE)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class ValidationSettings:
    """Calculation settings (campaign defaults, so campaign documents are reused).

    Attributes
    ----------
    fmax : float
        Relaxation force criterion, eV/A.
    steps : int
        Relaxation steps.
    neb_fmax : float
        NEB force criterion, eV/A.
    neb_steps : int
    n_images : int
        Intermediate NEB images.
    reference_fmax : float
        bcc-Li relaxation force criterion, eV/A.
    host_cell : bool
        Relax each host with its cell (campaign key ``relax.host_cell``).
    """

    fmax: float = 0.05
    steps: int = 300
    neb_fmax: float = 0.05
    neb_steps: int = 500
    n_images: int = 5
    reference_fmax: float = 0.01
    host_cell: bool = True
    superposition_L: int = 6
    superposition_seeds: int = 4

    @property
    def relax(self) -> dict[str, Any]:
        """The campaign's ``relax`` mapping (:class:`~sianode.workflows.spec.RelaxSettings`)."""
        return {"fmax": self.fmax, "steps": self.steps, "host_cell": self.host_cell}

    @property
    def neb(self) -> dict[str, Any]:
        """The campaign's ``neb`` mapping (climbing image, as the default)."""
        return {"n_images": self.n_images, "fmax": self.neb_fmax, "steps": self.neb_steps, "climb": True}


#: the settings :func:`run_validation` uses when given none
DEFAULT_SETTINGS = ValidationSettings()


def _require(outcome: Any, what: str) -> None:
    """Raise :class:`CalculationFailed` unless a stage outcome completed (its reason names why)."""
    from sianode.workflows.stages import COMPLETED_

    if outcome.status != COMPLETED_:
        raise CalculationFailed(f"{what} {outcome.status}: {outcome.reason} "
                                f"({str(outcome.key or outcome.keys)[:60]})")


class _Validator:
    """Runs the calculations once each (cached here, and in the store) through the campaign stages."""

    def __init__(self, store: Any, spec: Any, settings: ValidationSettings, progress: Callable[[str], None]) -> None:
        self.store, self.spec, self.s, self.progress = store, spec, settings, progress
        self.cache: dict[Any, Any] = {}

    # ----------------------------------------------------------------- steps
    def lattice(self) -> tuple[float, dict[str, Any]]:
        if "lattice" not in self.cache:
            from sianode.workflows import stages

            self.progress("Si lattice constant")
            outcome, a = stages.lattice_stage(self.store, self.spec, relax=self.s.relax, campaign=CAMPAIGN)
            doc = self.store.get(outcome.key)
            if a is None:
                raise CalculationFailed(f"lattice relax {str(outcome.key)[:12]} {doc.get('status')}: "
                                        f"{doc.get('reason')}")
            self.cache["lattice"] = (a, doc)
        return self.cache["lattice"]

    def mu_li(self) -> tuple[float, dict[str, Any]]:
        if "mu" not in self.cache:
            from sianode.analysis.derive import mu_li_eV
            from sianode.workflows.steps import reference_step

            self.progress("bcc Li reference")
            doc = reference_step(self.store, self.spec, fmax=self.s.reference_fmax, labels={"campaign": CAMPAIGN})
            mu = mu_li_eV(doc)
            if mu is None:
                raise CalculationFailed(f"bcc-Li reference {doc['key'][:12]} {doc.get('status')}: {doc.get('reason')}")
            self.cache["mu"] = (mu, doc)
        return self.cache["mu"]

    def host(self, dopant: str, count: int = 1, supercell: int = 2) -> tuple[Any, dict[str, Any]]:
        """(:class:`~sianode.workflows.plan.HostPlan`, relaxed host document) of one host.

        Planned as a campaign plans it (every T class, every hop path, from the ideal host)
        and relaxed by :func:`~sianode.workflows.stages.host_stage`."""
        count = 0 if dopant == schema.PURE else count
        key = ("host", dopant, count, supercell)
        if key not in self.cache:
            from sianode.workflows import stages
            from sianode.workflows.plan import plan_host

            self.lattice()
            plan = plan_host(dopant, count, supercell, hops=("all",))
            self.progress(f"{plan.name} host")
            outcome = stages.host_stage(self.store, self.spec, host=plan.host_params(), labels=plan.labels(CAMPAIGN),
                                        relax=self.s.relax)
            _require(outcome, f"{plan.name} host")
            self.cache[key] = (plan, self.store.get(outcome.keys["host"]))
        return self.cache[key]

    def site_energy(self, dopant: str, kind: str = "T", supercell: int = 2) -> tuple[float, list[str], Any]:
        """(E_ins of the site class nearest the dopant, source keys, (site dict, insertion document))."""
        key = ("site", dopant, kind, supercell)
        if key not in self.cache:
            from sianode.analysis.derive import insertion_energy
            from sianode.workflows import stages

            plan, host_doc = self.host(dopant, 1, supercell)
            if kind == "T":
                site = plan.sites[0].as_dict()
            else:
                from sianode.structures import li_sites
                from sianode.structures.supercell import A_SI
                from sianode.workflows.plan import build_host

                h = getattr(li_sites(build_host(plan.host_params(), A_SI), plan.dopant_indices), kind)[0]
                site = {"label": h.label, "frac": [float(x) for x in h.frac], "multiplicity": int(h.multiplicity),
                        "distance_to_dopant_A": None if h.distance_to_dopant is None else float(h.distance_to_dopant),
                        "kind": kind}
            self.progress(f"Li at {site['label']} in {plan.name}")
            outcome = stages.insertion_stage(self.store, self.spec, host=plan.host_params(),
                                             labels=plan.labels(CAMPAIGN), site=site, relax=self.s.relax)
            _require(outcome, f"Li at {site['label']} in {plan.name}")
            doc = self.store.get(outcome.key)
            value = insertion_energy(doc, host_doc, self.mu_li()[1])
            if value.e_ins_eV is None:
                raise CalculationFailed(str(value.reason))
            self.cache[key] = (value.e_ins_eV, value.sources, (site, doc))
        return self.cache[key]

    def barrier(self, dopant: str, count: int = 1) -> tuple[float, list[str], str]:
        """(forward barrier of the first hop path of the plan, eV; source keys; hop label).

        In pure Si every hop is equivalent (one path class); with dopants the first path is
        the one whose saddle is closest to a dopant."""
        key = ("barrier", dopant, count)
        if key not in self.cache:
            from sianode.analysis.derive import barrier

            plan, _ = self.host(dopant, count)
            hop = plan.hops[0]
            outcome = self._hop(plan, hop)
            b = barrier(self.store.get(outcome.key))
            if b.barrier_eV is None:
                raise CalculationFailed(str(b.reason))
            self.cache[key] = (b.barrier_eV, [outcome.key, outcome.keys["start"], outcome.keys["end"]], hop.label)
        return self.cache[key]

    def _hop(self, plan: Any, hop: Any) -> Any:
        from sianode.workflows import stages

        self.progress(f"{plan.name} {hop.label}: CI-NEB")
        outcome = stages.hop_stage(self.store, self.spec, host=plan.host_params(), labels=plan.labels(CAMPAIGN),
                                   hop=hop.as_dict(), relax=self.s.relax, neb=self.s.neb)
        _require(outcome, f"{plan.name} hop {hop.label}")
        return outcome

    def network(self, dopant: str) -> Any:
        """Compute every T-class insertion and every hop path of the one-dopant (or pure) 64-site
        host, then assemble its hop network (:func:`sianode.analysis.network.host_network`).

        Raises :class:`CalculationFailed` when a calculation failed (the reason names it)."""
        key = ("network", dopant)
        if key not in self.cache:
            from sianode.analysis.network import host_network
            from sianode.workflows import stages

            plan, host_doc = self.host(dopant, 1)
            for site in plan.sites:
                self.progress(f"Li at {site.label} in {plan.name}")
                outcome = stages.insertion_stage(self.store, self.spec, host=plan.host_params(),
                                                 labels=plan.labels(CAMPAIGN), site=site.as_dict(), relax=self.s.relax)
                _require(outcome, f"Li at {site.label} in {plan.name}")
            for hop in plan.hops:
                self._hop(plan, hop)
            assembly = host_network(self.store, dopant=plan.dopant, percent=plan.percent, calculator=self.spec.name,
                                    arrangement=plan.arrangement, supercell=plan.supercell)
            if assembly.host_key != host_doc["key"] or not assembly.complete:
                raise CalculationFailed(f"hop network of {plan.name} not assembled: "
                                        + ("; ".join(assembly.missing) or f"host {str(assembly.host_key)[:12]} chosen"))
            self.cache[key] = assembly
        return self.cache[key]


# ------------------------------------------------------------------- checks
@dataclass
class Outcome:
    """What a check function computed: value, pass, details, source document keys."""

    value: float
    passed: bool | None  # None: measured, not judged
    note: str
    sources: list[str]


def _lattice(v: _Validator) -> Outcome:
    a, doc = v.lattice()
    dev = 100.0 * (a - A_SI_EXPT_A) / A_SI_EXPT_A
    return Outcome(a, abs(dev) <= 1.0, f"{dev:+.2f} % from experiment", [doc["key"]])


def _drift_A(doc: dict[str, Any], frac: Any) -> float:
    """Distance of the last atom (Li) of a relaxed structure from fractional ``frac``, Angstrom."""
    import numpy as np

    from sianode.structures.serialize import atoms_from_dict

    final = atoms_from_dict(doc["output"]["structure"])
    cell = final.cell[:]
    d = np.linalg.solve(cell.T, final.get_positions()[-1]) - np.asarray(frac, dtype=float)
    return float(np.linalg.norm((d - np.round(d)) @ cell))


def _h_minus_t(v: _Validator) -> Outcome:
    e_t, src_t, _ = v.site_energy(schema.PURE, "T")
    e_h, src_h, (site_h, doc_h) = v.site_energy(schema.PURE, "H")
    note = f"E_ins(T) = {e_t:.3f} eV, E_ins(H) = {e_h:.3f} eV"
    drift = _drift_A(doc_h, site_h["frac"])
    if drift > 0.3:
        note += f"; Li moved {drift:.2f} A off the H site while relaxing"
    return Outcome(e_h - e_t, e_h - e_t > 0, note, sorted(set(src_t + src_h)))


def _pure_barrier(v: _Validator) -> Outcome:
    ea, src, _ = v.barrier(schema.PURE)
    return Outcome(ea, 0.40 <= ea <= 0.80, f"Wan 2010: 0.58 eV, Pell 1960: 0.66 eV, sianode {ea:.3f} eV", src)


def _ordering(v: _Validator) -> Outcome:
    e = {d: v.site_energy(d, "T") for d in ("B", schema.PURE, "P")}
    eb, ep, epp = e["B"][0], e[schema.PURE][0], e["P"][0]
    margin = min(ep - eb, epp - ep)
    return Outcome(margin, eb < ep < epp,
                   f"E_ins at the nearest T: B {eb:.3f}, pure {ep:.3f}, P {epp:.3f} eV "
                   "(value: min(pure - B, P - pure))",
                   sorted({k for val in e.values() for k in val[1]}))


#: Zhu et al. 2019's minimum of the barrier over Ge concentration, atom %
ZHU_MINIMUM_PERCENT = 6.25
#: the Ge trend: E_a,eff at these atom % (0 = pure Si; multiples of 1/64, each met exactly by the
#: 1728-site superposition cell)
GE_PERCENTS = (0.0, 1.5625, 3.125, 4.6875, 6.25, 7.8125, 9.375, 10.9375, 12.5)
#: the minimum must lie within one 1/64 step of 6.25 %
GE_WINDOW = (4.6875, 7.8125)
#: and be deeper than this below both ends of the range (0 % and 12.5 %), eV: below it the
#: superposition's seed-to-seed scatter and the Arrhenius fit cannot tell a minimum from flat
GE_DEPTH_EV = 0.005


@dataclass
class GeTrendVerdict:
    """What :func:`judge_ge_trend` decided: minimum position and depth, pass or not, why."""

    percent_at_minimum: float
    depth_eV: float
    passed: bool
    why: str


def judge_ge_trend(percents: Any, ea_eV: Any, *, window: tuple[float, float] = GE_WINDOW,
                   depth_eV: float = GE_DEPTH_EV) -> GeTrendVerdict:
    """Whether E_a,eff(x) has Zhu et al.'s minimum: lowest inside ``window``, deeper than ``depth_eV``.

    PASS when the smallest E_a,eff of the series lies at an x within ``window`` (atom %) and
    is lower than E_a,eff at both ends of the series (0 % and the largest x) by more than
    ``depth_eV``: a minimum, not a monotonic fall or a flat line.

    Parameters
    ----------
    percents : sequence of float, shape (n,)
        Ascending atom %, first 0 (pure Si), n >= 3.
    ea_eV : sequence of float, shape (n,)
        E_a,eff at each x, eV.
    """
    import numpy as np

    x = np.asarray(percents, dtype=float)
    e = np.asarray(ea_eV, dtype=float)
    if x.shape != e.shape or x.size < 3 or not np.all(np.isfinite(e)) or np.any(np.diff(x) <= 0):
        raise InputError(f"the Ge trend needs >= 3 ascending atom % with a finite E_a,eff each; got {x.tolist()} "
                         f"and {e.tolist()}")
    k = int(np.argmin(e))
    depth = float(min(e[0], e[-1]) - e[k])
    inside = window[0] - 1e-9 <= x[k] <= window[1] + 1e-9
    if not inside:
        where = "at pure Si" if k == 0 else ("at the highest %" if k == x.size - 1 else f"at {x[k]:g} %")
        return GeTrendVerdict(float(x[k]), depth, False, f"lowest E_a,eff {where}, not near {ZHU_MINIMUM_PERCENT:g} %")
    if depth <= depth_eV:
        return GeTrendVerdict(float(x[k]), depth, False, f"the dip at {x[k]:g} % is {1000 * depth:.1f} meV, "
                                                       f"not more than {1000 * depth_eV:.0f} meV: no clear minimum")
    return GeTrendVerdict(float(x[k]), depth, True, f"minimum at {x[k]:g} %, {1000 * depth:.1f} meV below the ends")


def ge_trend_series(trends: Any, percents: Any = GE_PERCENTS) -> tuple[list[float], list[float], list[str]]:
    """(atom %, E_a,eff in eV, where each value came from) of Ge over ``percents``.

    0 %: the pure-Si network; an explicit Ge concentration whose hosts all have complete
    networks: their weighted mean ("network"); otherwise the superposition curve
    ("superposition"). A concentration with neither is left out.
    """
    pure = trends.pure_reference()
    trend = trends.dopants.get("Ge")
    xs: list[float] = []
    es: list[float] = []
    how: list[str] = []
    for p in percents:
        value, origin = None, None
        if p == 0.0:
            if pure is not None and pure.Ea_eff is not None:
                value, origin = pure.Ea_eff.mean, "network"
        elif trend is not None:
            point = trend.point(p)
            curve = trend.curve_at(p)
            if point is not None and point.network_complete and point.Ea_eff is not None:
                value, origin = point.Ea_eff.mean, "network"
            elif curve is not None and curve.Ea_eff_eV is not None:
                value, origin = curve.Ea_eff_eV, "superposition"
        if value is not None:
            xs.append(float(p))
            es.append(float(value))
            how.append(str(origin))
    return xs, es, how


def _ge_trend(v: _Validator) -> Outcome:
    from sianode.analysis.concentration import concentration_trends

    pure = v.network(schema.PURE)
    ge = v.network("Ge")
    trends = concentration_trends(v.store, calculator=v.spec.name, dopants=["Ge"],
                                  curve_percents=[p for p in GE_PERCENTS if p > 0], L=v.s.superposition_L,
                                  seeds=v.s.superposition_seeds)
    if trends.dopants.get("Ge") is None or trends.dopants["Ge"].curve_missing:
        why = trends.dopants["Ge"].curve_missing if "Ge" in trends.dopants else "no Ge host"
        raise CalculationFailed(f"no Ge superposition curve: {why}")
    xs, es, how = ge_trend_series(trends)
    verdict = judge_ge_trend(xs, es)
    series = ", ".join(f"{x:g} %: {e:.3f}{'' if h == 'superposition' else ' (network)'}"
                       for x, e, h in zip(xs, es, how))
    note = (f"E_a,eff(x) eV: {series}; {verdict.why}"
            + ("" if verdict.passed else "; this calculator does not reproduce Zhu 2019"))
    sources = list(dict.fromkeys([*ge.sources, *pure.sources]))
    return Outcome(verdict.percent_at_minimum, verdict.passed, note, sources)


def _convergence(v: _Validator) -> Outcome:
    e64, s64, _ = v.site_energy(schema.PURE, "T", 2)
    e216, s216, _ = v.site_energy(schema.PURE, "T", 3)
    return Outcome(e216 - e64, abs(e216 - e64) < 0.05,
                   f"E_ins(T): 64 sites {e64:.3f} eV, 216 sites {e216:.3f} eV", sorted(set(s64 + s216)))


#: the reference of the DFT cross-check check (name, parameters on top of its crosscheck defaults)
DFT_REFERENCE: tuple[str, dict[str, Any] | None] = ("gpaw", None)


def _dft_crosscheck(v: _Validator) -> Outcome:
    """GPAW minus this calculator at the calculator's own geometries, from the single points
    ``sianode crosscheck --reference gpaw`` stored (read only: nothing is computed here)."""
    from sianode.recipes.crosscheck import crosscheck

    reference, parameters = DFT_REFERENCE
    command = f"sianode crosscheck --reference {reference} --calculator {v.spec.name}"
    try:
        report = crosscheck(v.store, reference=reference, calculator=v.spec.name, compute=False,
                            reference_parameters=parameters)
    except InputError as exc:
        return Outcome(math.nan, None, f"not run: {exc}. Run `{command}`", [])
    rows = [r for r in report.rows if r.difference_eV is not None]
    if not rows:
        return Outcome(math.nan, None, f"no {reference} single points stored for {v.spec.name}'s structures yet: run "
                                       f"`{command}`", [])
    parts = []
    for kind in ("insertion", "barrier"):
        mine = sorted((r for r in rows if r.kind == kind), key=lambda r: (r.percent or 0.0, r.dopant or ""))
        if mine:
            parts.append(f"{kind}: " + ", ".join(f"{'pure' if r.dopant in (None, 'Si') else r.dopant} "
                                                  f"{r.item.split()[0]} {r.difference_eV:+.3f}" for r in mine))
    value = sum(abs(r.difference_eV) for r in rows) / len(rows)  # type: ignore[arg-type]
    sources = sorted({k for r in rows for k in r.sources})
    return Outcome(value, None, f"{len(rows)} number(s), {reference} - {v.spec.name} (eV): " + "; ".join(parts), sources)


@dataclass(frozen=True)
class CheckDef:
    """A check: its name, what it needs and how it is judged (the numbers come from ``run``)."""

    name: str
    elements: tuple[str, ...]
    reference: float | str
    unit: str
    tolerance: str
    citation: str
    run: Callable[[_Validator], Outcome]
    quick: bool = True
    #: short name for ``sianode validate --skip``
    id: str = ""


CHECKS: tuple[CheckDef, ...] = (
    CheckDef("Si lattice constant", ("Si",), A_SI_EXPT_A, "A", "within 1 %", A_EXPT_CITATION, _lattice, id="lattice"),
    CheckDef("E_H - E_T, pure Si", ("Si", "Li"), "> 0", "eV", "> 0 (Li prefers T)", WAN_2010, _h_minus_t, id="h-t"),
    CheckDef("T->H->T barrier, pure Si", ("Si", "Li"), "0.58 (DFT) / 0.66 (expt)", "eV", "0.40-0.80 eV",
             f"{WAN_2010} (DFT); {PELL_1960} (expt)", _pure_barrier, id="barrier"),
    CheckDef("E_ins nearest T: B < pure < P", ("Si", "Li", "B", "P"), "> 0", "eV",
             "min(pure - B, P - pure) > 0", LONG_2011, _ordering, id="ordering"),
    CheckDef("Ge trend: E_a,eff(x) lowest at 6.25 %", ("Si", "Li", "Ge"), ZHU_MINIMUM_PERCENT, "atom %",
             f"minimum of E_a,eff over 0-12.5 % within {GE_WINDOW[0]:g}-{GE_WINDOW[1]:g} %, "
             f"> {1000 * GE_DEPTH_EV:.0f} meV below both ends", f"{ZHU_2019} (barrier minimum at 6.25 atom % Ge)",
             _ge_trend, id="ge-trend"),
    CheckDef("DFT cross-check: mean |GPAW - calculator|", ("Si", "Li"), "GPAW PBE at the same geometries", "eV",
             "measured, not judged (stored single points of `sianode crosscheck`)",
             "sianode crosscheck (GPAW PBE, plane waves 300 eV, Gamma point; README)", _dft_crosscheck,
             id="dft"),
    CheckDef("E_ins(T) converged, 64 vs 216 sites", ("Si", "Li"), 0.0, "eV", "|difference| < 0.05 eV",
             "convergence check (PHYSICS.md section 1)", _convergence, quick=False,
             id="convergence"),
)


#: the ids ``--skip`` takes, in :data:`CHECKS` order
CHECK_IDS: tuple[str, ...] = tuple(c.id for c in CHECKS)


def run_validation(
    store: Any,
    calculator: str | None = None,
    *,
    quick: bool = False,
    settings: ValidationSettings | None = None,
    progress: bool | Callable[[str], None] = False,
    skip: Sequence[str] = (),
) -> list[Check]:
    """Run every check for one calculator.

    Parameters
    ----------
    store : ResultStore
    calculator : str, optional
        Registry name (default: :data:`sianode.calculators.DEFAULT_CALCULATOR`).
    quick : bool
        Skip the 216-site convergence check.
    settings : ValidationSettings, optional
        Default :data:`DEFAULT_SETTINGS` (the campaign defaults).
    progress : bool or callable
        True: log each calculation step at INFO level; a callable receives the messages.
    skip : sequence of str
        Check ids (:data:`CHECK_IDS`: lattice, h-t, barrier, ordering, ge-trend, dft,
        convergence) not to run, e.g. ``ge-trend`` for a slow model; reported as skipped.

    Returns
    -------
    list of Check
        In :data:`CHECKS` order. A check whose calculation failed is a failed check whose
        ``note`` gives the reason; one that needs a part of sianode that cannot be imported is
        ``skipped`` with the import error in its ``note``.
    """
    from sianode.calculators import DEFAULT_CALCULATOR, get_calculator

    unknown = [c for c in skip if c not in CHECK_IDS]
    if unknown:
        raise InputError(f"--skip {', '.join(map(repr, unknown))} is not a check; allowed: {', '.join(CHECK_IDS)}")
    spec = get_calculator(calculator or DEFAULT_CALCULATOR)
    report: Callable[[str], None]
    if callable(progress):
        report = progress
    else:
        report = (lambda msg: logger.info("validate %s: %s", spec.name, msg)) if progress else (lambda msg: None)
    v = _Validator(store, spec, settings or DEFAULT_SETTINGS, report)
    supported = spec.supported_elements
    checks: list[Check] = []
    for c in CHECKS:
        row = {"check": c.name, "reference": c.reference, "unit": c.unit, "tolerance": c.tolerance,
               "citation": c.citation}
        missing = [e for e in c.elements if e not in supported]
        if missing:
            checks.append(Check(**row, value=None, passed=None, status=NOT_APPLICABLE,
                                note=f"calculator {spec.name} does not support {', '.join(missing)}"))
        elif quick and not c.quick:
            checks.append(Check(**row, value=None, passed=None, status=SKIPPED, note="skipped with --quick"))
        elif c.id in skip:
            checks.append(Check(**row, value=None, passed=None, status=SKIPPED, note=f"skipped with --skip {c.id}"))
        else:
            try:
                out = c.run(v)
            except (CalculationFailed, InputError) as exc:
                checks.append(Check(**row, value=None, passed=False, note=f"calculation failed: {exc}"))
            except ImportError as exc:  # a piece of sianode this check needs is not installed: say which
                checks.append(Check(**row, value=None, passed=None, status=SKIPPED,
                                    note=f"cannot run here: {exc}"))
            else:
                measured = out.passed is None
                checks.append(Check(**row, value=None if measured and not math.isfinite(out.value) else float(out.value),
                                    passed=None if measured else bool(out.passed), note=out.note, sources=out.sources,
                                    status=MEASURED if measured else ""))
    return checks


def exit_code(checks: list[Check]) -> int:
    """1 when any check failed, else 0 (not applicable and skipped checks do not fail)."""
    return 1 if any(c.passed is False for c in checks) else 0


def render_report(checks: list[Check], title: str | None = None) -> Any:
    """The report for a terminal: a :class:`rich.table.Table` (check, sianode value, reference,
    unit, tolerance, citation number, result) followed by the numbered citations."""
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    citations: list[str] = []
    table = Table(title=title or "sianode validation")
    for col, justify in (("check", "left"), ("sianode", "right"), ("reference", "right"), ("unit", "left"),
                         ("tolerance", "left"), ("ref.", "left"), ("result", "left")):
        table.add_column(col, justify=justify, overflow="fold")  # type: ignore[arg-type]
    for c in checks:
        if c.citation not in citations:
            citations.append(c.citation)
        value = "" if c.value is None or not math.isfinite(c.value) else f"{c.value:.4g}"
        result = {PASS: "[green]pass[/green]", FAIL: "[red]FAIL[/red]"}.get(c.status, c.status)
        if c.note:
            result += f"\n[dim]{c.note}[/dim]"
        table.add_row(c.check, value, str(c.reference), c.unit, c.tolerance, f"[{citations.index(c.citation) + 1}]",
                      result)
    notes = Text("\n".join(f"[{i}] {text}" for i, text in enumerate(citations, 1)))
    return Group(table, notes)
