"""The shared readers' helpers: one filter object for the six filters (:class:`DocFilter`)."""

from __future__ import annotations

import pytest

from sianode.analysis import derive
from sianode.analysis.docs import CALCULATIONS, DocFilter, doc_filter
from sianode.analysis.hops import barriers
from sianode.analysis.query import fetch_documents
from sianode.errors import InputError


def test_empty_filter_is_every_calculation_document():
    assert DocFilter().to_mongo() == CALCULATIONS
    assert {"derived", "alias"} <= set(CALCULATIONS["kind"]["$nin"])


def test_to_mongo_combines_the_six_filters():
    f = DocFilter(dopant="B", percent=1.5625, kind="insertion", calculator="lj-test", campaign="c1",
                  status="completed")
    clauses = f.to_mongo()["$and"]
    assert clauses[0] == {"kind": "relax", "labels.role": "insertion"}
    assert {"labels.dopant": "B"} in clauses and {"status": "completed"} in clauses
    (percent,) = [c["labels.percent"] for c in clauses if "labels.percent" in c]
    assert percent["$gte"] == pytest.approx(1.5615) and percent["$lte"] == pytest.approx(1.5635)


@pytest.mark.parametrize("changes, match", [({"kind": "hops"}, "kind 'hops' is not allowed; choose one of"),
                                            ({"status": "done"}, "status 'done' is not allowed"),
                                            ({"percent": "many"}, "percent 'many' is not a number")])
def test_bad_filter_values_name_what_is_allowed(changes, match):
    with pytest.raises(InputError, match=match):
        DocFilter(**changes)


def test_keywords_replace_the_fields_of_the_filter():
    f = doc_filter(DocFilter(dopant="B", campaign="c1"), "barrier", dopant="P", percent=None)
    assert (f.kind, f.dopant, f.campaign, f.percent) == ("barrier", "P", "c1", None)


def test_the_readers_take_the_filter(store, campaign):
    """The same documents whether the filters come as one object or as keywords; the percent
    matches within 1e-3 atom % in the database query as it did in Python."""
    where = DocFilter(dopant="B", percent=1.5625 + 5e-4, calculator="fake", campaign="c1")
    by_object = [v.key for v in derive.insertion_energies(store, where)]
    by_keywords = [v.key for v in derive.insertion_energies(store, dopant="B", percent=1.5625, calculator="fake",
                                                            campaign="c1")]
    assert by_object == by_keywords == [campaign["B_T1"]["key"], campaign["B_T2"]["key"]]
    assert [b.key for b in barriers(store, where)] == [campaign["B_near"]["key"], campaign["B_far"]["key"]]
    assert [r["key"] for r in derive.host_lattices(store, where)] == [campaign["B"]["key"]]
    assert not derive.insertion_energies(store, where.replace(percent=1.6))
    assert {d["key"] for d in fetch_documents(store, DocFilter(kind="host", status="completed"))} == \
        {campaign[k]["key"] for k in ("pure", "B", "P")}
    assert not barriers(store, DocFilter(calculator="other"))


def test_pick_calculator_rules():
    """One rule for every analysis that needs one calculator: the named one, the only one, the
    default among several when asked, else an error (or the first by name)."""
    from sianode.analysis.docs import pick_calculator
    from sianode.calculators import DEFAULT_CALCULATOR

    msgs = {"unknown": lambda: "unknown", "empty": lambda: "empty", "several": lambda: "several"}
    assert pick_calculator(["a", "b"], "b", **msgs) == "b"
    assert pick_calculator(["a"], None, **msgs) == "a"
    for names, calculator, message in ((["a"], "z", "unknown"), ([], None, "empty"), (["a", "b"], None, "several")):
        with pytest.raises(InputError, match=message):
            pick_calculator(names, calculator, **msgs)
    assert pick_calculator(["a", DEFAULT_CALCULATOR], None, prefer_default=True, **msgs) == DEFAULT_CALCULATOR
    assert pick_calculator(["b", "a"], None, unknown=msgs["unknown"]) == "a"
