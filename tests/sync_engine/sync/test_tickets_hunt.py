"""Tickets ⇄ cases (spec §14) as a demanding admin uses them, end to end against the
emulators: how Sync health names the case behind each ticket error."""

from __future__ import annotations

from sync_engine.models import SyncError

from . import test_tickets
from .test_tickets import support_pipeline_new_and_closed_only, ticket_edit_refused

tickets = test_tickets.tickets  # the fixture: ticket sync set up and on (contacts too)


def test_ticket_errors_name_the_case_by_number_and_subject(
    tickets, sf_person, hs_person, emulators
):
    """Sync health lists an error by its record's label (else its raw key): for a case,
    its number and subject, whichever side the error is on, as its waits already were."""
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
