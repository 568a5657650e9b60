"""Store-backed steps: one calculation per content key, failures recorded with reasons."""

from __future__ import annotations


def test_relax_step_stored_once_and_failure_recorded(store, call_log, wf):
    from sianode.calculators import get_calculator
    from sianode.structures import insert_li, pure_supercell
    from sianode.workflows.steps import StepStats, reference_step, relax_step, relaxed_atoms

    calc = get_calculator("lj-test")
    stats = StepStats()
    atoms = insert_li(pure_supercell(1), [0.5, 0.5, 0.5])
    doc = relax_step(store, atoms, calc, fmax=0.1, steps=200, labels={"campaign": "c", "role": "insertion"},
                     stats=stats)
    assert doc["status"] == "completed" and doc["kind"] == "relax"
    assert doc["labels"]["campaigns"] == ["c"]
    assert relaxed_atoms(store, doc).get_chemical_symbols()[-1] == "Li"
    again = relax_step(store, atoms, calc, fmax=0.1, steps=200, labels={"campaign": "d"}, stats=stats)
    assert again["key"] == doc["key"] and (stats.computed, stats.reused) == (1, 1)
    assert store.get(doc["key"])["labels"]["campaigns"] == ["c", "d"]

    bad = relax_step(store, atoms, calc, fmax=0.001, steps=2, labels={}, stats=stats)
    assert bad["status"] == "failed" and "did not converge in 2 steps" in bad["reason"]
    assert "output" not in bad or not bad.get("output")

    close = pure_supercell(1)
    close.positions[1] = close.positions[0] + [0.1, 0, 0]
    clash = relax_step(store, close, calc, labels={})
    assert clash["status"] == "failed" and "A apart" in clash["reason"]

    ref = reference_step(store, calc, fmax=0.05)
    assert ref["labels"]["role"] == "li_metal" and ref["kind"] == "reference"
    assert "mu_Li_eV" in ref["output"] and "a_A" in ref["output"]  # one spelling (store.documents)
    assert not {"mu_li_eV", "lattice_constant_A"} & set(ref["output"])
    assert {doc["schema_version"], bad["schema_version"], ref["schema_version"]} == {2}
    assert len(wf.calls(call_log)) == 4


def test_the_key_is_the_call(store, monkeypatch):
    """What the step hashes is exactly what it passes to the operation (parameter objects)."""
    from sianode.calculators import get_calculator
    from sianode.structures import insert_li, pure_supercell
    from sianode.workflows import steps
    from sianode.workflows.params import NEBParams, ReferenceParams, RelaxParams

    calc = get_calculator("lj-test")
    calls = {}

    def spy(cls):
        real = cls.OPERATION

        def op(*args, **kwargs):
            calls[cls.KIND] = kwargs
            return real(*args, **kwargs)
        monkeypatch.setattr(cls, "OPERATION", op)

    for cls in (RelaxParams, NEBParams, ReferenceParams):
        spy(cls)
    atoms = insert_li(pure_supercell(1), [0.5, 0.5, 0.5])
    doc = steps.relax_step(store, atoms, calc, fmax=0.2, steps=50)
    assert calls["relax"] == doc["input"]["parameters"] == RelaxParams(fmax=0.2, steps=50).key_dict()
    assert doc["key"] == RelaxParams(fmax=0.2, steps=50).key(atoms, calc) == steps.relax_key(atoms, calc, fmax=0.2,
                                                                                               steps=50)
    end = insert_li(pure_supercell(1), [0.25, 0.25, 0.75])
    start = steps.relaxed_atoms(store, doc)
    p = NEBParams(n_images=1, fmax=1.0, steps=5)
    neb = steps.neb_step(store, start, end, calc, params=p)
    assert calls["neb"] == neb["input"]["parameters"] == p.key_dict()
    assert neb["key"] == p.key([start, end], calc) == steps.neb_key(start, end, calc, n_images=1, fmax=1.0, steps=5)
    ref = steps.reference_step(store, calc, fmax=0.05)
    assert calls["reference"] == ref["input"]["parameters"] == ReferenceParams(fmax=0.05).key_dict()
    assert ref["key"] == steps.reference_key(calc, fmax=0.05)


def test_stage_skips_when_parent_failed(store, call_log, wf):
    from sianode.calculators import get_calculator
    from sianode.workflows import stages

    calc = get_calculator("lj-test")
    relax = {"fmax": 1e-4, "steps": 1}  # the lattice relaxation cannot converge
    host = {"dopant": "B", "supercell": 1, "dopant_indices": [0]}
    labels = {"campaign": "c", "role": "host", "dopant": "B", "percent": 12.5}
    out = stages.insertion_stage(store, calc, host=host, labels=labels, relax=relax,
                                 site={"label": "T1", "frac": [0.5, 0.5, 0.5], "multiplicity": 4,
                                       "distance_to_dopant_A": 2.0})
    assert out.status == "skipped" and "lattice" in out.reason and "failed" in out.reason
    assert store.count() == 1  # only the failed lattice relaxation is recorded
    assert len(wf.calls(call_log)) == 1
