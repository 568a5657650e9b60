"""Tests of sianode/analysis/network.py: the hop network of a stored host, D_eff, the ratio to pure Si.

Documents are written directly with the shapes of contract C (insertion docs with ``site``,
NEB docs with ``h_site``/``start_site``/``end_site``), on real host structures, with energies
chosen so that the expected D is known independently:

* pure Si, one barrier E_a: D = (1/6) z d^2 nu exp(-E_a/kT), z = 4, d = sqrt(3)/4 a
  (PHYSICS.md section 4);
* every saddle at one energy s and one T class lowered by E_b (a fraction c of the sites):
  pi_i k_ij is then the same for every hop and the tetrahedral hop vectors of each site sum
  to zero, so the corrector vanishes and D = D_0 / ((1 - c) + c exp(E_b/kT)) exactly
  (Oriani, Acta Metall. 18 (1970) 147; Haus, Kehr, Phys. Rep. 150 (1987) 263).
"""

from __future__ import annotations

import json
import math
import uuid
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest
import typer

from sianode import transport
from sianode.analysis import network
from sianode.errors import InputError
from sianode.store import schema

NU_HZ = 1e13
E_HOST = {"Si": -300.0, "S": -302.0, "B": -299.0}
MU_LI = -1.9


def kB_eV_K() -> float:
    """The Boltzmann constant the transport package uses (a constant, not a formula under test)."""
    from ase.units import kB

    return float(kB)


def _calc(name: str = "lj-test") -> dict[str, Any]:
    return {"calculator": name, "model": name, "weights_sha256": None, "parameters": {}, "package": "test"}


def _put(store: Any, doc: dict[str, Any]) -> dict[str, Any]:
    return store.insert(uuid.uuid4().hex + uuid.uuid4().hex, doc)


def _host_atoms(dopant: str, a: float) -> tuple[Any, list[int]]:
    from sianode.structures import doped_supercell, pure_supercell

    if dopant == "Si":
        return pure_supercell(2, a=a), []
    cell = doped_supercell(dopant, count=1, supercell=2, a=a)
    return cell.atoms, list(cell.dopant_indices)


