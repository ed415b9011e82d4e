"""Tickets ⇄ cases (spec §14), hunted further: a two-way ticket stage shared by open and
closed case statuses sets the status as open or closed as the stage (its ticket state), end
to end through the official clients and the emulators."""

from __future__ import annotations

from hubspot.crm.tickets import SimplePublicObjectInput

from emulators.testing import advance_clocks

from .test_tickets_hunt3 import CLOSED, NEW, WAITING_ON_US, ticket_moved_in_hubspot


def test_a_ticket_closed_in_hubspot_closes_its_case_when_an_open_status_shares_the_stage(
    tickets,
    sf_person,
    hs_person,
    emulators,
):
    """An org closes cases as "Resolved"; "Awaiting Closure" (open: the customer has yet to
    confirm) comes first in Salesforce's order and shows on HubSpot's Closed stage too. An
    agent closing the ticket in HubSpot closes the case: Resolved, never the open status."""
    emulators.salesforce.app.run_action("set_case_status", value="Awaiting Closure")
    emulators.salesforce.app.run_action("set_case_status", value="Resolved", closed=True)
    case, ticket_id, run = ticket_moved_in_hubspot(
        tickets,
        sf_person,
        hs_person,
        emulators,
        stages={
            "New": NEW,
            "Working": WAITING_ON_US,
            "Escalated": WAITING_ON_US,
            "Awaiting Closure": CLOSED,
            "Resolved": CLOSED,
        },
        to=CLOSED,
    )
    assert run.counts["updated_in_salesforce"] == 1, run.counts
    record = sf_person.Case.get(case)
    assert (record["Status"], record["IsClosed"]) == ("Resolved", True)
    # The ticket stays closed; the next cycle has nothing to move either way.
    advance_clocks(emulators, seconds=5)
    tickets()
    stage = hs_person.crm.tickets.basic_api.get_by_id(ticket_id, properties=["hs_pipeline_stage"])
    assert stage.properties["hs_pipeline_stage"] == CLOSED
    assert sf_person.Case.get(case)["Status"] == "Resolved"

    # Moved back to an open stage its statuses share, the case reopens as the first of them.
    hs_person.crm.tickets.basic_api.update(
        ticket_id, SimplePublicObjectInput(properties={"hs_pipeline_stage": WAITING_ON_US})
    )
    advance_clocks(emulators, seconds=5)
    tickets()
    record = sf_person.Case.get(case)
    assert (record["Status"], record["IsClosed"]) == ("Working", False)
