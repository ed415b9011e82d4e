"""CRM search: operators, limits, sorting, paging, the 10,000 cap, lag and its rate limit."""

from __future__ import annotations

from datetime import datetime

import pytest
from hubspot.crm.contacts import (
    ApiException,
    CollectionResponseWithTotalSimplePublicObjectForwardPaging,
    PublicObjectSearchRequest,
)
from hubspot.crm.deals import PublicObjectSearchRequest as DealSearch

from .conftest import error_of


@pytest.fixture(autouse=True)
def generous_search_limit(app):
    # These tests search many times a second; the 5/s limit has its own test below.
    app.configure_budget(search_per_second=1000)


@pytest.fixture
def people(hs, app):
    rows = [
        ("ada@acme.example", "Ada", "Lovelace", "customer", "Amsterdam"),
        ("bram@acme.example", "Bram", "Bakker", "lead", "Utrecht"),
        ("chloe@globex.example", "Chloé", "de Vries", "lead", None),
        ("daan@initech.example", "Daan", "Jansen", None, "Utrecht"),
    ]
    ids = []
    for email, first, last, stage, city in rows:
        props = {"email": email, "firstname": first, "lastname": last}
        if stage:
            props["lifecyclestage"] = stage
        if city:
            props["city"] = city
        ids.append(hs.crm.contacts.basic_api.create({"properties": props}).id)
        app.clock.advance(1)
    return ids


def search(hs, *groups, **kwargs):
    request = PublicObjectSearchRequest(
        filter_groups=[{"filters": list(g)} for g in groups], **kwargs
    )
    return hs.crm.contacts.search_api.do_search(request)


def f(prop, op, value=None, **extra):
    out = {"propertyName": prop, "operator": op, **extra}
    if value is not None:
        out["value"] = value
    return out


def ids_of(result):
    return [r.id for r in result.results]


def test_search_returns_typed_collection_with_total(hs, people):
    result = search(hs, [f("lifecyclestage", "EQ", "lead")])
    assert isinstance(result, CollectionResponseWithTotalSimplePublicObjectForwardPaging)
    assert result.total == 2 and ids_of(result) == people[1:3]
    assert result.paging is None
    assert set(result.results[0].properties) == {
        "createdate",
        "email",
        "firstname",
        "hs_object_id",
        "lastmodifieddate",
        "lastname",
    }


def test_string_operators_are_case_insensitive(hs, people):
    assert ids_of(search(hs, [f("firstname", "EQ", "ADA")])) == [people[0]]
    assert ids_of(search(hs, [f("city", "NEQ", "utrecht")])) == [people[0], people[2]]
    assert ids_of(search(hs, [f("city", "IN", values=["UTRECHT", "Nowhere"])])) == [
        people[1],
        people[3],
    ]
    assert ids_of(search(hs, [f("city", "NOT_IN", values=["utrecht"])])) == [people[0], people[2]]
    assert ids_of(search(hs, [f("city", "HAS_PROPERTY")])) == [people[0], people[1], people[3]]
    assert ids_of(search(hs, [f("city", "NOT_HAS_PROPERTY")])) == [people[2]]
    assert ids_of(search(hs, [f("email", "CONTAINS_TOKEN", "*@acme.example")])) == people[:2]
    assert ids_of(search(hs, [f("lastname", "CONTAINS_TOKEN", "vries")])) == [people[2]]
    assert ids_of(search(hs, [f("email", "NOT_CONTAINS_TOKEN", "*@acme.example")])) == people[2:]


def test_groups_are_ored_and_filters_anded(hs, people):
    result = search(
        hs,
        [f("lifecyclestage", "EQ", "lead"), f("city", "EQ", "Utrecht")],
        [f("firstname", "EQ", "Ada")],
    )
    assert ids_of(result) == [people[0], people[1]]