def populate(
    store: Any,
    dopant: str,
    site_eV: float | dict[str, float],
    saddle_eV: float | dict[str, float],
    *,
    a: float = 5.431,
    calc: str = "lj-test",
    skip: tuple[str, ...] = (),
    fail: tuple[str, ...] = (),
    reverse_error_eV: dict[str, float] | None = None,
    reference: bool = True,
) -> dict[str, Any]:
    """Write a host, its bcc-Li reference, one insertion per T class and one NEB per H class.

    ``site_eV`` / ``saddle_eV``: E_ins of every T class and saddle energy of every H class
    (eV vs bcc Li), one number for all or a dict by class label (``"*"``: every other class).
    ``skip``: class labels not written; ``fail``: written as failed.
    """
    from sianode.structures import network_topology
    from sianode.structures.serialize import atoms_to_dict

    atoms, idx = _host_atoms(dopant, a)
    topo = network_topology(atoms, idx or None)
    percent = 0.0 if dopant == "Si" else 100.0 / len(atoms)
    c = _calc(calc)
    docs: dict[str, Any] = {}
    if reference:
        docs["ref"] = _put(store, {"kind": schema.REFERENCE, "status": "completed", "reason": None, "calculator": c,
                                   "labels": {"role": schema.ROLE_LI_METAL},
                                   "output": {"mu_Li_eV": MU_LI, "energy_eV": 2 * MU_LI, "n_atoms": 2}})
    host_labels = {"role": schema.ROLE_HOST, "dopant": dopant, "percent": percent, "supercell": [2, 2, 2],
                   "n_dopants": len(idx), "arrangement": 0, "arrangement_multiplicity": 1, "campaign": "c1"}
    host = _put(store, {"kind": schema.RELAX, "status": "completed", "reason": None, "calculator": c,
                        "labels": host_labels,
                        "output": {"energy_eV": E_HOST[dopant], "structure": atoms_to_dict(atoms),
                                   "cell_relaxed": True}})
    docs["host"] = host

    def value(spec: float | dict[str, float], label: str) -> float:
        return float(spec) if not isinstance(spec, dict) else float(spec.get(label, spec["*"]))

    t_classes = list(dict.fromkeys(topo.t_labels))
    h_classes = list(dict.fromkeys(topo.h_labels))
    e_t = {lab: value(site_eV, lab) for lab in t_classes}
    total = {lab: E_HOST[dopant] + MU_LI + e for lab, e in e_t.items()}
    for lab in t_classes:
        if lab in skip:
            continue
        ok = lab not in fail
        docs[lab] = _put(store, {
            "kind": schema.RELAX, "status": "completed" if ok else "failed", "reason": None if ok else "boom",
            "calculator": c,
            "labels": {**host_labels, "role": schema.ROLE_INSERTION, "site": lab, "site_kind": "T",
                       "site_multiplicity": topo.t_labels.count(lab), "host_key": host["key"]},
            "output": {"energy_eV": total[lab]} if ok else None})
    for h in h_classes:
        if h in skip:
            continue
        first = topo.h_labels.index(h)
        start, end = topo.t_labels[topo.pairs[first, 0]], topo.t_labels[topo.pairs[first, 1]]
        s = E_HOST[dopant] + MU_LI + value(saddle_eV, h)
        e_end = total[end] + (reverse_error_eV or {}).get(h, 0.0)
        ok = h not in fail
        energies = [total[start], 0.5 * (total[start] + s) - 0.01, s, 0.5 * (s + e_end) - 0.01, e_end]
        docs[h] = _put(store, {
            "kind": schema.NEB, "status": "completed" if ok else "failed",
            "reason": None if ok else "NEB status 'not_converged'", "calculator": c,
            "labels": {**host_labels, "role": schema.ROLE_HOP, "hop": f"hop{h[1:]}", "h_site": h,
                       "hop_multiplicity": topo.h_labels.count(h), "start_site": start, "end_site": end,
                       "distance_to_dopant_A": None, "selection": "all", "host_key": host["key"],
                       "unordered": True},
            "output": {"energies_eV": energies, "barrier_eV": s - total[start]} if ok else None})
    docs["topology"] = topo
    return docs


def diamond_tst(a_A: float, barrier_eV: float, T_K: float, nu: float = NU_HZ) -> float:
    """(1/6) z d^2 nu exp(-E_a/kT), z = 4, d = sqrt(3)/4 a, in m^2/s (PHYSICS.md section 4)."""
    d_m = math.sqrt(3.0) / 4.0 * a_A * 1e-10
    return 4.0 * d_m**2 * nu / 6.0 * math.exp(-barrier_eV / (kB_eV_K() * T_K))


# ------------------------------------------------------------------ assembly
def test_pure_si_network_is_the_analytic_tst_diffusivity(store):
    """Pure Si at a = 5.40 A (not the 5.431 A of the ideal host): D = (1/6) z d^2 nu exp(-Ea/kT) exactly."""
    docs = populate(store, "Si", -0.20, 0.25, a=5.40)  # barrier 0.45 eV
    asm = network.host_network(store, dopant="Si", percent=0.0)
    assert asm.complete and asm.missing == []
    assert asm.host_key == docs["host"]["key"] and asm.calculator == "lj-test"
    assert asm.n_site_classes == 1 and asm.n_hop_classes == 1
    assert asm.network.n_sites == 64 and asm.network.n_hops == 128
    assert np.allclose(asm.network.cell_A, np.eye(3) * 10.80)
    assert asm.network.energies_eV == pytest.approx(np.full(64, -0.20), abs=1e-12)
    for T in (250.0, 300.0, 400.0):
        assert transport.diffusivity(asm.network, T) == pytest.approx(diamond_tst(5.40, 0.45, T), rel=1e-9)
    summary = network.transport_summary(store, dopant="pure", percent=None, temperature_K=300.0)
    assert summary["ratio_to_pure"] == pytest.approx(1.0, rel=1e-12)
    assert summary["Ea_eff_eV"] == pytest.approx(0.45, abs=1e-6)
    assert summary["missing"] == []
    assert set(summary["sources"]) == {docs["host"]["key"], docs["ref"]["key"], docs["T1"]["key"], docs["H1"]["key"]}


