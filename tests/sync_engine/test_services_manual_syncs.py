"""The syncs asked for by hand, as services: what each did, by code, for the pages and the
API to word (``integration_sync_now``, ``record_resync_with_errors``)."""

from __future__ import annotations

import pytest
from django.utils import timezone

from sync_engine.models import AuditEvent, Integration, ResyncRequest, System
from sync_engine.selectors import (
    WAITS_ON_HOLD,
    WAITS_PAIR_OFF,
    WAITS_SYNC_OFF,
    record_history,
    sync_waits_because,
)
from sync_engine.services import (
    SYNC_NOW_ALLOCATION_USED,
    SYNC_NOW_NOT_CONNECTED,
    SYNC_NOW_SUSPENDED,
    SYNC_NOW_SYNC_OFF,
    api_call_record,
    integration_sync_now,
    object_sync_get_or_create,
    record_resync_with_errors,
    sync_error_record,
)

from .factories import IntegrationFactory

pytestmark = pytest.mark.django_db


def test_sync_now_says_why_it_starts_nothing(django_capture_on_commit_callbacks):
    integration = IntegrationFactory(salesforce_api_allocation=1)
    cases = [
        (Integration.State.SUSPENDED, True, SYNC_NOW_SUSPENDED),
        (Integration.State.DISCONNECTED, True, SYNC_NOW_NOT_CONNECTED),
        (Integration.State.CONNECTED, False, SYNC_NOW_SYNC_OFF),
    ]
    for state, enabled, refused in cases:
        integration.state, integration.sync_enabled = state, enabled
        with django_capture_on_commit_callbacks() as callbacks:
            started = integration_sync_now(integration=integration)
        assert (started.ok, started.refused, started.objects) == (False, refused, [])
        assert not callbacks
    # Paused: refused while the allocation is still used up, started once calls free up.
    api_call_record(integration=integration, system=System.SALESFORCE, operation="q", status=200)
    integration.state, integration.sync_enabled = Integration.State.PAUSED, True
    assert integration_sync_now(integration=integration).refused == SYNC_NOW_ALLOCATION_USED
    Integration.objects.filter(pk=integration.pk).update(salesforce_api_allocation=100)
    with django_capture_on_commit_callbacks() as callbacks:
        started = integration_sync_now(integration=integration)
    assert started.ok and started.objects == ["contacts"] and len(callbacks) == 1
    assert AuditEvent.objects.get(action="sync.requested").details == {
        "objects": ["contacts"],
        "trigger": "manual",
    }


def test_a_records_resync_queues_it_with_its_errors_and_says_why_it_waits():
    integration = IntegrationFactory()
    sync_error_record(
        integration=integration,
        object_name="companies",
        record_key="hubspot:7",
        error_type="property_value",
        direction="to_salesforce",
        message="bad value",
    )
    history = record_history(
        integration=integration, object_name="companies", record_key="hubspot:7"
    )
    outcome = record_resync_with_errors(integration=integration, history=history)
    assert outcome.ok and outcome.errors_queued == 1 and outcome.record_key == "hubspot:7"
    assert outcome.waits == WAITS_PAIR_OFF  # company sync starts off
    assert ResyncRequest.objects.get().object == "companies"
    error = history.current[0]
    error.refresh_from_db()
    assert error.next_retry_at <= timezone.now()

    row = object_sync_get_or_create(integration=integration, object_name="companies")
    row.enabled = True
    row.save()
    assert sync_waits_because(integration=integration, object_name="companies") == ""
    integration.state = Integration.State.PAUSED
    assert sync_waits_because(integration=integration, object_name="companies") == WAITS_ON_HOLD
    integration.sync_enabled = False
    assert sync_waits_because(integration=integration) == WAITS_SYNC_OFF
