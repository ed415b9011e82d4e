"""The CRMs' own limits met in the middle of a cycle over every pair: the dashboard says
which system stopped the sync and what to do, and the next cycles resume by themselves."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from integration_admin.roles import VIEWERS
from sync_engine.models import Integration, RecordLink
from sync_engine.sync.cycle import sync_cycles_run

from .helpers import hs_create


def sync_health(client) -> str:
    viewer = get_user_model().objects.create_user("viewer-i", password="viewer-pass-123")
    viewer.groups.add(Group.objects.get_or_create(name=VIEWERS)[0])
    client.force_login(viewer)
    return client.get("/sync-health/").content.decode()


def test_hubspots_daily_limit_pauses_the_sync_as_hubspots_not_salesforces(
    companies, emulators, hs_person, client
):
    """HubSpot answers 429 with ``policyName: DAILY`` once the account's daily allowance is
    spent: the pause names HubSpot, and the advice is not to wait for Salesforce's calls."""
    hs_create(hs_person, email="daily@example.com", lastname="Daily", company="X")
    emulators.hubspot.app.faults.add(path=r"^/crm/", error_code="DAILY")
    runs = sync_cycles_run(integration=companies.integration, trigger="manual")
    assert [r.status for r in runs] == ["paused", "paused"], [r.message for r in runs]
    integration = Integration.objects.get(pk=companies.integration.pk)
    assert integration.state == "paused"
    assert "HubSpot" in integration.state_reason, integration.state_reason
    html = sync_health(client)
    assert "Salesforce org reached its daily API limit" not in html
    assert "Salesforce frees calls" not in html
    assert "The HubSpot account reached its daily API limit." in html
    assert "at midnight in the HubSpot account" in html

    emulators.hubspot.app.faults.clear()
    runs = sync_cycles_run(integration=integration, trigger="manual")
    assert all(r.status == "succeeded" for r in runs), [r.message for r in runs]
    assert Integration.objects.get(pk=integration.pk).state == "connected"
    assert RecordLink.objects.filter(integration=integration, object="contacts").count() == 1
