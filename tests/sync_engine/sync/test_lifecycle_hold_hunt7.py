"""Contacts keep syncing when the integration user can't read opportunities (spec §1, §7).

With automatic lifecycle stages on, the contact sync also reads opportunities and their
contact roles. Without Read on Opportunity only that part stops: leads and contacts go on
syncing, one *Object permission* error names Opportunity, and the lifecycle stages catch up
by themselves once access is given back."""

from __future__ import annotations

from integration_admin.labels import ENGINE_MESSAGE_LABELS, engine_message
from sync_engine.models import Integration, SyncError
from sync_engine.sync.cycle import PART_NOT_ACCESSIBLE, sync_cycle_run, sync_cycles_run

from .helpers import due_now, hs_get, new_lead
from .test_contacts_lifecycle import opportunity, stage
from .test_object_permission_hunt7 import (
    access_back,
    campaign_access_back,
    cards,
    lead_in_a_campaign_once_campaign_members_are_unreadable,
    no_read,
)


def object_errors(integration):
    return SyncError.objects.filter(
        integration=integration,
        object="contacts",
        error_type="object_permission",
        resolved_at__isnull=True,
    )


def test_contacts_sync_on_without_opportunity_access_and_stages_catch_up_after(
    cycle, integration, emulators, sf_person, hs_person
):
    opp, account = opportunity(sf_person)
    cycle()
    no_read(emulators, "Opportunity")

    # A new lead syncs although the lifecycle part can't read opportunities.
    lead = new_lead(sf_person, Email="held.lead@example.com", LastName="Held")
    run = sync_cycle_run(integration=integration, object_name="contacts")
    assert run.status == "succeeded", run.message
    assert "Opportunity" in engine_message(run.message), run.message
    assert "Object permission" in engine_message(run.message), run.message
    assert PART_NOT_ACCESSIBLE in ENGINE_MESSAGE_LABELS  # translated on the dashboard
    hs_lead = cycle.link(salesforce_id=lead).hubspot_id
    assert hs_get(hs_person, hs_lead, "lastname")["lastname"] == "Held"
    integration.refresh_from_db()
    assert integration.state == Integration.State.CONNECTED, integration.state_reason
    # One Object permission error naming Opportunity, on the contacts' tab.
    (error,) = object_errors(integration)
    assert (error.salesforce_type, error.record_label) == ("Opportunity", "Opportunity")
    assert cards(integration) == {"object_permission": 1}

    # Later cycles: contacts still sync, the error stays one (not recorded again).
    contact = sf_person.Contact.create(
        {"LastName": "Buyer", "Email": "held.buyer@example.com", "AccountId": account}
    )["id"]
    emulators.salesforce.app.run_action("add_contact_role", opportunity_id=opp, contact_id=contact)
    for _ in range(2):
        runs = {r.object: r for r in sync_cycles_run(integration=integration)}
        assert runs["contacts"].status == "succeeded", runs["contacts"].message
    hs_contact = cycle.link(salesforce_id=contact).hubspot_id
    assert hs_get(hs_person, hs_contact, "lastname")["lastname"] == "Buyer"
    assert object_errors(integration).get().attempts == 1
    assert stage(hs_person, hs_contact) != "opportunity"  # the lifecycle part is held

    # Access back: the check ends the error and the role made meanwhile moves the contact.
    access_back(emulators, "Opportunity")
    due_now(object_errors(integration).get())
    run = sync_cycle_run(integration=integration, object_name="contacts")
    assert run.status == "succeeded", run.message
    assert not object_errors(integration).exists()
    assert cards(integration) == {}
    assert stage(hs_person, hs_contact) == "opportunity"


def test_without_campaign_access_contacts_sync_on_and_campaigns_catch_up_after(
    cycle, integration, emulators, sf_person, hs_person
):
    lead = lead_in_a_campaign_once_campaign_members_are_unreadable(
        cycle, emulators, sf_person, Email="no.campaigns@example.com", LastName="Unseen"
    )
    run = sync_cycle_run(integration=integration, object_name="contacts")
    assert run.status == "succeeded", run.message
    hs_lead = cycle.link(salesforce_id=lead).hubspot_id
    assert hs_get(hs_person, hs_lead, "lastname")["lastname"] == "Unseen"
    (error,) = object_errors(integration)
    assert error.salesforce_type == "CampaignMember"

    # Held: one call a cycle for the people (not the campaign members), the error stays one.
    run = sync_cycle_run(integration=integration, object_name="contacts")
    assert run.status == "succeeded" and run.salesforce_calls == 1, run.message
    assert object_errors(integration).get().attempts == 1

    campaign_access_back(integration, emulators, hs_person, hs_lead)


def test_with_deal_sync_on_too_deals_stop_and_contacts_go_on(
    deals, integration, emulators, sf_person
):
    deals.all()
    no_read(emulators, "Opportunity")
    lead = new_lead(sf_person, Email="both.pairs@example.com")
    runs = {r.object: r for r in sync_cycles_run(integration=integration)}
    assert runs["contacts"].status == "succeeded", runs["contacts"].message
    assert runs["deals"].status == "failed"
    assert deals.links("contacts").filter(salesforce_id=lead).exists()
    # Each pair names what it can't do: deals stop, the contacts' lifecycle stages wait.
    refused = SyncError.objects.filter(
        integration=integration, error_type="object_permission", resolved_at__isnull=True
    )
    assert sorted(refused.values_list("object", "salesforce_type")) == [
        ("contacts", "Opportunity"),
        ("deals", "Opportunity"),
    ]
    runs = {r.object: r for r in sync_cycles_run(integration=integration)}
    assert runs["contacts"].status == "succeeded", runs["contacts"].message
    assert refused.filter(attempts=1).count() == 2
