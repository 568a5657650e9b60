"""The concrete classes conform to the protocols the workflows and analysis are typed with."""

from __future__ import annotations

from sianode.store.protocols import CalculatorLike, CampaignLike, LaunchPadLike, StoreLike


def test_result_store_is_a_store(store):
    assert isinstance(store, StoreLike)


def test_calculator_specs_and_the_test_double_are_calculators():
    from sianode.calculators import get_calculator
    from tests.doubles import FailingCalculator

    assert isinstance(get_calculator("lj-test"), CalculatorLike)
    assert isinstance(FailingCalculator("nan"), CalculatorLike)
    assert not isinstance(object(), CalculatorLike)


def test_campaign_spec_is_a_campaign():
    from sianode.workflows.spec import campaign_from_dict

    spec = campaign_from_dict({"name": "p", "dopants": ["B"], "counts": [1], "calculator": {"name": "lj-test"}})
    assert isinstance(spec, CampaignLike) and isinstance(spec.calculator_spec(), CalculatorLike)


def test_fireworks_launchpad_is_a_launchpad(db_uri):
    from fireworks import LaunchPad

    lp = LaunchPad.from_dict({"host": db_uri, "name": "lp_protocol_test", "uri_mode": True})
    try:
        assert isinstance(lp, LaunchPadLike)
    finally:
        lp.connection.close()
