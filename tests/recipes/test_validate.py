"""``sianode validate``: each check's status against the status computed independently.

The lj-test pair potential is NOT physics; with it the checks run end to end (every number
through the store) and each status is compared with the one that follows from numbers
the test computes itself (a direct relaxation, the stored documents read back, the judge
of the Ge trend applied to the curve). The Ge judge itself is tested on curves whose answer
is known by construction.
"""

from __future__ import annotations

import json

import pytest

from sianode.recipes import validate as val
from tests.cli import run_cli

#: loose settings so the lj-test calculations take a few seconds
LOOSE = val.ValidationSettings(fmax=1.0, steps=40, neb_fmax=1.0, neb_steps=30, n_images=3, reference_fmax=0.5,
                               superposition_L=4, superposition_seeds=2)
KEYS = {"check", "value", "reference", "unit", "tolerance", "passed", "citation", "status", "note", "sources"}
GRID = val.GE_PERCENTS


# ------------------------------------------------------------------ the Ge judge
def v_shape(x0, depth=0.03, base=0.47):
    return [base - depth * max(0.0, 1.0 - abs(x - x0) / x0) for x in GRID]


def test_judge_passes_a_minimum_at_6_25():
    verdict = val.judge_ge_trend(GRID, v_shape(6.25))
    assert verdict.passed and verdict.percent_at_minimum == 6.25 and verdict.depth_eV == pytest.approx(0.03)


@pytest.mark.parametrize("ea, where", [
    ([0.47 - 0.004 * x for x in GRID], "at the highest %"),       # monotonic fall: no minimum
    ([0.47 + 0.004 * x for x in GRID], "at pure Si"),            # monotonic rise
    (v_shape(3.125), "at 3.125 %"),                               # a minimum, but elsewhere
])
def test_judge_fails_without_the_minimum_at_6_25(ea, where):
    verdict = val.judge_ge_trend(GRID, ea)
    assert not verdict.passed and where in verdict.why


def test_judge_needs_a_clear_dip():
    shallow = v_shape(6.25, depth=0.002)
    assert not val.judge_ge_trend(GRID, shallow).passed
    assert "no clear minimum" in val.judge_ge_trend(GRID, shallow).why
    assert val.judge_ge_trend(GRID, v_shape(6.25, depth=0.006)).passed
    with pytest.raises(val.InputError, match="ascending"):
        val.judge_ge_trend([0.0, 2.0, 1.0], [0.4, 0.3, 0.4])


def test_series_takes_networks_where_complete_and_superposition_elsewhere():
    from sianode.analysis.concentration import CurvePoint, DopantTrend, ExplicitPoint, HostValues, Stat, Trends

    def point(dopant, percent, ea):
        host = HostValues("k", dopant, percent, 2, 1, 0, 1.0, "multiplicity", ratio_to_pure=1.0)
        return ExplicitPoint(dopant, percent, 2, 1, [host], Ea_eff=Stat(ea, 0.0, ea, ea, 1, 1.0),
                             ratio_to_pure=Stat(1.0, 0.0, 1.0, 1.0, 1, 1.0))

    trends = Trends("fake", 300.0, pure=[point("Si", 0.0, 0.47)])
    trends.dopants["Ge"] = DopantTrend("Ge", points=[point("Ge", 1.5625, 0.46)],
                                       curve=[CurvePoint(p, 1, 1.0, 0.0, 0.5 - 0.001 * p, 1.0, 0.0) for p in GRID[1:]])
    xs, es, how = val.ge_trend_series(trends)
    assert xs == list(GRID) and how == ["network", "network"] + ["superposition"] * 7
    assert es[:3] == pytest.approx([0.47, 0.46, 0.5 - 0.003125])


# ------------------------------------------------------------------ lj-test end to end
def _expected_lattice(settings):
    """The lattice check's status from a direct cell relaxation of the 8-atom cell (no store)."""
    from ase.build import bulk

    from sianode.calculators import relax

    res = relax(bulk("Si", "diamond", a=5.431, cubic=True), "lj-test", fmax=settings.fmax, steps=settings.steps,
                cell=True)
    a = float(res.structure.cell.lengths()[0])
    return a, (val.PASS if abs(a - 5.431) / 5.431 <= 0.01 else val.FAIL)


