"""Crash windows of a deal's company and of a new deal's contacts.

A deal cycle that dies after writing the deal's primary company (or the opportunity's
``AccountId``) and before its commit must not read its own write back as a user's move: a
move made meanwhile on either side wins, and each side ends with one company. A deal (or an
opportunity) created by a cycle that dies before its commit stays paired with its partner;
the contacts and company that cycle put in step count as the ones last in step, so a removal
or move made meanwhile on either side isn't undone, and associations it didn't get to write
are written by the next cycle."""

from __future__ import annotations

import pytest

from emulators.testing import advance_clocks
from sync_engine.models import RecordLink
from sync_engine.services import object_settings_update

from .conftest import Deals
from .helpers import Crash, deal_sync_on
from .test_crash_hunt4 import dies_once, linked_contact, no_open_errors
from .test_deals import (
    deal_companies,
    deal_contacts,
    hs_deal,
    hs_stage,
    new_opportunity,
    role_delete,
    roles,
)


@pytest.fixture
def deals(integration, emulators):
    """Deal and company sync on, after contacts (as in test_deals' ``with_companies``)."""
    deal_sync_on(integration, emulators)
    object_settings_update(
        integration=integration, object_name="companies", changes={}, enabled=True
    )
    return Deals(integration, emulators)


def company_of(account: str) -> str:
    return RecordLink.objects.get(object="companies", salesforce_id=account).hubspot_id


def deal_on_the_first_of_three_accounts(deals, sf_person, hs_person, name: str):
    """An opportunity on the first of three accounts, synced (each account has its company,
    the deal is on the first): (opportunity, deal, accounts, their companies)."""
    accounts = [sf_person.Account.create({"Name": f"{name} {n}"})["id"] for n in (1, 2, 3)]
    opportunity = new_opportunity(sf_person, Name=name, AccountId=accounts[0])
    deals.all()
    deals()  # reads back its own writes
    deal = deals.link(salesforce_id=opportunity).hubspot_id
    companies = [company_of(a) for a in accounts]
    assert deal_companies(hs_person, deal) == [companies[0]]
    return opportunity, deal, accounts, companies


def move_deal(deals, hs_person, deal: str, old: str, new: str) -> None:
    """A marketer moves the deal from company ``old`` to ``new`` (its primary company)."""
    hs_person.crm.associations.v4.basic_api.archive("deals", deal, "companies", old)
    deals.hs_action("associate", from_type="deals", from_id=deal, to_type="companies",
                    to_id=new, type_id=5)  # fmt: skip


def account_of(sf_person, opportunity: str) -> str | None:
    return sf_person.Opportunity.get(opportunity)["AccountId"]


# --- the deal's company after a crash -----------------------------------------------------
def test_a_marketers_company_move_after_an_unrecorded_company_write_wins(
    deals, sf_person, hs_person, emulators, monkeypatch
):
    """A rep moves the opportunity to Second; the cycle puts the deal on Second's company and
    dies before its commit. Meanwhile a marketer moves the deal on to Third's company: the
    later move wins on both sides, it isn't undone by the rep's (already synced) move."""
    opportunity, deal, accounts, companies = deal_on_the_first_of_three_accounts(
        deals, sf_person, hs_person, "Company Crash One"
    )
    sf_person.Opportunity.update(opportunity, {"AccountId": accounts[1]})
    dies_once(monkeypatch, "commit")
    with pytest.raises(Crash):
        deals()
    assert deal_companies(hs_person, deal) == [companies[1]]  # it landed
    monkeypatch.undo()
    advance_clocks(emulators, 61)
    move_deal(deals, hs_person, deal, companies[1], companies[2])
    advance_clocks(emulators, 61)
    deals()
    deals()

    assert deal_companies(hs_person, deal) == [companies[2]]
    assert account_of(sf_person, opportunity) == accounts[2]
    assert no_open_errors()


