"""Tickets ⇄ cases, reviewed as an admin who works in both apps every day: a stage moved in
HubSpot while the case is edited, and a case process (record type) added after setup."""

from __future__ import annotations

from hubspot.crm.tickets import SimplePublicObjectInput

from sync_engine.models import FieldMapping, SchemaCache, SyncError

from .conftest import Tickets
from .test_tickets import associated, ticket


def test_a_stage_moved_in_hubspot_survives_an_edit_of_another_case_field(
    tickets: Tickets, sf_person, hs_person
):
    """Status ⇄ stage two-way: an agent moves the ticket to Escalated in HubSpot while
    someone edits the case's subject in Salesforce. The subject reaches the ticket, the
    ticket keeps Escalated, and the case follows it (never the case's old status back)."""
    FieldMapping.objects.filter(object="tickets", hubspot_property="hs_pipeline_stage").update(
        rule="two_way"
    )
    case = sf_person.Case.create({"Subject": "Both", "Status": "New"})["id"]
    tickets()
    ticket_id = tickets.link(salesforce_id=case).hubspot_id
    stages = tickets.options["pipelines"]["master"]["stages"]
    hs_person.crm.tickets.basic_api.update(
        ticket_id, SimplePublicObjectInput(properties={"hs_pipeline_stage": stages["Escalated"]})
    )
    sf_person.Case.update(case, {"Subject": "Both, edited"})
    tickets()
    tickets()
    props = ticket(hs_person, ticket_id, "subject", "hs_pipeline_stage")
    assert props["subject"] == "Both, edited"
    assert props["hs_pipeline_stage"] == stages["Escalated"]
    assert sf_person.Case.get(case)["Status"] == "Escalated"


def test_a_record_type_added_after_setup_puts_its_cases_in_their_own_pipeline(
    tickets: Tickets, sf_person, hs_person, emulators
):
    """The org had no case record types when ticket sync started (Salesforce then has no
    RecordTypeId field). Once one is added, its cases go to their own pipeline, those
    already synced into the master pipeline included, within the hour."""
    early = sf_person.Case.create({"Subject": "Before", "Status": "New"})["id"]
    tickets()
    master = tickets.options["pipelines"]["master"]
    hardware = emulators.salesforce.app.run_action(
        "add_record_type", object="Case", label="Hardware"
    )
    moved = sf_person.Case.create({"Subject": "Disk", "Status": "Working"})["id"]
    assert sf_person.Case.get(moved)["RecordTypeId"] == hardware
    tickets()  # within the hour: not looked for yet
    # An hour later.
    SchemaCache.objects.filter(object="Case").update(
        fetched_at=SchemaCache.objects.get(object="Case").fetched_at.replace(year=2020)
    )
    run = tickets()
    assert run.counts["pipelines_created"] == 1, run.counts
    pipelines = tickets.options["pipelines"]
    assert pipelines[hardware]["label"] == "Hardware"
    props = ticket(
        hs_person, tickets.link(salesforce_id=moved).hubspot_id, "hs_pipeline", "hs_pipeline_stage"
    )
    assert props["hs_pipeline"] == pipelines[hardware]["pipeline"]
    assert props["hs_pipeline_stage"] == pipelines[hardware]["stages"]["Working"]
    props = ticket(hs_person, tickets.link(salesforce_id=early).hubspot_id, "hs_pipeline")
    assert props["hs_pipeline"] == master["pipeline"]
    idle = tickets()
    assert idle.calls == {"salesforce": 1, "hubspot": 0}


def test_contact_associations_turned_on_after_setup_reach_existing_tickets(
    tickets: Tickets, sf_person, hs_person
):
    """Set up with contact associations off; the admin turns them on later in the settings.
    Tickets synced before get their contact without their case having to change."""
    tickets.settings(sync_contact_association=False)
    contact = sf_person.Contact.create({"LastName": "Later", "Email": "later@x.example"})["id"]
    tickets("contacts")
    case = sf_person.Case.create({"Subject": "Old", "Status": "New", "ContactId": contact})["id"]
    plain = sf_person.Case.create({"Subject": "No contact", "Status": "New"})["id"]
    tickets()
    ticket_id = tickets.link(salesforce_id=case).hubspot_id
    assert associated(hs_person, ticket_id, "contacts") == []

    tickets.settings(sync_contact_association=True)
    tickets()
    assert associated(hs_person, ticket_id, "contacts") == [
        tickets.links("contacts").get(salesforce_id=contact).hubspot_id
    ]
    assert associated(hs_person, tickets.link(salesforce_id=plain).hubspot_id, "contacts") == []
    idle = tickets()
    assert idle.calls == {"salesforce": 1, "hubspot": 0}

    # A case whose contact hasn't synced waits; turned off again, the wait ends with it.
    unsynced = sf_person.Contact.create({"LastName": "New", "Email": "new@x.example"})["id"]
    sf_person.Case.update(plain, {"ContactId": unsynced})
    tickets()
    waiting = SyncError.objects.filter(object="tickets", resolved_at__isnull=True)
    assert list(waiting.values_list("error_type", "salesforce_id")) == [
        ("waiting_for_contact", plain)
    ]
    tickets.settings(sync_contact_association=False)
    tickets()
    assert not waiting.exists()
