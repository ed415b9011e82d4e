"""Tickets ⇄ cases (spec §14 step 4): a pipeline stage (or the pipeline) deleted in HubSpot
after the status → stage table was stored. The case's ticket must not fail at every edit
with HubSpot's "not one of the allowed options": our own pipeline gets the stage (or the
pipeline) made again, and a chosen pipeline's status asks for a stage on the Tickets tab.
End to end through the official clients and the emulators."""

from __future__ import annotations

from sync_engine.models import SyncError

from .conftest import Tickets
from .test_tickets import stage_labels, ticket
from .test_tickets_hunt3 import CLOSED, NEW, WAITING_ON_US


def open_errors() -> list[tuple[str, str]]:
    return list(
        SyncError.objects.filter(object="tickets", resolved_at__isnull=True).values_list(
            "error_type", "code"
        )
    )


def test_a_stage_deleted_from_our_pipeline_is_made_again_when_a_case_needs_it(
    tickets: Tickets, sf_person, hs_person
):
    """Nobody used "Escalated", so an admin deleted the stage from the pipeline the
    integration made. A case escalated later goes to a new "Escalated" stage."""
    case = sf_person.Case.create({"Subject": "Printer", "Status": "New"})["id"]
    tickets()
    entry = tickets.options["pipelines"]["master"]
    old = entry["stages"]["Escalated"]
    hs_person.crm.pipelines.pipeline_stages_api.update(
        "tickets", entry["pipeline"], old, {"archived": True}
    )
    sf_person.Case.update(case, {"Status": "Escalated", "Subject": "Printer, escalated"})
    run = tickets()
    assert run.counts["updated_in_hubspot"] == 1, (run.counts, open_errors())
    assert run.counts["stages_created"] == 1
    ticket_id = tickets.link(salesforce_id=case).hubspot_id
    props = ticket(hs_person, ticket_id, "subject", "hs_pipeline", "hs_pipeline_stage")
    assert props["subject"] == "Printer, escalated"
    assert props["hs_pipeline"] == entry["pipeline"]
    assert props["hs_pipeline_stage"] != old
    assert stage_labels(hs_person, entry["pipeline"])[props["hs_pipeline_stage"]] == "Escalated"
    assert (
        tickets.options["pipelines"]["master"]["stages"]["Escalated"] == props["hs_pipeline_stage"]
    )
    assert open_errors() == []
    idle = tickets()
    assert not idle.counts.get("updated_in_hubspot") and not idle.counts.get("failed")


def test_an_edit_of_a_case_whose_stage_was_deleted_still_reaches_its_ticket(
    tickets: Tickets, sf_person, hs_person
):
    """The stage the ticket is in was deleted (its ticket moved along with it in HubSpot's
    settings, say, or left there): an edit of another field of the case still lands."""
    case = sf_person.Case.create({"Subject": "Printer", "Status": "Working"})["id"]
    tickets()
    entry = tickets.options["pipelines"]["master"]
    hs_person.crm.pipelines.pipeline_stages_api.update(
        "tickets", entry["pipeline"], entry["stages"]["Working"], {"archived": True}
    )
    sf_person.Case.update(case, {"Subject": "Printer, still broken"})
    run = tickets()
    assert run.counts["updated_in_hubspot"] == 1, (run.counts, open_errors())
    ticket_id = tickets.link(salesforce_id=case).hubspot_id
    props = ticket(hs_person, ticket_id, "subject", "hs_pipeline_stage")
    assert props["subject"] == "Printer, still broken"
    assert stage_labels(hs_person, entry["pipeline"])[props["hs_pipeline_stage"]] == "Working"
    assert open_errors() == []


def test_a_deleted_stage_of_a_chosen_pipeline_asks_for_a_stage_on_the_tickets_tab(
    tickets: Tickets, sf_person, hs_person
):
    """The wizard mapped the cases to HubSpot's Support Pipeline; an admin then deleted its
    "Waiting on us" stage, which Working mapped to. The case's other values still reach its
    ticket, and the case says to map the status (the pipeline is the admin's: no stage is
    added to it)."""
    tickets.settings(
        pipelines={
            "master": {
                "label": "Master",
                "pipeline": "0",
                "stages": {"New": NEW, "Working": WAITING_ON_US, "Closed": CLOSED},
                "managed": False,
            }
        }
    )
    case = sf_person.Case.create({"Subject": "Printer", "Status": "New"})["id"]
    tickets()
    hs_person.crm.pipelines.pipeline_stages_api.update(
        "tickets", "0", WAITING_ON_US, {"archived": True}
    )
    sf_person.Case.update(case, {"Status": "Working", "Subject": "Printer, in the works"})
    run = tickets()
    assert not run.counts.get("stages_created"), run.counts
    ticket_id = tickets.link(salesforce_id=case).hubspot_id
    props = ticket(hs_person, ticket_id, "subject", "hs_pipeline_stage")
    assert props["subject"] == "Printer, in the works"
    assert props["hs_pipeline_stage"] == NEW  # kept until the status has a stage
    assert open_errors() == [("picklist", "NO_STAGE")]
    error = SyncError.objects.get(object="tickets", resolved_at__isnull=True)
    assert "Working" in error.message and "Tickets tab" in error.message
    entry = tickets.options["pipelines"]["master"]
    assert "Working" not in entry["stages"] and entry["unmapped"] == ["Working"]


def test_our_pipeline_deleted_in_hubspot_is_made_again(tickets: Tickets, sf_person, hs_person):
    """The pipeline the integration made was deleted in HubSpot's settings: the next case
    write makes it again instead of failing with an unknown pipeline."""
    case = sf_person.Case.create({"Subject": "Printer", "Status": "New"})["id"]
    tickets()
    old = tickets.options["pipelines"]["master"]["pipeline"]
    hs_person.crm.pipelines.pipelines_api.archive("tickets", old)  # deleted in HubSpot
    sf_person.Case.update(case, {"Status": "Working"})
    run = tickets()
    assert run.counts["pipelines_created"] == 1, (run.counts, open_errors())
    entry = tickets.options["pipelines"]["master"]
    assert entry["pipeline"] != old and entry["managed"] is True
    ticket_id = tickets.link(salesforce_id=case).hubspot_id
    props = ticket(hs_person, ticket_id, "hs_pipeline", "hs_pipeline_stage")
    assert props["hs_pipeline"] == entry["pipeline"]
    assert stage_labels(hs_person, entry["pipeline"])[props["hs_pipeline_stage"]] == "Working"
    assert open_errors() == []
