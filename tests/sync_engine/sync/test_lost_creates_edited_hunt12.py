"""A create whose answer was lost (orgs without an external id to upsert by), and the record
edited before the next cycle, in HubSpot or renamed in Salesforce: the create that landed is
still found, never made twice."""

from __future__ import annotations

import pytest

from emulators.testing import advance_clocks
from sync_engine.models import SchemaCache

from .helpers import hs_create
from .test_companies import hs_company, hs_company_ids
from .test_deals import hs_deal, hs_deal_ids, hs_deal_update, hs_stage


def without_external_id(integration, sobject: str) -> None:
    cache = SchemaCache.objects.get(integration=integration, system="salesforce", object=sobject)
    cache.data = [f for f in cache.data if f["name"] != "HubSpot_Id__c"]
    cache.save()


def lose_the_next_create_answer(emulators) -> None:
    emulators.salesforce.app.faults.add(
        path="/composite/sobjects$", method="POST", apply_then_fail=True, drop=True, times=1
    )


def accounts_made_with_the_answer_lost(
    companies, integration, hs_person, emulators, *properties: dict
) -> list[str]:
    """HubSpot companies (one per ``properties``), each with a private contact, whose
    accounts (in an org without HubSpot_Id__c) land together with the answer lost; five
    seconds pass."""
    made = {}
    for n, props in enumerate(properties):
        made[hs_company(hs_person, **props)] = hs_create(
            hs_person, email=f"p{n}@lost.example", firstname=f"P{n}", lastname="E"
        )
    companies.settings(hubspot_creates=False)
    companies.both()
    without_external_id(integration, "Account")
    companies.settings(hubspot_creates=True)
    for company, contact in made.items():
        companies.hs_action("associate", from_type="contacts", from_id=contact,
                            to_type="companies", to_id=company)  # fmt: skip
    lose_the_next_create_answer(emulators)
    with pytest.raises(AssertionError):
        companies()  # the accounts landed, the answer was lost
    advance_clocks(emulators, 5)
    return list(made)


@pytest.mark.parametrize("edited_in", ["hubspot", "salesforce"])
def test_a_lost_account_create_edited_before_the_next_cycle_is_found(
    companies, integration, sf_person, hs_person, emulators, edited_in
):
    from hubspot.crm.companies import SimplePublicObjectInput as CompanyInput

    [company] = accounts_made_with_the_answer_lost(
        companies, integration, hs_person, emulators, {"name": "Lost Account"}
    )
    if edited_in == "hubspot":
        hs_person.crm.companies.basic_api.update(
            company, CompanyInput(properties={"name": "Lost Account, renamed"})
        )
    else:
        [row] = sf_person.query("SELECT Id FROM Account")["records"]
        sf_person.Account.update(row["Id"], {"Name": "Lost Account (rep)"})
    companies.both()
    companies.both()
    assert sf_person.query("SELECT Id FROM Account")["totalSize"] == 1
    assert hs_company_ids(hs_person) == [str(company)]
    assert companies.link(hubspot_id=str(company))


def lost_account_creates_renamed(companies, integration, sf_person, hs_person, emulators, phones):
    """Companies (one per phone) whose accounts land together with the answer lost; a rep
    renames every account before the next cycle, which is then run twice."""
    made = accounts_made_with_the_answer_lost(
        companies, integration, hs_person, emulators,
        *({"name": f"Renamed {n}", "phone": phone} for n, phone in enumerate(phones)),
    )  # fmt: skip
    for row in sf_person.query("SELECT Id, Name FROM Account")["records"]:
        sf_person.Account.update(row["Id"], {"Name": f"{row['Name']} (rep)"})
    companies.both()
    companies.both()
    return made


def test_lost_account_creates_renamed_in_salesforce_each_find_their_own(
    companies, integration, sf_person, hs_person, emulators
):
    """Both renamed: each is the one record made with its other values (the phone)."""
    first, second = lost_account_creates_renamed(
        companies, integration, sf_person, hs_person, emulators, ["111", "222"]
    )
    rows = sf_person.query("SELECT Id, Name, Phone FROM Account")["records"]
    assert sorted((r["Name"], r["Phone"]) for r in rows) == [
        ("Renamed 0 (rep)", "111"),
        ("Renamed 1 (rep)", "222"),
    ]
    by_phone = {r["Phone"]: r["Id"] for r in rows}
    assert companies.link(hubspot_id=str(first)).salesforce_id == by_phone["111"]
    assert companies.link(hubspot_id=str(second)).salesforce_id == by_phone["222"]


