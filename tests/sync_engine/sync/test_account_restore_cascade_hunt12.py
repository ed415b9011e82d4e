"""An account deleted in Salesforce takes its contacts, opportunities (and their roles) and
activities to the recycle bin; restored, they all come back. With every pair on, the cycles
after the restore leave one HubSpot record of each, associated as before."""

from __future__ import annotations

import pytest

from emulators.testing import advance_clocks
from sync_engine.models import RecordLink
from sync_engine.services import object_settings_update
from sync_engine.sync.cycle import sync_cycles_run

from .helpers import company_sync_on, deal_sync_on, open_errors
from .test_activities import engagement_contacts, engagements
from .test_companies import hs_company_ids
from .test_deals import deal_companies, deal_contacts, hs_deal_ids, new_opportunity


def cycle(integration) -> None:
    runs = sync_cycles_run(integration=integration, trigger="manual")
    assert all(r.status == "succeeded" for r in runs), [(r.object, r.message) for r in runs]


def hs_contact_ids(hs) -> list[str]:
    return [c.id for c in hs.crm.contacts.basic_api.get_page(limit=100).results]


@pytest.mark.parametrize("setting", ["nothing", "delete"])
def test_an_account_restored_with_its_contacts_deals_and_tasks_has_one_of_each(
    integration, emulators, sf_person, hs_person, setting
):
    company_sync_on(integration, emulators)
    deal_sync_on(integration, emulators)
    object_settings_update(
        integration=integration, object_name="activities", changes={}, enabled=True
    )
    object_settings_update(
        integration=integration, object_name="activities", changes={"salesforce_tasks": True}
    )
    for pair in ("contacts", "companies", "deals"):
        object_settings_update(
            integration=integration, object_name=pair, changes={"salesforce_delete": setting}
        )
    account = sf_person.Account.create({"Name": "Phoenix"})["id"]
    contact = sf_person.Contact.create(
        {"LastName": "Ash", "Email": "ash@phoenix.example", "AccountId": account}
    )["id"]
    opportunity = new_opportunity(sf_person, Name="Rebirth", AccountId=account)
    emulators.salesforce.app.run_action(
        "add_contact_role", opportunity_id=opportunity, contact_id=contact
    )
    advance_clocks(emulators, 60)
    cycle(integration)
    task = sf_person.Task.create(
        {"WhoId": contact, "WhatId": opportunity, "Subject": "Call back", "Status": "Not Started"}
    )["id"]
    advance_clocks(emulators, 60)
    cycle(integration)
    advance_clocks(emulators, 60)
    cycle(integration)
    assert len(engagements(hs_person, "tasks")) == 1

    advance_clocks(emulators, 60)
    sf_person.Account.delete(account)
    advance_clocks(emulators, 60)
    cycle(integration)
    advance_clocks(emulators, 60)
    emulators.salesforce.app.run_action("undelete", id=account)
    for _ in range(3):
        advance_clocks(emulators, 60)
        cycle(integration)

    link = {
        pair: RecordLink.objects.get(integration=integration, object=pair, salesforce_id=sf_id)
        for pair, sf_id in (
            ("companies", account), ("contacts", contact), ("deals", opportunity),
        )
    }  # fmt: skip
    assert hs_company_ids(hs_person) == [link["companies"].hubspot_id]
    assert hs_contact_ids(hs_person) == [link["contacts"].hubspot_id]
    assert hs_deal_ids(hs_person) == [link["deals"].hubspot_id]
    deal = link["deals"].hubspot_id
    assert deal_contacts(hs_person, deal) == [link["contacts"].hubspot_id]
    assert deal_companies(hs_person, deal) == [link["companies"].hubspot_id]
    [copy] = engagements(hs_person, "tasks")
    assert RecordLink.objects.get(object="activities", salesforce_id=task).hubspot_id == (
        f"tasks:{copy.id}"
    )
    assert engagement_contacts(hs_person, "tasks", copy.id) == [link["contacts"].hubspot_id]
    assert engagement_contacts(hs_person, "tasks", copy.id, "deals") == [deal]
    assert not open_errors(), open_errors()


@pytest.mark.parametrize("setting", ["nothing", "delete"])
def test_a_contact_restored_with_its_contact_role_is_on_its_deal_again(
    integration, emulators, sf_person, hs_person, setting
):
    deal_sync_on(integration, emulators)
    object_settings_update(
        integration=integration, object_name="contacts", changes={"salesforce_delete": setting}
    )
    contact = sf_person.Contact.create({"LastName": "Ash", "Email": "ash@phoenix.example"})["id"]
    other = sf_person.Contact.create({"LastName": "Oak", "Email": "oak@phoenix.example"})["id"]
    opportunity = new_opportunity(sf_person, Name="Rebirth")
    for person in (contact, other):
        emulators.salesforce.app.run_action(
            "add_contact_role", opportunity_id=opportunity, contact_id=person
        )
    advance_clocks(emulators, 60)
    cycle(integration)
    advance_clocks(emulators, 60)
    cycle(integration)
    deal = RecordLink.objects.get(object="deals", salesforce_id=opportunity).hubspot_id
    assert len(deal_contacts(hs_person, deal)) == 2

    advance_clocks(emulators, 60)
    sf_person.Contact.delete(contact)
    advance_clocks(emulators, 60)
    cycle(integration)
    oak = RecordLink.objects.get(object="contacts", salesforce_id=other).hubspot_id
    if setting == "delete":  # with *Do nothing* the kept HubSpot contact stays on the deal
        assert deal_contacts(hs_person, deal) == [oak]
    advance_clocks(emulators, 60)
    emulators.salesforce.app.run_action("undelete", id=contact)
    for _ in range(3):
        advance_clocks(emulators, 60)
        cycle(integration)
    ash = RecordLink.objects.get(object="contacts", salesforce_id=contact).hubspot_id
    assert sorted(hs_contact_ids(hs_person)) == sorted([ash, oak])
    assert deal_contacts(hs_person, deal) == sorted([ash, oak])
    roles = sf_person.query(
        f"SELECT ContactId FROM OpportunityContactRole WHERE OpportunityId = '{opportunity}'"  # noqa: S608
    )["records"]
    assert sorted(r["ContactId"] for r in roles) == sorted([contact, other])
    assert not open_errors(), open_errors()
