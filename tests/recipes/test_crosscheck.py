"""``sianode crosscheck``: a campaign's numbers recomputed by a reference at the same geometries.

The campaign is a tiny lj-test one (NOT physics: 8-site cells, loose criteria), built once
per module with the workflow's own stages. The checks are independent of the recipe:

* the campaign's calculator as its own reference: a single point of each relaxed structure
  (and of the NEB's images) reproduces its stored energy, so every difference is 0;
* a second calculator (lj-test with another epsilon) as reference: each value equals the one
  this test computes by calling that ASE calculator directly on the stored structures;
* a reference that lacks an element (tersoff: Si only) stores failed single points with the
  reason, and rows without a value;
* single points are stored once: a second crosscheck computes nothing.
"""

from __future__ import annotations

import contextlib
import json
import math
import uuid

import pytest

from sianode.errors import InputError
from sianode.recipes import crosscheck as xc
from tests.cli import run_cli

RELAX = {"fmax": 0.5, "steps": 60, "host_cell": False}
NEB = {"n_images": 3, "fmax": 1.0, "steps": 30}
CAMPAIGN = "xc-test"
OTHER = {"epsilon_eV": 0.6, "cutoff_A": 4.5}  # a second cheap calculator: lj-test, other parameters


@pytest.fixture(scope="module")
def campaign_uri(db_server):
    """URI of a database holding a tiny lj-test campaign: pure Si and one B in 8 sites, the
    T site nearest the dopant, the near hop (whose end is a second T class for B)."""
    from sianode.store import open_store

    uri = f"mongodb://{db_server.host}:{db_server.port}/xc_{uuid.uuid4().hex[:12]}?directConnection=true"
    store = open_store(uri)
    with _one_blas_thread():
        _run_campaign(store)
    store.db.client.close()
    return uri


@contextlib.contextmanager
def _one_blas_thread():
    """One BLAS thread: the relaxations do many 3x3 solves, which a multi-threaded OpenBLAS
    makes ten times slower on a loaded 2-core machine."""
    import scipy.linalg  # noqa: F401  (loads scipy's OpenBLAS, so the limit reaches it)

    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - threadpoolctl comes with scipy's stack
        yield
        return
    with threadpool_limits(limits=1, user_api="blas"):
        yield


def _run_campaign(store):
    from sianode.calculators import get_calculator
    from sianode.workflows import stages
    from sianode.workflows.plan import plan_host

    calc = get_calculator("lj-test")
    assert stages.reference_stage(store, calc, fmax=0.5, campaign=CAMPAIGN).status == "completed"
    for dopant, count in (("Si", 0), ("B", 1)):
        host = plan_host(dopant, count, 1, nearest_sites=1, hops=("near",))
        labels = host.labels(CAMPAIGN)
        for site in host.sites:
            out = stages.insertion_stage(store, calc, host=host.host_params(), labels=labels, site=site.as_dict(),
                                         relax=RELAX)
            assert out.status == "completed", out.reason
        for hop in host.hops:
            out = stages.hop_stage(store, calc, host=host.host_params(), labels=labels, hop=hop.as_dict(),
                                   relax=RELAX, neb=NEB)
            assert out.status == "completed", out.reason


@pytest.fixture
def cstore(campaign_uri):
    from sianode.store import open_store

    store = open_store(campaign_uri)
    yield store
    store.db.client.close()


def _structure(doc, name):
    from sianode.structures.serialize import atoms_from_dict

    return atoms_from_dict(doc["output"][name])


def _energy(atoms, ase_calc):
    atoms = atoms.copy()
    atoms.calc = ase_calc
    return float(atoms.get_potential_energy())


