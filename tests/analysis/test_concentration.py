"""Concentration trends from synthetic stored networks, against independent numbers.

Trap model: every T site at E0 and every saddle at E0 + Ea, except the T class nearest the
dopant, lowered by Eb. With one saddle energy everywhere the flux pi_i k_ij is the same on
every hop, the corrector vanishes and D_eff = D_pure / <exp(-(E_i - E0)/kT)>, i.e. the
dilute-trap (Oriani, Acta Metall. 18 (1970) 147) result D_pure / (1 + c_t (exp(Eb/kT) - 1)),
c_t = trap sites / all T sites: the number the tests compare with.
"""

from __future__ import annotations

import importlib.util
import math
from pathlib import Path

import pytest

from sianode.analysis import concentration as conc
from sianode.errors import InputError

_spec = importlib.util.spec_from_file_location("network_docs", Path(__file__).with_name("network_docs.py"))
nd = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(nd)

KT_300 = 8.617330337217213e-05 * 300.0  # k_B of ase.units (sianode.constants.K_B_EV_K), eV/K
E0, EA, EB = 0.02, 0.47, 0.10


def trap_energy(c):
    nearest = c.distance_to_dopant is not None and c.distance_to_dopant < 2.5
    return E0 - EB if nearest else E0


def flat_saddle(h, start, end):
    return E0 + EA


def pure_and_trap(store, dopant="B", **kwargs):
    pure = nd.network_host(store, "Si", [], lambda c: E0, flat_saddle, **kwargs)
    doped = nd.network_host(store, dopant, [0], trap_energy, flat_saddle, **kwargs)
    return pure, doped


def oriani(c_t: float, eb: float = EB) -> float:
    return 1.0 / (1.0 + c_t * (math.exp(eb / KT_300) - 1.0))


def test_weighted_stat_by_hand():
    s = conc.weighted_stat([1.0, 3.0, None], [1.0, 3.0, 5.0], total_weight=8.0)
    assert s.mean == pytest.approx((1 + 9) / 4) and s.n == 2
    assert s.spread == pytest.approx(math.sqrt((1 * 1.5**2 + 3 * 0.5**2) / 4))
    assert (s.lo, s.hi) == (1.0, 3.0) and s.covered_weight == pytest.approx(0.5)
    assert conc.weighted_stat([None], [1.0]) is None
    with pytest.raises(InputError, match="one weight per value"):
        conc.weighted_stat([1.0], [1.0, 2.0])


def test_percent_text():
    assert [conc.percent_text(100 / n) for n in (216, 64, 32, 16)] == ["0.463", "1.5625", "3.125", "6.25"]


def test_explicit_network_is_the_dilute_trap_limit(store):
    pure_and_trap(store)
    trends = conc.concentration_trends(store, superposition=False)
    point = trends.dopants["B"].points[0]
    c_t = 4 / 64  # the 4 T sites around one substitutional dopant in 64 T sites
    assert point.percent == pytest.approx(1.5625) and point.network_complete
    assert point.ratio_to_pure.mean == pytest.approx(oriani(c_t), rel=1e-6)
    assert point.e_ins_min.mean == pytest.approx(E0 - EB) and point.e_ins_nearest.mean == pytest.approx(E0 - EB)
    # Boltzmann average over classes with their multiplicities (PHYSICS.md section 3), by hand
    classes = nd.t_classes(nd_host(store, "B"))
    g = [c.multiplicity for c in classes]
    e = [trap_energy(c) for c in classes]
    w = [gi * math.exp(-ei / KT_300) for gi, ei in zip(g, e)]
    assert point.e_ins_avg.mean == pytest.approx(sum(wi * ei for wi, ei in zip(w, e)) / sum(w), rel=1e-9)
    pure = trends.pure_reference()
    assert pure.ratio_to_pure.mean == pytest.approx(1.0) and pure.Ea_eff.mean == pytest.approx(EA, abs=1e-6)
    # E_a,eff of the trap lattice: between Ea and Ea + Eb, above the pure one
    assert EA < point.Ea_eff.mean < EA + EB
    rows = conc.trend_rows(trends)
    assert [r["dopant"] for r in rows] == ["pure Si", "B"]
    assert rows[1]["transport_source"] == "network" and rows[1]["ratio_to_pure"] == pytest.approx(oriani(c_t), rel=1e-6)
    assert set(point.sources) >= {point.hosts[0].host_key}


def nd_host(store, dopant):
    return next(d for d in store.find({"labels.role": "host"}) if d["labels"]["dopant"] == dopant)


