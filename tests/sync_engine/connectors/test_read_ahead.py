"""Change reads send for the next page while the caller handles the current one.

Through the official clients against the emulators: the records come whole and once, every
request is in the ledger with its outcome, the budget holds, and a read that fails ahead is
read again in turn.
"""

from __future__ import annotations

import time

import pytest

from sync_engine.errors import BudgetExhausted
from sync_engine.models import ApiCall, Integration, System
from sync_engine.sync.changes import hubspot_changes, salesforce_pages

pytestmark = pytest.mark.django_db


def our_calls(integration, system):
    return list(ApiCall.objects.filter(integration=integration, system=system).order_by("id"))


def their_searches(emulators):
    return [e for e in emulators.hubspot.app.ledger.entries() if e.path.endswith("/search")]


def wait_for(condition, seconds: float = 5.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.01)
    return False


def contacts_in_hubspot(hubspot, count: int) -> set[str]:
    ids: set[str] = set()
    for start in range(0, count, 100):
        inputs = [
            {"properties": {"email": f"ahead{i}@example.com"}}
            for i in range(start, min(count, start + 100))
        ]
        ids |= {r.id for r in hubspot.batch_create(object_type="contacts", inputs=inputs).results}
    return ids


def changes(hubspot):
    return hubspot_changes(
        hubspot,
        object_type="contacts",
        modified_property="lastmodifieddate",
        since=None,
        properties=["email"],
        limit=10**9,
    )


def test_the_next_search_page_is_on_its_way_while_a_page_is_handled(hubspot, emulators):
    created = contacts_in_hubspot(hubspot, 450)
    emulators.hubspot.app.ledger.clear()
    before = len(our_calls(hubspot.integration, System.HUBSPOT))

    seen: list[str] = []
    for page in changes(hubspot):
        if not seen:
            # Still handling the first page: the second has been asked for already.
            assert wait_for(lambda: len(their_searches(emulators)) == 2)
        seen += [o.id for o in page]

    assert sorted(seen) == sorted(created)  # whole, and each record once
    calls = our_calls(hubspot.integration, System.HUBSPOT)[before:]
    assert [(c.operation, c.status, c.records) for c in calls] == [
        ("contacts.search", 200, 200),
        ("contacts.search", 200, 200),
        ("contacts.search", 200, 50),
    ]
    assert len(their_searches(emulators)) == 3


def test_a_search_that_fails_ahead_is_read_again_in_turn(hubspot, emulators):
    created = contacts_in_hubspot(hubspot, 250)
    emulators.hubspot.app.ledger.clear()
    before = len(our_calls(hubspot.integration, System.HUBSPOT))
    emulators.hubspot.app.faults.add(path="/search$", status=502, after=1, times=1)

    seen: list[str] = []
    for page in changes(hubspot):
        if not seen:
            # The second page failed while the first one was still being handled: it was
            # the one sent ahead.
            assert wait_for(lambda: len(their_searches(emulators)) == 2)
            assert their_searches(emulators)[1].status == 502
        seen += [o.id for o in page]

    assert sorted(seen) == sorted(created)
    calls = our_calls(hubspot.integration, System.HUBSPOT)[before:]
    assert [(c.operation, c.status) for c in calls] == [
        ("contacts.search", 200),
        ("contacts.search", 502),  # sent ahead, failed
        ("contacts.search", 200),  # the same page, read in turn
    ]
    assert [e.status for e in their_searches(emulators)] == [200, 502, 200]


def test_a_read_stopped_early_leaves_its_ledger_row_complete(hubspot, emulators):
    contacts_in_hubspot(hubspot, 250)
    before = len(our_calls(hubspot.integration, System.HUBSPOT))
    pages = changes(hubspot)
    assert len(next(pages)) == 200
    pages.close()  # e.g. the handler raised: the page sent ahead is waited for and recorded

    calls = our_calls(hubspot.integration, System.HUBSPOT)[before:]
    assert [(c.status, c.records) for c in calls] == [(200, 200), (200, 50)]
    assert all(c.duration_ms is not None for c in calls)


