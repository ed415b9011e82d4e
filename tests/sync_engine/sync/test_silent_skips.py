"""Records that should sync by the settings but don't must say why (spec §19: "honest about
every record it could not sync"): a typed sync error, or a skip count on the run. Scenario
tests through the emulators, one per path that used to drop a record without a word."""

from __future__ import annotations

from hubspot.crm.tickets import SimplePublicObjectInput

from sync_engine.models import FieldMapping, SyncError

from .test_tickets import stuck_in_an_unmapped_stage, ticket


def test_a_ticket_moved_to_a_stage_no_case_status_maps_to_says_its_case_keeps_its_status(
    tickets, sf_person, hs_person
):
    # The stage is two-way, so a ticket moved in HubSpot should move its case; its stage
    # "2" (Waiting on contact) has no case status.
    case, ticket_id, run = stuck_in_an_unmapped_stage(tickets, sf_person, hs_person)
    assert sf_person.Case.get(case)["Status"] == "New"  # nothing to move it to
    error = SyncError.objects.get(
        object="tickets", record_key=f"hubspot:{ticket_id}", resolved_at__isnull=True
    )
    assert error.error_type == "picklist" and error.code == "UNKNOWN_STAGE"
    assert error.fields == ["Status"] and "Waiting on contact" in error.message
    assert run.counts.get("failed") == 1, run.counts
    # Moved to a stage a status maps to, the case follows and the error ends.
    hs_person.crm.tickets.basic_api.update(
        ticket_id, SimplePublicObjectInput(properties={"hs_pipeline_stage": "4"})
    )
    tickets()
    assert sf_person.Case.get(case)["Status"] == "Closed"
    assert ticket(hs_person, ticket_id, "hs_pipeline_stage")["hs_pipeline_stage"] == "4"
    assert not SyncError.objects.filter(object="tickets", resolved_at__isnull=True).exists()


def test_a_ticket_made_in_hubspot_is_counted_as_skipped_not_dropped_unsaid(
    tickets, sf_person, hs_person
):
    from hubspot.crm.tickets import SimplePublicObjectInputForCreate

    # A two-way mapping makes the cycle read HubSpot's changed tickets; tickets never create
    # cases (spec §14), and the run says it left this one alone.
    FieldMapping.objects.filter(object="tickets", hubspot_property="subject").update(rule="two_way")
    tickets()
    hs_person.crm.tickets.basic_api.create(
        SimplePublicObjectInputForCreate(
            properties={"subject": "Made in HubSpot", "hs_pipeline": "0", "hs_pipeline_stage": "1"}
        )
    )
    run = tickets()
    assert run.counts.get("skipped_create_disabled") == 1, run.counts
    assert sf_person.query("SELECT Id FROM Case")["totalSize"] == 0
