"""Performance floors: batch writes and an incremental search page over 100k contacts.

Thresholds are floors far below the measured speeds (``bench/emulators.py`` measures them),
so the tests stay stable on a busy machine and only catch an order-of-magnitude regression
(an index lost, a scan per record); the server-side latency comes from the request ledger.
"""

from __future__ import annotations

import time

from hubspot.crm.contacts import (
    BatchInputSimplePublicObjectBatchInput,
    BatchInputSimplePublicObjectBatchInputForCreate,
    PublicObjectSearchRequest,
    SimplePublicObjectBatchInput,
    SimplePublicObjectBatchInputForCreate,
)

from emulators.hubspot.store import Actor


def test_batch_writes_are_fast(hs, app):
    app.configure_budget(per_ten_seconds=10_000)
    batch = hs.crm.contacts.batch_api
    started = time.perf_counter()
    ids = []
    for b in range(20):
        result = batch.create(
            BatchInputSimplePublicObjectBatchInputForCreate(
                inputs=[
                    SimplePublicObjectBatchInputForCreate(
                        properties={
                            "email": f"p{b}.{i}@x.com",
                            "firstname": "F",
                            "lastname": "L",
                            "lifecyclestage": "lead",
                        }
                    )
                    for i in range(100)
                ]
            )
        )
        ids += [r.id for r in result.results]
    for b in range(20):
        batch.update(
            BatchInputSimplePublicObjectBatchInput(
                inputs=[
                    SimplePublicObjectBatchInput(id=i, properties={"firstname": "G"})
                    for i in ids[b * 100 : (b + 1) * 100]
                ]
            )
        )
    elapsed = time.perf_counter() - started
    assert len(ids) == 2000
    assert 4000 / elapsed > 300, f"{4000 / elapsed:.0f} records/s end to end"
    server_ms = [e.latency_ms for e in app.ledger.entries()]
    assert sum(server_ms) / len(server_ms) < 60, "server time per 100-record batch"


def test_incremental_search_page_over_100k_contacts(hs, app):
    contacts = app.state.registry.types["0-1"]
    importer = Actor("IMPORT")
    start = app.now_ms() - 200_000_000
    with app.lock:
        for i in range(100_000):
            app.crm.create(
                contacts,
                {"email": f"c{i}@bulk.example", "firstname": "Bulk"},
                importer,
                start + i * 1000,
            )
    cursor = start + 50_000 * 1000
    request = PublicObjectSearchRequest(
        filter_groups=[
            {
                "filters": [
                    {"propertyName": "lastmodifieddate", "operator": "GT", "value": str(cursor)}
                ]
            }
        ],
        sorts=[{"propertyName": "lastmodifieddate", "direction": "ASCENDING"}],
        properties=["email", "lastmodifieddate"],
        limit=200,
    )
    app.ledger.clear()
    started = time.perf_counter()
    page = hs.crm.contacts.search_api.do_search(request)
    elapsed = time.perf_counter() - started
    assert page.total == 49_999 and len(page.results) == 200
    assert page.results[0].properties["email"] == "c50001@bulk.example"
    server = app.ledger.entries()[-1].latency_ms / 1000
    assert server < 0.6, f"search took {server:.3f}s in the server"
    assert elapsed < 2.0