def test_numbers_and_datetimes_compare_numerically(hs, app):
    for name, amount, close in [
        ("nine", "9", "2026-03-01"),
        ("ten", "10", "2026-04-01"),
        ("hundred", "100.5", "2026-05-01"),
    ]:
        hs.crm.deals.basic_api.create(
            {"properties": {"dealname": name, "amount": amount, "closedate": close}}
        )
    deals = hs.crm.deals.search_api

    def names(*filters, **kwargs):
        result = deals.do_search(
            DealSearch(
                filter_groups=[{"filters": list(filters)}], properties=["dealname"], **kwargs
            )
        )
        return [r.properties["dealname"] for r in result.results]

    assert names(f("amount", "GT", "9")) == ["ten", "hundred"]
    assert names(f("amount", "LTE", "10")) == ["nine", "ten"]
    assert names(f("amount", "BETWEEN", "9.5", highValue="100.5")) == ["ten", "hundred"]
    april_ms = "1775001600000"  # 2026-04-01T00:00:00Z
    assert names(f("closedate", "GTE", april_ms)) == ["ten", "hundred"]
    assert names(f("closedate", "LT", "2026-04-01T00:00:00Z")) == ["nine"]
    assert names(f("closedate", "EQ", "2026-04-01")) == ["ten"]
    assert names(sorts=[{"propertyName": "amount", "direction": "DESCENDING"}]) == [
        "hundred",
        "ten",
        "nine",
    ]
    assert names(sorts=["amount"]) == ["nine", "ten", "hundred"]
    assert names(sorts=["-amount"]) == ["hundred", "ten", "nine"]


def test_modified_date_window_uses_epoch_ms_or_iso(hs, app, people):
    created = hs.crm.contacts.basic_api.get_by_id(people[1], properties=["lastmodifieddate"])
    stamp = created.properties["lastmodifieddate"]
    by_iso = search(
        hs,
        [f("lastmodifieddate", "GTE", stamp)],
        sorts=[{"propertyName": "lastmodifieddate", "direction": "ASCENDING"}],
    )
    ms = str(int(created.updated_at.timestamp() * 1000))
    by_ms = search(
        hs,
        [f("lastmodifieddate", "GTE", ms)],
        sorts=[{"propertyName": "lastmodifieddate", "direction": "ASCENDING"}],
    )
    assert ids_of(by_iso) == ids_of(by_ms) == people[1:]
    newest_first = search(
        hs,
        [f("lastmodifieddate", "GT", "0")],
        sorts=[{"propertyName": "lastmodifieddate", "direction": "DESCENDING"}],
    )
    assert ids_of(newest_first) == list(reversed(people))


def test_free_text_query(hs, people):
    assert ids_of(search(hs, query="bakker")) == [people[1]]
    assert ids_of(search(hs, query="chloe@globex.example")) == [people[2]]
    assert ids_of(search(hs, query="acme")) == people[:2]


def test_paging_total_and_last_page(hs, people):
    first = search(hs, limit=3)
    assert first.total == 4 and len(first.results) == 3 and first.paging.next.after == "3"
    last = search(hs, limit=3, after=first.paging.next.after)
    assert ids_of(last) == [people[3]] and last.paging is None
    assert len(search(hs).results) == 4  # default limit is 10


def test_limits_are_enforced(hs, app, people):
    with pytest.raises(ApiException) as caught:
        search(hs, limit=201)
    assert caught.value.status == 400
    six_groups = [[f("firstname", "EQ", "x")]] * 6
    with pytest.raises(ApiException) as caught:
        search(hs, *six_groups)
    assert error_of(caught.value)["category"] == "VALIDATION_ERROR"
    with pytest.raises(ApiException):
        search(hs, [f("firstname", "HAS_PROPERTY")] * 7)
    with pytest.raises(ApiException):  # 4 x 5 = 20 filters > 18 in total
        search(hs, *[[f("firstname", "HAS_PROPERTY")] * 5] * 4)
    app.run_action("set_search_limits", max_groups=10, max_filters_per_group=10, max_filters=25)
    assert search(hs, *six_groups).total == 0
    with pytest.raises(ApiException):
        search(hs, [f("no_such_property", "EQ", "x")])
    with pytest.raises(ApiException):
        search(hs, sorts=["email", "firstname"])