def _expected_from_store(store):
    """Statuses of the insertion and barrier checks from the stored documents read back directly."""
    from sianode.analysis import derive

    rows = [v for v in derive.insertion_energies(store, campaign=val.CAMPAIGN) if v.e_ins_eV is not None]
    e = {}
    for dopant, kind in (("Si", "T"), ("Si", "H"), ("B", "T"), ("P", "T")):
        mine = [v for v in rows if v.dopant == dopant and v.site_kind == kind]
        nearest = min(mine, key=lambda v: v.distance_to_dopant_A or 0.0)  # the class next to the dopant
        e[(dopant, kind)] = (nearest.e_ins_eV,)
    h_minus_t = e[("Si", "H")][0] - e[("Si", "T")][0]
    (pure,) = [b.barrier_eV for b in derive.barriers(store, dopant="Si", campaign=val.CAMPAIGN)]
    eb, ep, epp = e[("B", "T")][0], e[("Si", "T")][0], e[("P", "T")][0]
    return {"E_H - E_T, pure Si": (h_minus_t, val.PASS if h_minus_t > 0 else val.FAIL),
            "T->H->T barrier, pure Si": (pure, val.PASS if pure is not None and 0.40 <= pure <= 0.80 else val.FAIL),
            "E_ins nearest T: B < pure < P": (min(ep - eb, epp - ep), val.PASS if eb < ep < epp else val.FAIL)}


def _expected_ge(store):
    """The Ge check's status: the judge on the trend rebuilt from the store (analysis only)."""
    from sianode.analysis.concentration import concentration_trends

    trends = concentration_trends(store, calculator="lj-test", dopants=["Ge"], curve_percents=GRID[1:],
                                  L=LOOSE.superposition_L, seeds=LOOSE.superposition_seeds)
    if trends.dopants["Ge"].curve_missing:
        return None, val.FAIL
    xs, es, _ = val.ge_trend_series(trends)
    verdict = val.judge_ge_trend(xs, es)
    return verdict.percent_at_minimum, val.PASS if verdict.passed else val.FAIL


@pytest.fixture(scope="module")
def validated(db_server, tmp_path_factory):
    """One lj-test validation (LOOSE, quick) in a database of its own, shared by the tests below:
    (store, database URI, checks, call log path, calculator calls it made)."""
    import uuid

    from sianode.store import open_store

    uri = f"mongodb://{db_server.host}:{db_server.port}/val_{uuid.uuid4().hex[:12]}?directConnection=true"
    log = tmp_path_factory.mktemp("validate") / "calls.log"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SIANODE_CALL_LOG", str(log))
        store = open_store(uri)
        checks = val.run_validation(store, "lj-test", settings=LOOSE, quick=True)
        yield store, uri, checks, log, len(log.read_text().splitlines())
        store.db.client.close()


def test_statuses_match_independent_numbers(validated):
    store, _, checks, _, _ = validated
    by_name = {c.check: c for c in checks}
    assert [c.check for c in checks] == [c.name for c in val.CHECKS]
    for c in checks:
        assert KEYS <= set(c.as_dict()) and c.citation
        if c.value is not None:  # computed from stored documents, which it names
            assert c.sources and all(store.get(k) is not None for k in c.sources)
    a, status = _expected_lattice(LOOSE)
    lattice = by_name["Si lattice constant"]
    assert lattice.status == status and lattice.value == pytest.approx(a, abs=2e-3)
    for name, (value, status) in _expected_from_store(store).items():
        assert by_name[name].status == status, (name, by_name[name].note)
        if value is not None:
            assert by_name[name].value == pytest.approx(value)
    ge = by_name[next(c.name for c in val.CHECKS if c.run is val._ge_trend)]
    x_min, status = _expected_ge(store)
    assert ge.status == status, ge.note
    if x_min is not None:
        assert ge.value == pytest.approx(x_min) and "E_a,eff(x) eV: 0 %:" in ge.note
    assert checks[-1].status == val.SKIPPED  # quick
    assert val.exit_code(checks) == (1 if any(c.status == val.FAIL for c in checks) else 0)


