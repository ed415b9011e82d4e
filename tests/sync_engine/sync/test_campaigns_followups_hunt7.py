"""Follow-ups to the *Salesforce campaigns* property and the company inclusion list:
a campaigns write HubSpot refuses is an error its retry mends; nothing is kept for people
who never link; a company outside the company inclusion list takes no lifecycle stage."""

from __future__ import annotations

from emulators.testing import advance_clocks
from sync_engine.models import ApiCall, SyncCursor, SyncError
from sync_engine.services import object_settings_update, sync_errors_request_resync
from sync_engine.sync.contacts import CAMPAIGNS_ERROR

from .helpers import new_lead
from .test_companies_inclusion_list_hunt7 import company_list, hs_company_update
from .test_contacts_campaigns_hunt7 import campaign, campaigns, join
from .test_contacts_lifecycle import company_stage, contact_of_a_synced_company, stage


def refuse_next_contact_update(emulators) -> None:
    emulators.hubspot.app.faults.add(
        path=r"^/crm/v3/objects/contacts/batch/update$",
        status=400,
        body={
            "status": "error",
            "category": "VALIDATION_ERROR",
            "message": "Property values were not valid: salesforce_campaigns",
        },
        times=1,
    )


def campaign_errors(integration) -> list[SyncError]:
    return list(
        SyncError.objects.filter(
            integration=integration, error_type=CAMPAIGNS_ERROR, resolved_at__isnull=True
        )
    )


# --- a refused write is an error, and its retry writes the campaigns ------------------------
def test_refused_campaigns_are_an_error_on_the_person_that_its_retry_mends(
    cycle, integration, emulators, sf_person, hs_person
):
    lead = new_lead(sf_person, Email="refused@example.com")
    cycle()
    contact = cycle.link(salesforce_id=lead).hubspot_id
    join(sf_person, campaign(sf_person, "Roadshow"), LeadId=lead)
    refuse_next_contact_update(emulators)
    run = cycle()
    assert campaigns(hs_person, contact) == ""
    assert run.counts.get("failed") == 1, run.counts
    [error] = campaign_errors(integration)
    assert (error.object, error.record_key, error.hubspot_id, error.direction) == (
        "contacts",
        f"salesforce:{lead}",
        contact,
        "to_hubspot",
    )
    assert "Property values were not valid" in error.message
    assert error.fields == ["salesforce_campaigns"]
    assert error.values == {"salesforce_campaigns": "Roadshow"}

    # An unrelated edit syncs the person: its campaigns still aren't there, nor is it over.
    sf_person.Lead.update(lead, {"Title": "CFO"})
    cycle()
    assert campaigns(hs_person, contact) == ""
    assert campaign_errors(integration) == [error]

    # Retried from Sync health: the campaigns are read again and written; the error ends.
    sync_errors_request_resync(integration=integration, error_ids=[error.pk])
    cycle()
    assert campaigns(hs_person, contact) == "Roadshow"
    assert campaign_errors(integration) == []


def test_a_campaigns_retry_refused_again_waits_longer(
    cycle, integration, emulators, sf_person, hs_person
):
    lead = new_lead(sf_person, Email="again@example.com")
    cycle()
    join(sf_person, campaign(sf_person, "Expo"), LeadId=lead)
    refuse_next_contact_update(emulators)
    cycle()
    [error] = campaign_errors(integration)
    sync_errors_request_resync(integration=integration, error_ids=[error.pk])
    refuse_next_contact_update(emulators)
    cycle()
    [again] = campaign_errors(integration)
    assert again.pk == error.pk and again.attempts == 2


# --- nothing kept for people who never link -------------------------------------------------
def unlinked_members(cycle, sf_person, name: str, *emails: str) -> list[str]:
    """New leads (``emails``) in campaign ``name``, read by a cycle that links none of them
    (Salesforce's *Create or update* off): their ids."""
    cycle()
    cycle.settings(salesforce_create_update="nothing")
    fair = campaign(sf_person, name)
    people = [new_lead(sf_person, Email=email) for email in emails]
    for person in people:
        join(sf_person, fair, LeadId=person)
    cycle()
    return people


def test_people_never_linked_leave_nothing_behind_and_a_late_link_still_gets_its_campaigns(
    cycle, integration, emulators, sf_person, hs_person
):
    emails = [f"never{i}@example.com" for i in range(3)]
    *never, late = unlinked_members(cycle, sf_person, "Job Fair", *emails, "late@example.com")
    # No cursor row keeps the unlinked people (it would grow with every one never linked);
    # the change streams' own rows keep only their read window's versions.
    kept = " ".join(
        str(row.seen)
        for row in SyncCursor.objects.filter(integration=integration).exclude(
            stream__startswith="salesforce:"
        )
    )
    assert not any(person in kept for person in [*never, late]), kept

    advance_clocks(emulators, 40 * 86400)  # linked long after its membership was read
    cycle.settings(salesforce_create_update="create_or_update")
    sf_person.Lead.update(late, {"Title": "CEO"})
    cycle()
    contact = cycle.link(salesforce_id=late).hubspot_id
    assert campaigns(hs_person, contact) == "Job Fair"


def test_contacts_linked_in_a_cycle_are_looked_up_in_one_read(
    cycle, integration, emulators, sf_person, hs_person
):
    people = unlinked_members(
        cycle, sf_person, "Open Day", *(f"batch{i}@example.com" for i in range(5))
    )
    cycle.settings(salesforce_create_update="create_or_update")
    for person in people:
        sf_person.Lead.update(person, {"Title": "VP"})
    run = cycle()
    for person in people:
        assert campaigns(hs_person, cycle.link(salesforce_id=person).hubspot_id) == "Open Day"
    updates = ApiCall.objects.filter(run=run.pk, operation="contacts.batch.update").count()
    assert updates == 1  # the five campaigns in one write


# --- a company outside the company inclusion list takes no lifecycle stage ------------------
def test_a_company_outside_the_company_inclusion_list_is_not_moved(
    cycle, integration, emulators, sf_person, hs_person
):
    opp, account, contact, hs_contact, company = contact_of_a_synced_company(
        cycle, emulators, integration, sf_person, "listed@example.com"
    )
    list_id = company_list(emulators)
    object_settings_update(
        integration=integration, object_name="companies", changes={"inclusion_list_id": list_id}
    )
    sf = emulators.salesforce.app
    sf.run_action("add_contact_role", opportunity_id=opp, contact_id=contact)
    run = cycle()
    assert stage(hs_person, hs_contact) == "opportunity"  # the contact itself moves
    assert company_stage(hs_person, company) is None
    assert run.counts.get("skipped_outside_list") == 1, run.counts
    assert not SyncError.objects.filter(resolved_at__isnull=True).exists()

    # In the list, the company follows its contact again.
    hs_company_update(hs_person, company, linkedinbio="please sync")
    sf.run_action("set_stage", opportunity_id=opp, stage="Closed Won")
    cycle()
    assert (stage(hs_person, hs_contact), company_stage(hs_person, company)) == (
        "customer",
        "customer",
    )
