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