def test_query_pages_arrive_whole_and_the_last_response_stays_the_callers(salesforce, emulators):
    created = salesforce.collections_create(
        sobject="Lead",
        records=[{"LastName": f"Ahead{i}", "Company": "X"} for i in range(450)],
    )
    first = salesforce.query("SELECT Id FROM Lead", include_deleted=True, batch_size=200)
    answered = salesforce.session.last_response

    seen: list[str] = []
    for records in salesforce_pages(salesforce, first):
        if not seen:
            assert wait_for(lambda: len(emulators.salesforce.app.ledger.entries()) == 3)
            # The page that came in meanwhile isn't the connector's latest answer: cursors
            # take the read's start from it.
            assert salesforce.session.last_response is answered
        seen += [r["Id"] for r in records]

    assert sorted(seen) == sorted(r["id"] for r in created)
    calls = our_calls(salesforce.integration, System.SALESFORCE)
    assert [(c.operation, c.status, c.records) for c in calls] == [
        ("composite", 200, 450),
        ("queryAll", 200, 200),
        ("queryAll.more", 200, 200),
        ("queryAll.more", 200, 50),
    ]


def test_no_page_is_sent_ahead_past_the_allocation(salesforce, emulators):
    salesforce.collections_create(
        sobject="Lead",
        records=[{"LastName": f"Ahead{i}", "Company": "X"} for i in range(300)],
    )
    Integration.objects.filter(pk=salesforce.integration.pk).update(salesforce_api_allocation=2)
    first = salesforce.query("SELECT Id FROM Lead", batch_size=200)
    pages = salesforce_pages(salesforce, first)

    assert len(next(pages)) == 200  # no call left to send the next page ahead
    with pytest.raises(BudgetExhausted):
        next(pages)
    assert len(our_calls(salesforce.integration, System.SALESFORCE)) == 2
    assert len(emulators.salesforce.app.ledger.entries()) == 2


def batch_update(hubspot, inputs):
    """``PairSync.hubspot_batch`` for contacts, outside a cycle."""
    from types import SimpleNamespace

    from sync_engine.sync.pair import PairSync

    writer = SimpleNamespace(
        ctx=SimpleNamespace(
            hubspot=hubspot, integration=hubspot.integration, hubspot_properties={}
        ),
        hubspot_object_type="contacts",
        hubspot_failures=PairSync.hubspot_failures,
    )
    # (No date/time properties here: the inputs go as they are.)
    writer.hubspot_days_placed = lambda inputs: PairSync.hubspot_days_placed(writer, inputs)
    return PairSync.hubspot_batch(writer, "update", inputs, key=lambda i: i["id"])


def test_the_chunks_of_a_batch_update_go_out_together(hubspot, emulators):
    ids = sorted(contacts_in_hubspot(hubspot, 350), key=int)
    before = len(our_calls(hubspot.integration, System.HUBSPOT))
    batch_update(hubspot, [{"id": i, "properties": {"jobtitle": "First"}} for i in ids])
    # Ledger rows are reserved as calls leave: the three later chunks (the last one of 50)
    # went out before the first chunk, which the caller sends itself.
    first = our_calls(hubspot.integration, System.HUBSPOT)[before:]
    assert [(c.operation, c.records) for c in first] == [
        ("contacts.batch.update", 100), ("contacts.batch.update", 100),
        ("contacts.batch.update", 50), ("contacts.batch.update", 100),
    ]  # fmt: skip

    emulators.hubspot.app.ledger.clear()
    before = len(our_calls(hubspot.integration, System.HUBSPOT))
    # The third request to arrive fails once with a 503: its chunk goes again, in turn.
    emulators.hubspot.app.faults.add(path="/batch/update$", status=503, after=2, times=1)

    results, failed = batch_update(
        hubspot, [{"id": i, "properties": {"jobtitle": f"Title {i}"}} for i in ids]
    )

    assert not failed and sorted((o.id for o in results), key=int) == ids
    read = hubspot.batch_read(
        object_type="contacts", ids=ids[:100] + ids[300:], properties=["jobtitle"]
    )
    assert all(o.properties["jobtitle"] == f"Title {o.id}" for o in read.results)
    calls = our_calls(hubspot.integration, System.HUBSPOT)[before:]
    updates = [c for c in calls if c.operation == "contacts.batch.update"]
    assert sorted((c.status, c.records) for c in updates) == [
        (200, 50), (200, 100), (200, 100), (200, 100), (503, 0)
    ]  # fmt: skip
    assert all(c.duration_ms is not None for c in calls)


