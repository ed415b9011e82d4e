"""Tickets ⇄ cases (spec §14) as a demanding admin uses them, end to end against the
emulators: how Sync health names the case behind each ticket error."""

from __future__ import annotations

from sync_engine.models import SyncError

from .test_tickets import (
    support_pipeline_new_and_closed_only,
    ticket,
    ticket_edit_refused,
    ticket_ids,
)


def test_ticket_errors_name_the_case_by_number_and_subject(
    tickets, sf_person, hs_person, emulators
):
    """Sync health lists an error by its record's label (else its raw key): a case's error
    by its number and subject, as its waits already were; a ticket's by the ticket's
    subject."""
    # An agent's two-way edit Salesforce refuses: the error is on the ticket.
    _case, _ticket, refused, _rule = ticket_edit_refused(tickets, sf_person, hs_person, emulators)
    assert refused.record_label == "Blocked by rule"

    support_pipeline_new_and_closed_only(tickets)  # no stage for Escalated
    case = sf_person.Case.create({"Subject": "Odd one", "Status": "Escalated"})["id"]
    tickets()
    error = SyncError.objects.get(salesforce_id=case, resolved_at__isnull=True)
    assert error.code == "NO_STAGE"
    number = sf_person.Case.get(case)["CaseNumber"]
    assert error.record_label == f"{number} Odd one"


def merged_into_a_new_case(tickets, sf_person) -> tuple[str, str]:
    """A synced case merged (Merge Cases, duplicates deleted) into one made since, not synced
    yet: (the survivor, the merged case's ticket)."""
    old = sf_person.Case.create({"Subject": "Printer jams", "Status": "New"})["id"]
    tickets()
    ticket_id = tickets.link(salesforce_id=old).hubspot_id
    new = sf_person.Case.create({"Subject": "Printer jams again", "Status": "Working"})["id"]
    tickets.emulators.salesforce.app.run_action(
        "merge", object="Case", master_id=new, loser_ids=[old]
    )
    return new, ticket_id


def test_a_synced_case_merged_into_a_new_one_keeps_its_ticket(tickets, sf_person, hs_person):
    """Merge Cases (duplicates deleted) into a case not synced yet: the master inherits the
    loser's ticket, which must follow it rather than a second ticket be made for it."""
    new, ticket_id = merged_into_a_new_case(tickets, sf_person)
    tickets()
    assert ticket_ids(hs_person) == [ticket_id]
    assert tickets.link(salesforce_id=new).hubspot_id == ticket_id
    assert ticket(hs_person, ticket_id, "subject")["subject"] == "Printer jams again"
    sf_person.Case.update(new, {"Subject": "Printer fixed"})
    tickets()
    assert ticket_ids(hs_person) == [ticket_id]
    assert ticket(hs_person, ticket_id, "subject")["subject"] == "Printer fixed"


def test_a_merge_whose_ticket_key_could_not_be_moved_is_read_again_no_second_ticket(
    tickets, sf_person, hs_person
):
    from sync_engine.sync.cycle import sync_cycle_run

    new, ticket_id = merged_into_a_new_case(tickets, sf_person)
    faults = tickets.emulators.hubspot.app.faults
    faults.add(path=r"^/crm/v3/objects/tickets/batch/update$", error_code="BAD_GATEWAY", times=20)
    run = sync_cycle_run(integration=tickets.integration, object_name="tickets")
    assert run.status == "failed"
    faults.clear()
    tickets()
    assert ticket_ids(hs_person) == [ticket_id]
    assert tickets.link(salesforce_id=new).hubspot_id == ticket_id
