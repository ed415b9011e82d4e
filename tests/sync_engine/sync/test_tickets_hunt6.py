"""Tickets ⇄ cases (spec §14), hunted further: which ticket stages are closed follows
Salesforce's ``CaseStatus`` (``IsClosed``), not whether a status's name says "closed", end to
end through the official clients and the emulators."""

from __future__ import annotations

from hubspot.crm.tickets import SimplePublicObjectInput

from emulators.testing import advance_clocks
from sync_engine.models import ApiCall, FieldMapping

from ..conftest import SF_TOKEN


def ticket_states(hs, pipeline_id: str) -> dict[str, str]:
    """Stage label -> its ticket state (OPEN / CLOSED), as HubSpot's reports read them."""
    pipeline = hs.crm.pipelines.pipelines_api.get_by_id("tickets", pipeline_id)
    return {s.label: (s.metadata or {}).get("ticketState") for s in pipeline.stages}


def status_queries() -> int:
    return ApiCall.objects.filter(system="salesforce").count()


def test_closed_statuses_without_closed_in_their_name_get_closed_stages(
    tickets,
    sf_person,
    hs_person,
    emulators,
):
    """An org that closes cases as "Resolved" (and "Duplicate", added in Setup after the
    pipeline was made): their tickets sit in closed stages, so HubSpot counts them closed."""
    emulators.salesforce.app.run_action("set_case_status", value="Resolved", closed=True)
    emulators.salesforce.app.run_action("set_case_status", value="Waiting on Customer")
    case = sf_person.Case.create({"Subject": "Printer", "Status": "Resolved"})["id"]
    tickets()
    entry = tickets.options["pipelines"]["master"]
    states = ticket_states(hs_person, entry["pipeline"])
    assert states == {
        "New": "OPEN",
        "Working": "OPEN",
        "Escalated": "OPEN",
        "Closed": "CLOSED",
        "Resolved": "CLOSED",
        "Waiting on Customer": "OPEN",
    }
    ticket_id = tickets.link(salesforce_id=case).hubspot_id
    stage = hs_person.crm.tickets.basic_api.get_by_id(ticket_id, properties=["hs_pipeline_stage"])
    assert stage.properties["hs_pipeline_stage"] == entry["stages"]["Resolved"]
    # Read once: an idle cycle asks Salesforce for case changes only.
    idle = tickets()
    assert idle.calls == {"salesforce": 1, "hubspot": 0}

    # A closed status added in Setup after the pipeline was made gets a closed stage too.
    emulators.salesforce.app.run_action("set_case_status", value="Duplicate", closed=True)
    sf_person.Case.update(case, {"Status": "Duplicate"})
    run = tickets()
    assert run.counts["stages_created"] == 1, run.counts
    assert ticket_states(hs_person, entry["pipeline"])["Duplicate"] == "CLOSED"


def test_a_ticket_moved_to_a_closed_stage_closes_its_case(
    tickets,
    sf_person,
    hs_person,
    emulators,
):
    """With the stage two-way, an agent resolving the ticket in HubSpot resolves the case:
    its status is the one of that stage, which Salesforce counts as closed."""
    emulators.salesforce.app.run_action("set_case_status", value="Resolved", closed=True)
    FieldMapping.objects.filter(object="tickets", hubspot_property="hs_pipeline_stage").update(
        rule="two_way"
    )
    case = sf_person.Case.create({"Subject": "Printer", "Status": "New"})["id"]
    tickets()
    entry = tickets.options["pipelines"]["master"]
    assert ticket_states(hs_person, entry["pipeline"])["Resolved"] == "CLOSED"
    ticket_id = tickets.link(salesforce_id=case).hubspot_id
    hs_person.crm.tickets.basic_api.update(
        ticket_id,
        SimplePublicObjectInput(properties={"hs_pipeline_stage": entry["stages"]["Resolved"]}),
    )
    advance_clocks(emulators, seconds=5)
    run = tickets()
    assert run.counts["updated_in_salesforce"] == 1, run.counts
    record = sf_person.Case.get(case)
    assert record["Status"] == "Resolved" and record["IsClosed"] is True


def test_without_access_to_case_statuses_the_names_decide_and_cases_still_sync(
    tickets,
    sf_person,
    hs_person,
    emulators,
):
    """An integration user who can't read CaseStatus: "Closed" is still a closed stage (its
    name says so), the cases sync, and the refusal isn't asked again every cycle."""
    emulators.salesforce.app.run_action(
        "set_record_access", access="none", object="CaseStatus", token=SF_TOKEN
    )
    case = sf_person.Case.create({"Subject": "Printer", "Status": "Closed"})["id"]
    run = tickets()
    assert run.counts["created_in_hubspot"] == 1, run.counts
    entry = tickets.options["pipelines"]["master"]
    states = ticket_states(hs_person, entry["pipeline"])
    assert states["Closed"] == "CLOSED" and states["New"] == "OPEN"
    ticket_id = tickets.link(salesforce_id=case).hubspot_id
    stage = hs_person.crm.tickets.basic_api.get_by_id(ticket_id, properties=["hs_pipeline_stage"])
    assert stage.properties["hs_pipeline_stage"] == entry["stages"]["Closed"]
    sf_person.Case.update(case, {"Status": "On Hold"})  # a new stage: no second CaseStatus read
    run = tickets()
    assert run.counts["stages_created"] == 1 and run.calls["salesforce"] == 1, (
        run.counts,
        run.calls,
    )
    assert ticket_states(hs_person, entry["pipeline"])["On Hold"] == "OPEN"