def test_paging_beyond_10000_is_400(hs, people):
    with pytest.raises(ApiException) as caught:
        search(hs, after="10000", limit=10)
    assert caught.value.status == 400
    assert error_of(caught.value)["category"] == "VALIDATION_ERROR"
    with pytest.raises(ApiException):
        search(hs, after="9950", limit=100)
    assert search(hs, after="9900", limit=100).results == []


def test_archived_never_returned(hs, people):
    hs.crm.contacts.basic_api.archive(people[0])
    assert people[0] not in ids_of(search(hs))


def test_search_lag_hides_fresh_writes(hs, app, people):
    app.run_action("set_search_lag", ms=5000)
    fresh = hs.crm.contacts.basic_api.create({"properties": {"email": "fresh@x.com"}})
    assert fresh.id not in ids_of(search(hs))
    app.clock.advance(5)
    assert fresh.id in ids_of(search(hs))


def test_search_has_its_own_five_per_second_limit(hs, app, people):
    app.configure_budget(search_per_second=5, per_ten_seconds=2)
    app.clock.freeze()
    for _ in range(5):  # exempt from the (tiny) ten-second window
        search(hs)
    with pytest.raises(ApiException) as caught:
        search(hs)
    assert caught.value.status == 429
    body = error_of(caught.value)
    assert body["policyName"] == "SECONDLY" and body["errorType"] == "RATE_LIMIT"
    app.clock.advance(1.01)
    assert search(hs).total == 4


def test_index_and_scan_agree(hs, app):
    ids = [
        hs.crm.contacts.basic_api.create({"properties": {"email": f"n{i}@x.com"}}).id
        for i in range(30)
    ]
    for record_id in ids[::3]:  # touch a few: they move to the end of the modification order
        app.clock.advance(0.5)
        hs.crm.contacts.basic_api.update(record_id, {"properties": {"firstname": "Touched"}})
    order = {"sorts": [{"propertyName": "lastmodifieddate", "direction": "ASCENDING"}]}
    indexed = search(hs, [f("lastmodifieddate", "GT", "0")], limit=100, **order)
    scanned = search(
        hs,
        [f("lastmodifieddate", "GT", "0"), f("email", "HAS_PROPERTY")],
        [f("lastmodifieddate", "GT", "0")],
        limit=100,
        **order,
    )
    assert ids_of(indexed) == ids_of(scanned)
    assert ids_of(indexed)[-10:] == ids[::3]


def test_keyset_groups_over_the_index_match_a_full_scan(hs, app):
    """(stamp, id) paging ORs two groups that both bound the modified date: the index serves
    them, and must return what a scan returns."""
    app.clock.freeze()  # several records share one millisecond
    ids = [
        hs.crm.contacts.basic_api.create({"properties": {"email": f"k{i}@x.com"}}).id
        for i in range(12)
    ]
    stamp = search(hs, [f("lastmodifieddate", "GT", "0")], limit=1).results[0]
    modified = datetime.fromisoformat(stamp.properties["lastmodifieddate"].replace("Z", "+00:00"))
    stamp_ms = str(round(modified.timestamp() * 1000))
    app.clock.advance(1)
    later = hs.crm.contacts.basic_api.create({"properties": {"email": "later@x.com"}}).id
    order = {"sorts": [{"propertyName": "lastmodifieddate", "direction": "ASCENDING"}]}
    keyset = [
        [f("lastmodifieddate", "GT", stamp_ms)],
        [f("lastmodifieddate", "EQ", stamp_ms), f("hs_object_id", "GT", ids[5])],
    ]
    indexed = search(hs, *keyset, limit=100, **order)
    scanned = search(hs, *keyset, [f("hs_object_id", "LT", "0")], limit=100, **order)
    assert ids_of(indexed) == ids_of(scanned) == [*ids[6:], later]
