"""``sianode validate``: compare a calculator with the literature, computing every number.

The small reference calculations run through the store with the workflow's steps
(:mod:`sianode.workflows.steps`), with the campaign defaults, so a second run (or a run
after a campaign) finds them and is instant. Protocol, as in a campaign: the pure 8-atom
cell is relaxed with its cell (the calculator's lattice constant ``a``); hosts are built
at that ``a`` and relaxed at fixed cell; Li is inserted at a T (or H) site found from the
structure and relaxed; hops are a CI-NEB between relaxed end points.

Checks (PHYSICS.md sections 1-4):

* Si lattice constant vs 5.431 A (experiment), within 1 %.
* E_H - E_T > 0 in pure Si (Li prefers T; Wan et al. 2010).
* T -> H -> T barrier in pure Si within 0.40-0.80 eV (0.58 eV DFT, Wan 2010; 0.66 eV
  experiment, Pell 1960).
* E_ins at the T site nearest the dopant: B < pure < P (Long et al. 2011).
* Ge lowers the barrier of the hop next to it (Zhu et al. 2019).
* E_ins of the pure-Si T site converged with the cell: |E(216) - E(64)| < 0.05 eV
  (not with ``quick``).

A calculator that lacks an element of a check (Li for tersoff and sw) reports that check
as ``not applicable``. :func:`exit_code` is 1 when any check failed.
"""

from __future__ import annotations

import logging
import math
from dataclasses import asdict, dataclass, field
from typing import Any, Callable

from sianode.errors import CalculationFailed, InputError
from sianode.store import COMPLETED, schema

logger = logging.getLogger(__name__)

