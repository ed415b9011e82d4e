"""Tickets merged in HubSpot (spec §14): the case's link follows the surviving ticket, and
the case's next edit updates it instead of making a copy of the merged ticket."""

from __future__ import annotations

from hubspot.crm.tickets import SimplePublicObjectInputForCreate as TicketCreate

from emulators.testing import advance_clocks
from sync_engine.models import SyncError
from sync_engine.sync.tickets import KEY_PROPERTY

from .test_tickets import ticket, ticket_ids


def test_a_case_edit_updates_the_ticket_its_ticket_was_merged_into(
    tickets, sf_person, hs_person, emulators
):
    case = sf_person.Case.create({"Subject": "Printer jam", "Status": "New"})["id"]
    tickets()
    tickets()
    merged_away = tickets.link(salesforce_id=case).hubspot_id
    survivor = hs_person.crm.tickets.basic_api.create(
        TicketCreate(
            properties={"subject": "Printer", "hs_pipeline": "0", "hs_pipeline_stage": "1"}
        )
    ).id
    tickets.hs_action("merge", object_type="tickets", primary_id=survivor, merged_id=merged_away)
    advance_clocks(emulators, 60)
    sf_person.Case.update(case, {"Subject": "Printer jam, tray 2"})
    advance_clocks(emulators, 60)
    run = tickets()
    assert run.counts["updated_in_hubspot"] == 1 and not run.counts.get("created_in_hubspot")
    tickets()
    assert ticket_ids(hs_person) == [survivor]
    # The survivor gets every value of the case, not only this edit's.
    props = ticket(hs_person, survivor, "subject", "hs_ticket_priority", KEY_PROPERTY)
    assert (props["subject"], props["hs_ticket_priority"]) == ("Printer jam, tray 2", "MEDIUM")
    assert props[KEY_PROPERTY] == case
    assert tickets.link(salesforce_id=case).hubspot_id == survivor
    assert not SyncError.objects.filter(resolved_at__isnull=True).exists()


def test_a_ticket_merged_into_another_cases_ticket_is_made_again(
    tickets, sf_person, hs_person, emulators
):
    """The survivor syncs with another case: it stays that case's. The merged ticket's case
    gets a new ticket at its next edit, as after a delete."""
    first = sf_person.Case.create({"Subject": "First", "Status": "New"})["id"]
    second = sf_person.Case.create({"Subject": "Second", "Status": "New"})["id"]
    tickets()
    tickets()
    survivor = tickets.link(salesforce_id=first).hubspot_id
    merged_away = tickets.link(salesforce_id=second).hubspot_id
    tickets.hs_action("merge", object_type="tickets", primary_id=survivor, merged_id=merged_away)
    advance_clocks(emulators, 60)
    sf_person.Case.update(second, {"Subject": "Second, again"})
    advance_clocks(emulators, 60)
    run = tickets()
    assert run.counts["created_in_hubspot"] == 1
    again = tickets.link(salesforce_id=second).hubspot_id
    assert again not in (survivor, merged_away)
    kept = ticket(hs_person, survivor, "subject", KEY_PROPERTY)
    assert (kept["subject"], kept[KEY_PROPERTY]) == ("First", first)
    assert ticket(hs_person, again, "subject")["subject"] == "Second, again"