def test_second_run_computes_nothing(validated):
    store, _, checks, log, n_calls = validated
    n_docs = store.count()
    again = val.run_validation(store, "lj-test", settings=LOOSE, quick=True)
    assert len(log.read_text().splitlines()) == n_calls and store.count() == n_docs
    assert [c.as_dict() for c in again] == [c.as_dict() for c in checks]


def test_ge_check_computes_the_one_dopant_network(validated):
    from sianode.store import schema

    store, _, checks, _, _ = validated
    ge = next(c for c in checks if c.check.startswith("Ge"))
    assert "Zhu" in ge.citation and ge.reference == 6.25 and ge.unit == "atom %"
    ge_nebs = store.find({"kind": schema.NEB, "labels.role": schema.ROLE_HOP, "labels.dopant": "Ge"})
    ge_ins = store.find({"kind": schema.RELAX, "labels.role": schema.ROLE_INSERTION, "labels.dopant": "Ge"})
    # every hop path (10 H classes) and every T class (9) of one Ge in 64 sites, once each
    assert len({d["labels"]["h_site"] for d in ge_nebs}) == len(ge_nebs) == 10
    assert len({d["labels"]["site"] for d in ge_ins}) == len(ge_ins) == 9
    assert [d["labels"]["percent"] for d in ge_nebs] == pytest.approx([1.5625] * 10)
    if ge.value is not None:
        assert {d["key"] for d in ge_nebs} <= set(ge.sources)


def test_validate_documents_are_the_campaigns(validated):
    """A default-settings campaign (as the demo, with LOOSE numbers) after validate reuses the
    lattice, reference, hosts, the one-dopant Ge and pure networks and the nearest-T insertions."""
    from sianode.calculators import get_calculator
    from sianode.workflows import stages
    from sianode.workflows.plan import plan_campaign
    from sianode.workflows.spec import campaign_from_dict

    store, _, _, log, n_calls = validated
    spec = campaign_from_dict({
        "name": "demo-lj", "dopants": ["B", "P", "Ge"], "counts": [1], "hops": "all",
        "calculator": {"name": "lj-test"}, "relax": {"fmax": LOOSE.fmax, "steps": LOOSE.steps},
        "neb": {"n_images": LOOSE.n_images, "fmax": LOOSE.neb_fmax, "steps": LOOSE.neb_steps},
        "reference": {"fmax": LOOSE.reference_fmax}})
    calc = get_calculator("lj-test")
    relax, neb = spec.relax.model_dump(), spec.neb.model_dump()
    assert relax == LOOSE.relax and neb == LOOSE.neb
    reused = [stages.reference_stage(store, calc, fmax=spec.reference.fmax, campaign=spec.name)]
    for host in plan_campaign(spec).hosts:
        common = {"host": host.host_params(), "labels": host.labels(spec.name), "relax": relax}
        sites = host.sites if host.dopant in ("Si", "Ge") else host.sites[:1]
        reused += [stages.insertion_stage(store, calc, site=s.as_dict(), **common) for s in sites]
        if host.dopant in ("Si", "Ge"):
            reused += [stages.hop_stage(store, calc, hop=h.as_dict(), neb=neb, **common) for h in host.hops]
    assert len(reused) == 1 + (1 + 1) + 1 + 1 + (9 + 10)
    assert all(o.status == "completed" and o.stats.computed == 0 for o in reused)
    assert len(log.read_text().splitlines()) == n_calls  # nothing recomputed


def test_cli_exit_code_and_table(validated, capsys, monkeypatch):
    _, uri, checks, _, _ = validated
    monkeypatch.setattr(val, "DEFAULT_SETTINGS", LOOSE)  # the CLI's settings: everything is in the store
    code, out, _ = run_cli(["--db", uri, "validate", "--calculator", "lj-test", "--quick"], capsys)
    assert code == val.exit_code(checks)
    assert "lattice" in out and "[3] Wan et al." in out and "Pell" in out and "Zhu" in out
    assert ("FAIL" in out) == any(c.status == val.FAIL for c in checks)
    code, out, _ = run_cli(["--db", uri, "-q", "validate", "--calculator", "lj-test", "--quick", "--json"], capsys)
    assert [r["status"] for r in json.loads(out)] == [c.status for c in checks]


