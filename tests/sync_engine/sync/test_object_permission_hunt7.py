"""A Salesforce object the integration user may not use (spec §1, §4 *Object permission*).

Without Read on an object Salesforce answers the pair's query as for an unknown type
(``INVALID_TYPE``). That object's pair stops with one *Object permission* error naming the
object (the other pairs go on, the integration isn't suspended), checks again every 20 minutes
with one call, and carries on by itself once access is given. A request refused for a whole
object (a 403) does the same instead of suspending every pair. And a locked row, retried on
the next cycle, makes no card unless that retry fails too (docs/sync-engine.md)."""

from __future__ import annotations

import pytest
from hubspot.crm.contacts import SimplePublicObjectInput

from integration_admin.labels import ENGINE_MESSAGE_LABELS, engine_message, error_text
from sync_engine.error_types import classify
from sync_engine.models import Integration, RecordLink, ResyncRequest, SyncError
from sync_engine.selectors import sync_error_cards, sync_errors_query
from sync_engine.services import (
    object_settings_update,
    record_resync,
    sync_errors_request_resync,
)
from sync_engine.sync.cycle import OBJECT_NOT_ACCESSIBLE, sync_cycle_run, sync_cycles_run

from ..conftest import SF_TOKEN
from .helpers import due_now, hs_get, new_lead
from .test_custom_objects import Projects, set_up
from .test_deals import hs_deal_ids, new_opportunity

NOT_READABLE = "sObject type 'Opportunity' is not supported"


def cards(integration) -> dict[str, int]:
    return {c.error_type: c.errors for c in sync_error_cards(integration=integration)}


def object_errors(integration, object_name: str):
    return SyncError.objects.filter(
        integration=integration,
        object=object_name,
        error_type="object_permission",
        resolved_at__isnull=True,
    )


def no_read(emulators, sobject: str) -> None:
    """The integration user's profile loses Read on ``sobject`` (Salesforce's other users
    keep theirs)."""
    emulators.salesforce.app.run_action(
        "set_record_access", access="none", object=sobject, token=SF_TOKEN
    )


def access_back(emulators, sobject: str) -> None:
    emulators.salesforce.app.run_action(
        "set_record_access", access="all", object=sobject, token=SF_TOKEN
    )


def lead_in_a_campaign_once_campaign_members_are_unreadable(cycle, emulators, sf, **fields):
    """After a first cycle, the integration user loses Read on CampaignMember, and a new lead
    (``fields``) joins the active campaign "Spring Webinar": the lead's id."""
    spring = sf.Campaign.create({"Name": "Spring Webinar", "IsActive": True})["id"]
    cycle()
    no_read(emulators, "CampaignMember")
    lead = new_lead(sf, **fields)
    sf.CampaignMember.create({"CampaignId": spring, "LeadId": lead})
    return lead


def campaign_access_back(integration, emulators, hs, contact: str) -> None:
    """Read on CampaignMember given back: the contacts' check, due, ends the hold, and the
    lead's campaign reaches its HubSpot ``contact``."""
    access_back(emulators, "CampaignMember")
    due_now(object_errors(integration, "contacts").get())
    run = sync_cycle_run(integration=integration, object_name="contacts")
    assert run.status == "succeeded", run.message
    assert not object_errors(integration, "contacts").exists()
    assert hs_get(hs, contact, "salesforce_campaigns")["salesforce_campaigns"] == ("Spring Webinar")


def by_pair(runs) -> dict:
    return {run.object: run for run in runs}


