"""More sync key and external id clashes. Deals: a new opportunity whose id a deal linked to
another opportunity holds in its sync key never takes that deal (its values, pipeline, stage
and associations stay), gets a *Value already in use* error, and gets its own deal once the
key is emptied. Custom objects: a number external id finds the HubSpot record holding the
same number written otherwise (``1000.50`` is ``1000.5``), instead of making a duplicate."""

from __future__ import annotations

import pytest

from emulators.testing import advance_clocks
from sync_engine.models import FieldMapping, SyncError
from sync_engine.services import object_settings_update

from .helpers import due_now
from .test_deals import (
    deal_companies,
    deal_contacts,
    hs_deal_get,
    hs_deal_ids,
    hs_deal_update,
    hs_stage,
    new_opportunity,
)

DEAL_KEY = "salesforce_opportunity_id_sync"
DEAL_PROPS = ("dealname", "amount", "pipeline", "dealstage", DEAL_KEY)


def open_errors(object_name: str):
    return SyncError.objects.filter(object=object_name, resolved_at__isnull=True)


def opportunity_with_ties(deals, sf, name: str, domain: str, **fields) -> str:
    """An opportunity on an account of its own with one contact's role."""
    account = sf.Account.create({"Name": f"{name} Inc"})["id"]
    contact = sf.Contact.create({"LastName": name, "Email": f"x@{domain}.example"})["id"]
    opportunity = new_opportunity(sf, Name=name, AccountId=account, **fields)
    deals.sf_action("add_contact_role", opportunity_id=opportunity, contact_id=contact)
    return opportunity


@pytest.mark.parametrize("moved", [True, False], ids=["stage-moved-too", "key-only"])
def test_a_new_opportunity_whose_id_a_linked_deal_holds_never_takes_that_deal(
    deals, integration, sf_person, hs_person, moved
):
    for name in ("companies", "contacts"):
        object_settings_update(integration=integration, object_name=name, changes={}, enabled=True)
    FieldMapping.objects.filter(object="deals", hubspot_property="dealstage").update(rule="two_way")
    held = opportunity_with_ties(
        deals, sf_person, "Initech", "initech", Amount=1000, StageName="Needs Analysis"
    )
    deals.all()
    deals()  # reads back its own writes
    holder = deals.link(salesforce_id=held).hubspot_id
    before = hs_deal_get(hs_person, holder, *DEAL_PROPS)
    contacts, companies = deal_contacts(hs_person, holder), deal_companies(hs_person, holder)
    assert before["amount"] == "1000" and len(contacts) == 1 and len(companies) == 1
    advance_clocks(deals.emulators, 5)

    claimed = opportunity_with_ties(
        deals, sf_person, "Globex", "globex", Amount=2000, StageName="Closed Won"
    )
    # Someone types Globex's id into the deal's key (and moves the deal on a stage).
    edit = {DEAL_KEY: claimed}
    if moved:
        edit["dealstage"] = before["dealstage"] = hs_stage(hs_person, "Proposal/Price Quote")[1].id
    hs_deal_update(hs_person, holder, **edit)
    deals.all()
    assert deals.link(salesforce_id=held).hubspot_id == holder
    assert not deals.links().filter(salesforce_id=claimed).exists()
    after = hs_deal_get(hs_person, holder, *DEAL_PROPS)
    assert {k: after[k] for k in DEAL_PROPS[:4]} == {k: before[k] for k in DEAL_PROPS[:4]}
    assert deal_contacts(hs_person, holder) == contacts
    assert deal_companies(hs_person, holder) == companies
    opportunity = sf_person.Opportunity.get(held)
    assert opportunity["Name"] == "Initech" and opportunity["Amount"] == 1000
    assert opportunity["StageName"] == ("Proposal/Price Quote" if moved else "Needs Analysis")
    error = open_errors("deals").get()
    assert error.record_key == f"salesforce:{claimed}" and error.error_type == "value_in_use"
    assert error.code == "SYNC_KEY_IN_USE" and error.hubspot_id == holder
    assert holder in error.message and held in error.message and DEAL_KEY in error.message
    assert len(hs_deal_ids(hs_person)) == 1

    # The deal's own sync gave its key back its opportunity's id, the key alone edited too.
    assert after[DEAL_KEY] == held
    advance_clocks(deals.emulators, 5)
    due_now(error)
    deals.all()
    made = deals.link(salesforce_id=claimed).hubspot_id
    assert made != holder
    props = hs_deal_get(hs_person, made, *DEAL_PROPS)
    assert props["dealname"] == "Globex" and props["amount"] == "2000"
    assert props["dealstage"] == hs_stage(hs_person, "Closed Won")[1].id
    assert props[DEAL_KEY] == claimed
    assert deal_contacts(hs_person, made) not in ([], contacts)
    assert deal_companies(hs_person, made) not in ([], companies)
    kept = hs_deal_get(hs_person, holder, *DEAL_PROPS)
    assert {k: kept[k] for k in DEAL_PROPS[:4]} == {k: before[k] for k in DEAL_PROPS[:4]}
    assert deal_contacts(hs_person, holder) == contacts
    assert deal_companies(hs_person, holder) == companies
    assert deals.link(salesforce_id=held).hubspot_id == holder
    assert sf_person.Opportunity.get(held)["Amount"] == 1000
    assert len(hs_deal_ids(hs_person)) == 2
    assert not open_errors("deals").exists()


def numbered_projects(integration, emulators, hs_person):
    """Projects whose external id is a number field (``Code_Number__c``) mapped to budget."""
    from .test_custom_objects import MAPPINGS, Projects, set_up

    emulators.salesforce.app.run_action(
        "add_field", object="Project__c", field="Code_Number", type="double",
        external_id=True, unique=True,
    )  # fmt: skip
    emulators.hubspot.app.configure_budget(search_per_second=1000)
    mappings = {**MAPPINGS, "Code_Number__c": "budget"}
    mappings.pop("Budget__c")
    hs_type, name = set_up(integration, hs_person, mappings=mappings)
    return Projects(integration, emulators, hs_person, hs_type, name)


def test_a_number_external_id_matches_the_same_number_written_otherwise(
    integration, emulators, hs_person, sf_person
):
    pairing = numbered_projects(integration, emulators, hs_person)
    decimals = pairing.create(project_name="Apollo in HubSpot", budget="1000.50")
    whole = pairing.create(project_name="Gemini in HubSpot", budget="2000")
    apollo = sf_person.Project__c.create({"Name": "Apollo", "Code_Number__c": 1000.5})["id"]
    gemini = sf_person.Project__c.create({"Name": "Gemini", "Code_Number__c": 2000.0})["id"]
    run = pairing()
    assert run.counts.get("matched") == 2 and not run.counts.get("created_in_hubspot")
    assert not run.counts.get("created_in_salesforce")
    assert pairing.link(salesforce_id=apollo).hubspot_id == decimals
    assert pairing.link(salesforce_id=gemini).hubspot_id == whole
    assert sorted(pairing.ids()) == sorted([decimals, whole])
    assert len(sf_person.query("SELECT Id FROM Project__c")["records"]) == 2
    assert pairing.get(decimals)["project_name"] == "Apollo"
    assert not open_errors(pairing.name).exists()
