"""Tickets ⇄ cases (spec §14), hunted further: a two-way ticket stage that several case
statuses share, end to end through the official clients and the emulators."""

from __future__ import annotations

from hubspot.crm.tickets import SimplePublicObjectInput

from emulators.testing import advance_clocks
from sync_engine.models import FieldMapping

NEW, WAITING_ON_US, CLOSED = "1", "3", "4"  # HubSpot's Support Pipeline stages


def ticket_moved_in_hubspot(tickets, sf_person, hs_person, emulators, *, stages, to):
    """A new case synced two-way through the Master process's ``stages`` (status -> stage),
    then its ticket moved in HubSpot to stage ``to`` and a cycle run: (case, ticket, run)."""
    tickets.settings(
        pipelines={
            "master": {"label": "Master", "pipeline": "0", "stages": stages, "managed": False}
        }
    )
    FieldMapping.objects.filter(object="tickets", hubspot_property="hs_pipeline_stage").update(
        rule="two_way"
    )
    case = sf_person.Case.create({"Subject": "Printer", "Status": "New"})["id"]
    tickets()
    ticket_id = tickets.link(salesforce_id=case).hubspot_id
    hs_person.crm.tickets.basic_api.update(
        ticket_id, SimplePublicObjectInput(properties={"hs_pipeline_stage": to})
    )
    advance_clocks(emulators, seconds=5)
    return case, ticket_id, tickets()


def test_a_stage_several_statuses_share_sets_the_first_of_them_on_the_case(
    tickets,
    sf_person,
    hs_person,
    emulators,
):
    """Working and Escalated both show as "Waiting on us". An agent moving a new ticket to
    "Waiting on us" means work started: the case becomes Working (the first of those
    statuses in Salesforce's order), never Escalated."""
    case, ticket_id, run = ticket_moved_in_hubspot(
        tickets,
        sf_person,
        hs_person,
        emulators,
        stages={"New": NEW, "Working": WAITING_ON_US, "Escalated": WAITING_ON_US, "Closed": CLOSED},
        to=WAITING_ON_US,
    )
    assert run.counts["updated_in_salesforce"] == 1, run.counts
    assert sf_person.Case.get(case)["Status"] == "Working"
    # The case's own later escalation still reaches the ticket (same stage: nothing to move).
    sf_person.Case.update(case, {"Status": "Escalated"})
    advance_clocks(emulators, seconds=5)
    tickets()
    assert sf_person.Case.get(case)["Status"] == "Escalated"
    stage = hs_person.crm.tickets.basic_api.get_by_id(ticket_id, properties=["hs_pipeline_stage"])
    assert stage.properties["hs_pipeline_stage"] == WAITING_ON_US