def test_an_opportunity_object_without_read_stops_deal_sync_alone_and_resumes_by_itself(
    deals, integration, emulators, sf_person, hs_person
):
    # (With automatic lifecycle stages on, contact sync reads opportunities too, and is held
    # the same way.)
    object_settings_update(
        integration=integration, object_name="contacts", changes={"lifecycle_transitions": False}
    )
    deals.all()
    first = new_opportunity(sf_person, Name="Before the profile change")
    deals()
    assert deals.links().filter(salesforce_id=first).exists()

    no_read(emulators, "Opportunity")
    runs = by_pair(sync_cycles_run(integration=integration))

    # Only deal sync stops; the integration stays connected and the other pairs sync.
    integration.refresh_from_db()
    assert integration.state == Integration.State.CONNECTED, integration.state_reason
    assert runs["contacts"].status == "succeeded", runs["contacts"].message
    assert runs["deals"].status == "failed"
    message = engine_message(runs["deals"].message)
    assert "no access to Opportunity" in message and "Object permission" in message, message
    assert NOT_READABLE not in message  # not Salesforce's raw text as the reason
    assert OBJECT_NOT_ACCESSIBLE in ENGINE_MESSAGE_LABELS  # translated on the dashboard
    # Sync health: one *Object permission* card naming the object, with Salesforce's words.
    assert cards(integration) == {"object_permission": 1}
    (error,) = object_errors(integration, "deals")
    assert (error.record_label, error.salesforce_type) == ("Opportunity", "Opportunity")
    assert error.code == "INVALID_TYPE" and NOT_READABLE in error.message
    fix = str(error_text("object_permission").fix)
    assert "Read, Create and Edit" in fix and "permission set" in fix

    # Held: later cycles cost deal sync no Salesforce call and keep the one error.
    for _ in range(2):
        run = by_pair(sync_cycles_run(integration=integration))["deals"]
        assert run.status == "failed" and run.salesforce_calls == 0, run.message
    assert object_errors(integration, "deals").get().attempts == 1

    # Twenty minutes on, still no access: one call checks, and the error stays.
    due_now(error)
    run = sync_cycle_run(integration=integration, object_name="deals")
    assert run.status == "failed" and run.salesforce_calls == 1, run.message
    assert object_errors(integration, "deals").get().attempts == 2

    # Access given back: the next check ends the error and the deals sync carries on at once.
    access_back(emulators, "Opportunity")
    second = new_opportunity(sf_person, Name="Made while deal sync was held")
    due_now(object_errors(integration, "deals").get())
    run = sync_cycle_run(integration=integration, object_name="deals")
    assert run.status == "succeeded", run.message
    assert not object_errors(integration, "deals").exists()
    assert cards(integration) == {}
    deal = deals.link(salesforce_id=second).hubspot_id
    assert deal in hs_deal_ids(hs_person)


def test_a_resync_of_the_object_permission_error_checks_at_once(
    deals, integration, emulators, sf_person
):
    deals.all()
    no_read(emulators, "Opportunity")
    sync_cycle_run(integration=integration, object_name="deals")
    error = object_errors(integration, "deals").get()
    access_back(emulators, "Opportunity")

    # Not due for twenty minutes: an admin's Resync of the error checks now.
    sync_errors_request_resync(integration=integration, error_ids=[error.pk])
    opportunity = new_opportunity(sf_person, Name="Synced on Resync")
    run = sync_cycle_run(integration=integration, object_name="deals", trigger="resync")
    assert run.status == "succeeded", run.message
    assert not object_errors(integration, "deals").exists()
    assert deals.links().filter(salesforce_id=opportunity).exists()


def test_the_record_page_resync_of_an_object_error_checks_and_leaves_nothing_for_the_pair(
    deals, integration, emulators
):
    deals.all()
    no_read(emulators, "Opportunity")
    sync_cycle_run(integration=integration, object_name="deals")
    error = object_errors(integration, "deals").get()

    record_resync(integration=integration, object_name="deals", record_key=error.record_key)
    run = sync_cycle_run(integration=integration, object_name="deals", trigger="resync")
    assert run.status == "failed" and run.salesforce_calls == 1, run.message  # checked
    assert not ResyncRequest.objects.filter(integration=integration).exists()
    assert object_errors(integration, "deals").get().attempts == 2

    access_back(emulators, "Opportunity")
    record_resync(integration=integration, object_name="deals", record_key=error.record_key)
    run = sync_cycle_run(integration=integration, object_name="deals", trigger="resync")
    assert run.status == "succeeded", run.message
    assert not ResyncRequest.objects.filter(integration=integration).exists()