def test_a_marketers_company_move_after_an_unrecorded_account_write_wins(
    deals, sf_person, hs_person, emulators, monkeypatch
):
    """A marketer moves the deal to Second's company; the cycle sets the opportunity's
    account and dies before its commit. Meanwhile she moves the deal on to Third's: the
    opportunity's account read back is the cycle's own write, not a rep's move that takes
    the deal back to Second."""
    opportunity, deal, accounts, companies = deal_on_the_first_of_three_accounts(
        deals, sf_person, hs_person, "Company Crash Two"
    )
    move_deal(deals, hs_person, deal, companies[0], companies[1])
    dies_once(monkeypatch, "commit")
    with pytest.raises(Crash):
        deals()
    assert account_of(sf_person, opportunity) == accounts[1]  # it landed
    monkeypatch.undo()
    advance_clocks(emulators, 61)
    move_deal(deals, hs_person, deal, companies[1], companies[2])
    advance_clocks(emulators, 61)
    deals()
    deals()

    assert deal_companies(hs_person, deal) == [companies[2]]
    assert account_of(sf_person, opportunity) == accounts[2]
    assert no_open_errors()


def test_a_reps_move_back_after_an_unrecorded_company_write_wins(
    deals, sf_person, hs_person, emulators, monkeypatch
):
    """A marketer moves the deal to Second's company; the cycle sets the opportunity's
    account and dies before its commit. Meanwhile a rep moves the opportunity back to
    First: the deal follows him back to First's company."""
    opportunity, deal, accounts, companies = deal_on_the_first_of_three_accounts(
        deals, sf_person, hs_person, "Company Crash Three"
    )
    move_deal(deals, hs_person, deal, companies[0], companies[1])
    dies_once(monkeypatch, "commit")
    with pytest.raises(Crash):
        deals()
    assert account_of(sf_person, opportunity) == accounts[1]
    monkeypatch.undo()
    advance_clocks(emulators, 61)
    sf_person.Opportunity.update(opportunity, {"AccountId": accounts[0]})
    advance_clocks(emulators, 61)
    deals()
    deals()

    assert account_of(sf_person, opportunity) == accounts[0]
    assert deal_companies(hs_person, deal) == [companies[0]]
    assert no_open_errors()


def test_a_lost_answer_to_the_company_write_still_lets_a_later_move_win(
    deals, sf_person, hs_person, emulators
):
    """The deal's new company lands in HubSpot but every answer is lost, so the cycle fails
    at once. Meanwhile a marketer moves the deal on to Third's company: that move wins."""
    opportunity, deal, accounts, companies = deal_on_the_first_of_three_accounts(
        deals, sf_person, hs_person, "Company Crash Four"
    )
    sf_person.Opportunity.update(opportunity, {"AccountId": accounts[1]})
    emulators.hubspot.app.faults.add(
        path="/crm/v4/associations/deals/companies/batch/create",
        apply_then_fail=True,
        error_code="BAD_GATEWAY",
        times=4,  # every retry of this cycle
    )
    with pytest.raises(AssertionError):
        deals()
    assert deal_companies(hs_person, deal) == [companies[1]]  # it landed
    advance_clocks(emulators, 61)
    move_deal(deals, hs_person, deal, companies[1], companies[2])
    advance_clocks(emulators, 61)
    deals()
    deals()

    assert deal_companies(hs_person, deal) == [companies[2]]
    assert account_of(sf_person, opportunity) == accounts[2]
    assert no_open_errors()


@pytest.mark.parametrize("dies_at", ["write_associations", "commit"])
def test_after_a_company_crash_with_no_edit_each_side_has_one_company_and_then_idles(
    deals, sf_person, hs_person, emulators, monkeypatch, dies_at
):
    """With nobody editing meanwhile, the cycle after a crash (with the account written, or
    with both sides written) ends with the deal on one company, the opportunity on its
    account, and idles afterwards."""
    opportunity, deal, accounts, companies = deal_on_the_first_of_three_accounts(
        deals, sf_person, hs_person, f"Company Crash Five {dies_at}"
    )
    move_deal(deals, hs_person, deal, companies[0], companies[1])
    dies_once(monkeypatch, dies_at)
    with pytest.raises(Crash):
        deals()
    monkeypatch.undo()
    advance_clocks(emulators, 61)
    deals()
    deals()

    assert deal_companies(hs_person, deal) == [companies[1]]
    assert account_of(sf_person, opportunity) == accounts[1]
    idle = deals()
    assert not idle.counts.get("associations_to_hubspot")
    assert not idle.counts.get("updated_in_salesforce")
    assert no_open_errors()