def test_a_chunk_sent_ahead_that_holds_a_bad_input_is_split_as_ever(hubspot, emulators):
    ids = sorted(contacts_in_hubspot(hubspot, 200), key=int)
    inputs = [{"id": i, "properties": {"jobtitle": "Ok"}} for i in ids]
    inputs[150]["properties"] = {"no_such_property": "x"}  # HubSpot refuses the whole batch

    results, failed = batch_update(hubspot, inputs)

    assert list(failed) == [ids[150]]
    assert len(results) == 199


def test_a_batch_stopped_by_an_error_leaves_every_ledger_row_complete(hubspot, emulators):
    from sync_engine.errors import RemoteError

    ids = sorted(contacts_in_hubspot(hubspot, 350), key=int)
    emulators.hubspot.app.ledger.clear()
    before = len(our_calls(hubspot.integration, System.HUBSPOT))
    emulators.hubspot.app.faults.add(path="/batch/update$", status=403, times=20)

    with pytest.raises(RemoteError):
        batch_update(hubspot, [{"id": i, "properties": {"jobtitle": "x"}} for i in ids])

    calls = our_calls(hubspot.integration, System.HUBSPOT)[before:]
    sent = [e for e in emulators.hubspot.app.ledger.entries() if e.path.endswith("/batch/update")]
    assert len(calls) == len(sent) >= 2
    assert all(c.status == 403 and c.duration_ms is not None for c in calls)


def test_the_chunks_of_a_batch_read_go_out_together_and_a_failed_one_is_read_again(
    hubspot, emulators
):
    from sync_engine.sync.pair import hubspot_batch_read

    ids = sorted(contacts_in_hubspot(hubspot, 350), key=int)
    # Every batch read waits 0.5 s before it is answered: four chunks one after another would
    # take 2 s; sent together, about one wait.
    slow = emulators.hubspot.app.faults.add(path="/batch/read$", delay=0.5)
    started = time.monotonic()
    result = hubspot_batch_read(hubspot, object_type="contacts", ids=ids, properties=["email"])
    assert time.monotonic() - started < 1.3
    assert sorted((o.id for o in result.results), key=int) == ids  # whole, and each once
    emulators.hubspot.app.faults.remove(slow.id)

    emulators.hubspot.app.ledger.clear()
    before = len(our_calls(hubspot.integration, System.HUBSPOT))
    # The second request to arrive fails once with a 503: its chunk is read again, in turn.
    emulators.hubspot.app.faults.add(path="/batch/read$", status=503, after=1, times=1)

    result = hubspot_batch_read(hubspot, object_type="contacts", ids=ids, properties=["email"])

    assert sorted((o.id for o in result.results), key=int) == ids
    calls = our_calls(hubspot.integration, System.HUBSPOT)[before:]
    assert sorted((c.status, c.records) for c in calls) == [
        (200, 50), (200, 100), (200, 100), (200, 100), (503, 0)
    ]  # fmt: skip
    sent = [e for e in emulators.hubspot.app.ledger.entries() if e.path.endswith("/batch/read")]
    assert len(sent) == len(calls) == 5
