"""Crash and retry windows of the contact, company, deal, ticket and custom object pairs:
after a worker dies (or an answer is lost) between a write landing and its commit, the next
cycle ends with one record per side, every edit applied, and no error left behind."""

from __future__ import annotations

import pytest

from emulators.testing import advance_clocks
from sync_engine.models import SyncError

from .helpers import Crash, hs_get
from .test_companies import contact_on_the_first_of_two_accounts


def die_once(monkeypatch, cls, name):
    """The worker dies when ``cls.name`` is first called (after what came before it landed);
    later calls run as usual."""
    original = getattr(cls, name)
    calls = []

    def dying(self, *args, **kwargs):
        if not calls:
            calls.append(1)
            raise Crash(f"worker died at {name}")
        return original(self, *args, **kwargs)

    monkeypatch.setattr(cls, name, dying)


def test_a_hubspot_company_move_made_while_the_last_one_was_unrecorded_wins(
    companies, sf_person, hs_person, emulators, monkeypatch
):
    """A marketer moves a contact to Second; the cycle writes the contact's account in
    Salesforce and dies before remembering it. Meanwhile she moves it on to Third. The next
    cycle must not read its own account write as a rep's move that puts the contact back on
    Second: the contact ends on Third on both sides."""
    from sync_engine.sync.companies import CompanySync

    _, second, contact, hs_contact = contact_on_the_first_of_two_accounts(companies, sf_person)
    third = sf_person.Account.create({"Name": "Third"})["id"]
    companies()
    second_company = companies.link(salesforce_id=second).hubspot_id
    third_company = companies.link(salesforce_id=third).hubspot_id

    companies.hs_action("associate", from_type="contacts", from_id=hs_contact,
                        to_type="companies", to_id=second_company, type_id=1)  # fmt: skip
    die_once(monkeypatch, CompanySync, "remember_association")
    with pytest.raises(Crash):
        companies()
    assert sf_person.Contact.get(contact)["AccountId"] == second  # it landed
    advance_clocks(emulators, 61)
    companies.hs_action("associate", from_type="contacts", from_id=hs_contact,
                        to_type="companies", to_id=third_company, type_id=1)  # fmt: skip
    advance_clocks(emulators, 61)
    companies()
    companies()
    assert hs_get(hs_person, hs_contact, "associatedcompanyid")["associatedcompanyid"] == (
        third_company
    )
    assert sf_person.Contact.get(contact)["AccountId"] == third
    assert not SyncError.objects.filter(resolved_at__isnull=True).exists()


def test_a_hubspot_company_move_after_an_unrecorded_salesforce_move_wins(
    companies, sf_person, hs_person, emulators, monkeypatch
):
    """A rep moves a contact to Second; the cycle moves its HubSpot company and dies before
    remembering it. Then a marketer moves the HubSpot contact on to Third: the later move
    wins on both sides, the rep's Second isn't put back over it."""
    from sync_engine.sync.companies import CompanySync

    _, second, contact, hs_contact = contact_on_the_first_of_two_accounts(companies, sf_person)
    third = sf_person.Account.create({"Name": "Third"})["id"]
    companies()
    second_company = companies.link(salesforce_id=second).hubspot_id
    third_company = companies.link(salesforce_id=third).hubspot_id

    sf_person.Contact.update(contact, {"AccountId": second})
    die_once(monkeypatch, CompanySync, "remember_association")
    with pytest.raises(Crash):
        companies()
    props = hs_get(hs_person, hs_contact, "associatedcompanyid")
    assert props["associatedcompanyid"] == second_company  # it landed
    advance_clocks(emulators, 61)
    companies.hs_action("associate", from_type="contacts", from_id=hs_contact,
                        to_type="companies", to_id=third_company, type_id=1)  # fmt: skip
    advance_clocks(emulators, 61)
    companies()
    companies()
    assert hs_get(hs_person, hs_contact, "associatedcompanyid")["associatedcompanyid"] == (
        third_company
    )
    assert sf_person.Contact.get(contact)["AccountId"] == third
    assert not SyncError.objects.filter(resolved_at__isnull=True).exists()


@pytest.mark.parametrize("dies_at", ["hubspot_dissociate", "hubspot_associate"])
def test_a_salesforce_move_whose_hubspot_write_never_went_out_still_reaches_hubspot(
    companies, sf_person, hs_person, emulators, monkeypatch, dies_at
):
    """The cycle dies after noting the move and before the association write is sent (or
    after the old company's removal, before the new one's): the next cycle still moves the
    HubSpot contact, and the account stays."""
    from sync_engine.sync.companies import CompanySync

    _, second, contact, hs_contact = contact_on_the_first_of_two_accounts(companies, sf_person)
    second_company = companies.link(salesforce_id=second).hubspot_id
    sf_person.Contact.update(contact, {"AccountId": second})
    die_once(monkeypatch, CompanySync, dies_at)
    with pytest.raises(Crash):
        companies()
    advance_clocks(emulators, 61)
    companies()
    companies()
    assert hs_get(hs_person, hs_contact, "associatedcompanyid")["associatedcompanyid"] == (
        second_company
    )
    assert sf_person.Contact.get(contact)["AccountId"] == second
