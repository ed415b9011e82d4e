"""A refusal that doesn't say which Salesforce object it is about (spec §1, §4 *Object permission*).

Salesforce may refuse a read with a 403 ``INSUFFICIENT_ACCESS`` whose message names no object.
The contact sync reads more than leads and contacts (campaign members, opportunities), so the
pair's first object isn't necessarily the one refused: the sync checks the objects it reads
with the same one-call check that later ends a hold, and holds only those refused. A refusal
no check can pin on an object fails that run alone, and never holds an object the user can
read (which the twenty-minute check would release, to be held again the next cycle).

(The Salesforce emulator can't refuse one object's query with such a 403: its fault rules
match a request's path, not its query. These tests refuse the cycle's composite reads that
way, and take away Read on an object for real where a check must find it.)"""

from __future__ import annotations

from sync_engine.models import Integration, SyncError
from sync_engine.sync.cycle import sync_cycle_run

from .helpers import due_now, hs_get, new_lead
from .test_object_permission_hunt7 import (
    campaign_access_back,
    cards,
    lead_in_a_campaign_once_campaign_members_are_unreadable,
)

NO_OBJECT_NAMED = "Insufficient Privileges: You do not have the level of access necessary."


def object_errors(integration):
    return SyncError.objects.filter(
        integration=integration, error_type="object_permission", resolved_at__isnull=True
    )


def refuse_composite_reads(emulators, **rule) -> None:
    """Salesforce refuses the cycle's reads (composite query subrequests) with a 403 that
    names no object; a query sent on its own is answered."""
    emulators.salesforce.app.faults.add(
        path="/query",
        subrequest=True,
        status=403,
        error_code="INSUFFICIENT_ACCESS",
        body=NO_OBJECT_NAMED,
        **rule,
    )


def test_a_refusal_naming_no_object_holds_no_object_the_user_can_read(
    cycle, integration, emulators, sf_person, hs_person
):
    cycle()
    refuse_composite_reads(emulators)
    lead = new_lead(sf_person, Email="unnamed.refusal@example.com", LastName="Waits")

    run = sync_cycle_run(integration=integration, object_name="contacts")
    assert run.status == "failed"
    assert NO_OBJECT_NAMED in run.message, run.message  # Salesforce's own words
    # Every object contacts read answers its check: none is held (no "no access to Lead",
    # which the next check would end and the next cycle start again), no card says so.
    assert not object_errors(integration).exists()
    assert "object_permission" not in cards(integration)
    integration.refresh_from_db()
    assert integration.state == Integration.State.CONNECTED, integration.state_reason

    # The next cycle reads again (nothing waits twenty minutes), and syncs once it may.
    run = sync_cycle_run(integration=integration, object_name="contacts")
    assert run.status == "failed" and not object_errors(integration).exists()
    emulators.salesforce.app.faults.clear()
    cycle()
    contact = cycle.link(salesforce_id=lead).hubspot_id
    assert hs_get(hs_person, contact, "lastname")["lastname"] == "Waits"


def test_a_refusal_naming_no_object_holds_only_the_part_whose_object_is_refused(
    cycle, integration, emulators, sf_person, hs_person
):
    lead = lead_in_a_campaign_once_campaign_members_are_unreadable(
        cycle, emulators, sf_person, Email="part.refused@example.com", LastName="Syncs"
    )
    refuse_composite_reads(emulators, times=1)

    # The checks find CampaignMember refused, Lead and the others not: contacts sync on
    # without their campaigns.
    run = sync_cycle_run(integration=integration, object_name="contacts")
    assert run.status == "succeeded", run.message
    hs_lead = cycle.link(salesforce_id=lead).hubspot_id
    assert hs_get(hs_person, hs_lead, "lastname")["lastname"] == "Syncs"
    (error,) = object_errors(integration)
    assert (error.object, error.salesforce_type) == ("contacts", "CampaignMember")
    assert cards(integration) == {"object_permission": 1}

    # Twenty minutes on, still refused: the check keeps the hold (one call), no flapping.
    due_now(error)
    run = sync_cycle_run(integration=integration, object_name="contacts")
    assert run.status == "succeeded", run.message
    assert object_errors(integration).get().attempts == 2

    campaign_access_back(integration, emulators, hs_person, hs_lead)
    assert not object_errors(integration).exists()