def test_a_custom_object_without_read_stops_its_pair_with_an_object_permission_error(
    integration, emulators, hs_person, sf_person
):
    emulators.hubspot.app.configure_budget(search_per_second=1000)
    hs_type, name = set_up(integration, hs_person)
    projects = Projects(integration, emulators, hs_person, hs_type, name)
    projects()

    no_read(emulators, "Project__c")
    run = projects(ok=False)
    assert run.status == "failed"
    assert "no access to Project__c" in engine_message(run.message), run.message
    (error,) = object_errors(integration, name)
    assert error.salesforce_type == "Project__c" and "Project__c" in error.message
    assert cards(integration) == {"object_permission": 1}
    integration.refresh_from_db()
    assert integration.state == Integration.State.CONNECTED

    access_back(emulators, "Project__c")
    sf_person.Project__c.create({"Name": "Apollo", "External_Id__c": "P-1"})
    due_now(error)
    projects()
    assert not object_errors(integration, name).exists()
    assert projects.links().count() == 1


def test_a_request_refused_for_a_whole_object_stops_that_pair_not_the_integration(
    deals, integration, emulators, sf_person
):
    """A 403 INSUFFICIENT_ACCESS_OR_READONLY on a whole request is about an object the user
    lacks a permission on, not the connection: only that object's pair stops."""
    deals.all()
    new_opportunity(sf_person, Name="Refused")
    emulators.salesforce.app.faults.add(
        path="/services/data/",
        error_code="INSUFFICIENT_ACCESS_OR_READONLY",
        status=403,
        body="entity type cannot be queried: Opportunity",
        times=1,
    )
    run = sync_cycle_run(integration=integration, object_name="deals")
    integration.refresh_from_db()
    assert integration.state == Integration.State.CONNECTED, integration.state_reason
    assert run.status == "failed"
    assert object_errors(integration, "deals").get().salesforce_type == "Opportunity"
    contacts = sync_cycle_run(integration=integration, object_name="contacts")
    assert contacts.status == "succeeded", contacts.message


@pytest.mark.parametrize(
    ("message", "key"),
    [
        ("entity type cannot be updated: Opportunity", "object_permission"),
        ("insufficient access rights on object id", "insufficient_access"),
    ],
)
def test_a_write_refused_for_the_object_is_an_object_permission_error_not_a_sharing_one(
    message, key
):
    """Salesforce says when a record's refusal is about the whole object, not its sharing."""
    refused = classify(
        system="salesforce", status=400, code="INSUFFICIENT_ACCESS_OR_READONLY", message=message
    )
    assert refused.key == key


# --- B: a transient error shows only once it keeps failing ---------------------------------
def test_a_row_locked_for_one_cycle_makes_no_card_and_one_that_stays_locked_does(
    cycle, integration, emulators, sf_person, hs_person
):
    lead = sf_person.Lead.create(
        {"LastName": "Locked", "Company": "Busy Inc", "Email": "locked@people.example"}
    )["id"]
    cycle()
    cycle()
    contact = RecordLink.objects.get(integration=integration, salesforce_id=lead).hubspot_id
    hs_person.crm.contacts.basic_api.update(
        contact, SimplePublicObjectInput(properties={"jobtitle": "CFO"})
    )
    emulators.salesforce.app.run_action("lock_row", id=lead, seconds=3600)
    run = cycle()
    assert run.counts.get("failed"), run.counts
    # Recorded, and retried on the next cycle, but not shown: a lock is usually gone by then.
    assert SyncError.objects.get(integration=integration, resolved_at__isnull=True).attempts == 1
    assert cards(integration) == {}
    assert not sync_errors_query(integration=integration).exists()

    cycle()  # the retry: still locked
    assert cards(integration) == {"transient": 1}
    assert sync_errors_query(integration=integration, error_type="transient").count() == 1

    emulators.salesforce.app.run_action("unlock_row", id=lead)
    cycle()
    assert sf_person.Lead.get(lead)["Title"] == "CFO"
    assert cards(integration) == {}
