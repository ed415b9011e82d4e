"""A Salesforce record with an open error whose HubSpot partner was deleted in HubSpot while
the error waited: its retry isn't a change of the record, so the delete stands (the error ends,
``gone_from_hubspot``, and nothing is made again); a real Salesforce change, or an admin's
Resync of the record, makes it again as each pair documents. Tickets follow their case: any
write of the case, a retry too, makes a deleted ticket again (docs/sync-engine.md, Tickets)."""

from __future__ import annotations

import pytest

from sync_engine.models import RecordLink, SyncError
from sync_engine.services import record_resync

from .helpers import due_now, hs_emails, new_lead
from .test_companies import hs_company_get, hs_company_ids
from .test_custom_objects import (
    Projects,
    deals_cycle,
    new_opportunity,
    opportunity_lookup_and_deals,
    set_up,
)
from .test_tickets import ticket, ticket_ids

REFUSED = {"status": "error", "category": "VALIDATION_ERROR",
           "message": "Property values were not valid"}  # fmt: skip


def refuse_update(emulators, hs_type: str, *, upsert: bool = False) -> None:
    """HubSpot refuses the next write of these records: the batch, then the record alone."""
    verb = "upsert" if upsert else "update"
    emulators.hubspot.app.faults.add(
        path=rf"/crm/v3/objects/{hs_type}/batch/{verb}$", method="POST", status=400,
        body=REFUSED, times=1 if upsert else 2,
    )  # fmt: skip


@pytest.fixture
def projects(integration, emulators, hs_person):
    """Salesforce's Project__c ⇄ a HubSpot custom object."""
    emulators.hubspot.app.configure_budget(search_per_second=1000)
    return Projects(integration, emulators, hs_person, *set_up(integration, hs_person))


def open_errors(object_name: str):
    return SyncError.objects.filter(object=object_name, resolved_at__isnull=True)


def refused_then_deleted(object_name: str, delete) -> SyncError:
    """The record's open error, due now, after its HubSpot partner was deleted (``delete``)."""
    error = open_errors(object_name).get()
    assert (error.error_type, error.direction) == ("property_value", "to_hubspot")
    delete()
    due_now(error)
    return error


def ended_gone(error: SyncError) -> None:
    error.refresh_from_db()
    assert error.resolved_at is not None
    assert error.ended_because == SyncError.EndedBecause.GONE_FROM_HUBSPOT
    assert not open_errors(error.object).exists()


# --- contacts ------------------------------------------------------------------------------
def lead_whose_contact_was_deleted_while_its_error_waited(cycle, emulators, sf_person, hs_person):
    lead = new_lead(sf_person, Email="kept@example.com", Title="Buyer")
    cycle()
    contact = cycle.link(salesforce_id=lead).hubspot_id
    refuse_update(emulators, "contacts")
    sf_person.Lead.update(lead, {"Title": "Head of Buying"})
    cycle()
    error = refused_then_deleted(
        "contacts", lambda: hs_person.crm.contacts.basic_api.archive(contact)
    )
    return lead, error


def test_a_retry_does_not_make_a_contact_deleted_in_hubspot_again(
    cycle, emulators, sf_person, hs_person
):
    lead, error = lead_whose_contact_was_deleted_while_its_error_waited(
        cycle, emulators, sf_person, hs_person
    )
    run = cycle()
    assert not run.counts.get("created_in_hubspot")
    assert hs_emails(hs_person) == []
    ended_gone(error)
    assert not RecordLink.objects.filter(salesforce_id=lead).exists()
    assert sf_person.Lead.get(lead)["Title"] == "Head of Buying"  # never deleted in Salesforce
    assert not cycle().counts.get("created_in_hubspot")

    # The lead changes in Salesforce: its contact is created again (docs: Deleting in HubSpot).
    sf_person.Lead.update(lead, {"Title": "Chief Buyer"})
    assert cycle().counts["created_in_hubspot"] == 1
    assert hs_emails(hs_person) == ["kept@example.com"]
    assert not open_errors("contacts").exists()