def test_superposition_matches_explicit_and_difference_is_reported(store):
    pure_and_trap(store)
    trends = conc.concentration_trends(store, curve_percents=[0.5, 1.5625, 3.125], L=4, seeds=2)
    trend = trends.dopants["B"]
    # actual atom % of the 512-site superposition cells: 3, 8 and 16 dopants
    assert trend.curve_missing is None and [c.percent for c in trend.curve] == pytest.approx([300 / 512, 1.5625, 3.125])
    # superposition with uniform saddles is exactly D_pure / <exp(-dE/kT)> of the random cell; at 1.5625 %
    # in 512 sites (8 dopants) overlapping trap shells make it differ from the ordered cell only a little
    (cmp,) = trend.comparisons
    assert cmp["percent"] == pytest.approx(1.5625)
    assert cmp["explicit_ratio"] == pytest.approx(oriani(4 / 64), rel=1e-6)
    assert abs(cmp["log10_difference"]) < 0.05
    assert cmp["log10_difference"] == pytest.approx(math.log10(cmp["explicit_ratio"] / cmp["superposition_ratio"]))
    # more dopants, more traps: the curve falls
    ratios = [c.ratio_to_pure for c in trend.curve]
    assert ratios[0] > ratios[1] > ratios[2]
    # with one saddle energy everywhere D / D_pure = 1 / <exp(-(E_i - E0)/kT)> of each random cell exactly
    # (overlapping trap shells add their shifts): the mean over the seeds, from site energies alone
    from sianode.analysis.network import dopant_kernel
    from sianode.transport import superposed_network

    kernel = dopant_kernel(store, "B")
    expected = []
    for seed in range(2):
        e = superposed_network(kernel, 4, 16, seed=seed).energies_eV
        expected.append(1.0 / sum(math.exp(-(x - E0) / KT_300) for x in e) * len(e))
    assert trend.curve[-1].ratio_to_pure == pytest.approx(sum(expected) / 2, rel=1e-4)  # iterative solve


def test_ensemble_weights_and_covered_weight(store):
    pure_and_trap(store)
    # two 2-dopant arrangements with insertion energies only, multiplicities 96 and 288 of C(64, 2)
    a = nd.host(store, "B", [0, 1], arrangement=1, multiplicity=96)
    b = nd.host(store, "B", [0, 35], arrangement=7, multiplicity=288)
    nd.insertions(store, a, lambda c: -0.30)
    nd.insertions(store, b, lambda c: -0.10)
    trends = conc.concentration_trends(store, superposition=False)
    point = trends.dopants["B"].point(3.125)
    assert point.n_hosts == 2 and not point.network_complete and point.ratio_to_pure is None
    assert point.e_ins_min.mean == pytest.approx((96 * -0.30 + 288 * -0.10) / 384)
    assert point.e_ins_min.spread == pytest.approx(math.sqrt((96 * 0.15**2 + 288 * 0.05**2) / 384))
    assert point.e_ins_min.covered_weight == pytest.approx(384 / math.comb(64, 2))
    assert "no hop (NEB) computed" in " ".join(point.network_missing)


def test_stored_ensemble_weights_cover_their_sum(store):
    a = nd.host(store, "P", [0, 1], arrangement=1, weight=0.7)
    b = nd.host(store, "P", [0, 35], arrangement=7, weight=0.2)
    nd.insertions(store, a, lambda c: 0.1)
    nd.insertions(store, b, lambda c: 0.2)
    point = conc.concentration_trends(store, transport=False, superposition=False).dopants["P"].points[0]
    assert point.e_ins_avg.mean == pytest.approx((0.7 * 0.1 + 0.2 * 0.2) / 0.9)
    assert point.e_ins_avg.covered_weight == pytest.approx(0.9)


def test_incomplete_kernel_is_a_named_problem(store):
    pure = nd.network_host(store, "Si", [], lambda c: E0, flat_saddle)
    doped = nd.host(store, "S", [0])
    nd.insertions(store, doped, trap_energy)  # no NEB: no network, no kernel
    trends = conc.concentration_trends(store, curve_percents=[1.0], L=4, seeds=1)
    assert pure is not None and trends.dopants["S"].curve == []
    assert any(p.startswith("S: no superposition curve") for p in trends.problems)
    row = conc.trend_rows(trends)[1]
    assert row["ratio_to_pure"] is None and row["transport_source"] is None


def test_bad_input(store):
    with pytest.raises(InputError, match="no completed host"):
        conc.concentration_trends(store)
    pure_and_trap(store)
    with pytest.raises(InputError, match="calculator 'nope'"):
        conc.concentration_trends(store, calculator="nope")
    with pytest.raises(InputError, match="temperature -5"):
        conc.concentration_trends(store, T_K=-5)


def test_superposition_curve_is_cached_by_content(store, tmp_path, monkeypatch):
    import sianode.transport

    monkeypatch.setenv("SIANODE_HOME", str(tmp_path / "home"))
    pure_and_trap(store)
    first, _ = conc.superposition_curve(store, "B", "fake", [1.5625], L=3, seeds=2)
    assert len(list((tmp_path / "home" / "cache" / "superposition").glob("*.json"))) == 1

    def boom(*args, **kwargs):
        raise AssertionError("computed again")

    monkeypatch.setattr(sianode.transport, "concentration_curve", boom)
    again, _ = conc.superposition_curve(store, "B", "fake", [1.5625], L=3, seeds=2)
    assert [c.as_dict() for c in again] == [c.as_dict() for c in first]
    with pytest.raises(AssertionError, match="computed again"):  # other numbers: another key
        conc.superposition_curve(store, "B", "fake", [1.5625], L=3, seeds=3)


def test_trends_cli(db_uri, store, capsys):
    import json

    from sianode.cli import main

    pure_and_trap(store)
    main(["--db", db_uri, "trends", "--json"])
    data = json.loads(capsys.readouterr().out)
    (point,) = data["dopants"]["B"]["points"]
    assert point["ratio_to_pure"]["mean"] == pytest.approx(oriani(4 / 64), rel=1e-6)
    assert data["dopants"]["B"]["comparisons"][0]["percent"] == pytest.approx(1.5625)
    main(["--db", db_uri, "trends"])
    out = capsys.readouterr().out
    assert "1.5625" in out and "explicit hop network vs dilute superposition" in out