# --- a new deal's contacts after a crash ----------------------------------------------------
def test_a_marketers_removal_from_a_deal_created_before_a_crash_wins(
    deals, sf_person, hs_person, emulators, monkeypatch
):
    """A rep makes an opportunity with Ann's and Bob's roles; the cycle creates the deal with
    both and dies before its commit. Meanwhile a marketer takes Bob off the new deal: the
    next cycle finds the deal again (by its key), and Bob's role goes instead of Bob being
    put back on the deal."""
    ann, hs_ann = linked_contact(deals, sf_person, "Ann", "ann@new-crash-one.example")
    bob, hs_bob = linked_contact(deals, sf_person, "Bob", "bob@new-crash-one.example")
    opportunity = new_opportunity(sf_person, Name="New Crash One")
    for contact in (ann, bob):
        deals.sf_action("add_contact_role", opportunity_id=opportunity, contact_id=contact)
    dies_once(monkeypatch, "commit")
    with pytest.raises(Crash):
        deals()
    monkeypatch.undo()
    [deal] = [d.id for d in hs_person.crm.deals.basic_api.get_page(limit=10).results]
    assert deal_contacts(hs_person, deal) == sorted([hs_ann, hs_bob])  # it landed
    advance_clocks(emulators, 61)
    hs_person.crm.associations.v4.basic_api.archive("deals", deal, "contacts", hs_bob)
    advance_clocks(emulators, 61)
    deals()
    deals()

    assert deals.link(salesforce_id=opportunity).hubspot_id == str(deal)
    assert deal_contacts(hs_person, deal) == [hs_ann]
    assert roles(sf_person, opportunity) == [ann]
    assert no_open_errors()


def test_a_reps_role_delete_on_an_opportunity_created_before_a_crash_wins(
    deals, sf_person, hs_person, emulators, monkeypatch
):
    """A marketer makes a deal with Ann and Bob; the cycle creates the opportunity with
    their roles and dies before its commit. Meanwhile a rep deletes Bob's role: Bob comes
    off the deal, his role isn't made again."""
    ann, hs_ann = linked_contact(deals, sf_person, "Ann", "ann@new-crash-two.example")
    bob, hs_bob = linked_contact(deals, sf_person, "Bob", "bob@new-crash-two.example")
    deals()  # the pipelines
    pipeline_id, stage = hs_stage(hs_person, "Prospecting")
    deal = hs_deal(
        hs_person, dealname="New Crash Two", closedate="2026-05-01", pipeline=pipeline_id,
        dealstage=stage.id,
    )  # fmt: skip
    for hs_contact in (hs_ann, hs_bob):
        deals.hs_action("associate", from_type="deals", from_id=deal, to_type="contacts",
                        to_id=hs_contact)  # fmt: skip
    dies_once(monkeypatch, "commit")
    with pytest.raises(Crash):
        deals()
    monkeypatch.undo()
    [opportunity] = [r["Id"] for r in sf_person.query("SELECT Id FROM Opportunity")["records"]]
    assert roles(sf_person, opportunity) == sorted([ann, bob])  # it landed
    advance_clocks(emulators, 61)
    role_delete(sf_person, bob)
    advance_clocks(emulators, 61)
    deals()
    deals()

    assert deals.link(hubspot_id=str(deal)).salesforce_id == opportunity
    assert roles(sf_person, opportunity) == [ann]
    assert deal_contacts(hs_person, deal) == [hs_ann]
    assert no_open_errors()


