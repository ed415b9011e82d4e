"""Activities going to HubSpot survive a failed batch create: retried, never lost."""

from __future__ import annotations

import pytest

from sync_engine.models import SyncError

from .test_activities import ALL_SALESFORCE, activities, engagements, linked_person  # noqa: F401


def test_a_failed_engagement_create_is_retried_on_the_next_cycle(
    activities,
    linked_person,
    hs_person,
    sf_person,
    emulators,  # noqa: F811
):
    lead, _contact = linked_person
    activities.settings(**ALL_SALESFORCE)
    sf_person.Task.create({"WhoId": lead, "Subject": "Follow up", "Status": "Not Started"})
    emulators.hubspot.app.faults.add(
        path=r"^/crm/v3/objects/tasks/batch/create$", error_code="SERVICE_UNAVAILABLE", times=1
    )
    from sync_engine.sync.cycle import sync_cycle_run

    first = sync_cycle_run(integration=activities.integration, object_name="activities")
    assert first.status == "failed" or first.counts.get("failed") == 1, first.counts
    second = activities()
    assert second.counts.get("created_in_hubspot") == 1, second.counts
    assert len(engagements(hs_person, "tasks")) == 1
    assert not SyncError.objects.filter(resolved_at__isnull=True).exists()


@pytest.mark.parametrize(
    "fault",
    [
        {"drop": True},
        {"drop": True, "apply_then_fail": True},
        {"error_code": "BAD_GATEWAY", "apply_then_fail": True},
        {"error_code": "RATE_LIMIT"},
    ],
)
def test_an_engagement_create_lost_in_transit_lands_exactly_once(
    activities,
    linked_person,
    hs_person,
    sf_person,
    emulators,
    fault,  # noqa: F811
):
    from sync_engine.sync.cycle import sync_cycle_run

    lead, _contact = linked_person
    activities.settings(**ALL_SALESFORCE)
    for n in range(3):
        sf_person.Task.create({"WhoId": lead, "Subject": f"Follow up {n}", "Status": "Not Started"})
    emulators.hubspot.app.faults.add(path=r"^/crm/v3/objects/tasks/batch/create$", times=1, **fault)
    sync_cycle_run(integration=activities.integration, object_name="activities")
    for _ in range(3):
        sync_cycle_run(integration=activities.integration, object_name="activities")
    assert len(engagements(hs_person, "tasks")) == 3
    assert not SyncError.objects.filter(resolved_at__isnull=True).exists()
