"""One way of writing a date and time on every page, in the page's language: the Connection and
record pages said "Nov. 30, 2026, 1:13 p.m." while Sync health, Import and Audit tables said
"11/30/2026 1:16 p.m."."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from sync_engine.models import (
    AuditEvent,
    ImportJob,
    RecordLink,
    SalesforceConnection,
    SyncError,
    SyncRun,
)
from sync_engine.services import audit_event_record

from .conftest import make_error

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("back_to_english")]

MOMENT = datetime(2026, 11, 30, 13, 16, tzinfo=UTC)
WRITTEN = {"en": "Nov. 30, 2026, 1:16 p.m.", "nl": "30 november 2026 13:16"}
SHORT = {"en": "11/30/2026", "nl": "30-11-2026"}  # Django's SHORT_DATETIME_FORMAT


@pytest.fixture
def dated(connected, admin_user):
    """A sync run, an import, an audit entry, a sync error, a linked record and the
    Salesforce connection, all at ``MOMENT``."""
    run = SyncRun.objects.create(integration=connected, object="contacts", status="succeeded")
    SyncRun.objects.filter(pk=run.pk).update(started_at=MOMENT, finished_at=MOMENT)
    job = ImportJob.objects.create(integration=connected, object="leads", status="succeeded")
    ImportJob.objects.filter(pk=job.pk).update(created_at=MOMENT)
    audit_event_record(action="record.resync_requested", integration=connected, actor=admin_user,
                       details={"object": "contacts", "record": "hubspot:7"})  # fmt: skip
    AuditEvent.objects.update(at=MOMENT)
    make_error(connected)  # hubspot:1000
    SyncError.objects.update(first_seen_at=MOMENT, last_seen_at=MOMENT)
    RecordLink.objects.create(
        integration=connected, object="contacts", hubspot_id="1000",
        salesforce_id="00Q5g00000AbCdE", salesforce_type="Lead", snapshot={"firstname": "Ann"},
    )  # fmt: skip
    RecordLink.objects.update(created_at=MOMENT, last_synced_at=MOMENT)
    SalesforceConnection.objects.update(connected_at=MOMENT)
    return connected


@pytest.mark.parametrize("language", ["en", "nl"])
@pytest.mark.parametrize(
    "url",
    [
        "/sync-health/",  # the sync runs
        "/sync-health/errors/property_value/",  # the error list
        "/import/",  # recent imports
        "/audit/",
        "/records/contacts/hubspot:1000/",  # first and last synced, and its errors
        "/connection/",
    ],
)
def test_pages_write_a_moment_the_same_way(admin_client, dated, url, language):
    html = admin_client.get(url, HTTP_ACCEPT_LANGUAGE=language).content.decode()
    assert WRITTEN[language] in html, url
    assert SHORT[language] not in html, url
