"""Tickets ⇄ cases (spec §14), hunted further: the pipelines the engine made before closed
case statuses (Salesforce's ``CaseStatus.IsClosed``) got closed stages are put right, once per
schema refresh, end to end through the official clients and the emulators. Pipelines the admin
chose in the wizard are theirs and keep their stages' settings."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from sync_engine.models import ApiCall, SchemaCache

from .conftest import Tickets
from .test_tickets_hunt6 import ticket_states

STATUSES = ["New", "Working", "Escalated", "Closed", "Resolved"]


def old_style_pipeline(hs, label: str) -> dict[str, str]:
    """A ticket pipeline as the engine made it before: only "Closed" is a closed stage, so
    "Resolved" is an open one. Stage id by status."""
    created = hs.crm.pipelines.pipelines_api.create(
        "tickets",
        {
            "label": label,
            "displayOrder": 100,
            "stages": [
                {
                    "label": status,
                    "displayOrder": i,
                    "metadata": {"ticketState": "CLOSED" if status == "Closed" else "OPEN"},
                }
                for i, status in enumerate(STATUSES)
            ],
        },
    )
    return {"id": created.id, **{s.label: s.id for s in created.stages}}


def an_hour_later() -> None:
    """The cycle reads the Case describe again (hourly)."""
    SchemaCache.objects.filter(object="Case").update(fetched_at=timezone.now() - timedelta(hours=2))


def pipeline_calls(integration) -> int:
    return ApiCall.objects.filter(
        integration=integration, system="hubspot", operation__contains="pipelines"
    ).count()


def test_a_pipeline_the_engine_made_before_gets_closed_stages_for_closed_statuses(
    tickets: Tickets,
    sf_person,
    hs_person,
    emulators,
):
    """An org that closes cases as "Resolved" synced tickets before the engine knew: its
    pipeline has "Resolved" as an open stage, so resolved cases count as open tickets in
    HubSpot. Within the hour (with the Case describe) that stage becomes a closed one. The
    pipeline the admin chose for another process in the wizard keeps its open "Resolved"."""
    emulators.salesforce.app.run_action("set_case_status", value="Resolved", closed=True)
    hardware = emulators.salesforce.app.run_action(
        "add_record_type", object="Case", label="Hardware"
    )
    ours = old_style_pipeline(hs_person, "Salesforce cases: Hardware")
    theirs = old_style_pipeline(hs_person, "Field service")
    tickets.settings(
        pipelines={
            "master": {
                "label": "Master",
                "pipeline": theirs["id"],
                "pipeline_label": "Field service",
                "stages": {s: theirs[s] for s in STATUSES},
                "managed": False,
            },
            hardware: {
                "label": "Hardware",
                "pipeline": ours["id"],
                "pipeline_label": "Salesforce cases: Hardware",
                "stages": {s: ours[s] for s in STATUSES},
                "managed": True,
            },
        }
    )
    # (Hardware is the org's default record type: new cases get it.)
    case = sf_person.Case.create({"Subject": "Printer", "Status": "Resolved"})["id"]
    tickets()
    ticket_id = tickets.link(salesforce_id=case).hubspot_id
    stage = hs_person.crm.tickets.basic_api.get_by_id(ticket_id, properties=["hs_pipeline_stage"])
    assert stage.properties["hs_pipeline_stage"] == ours["Resolved"]

    an_hour_later()
    run = tickets()
    assert ticket_states(hs_person, ours["id"]) == {
        "New": "OPEN",
        "Working": "OPEN",
        "Escalated": "OPEN",
        "Closed": "CLOSED",
        "Resolved": "CLOSED",
    }
    assert run.counts["stages_updated"] == 1, run.counts
    assert ticket_states(hs_person, theirs["id"])["Resolved"] == "OPEN"  # the admin's own
    # The ticket stays in its (now closed) stage.
    stage = hs_person.crm.tickets.basic_api.get_by_id(ticket_id, properties=["hs_pipeline_stage"])
    assert stage.properties["hs_pipeline_stage"] == ours["Resolved"]

    # Put right once: idle cycles and the next hourly read cost no pipeline calls.
    idle = tickets()
    assert idle.calls == {"salesforce": 1, "hubspot": 0}
    before = pipeline_calls(tickets.integration)
    an_hour_later()
    tickets()
    assert pipeline_calls(tickets.integration) == before

    # A status reopened in Setup (no longer closing a case) gets its open stage back.
    emulators.salesforce.app.run_action("set_case_status", value="Resolved", closed=False)
    an_hour_later()
    run = tickets()
    assert ticket_states(hs_person, ours["id"])["Resolved"] == "OPEN"
    assert run.counts["stages_updated"] == 1, run.counts


def test_a_pipeline_the_engine_makes_now_costs_no_pipeline_read_at_the_next_refresh(
    tickets: Tickets,
    sf_person,
    hs_person,
    emulators,
):
    """A pipeline made with what CaseStatus says is already right: the hourly Case describe
    read doesn't read the pipelines to check it."""
    emulators.salesforce.app.run_action("set_case_status", value="Resolved", closed=True)
    sf_person.Case.create({"Subject": "Printer", "Status": "Resolved"})
    tickets()
    entry = tickets.options["pipelines"]["master"]
    assert ticket_states(hs_person, entry["pipeline"])["Resolved"] == "CLOSED"
    before = pipeline_calls(tickets.integration)
    an_hour_later()
    run = tickets()
    assert pipeline_calls(tickets.integration) == before
    assert run.counts.get("stages_updated", 0) == 0, run.counts