def test_exit_code_logic():
    def check(passed, status=""):
        return val.Check("c", 1.0, 0.0, "eV", "t", passed, "cite", status)

    assert val.exit_code([check(True), check(None, val.NOT_APPLICABLE), check(None, val.SKIPPED)]) == 0
    assert val.exit_code([check(True), check(False)]) == 1
    assert check(False).status == val.FAIL and check(True).status == val.PASS


def test_failed_calculation_is_a_failed_check(store):
    tight = val.ValidationSettings(fmax=1e-4, steps=2)
    checks = val.run_validation(store, "lj-test", quick=True, settings=tight)
    assert checks[0].passed is False and checks[0].value is None and checks[0].status == val.FAIL
    assert "did not converge" in checks[0].note


def test_missing_piece_is_a_skipped_check(store, monkeypatch):
    def missing(v):
        raise ImportError("cannot import name 'concentration_curve' from 'sianode.transport'")

    monkeypatch.setattr(val, "CHECKS", tuple(val.CheckDef(c.name, c.elements, c.reference, c.unit, c.tolerance,
                                                          c.citation, missing if c.name.startswith("Ge") else c.run,
                                                          c.quick) for c in val.CHECKS[:1] + val.CHECKS[4:5]))
    checks = val.run_validation(store, "lj-test", quick=True, settings=LOOSE)
    assert checks[1].status == val.SKIPPED and "concentration_curve" in checks[1].note
    assert val.exit_code(checks[1:]) == 0


def test_si_only_calculator_reports_not_applicable(db_uri, capsys):
    code, out, _ = run_cli(["--db", db_uri, "validate", "--calculator", "sw", "--json", "--quick"], capsys)
    rows = json.loads(out)
    assert code == 0
    assert KEYS <= set(rows[0]) and rows[0]["check"] == "Si lattice constant" and rows[0]["passed"] is True
    assert rows[0]["value"] == pytest.approx(5.431, abs=0.01)
    assert all(r["status"] == "not applicable" and "does not support Li" in r["note"] for r in rows[1:])


def test_unknown_calculator(db_uri, capsys):
    code, _, err = run_cli(["--db", db_uri, "validate", "--calculator", "nope"], capsys)
    assert code == 2 and "unknown calculator 'nope'" in err and err.count("\n") == 1


@pytest.mark.physics
def test_default_calculator_validates(store):
    """Every check but the Ge trend passes with SevenNet 7net-0. The Ge trend fails, a known
    shortcoming of the calculator: measured (demo settings, 3 NEB images), E_a,eff rises
    monotonically from 0.468 eV (pure Si) through 0.481 (1.5625 %, network), 0.535 (6.25 %)
    to 0.588 eV (12.5 %), while Zhu et al., Sci. Adv. 5 (2019) eaax0651 report a minimum at
    6.25 % Ge. Asserted as such so that a model that gets it right is noticed."""
    checks = {c.check: c for c in val.run_validation(store, quick=True)}
    others = [c.as_dict() for name, c in checks.items() if not name.startswith("Ge") and c.passed is False]
    assert others == []
    ge = next(c for name, c in checks.items() if name.startswith("Ge"))
    assert ge.value is not None and "E_a,eff(x) eV" in ge.note
    assert ge.passed is False, f"SevenNet now reproduces the Ge trend ({ge.note}): update README"


def test_skip_names_checks_and_bad_ids_are_one_line(validated, capsys):
    store, uri, checks, _, _ = validated
    again = val.run_validation(store, "lj-test", settings=LOOSE, quick=True, skip=("ge-trend", "dft"))
    by_id = dict(zip(val.CHECK_IDS, again))
    assert by_id["ge-trend"].status == val.SKIPPED and "--skip ge-trend" in by_id["ge-trend"].note
    assert by_id["dft"].status == val.SKIPPED
    assert [c.as_dict() for c in again[:4]] == [c.as_dict() for c in checks[:4]]
    code, _, err = run_cli(["--db", uri, "validate", "--calculator", "lj-test", "--skip", "ge"], capsys)
    assert code == 2 and "'ge' is not a check" in err and "ge-trend" in err and err.count("\n") == 1