def test_doped_cell_with_pure_values_has_ratio_one(store):
    populate(store, "Si", -0.20, 0.30)
    docs = populate(store, "S", -0.20, 0.30, reference=False)
    s = network.transport_summary(store, dopant="S", percent=1.5625)
    assert s["missing"] == [] and s["n_hop_classes"] == 10 and s["n_site_classes"] == 9
    assert s["ratio_to_pure"] == pytest.approx(1.0, rel=1e-9)
    assert s["D_eff_m2_s"] == pytest.approx(diamond_tst(5.431, 0.50, 300.0), rel=1e-9)
    assert s["host_key"] == docs["host"]["key"]
    for lab in [f"T{k}" for k in range(1, 10)] + [f"H{k}" for k in range(1, 11)]:
        assert docs[lab]["key"] in s["sources"]
    assert s["warnings"] == []


def test_one_trap_class_follows_the_oriani_limit(store):
    """T1 (4 of 64 sites, next to the dopant) lowered by E_b, every saddle at one energy:
    D / D_pure = 1 / ((1 - c) + c exp(E_b/kT)), c = 4/64, exact for equal saddles."""
    e_b, T = 0.15, 300.0
    populate(store, "Si", 0.0, 0.45)
    docs = populate(store, "S", {"T1": -e_b, "*": 0.0}, 0.45, reference=False)
    c = docs["topology"].t_labels.count("T1") / 64.0
    expected = 1.0 / ((1.0 - c) + c * math.exp(e_b / (kB_eV_K() * T)))
    s = network.transport_summary(store, dopant="S", percent=1.5625, temperature_K=T)
    assert c == pytest.approx(4 / 64)
    assert s["ratio_to_pure"] == pytest.approx(expected, rel=1e-9)
    assert s["Ea_eff_eV"] > s["Ea_pure_eV"] == pytest.approx(0.45, abs=1e-6)  # a trap raises E_a,eff


def test_missing_and_failed_classes_give_no_number(store):
    populate(store, "Si", 0.0, 0.45)
    docs = populate(store, "S", 0.0, 0.45, skip=("H3", "T9"), fail=("H4",), reference=False)
    asm = network.host_network(store, dopant="S", percent=1.5625)
    assert asm.network is None
    assert "H3: no NEB" in asm.missing and "T9: no insertion" in asm.missing
    assert any(m.startswith("H4: NEB") and "not_converged" in m for m in asm.missing)
    assert not any(m.startswith(("H9:", "H10:")) for m in asm.missing)  # their NEBs are fine; T9 is what is missing
    s = network.transport_summary(store, dopant="S", percent=1.5625)
    assert s["D_eff_m2_s"] is None and s["ratio_to_pure"] is None and s["Ea_eff_eV"] is None
    assert s["D_pure_m2_s"] is not None and "H3: no NEB" in s["missing"]
    assert docs["host"]["key"] in s["sources"]


def test_no_reference_is_missing_not_guessed(store):
    populate(store, "Si", 0.0, 0.45, reference=False)
    asm = network.host_network(store, dopant="Si", percent=0.0)
    assert asm.network is None and asm.missing == ["mu_Li: no completed bcc-Li reference for calculator 'lj-test'"]


def test_saddle_from_both_ends_is_checked(store):
    populate(store, "Si", 0.0, 0.45)
    populate(store, "S", {"T1": -0.1, "*": 0.0}, 0.45, reverse_error_eV={"H1": 0.08}, reference=False)
    asm = network.host_network(store, dopant="S", percent=1.5625)
    assert asm.complete
    assert any(w.startswith("H1: saddle from the start") and "0.080 eV" in w for w in asm.warnings)
    assert asm.saddle_energies_eV["H1"] == pytest.approx(0.45)  # the start's value is used