def _expected(store, ase_calc):
    """(dopant, kind, item) -> (campaign value, reference value), computed here from the stored
    documents and the ASE calculator called directly (no sianode recipe code)."""
    out = {}
    for ins in store.find({"kind": "relax", "labels.role": "insertion"}):
        lab = ins["labels"]
        host = store.get(lab["host_key"])
        (ref,) = store.find({"kind": "reference"})
        li = _structure(ref, "structure")
        mu_calc = ref["output"]["energy_eV"] / len(li)
        calc_value = ins["output"]["energy_eV"] - host["output"]["energy_eV"] - mu_calc
        ref_value = (_energy(_structure(ins, "structure"), ase_calc) - _energy(_structure(host, "structure"), ase_calc)
                     - _energy(li, ase_calc) / len(li))
        out[(lab["dopant"], "insertion", lab["site"])] = (calc_value, ref_value)
    for neb in store.find({"kind": "neb"}):
        lab, o = neb["labels"], neb["output"]
        e = o["energies_eV"]
        saddle = _energy(_structure(neb, "saddle_structure"), ase_calc)
        name = f"{lab['hop']} {lab['start_site']}->{lab['end_site']} ({lab['h_site']})"
        start = _energy(_structure(neb, "start_structure"), ase_calc)
        out[(lab["dopant"], "barrier", name)] = (max(e) - e[0], saddle - start)
        if lab["start_site"] != lab["end_site"]:
            name = f"{lab['hop']} {lab['end_site']}->{lab['start_site']} ({lab['h_site']})"
            out[(lab["dopant"], "barrier", name)] = (max(e) - e[-1],
                                                     saddle - _energy(_structure(neb, "end_structure"), ase_calc))
    return out


# ---------------------------------------------------------------------------- the numbers
def test_own_calculator_as_reference_gives_zero_differences(cstore):
    report = xc.crosscheck(cstore, reference="lj-test")
    kinds = {(r.dopant, r.kind) for r in report.rows}
    assert kinds == {("Si", "insertion"), ("Si", "barrier"), ("B", "insertion"), ("B", "barrier")}
    assert any("->" in r.item and r.item.split()[1].split("->")[0] != r.item.split()[1].split("->")[1]
               for r in report.rows if r.kind == "barrier")  # the B hop's reverse barrier is a row too
    for r in report.rows:  # the same energies at the same positions: exactly, not within a tolerance
        assert r.reason is None and r.difference_eV == 0.0, r
    assert report.summary["insertion"]["max_abs_difference_eV"] == 0.0
    assert report.summary["barrier"]["n_compared"] == len([r for r in report.rows if r.kind == "barrier"])
    # the campaign values are those the test reads from the documents
    expected = _expected(cstore, _lj(None))
    assert {(r.dopant, r.kind, r.item) for r in report.rows} == set(expected)
    for r in report.rows:
        assert r.calc_eV == pytest.approx(expected[(r.dopant, r.kind, r.item)][0], abs=1e-9)


def _lj(parameters):
    from sianode.calculators.pair import TestPairPotential

    p = {"epsilon_eV": 0.5, "cutoff_A": 5.0, **(parameters or {})}
    return TestPairPotential(epsilon_eV=p["epsilon_eV"], cutoff_A=p["cutoff_A"])


def test_second_calculator_matches_a_direct_calculation(cstore):
    report = xc.crosscheck(cstore, reference="lj-test", reference_parameters=OTHER)
    expected = _expected(cstore, _lj(OTHER))
    assert {(r.dopant, r.kind, r.item) for r in report.rows} == set(expected)
    for r in report.rows:
        calc_value, ref_value = expected[(r.dopant, r.kind, r.item)]
        assert r.reference_eV == pytest.approx(ref_value, abs=1e-9)
        assert r.difference_eV == pytest.approx(ref_value - calc_value, abs=1e-9)
        assert abs(r.difference_eV) > 1e-3  # another calculator: a real difference
    diffs = [abs(r.difference_eV) for r in report.rows if r.kind == "insertion"]
    assert report.summary["insertion"]["max_abs_difference_eV"] == pytest.approx(max(diffs))
    assert report.summary["insertion"]["mean_abs_difference_eV"] == pytest.approx(sum(diffs) / len(diffs))


