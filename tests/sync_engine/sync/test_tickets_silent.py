"""Tickets ⇄ cases with two-way mappings: a ticket edit that can't reach its case keeps saying
so (spec §19: honest about every record it could not sync). A stage no case status maps to
stays an error while the ticket is in it, whatever else of the case syncs meanwhile; a field
that became read-only for the integration user is a *Field permission* error, as for
contacts. Scenario tests through the official clients and the emulators."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone
from hubspot.crm.tickets import SimplePublicObjectInput

from emulators.testing import advance_clocks
from sync_engine.models import FieldMapping, SchemaCache, SyncError

from .conftest import Tickets
from .helpers import due_now
from .test_tickets import (
    WAITING_ON_CONTACT,
    WAITING_ON_US,
    stuck_in_an_unmapped_stage,
    ticket,
    ticket_edit_refused,
    unknown_stage_error,
)


def test_an_unmapped_stage_stays_an_error_until_a_case_write_overwrites_the_stage(
    tickets: Tickets, sf_person, hs_person, emulators
):
    """Someone edits the case's subject in Salesforce: the subject reaches the ticket, which
    stays in its stage, so the case still can't follow it and the error stays open (it
    ended as synced before). Once the case's status changes after the ticket's move, the
    later change wins: the ticket goes to that status's stage and nothing is left to fix."""
    case, ticket_id, _ = stuck_in_an_unmapped_stage(tickets, sf_person, hs_person)
    error = unknown_stage_error(ticket_id)
    sf_person.Case.update(case, {"Subject": "Stuck, edited"})
    run = tickets()
    assert run.counts["updated_in_hubspot"] == 1, run.counts
    props = ticket(hs_person, ticket_id, "subject", "hs_pipeline_stage")
    assert props["subject"] == "Stuck, edited"
    assert props["hs_pipeline_stage"] == WAITING_ON_CONTACT
    assert sf_person.Case.get(case)["Status"] == "New"
    tickets()  # the subject's write comes back
    error.refresh_from_db()
    assert error.resolved_at is None, error.ended_because
    assert SyncError.objects.filter(object="tickets", code="UNKNOWN_STAGE").count() == 1

    advance_clocks(emulators, 2)  # Salesforce stamps whole seconds
    sf_person.Case.update(case, {"Status": "Closed"})
    tickets()
    assert ticket(hs_person, ticket_id, "hs_pipeline_stage")["hs_pipeline_stage"] == "4"
    error.refresh_from_db()
    assert error.resolved_at is not None
    tickets()
    assert not SyncError.objects.filter(object="tickets", resolved_at__isnull=True).exists()


def test_an_unmapped_stage_moved_after_the_case_status_keeps_its_error(
    tickets: Tickets, sf_person, hs_person, emulators
):
    """The case's status changed, then the agent moved the ticket to another unmapped stage:
    the ticket's later move wins over the status, so the ticket keeps it and its error."""
    case, ticket_id, _ = stuck_in_an_unmapped_stage(tickets, sf_person, hs_person)
    error = unknown_stage_error(ticket_id)
    sf_person.Case.update(case, {"Status": "Closed", "Subject": "Closed meanwhile"})
    advance_clocks(emulators, 2)
    hs_person.crm.tickets.basic_api.update(
        ticket_id, SimplePublicObjectInput(properties={"hs_pipeline_stage": WAITING_ON_US})
    )
    tickets()
    tickets()
    props = ticket(hs_person, ticket_id, "subject", "hs_pipeline_stage")
    assert props == {**props, "subject": "Closed meanwhile", "hs_pipeline_stage": WAITING_ON_US}
    error.refresh_from_db()
    assert error.resolved_at is None, error.ended_because
    assert "Waiting on us" in error.message


def an_hour_later() -> None:
    """The cycle reads the Case describe again (hourly)."""
    SchemaCache.objects.filter(object="Case").update(fetched_at=timezone.now() - timedelta(hours=2))