def test_bad_requests_name_what_the_store_has(store):
    populate(store, "Si", 0.0, 0.45)
    populate(store, "S", 0.0, 0.45, reference=False)
    with pytest.raises(InputError, match="no host of dopant 'P'.*dopants with hosts: S, Si"):
        network.host_network(store, dopant="P", percent=1.5625)
    with pytest.raises(InputError, match="no S host at 3.125 atom %.*S hosts are at 1.5625 atom %"):
        network.transport_summary(store, dopant="S", percent=3.125)
    with pytest.raises(InputError, match="calculator 'sevennet'.*lj-test"):
        network.host_network(store, dopant="S", percent=1.5625, calculator="sevennet")


def test_calculators_are_not_mixed(store):
    """The pure reference of a summary is the same calculator's pure host."""
    populate(store, "Si", 0.0, 0.45, calc="lj-test")
    populate(store, "Si", 0.0, 0.30, calc="tersoff")
    populate(store, "S", 0.0, 0.45, calc="lj-test", reference=False)
    s = network.transport_summary(store, dopant="S", percent=1.5625, calculator="lj-test")
    assert s["calculator"] == "lj-test" and s["ratio_to_pure"] == pytest.approx(1.0, rel=1e-9)
    s = network.transport_summary(store, dopant="S", percent=1.5625, calculator=None)  # the only S calculator
    assert s["ratio_to_pure"] == pytest.approx(1.0, rel=1e-9)


def test_dopant_kernel_shifts(store):
    e_b = 0.12
    populate(store, "Si", -0.3, 0.2)
    docs = populate(store, "S", {"T1": -0.3 - e_b, "*": -0.3}, {"H1": 0.25, "*": 0.2}, reference=False)
    kernel = network.dopant_kernel(store, "S")
    assert isinstance(kernel, transport.DopantKernel)
    assert kernel.site_energy_pure_eV == pytest.approx(-0.3) and kernel.saddle_energy_pure_eV == pytest.approx(0.2)
    assert kernel.a_A == pytest.approx(5.431)
    topo = docs["topology"]
    n_t1 = topo.t_labels.count("T1")
    shifts = np.asarray(kernel.t_shift_eV)  # sites on the cell boundary are split over images: sums are kept
    assert np.sum(np.isclose(shifts, -e_b)) == n_t1 and np.sum(shifts) == pytest.approx(-e_b * n_t1)
    # the T1 sites are the nearest T sites to the dopant
    dist = np.linalg.norm(np.asarray(kernel.t_offsets), axis=1)
    assert np.allclose(shifts[dist < dist.min() + 1e-6], -e_b)
    assert np.sum(kernel.h_shift_eV) == pytest.approx(0.05 * topo.h_labels.count("H1"))
    assert kernel.source["doped_host_key"] == docs["host"]["key"]
    assert kernel.source["calculator"] == "lj-test"


def test_dopant_kernel_refuses_an_incomplete_network(store):
    populate(store, "Si", 0.0, 0.45)
    populate(store, "S", 0.0, 0.45, skip=("H7",), reference=False)
    with pytest.raises(InputError, match="H7: no NEB"):
        network.dopant_kernel(store, "S")


# ------------------------------------------------------------------ continuum
def test_continuum_d_is_pell_times_the_network_ratio(store):
    from sianode.analysis.persist import atomistic_inputs, parameters_from_store
    from sianode.continuum.parameters import pell_diffusivity

    populate(store, "Si", 0.0, 0.45)
    docs = populate(store, "S", {"T1": -0.15, "*": 0.0}, 0.45, reference=False)
    ratio = network.transport_summary(store, dopant="S", percent=1.5625)["ratio_to_pure"]
    params = parameters_from_store(store, "S", 1.5625)
    assert params.diffusivity_m2_s.value / pell_diffusivity(300.0) == pytest.approx(ratio, rel=1e-12)
    assert docs["host"]["key"] in params.diffusivity_m2_s.sources and "Pell" in params.diffusivity_m2_s.source
    hot = parameters_from_store(store, "S", 1.5625, {"temperature_k": 350.0})
    ratio_350 = atomistic_inputs(store, "S", 1.5625, temperature_K=350.0)["diffusivity_ratio"]["value"]
    assert hot.diffusivity_m2_s.value / pell_diffusivity(350.0) == pytest.approx(ratio_350, rel=1e-12)
    assert ratio_350 > ratio  # the trap matters less when hot


