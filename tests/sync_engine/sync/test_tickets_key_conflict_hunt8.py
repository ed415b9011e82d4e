"""A new case whose id a ticket linked to another case holds in ``salesforce_case_id_sync``
(typed there by hand, brought by an import or a ticket merge): the write's upsert by that key
finds the linked ticket. It keeps its link, its values and its associations, the new case gets
a *Value already in use* error naming it and what to do, the rest of the batch syncs, retries
don't write the ticket again while the key names the case, and the cycle never crashes; once
the key is emptied, the case gets its own ticket. A linked case whose ticket's key was changed
by hand keeps that ticket (no second one) and its key gets the case's id back."""

from __future__ import annotations

from hubspot.crm.tickets import SimplePublicObjectInput

from emulators.testing import advance_clocks
from sync_engine.models import ApiCall, SyncError
from sync_engine.sync.tickets import KEY_PROPERTY

from .helpers import due_now
from .test_tickets import associated, stage_labels, ticket, ticket_ids


def open_errors():
    return SyncError.objects.filter(object="tickets", resolved_at__isnull=True)


def operations_since(first: int) -> list[str]:
    return list(ApiCall.objects.filter(pk__gt=first).values_list("operation", flat=True))


def last_call() -> int:
    return ApiCall.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


def update_ticket(hs, ticket_id: str, **props) -> None:
    hs.crm.tickets.basic_api.update(ticket_id, SimplePublicObjectInput(properties=props))


def test_a_new_case_whose_id_a_linked_ticket_holds_never_takes_that_ticket(
    tickets, sf_person, hs_person
):
    contact = sf_person.Contact.create({"LastName": "Bolton", "Email": "mb@initech.example"})["id"]
    tickets("contacts")
    held = sf_person.Case.create({"Subject": "Printer", "Status": "New"})["id"]
    tickets()
    holder = tickets.link(salesforce_id=held).hubspot_id
    priority = ticket(hs_person, holder, "hs_ticket_priority")["hs_ticket_priority"]
    assert priority != "HIGH"
    advance_clocks(tickets.emulators, 5)

    claimed = sf_person.Case.create(
        {"Subject": "Stapler", "Status": "Working", "Priority": "High", "ContactId": contact}
    )["id"]
    other = sf_person.Case.create({"Subject": "Fax", "Status": "New"})["id"]
    # Someone types the new case's id into the ticket's key, and edits its subject.
    update_ticket(hs_person, holder, **{KEY_PROPERTY: claimed, "subject": "Printer (jammed)"})
    run = tickets()
    assert run.counts["created_in_hubspot"] == 1, run.counts  # Fax, beside it
    assert run.counts["failed"] == 1
    assert tickets.link(salesforce_id=held).hubspot_id == holder
    assert not tickets.links().filter(salesforce_id=claimed).exists()
    props = ticket(hs_person, holder, "subject", "hs_pipeline_stage", "hs_ticket_priority")
    assert props["subject"] == "Printer (jammed)"  # the person's edit, not the new case's
    labels = stage_labels(hs_person, tickets.options["pipelines"]["master"]["pipeline"])
    assert labels[props["hs_pipeline_stage"]] == "New"
    assert props["hs_ticket_priority"] == priority
    assert associated(hs_person, holder, "contacts") == []
    error = open_errors().get()
    assert error.record_key == f"salesforce:{claimed}" and error.error_type == "value_in_use"
    assert error.code == "SYNC_KEY_IN_USE" and error.hubspot_id == holder
    assert holder in error.message and held in error.message and KEY_PROPERTY in error.message
    fax = tickets.link(salesforce_id=other).hubspot_id
    assert fax != holder

    # Retried while the key still names it: the ticket isn't written again.
    assert ticket(hs_person, holder, KEY_PROPERTY)[KEY_PROPERTY] == claimed
    advance_clocks(tickets.emulators, 5)
    stamp = hs_person.crm.tickets.basic_api.get_by_id(holder).updated_at
    due_now(error)
    first = last_call()
    run = tickets()
    assert run.counts["failed"] == 1, run.counts
    assert not [op for op in operations_since(first) if "upsert" in op or "update" in op]
    assert hs_person.crm.tickets.basic_api.get_by_id(holder).updated_at == stamp
    assert open_errors().get().pk == error.pk
    # An edit of the case is held back too.
    sf_person.Case.update(claimed, {"Subject": "Red stapler"})
    run = tickets()
    assert run.counts["failed"] == 1, run.counts
    assert ticket(hs_person, holder, "subject")["subject"] == "Printer (jammed)"

    update_ticket(hs_person, holder, **{KEY_PROPERTY: ""})  # as the error says
    advance_clocks(tickets.emulators, 5)
    due_now(error)
    tickets()
    made = tickets.link(salesforce_id=claimed).hubspot_id
    assert made not in (holder, fax)
    assert ticket(hs_person, made, "subject")["subject"] == "Red stapler"
    assert associated(hs_person, made, "contacts") == [
        tickets.links("contacts").get(salesforce_id=contact).hubspot_id
    ]
    assert ticket(hs_person, holder, "subject")["subject"] == "Printer (jammed)"
    assert tickets.link(salesforce_id=held).hubspot_id == holder
    assert len(ticket_ids(hs_person)) == 3
    assert not open_errors().exists()


