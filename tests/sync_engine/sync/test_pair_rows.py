"""The link writer's value adapters give the database what Django's would."""

from datetime import UTC, datetime, timedelta, timezone

import pytest
from django.db import connection

from sync_engine.models import RecordLink
from sync_engine.sync.pair import _db_adapter


@pytest.mark.django_db
def test_moments_are_adapted_as_django_adapts_them():
    field = RecordLink._meta.get_field("last_synced_at")
    for value in (
        datetime(2026, 11, 29, 11, 0, 0, 123456, tzinfo=UTC),
        datetime.fromisoformat("2026-11-29T11:00:00.000+0000"),  # Salesforce's stamps
        datetime.fromisoformat("2026-11-29T11:00:00.5Z"),  # HubSpot's
        datetime(2026, 1, 1, tzinfo=timezone(timedelta(hours=2))),
        None,
    ):
        adapt = _db_adapter(field, connection)  # fresh: it remembers the last value
        expected = None if value is None else connection.ops.adapt_datetimefield_value(value)
        assert adapt(value) == expected


@pytest.mark.django_db
def test_a_new_link_is_stored_as_one_built_by_keyword(integration):
    from sync_engine.sync.pair import new_link, rows_insert

    moment = datetime(2026, 11, 29, 11, 0, tzinfo=UTC)
    values = {
        "hubspot_id": "101",
        "salesforce_id": "00Q000000000001AAA",
        "salesforce_type": "Lead",
        "snapshot": {"email": "a@example.com"},
        "hubspot_modified_at": moment,
        "salesforce_modified_at": None,
        "last_synced_at": moment,
    }
    fast = new_link(integration.pk, "contacts")
    for name, value in values.items():
        setattr(fast, name, value)
    rows_insert(RecordLink, [fast])

    stored = RecordLink.objects.get(pk=fast.pk)
    assert stored.integration_id == integration.pk and stored.object == "contacts"
    assert {name: getattr(stored, name) for name in values} == values
    assert stored.created_at is not None
    assert (
        RecordLink(integration=integration, object="contacts").snapshot
        == new_link(integration.pk, "contacts").snapshot
        == {}
    )