def test_single_points_are_stored_keyed_and_computed_once(cstore):
    from sianode.calculators import get_calculator
    from sianode.store import content_key
    from sianode.structures.serialize import atoms_from_dict

    params = {"epsilon_eV": 0.7}
    first = xc.crosscheck(cstore, reference="lj-test", reference_parameters=params)
    assert first.stats["computed"] > 0 and first.stats["failed"] == 0
    n_docs = cstore.count({"kind": "single_point"})
    second = xc.crosscheck(cstore, reference="lj-test", reference_parameters=params)
    assert second.stats["computed"] == 0 and second.stats["reused"] == first.stats["computed"] + first.stats["reused"]
    assert cstore.count({"kind": "single_point"}) == n_docs
    assert [r.as_dict() for r in second.rows] == [r.as_dict() for r in first.rows]
    # each source after the campaign's is a single point keyed by content: kind, structure, identity
    spec = get_calculator("lj-test", **params)
    for r in first.rows:
        for key in r.sources:
            doc = cstore.get(key)
            if doc["kind"] != "single_point":
                continue
            assert doc["status"] == "completed" and doc["labels"]["role"] == "crosscheck"
            atoms = atoms_from_dict(doc["input"]["structure"])
            assert key == content_key("single_point", atoms, spec.identity(), xc.SINGLE_POINT_PARAMETERS)


def test_failed_reference_is_stored_failed_with_its_reason(cstore):
    report = xc.crosscheck(cstore, reference="tersoff", dopant="B", kind="insertion")
    assert report.rows and all(r.reference_eV is None and r.difference_eV is None for r in report.rows)
    assert all("does not support element" in r.reason for r in report.rows)
    failed = cstore.find({"kind": "single_point", "status": "failed", "calculator.calculator": "tersoff"})
    assert failed and all("tersoff" in d["reason"] and "element" in d["reason"] for d in failed)
    assert report.summary["insertion"]["n_compared"] == 0
    again = xc.crosscheck(cstore, reference="tersoff", dopant="B", kind="insertion")
    assert again.stats["computed"] == 0  # a failure is a result too: not rerun
    retried = xc.crosscheck(cstore, reference="tersoff", dopant="B", kind="insertion", retry_failed=True)
    assert retried.stats["computed"] == again.stats["failed"] > 0  # unless asked to


def test_filters_and_deterministic_sample(cstore):
    everything = xc.plan_crosscheck(cstore, reference="lj-test")
    n = len(everything.candidates)
    assert n >= 5
    one = xc.plan_crosscheck(cstore, reference="lj-test", sample=2)
    again = xc.plan_crosscheck(cstore, reference="lj-test", sample=2)
    items = [(i.dopant, i.kind, i.item) for i in one.chosen]
    assert len(items) == 2 and items == [(i.dopant, i.kind, i.item) for i in again.chosen]
    assert set(items) <= {(i.dopant, i.kind, i.item) for i in everything.candidates}
    seeds = {tuple((i.dopant, i.item) for i in xc.plan_crosscheck(cstore, reference="lj-test", sample=2,
                                                                    seed=s).chosen) for s in range(8)}
    assert len(seeds) > 1  # the seed draws
    pure = xc.plan_crosscheck(cstore, reference="lj-test", dopant="pure", kind="barrier")
    assert pure.chosen and all(i.dopant == "Si" and i.kind == "barrier" for i in pure.chosen)
    assert len(xc.plan_crosscheck(cstore, reference="lj-test", sample=10 * n).chosen) == n


@pytest.mark.parametrize("kwargs, match", [
    ({"reference": "vasp"}, "unknown --reference 'vasp'"),
    ({"reference": "lj-test", "kind": "relax"}, "unknown --kind 'relax'; allowed: insertion, barrier"),
    ({"reference": "lj-test", "sample": 0}, "--sample must be a positive integer"),
    ({"reference": "lj-test", "calculator": "chgnet"}, "calculator 'chgnet' has no completed insertion or NEB"),
    ({"reference": "lj-test", "dopant": "P"}, "nothing to crosscheck for calculator 'lj-test' with dopant P: "
                                              "the store holds completed lj-test:"),
])
def test_bad_input(cstore, kwargs, match):
    with pytest.raises(InputError, match=match.replace("(", r"\(")):
        xc.crosscheck(cstore, **kwargs)


