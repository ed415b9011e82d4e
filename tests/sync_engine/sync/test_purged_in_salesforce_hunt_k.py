"""A linked Salesforce record gone even from the recycle bin (hard-deleted, or purged from
it): its deletion never reaches the change streams (``queryAll`` no longer returns it). What
finds it gone (a read of the partner by id, or a write Salesforce refuses) handles it as the
stream would have handled its delete, by the pair's delete rule: the link goes, no error is
left that no retry can mend, and nothing deleted is made again by an edit older than that."""

from __future__ import annotations

import time

import pytest
from django.utils import timezone
from hubspot.crm.tickets import SimplePublicObjectInput as TicketInput

from sync_engine.models import FieldMapping, SyncError

from .helpers import hs_update, new_lead
from .test_companies import hs_company_ids
from .test_companies_review import hs_contact_at
from .test_custom_objects import projects  # noqa: F401  (the fixture)
from .test_deleted_mid_cycle_hunt_i import deleted_while_written
from .test_tickets import ticket_ids


def hard_delete(sf, sobject: str, record_id: str) -> None:
    (job,) = getattr(sf.bulk2, sobject).hard_delete(records=[{"Id": record_id}], wait=0)
    assert job["numberRecordsFailed"] == 0, job


def everywhere(sf, sobject: str) -> int:
    """How many records of ``sobject`` Salesforce has, its recycle bin included."""
    return sf.query_all(f"SELECT Id FROM {sobject}", include_deleted=True)["totalSize"]  # noqa: S608


def open_errors(integration):
    return SyncError.objects.filter(integration=integration, resolved_at__isnull=True)


def retries_due(integration) -> None:
    open_errors(integration).update(next_retry_at=timezone.now())  # 20 minutes on


def two_way_ticket(tickets, sf_person) -> tuple[str, str]:
    """A case whose ticket's subject is two-way: (case, ticket)."""
    FieldMapping.objects.filter(object="tickets", hubspot_property="subject").update(rule="two_way")
    case = sf_person.Case.create({"Subject": "Original", "Status": "New"})["id"]
    tickets()
    return case, tickets.link(salesforce_id=case).hubspot_id


def edit_ticket(hs, ticket_id: str, subject: str) -> None:
    hs.crm.tickets.basic_api.update(ticket_id, TicketInput(properties={"subject": subject}))


@pytest.mark.parametrize("setting", ["delete", "nothing"])
def test_a_two_way_ticket_edit_after_its_case_was_purged_leaves_no_endless_error(
    tickets, integration, sf_person, hs_person, setting
):
    tickets.settings(salesforce_delete=setting)
    case, ticket_id = two_way_ticket(tickets, sf_person)
    hard_delete(sf_person, "Case", case)

    edit_ticket(hs_person, ticket_id, "Edited after the purge")
    run = tickets()
    assert not run.counts.get("failed"), run.counts
    assert run.counts["links_removed"] == 1, run.counts
    assert not open_errors(integration).exists(), list(open_errors(integration).values())
    assert not tickets.links().exists()
    if setting == "delete":  # as the case's delete, read by the stream, would have done
        assert run.counts["deleted_in_hubspot"] == 1, run.counts
        assert ticket_id not in ticket_ids(hs_person)
    else:
        assert ticket_id in ticket_ids(hs_person)

    # Tickets never create cases: a later edit, or a retry, makes none and fails nothing.
    if setting == "nothing":
        edit_ticket(hs_person, ticket_id, "Edited again")
    retries_due(integration)
    run = tickets()
    assert not run.counts.get("failed") and not run.counts.get("created_in_salesforce")
    assert not open_errors(integration).exists()
    assert everywhere(sf_person, "Case") == 0


def test_a_two_way_edit_of_a_case_in_the_recycle_bin_is_still_left_to_the_case_stream(
    tickets, integration, sf_person, hs_person
):
    """Deleted (recycle bin) as its ticket is edited: the case stream's delete handling
    archives the ticket (*Delete ticket*), as before."""
    tickets.settings(salesforce_delete="delete")
    case, ticket_id = two_way_ticket(tickets, sf_person)
    sf_person.Case.delete(case)
    edit_ticket(hs_person, ticket_id, "Edited as it was deleted")
    run = tickets()
    assert run.counts["deleted_in_hubspot"] == 1, run.counts
    assert not run.counts.get("failed"), run.counts
    assert ticket_id not in ticket_ids(hs_person) and not tickets.links().exists()
    assert everywhere(sf_person, "Case") == 1  # still in the recycle bin
    assert not open_errors(integration).exists()