PASS, FAIL, NOT_APPLICABLE, SKIPPED = "pass", "fail", "not applicable", "skipped"
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
    """

    fmax: float = 0.05
    steps: int = 300
    neb_fmax: float = 0.05
    neb_steps: int = 500
    n_images: int = 5
    reference_fmax: float = 0.01


#: the settings :func:`run_validation` uses when given none
DEFAULT_SETTINGS = ValidationSettings()


class _Validator:
    """Runs the calculations once each (cached here, and in the store)."""

    def __init__(self, store: Any, spec: Any, settings: ValidationSettings, progress: Callable[[str], None]) -> None:
        self.store, self.spec, self.s, self.progress = store, spec, settings, progress
        self.cache: dict[Any, Any] = {}

    # ----------------------------------------------------------------- steps
    def _relax(self, atoms: Any, labels: dict[str, Any], cell: bool = False) -> dict[str, Any]:
        from sianode.workflows.steps import relax_step

        doc = relax_step(self.store, atoms, self.spec, fmax=self.s.fmax, steps=self.s.steps, cell=cell,
                         labels={"campaign": CAMPAIGN, **labels})
        if doc.get("status") != COMPLETED:
            raise CalculationFailed(f"{labels.get('role')} relax {doc['key'][:12]} {doc.get('status')}: {doc.get('reason')}")
        return doc

    def lattice(self) -> tuple[float, dict[str, Any]]:
        if "lattice" not in self.cache:
            from sianode.structures import pure_supercell
            from sianode.workflows.steps import relaxed_atoms

            self.progress("Si lattice constant")
            doc = self._relax(pure_supercell(1), {"role": "lattice", "dopant": schema.PURE, "percent": 0.0,
                                                  "supercell": [1, 1, 1]}, cell=True)
            self.cache["lattice"] = (float(relaxed_atoms(self.store, doc).cell.lengths().mean()), doc)
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

    def host(self, dopant: str, supercell: int = 2) -> tuple[Any, list[int], dict[str, Any], Any]:
        """(relaxed host atoms, dopant indices, host document, unrelaxed host atoms).

        Sites and hops are found on the unrelaxed host (ideal symmetry), as a campaign
        does, and placed in the relaxed one by fractional coordinates."""
        key = ("host", dopant, supercell)
        if key not in self.cache:
            from sianode.structures import doped_supercell, pure_supercell
            from sianode.workflows.steps import relaxed_atoms

            a, lattice_doc = self.lattice()
            if dopant == schema.PURE:
                atoms, idx = pure_supercell(supercell, a=a), []
            else:
                cell = doped_supercell(dopant, count=1, supercell=supercell, a=a)
                atoms, idx = cell.atoms, list(cell.dopant_indices)
            n = len(atoms)
            self.progress(f"{dopant} host, {n} sites")
            doc = self._relax(atoms, {"role": schema.ROLE_HOST, "dopant": dopant, "percent": 100.0 * len(idx) / n,
                                      "supercell": supercell, "n_dopants": len(idx),
                                      "lattice_key": lattice_doc["key"], "lattice_constant_A": a})
            self.cache[key] = (relaxed_atoms(self.store, doc), idx, doc, atoms)
        return self.cache[key]

    def site_energy(self, dopant: str, kind: str = "T", supercell: int = 2) -> tuple[float, list[str], Any]:
        """(E_ins of the site class nearest the dopant, source keys, the site class)."""
        key = ("site", dopant, kind, supercell)
        if key not in self.cache:
            from sianode.analysis.derive import insertion_energy
            from sianode.structures import insert_li, li_sites

            relaxed, idx, host_doc, ideal = self.host(dopant, supercell)
            site = getattr(li_sites(ideal, idx or None), kind)[0]
            self.progress(f"Li at {site.label} in {dopant} host")
            lab = {**host_doc["labels"], "role": schema.ROLE_INSERTION, "site": site.label, "site_kind": kind,
                   "site_multiplicity": int(site.multiplicity), "distance_to_dopant_A": site.distance_to_dopant,
                   "host_key": host_doc["key"]}
            lab.pop("campaigns", None)
            doc = self._relax(insert_li(relaxed, site.frac), lab)
            value = insertion_energy(doc, host_doc, self.mu_li()[1])
            if value.e_ins_eV is None:
                raise CalculationFailed(str(value.reason))
            self.cache[key] = (value.e_ins_eV, value.sources, (site, doc))
        return self.cache[key]

    def barrier(self, dopant: str) -> tuple[float, list[str]]:
        """Barrier of the hop nearest the dopant (any hop in pure Si), eV."""
        key = ("barrier", dopant)
        if key not in self.cache:
            from sianode.analysis.derive import barrier
            from sianode.structures import hop_endpoints, li_hops, select_hops
            from sianode.workflows.steps import neb_step, relaxed_atoms

            relaxed, idx, host_doc, ideal = self.host(dopant)
            hop = select_hops(li_hops(ideal, idx or None), "near")[0]
            lab = {**host_doc["labels"], "hop": hop.label, "host_key": host_doc["key"]}
            lab.pop("campaigns", None)
            ends = []
            for name, atoms in zip(("start", "end"), hop_endpoints(relaxed, hop)):
                self.progress(f"{dopant} hop {hop.label}: {name}")
                ends.append(self._relax(atoms, {**lab, "role": schema.ROLE_HOP_END, "end": name}))
            self.progress(f"{dopant} hop {hop.label}: NEB")
            doc = neb_step(self.store, relaxed_atoms(self.store, ends[0]), relaxed_atoms(self.store, ends[1]), self.spec,
                           n_images=self.s.n_images, fmax=self.s.neb_fmax, steps=self.s.neb_steps,
                           labels={"campaign": CAMPAIGN, **lab, "role": schema.ROLE_HOP,
                                   "hop_multiplicity": int(hop.multiplicity),
                                   "distance_to_dopant_A": hop.distance_to_dopant,
                                   "selection": "all" if not idx else "near",
                                   "start_key": ends[0]["key"], "end_key": ends[1]["key"]})
            b = barrier(doc)
            if b.barrier_eV is None:
                raise CalculationFailed(str(b.reason))
            self.cache[key] = (b.barrier_eV, [doc["key"], ends[0]["key"], ends[1]["key"]])
        return self.cache[key]


# ------------------------------------------------------------------- checks
@dataclass
class Outcome:
    """What a check function computed: value, pass, details, source document keys."""

    value: float
    passed: bool
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
    drift = _drift_A(doc_h, site_h.frac)
    if drift > 0.3:
        note += f"; Li moved {drift:.2f} A off the H site while relaxing"
    return Outcome(e_h - e_t, e_h - e_t > 0, note, sorted(set(src_t + src_h)))


def _pure_barrier(v: _Validator) -> Outcome:
    ea, src = v.barrier(schema.PURE)
    return Outcome(ea, 0.40 <= ea <= 0.80, f"Wan 2010: 0.58 eV, Pell 1960: 0.66 eV, sianode {ea:.3f} eV", src)


def _ordering(v: _Validator) -> Outcome:
    e = {d: v.site_energy(d, "T") for d in ("B", schema.PURE, "P")}
    eb, ep, epp = e["B"][0], e[schema.PURE][0], e["P"][0]
    margin = min(ep - eb, epp - ep)
    return Outcome(margin, eb < ep < epp,
                   f"E_ins at the nearest T: B {eb:.3f}, pure {ep:.3f}, P {epp:.3f} eV "
                   "(value: min(pure - B, P - pure))",
                   sorted({k for val in e.values() for k in val[1]}))


def _ge_barrier(v: _Validator) -> Outcome:
    pure, src_p = v.barrier(schema.PURE)
    ge, src_g = v.barrier("Ge")
    return Outcome(ge - pure, ge < pure, f"E_a: Ge near hop {ge:.3f} eV, pure {pure:.3f} eV", src_g + src_p)


def _convergence(v: _Validator) -> Outcome:
    e64, s64, _ = v.site_energy(schema.PURE, "T", 2)
    e216, s216, _ = v.site_energy(schema.PURE, "T", 3)
    return Outcome(e216 - e64, abs(e216 - e64) < 0.05,
                   f"E_ins(T): 64 sites {e64:.3f} eV, 216 sites {e216:.3f} eV", sorted(set(s64 + s216)))


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


CHECKS: tuple[CheckDef, ...] = (
    CheckDef("Si lattice constant", ("Si",), A_SI_EXPT_A, "A", "within 1 %", A_EXPT_CITATION, _lattice),
    CheckDef("E_H - E_T, pure Si", ("Si", "Li"), "> 0", "eV", "> 0 (Li prefers T)", WAN_2010, _h_minus_t),
    CheckDef("T->H->T barrier, pure Si", ("Si", "Li"), "0.58 (DFT) / 0.66 (expt)", "eV", "0.40-0.80 eV",
             f"{WAN_2010} (DFT); {PELL_1960} (expt)", _pure_barrier),
    CheckDef("E_ins nearest T: B < pure < P", ("Si", "Li", "B", "P"), "> 0", "eV",
             "min(pure - B, P - pure) > 0", LONG_2011, _ordering),
    CheckDef("Ge lowers the near-hop barrier", ("Si", "Li", "Ge"), "< 0", "eV", "E_a(Ge near) - E_a(pure) < 0",
             ZHU_2019, _ge_barrier),
    CheckDef("E_ins(T) converged, 64 vs 216 sites", ("Si", "Li"), 0.0, "eV", "|difference| < 0.05 eV",
             "convergence check (PHYSICS.md section 1)", _convergence, quick=False),
)


def run_validation(
    store: Any,
    calculator: str | None = None,
    *,
    quick: bool = False,
    settings: ValidationSettings | None = None,
    progress: bool | Callable[[str], None] = False,
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

    Returns
    -------
    list of Check
        In :data:`CHECKS` order. A check whose calculation failed is a failed check whose
        ``note`` gives the reason.
    """
    from sianode.calculators import DEFAULT_CALCULATOR, get_calculator

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
        else:
            try:
                out = c.run(v)
            except (CalculationFailed, InputError) as exc:
                checks.append(Check(**row, value=None, passed=False, note=f"calculation failed: {exc}"))
            else:
                checks.append(Check(**row, value=float(out.value), passed=bool(out.passed), note=out.note,
                                    sources=out.sources))
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
