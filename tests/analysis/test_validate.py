"""``sianode validate`` with cheap calculators: report structure and exit-code logic.

The lj-test pair potential is NOT physics: these tests check the machinery (every check
computed through the store, reused on a second run, failures -> exit 1), not the numbers.
"""

from __future__ import annotations

import json

import pytest

from sianode.analysis import validate as val

#: loose settings so the lj-test calculations take a few seconds
LOOSE = val.ValidationSettings(fmax=1.0, steps=40, neb_fmax=1.0, neb_steps=30, n_images=3, reference_fmax=0.5)
KEYS = {"check", "value", "reference", "unit", "tolerance", "passed", "citation"}


def run_cli(args, capsys):
    from sianode.cli import main

    code = 0
    try:
        main(list(args))
    except SystemExit as exc:
        code = exc.code or 0
    out, err = capsys.readouterr()
    return code, out, err


def test_report_with_test_calculator(store, tmp_path, monkeypatch):
    log = tmp_path / "calls.log"
    monkeypatch.setenv("SIANODE_CALL_LOG", str(log))
    checks = val.run_validation(store, "lj-test", settings=LOOSE)
    assert [c.check for c in checks] == [c.name for c in val.CHECKS]
    assert len(checks) == 6
    for c in checks:
        assert KEYS <= set(c.as_dict())
        assert c.status in (val.PASS, val.FAIL)  # lj-test has every element and nothing is skipped
        assert c.citation
        if c.value is not None:  # computed from stored documents, which it names
            assert c.sources and all(store.get(k) is not None for k in c.sources)
    lattice = checks[0]
    assert lattice.passed is False and "% from experiment" in lattice.note  # LJ is not silicon
    a_doc = store.get(lattice.sources[0])
    assert a_doc["output"]["cell_relaxed"] is True
    assert val.exit_code(checks) == 1
    n_calls, n_docs = len(log.read_text().splitlines()), store.count()
    again = val.run_validation(store, "lj-test", settings=LOOSE)
    assert len(log.read_text().splitlines()) == n_calls and store.count() == n_docs  # nothing recomputed
    assert [c.as_dict() for c in again] == [c.as_dict() for c in checks]


def _ge_check():
    return next(c for c in val.CHECKS if c.run is val._ge_barrier)


def test_ge_check_is_at_6_25_percent_with_cell_relaxed_hosts(store):
    from sianode.analysis.derive import barrier

    definition = _ge_check()
    assert "6.25 %" in definition.name and "Ge" in definition.elements and "Zhu" in definition.citation
    assert val.GE_COUNT == 4 and val.DEFAULT_SETTINGS.host_cell is True
    checks = {c.check: c for c in val.run_validation(store, "lj-test", quick=True, settings=LOOSE)}
    ge = checks[definition.name]
    assert ge.status in (val.PASS, val.FAIL) and ge.value is not None  # computed, whatever lj-test says
    neb_ge, _, _, neb_pure, _, _ = [store.get(k) for k in ge.sources]
    assert (neb_ge["labels"]["dopant"], neb_ge["labels"]["n_dopants"]) == ("Ge", 4)
    assert neb_ge["labels"]["percent"] == pytest.approx(6.25) and neb_ge["labels"]["selection"] == "near"
    assert neb_pure["labels"]["dopant"] == "Si"
    assert ge.value == pytest.approx(barrier(neb_ge).barrier_eV - barrier(neb_pure).barrier_eV)
    assert ge.passed is (ge.value < 0) and "6.25 % (4/64" in ge.note
    for neb in (neb_ge, neb_pure):  # hosts relaxed with their cell, hops at that cell
        host = store.get(neb["labels"]["host_key"])
        assert host["output"]["cell_relaxed"] is True and host["input"]["parameters"]["cell"] is True