@pytest.mark.parametrize("sobject", ["Lead", "Contact"])
def test_a_purged_person_deletes_its_contact_when_salesforce_deletes_delete(
    cycle, integration, sf_person, hs_person, sobject
):
    """With *Delete*, a lead or contact hard-deleted in Salesforce takes its HubSpot contact
    along once its edit finds it gone, as its delete read from the stream would: it is not
    kept, unlinked, and made a new lead by its next edit."""
    cycle.settings(salesforce_delete="delete")
    fields = {"LastName": "Purged", "Email": "purged@example.com", "Company": "Acme"}
    if sobject == "Contact":
        fields.pop("Company")
    person = getattr(sf_person, sobject).create(fields)["id"]
    cycle()
    contact = cycle.link(salesforce_id=person).hubspot_id
    hard_delete(sf_person, sobject, person)

    hs_update(hs_person, contact, jobtitle="Edited after the purge")
    run = cycle()
    assert run.counts["deleted_in_hubspot"] == 1, run.counts
    assert run.counts["links_removed"] == 1, run.counts
    assert not hs_person.crm.contacts.basic_api.get_page(limit=10).results
    cycle()
    assert everywhere(sf_person, "Lead") + everywhere(sf_person, "Contact") == 0
    assert not open_errors(integration).exists()


def test_a_purged_lead_s_contact_with_do_nothing_creates_a_lead_when_next_edited(
    cycle, integration, sf_person, hs_person
):
    """The default (*Do nothing*): the link goes and the contact stays; as after any
    Salesforce delete, its next edit makes a new lead by the creation rules."""
    lead = new_lead(sf_person, Email="kept@example.com")
    cycle()
    contact = cycle.link(salesforce_id=lead).hubspot_id
    hard_delete(sf_person, "Lead", lead)
    hs_update(hs_person, contact, jobtitle="Edited after the purge", company="Acme")
    run = cycle()
    assert run.counts["links_removed"] == 1 and not run.counts.get("deleted_in_hubspot")
    hs_update(hs_person, contact, jobtitle="Edited again")
    run = cycle()
    assert run.counts["created_in_salesforce"] == 1, run.counts
    assert cycle.link(hubspot_id=contact).salesforce_id != lead
    assert everywhere(sf_person, "Lead") == 1 and not open_errors(integration).exists()


def test_a_purged_account_deletes_its_company_when_salesforce_deletes_delete(
    companies, integration, sf_person, hs_person
):
    """With *Delete*, an account hard-deleted in Salesforce takes its company along once a
    company edit finds it gone, and no account is made for the company again (it had a
    contact that made it one)."""
    contact, company = hs_contact_at(
        companies, hs_person, "Purged Co", email="pat@purged.example", lastname="P"
    )
    companies.both()
    companies.both()
    account = companies.link(hubspot_id=str(company)).salesforce_id
    companies.settings(salesforce_delete="delete")
    hard_delete(sf_person, "Account", account)

    hs_person.crm.companies.basic_api.update(
        company, {"properties": {"description": "Edited after the purge"}}
    )
    run, _ = companies.both()
    assert run.counts["deleted_in_hubspot"] == 1, run.counts
    assert not run.counts.get("created_in_salesforce"), run.counts
    assert str(company) not in hs_company_ids(hs_person)
    assert not companies.links().exists()
    companies.both()
    assert everywhere(sf_person, "Account") == 0


def test_a_lead_purged_while_a_hubspot_edit_is_written_leaves_no_endless_error(
    cycle, integration, emulators, sf_person, hs_person
):
    """The write Salesforce refuses for a record gone for good is read once more (queryAll):
    gone, it is handled as deleted then and there, not left an error whose retry makes the
    purged lead again from an edit older than the purge."""
    lead = new_lead(sf_person, Email="purged@example.com", LastName="Purged")
    cycle()
    contact = cycle.link(salesforce_id=lead).hubspot_id
    hs_update(hs_person, contact, jobtitle="Edited before the purge")
    rep = deleted_while_written(emulators, lambda: hard_delete(sf_person, "Lead", lead))
    run = cycle()
    rep.join(30)
    assert not run.counts.get("failed"), run.counts
    assert run.counts["links_removed"] == 1, run.counts
    assert not open_errors(integration).exists(), list(open_errors(integration).values())
    retries_due(integration)
    cycle()
    assert everywhere(sf_person, "Lead") == 0, "the lead the rep purged was made again"


def test_a_project_purged_before_a_hubspot_edit_follows_the_delete_rule(
    projects,  # noqa: F811
    integration,
    sf_person,
):
    """Custom objects already read the partner with its deleted ones: a purged project's
    record is archived with "a Salesforce delete deletes in HubSpot"."""
    projects.settings(salesforce_delete="delete")
    project = sf_person.Project__c.create({"Name": "Purged project"})["id"]
    projects()
    record = projects.link(salesforce_id=project).hubspot_id
    hard_delete(sf_person, "Project__c", project)
    time.sleep(1.1)  # the edit is stamped after the sync's own write
    projects.update(record, project_name="Edited after the purge")
    run = projects()
    assert run.counts["deleted_in_hubspot"] == 1, run.counts
    assert record not in projects.ids() and not projects.links().exists()
    assert everywhere(sf_person, "Project__c") == 0 and not open_errors(integration).exists()