def test_missing_package_is_an_input_error(monkeypatch):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "gpaw" else real(name, *a))
    with pytest.raises(InputError, match=r"needs gpaw, which is not installed: install `make dft`"):
        xc.reference_calculator("gpaw")


def test_reference_parameters_and_li_metal_k_points():
    spec = xc.reference_calculator("lj-test", {"epsilon_eV": 0.6})
    assert spec.parameters["epsilon_eV"] == 0.6
    assert xc.REFERENCE_DEFAULTS["gpaw"]["kpts_density"] < xc.LI_METAL_OVERRIDES["gpaw"]["kpts_density"]


# ---------------------------------------------------------------------------- CLI
def test_cli_table_and_json(campaign_uri, cstore, capsys):
    code, out, err = run_cli(["--db", campaign_uri, "crosscheck", "--reference", "lj-test", "--json"], capsys)
    assert code == 0, err
    data = json.loads(out)
    assert data["reference"] == "lj-test" and data["calculator"] == "lj-test"
    row = data["rows"][0]
    assert {"dopant", "percent", "kind", "item", "calc_eV", "reference_eV", "difference_eV", "sources"} <= set(row)
    assert set(data["summary"]) == {"insertion", "barrier"}
    assert all(math.isclose(r["difference_eV"], 0.0, abs_tol=1e-9) for r in data["rows"])
    code, out, err = run_cli(["--db", campaign_uri, "crosscheck", "--reference", "lj-test", "--kind", "insertion",
                              "--dopant", "B"], capsys)
    assert code == 0, err
    assert "crosscheck of lj-test against lj-test" in out and "insertion:" in out and "barrier:" not in out
    code, out, err = run_cli(["--db", campaign_uri, "crosscheck", "--reference", "lj-test", "--json",
                              "--param", "epsilon_eV=0.6", "--param", "cutoff_A=4.5"], capsys)
    assert code == 0, err
    expected = xc.crosscheck(cstore, reference="lj-test", reference_parameters=OTHER)
    assert [r["reference_eV"] for r in json.loads(out)["rows"]] == [r.reference_eV for r in expected.rows]


@pytest.mark.parametrize("args, match", [
    (["--reference", "nosuch"], "unknown --reference 'nosuch'"),
    (["--reference", "lj-test", "--param", "epsilon_eV"], "--param 'epsilon_eV' is not KEY=VALUE"),
    (["--reference", "lj-test", "--param", "sigma=1"], "unknown parameter(s) sigma for calculator 'lj-test'"),
    (["--reference", "lj-test", "--kind", "neb"], "unknown --kind 'neb'"),
])
def test_cli_bad_input_is_one_line_exit_2(campaign_uri, capsys, args, match):
    code, out, err = run_cli(["--db", campaign_uri, "crosscheck", *args], capsys)
    assert code == 2 and out == "" and len(err.strip().splitlines()) == 1 and match in err


def test_cli_empty_store_says_what_it_holds(db_uri, capsys):
    code, out, err = run_cli(["--db", db_uri, "crosscheck", "--reference", "lj-test"], capsys)
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert "nothing to crosscheck: the store holds no completed insertion or NEB (0 documents in all)" in err


# ---------------------------------------------------------------------------- FireWorks
def test_fireworks_run_the_single_points_through_the_worker_store(cstore, campaign_uri):
    params = {"epsilon_eV": 0.8}
    wf = xc.crosscheck_fireworks(cstore, reference="lj-test", reference_parameters=params, dopant="Si")
    plan = xc.plan_crosscheck(cstore, reference="lj-test", reference_parameters=params, dopant="Si")
    assert len(wf.fws) == len(plan.jobs) > 0
    task = wf.fws[0].tasks[0]
    assert task.fw_name == "{{sianode.recipes.crosscheck.SinglePointTask}}"
    from fireworks.utilities.fw_serializers import load_object

    for fw in wf.fws:  # what a worker does with the stored Firework
        action = load_object(fw.tasks[0].to_dict()).run_task({"_fw_env": {"sianode_db": campaign_uri}})
        assert action.stored_data["status"] == "completed"
    report = xc.crosscheck(cstore, reference="lj-test", reference_parameters=params, dopant="Si")
    assert report.stats["computed"] == 0 and all(r.difference_eV is not None for r in report.rows)
    assert xc.crosscheck_fireworks(cstore, reference="lj-test", reference_parameters=params, dopant="Si") is None


