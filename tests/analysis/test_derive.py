from __future__ import annotations

import math

import pytest

from sianode.analysis import derive
from sianode.errors import InputError

KB = 8.617330337217213e-05  # k_B of ase.units, eV/K (sianode.constants.K_B_EV_K)


def _by_site(values):
    return {(v.dopant, v.site): v for v in values}


def test_insertion_energy_by_hand(store, campaign):
    values = _by_site(derive.insertion_energies(store))
    # E_ins = E(host+Li) - E(host) - mu_Li
    assert values[("Si", "T1")].e_ins_eV == pytest.approx(-301.5 - (-300.0) - (-1.90))
    assert values[("B", "T1")].e_ins_eV == pytest.approx(-301.2 - (-299.0) + 1.90)
    assert values[("B", "T2")].e_ins_eV == pytest.approx(-0.10)
    assert values[("P", "T1")].e_ins_eV == pytest.approx(1.00)
    b1 = values[("B", "T1")]
    assert b1.sources == [campaign["B_T1"]["key"], campaign["B"]["key"], campaign["ref"]["key"]]
    assert b1.reason is None and b1.multiplicity == 4 and b1.distance_to_dopant_A == 2.0
    assert b1.calculator == "fake"


def test_failed_document_gives_no_number(store, campaign):
    p2 = _by_site(derive.insertion_energies(store))[("P", "T2")]
    assert p2.e_ins_eV is None
    assert "failed" in p2.reason and "atoms too close" in p2.reason


def test_failed_host_gives_no_number(store, build):
    build.reference(-1.9)
    host = build.host("S", 1.5625, 0.0, status="failed")
    build.insertion(host, "T1", -3.0)
    (row,) = derive.insertion_energies(store)
    assert row.e_ins_eV is None and "host relax" in row.reason and "relaxation did not converge" in row.reason


def test_mixing_calculators_raises(build, make_calc):
    ref = build.reference(-1.9, calculator=make_calc("sevennet", sha="aa" * 32))
    host = build.host("B", 1.5625, -299.0, calculator=make_calc("sevennet", sha="aa" * 32))
    ins = build.insertion(host, "T1", -301.0, calculator=make_calc("chgnet", sha="bb" * 32))
    with pytest.raises(InputError, match="refusing to mix calculators") as err:
        derive.insertion_energy(ins, host, ref)
    assert "sevennet" in str(err.value) and "chgnet" in str(err.value)


def test_same_name_other_weights_is_another_calculator(build, make_calc):
    ref = build.reference(-1.9, calculator=make_calc("sevennet", sha="aa" * 32))
    host = build.host("B", 1.5625, -299.0, calculator=make_calc("sevennet", sha="aa" * 32))
    ins = build.insertion(host, "T1", -301.0, calculator=make_calc("sevennet", sha="cc" * 32))
    with pytest.raises(InputError, match="weights"):
        derive.insertion_energy(ins, host, ref)


def test_missing_reference_names_calculator(store, build, make_calc):
    host = build.host("B", 1.5625, -299.0, calculator=make_calc("chgnet"))
    build.insertion(host, "T1", -301.0)
    build.reference(-1.9, calculator=make_calc("sevennet"))
    with pytest.raises(InputError, match="no bcc-Li reference .* calculator chgnet"):
        derive.insertion_energies(store)
    (row,) = derive.insertion_energies(store, require_reference=False)
    assert row.e_ins_eV is None and "chgnet" in row.reason


def test_boltzmann_average_two_classes_300K():
    e, g, T = [-0.30, -0.10], [4, 12], 300.0
    w = [gi * math.exp(-ei / (KB * T)) for ei, gi in zip(e, g)]
    expected = sum(wi * ei for wi, ei in zip(w, e)) / sum(w)
    assert derive.boltzmann_average(e, g, T) == pytest.approx(expected, rel=1e-12)
    # high T: the multiplicity-weighted mean; low T: the lowest class
    assert derive.boltzmann_average(e, g, 1e7) == pytest.approx((4 * -0.30 + 12 * -0.10) / 16, abs=1e-4)
    assert derive.boltzmann_average(e, g, 1.0) == pytest.approx(-0.30)
    with pytest.raises(InputError):
        derive.boltzmann_average([0.1], [1, 2])


def test_site_averages(store, campaign):
    rows = {r["dopant"]: r for r in derive.site_averages(derive.insertion_energies(store), T_K=300.0)}
    b = rows["B"]
    assert (b["e_min_eV"], b["e_max_eV"], b["n_classes"]) == (pytest.approx(-0.30), pytest.approx(-0.10), 2)
    assert b["e_avg_eV"] == pytest.approx(derive.boltzmann_average([-0.30, -0.10], [4, 12], 300.0))
    assert rows["P"]["n_classes"] == 1  # the failed class does not contribute
    assert rows["P"]["e_avg_eV"] == pytest.approx(1.00)