def test_an_admins_resync_of_a_lead_whose_contact_was_deleted_makes_it_again(
    cycle, emulators, integration, sf_person, hs_person
):
    lead, error = lead_whose_contact_was_deleted_while_its_error_waited(
        cycle, emulators, sf_person, hs_person
    )
    record_resync(integration=integration, object_name="contacts", record_key=f"salesforce:{lead}")
    assert cycle().counts["created_in_hubspot"] == 1
    assert hs_emails(hs_person) == ["kept@example.com"]
    error.refresh_from_db()
    assert error.resolved_at is not None and error.ended_because == SyncError.EndedBecause.SYNCED
    assert cycle.link(salesforce_id=lead)


# --- companies -----------------------------------------------------------------------------
def account_whose_company_was_deleted_while_its_error_waited(companies, emulators, sf_person, hs):
    account = sf_person.Account.create({"Name": "Globex"})["id"]
    companies()
    company = companies.link(salesforce_id=account).hubspot_id
    refuse_update(emulators, "companies")
    sf_person.Account.update(account, {"Industry": "Energy"})
    companies()
    error = refused_then_deleted("companies", lambda: hs.crm.companies.basic_api.archive(company))
    return account, error


def test_a_retry_does_not_make_a_company_deleted_in_hubspot_again(
    companies, emulators, sf_person, hs_person
):
    account, error = account_whose_company_was_deleted_while_its_error_waited(
        companies, emulators, sf_person, hs_person
    )
    run = companies()
    assert not run.counts.get("created_in_hubspot") and run.counts["links_removed"] == 1
    assert hs_company_ids(hs_person) == []
    ended_gone(error)
    assert not companies.links().exists()
    assert sf_person.Account.get(account)["Industry"] == "Energy"
    assert not companies().counts.get("created_in_hubspot")

    # The account changes: it creates a new company (docs: Companies, Deletes / merges).
    sf_person.Account.update(account, {"Name": "Globex Corp"})
    assert companies().counts["created_in_hubspot"] == 1
    company = companies.link(salesforce_id=account).hubspot_id
    assert hs_company_get(hs_person, company, "name")["name"] == "Globex Corp"
    assert not open_errors("companies").exists()


def test_an_admins_resync_of_an_account_whose_company_was_deleted_makes_it_again(
    companies, emulators, integration, sf_person, hs_person
):
    account, error = account_whose_company_was_deleted_while_its_error_waited(
        companies, emulators, sf_person, hs_person
    )
    record_resync(
        integration=integration, object_name="companies", record_key=f"salesforce:{account}"
    )
    assert companies().counts["created_in_hubspot"] == 1
    assert len(hs_company_ids(hs_person)) == 1
    error.refresh_from_db()
    assert error.resolved_at is not None and error.ended_because == SyncError.EndedBecause.SYNCED


# --- custom objects ------------------------------------------------------------------------
def project_whose_record_was_deleted_while_its_error_waited(projects, emulators, sf_person):
    project = sf_person.Project__c.create({"Name": "Kept"})["id"]
    projects()
    record = projects.link(salesforce_id=project).hubspot_id
    refuse_update(emulators, projects.type)
    sf_person.Project__c.update(project, {"Budget__c": 2.0})
    projects()
    error = refused_then_deleted(
        projects.name, lambda: projects.hs.crm.objects.basic_api.archive(projects.type, record)
    )
    return project, error


