import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError

from sync_engine.models import AuditEvent, Integration
from sync_engine.services import (
    admin_user_ensure,
    api_call_record,
    audit_event_record,
    integration_set_state,
    integration_update_allocation,
)

from .factories import IntegrationFactory


@pytest.fixture
def admin(db):
    return get_user_model().objects.create_user("ops", password="x")


@pytest.mark.django_db
def test_allocation_change_is_audited_with_who(admin):
    integration = IntegrationFactory(salesforce_api_allocation=10_000)
    integration_update_allocation(integration=integration, allocation=2_500, actor=admin)
    integration.refresh_from_db()
    assert integration.salesforce_api_allocation == 2_500
    event = AuditEvent.objects.get(action="integration.allocation_changed")
    assert event.actor == admin
    assert event.integration == integration
    assert event.details == {"from": 10_000, "to": 2_500}


@pytest.mark.django_db
def test_allocation_must_be_positive():
    integration = IntegrationFactory()
    with pytest.raises(ValueError):
        integration_update_allocation(integration=integration, allocation=0)


@pytest.mark.django_db
def test_unchanged_allocation_is_not_audited():
    integration = IntegrationFactory(salesforce_api_allocation=5)
    integration_update_allocation(integration=integration, allocation=5)
    assert not AuditEvent.objects.exists()


@pytest.mark.django_db
def test_state_change_is_audited(admin):
    integration = IntegrationFactory()
    integration_set_state(
        integration=integration, state=Integration.State.PAUSED, reason="migration", actor=admin
    )
    integration.refresh_from_db()
    assert integration.state == "paused"
    event = AuditEvent.objects.get(action="integration.state_changed")
    assert event.details == {"from": "connected", "to": "paused", "reason": "migration"}
    with pytest.raises(ValueError):
        integration_set_state(integration=integration, state="exploded")


@pytest.mark.django_db
def test_system_actions_have_no_actor():
    event = audit_event_record(action="sync.ran", details={"objects": 3})
    assert event.actor is None


@pytest.mark.django_db
def test_api_call_record():
    integration = IntegrationFactory()
    call = api_call_record(
        integration=integration, system="hubspot", operation="contacts.search", status=200
    )
    assert call.pk and call.called_at


@pytest.mark.django_db
def test_admin_user_ensure_creates_then_resets():
    user, password, created = admin_user_ensure(username="boss")
    assert created and user.is_staff and user.is_superuser and len(password) >= 12
    assert user.check_password(password)
    again, new_password, created_again = admin_user_ensure(username="boss", password="S3cret-pass!")
    assert not created_again and again.pk == user.pk
    again.refresh_from_db()
    assert again.check_password("S3cret-pass!")
    assert AuditEvent.objects.filter(action__startswith="admin.").count() == 2


@pytest.mark.django_db
def test_admin_user_ensure_refuses_a_password_the_validators_refuse():
    with pytest.raises(ValidationError) as caught:
        admin_user_ensure(username="ops", password="short")
    assert "too short" in " ".join(caught.value.messages)
    assert not get_user_model().objects.filter(username="ops").exists()
    assert not AuditEvent.objects.exists()


def _fail(integration, error_type: str, key: str = "hubspot:7"):
    from sync_engine.services import sync_error_record

    return sync_error_record(
        integration=integration,
        object_name="contacts",
        error_type=error_type,
        direction="to_salesforce",
        record_key=key,
        message="refused",
    )


@pytest.mark.django_db
def test_after_ten_attempts_an_error_waits_for_the_nightly_queue():
    from datetime import UTC, datetime, time, timedelta

    integration = IntegrationFactory()
    for _ in range(9):
        error = _fail(integration, "picklist")
    assert error.attempts == 9 and error.next_retry_at - error.last_seen_at == timedelta(minutes=20)
    error = _fail(integration, "picklist")
    tomorrow = (error.last_seen_at + timedelta(days=1)).date()
    assert error.attempts == 10
    assert error.next_retry_at == datetime.combine(tomorrow, time.min, tzinfo=UTC)


@pytest.mark.django_db
def test_a_transient_error_is_tried_on_the_next_cycles_then_every_20_minutes():
    """A row locked for ten minutes (ten one-minute cycles) isn't parked until the night."""
    from datetime import UTC, datetime, time, timedelta

    integration = IntegrationFactory()
    waits = []
    for _ in range(20):
        error = _fail(integration, "transient")
        waits.append(error.next_retry_at - error.last_seen_at)
    assert waits[:9] == [timedelta(0)] * 9
    assert waits[9:19] == [timedelta(minutes=20)] * 10
    # Then the nightly queue, as any error: the next 00:00 UTC, however near it is.
    tomorrow = (error.last_seen_at + timedelta(days=1)).date()
    assert error.next_retry_at == datetime.combine(tomorrow, time.min, tzinfo=UTC)


@pytest.mark.django_db
def test_a_record_failing_another_way_takes_its_older_errors_along_to_the_next_retry():
    from django.utils import timezone

    from sync_engine.models import SyncError

    integration = IntegrationFactory()
    old = _fail(integration, "property_value")
    SyncError.objects.filter(pk=old.pk).update(next_retry_at=timezone.now())  # due now
    new = _fail(integration, "field_permission")
    old.refresh_from_db()
    assert old.resolved_at is None and old.next_retry_at == new.next_retry_at > timezone.now()
    other_record = _fail(integration, "property_value", key="hubspot:8")
    old.refresh_from_db()
    assert old.next_retry_at == new.next_retry_at  # another record's error moves nothing
    assert other_record.next_retry_at > timezone.now()


@pytest.mark.django_db
def test_a_cycle_ending_after_a_disconnect_leaves_the_integration_disconnected():
    """A cycle still running when the admin disconnects may end paused or suspended: the
    integration stays disconnected (the header, and the schedule's guard, say so)."""
    from sync_engine.services import integration_set_state

    integration = IntegrationFactory(state=Integration.State.DISCONNECTED, state_reason="bye")
    for state in (Integration.State.PAUSED, Integration.State.SUSPENDED):
        integration_set_state(integration=integration, state=state, reason="late cycle")
        integration.refresh_from_db()
        assert (integration.state, integration.state_reason) == ("disconnected", "bye")