def test_no_single_barrier_diffusivity():
    """A diffusivity comes from the hop network (sianode.analysis.network), never from one barrier."""
    assert not hasattr(derive, "diffusivity_m2_s")


def test_host_lattices(store, campaign):
    rows = {r["dopant"]: r for r in derive.host_lattices(store)}
    assert rows["Si"]["lattice_constant_A"] == pytest.approx(5.431)
    assert rows["B"]["lattice_constant_A"] == pytest.approx(5.41)
    assert rows["B"]["volume_change_percent"] == pytest.approx(100 * ((5.41 / 5.431) ** 3 - 1))
    assert rows["P"]["volume_change_percent"] > 0
    assert rows["B"]["sources"] == [campaign["B"]["key"], campaign["pure"]["key"]]


def test_campaign_filter_sees_shared_documents(store, build):
    build.reference(-1.9)
    host = build.host("Si", 0.0, -300.0, campaign="first")
    store.coll.update_one({"_id": host["key"]}, {"$set": {"labels.campaigns": ["first", "second"]}})
    ins = build.insertion(store.get(host["key"]), "T1", -301.0)
    assert [v.key for v in derive.insertion_energies(store, campaign="second")] == [ins["key"]]
    assert derive.insertion_energies(store, campaign="third") == []


def test_fixed_cell_host_has_no_volume_change(store, build):
    pure = build.host("Si", 0.0, -300.0)
    fixed = build.host("Ge", 1.5625, -299.0, a=5.431)
    store.coll.update_one({"_id": fixed["key"]}, {"$set": {"output.cell_relaxed": False}})
    rows = {r["dopant"]: r for r in derive.host_lattices(store)}
    assert rows["Ge"]["volume_change_percent"] is None and "fixed cell" in rows["Ge"]["reason"]
    assert rows["Ge"]["lattice_constant_A"] == pytest.approx(5.431)
    assert rows["Si"]["volume_change_percent"] == pytest.approx(0.0) and pure["key"] in rows["Si"]["sources"]


def test_volume_change_by_hand(store, build):
    """A cell-relaxed 64-site Ge host (4 Ge) against the pure lattice: numbers worked by hand."""
    from sianode.store import schema

    # the lattice document: pure 8-atom cell relaxed with its cell, a = 5.40 A
    lattice = build.host("Si", 0.0, -43.0, a=5.40, n=8)
    store.coll.update_one({"_id": lattice["key"]}, {"$set": {"labels.role": schema.ROLE_LATTICE}})
    ge = build.host("Ge", 6.25, -280.0, a=5.43)
    store.coll.update_one({"_id": ge["key"]}, {"$set": {"labels.n_dopants": 4}})
    rows = {r["dopant"]: r for r in derive.host_lattices(store)}
    row = rows["Ge"]
    assert row["lattice_constant_A"] == pytest.approx(5.43) and row["cell_relaxed"] is True
    assert row["reference_lattice_constant_A"] == pytest.approx(5.40)
    # V = 8 cells x 5.43^3 = 1280.82 A^3; V_ref = 8 x 5.40^3 = 1259.71 A^3
    assert row["volume_change_A3"] == pytest.approx(8 * 5.43 ** 3 - 8 * 5.40 ** 3)
    assert row["volume_change_A3"] == pytest.approx(21.11, abs=0.01)
    assert row["volume_change_per_dopant_A3"] == pytest.approx(21.11 / 4, abs=0.01)
    assert row["volume_change_percent"] == pytest.approx(100 * (5.43 ** 3 / 5.40 ** 3 - 1))
    assert row["volume_change_percent"] == pytest.approx(1.676, abs=1e-3)
    assert row["sources"] == [ge["key"], lattice["key"]] and row["reason"] is None
    # a cell-relaxed pure 64-site host of the same calculator is preferred over the lattice document
    pure = build.host("Si", 0.0, -300.0, a=5.401)
    again = {r["dopant"]: r for r in derive.host_lattices(store)}
    assert again["Ge"]["sources"] == [ge["key"], pure["key"]]
    assert again["Si"]["sources"] == [pure["key"], lattice["key"]]  # the pure host vs the lattice stage
    assert again["Si"]["volume_change_percent"] == pytest.approx(100 * ((5.401 / 5.40) ** 3 - 1))


def test_mu_li_is_read_in_one_spelling(build):
    """``output.mu_Li_eV`` only: the legacy names are the migration's business (sianode db migrate)."""
    assert derive.mu_li_eV(build.reference(-1.9)) == pytest.approx(-1.9)
    legacy = {"key": "k", "status": "completed", "output": {"mu_li_eV": -1.9, "energy_eV": -3.8, "n_atoms": 2}}
    assert derive.mu_li_eV(legacy) is None