# ---------------------------------------------------------------------------- GPAW
@pytest.mark.dft
def test_tiny_gpaw_crosscheck(cstore):
    """One GPAW crosscheck of pure Si (8/9-atom cells, 200 eV, few k-points: cheap, not
    converged): finite E_ins and barrier, E_ins recomputed from the stored GPAW single points.

    The saddle (Li at the H site) is computed right after the insertion (Li at the T site):
    same atoms, same cell. A GPAW object reused between them keeps the T site's symmetry and
    raises SymmetryBrokenError (seen with ``FRESH_PER_STRUCTURE`` empty)."""
    pytest.importorskip("gpaw")
    params = {"ecut_eV": 200.0, "kpts_density": 1.0}
    plan = xc.plan_crosscheck(cstore, reference="gpaw", reference_parameters=params, dopant="Si")
    jobs = {j.labels["structure_role"]: j for j in plan.jobs.values()}
    for role in ("insertion", "saddle"):
        doc = xc.single_point_step(cstore, jobs[role].atoms, jobs[role].calculator, labels=jobs[role].labels)
        assert doc["status"] == "completed", doc.get("reason")
    report = xc.crosscheck(cstore, reference="gpaw", reference_parameters=params, dopant="Si")
    assert report.stats["failed"] == 0 and report.stats["reused"] >= 2
    assert {r.kind for r in report.rows} == {"insertion", "barrier"}
    assert all(r.reason is None and math.isfinite(r.reference_eV) for r in report.rows)
    (row,) = [r for r in report.rows if r.kind == "insertion"]
    docs = [cstore.get(k) for k in row.sources if cstore.get(k)["kind"] == "single_point"]
    assert len(docs) == 3 and all(d["calculator"]["calculator"] == "gpaw" for d in docs)
    e = {d["labels"]["structure_role"]: d["output"]["energy_eV"] for d in docs}
    n_li = len(docs[2]["input"]["structure"]["symbols"])
    assert row.reference_eV == pytest.approx(e["insertion"] - e["host"] - e["li_metal"] / n_li, abs=1e-9)


def test_read_only_reports_what_is_stored_and_computes_nothing(cstore):
    computed = xc.crosscheck(cstore, reference="lj-test", reference_parameters=OTHER)
    n_docs = cstore.coll.count_documents({})
    read = xc.crosscheck(cstore, reference="lj-test", reference_parameters=OTHER, compute=False)
    assert [r.as_dict() for r in read.rows] == [r.as_dict() for r in computed.rows]
    never = xc.crosscheck(cstore, reference="lj-test", reference_parameters={"epsilon_eV": 0.77}, compute=False)
    assert never.rows == [] and cstore.coll.count_documents({}) == n_docs


def test_validate_shows_the_stored_differences(cstore, monkeypatch):
    """``sianode validate``'s DFT row reads the stored single points of the calculator's structures."""
    from types import SimpleNamespace

    from sianode.calculators import get_calculator
    from sianode.recipes import validate

    report = xc.crosscheck(cstore, reference="lj-test", reference_parameters=OTHER)
    diffs = [abs(r.difference_eV) for r in report.rows]
    monkeypatch.setattr(validate, "DFT_REFERENCE", ("lj-test", OTHER))
    out = validate._dft_crosscheck(SimpleNamespace(store=cstore, spec=get_calculator("lj-test")))
    assert out.passed is None and out.value == pytest.approx(sum(diffs) / len(diffs))
    assert f"{len(diffs)} number(s)" in out.note and "barrier" in out.note
    monkeypatch.setattr(validate, "DFT_REFERENCE", ("lj-test", {"epsilon_eV": 0.77}))
    out = validate._dft_crosscheck(SimpleNamespace(store=cstore, spec=get_calculator("lj-test")))
    assert math.isnan(out.value) and "sianode crosscheck --reference lj-test" in out.note