def test_validate_documents_are_the_campaigns(store, tmp_path, monkeypatch):
    """A default-settings campaign (as the demo, with LOOSE numbers) after validate reuses
    the lattice, reference, hosts, nearest-T insertions and hops that validate computed."""
    from sianode.calculators import get_calculator
    from sianode.workflows import stages
    from sianode.workflows.plan import plan_campaign
    from sianode.workflows.spec import campaign_from_dict

    call_log = tmp_path / "calls.log"
    monkeypatch.setenv("SIANODE_CALL_LOG", str(call_log))
    val.run_validation(store, "lj-test", quick=True, settings=LOOSE)
    n = len(call_log.read_text().splitlines())
    spec = campaign_from_dict({
        "name": "demo-lj", "dopants": ["B", "P", "Ge"], "counts": [1, 4], "hops": "near",
        "calculator": {"name": "lj-test"}, "relax": {"fmax": LOOSE.fmax, "steps": LOOSE.steps},
        "neb": {"n_images": LOOSE.n_images, "fmax": LOOSE.neb_fmax, "steps": LOOSE.neb_steps},
        "reference": {"fmax": LOOSE.reference_fmax}})
    calc, relax, neb = get_calculator("lj-test"), spec.relax.model_dump(), spec.neb.model_dump()
    assert relax == LOOSE.relax and neb == LOOSE.neb
    reused = [stages.reference_stage(store, calc, fmax=spec.reference.fmax, campaign=spec.name)]
    for host in plan_campaign(spec).hosts:
        common = {"host": host.host_params(), "labels": host.labels(spec.name), "relax": relax}
        if host.dopant in ("Si", "B", "P") and len(host.dopant_indices) <= 1:
            reused.append(stages.insertion_stage(store, calc, site=host.sites[0].as_dict(), **common))
        if host.dopant == "Si" or (host.dopant == "Ge" and len(host.dopant_indices) == 4):
            reused.append(stages.hop_stage(store, calc, hop=host.hops[0].as_dict(), neb=neb, **common))
    assert len(reused) == 6 and all(o.status == "completed" and o.stats.computed == 0 for o in reused)
    assert len(call_log.read_text().splitlines()) == n  # nothing recomputed


def test_quick_skips_convergence(store):
    checks = val.run_validation(store, "lj-test", quick=True, settings=LOOSE)
    last = checks[-1]
    assert last.status == val.SKIPPED and last.passed is None and "quick" in last.note


def test_exit_code_logic():
    def check(passed, status=""):
        return val.Check("c", 1.0, 0.0, "eV", "t", passed, "cite", status)

    assert val.exit_code([check(True), check(None, val.NOT_APPLICABLE), check(None, val.SKIPPED)]) == 0
    assert val.exit_code([check(True), check(False)]) == 1
    assert check(False).status == val.FAIL and check(True).status == val.PASS


def test_failed_calculation_is_a_failed_check(store):
    tight = val.ValidationSettings(fmax=1e-4, steps=2)
    checks = val.run_validation(store, "lj-test", quick=True, settings=tight)
    assert checks[0].passed is False and checks[0].value is None
    assert "did not converge" in checks[0].note


def test_si_only_calculator_reports_not_applicable(db_uri, capsys):
    code, out, _ = run_cli(["--db", db_uri, "validate", "--calculator", "sw", "--json", "--quick"], capsys)
    rows = json.loads(out)
    assert code == 0
    assert KEYS <= set(rows[0]) and rows[0]["check"] == "Si lattice constant" and rows[0]["passed"] is True
    assert rows[0]["value"] == pytest.approx(5.431, abs=0.01)
    assert all(r["status"] == "not applicable" and "does not support Li" in r["note"] for r in rows[1:])


def test_cli_exit_code_and_table(db_uri, capsys, monkeypatch):
    monkeypatch.setattr(val, "DEFAULT_SETTINGS", LOOSE)
    code, out, _ = run_cli(["--db", db_uri, "validate", "--calculator", "lj-test", "--quick"], capsys)
    assert code == 1
    assert "lattice" in out and "FAIL" in out and "[3] Wan et al." in out and "Pell" in out


def test_unknown_calculator(db_uri, capsys):
    code, _, err = run_cli(["--db", db_uri, "validate", "--calculator", "nope"], capsys)
    assert code == 2 and "unknown calculator 'nope'" in err and err.count("\n") == 1


@pytest.mark.physics
def test_default_calculator_validates(store):
    """Every check but the Ge trend passes with SevenNet 7net-0. Measured here: Ge 6.25 %
    near-hop barrier 0.492 eV vs pure 0.471 eV, while Zhu et al., Sci. Adv. 5 (2019) eaax0651
    report a minimum at 6.25 % Ge: a known shortcoming of the calculator, asserted as such so
    that a future model that gets it right is noticed."""
    checks = {c.check: c for c in val.run_validation(store, quick=True)}
    ge = [name for name in checks if name.startswith("Ge")]
    others = [c.as_dict() for name, c in checks.items() if name not in ge and c.passed is False]
    assert others == []
    assert all(checks[name].passed is False for name in ge), "SevenNet now reproduces the Ge trend: update README"