def test_lost_account_creates_alike_and_renamed_are_never_guessed(
    companies, integration, sf_person, hs_person, emulators
):
    """Both renamed with every other value alike: either record could be either company's,
    so neither is taken (a wrong guess would rename each company after the other's
    account). Each company gets a new account of its own name; the renamed ones stay
    unlinked for the admin."""
    first, second = lost_account_creates_renamed(
        companies, integration, sf_person, hs_person, emulators, ["333", "333"]
    )
    names = {r["Id"]: r["Name"] for r in sf_person.query("SELECT Id, Name FROM Account")["records"]}
    assert names[companies.link(hubspot_id=str(first)).salesforce_id] == "Renamed 0"
    assert names[companies.link(hubspot_id=str(second)).salesforce_id] == "Renamed 1"


@pytest.mark.parametrize("edited_in", ["hubspot", "salesforce"])
def test_a_lost_opportunity_create_edited_before_the_next_cycle_is_found(
    deals, integration, sf_person, hs_person, emulators, edited_in
):
    deals()
    without_external_id(integration, "Opportunity")
    pipeline_id, stage = hs_stage(hs_person, "Prospecting")
    deal = hs_deal(
        hs_person, dealname="Lost Opportunity", closedate="2026-03-01", pipeline=pipeline_id,
        dealstage=stage.id,
    )  # fmt: skip
    lose_the_next_create_answer(emulators)
    with pytest.raises(AssertionError):
        deals()
    advance_clocks(emulators, 5)
    if edited_in == "hubspot":
        hs_deal_update(hs_person, deal, dealname="Lost Opportunity, renamed")
    else:
        [row] = sf_person.query("SELECT Id FROM Opportunity")["records"]
        sf_person.Opportunity.update(row["Id"], {"Name": "Lost Opportunity (rep)"})
    deals()
    deals()
    assert sf_person.query("SELECT Id FROM Opportunity")["totalSize"] == 1
    assert hs_deal_ids(hs_person) == [str(deal)]
    assert deals.link(hubspot_id=str(deal))


@pytest.mark.parametrize("edited_in", ["hubspot", "salesforce"])
def test_a_lost_task_create_edited_before_the_next_cycle_is_found(
    integration, emulators, sf_person, hs_person, edited_in
):
    """An org without HubSpot_Id__c on Task: a lost Task create is found by its person,
    subject and date as sent (docs/sync-engine.md, *Activities*, Idempotent creates)."""
    from hubspot.crm.objects import SimplePublicObjectInput as EngagementUpdate

    from sync_engine.models import RecordLink
    from sync_engine.services import object_settings_update, object_sync_get_or_create
    from sync_engine.sync.cycle import sync_cycle_run

    from .helpers import new_lead
    from .test_activities import engagement, tasks_of

    emulators.hubspot.app.configure_budget(search_per_second=1000)
    object_sync_get_or_create(integration=integration, object_name="contacts")
    object_settings_update(
        integration=integration, object_name="activities", changes={}, enabled=True
    )
    lead = new_lead(sf_person, FirstName="Ada", LastName="Lovelace", Email="ada@example.com")
    sync_cycle_run(integration=integration, object_name="contacts")
    contact = RecordLink.objects.get(object="contacts", salesforce_id=lead).hubspot_id
    object_settings_update(
        integration=integration, object_name="activities", changes={"hubspot_calls": True}
    )
    call = engagement(hs_person, "calls", contact, hs_call_title="Intro")
    lose_the_next_create_answer(emulators)
    run = sync_cycle_run(integration=integration, object_name="activities")
    assert run.status == "failed"
    advance_clocks(emulators, 5)
    if edited_in == "hubspot":
        hs_person.crm.objects.basic_api.update(
            "calls", call, EngagementUpdate(properties={"hs_call_title": "Intro, renamed"})
        )
    else:
        [task] = tasks_of(sf_person, lead)
        sf_person.Task.update(task["Id"], {"Subject": "Intro call (rep)"})
    for _ in range(2):
        assert sync_cycle_run(integration=integration, object_name="activities").status == (
            "succeeded"
        )
    assert len(tasks_of(sf_person, lead)) == 1
