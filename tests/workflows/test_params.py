"""A content key is the call: the parameter objects walk the operations' signatures."""

from __future__ import annotations

import dataclasses
import inspect

import pytest
from ase.build import bulk

from sianode.calculators import bcc_li_reference, get_calculator, neb, relax
from sianode.errors import InputError
from sianode.store import content_key
from sianode.workflows.params import (
    NEBParams,
    ReferenceParams,
    RelaxParams,
    operation_defaults,
    upgrade_parameters,
)

CASES = [(RelaxParams, relax), (NEBParams, neb), (ReferenceParams, bcc_li_reference)]
IDENTITY = {"name": "lj-test", "model": "lj-test", "weights_sha256": None, "parameters": {}}

#: another valid value of the string (and None-default) parameters
OTHER = {"optimizer": "BFGS", "interpolation": "linear", "method": "aseneb", "scale_fmax": 0.5}


def _other(name: str, value: object) -> object:
    if name in OTHER:
        return OTHER[name]
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return value + 1
    if isinstance(value, float):
        return value * 1.5
    raise AssertionError(f"no other value for parameter {name}={value!r}: add one to OTHER")


@pytest.mark.parametrize("cls, operation", CASES, ids=lambda x: getattr(x, "__name__", ""))
def test_every_parameter_of_the_call_is_a_field_with_the_calls_default(cls, operation):
    defaults = operation_defaults(operation)
    assert [f.name for f in dataclasses.fields(cls)] == list(defaults)
    p = cls()
    for name, default in defaults.items():
        if default is not None:
            assert getattr(p, name) == default, name
    assert set(p.call_kwargs()) == set(p.key_dict()) == set(defaults)


@pytest.mark.parametrize("cls, operation", CASES, ids=lambda x: getattr(x, "__name__", ""))
def test_changing_any_parameter_changes_the_key(cls, operation):
    base = cls()
    atoms = bulk("Si", "diamond", a=5.431, cubic=True)
    structures = [atoms, atoms] if cls is NEBParams else atoms
    seen = {base.key(structures, IDENTITY)}
    for name, value in operation_defaults(operation).items():
        changes = {name: _other(name, getattr(base, name))}
        if name == "dynamic":  # a plain NEB takes no criterion scaling
            changes["scale_fmax"] = 0.0
        changed = dataclasses.replace(base, **changes)
        assert changed.key_dict() != base.key_dict(), name
        assert changed.call_kwargs()[name] != base.call_kwargs()[name], name
        seen.add(changed.key(structures, IDENTITY))
    assert len(seen) == 1 + len(operation_defaults(operation))


@pytest.mark.parametrize("cls, operation", CASES, ids=lambda x: getattr(x, "__name__", ""))
def test_call_kwargs_bind_to_the_operation(cls, operation):
    args = {"atoms": None, "start": None, "end": None, "calculator": "lj-test"}
    positional = [args[n] for n in inspect.signature(operation).parameters if n in args]
    inspect.signature(operation).bind(*positional, **cls().call_kwargs())


def test_device_and_threads_are_not_in_the_key():
    atoms = bulk("Si", "diamond", a=5.431, cubic=True)
    for cls, _ in CASES:
        assert not {"device", "threads", "calculator"} & set(cls().key_dict())
    one, four = get_calculator("lj-test", threads=1), get_calculator("lj-test", threads=4)
    assert RelaxParams().key(atoms, one) == RelaxParams().key(atoms, four)
    assert not {"device", "threads"} & set(one.identity())


def test_scale_fmax_is_filled_in_as_the_call_resolves_it():
    assert NEBParams().scale_fmax == 1.0 and NEBParams(dynamic=False).scale_fmax == 0.0
    with pytest.raises(InputError, match="scale_fmax=0.5 needs dynamic=True"):
        NEBParams(dynamic=False, scale_fmax=0.5)


@pytest.mark.parametrize("make, match", [
    (lambda: RelaxParams(fmax=0), "relax fmax must be a positive number in eV/A, got 0"),
    (lambda: RelaxParams(optimizer="SD"), "relax optimizer 'SD' is not allowed"),
    (lambda: NEBParams(n_images=0), "neb n_images must be an integer >= 1"),
    (lambda: NEBParams(interpolation="cubic"), "neb interpolation 'cubic'"),
    (lambda: ReferenceParams(steps=-1), "reference steps must be an integer >= 0"),
])
def test_bad_parameters_name_the_value(make, match):
    with pytest.raises(InputError, match=match):
        make()


def test_relax_keys_are_those_of_sianode_0_1():
    atoms = bulk("Si", "diamond", a=5.431, cubic=True)
    v1 = {"fmax": 0.05, "steps": 300, "cell": True, "optimizer": "FIRE"}
    assert RelaxParams(fmax=0.05, steps=300, cell=True).key(atoms, IDENTITY) == \
        content_key("relax", atoms, IDENTITY, v1)
    assert upgrade_parameters("relax", v1) == RelaxParams(**v1).key_dict()


def test_upgrade_parameters_of_version1_documents():
    v1_neb = {"n_images": 5, "fmax": 0.05, "steps": 500, "climb": True, "method": "improvedtangent",
              "interpolation": "idpp", "band": "DyNEB", "scale_fmax": 1.0}
    assert upgrade_parameters("neb", v1_neb) == NEBParams(
        n_images=5, fmax=0.05, steps=500, climb=True, preconverge_fmax=0.5, optimizer="FIRE", k=0.1,
        dynamic=True, scale_fmax=1.0).key_dict()
    assert upgrade_parameters("reference", {"fmax": 0.02, "structure": "bcc Li", "cell": True}) == \
        {"fmax": 0.02, "steps": 300, "a_start_A": 3.44}
    today = NEBParams(k=0.2).key_dict()
    assert upgrade_parameters("neb", today) == today
    assert upgrade_parameters("neb", {**v1_neb, "band": "NEB"}) is None  # not what 0.1 ran
    assert upgrade_parameters("relax", {"fmax": 0.05}) is None
    assert upgrade_parameters("single_point", {}) is None


def test_how_the_band_is_evaluated_is_not_a_parameter_of_the_key():
    """``run_neb`` takes neb()'s parameters plus ``evaluation`` (batching, frozen-image stepping):
    it changes how images are computed, not the converged numbers, so like device and threads it
    stays out of the key (the calculators' batch tests compare batched and one-at-a-time bands)."""
    from sianode.calculators.neb import BandEvaluation, run_neb

    extra = set(operation_defaults(run_neb)) - set(operation_defaults(neb))
    assert extra == {"evaluation"}
    assert not {"evaluation", "batch", "mode", "decide_frozen_first"} & set(NEBParams().key_dict())
    assert set(BandEvaluation().as_dict()) == {"batch", "mode", "decide_frozen_first"}
    inspect.signature(run_neb).bind(None, None, "lj-test", evaluation=BandEvaluation(), **NEBParams().call_kwargs())