def test_a_retry_does_not_make_a_custom_record_deleted_in_hubspot_again(
    projects, emulators, sf_person
):
    project, error = project_whose_record_was_deleted_while_its_error_waited(
        projects, emulators, sf_person
    )
    run = projects()
    assert not run.counts.get("created_in_hubspot") and run.counts["links_removed"] == 1
    assert projects.ids() == []
    ended_gone(error)
    assert sf_person.Project__c.get(project)["Budget__c"] == 2  # HubSpot's "do nothing"
    assert not projects().counts.get("created_in_hubspot")

    # The project changes: a new HubSpot record (docs: Custom objects, Deletes).
    sf_person.Project__c.update(project, {"Budget__c": 3.0})
    assert projects().counts["created_in_hubspot"] == 1
    assert projects.get(projects.link(salesforce_id=project).hubspot_id)["budget"] == "3"
    assert not open_errors(projects.name).exists()


def test_an_admins_resync_of_a_project_whose_record_was_deleted_makes_it_again(
    projects, emulators, integration, sf_person
):
    project, error = project_whose_record_was_deleted_while_its_error_waited(
        projects, emulators, sf_person
    )
    record_resync(integration=integration, object_name=projects.name,
                  record_key=f"salesforce:{project}")  # fmt: skip
    assert projects().counts["created_in_hubspot"] == 1
    assert len(projects.ids()) == 1
    error.refresh_from_db()
    assert error.resolved_at is not None and error.ended_because == SyncError.EndedBecause.SYNCED


def test_a_project_deleted_in_hubspot_while_waiting_for_its_deal_is_not_made_again(
    integration, emulators, hs_person, sf_person
):
    """The wait's check (its opportunity's deal now exists) isn't a change either."""
    emulators.hubspot.app.configure_budget(search_per_second=1000)
    opportunity_lookup_and_deals(integration, emulators)
    hs_type, name = set_up(integration, hs_person, associations={"deals": "Opportunity__c"})
    projects = Projects(integration, emulators, hs_person, hs_type, name)
    opportunity = new_opportunity(sf_person, "Not synced yet")
    project = sf_person.Project__c.create({"Name": "Early", "Opportunity__c": opportunity})["id"]
    assert projects().counts["waiting_for_opportunity"] == 1
    waiting = open_errors(name).get()
    record = projects.link(salesforce_id=project).hubspot_id
    hs_person.crm.objects.basic_api.archive(hs_type, record)
    deals_cycle(integration)

    run = projects()
    assert not run.counts.get("created_in_hubspot")
    assert projects.ids() == []
    ended_gone(waiting)
    assert not projects.links().exists()

    # The project changes: a new record, associated with the deal it waited for.
    sf_person.Project__c.update(project, {"Budget__c": 5.0})
    assert projects().counts["created_in_hubspot"] == 1
    again = projects.link(salesforce_id=project).hubspot_id
    assert projects.associated(again, "deals") == [deals_cycle(integration)[opportunity]]
    assert not open_errors(name).exists()


# --- tickets: a ticket follows its case --------------------------------------------------
def test_a_retry_of_a_case_makes_its_deleted_ticket_again_and_ends_the_error(
    tickets, emulators, sf_person, hs_person
):
    """Tickets are the case's one-way copy: every write of the case, its retry too, is an
    upsert that makes a deleted ticket again (docs: Tickets, Creates)."""
    case = sf_person.Case.create({"Subject": "Phoenix", "Status": "Working"})["id"]
    tickets()
    refuse_update(emulators, "tickets", upsert=True)
    sf_person.Case.update(case, {"Priority": "Low"})
    tickets()
    error = refused_then_deleted(
        "tickets",
        lambda: hs_person.crm.tickets.basic_api.archive(
            tickets.link(salesforce_id=case).hubspot_id
        ),
    )
    run = tickets()
    assert run.counts["created_in_hubspot"] == 1
    (again,) = ticket_ids(hs_person)
    assert tickets.link(salesforce_id=case).hubspot_id == again
    props = ticket(hs_person, again, "subject", "hs_ticket_priority")
    assert (props["subject"], props["hs_ticket_priority"]) == ("Phoenix", "LOW")
    error.refresh_from_db()
    assert error.resolved_at is not None and not open_errors("tickets").exists()
    assert not tickets().counts.get("created_in_hubspot")
