"""A case moved to another contact or account, and back, around a crash or a refused
association: the ticket ends associated as the case says."""

from __future__ import annotations

import pytest

from emulators.testing import advance_clocks
from sync_engine.models import RecordLink
from sync_engine.services import object_settings_update
from sync_engine.sync.cycle import sync_cycle_run

from .helpers import Crash, open_errors
from .test_tickets import associated


def two_contacts_and_a_case(tickets, sf_person, hs_person) -> tuple[str, ...]:
    """A case on Ann, both Ann and Bob synced: (case, ticket, Ann, her HubSpot contact, Bob,
    his)."""
    ann = sf_person.Contact.create({"LastName": "Ann", "Email": "ann@cases.example"})["id"]
    bob = sf_person.Contact.create({"LastName": "Bob", "Email": "bob@cases.example"})["id"]
    tickets("contacts")
    case = sf_person.Case.create({"Subject": "Moves", "Status": "New", "ContactId": ann})["id"]
    tickets()
    ticket_id = tickets.link(salesforce_id=case).hubspot_id
    hs = {
        link.salesforce_id: link.hubspot_id
        for link in RecordLink.objects.filter(object="contacts", salesforce_id__in=[ann, bob])
    }
    assert associated(hs_person, ticket_id, "contacts") == [hs[ann]]
    return case, ticket_id, ann, hs[ann], bob, hs[bob]


def test_a_case_moved_back_after_a_crash_cut_its_ticket_move_short_is_on_its_contact(
    tickets, sf_person, hs_person, emulators, monkeypatch
):
    from sync_engine.sync.tickets import TicketSync

    case, ticket_id, ann, hs_ann, bob, hs_bob = two_contacts_and_a_case(
        tickets, sf_person, hs_person
    )
    advance_clocks(emulators, 60)
    sf_person.Case.update(case, {"ContactId": bob})

    def crash(self, pairs, cursor, handled):
        raise Crash("worker died before the move's commit")

    original = TicketSync.commit
    monkeypatch.setattr(TicketSync, "commit", crash)
    with pytest.raises(Crash):
        sync_cycle_run(integration=tickets.integration, object_name="tickets")
    monkeypatch.setattr(TicketSync, "commit", original)
    assert associated(hs_person, ticket_id, "contacts") == [hs_bob]  # the move landed
    advance_clocks(emulators, 60)
    sf_person.Case.update(case, {"ContactId": ann})
    tickets()
    tickets()
    assert associated(hs_person, ticket_id, "contacts") == [hs_ann]
    assert not open_errors(), open_errors()


def test_a_case_moved_back_after_a_crash_cut_its_company_move_short_is_on_its_account(
    tickets, sf_person, hs_person, emulators, monkeypatch
):
    from sync_engine.sync.tickets import TicketSync

    object_settings_update(
        integration=tickets.integration, object_name="companies", changes={}, enabled=True
    )
    first = sf_person.Account.create({"Name": "First"})["id"]
    second = sf_person.Account.create({"Name": "Second"})["id"]
    tickets("companies")
    company = {
        link.salesforce_id: link.hubspot_id
        for link in RecordLink.objects.filter(object="companies")
    }
    case = sf_person.Case.create({"Subject": "Moves", "Status": "New", "AccountId": first})["id"]
    tickets()
    ticket_id = tickets.link(salesforce_id=case).hubspot_id
    assert associated(hs_person, ticket_id, "companies") == [company[first]]
    advance_clocks(emulators, 60)
    sf_person.Case.update(case, {"AccountId": second})

    def crash(self, pairs, cursor, handled):
        raise Crash("worker died before the move's commit")

    original = TicketSync.commit
    monkeypatch.setattr(TicketSync, "commit", crash)
    with pytest.raises(Crash):
        sync_cycle_run(integration=tickets.integration, object_name="tickets")
    monkeypatch.setattr(TicketSync, "commit", original)
    assert associated(hs_person, ticket_id, "companies") == [company[second]]
    advance_clocks(emulators, 60)
    sf_person.Case.update(case, {"AccountId": first})
    tickets()
    tickets()
    assert associated(hs_person, ticket_id, "companies") == [company[first]]
    assert not open_errors(), open_errors()
