"""One NEB per unordered hop path, end points reused from the T-site insertions.

The campaign checks run the stages of :mod:`sianode.workflows.stages` on a real store with
:class:`LiProbe`, a test double that is NOT physics: Li in a frozen host feels a Born-Mayer
repulsion from every host atom (Born, Mayer, Z. Phys. 75 (1932) 1), E = sum_j A_j
exp(-r_j / rho), with a smaller A on the dopant. Its energy has exactly the symmetry of the
doped cell, T sites are minima and H sites saddles, and a 65-atom NEB takes a fraction of a
second, so a whole one-dopant host in 64 sites with every hop path runs in seconds.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import yaml
from ase.calculators.calculator import Calculator, all_changes

RELAX = {"fmax": 0.02, "steps": 400, "host_cell": False}
NEB = {"n_images": 3, "fmax": 0.05, "steps": 400, "climb": True}


class LiProbe(Calculator):
    """Li in a frozen host (NOT physics): Born-Mayer repulsion on Li only, zero stress.

    Host atoms feel no force (they are held), so hosts relax in no step and only the Li
    moves. ``amplitude_eV`` maps a host species to A_j; ``rho_A`` is the decay length.
    """

    implemented_properties = ["energy", "free_energy", "forces", "stress"]

    def __init__(self, amplitude_eV: dict[str, float] | None = None, rho_A: float = 0.3, cutoff_A: float = 5.0,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.amplitude_eV = dict(amplitude_eV or {"Si": 1000.0, "B": 400.0})
        self.rho_A, self.cutoff_A = float(rho_A), float(cutoff_A)

    def calculate(self, atoms: Any = None, properties: Any = None, system_changes: Any = all_changes) -> None:
        super().calculate(atoms, properties, system_changes)
        cell = self.atoms.cell[:]
        assert np.allclose(cell, np.diag(np.diag(cell))) and np.diag(cell).min() > self.cutoff_A
        sym = np.array(self.atoms.get_chemical_symbols())
        pos = self.atoms.get_positions()
        host = np.flatnonzero(sym != "Li")
        amp = np.array([self.amplitude_eV[s] for s in sym[host]])
        shifts = np.array(np.meshgrid([-1, 0, 1], [-1, 0, 1], [-1, 0, 1], indexing="ij")).reshape(3, -1).T @ cell
        energy, forces = 0.0, np.zeros((len(self.atoms), 3))
        for li in np.flatnonzero(sym == "Li"):
            D = (pos[host][None, :, :] + shifts[:, None, :] - pos[li]).reshape(-1, 3)  # Li -> host atom images
            r = np.linalg.norm(D, axis=1)
            near = r < self.cutoff_A
            e = np.tile(amp, len(shifts))[near] * np.exp(-r[near] / self.rho_A)
            energy += float(e.sum())
            # the repulsion pushes the Li away from each host atom
            forces[li] = -((e / self.rho_A / r[near])[:, None] * D[near]).sum(axis=0)
        self.results = {"energy": energy, "free_energy": energy, "forces": forces, "stress": np.zeros(6)}

    # ------------------------------------------------- CalculatorSpec protocol
    def identity(self) -> dict[str, Any]:
        return {"name": "li-probe", "model": "born-mayer", "weights_sha256": None,
                "parameters": {"amplitude_eV": self.amplitude_eV, "rho_A": self.rho_A, "cutoff_A": self.cutoff_A}}

    def provenance(self) -> dict[str, Any]:
        return {**self.identity(), "calculator": "li-probe", "device": "cpu", "threads": 1, "not_physics": True}

    def check_elements(self, atoms: Any) -> None:
        return None

    def make(self) -> "LiProbe":
        return self


@pytest.fixture
def probe():
    return LiProbe()


def _energy(calc: LiProbe, atoms: Any) -> float:
    atoms = atoms.copy()
    atoms.calc = calc
    return float(atoms.get_potential_energy())


def _run_host(store, calc, plan, *, hops_first: bool = True, relax=RELAX):
    """Every stage of one host as a campaign runs them (here: hops before insertions)."""
    from sianode.workflows import stages

    kw = dict(host=plan.host_params(), labels=plan.labels("c"), relax=relax)
    out = [stages.host_stage(store, calc, **kw)]
    hops = [lambda h=h: stages.hop_stage(store, calc, hop=h.as_dict(), neb=NEB, **kw) for h in plan.hops]
    sites = [lambda s=s: stages.insertion_stage(store, calc, site=s.as_dict(), **kw) for s in plan.sites]
    for run in (hops + sites) if hops_first else (sites + hops):
        out.append(run())
    return out


def test_one_dopant_host_one_neb_per_h_class_nothing_twice(store, call_log, probe, wf):
    from sianode.structures import li_sites
    from sianode.workflows.plan import build_host, plan_host
    from sianode.workflows.steps import relaxed_atoms

    plan = plan_host("B", 1, 2, hops=("all",))
    ideal = build_host(plan.host_params(), 5.431)
    sites = li_sites(ideal, plan.dopant_indices)
    assert len(plan.hops) == len(sites.H) == 10 and len(plan.sites) == len(sites.T) == 9

    outcomes = _run_host(store, probe, plan)
    assert all(o.status == "completed" for o in outcomes), [o.reason for o in outcomes if o.status != "completed"]
    nebs = store.find({"kind": "neb"})
    relaxes = store.find({"kind": "relax"})
    roles = sorted(d["labels"]["role"] for d in relaxes)
    # one NEB per H class; relaxations: lattice + host + one per T class, no hop end points
    assert len(nebs) == len(sites.H) == 10
    assert len(relaxes) == 1 + 1 + len(sites.T) == 11
    assert roles == sorted(["lattice", "host"] + ["insertion"] * 9)
    logged = wf.calls(call_log)
    assert len(logged) == len(set(logged)) == len(nebs) + len(relaxes)
    # the hop stages ran first: the insertion stages found every insertion in the store
    assert sum(o.stats.computed for o in outcomes[1 + len(plan.hops):]) == 0

    again = _run_host(store, probe, plan, hops_first=False)
    assert sum(o.stats.computed for o in again) == 0 and len(wf.calls(call_log)) == len(logged)
    assert [o.key for o in again[1 + len(plan.sites):]] == [o.key for o in outcomes[1:1 + len(plan.hops)]]

    # contract C labels; start/end keys are the insertions of the end classes
    insertion = {d["labels"]["site"]: d for d in relaxes if d["labels"]["role"] == "insertion"}
    for site in plan.sites:
        lab = insertion[site.label]["labels"]
        assert (lab["site_kind"], lab["site_multiplicity"], lab["distance_to_dopant_A"]) == \
            ("T", site.multiplicity, site.distance_to_dopant_A)
    by_hop = {d["labels"]["hop"]: d for d in nebs}
    assert sorted(d["labels"]["h_site"] for d in nebs) == sorted(c.label for c in sites.H)
    assert sum(d["labels"]["hop_multiplicity"] for d in nebs) == 128
    host_key = outcomes[0].keys["host"]
    for hop in plan.hops:
        doc = by_hop[hop.label]
        lab = doc["labels"]
        assert lab["role"] == "hop" and lab["unordered"] is True and lab["selection"] == "all"
        assert (lab["h_site"], lab["start_site"], lab["end_site"]) == (hop.h_label, hop.start_site, hop.end_site)
        assert lab["hop_multiplicity"] == hop.multiplicity and lab["host_key"] == host_key
        assert lab["distance_to_dopant_A"] == hop.distance_to_dopant_A
        assert (lab["dopant"], lab["n_dopants"], lab["supercell"]) == ("B", 1, [2, 2, 2])
        start_doc, end_doc = insertion[hop.start_site], insertion[hop.end_site]
        assert (lab["start_key"], lab["end_key"]) == (start_doc["key"], end_doc["key"])
        # the start point IS the start class's insertion; the end point is the end class's
        # insertion moved by a symmetry operation: same energy, Li on the hop's end site
        start, end = relaxed_atoms(store, start_doc), relaxed_atoms(store, end_doc)
        energies = doc["output"]["energies_eV"]
        assert energies[0] == pytest.approx(start_doc["output"]["energy_eV"], abs=1e-9)
        assert energies[-1] == pytest.approx(end_doc["output"]["energy_eV"], abs=1e-9)
        assert max(energies[1:-1]) > max(energies[0], energies[-1])  # a saddle between two minima
        assert np.allclose(doc["output"]["start_structure"]["positions"], start.positions)
        neb_end = doc["output"]["end_structure"]
        li = np.linalg.solve(np.array(neb_end["cell"]).T, np.array(neb_end["positions"][-1]))
        drift = li - (start.get_scaled_positions()[-1] + np.array(hop.end) - np.array(hop.start))
        drift = (drift - np.round(drift)) @ end.cell[:]
        assert np.linalg.norm(drift) < 0.5  # the relaxed Li stays near the end T site
        assert np.allclose(np.array(neb_end["positions"])[:-1], start.positions[:-1], atol=1e-6)  # host order kept


def test_mapped_end_point_has_the_insertion_energy(store, probe):
    """symmetry_operation + transform_structure on a relaxed insertion: an equally relaxed structure."""
    from sianode.structures import li_sites, symmetry_operation, transform_structure
    from sianode.workflows import stages
    from sianode.workflows.plan import build_host, plan_host
    from sianode.workflows.steps import relaxed_atoms

    plan = plan_host("B", 1, 2, hops=("near",))
    site = plan.sites[1]
    out = stages.insertion_stage(store, probe, host=plan.host_params(), labels=plan.labels("c"),
                                 site=site.as_dict(), relax=RELAX)
    relaxed = relaxed_atoms(store, store.get(out.key))
    host = relaxed_atoms(store, store.get(out.keys["host"]))
    ideal = build_host(plan.host_params(), 5.431)
    members = li_sites(ideal, plan.dopant_indices).by_label(site.label).members
    e0 = _energy(probe, relaxed)
    for member in members:
        R, t = symmetry_operation(ideal, plan.dopant_indices, site.frac, member)
        moved = transform_structure(relaxed, R, t, reference=host)
        assert _energy(probe, moved) == pytest.approx(e0, abs=1e-9)
        moved.calc = probe
        assert np.abs(moved.get_forces()).max() < RELAX["fmax"] + 1e-9  # still relaxed


def test_failed_insertion_skips_the_hop(store, call_log, probe, wf):
    from sianode.workflows import stages
    from sianode.workflows.plan import plan_host

    plan = plan_host("B", 1, 2, hops=("near",))
    hop = plan.hops[0]
    out = stages.hop_stage(store, probe, host=plan.host_params(), labels=plan.labels("c"), hop=hop.as_dict(),
                           relax={"fmax": 1e-6, "steps": 1, "host_cell": False}, neb=NEB)
    assert out.status == "skipped" and out.key is None
    assert out.reason.startswith(f"skipped: start insertion {hop.start_site} ") and "failed" in out.reason
    assert store.count({"kind": "neb"}) == 0


def test_legacy_ordered_hop_firework_still_runs(store, probe):
    """A hop written by an older sianode (no start_site) relaxes its own ends (role hop_end)."""
    from sianode.structures import li_hops
    from sianode.workflows import stages
    from sianode.workflows.plan import build_host

    host = {"dopant": "B", "supercell": 2, "dopant_indices": [0]}
    hop = li_hops(build_host(host, 5.431), [0])[0]
    legacy = {"label": hop.label, "start": hop.start.tolist(), "end": hop.end.tolist(),
              "multiplicity": hop.multiplicity, "distance_to_dopant_A": hop.distance_to_dopant, "selection": "near"}
    out = stages.hop_stage(store, probe, host=host, labels={"campaign": "c", "role": "host", "dopant": "B"},
                           hop=legacy, relax=RELAX, neb=NEB)
    assert out.status == "completed"
    assert sorted(d["labels"]["role"] for d in store.find({"kind": "relax"})) == ["hop_end", "hop_end", "host", "lattice"]
    assert store.get(out.key)["labels"]["start_key"] == out.keys["start"]


# ------------------------------------------------------------------ campaign key and plan
def test_hops_default_is_every_path_and_within_selects_by_distance(wf):
    from sianode.structures import li_hop_paths
    from sianode.workflows.plan import build_host, plan_campaign

    from sianode.workflows.spec import campaign_from_dict

    given = {**wf.tiny, "dopants": ["B"], "counts": [1], "max_supercell": 2, "include_pure": True, "sites": "all"}
    given.pop("hops")
    spec = campaign_from_dict(given)  # no hops key: the default
    data = spec.as_dict()
    assert data["hops"] == "all" and spec.hop_selections == ("all",)
    plan = plan_campaign(wf.spec(**{**data, "hops": "all"}))
    pure, doped = plan.hosts
    assert [h.label for h in pure.hops] == ["hop1"] and pure.hops[0].multiplicity == 128
    assert [h.h_label for h in doped.hops] == [f"H{i}" for i in range(1, 11)]
    assert sum(h.multiplicity for h in doped.hops) == 128
    within = plan_campaign(wf.spec(**{**data, "hops": [{"within": 4.0}, "far"]}))
    paths = li_hop_paths(build_host(doped.host_params(), 5.431), doped.dopant_indices)
    chosen = within.hosts[1].hops
    assert [h.label for h in chosen] == [p.label for p in paths if p.distance_to_dopant <= 4.0] + ["hop10"]
    assert chosen[0].selection == "within:4" and chosen[-1].selection == "far"
    assert [h.selection for h in within.hosts[0].hops] == ["all"]  # a pure host's one path class
    assert wf.spec(hops={"within": 4}).spec_hash() != wf.spec(hops={"within": 5}).spec_hash()


BAD_HOPS = [
    ({"within": -2}, ["hops = {'within': -2}", "within = -2", "> 0", "allowed: near, far, all, none, {within: R}"]),
    ({"within": "far"}, ["within = 'far'", "number of Angstrom"]),
    ({"around": 3}, ["hops = {'around': 3}", "not a hop selection"]),
    ("middle", ["hops = 'middle'", "not a hop selection", "allowed:"]),
    (["near", "none"], ["none cannot be part of a list"]),
]


@pytest.mark.parametrize("hops, needles", BAD_HOPS, ids=[str(b[0]) for b in BAD_HOPS])
def test_bad_hops_one_line_exit_2(hops, needles, db_uri, tmp_path, wf, capsys):
    from sianode.cli import main

    path = tmp_path / "campaign.yaml"
    path.write_text(yaml.safe_dump({**wf.tiny, "hops": hops}))
    with pytest.raises(SystemExit) as exc:
        main(["--db", db_uri, "run", str(path)])
    assert exc.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("sianode: error: campaign.yaml: hops")
    for needle in needles:
        assert needle in err[0], err[0]


def test_host_that_lost_its_symmetry_relaxes_the_end_point_itself(store, probe, monkeypatch):
    """When the mapping is no symmetry of the relaxed host (measured in a lj-test scale run: the
    hop FIZZLED), Li is relaxed at the hop's end site (role hop_end) and the NEB still runs."""
    from sianode.errors import InputError
    from sianode.workflows import stages
    from sianode.workflows.plan import plan_host

    plan = plan_host("B", 1, 2, hops=("near",))
    hop = next(h for h in plan.hops if h.start_site != h.end_site)

    def broken(*args, **kwargs):
        raise InputError("the operation does not map the reference onto itself within 0.3 A")

    monkeypatch.setattr(stages, "_end_point", broken)
    out = stages.hop_stage(store, probe, host=plan.host_params(), labels=plan.labels("c"), hop=hop.as_dict(),
                           relax=RELAX, neb=NEB)
    assert out.status == "completed", out.reason
    (neb,) = store.find({"kind": "neb"})
    start, end = store.get(neb["labels"]["start_key"]), store.get(neb["labels"]["end_key"])
    # Li put where the hop starts IS the start class's insertion (same structure, same key);
    # the end point is relaxed at the hop's end site
    assert start["labels"]["role"] == "insertion" and start["labels"]["site"] == hop.start_site
    assert end["labels"]["role"] == "hop_end" and end["labels"]["symmetry_broken"] is True
    energies = neb["output"]["energies_eV"]
    assert energies[0] == pytest.approx(start["output"]["energy_eV"], abs=1e-9)
    assert energies[-1] == pytest.approx(end["output"]["energy_eV"], abs=1e-9)
