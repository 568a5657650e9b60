"""One calculation serving two roles is computed once and found under the primary one."""

from __future__ import annotations

from ase.build import bulk

from sianode.calculators import get_calculator
from sianode.store import schema
from sianode.workflows import steps


def _li_in_si():
    atoms = bulk("Si", "diamond", a=5.431, cubic=True)
    atoms.append("Li")
    atoms.positions[-1] = [5.431 / 2] * 3  # a T site of the conventional cell
    return atoms


def test_hop_end_then_insertion_is_one_calculation_labelled_insertion(store):
    calc = get_calculator("lj-test")
    stats = steps.StepStats()
    first = steps.relax_step(store, _li_in_si(), calc, fmax=0.5, steps=20, stats=stats,
                             labels={"role": schema.ROLE_HOP_END, "hop": "hop1", "end": "start", "campaign": "c"})
    second = steps.relax_step(store, _li_in_si(), calc, fmax=0.5, steps=20, stats=stats,
                              labels={"role": schema.ROLE_INSERTION, "site": "T1", "campaign": "c"})
    assert stats.computed == 1 and stats.reused == 1
    assert first["key"] == second["key"]
    doc = store.get(first["key"])
    assert doc["labels"]["role"] == schema.ROLE_INSERTION and doc["labels"]["site"] == "T1"
    assert doc["labels"]["also"][0]["role"] == schema.ROLE_HOP_END
    # a later hop-end request does not demote it
    steps.relax_step(store, _li_in_si(), calc, fmax=0.5, steps=20,
                     labels={"role": schema.ROLE_HOP_END, "hop": "hop2", "end": "end", "campaign": "c"})
    assert store.get(first["key"])["labels"]["role"] == schema.ROLE_INSERTION