def test_a_linked_case_whose_ticket_key_was_changed_keeps_its_ticket(tickets, sf_person, hs_person):
    """The ticket's key names another, new case: the linked case's next edit reaches its
    ticket (no second ticket for it) and gives the key its id back; the new case, refused
    the ticket meanwhile, gets its own on its retry."""
    held = sf_person.Case.create({"Subject": "Printer", "Status": "New"})["id"]
    tickets()
    holder = tickets.link(salesforce_id=held).hubspot_id
    advance_clocks(tickets.emulators, 5)

    claimed = sf_person.Case.create({"Subject": "Stapler", "Status": "Working"})["id"]
    update_ticket(hs_person, holder, **{KEY_PROPERTY: claimed})
    sf_person.Case.update(held, {"Subject": "Printer on fire", "Status": "Working"})
    run = tickets()
    assert run.counts["updated_in_hubspot"] == 1, run.counts
    assert not run.counts.get("created_in_hubspot"), run.counts
    assert tickets.link(salesforce_id=held).hubspot_id == holder
    props = ticket(hs_person, holder, "subject", "hs_pipeline_stage", KEY_PROPERTY)
    assert props["subject"] == "Printer on fire" and props[KEY_PROPERTY] == held
    labels = stage_labels(hs_person, tickets.options["pipelines"]["master"]["pipeline"])
    assert labels[props["hs_pipeline_stage"]] == "Working"
    assert ticket_ids(hs_person) == [holder]
    error = open_errors().get()
    assert error.record_key == f"salesforce:{claimed}" and error.code == "SYNC_KEY_IN_USE"

    # The key names the linked case again: the new case's retry makes its own ticket.
    advance_clocks(tickets.emulators, 5)
    due_now(error)
    tickets()
    made = tickets.link(salesforce_id=claimed).hubspot_id
    assert made != holder
    assert ticket(hs_person, made, "subject")["subject"] == "Stapler"
    assert ticket(hs_person, holder, "subject")["subject"] == "Printer on fire"
    assert sorted(ticket_ids(hs_person)) == sorted([holder, made])
    assert not open_errors().exists()
    assert tickets().counts.get("updated_in_hubspot", 0) == 0  # in step


def test_two_linked_cases_whose_ticket_keys_were_swapped_keep_their_tickets(
    tickets, sf_person, hs_person
):
    """Keys swapped by hand (each ticket names the other's case): each case's upsert finds
    the other's ticket. Neither ticket takes the other case's values nor link, both cases
    wait with the error; once a key is emptied, each case's next write puts its id back."""
    first = sf_person.Case.create({"Subject": "Printer", "Status": "New"})["id"]
    second = sf_person.Case.create({"Subject": "Stapler", "Status": "New"})["id"]
    tickets()
    one = tickets.link(salesforce_id=first).hubspot_id
    two = tickets.link(salesforce_id=second).hubspot_id
    advance_clocks(tickets.emulators, 5)
    update_ticket(hs_person, one, **{KEY_PROPERTY: ""})
    update_ticket(hs_person, two, **{KEY_PROPERTY: first})
    update_ticket(hs_person, one, **{KEY_PROPERTY: second})
    sf_person.Case.update(first, {"Subject": "Printer on fire"})
    sf_person.Case.update(second, {"Subject": "Stapler jammed"})
    run = tickets()
    assert run.counts["failed"] == 2, run.counts
    assert tickets.link(salesforce_id=first).hubspot_id == one
    assert tickets.link(salesforce_id=second).hubspot_id == two
    assert ticket(hs_person, one, "subject")["subject"] == "Printer"
    assert ticket(hs_person, two, "subject")["subject"] == "Stapler"
    errors = {e.salesforce_id: e for e in open_errors()}
    assert {e.code for e in errors.values()} == {"SYNC_KEY_IN_USE"}
    assert errors[first].hubspot_id == two and errors[second].hubspot_id == one
    assert f"its own, HubSpot record {one}" in errors[first].message
    assert sorted(ticket_ids(hs_person)) == sorted([one, two])

    update_ticket(hs_person, two, **{KEY_PROPERTY: ""})  # as the error says
    for _ in range(2):  # the second case waits while the first ticket still names it
        advance_clocks(tickets.emulators, 5)
        for error in open_errors():
            due_now(error)
        tickets()
    assert not open_errors().exists()
    assert tickets.link(salesforce_id=first).hubspot_id == one
    assert tickets.link(salesforce_id=second).hubspot_id == two
    props = ticket(hs_person, one, "subject", KEY_PROPERTY)
    assert (props["subject"], props[KEY_PROPERTY]) == ("Printer on fire", first)
    props = ticket(hs_person, two, "subject", KEY_PROPERTY)
    assert (props["subject"], props[KEY_PROPERTY]) == ("Stapler jammed", second)
    assert sorted(ticket_ids(hs_person)) == sorted([one, two])