def test_continuum_gets_no_d_from_an_incomplete_network(store):
    from sianode.analysis.persist import atomistic_inputs, parameters_from_store

    populate(store, "Si", 0.0, 0.45)
    populate(store, "S", 0.0, 0.45, skip=("H2",), reference=False)
    inputs = atomistic_inputs(store, "S", 1.5625)
    assert "diffusivity_ratio" not in inputs and "H2: no NEB" in inputs["missing"]
    with pytest.raises(InputError, match=r"no diffusivity for S 1.5625 %: the hop network .* H2: no NEB") as exc:
        parameters_from_store(store, "S", 1.5625)
    assert "\n" not in str(exc.value)


# ------------------------------------------------------------------ CLI
@pytest.fixture
def app(db_uri) -> Any:
    from sianode.commands import transport as commands

    root = typer.Typer()

    @root.callback()
    def _main(ctx: typer.Context) -> None:
        ctx.obj = SimpleNamespace(db=db_uri, quiet=True, verbose=0)

    commands.register(root)
    return root


def _invoke(app: Any, args: list[str]) -> Any:
    from typer.testing import CliRunner

    return CliRunner().invoke(app, args, catch_exceptions=True)


def test_cli_diffusivity_json(store, app):
    populate(store, "Si", 0.0, 0.45)
    populate(store, "S", {"T1": -0.1, "*": 0.0}, 0.45, reference=False)
    res = _invoke(app, ["transport", "diffusivity", "--dopant", "S", "--percent", "1.5625", "--json"])
    assert res.exit_code == 0, res.output
    d = json.loads(res.stdout)
    for key in ("D_eff_m2_s", "D_pure_m2_s", "ratio_to_pure", "Ea_eff_eV", "n_hop_classes", "missing", "sources"):
        assert key in d
    expected = network.transport_summary(store, dopant="S", percent=1.5625)
    assert d["ratio_to_pure"] == pytest.approx(expected["ratio_to_pure"], rel=1e-12)
    assert d["n_hop_classes"] == 10 and d["missing"] == []
    text = _invoke(app, ["transport", "diffusivity", "--dopant", "S", "--percent", "1.5625", "--temperature", "350"])
    assert text.exit_code == 0 and "ratio" in text.stdout


def test_cli_export_round_trip(store, app, tmp_path):
    populate(store, "Si", 0.0, 0.45)
    populate(store, "S", {"T1": -0.1, "T2": 0.05, "*": 0.0}, {"H1": 0.5, "*": 0.4}, reference=False)
    out = tmp_path / "net.json"
    res = _invoke(app, ["transport", "export", "--dopant", "S", "--percent", "1.5625", "-o", str(out)])
    assert res.exit_code == 0, res.output
    net = transport.HopNetwork.from_json_file(out).validate()
    d_eff = network.transport_summary(store, dopant="S", percent=1.5625)["D_eff_m2_s"]
    assert transport.diffusivity(net, 300.0) == pytest.approx(d_eff, rel=1e-12)
    res = _invoke(app, ["transport", "network", str(out), "--json"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["D_m2_s"] == pytest.approx(d_eff, rel=1e-12)


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["transport", "diffusivity", "--dopant", "Ge", "--percent", "1.5625"], "dopants with hosts: S, Si"),
        (["transport", "diffusivity", "--dopant", "S", "--percent", "3"], "S hosts are at 1.5625 atom %"),
        (["transport", "export", "--dopant", "S", "--percent", "1.5625", "-o", "x.json"], "H5: no NEB"),
    ],
)
def test_cli_bad_input_names_the_store(store, app, args, needle):
    populate(store, "Si", 0.0, 0.45)
    populate(store, "S", 0.0, 0.45, skip=("H5",), reference=False)
    res = _invoke(app, args)
    assert isinstance(res.exception, InputError), res.output
    assert needle in str(res.exception) and "\n" not in str(res.exception)
