"""An opportunity moved to another account, or given another contact role, its deal's
association written, the worker dying before the commit, and the rep undoing the change
before the next cycle: the deal ends as the opportunity says."""

from __future__ import annotations

import pytest

from emulators.testing import advance_clocks
from sync_engine.models import RecordLink
from sync_engine.sync.cycle import sync_cycle_run

from . import test_deals
from .helpers import Crash, open_errors
from .test_deals import deal_companies, deal_contacts, new_opportunity, role_delete

with_companies = test_deals.with_companies  # the fixture


def crash_at_commit(monkeypatch):
    """The worker dies once a batch's association writes landed, before its commit."""
    from sync_engine.sync.deals import DealSync

    written = DealSync.write_associations

    def crash(self, pairs):
        written(self, pairs)
        if pairs:
            raise Crash("worker died before the commit")

    monkeypatch.setattr(DealSync, "write_associations", crash)


def test_an_opportunity_moved_back_after_a_crash_cut_its_company_move_short(
    with_companies, sf_person, hs_person, emulators, monkeypatch
):
    deals = with_companies
    first = sf_person.Account.create({"Name": "First"})["id"]
    second = sf_person.Account.create({"Name": "Second"})["id"]
    opportunity = new_opportunity(sf_person, Name="Moves", AccountId=first)
    deals.all()
    deals()
    company = dict(
        RecordLink.objects.filter(object="companies").values_list("salesforce_id", "hubspot_id")
    )
    deal = deals.link(salesforce_id=opportunity).hubspot_id
    assert deal_companies(hs_person, deal) == [company[first]]
    advance_clocks(emulators, 60)
    sf_person.Opportunity.update(opportunity, {"AccountId": second})
    crash_at_commit(monkeypatch)
    with pytest.raises(Crash):
        sync_cycle_run(integration=deals.integration, object_name="deals")
    monkeypatch.undo()
    assert deal_companies(hs_person, deal) == [company[second]]
    advance_clocks(emulators, 60)
    sf_person.Opportunity.update(opportunity, {"AccountId": first})
    deals()
    deals()
    assert deal_companies(hs_person, deal) == [company[first]]
    assert sf_person.Opportunity.get(opportunity)["AccountId"] == first
    assert not open_errors(), open_errors()


def test_a_contact_role_removed_after_a_crash_cut_its_addition_short(
    deals, sf_person, hs_person, emulators, monkeypatch
):
    ann = sf_person.Contact.create({"LastName": "Ann", "Email": "ann@roles.example"})["id"]
    bob = sf_person.Contact.create({"LastName": "Bob", "Email": "bob@roles.example"})["id"]
    opportunity = new_opportunity(sf_person, Name="Roles")
    deals.sf_action("add_contact_role", opportunity_id=opportunity, contact_id=ann)
    deals.all()
    deals()
    contact = dict(
        RecordLink.objects.filter(object="contacts").values_list("salesforce_id", "hubspot_id")
    )
    deal = deals.link(salesforce_id=opportunity).hubspot_id
    assert deal_contacts(hs_person, deal) == [contact[ann]]
    advance_clocks(emulators, 60)
    deals.sf_action("add_contact_role", opportunity_id=opportunity, contact_id=bob)
    crash_at_commit(monkeypatch)
    with pytest.raises(Crash):
        sync_cycle_run(integration=deals.integration, object_name="deals")
    monkeypatch.undo()
    assert deal_contacts(hs_person, deal) == sorted([contact[ann], contact[bob]])
    advance_clocks(emulators, 60)
    role_delete(sf_person, bob)
    deals()
    deals()
    assert deal_contacts(hs_person, deal) == [contact[ann]]
    roles = sf_person.query(
        f"SELECT ContactId FROM OpportunityContactRole WHERE OpportunityId = '{opportunity}'"  # noqa: S608
    )["records"]
    assert [r["ContactId"] for r in roles] == [ann]
    assert not open_errors(), open_errors()
