"""Tickets ⇄ cases: an association toggle turned off for a while and on again. What the cases
did meanwhile (a contact or account cleared, or changed) reaches their tickets once it is on."""

from __future__ import annotations

from sync_engine.services import object_settings_update

from .conftest import Tickets
from .test_tickets import associated


def test_a_contact_cleared_or_changed_while_the_toggle_was_off_reaches_the_ticket(
    tickets: Tickets, sf_person, hs_person
):
    """Contact associations on; the admin turns them off for a while. Meanwhile one case's
    contact is cleared and another's changed. Turned on again, each ticket is associated
    with its case's contact only: none keeps a contact its case no longer has."""
    first, second = (
        sf_person.Contact.create({"LastName": name, "Email": f"{name}@toggle.example"})["id"]
        for name in ("first", "second")
    )
    tickets("contacts")
    cleared = sf_person.Case.create({"Subject": "Cleared", "Status": "New", "ContactId": first})
    changed = sf_person.Case.create({"Subject": "Changed", "Status": "New", "ContactId": first})
    tickets()
    links = tickets.links("contacts")
    contact = {c: links.get(salesforce_id=c).hubspot_id for c in (first, second)}
    cleared_ticket = tickets.link(salesforce_id=cleared["id"]).hubspot_id
    changed_ticket = tickets.link(salesforce_id=changed["id"]).hubspot_id
    assert associated(hs_person, cleared_ticket, "contacts") == [contact[first]]
    assert associated(hs_person, changed_ticket, "contacts") == [contact[first]]

    tickets.settings(sync_contact_association=False)
    sf_person.Case.update(cleared["id"], {"ContactId": None})
    sf_person.Case.update(changed["id"], {"ContactId": second})
    tickets()  # read while off: the associations are left as they are
    assert associated(hs_person, cleared_ticket, "contacts") == [contact[first]]

    tickets.settings(sync_contact_association=True)
    tickets()
    assert associated(hs_person, cleared_ticket, "contacts") == []
    assert associated(hs_person, changed_ticket, "contacts") == [contact[second]]
    idle = tickets()
    assert idle.calls == {"salesforce": 1, "hubspot": 0}
    assert idle.counts.get("associations_to_hubspot", 0) == 0


def test_an_account_cleared_while_the_toggle_was_off_leaves_the_tickets_company(
    tickets: Tickets, sf_person, hs_person
):
    object_settings_update(
        integration=tickets.integration, object_name="companies", changes={}, enabled=True
    )
    account = sf_person.Account.create({"Name": "Vandelay"})["id"]
    tickets("companies")
    case = sf_person.Case.create({"Subject": "Latex", "Status": "New", "AccountId": account})
    tickets()
    ticket_id = tickets.link(salesforce_id=case["id"]).hubspot_id
    company = tickets.links("companies").get(salesforce_id=account).hubspot_id
    assert associated(hs_person, ticket_id, "companies") == [company]

    tickets.settings(sync_account_association=False)
    sf_person.Case.update(case["id"], {"AccountId": None})
    tickets()
    tickets.settings(sync_account_association=True)
    tickets()
    assert associated(hs_person, ticket_id, "companies") == []