def test_a_marketers_company_move_on_a_deal_created_before_a_crash_wins(
    deals, sf_person, hs_person, emulators, monkeypatch
):
    """A rep makes an opportunity on First; the cycle creates the deal on First's company
    and dies before its commit. Meanwhile a marketer moves the new deal to Second's company:
    the opportunity follows her to Second, the deal isn't put back on First's."""
    accounts = [sf_person.Account.create({"Name": f"New Crash Three {n}"})["id"] for n in (1, 2)]
    deals.all()
    companies = [company_of(a) for a in accounts]
    opportunity = new_opportunity(sf_person, Name="New Crash Three", AccountId=accounts[0])
    dies_once(monkeypatch, "commit")
    with pytest.raises(Crash):
        deals()
    monkeypatch.undo()
    [deal] = [d.id for d in hs_person.crm.deals.basic_api.get_page(limit=10).results]
    assert deal_companies(hs_person, deal) == [companies[0]]  # it landed
    advance_clocks(emulators, 61)
    move_deal(deals, hs_person, deal, companies[0], companies[1])
    advance_clocks(emulators, 61)
    deals()
    deals()

    assert deal_companies(hs_person, deal) == [companies[1]]
    assert account_of(sf_person, opportunity) == accounts[1]
    assert no_open_errors()


def test_a_deal_created_by_a_cycle_dying_before_its_associations_gets_them_next_cycle(
    deals, sf_person, hs_person, emulators, monkeypatch
):
    """The cycle creates the deal of a new opportunity with Ann's and Bob's roles and dies
    before associating them: the next cycle puts both on the deal (once), and then idles."""
    ann, hs_ann = linked_contact(deals, sf_person, "Ann", "ann@new-crash-four.example")
    bob, hs_bob = linked_contact(deals, sf_person, "Bob", "bob@new-crash-four.example")
    opportunity = new_opportunity(sf_person, Name="New Crash Four")
    for contact in (ann, bob):
        deals.sf_action("add_contact_role", opportunity_id=opportunity, contact_id=contact)
    dies_once(monkeypatch, "hubspot_associate")
    with pytest.raises(Crash):
        deals()
    monkeypatch.undo()
    [deal] = [d.id for d in hs_person.crm.deals.basic_api.get_page(limit=10).results]
    assert deal_contacts(hs_person, deal) == []
    advance_clocks(emulators, 61)
    deals()
    deals()

    assert deal_contacts(hs_person, deal) == sorted([hs_ann, hs_bob])
    assert roles(sf_person, opportunity) == sorted([ann, bob])
    assert [d.id for d in hs_person.crm.deals.basic_api.get_page(limit=10).results] == [deal]
    idle = deals()
    assert not any(k.startswith(("roles_", "associations_")) and v for k, v in idle.counts.items())
    assert no_open_errors()


def test_an_opportunity_created_by_a_cycle_dying_before_its_roles_gets_them_next_cycle(
    deals, sf_person, hs_person, emulators, monkeypatch, integration
):
    """A marketer makes a deal with Ann and Bob; the cycle creates its opportunity and dies
    before making their roles. The next cycle makes them, also in a portal so big that the
    association sweep is elsewhere (its slice is past this deal)."""
    from sync_engine.models import SyncCursor

    ann, hs_ann = linked_contact(deals, sf_person, "Ann", "ann@new-crash-five.example")
    bob, hs_bob = linked_contact(deals, sf_person, "Bob", "bob@new-crash-five.example")
    deals()  # the pipelines
    pipeline_id, stage = hs_stage(hs_person, "Prospecting")
    deal = hs_deal(
        hs_person, dealname="New Crash Five", closedate="2026-05-01", pipeline=pipeline_id,
        dealstage=stage.id,
    )  # fmt: skip
    for hs_contact in (hs_ann, hs_bob):
        deals.hs_action("associate", from_type="deals", from_id=deal, to_type="contacts",
                        to_id=hs_contact)  # fmt: skip
    dies_once(monkeypatch, "write_roles")
    with pytest.raises(Crash):
        deals()
    monkeypatch.undo()
    [opportunity] = [r["Id"] for r in sf_person.query("SELECT Id FROM Opportunity")["records"]]
    assert roles(sf_person, opportunity) == []
    newest = RecordLink.objects.order_by("-pk").values_list("pk", flat=True)[0]
    SyncCursor.objects.update_or_create(
        integration=integration,
        stream="deals:association-sweep",
        defaults={"seen": {"after": newest}},
    )
    advance_clocks(emulators, 61)
    deals()

    assert roles(sf_person, opportunity) == sorted([ann, bob])
    assert deal_contacts(hs_person, deal) == sorted([hs_ann, hs_bob])
    assert no_open_errors()