def test_a_two_way_field_the_integration_user_may_no_longer_edit_is_a_field_permission_error(
    tickets: Tickets, sf_person, hs_person, emulators, sf_connection
):
    """An admin takes edit access to Case.Subject away from the integration user (field-level
    security). An agent's subject edit in HubSpot can't reach the case: the ticket says so
    with a *Field permission* error naming the field and the fix (it used to vanish without
    a word), its other edit goes, and the error lasts until the subject can go."""
    FieldMapping.objects.filter(
        object="tickets", hubspot_property__in=["subject", "content"]
    ).update(rule="two_way")
    case = sf_person.Case.create({"Subject": "Editable", "Description": "First", "Status": "New"})[
        "id"
    ]
    tickets()
    ticket_id = tickets.link(salesforce_id=case).hubspot_id

    def grant(access: str) -> None:
        emulators.salesforce.app.run_action(
            "set_field_permission",
            object="Case",
            field="Subject",
            access=access,
            token=sf_connection.access_token,
        )
        an_hour_later()

    grant("read")
    hs_person.crm.tickets.basic_api.update(
        ticket_id,
        SimplePublicObjectInput(properties={"subject": "Renamed in HubSpot", "content": "Second"}),
    )
    run = tickets()
    record = sf_person.Case.get(case)
    assert (record["Subject"], record["Description"]) == ("Editable", "Second")
    error = SyncError.objects.get(object="tickets", resolved_at__isnull=True)
    assert (error.record_key, error.error_type) == (f"hubspot:{ticket_id}", "field_permission")
    assert error.fields == ["Subject"] and "Subject" in error.message
    assert "field-level security" in error.message
    assert run.counts["failed"] == 1, run.counts

    # The case's status changes: it reaches the ticket, which still holds its subject edit.
    sf_person.Case.update(case, {"Status": "Closed"})
    tickets()
    tickets()
    assert ticket(hs_person, ticket_id, "subject")["subject"] == "Renamed in HubSpot"
    error.refresh_from_db()
    assert error.resolved_at is None, error.ended_because

    # Edit access back: the retry carries the subject to the case and the error ends.
    grant("edit")
    due_now(error)
    tickets()
    assert sf_person.Case.get(case)["Subject"] == "Renamed in HubSpot"
    error.refresh_from_db()
    assert error.resolved_at is not None
    assert not SyncError.objects.filter(object="tickets", resolved_at__isnull=True).exists()


def test_a_subject_a_validation_rule_refused_stays_an_error_while_the_ticket_holds_it(
    tickets: Tickets, sf_person, hs_person, emulators
):
    """A validation rule refuses an agent's subject edit: the ticket's error stays open when
    the case's status then reaches the ticket (the ticket still holds the refused subject),
    and ends once the subject lands."""
    case, ticket_id, error, _ = ticket_edit_refused(tickets, sf_person, hs_person, emulators)

    sf_person.Case.update(case, {"Status": "Working"})
    tickets()
    tickets()
    assert sf_person.Case.get(case)["Subject"] == "Original"
    error.refresh_from_db()
    assert error.resolved_at is None, error.ended_because

    hs_person.crm.tickets.basic_api.update(
        ticket_id, SimplePublicObjectInput(properties={"subject": "Refund request"})
    )
    advance_clocks(emulators, 5)
    tickets()
    assert sf_person.Case.get(case)["Subject"] == "Refund request"
    error.refresh_from_db()
    assert error.resolved_at is not None


def test_a_held_ticket_edit_keeps_only_its_own_error_open(
    tickets: Tickets, sf_person, hs_person, emulators, sf_connection
):
    """The ticket holds a subject the integration user may not write; its description, once
    refused by a validation rule, is fixed and lands: that error ends, the subject's stays."""
    FieldMapping.objects.filter(
        object="tickets", hubspot_property__in=["subject", "content"]
    ).update(rule="two_way")
    emulators.salesforce.app.run_action(
        "add_validation_rule", object="Case", field="Description", operator="equals",
        value="TBD", message="Describe the problem", rule_name="Real_descriptions",
    )  # fmt: skip
    case = sf_person.Case.create({"Subject": "Printer", "Description": "Jams", "Status": "New"})
    tickets()
    ticket_id = tickets.link(salesforce_id=case["id"]).hubspot_id
    emulators.salesforce.app.run_action(
        "set_field_permission", object="Case", field="Subject", access="read",
        token=sf_connection.access_token,
    )  # fmt: skip
    an_hour_later()
    hs_person.crm.tickets.basic_api.update(
        ticket_id, SimplePublicObjectInput(properties={"subject": "Printer 2", "content": "TBD"})
    )
    tickets()
    open_errors = SyncError.objects.filter(object="tickets", resolved_at__isnull=True)
    assert set(open_errors.values_list("error_type", flat=True)) == {
        "field_permission",
        "salesforce_custom_code",
    }
    hs_person.crm.tickets.basic_api.update(
        ticket_id, SimplePublicObjectInput(properties={"content": "Jams on page 2"})
    )
    advance_clocks(emulators, 5)
    tickets()
    assert sf_person.Case.get(case["id"])["Description"] == "Jams on page 2"
    assert list(open_errors.values_list("error_type", flat=True)) == ["field_permission"]
