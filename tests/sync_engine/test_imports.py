"""Importing Salesforce records into HubSpot (spec §16), end to end through the official clients
and the emulators: the REST and Bulk reads, idempotent re-runs, resuming after a crash, skip
reasons, the pairs' order of operations and what an import costs in API calls."""

from __future__ import annotations

import math

import pytest

from emulators.testing import hubspot_client, salesforce_client
from sync_engine import imports
from sync_engine.imports import ImportRefused, import_run, import_start
from sync_engine.models import ApiCall, AuditEvent, ImportJob, RecordLink, SyncError, System
from sync_engine.services import object_settings_update, object_sync_get_or_create
from sync_engine.sync.cycle import sync_cycle_run
from tests.sync_engine.engine_harness import chunks
from tests.sync_engine.sync.helpers import hs_create, hs_emails, hs_get


@pytest.fixture
def integration(sf_connection, hs_connection, emulators):
    integration = sf_connection.integration
    user = emulators.salesforce.app.run_action("user_for_token", token=sf_connection.access_token)
    sf_connection.user_id = user or ""
    sf_connection.save()
    object_sync_get_or_create(integration=integration, object_name="contacts")
    return integration


@pytest.fixture
def rep(emulators):
    """A sales rep creating records in Salesforce with their own token."""
    return salesforce_client(emulators, token="sales-rep-token")


@pytest.fixture
def marketer(emulators):
    return hubspot_client(emulators, token="marketer-token", strict=False)


def seed(sf, sobject: str, records: list[dict]) -> list[str]:
    ids = []
    for batch in chunks(records, 200):
        body = {"allOrNone": False, "records": [{"attributes": {"type": sobject}, **r} for r in batch]}
        results = sf.restful("composite/sobjects", method="POST", json=body)
        assert all(r["success"] for r in results), results[:2]
        ids += [r["id"] for r in results]
    return ids


def leads(n: int, start: int = 0, **extra) -> list[dict]:
    return [
        {
            "FirstName": f"First{i}",
            "LastName": f"Last{i}",
            "Company": f"Co {i}",
            "Email": f"lead{i}@import.example",
            **extra,
        }
        for i in range(start, start + n)
    ]


def run(integration, object_name: str, **kwargs) -> ImportJob:
    job = import_start(integration=integration, object_name=object_name, enqueue=False)
    import_run(job=job, **kwargs)
    job.refresh_from_db()
    return job


def calls(integration, system: str) -> int:
    return ApiCall.objects.filter(integration=integration, system=system).count()


def test_a_small_lead_import_reads_by_rest_creates_and_links(integration, rep, marketer):
    ids = seed(rep, "Lead", leads(25))
    sf_before = calls(integration, System.SALESFORCE)
    job = run(integration, "leads")
    assert job.status == "succeeded", job.message
    assert job.method == "rest"
    assert (job.total, job.processed, job.created, job.updated, job.skipped, job.failed) == (
        25, 25, 25, 0, 0, 0,
    )  # fmt: skip
    assert job.position == max(ids)
    assert job.salesforce_calls == calls(integration, System.SALESFORCE) - sf_before
    links = RecordLink.objects.filter(integration=integration, object="contacts")
    assert links.count() == 25
    link = links.get(salesforce_id=ids[3])
    props = hs_get(marketer, link.hubspot_id, "email", "firstname", "company")
    assert props["email"] == "lead3@import.example" and props["firstname"] == "First3"
    assert props["company"] == "Co 3"
    assert AuditEvent.objects.filter(action="import.started", details__object="leads").exists()
    # The regular sync treats them as linked: nothing left to do.
    run_ = sync_cycle_run(integration=integration, object_name="contacts")
    assert run_.counts.get("created_in_hubspot", 0) == 0
    assert run_.counts.get("updated_in_hubspot", 0) == 0
    assert sorted(hs_emails(marketer)) == sorted(f"lead{i}@import.example" for i in range(25))
