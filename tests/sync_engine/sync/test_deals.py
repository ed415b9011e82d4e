"""Deals ⇄ opportunities (spec §10), end to end through the official clients and emulators."""

from __future__ import annotations

import pytest
from django.utils import timezone
from hubspot.crm.deals import SimplePublicObjectInput as DealInput
from hubspot.crm.deals import SimplePublicObjectInputForCreate as DealCreate

from emulators.testing import advance_clocks, salesforce_client
from integration_admin.labels import run_details
from sync_engine.models import ApiCall, RecordLink, SchemaCache, SyncError, System
from sync_engine.services import (
    object_settings_update,
    object_sync_get_or_create,
    record_resync,
)
from sync_engine.sync.cycle import sync_cycle_run
from sync_engine.sync.pipelines import DEFAULT_LABEL, synced_pipelines

from ..conftest import SF_TOKEN
from .helpers import hs_create


@pytest.fixture
def with_companies(deals, integration):
    object_settings_update(
        integration=integration, object_name="companies", changes={}, enabled=True
    )
    return deals


def new_opportunity(sf, **fields) -> str:
    return sf.Opportunity.create(
        {"Name": "Big Deal", "StageName": "Prospecting", "CloseDate": "2026-12-31", **fields}
    )["id"]


def opportunity_with_role(deals, sf_person, *, account, person, email, opportunity):
    """An account, a contact on it and an opportunity with that contact's role: their ids."""
    account_id = sf_person.Account.create({"Name": account})["id"]
    contact_id = sf_person.Contact.create(
        {"LastName": person, "Email": email, "AccountId": account_id}
    )["id"]
    opportunity_id = new_opportunity(sf_person, Name=opportunity, AccountId=account_id)
    deals.sf_action("add_contact_role", opportunity_id=opportunity_id, contact_id=contact_id)
    return account_id, contact_id, opportunity_id


def deal_with_two_roles(deals, sf_person, name: str) -> tuple[str, str, str, str]:
    """An opportunity ``name`` with Ann's and Bob's contact roles, synced (its own writes
    read back): (opportunity, deal, Ann's contact, Bob's contact)."""
    domain = name.lower().replace(" ", "-")
    ann = sf_person.Contact.create({"LastName": "Ann", "Email": f"ann@{domain}.example"})["id"]
    bob = sf_person.Contact.create({"LastName": "Bob", "Email": f"bob@{domain}.example"})["id"]
    opportunity = new_opportunity(sf_person, Name=name)
    for contact in (ann, bob):
        deals.sf_action("add_contact_role", opportunity_id=opportunity, contact_id=contact)
    deals.all()
    deals()  # reads back its own writes
    return opportunity, deals.link(salesforce_id=opportunity).hubspot_id, ann, bob


def role_delete(sf_person, contact: str) -> None:
    """The contact's role deleted in Salesforce."""
    role = sf_person.query(
        f"SELECT Id FROM OpportunityContactRole WHERE ContactId = '{contact}'"  # noqa: S608
    )["records"][0]["Id"]
    sf_person.OpportunityContactRole.delete(role)


def hs_deal(hs, **properties) -> str:
    return hs.crm.deals.basic_api.create(DealCreate(properties=properties)).id


def deal_from_hubspot(deals, hs, **properties) -> tuple[str, str]:
    """A deal made in HubSpot at Needs Analysis, given its opportunity by the next cycle:
    (the deal, the opportunity)."""
    pipeline_id, stage = hs_stage(hs, "Needs Analysis")
    deal = hs_deal(hs, pipeline=pipeline_id, dealstage=stage.id, **properties)
    run = deals()
    assert run.counts["created_in_salesforce"] == 1
    return deal, deals.link(hubspot_id=str(deal)).salesforce_id


def hs_deal_get(hs, deal_id, *props) -> dict:
    return hs.crm.deals.basic_api.get_by_id(deal_id, properties=list(props)).properties


def hs_deal_update(hs, deal_id, **properties) -> None:
    hs.crm.deals.basic_api.update(deal_id, DealInput(properties=properties))


def hs_deal_ids(hs) -> list[str]:
    return [d.id for d in hs.crm.deals.basic_api.get_page(limit=100).results]


def deal_contacts(hs, deal_id) -> list[str]:
    page = hs.crm.associations.v4.basic_api.get_page("deals", deal_id, "contacts")
    return sorted(str(r.to_object_id) for r in page.results)


def deal_companies(hs, deal_id) -> list[str]:
    page = hs.crm.associations.v4.basic_api.get_page("deals", deal_id, "companies")
    return sorted(str(r.to_object_id) for r in page.results)


def roles(sf, opportunity) -> list[str]:
    soql = f"SELECT ContactId FROM OpportunityContactRole WHERE OpportunityId = '{opportunity}'"  # noqa: S608
    return sorted(r["ContactId"] for r in sf.query(soql)["records"])


def hs_pipelines(hs):
    return hs.crm.pipelines.pipelines_api.get_all("deals").results


def hs_stage(hs, stage: str, label: str = DEFAULT_LABEL):
    pipeline = next(p for p in hs_pipelines(hs) if p.label == label)
    return pipeline.id, next(s for s in pipeline.stages if s.label == stage and not s.archived)


# --- switch, pipelines --------------------------------------------------------------------
def test_deal_sync_starts_off(integration, sf_person):
    row = object_sync_get_or_create(integration=integration, object_name="deals")
    assert row.enabled is False
    new_opportunity(sf_person)
    run = sync_cycle_run(integration=integration, object_name="deals")
    assert run.message == "Sync is off for this object."
    assert not RecordLink.objects.filter(object="deals").exists()


def test_one_default_pipeline_mirrors_the_stage_picklist(deals, hs_person):
    run = deals()
    assert run.counts["pipelines_created"] == 1
    pipeline = next(p for p in hs_pipelines(hs_person) if p.label == DEFAULT_LABEL)
    labels = [s.label for s in sorted(pipeline.stages, key=lambda s: s.display_order)]
    assert labels[:2] == ["Prospecting", "Qualification"]
    assert "Closed Won" in labels and "Closed Lost" in labels
    stages = {s.label: s.metadata for s in pipeline.stages}
    assert stages["Closed Won"] == {"isClosed": "true", "probability": "1.0"}
    assert stages["Closed Lost"] == {"isClosed": "true", "probability": "0.0"}
    assert stages["Prospecting"]["isClosed"] == "false"
    assert deals.pipeline()["stage_count"] == len(labels)
    # Kept in step cheaply: no describe, no pipeline call while nothing changed.
    again = deals()
    assert again.counts.get("pipelines_created", 0) == 0
    assert len([p for p in hs_pipelines(hs_person) if p.label.startswith("Salesforce")]) == 1


def test_one_pipeline_per_record_type(deals, sf_person, hs_person):
    first = deals.sf_action("add_record_type", object="Opportunity", label="New Business")
    second = deals.sf_action("add_record_type", object="Opportunity", label="Renewal")
    renewal = new_opportunity(sf_person, Name="Renewal 2027", RecordTypeId=second)
    default = new_opportunity(sf_person, Name="New logo")  # the default record type
    deals()
    labels = {p.label: p.id for p in hs_pipelines(hs_person)}
    assert f"Salesforce – {first}" in labels and f"Salesforce – {second}" in labels
    assert DEFAULT_LABEL not in labels
    # Named by id, as HubSpot's integration names them; the Deals tab shows the names too.
    listed = {p["record_type"]: p["record_type_name"] for p in synced_pipelines(deals.integration)}
    assert listed == {first: "New Business", second: "Renewal"}
    props = hs_deal_get(hs_person, deals.link(salesforce_id=renewal).hubspot_id, "pipeline")
    assert props["pipeline"] == labels[f"Salesforce – {second}"]
    props = hs_deal_get(hs_person, deals.link(salesforce_id=default).hubspot_id, "pipeline")
    assert props["pipeline"] == labels[f"Salesforce – {first}"]
    # Salesforce moves the opportunity to the other record type: the deal changes pipeline.
    sf_person.Opportunity.update(renewal, {"RecordTypeId": first, "StageName": "Closed Won"})
    deals()
    props = hs_deal_get(
        hs_person, deals.link(salesforce_id=renewal).hubspot_id, "pipeline", "dealstage"
    )
    pipeline_id, won = hs_stage(hs_person, "Closed Won", f"Salesforce – {first}")
    assert props == {**props, "pipeline": pipeline_id, "dealstage": won.id}


def test_a_pipeline_hubspot_refuses_fails_only_its_record_type(
    deals, sf_person, hs_person, emulators
):
    """The Sales Hub tier caps deal pipelines (spec §10): the record type over the cap gets
    an error per opportunity, the others' deals sync, and it syncs once HubSpot has room."""
    first = deals.sf_action("add_record_type", object="Opportunity", label="New Business")
    second = deals.sf_action("add_record_type", object="Opportunity", label="Renewal")
    refusal = emulators.hubspot.app.faults.add(
        path="^/crm/v3/pipelines/deals$",
        method="POST",
        after=1,  # the first pipeline is created, the second refused
        status=400,
        body={"status": "error", "category": "VALIDATION_ERROR",
              "message": "You have reached the limit of 2 deal pipelines for this account."},
    )  # fmt: skip
    fits = new_opportunity(sf_person, Name="New logo", RecordTypeId=first)
    over = new_opportunity(sf_person, Name="Renewal 2027", RecordTypeId=second)
    run = deals()
    assert run.counts["pipelines_refused"] == 1 and run.counts["failed"] == 1
    assert deals.link(salesforce_id=fits).hubspot_id
    assert not deals.links().filter(salesforce_id=over).exists()
    error = SyncError.objects.get(object="deals", resolved_at__isnull=True)
    assert (error.error_type, error.salesforce_id, error.record_label) == (
        "pipeline_limit",
        over,
        "Renewal 2027",
    )
    assert "limit of 2 deal pipelines" in error.message and second in error.message
    labels = {p.label for p in hs_pipelines(hs_person)}
    assert f"Salesforce – {first}" in labels and f"Salesforce – {second}" not in labels
    run = deals()  # no new attempt before the hourly describe
    assert not run.counts.get("pipelines_refused") and not run.counts.get("pipelines_created")

    # HubSpot has room again; the hourly describe creates the pipeline, the edit syncs.
    emulators.hubspot.app.faults.remove(refusal.id)
    state = SchemaCache.objects.get(integration=deals.integration, object="deals:pipelines")
    state.data["checked_at"] = "2020-01-01T00:00:00+00:00"
    state.save()
    sf_person.Opportunity.update(over, {"Description": "Room now"})
    run = deals()
    assert run.counts["pipelines_created"] == 1
    deal = deals.link(salesforce_id=over).hubspot_id
    pipeline_id = next(p.id for p in hs_pipelines(hs_person) if p.label == f"Salesforce – {second}")
    assert hs_deal_get(hs_person, deal, "pipeline")["pipeline"] == pipeline_id
    assert not SyncError.objects.filter(object="deals", resolved_at__isnull=True).exists()


def test_with_every_pipeline_refused_it_is_tried_again_hourly_not_every_cycle(
    deals, sf_person, emulators
):
    emulators.hubspot.app.faults.add(
        path="^/crm/v3/pipelines/deals$", method="POST", status=400,
        body={"status": "error", "category": "VALIDATION_ERROR",
              "message": "You have reached the limit of 1 deal pipeline for this account."},
    )  # fmt: skip
    opportunity = new_opportunity(sf_person, Name="Nowhere to go")
    run = deals()
    assert run.counts["pipelines_refused"] == 1 and run.counts["failed"] == 1
    error = SyncError.objects.get(object="deals", resolved_at__isnull=True)
    assert (error.error_type, error.salesforce_id) == ("pipeline_limit", opportunity)
    run = deals()  # idle: no describe, no new attempt
    assert run.calls[System.SALESFORCE] == 1 and not run.counts.get("pipelines_refused")


# --- creates and updates ------------------------------------------------------------------
def test_a_new_opportunity_creates_a_deal_and_an_idle_cycle_writes_nothing(
    deals, sf_person, hs_person
):
    opportunity = new_opportunity(
        sf_person, Name="Globex renewal", Amount=1200, Description="Three seats"
    )
    run = deals()
    assert run.counts["created_in_hubspot"] == 1
    link = deals.link(salesforce_id=opportunity)
    props = hs_deal_get(
        hs_person,
        link.hubspot_id,
        "dealname",
        "amount",
        "closedate",
        "description",
        "pipeline",
        "dealstage",
        "salesforce_opportunity_id_sync",
    )
    pipeline_id, prospecting = hs_stage(hs_person, "Prospecting")
    assert props["dealname"] == "Globex renewal" and props["amount"] in ("1200", "1200.0")
    assert props["closedate"].startswith("2026-12-31") and props["description"] == "Three seats"
    assert props["pipeline"] == pipeline_id and props["dealstage"] == prospecting.id
    assert props["salesforce_opportunity_id_sync"] == opportunity

    # Salesforce's edits win (prefer Salesforce unless blank), stage included.
    sf_person.Opportunity.update(opportunity, {"Amount": 1500, "StageName": "Closed Won"})
    run = deals()
    assert run.counts["updated_in_hubspot"] == 1
    props = hs_deal_get(hs_person, link.hubspot_id, "amount", "dealstage", "hs_is_closed_won")
    assert props["amount"] in ("1500", "1500.0")
    assert props["dealstage"] == hs_stage(hs_person, "Closed Won")[1].id
    assert props["hs_is_closed_won"] == "true"
    # HubSpot edits of a field Salesforce holds don't go back under that rule...
    hs_deal_update(hs_person, link.hubspot_id, description="Changed in HubSpot")
    deals()
    assert sf_person.Opportunity.get(opportunity)["Description"] == "Three seats"
    deals()
    idle = deals()
    assert not any(
        idle.counts.get(k)
        for k in ("created_in_hubspot", "updated_in_hubspot", "updated_in_salesforce")
    )
    assert idle.calls["salesforce"] == 1  # both change streams in one composite call


def test_a_new_deal_in_a_synced_pipeline_creates_an_opportunity(deals, sf_person, hs_person):
    deals()  # the pipelines exist
    deal, opportunity = deal_from_hubspot(
        deals, hs_person, dealname="From HubSpot", amount="99", closedate="2026-10-01"
    )
    record = sf_person.Opportunity.get(opportunity)
    assert (record["Name"], record["StageName"], record["CloseDate"]) == (
        "From HubSpot",
        "Needs Analysis",
        "2026-10-01",
    )
    assert record["Amount"] == 99 and record["HubSpot_Id__c"] == str(deal)
    # The stage moves in HubSpot: StageName follows (Salesforce's value is not blank, so it
    # needs a two-way rule).
    from sync_engine.models import FieldMapping

    FieldMapping.objects.filter(object="deals", hubspot_property="dealstage").update(rule="two_way")
    hs_deal_update(hs_person, str(deal), dealstage=hs_stage(hs_person, "Closed Lost")[1].id)
    deals()
    assert sf_person.Opportunity.get(opportunity)["StageName"] == "Closed Lost"
    deals()
    assert len(hs_deal_ids(hs_person)) == 1
    assert sf_person.query("SELECT Id FROM Opportunity")["totalSize"] == 1


def test_a_new_opportunity_brings_its_created_date_to_the_deal_in_the_same_cycle(
    deals, sf_person, hs_person
):
    """``CreatedDate`` (always Salesforce's) is set by Salesforce when the create lands: it
    is read back with the new records, so the deal has it after one cycle and the next cycle
    has nothing left to write."""
    deals()
    pipeline_id, stage = hs_stage(hs_person, "Prospecting")
    deal = hs_deal(
        hs_person,
        dealname="Dated",
        closedate="2026-10-01",
        pipeline=pipeline_id,
        dealstage=stage.id,
    )
    deals.emulators.salesforce.app.clock.advance(3600)  # Salesforce creates it an hour later
    run = deals()
    assert run.counts["created_in_salesforce"] == 1
    assert run.calls[System.SALESFORCE] >= 2  # the create and the read of what it set
    opportunity = sf_person.Opportunity.get(deals.link(hubspot_id=str(deal)).salesforce_id)
    created = hs_deal_get(hs_person, deal, "createdate")["createdate"]
    assert created[:19] == opportunity["CreatedDate"][:19]
    again = deals()
    assert again.counts.get("updated_in_hubspot", 0) == 0
    assert again.counts.get("updated_in_salesforce", 0) == 0


def test_a_deal_outside_the_synced_pipelines_does_not_sync(deals, sf_person, hs_person):
    deals()
    deal = hs_deal(
        hs_person,
        dealname="HubSpot only",
        closedate="2026-10-01",
        pipeline="default",
        dealstage="appointmentscheduled",
    )
    run = deals()
    assert run.counts["skipped_unsynced_pipeline"] == 1
    assert sf_person.query("SELECT Id FROM Opportunity")["totalSize"] == 0
    # A synced deal moved into an unsynced pipeline stops syncing (no error).
    opportunity = new_opportunity(sf_person, Name="Moves away")
    deals()
    moved = deals.link(salesforce_id=opportunity).hubspot_id
    hs_deal_update(hs_person, moved, pipeline="default", dealstage="qualifiedtobuy")
    sf_person.Opportunity.update(opportunity, {"Name": "Renamed in Salesforce"})
    run = deals()
    assert run.counts["skipped_unsynced_pipeline"] >= 1
    assert hs_deal_get(hs_person, moved, "dealname")["dealname"] == "Moves away"
    assert sf_person.Opportunity.get(opportunity)["StageName"] == "Prospecting"
    assert not SyncError.objects.filter(object="deals", resolved_at__isnull=True).exists()
    assert str(deal) not in {link.hubspot_id for link in deals.links()}
    # Its opportunity deleted (the delete setting on): the deal opted out, so it stays.
    sf_person.Opportunity.delete(opportunity)
    run = deals()
    assert run.counts["kept_unsynced_pipeline"] == 1 and not run.counts.get("deleted_in_hubspot")
    assert moved in hs_deal_ids(hs_person)
    assert not deals.links().filter(salesforce_id=opportunity).exists()


# --- associations ---------------------------------------------------------------------------
def test_contact_roles_and_deal_contacts_follow_each_other(deals, sf_person, hs_person):
    ann = sf_person.Contact.create({"LastName": "Ann", "Email": "ann@roles.example"})["id"]
    bob = sf_person.Contact.create({"LastName": "Bob", "Email": "bob@roles.example"})["id"]
    opportunity = new_opportunity(sf_person, Name="With roles")
    deals.sf_action("add_contact_role", opportunity_id=opportunity, contact_id=ann)
    deals.all()
    deal = deals.link(salesforce_id=opportunity).hubspot_id
    hs_ann = RecordLink.objects.get(object="contacts", salesforce_id=ann).hubspot_id
    hs_bob = RecordLink.objects.get(object="contacts", salesforce_id=bob).hubspot_id
    assert deal_contacts(hs_person, deal) == [hs_ann]

    # Salesforce adds a role: the deal gets the contact.
    deals.sf_action("add_contact_role", opportunity_id=opportunity, contact_id=bob)
    deals()
    assert deal_contacts(hs_person, deal) == sorted([hs_ann, hs_bob])
    # HubSpot removes Ann (an association edit doesn't change the deal): her role goes.
    hs_person.crm.associations.v4.basic_api.archive("deals", deal, "contacts", hs_ann)
    run = deals()
    assert run.counts["roles_deleted"] == 1
    assert roles(sf_person, opportunity) == [bob]
    # HubSpot adds a contact: a contact role appears.
    carl = hs_create(hs_person, email="carl@roles.example", firstname="Carl", lastname="C")
    deals("contacts")
    deals.hs_action("associate", from_type="deals", from_id=deal, to_type="contacts", to_id=carl)
    deals()
    sf_carl = RecordLink.objects.get(object="contacts", hubspot_id=str(carl)).salesforce_id
    assert roles(sf_person, opportunity) == sorted([bob, sf_carl])
    deals()
    idle = deals()
    assert not any(k.startswith(("roles_", "associations_")) and v for k, v in idle.counts.items())


def test_a_changed_opportunity_brings_its_contact_roles_along(deals, sf_person, hs_person):
    """The opportunity stream asks for each opportunity's roles with it (a child query), so a
    cycle with a changed opportunity reads them in the same call, deleted roles left out."""
    opportunity, deal, ann, bob = deal_with_two_roles(deals, sf_person, "Along")
    hs_ann = RecordLink.objects.get(object="contacts", salesforce_id=ann).hubspot_id
    hs_bob = RecordLink.objects.get(object="contacts", salesforce_id=bob).hubspot_id

    sf_person.Opportunity.update(opportunity, {"Name": "Along, renamed"})
    run = deals()

    assert run.counts["updated_in_hubspot"] == 1
    assert run.calls[System.SALESFORCE] == 1  # both streams, roles along, in one composite
    assert hs_deal_get(hs_person, deal, "dealname")["dealname"] == "Along, renamed"
    assert deal_contacts(hs_person, deal) == sorted([hs_ann, hs_bob])

    # A role deleted with the rename is left out of what the opportunity brings along.
    role_delete(sf_person, bob)
    sf_person.Opportunity.update(opportunity, {"Name": "Along, without Bob"})
    deals()
    assert deal_contacts(hs_person, deal) == [hs_ann]
    assert roles(sf_person, opportunity) == [ann]


def test_a_deal_from_hubspot_brings_its_contacts_as_roles_and_lifecycle_follows(
    deals, sf_person, hs_person
):
    contact = hs_create(hs_person, email="won@life.example", firstname="Wendy", lastname="W")
    deals.all()  # the contact becomes a Salesforce contact; the pipelines exist
    pipeline_id, won = hs_stage(hs_person, "Closed Won")
    deal = hs_deal(
        hs_person, dealname="Won", closedate="2026-01-15", pipeline=pipeline_id, dealstage=won.id
    )
    deals.hs_action("associate", from_type="deals", from_id=deal, to_type="contacts", to_id=contact)
    deals()
    opportunity = deals.link(hubspot_id=str(deal)).salesforce_id
    sf_contact = RecordLink.objects.get(object="contacts", hubspot_id=str(contact)).salesforce_id
    assert roles(sf_person, opportunity) == [sf_contact]
    # The contact pair's lifecycle automation sees the new role on a Closed Won opportunity.
    deals("contacts")
    stage = hs_person.crm.contacts.basic_api.get_by_id(
        contact, properties=["lifecyclestage"]
    ).properties["lifecyclestage"]
    assert stage == "customer"


def test_the_account_follows_the_deal_company_and_waits_for_the_account(
    with_companies, sf_person, hs_person
):
    deals = with_companies
    account = sf_person.Account.create({"Name": "Acme"})["id"]
    opportunity = new_opportunity(sf_person, Name="Acme deal", AccountId=account)
    deals.all()
    company = RecordLink.objects.get(object="companies", salesforce_id=account).hubspot_id
    deal = deals.link(salesforce_id=opportunity).hubspot_id
    assert deal_companies(hs_person, deal) == [company]

    # An account whose company doesn't exist yet: the deal waits, then is associated.
    deals.settings()  # no-op; keeps the fixture honest
    later = sf_person.Account.create({"Name": "Later Inc"})["id"]
    sf_person.Opportunity.update(opportunity, {"AccountId": later})
    run = deals()
    assert run.counts["waiting_for_account"] == 1
    error = SyncError.objects.get(object="deals", resolved_at__isnull=True)
    assert error.error_type == "waiting_for_account"
    deals("companies")
    deals()
    later_company = RecordLink.objects.get(object="companies", salesforce_id=later).hubspot_id
    assert deal_companies(hs_person, deal) == [later_company]
    assert not SyncError.objects.filter(object="deals", resolved_at__isnull=True).exists()

    # HubSpot moves the deal to another synced company: AccountId follows.
    hs_person.crm.associations.v4.basic_api.archive("deals", deal, "companies", later_company)
    deals.hs_action(
        "associate", from_type="deals", from_id=deal, to_type="companies", to_id=company
    )
    deals()
    assert sf_person.Opportunity.get(opportunity)["AccountId"] == account


def test_without_company_sync_a_deal_gets_no_company(deals, sf_person, hs_person):
    account = sf_person.Account.create({"Name": "No Sync Corp"})["id"]
    opportunity = new_opportunity(sf_person, Name="Lonely", AccountId=account)
    deals.all()
    deal = deals.link(salesforce_id=opportunity).hubspot_id
    assert deal_companies(hs_person, deal) == []
    assert not SyncError.objects.filter(object="deals").exists()


# --- deletes and duplicates -----------------------------------------------------------------
def test_deleting_an_opportunity_deletes_the_deal_but_not_the_other_way(
    deals, sf_person, hs_person
):
    gone = new_opportunity(sf_person, Name="Deleted in Salesforce")
    kept = new_opportunity(sf_person, Name="Deal deleted in HubSpot")
    contact = sf_person.Contact.create({"LastName": "K", "Email": "k@keep.example"})["id"]
    deals.sf_action("add_contact_role", opportunity_id=kept, contact_id=contact)
    deals.all()
    gone_deal = deals.link(salesforce_id=gone).hubspot_id
    kept_deal = deals.link(salesforce_id=kept).hubspot_id
    sf_person.Opportunity.delete(gone)
    run = deals()
    assert run.counts["deleted_in_hubspot"] == 1
    assert gone_deal not in hs_deal_ids(hs_person)
    assert not deals.links().filter(salesforce_id=gone).exists()

    hs_person.crm.deals.basic_api.archive(kept_deal)
    deals()
    record = sf_person.Opportunity.get(kept)
    assert record["Name"] == "Deal deleted in HubSpot"
    assert roles(sf_person, kept) == [contact]  # the roles stay too
    assert not deals.links().filter(salesforce_id=kept).exists()  # only the link retired


def test_deleting_a_company_in_hubspot_leaves_its_opportunities_on_their_account(
    with_companies, sf_person, hs_person
):
    deals = with_companies
    account = sf_person.Account.create({"Name": "Acme"})["id"]
    opportunity = new_opportunity(sf_person, Name="Anvils", AccountId=account)
    deals.all()
    deal = deals.link(salesforce_id=opportunity).hubspot_id
    company = RecordLink.objects.get(object="companies", salesforce_id=account).hubspot_id
    assert deal_companies(hs_person, deal) == [company]

    hs_person.crm.companies.basic_api.archive(company)
    deals.all()
    assert sf_person.Opportunity.get(opportunity)["AccountId"] == account  # nothing cleared
    error = SyncError.objects.get(object="deals", resolved_at__isnull=True)
    assert error.error_type == "waiting_for_account"

    sf_person.Account.update(account, {"Description": "Still here"})  # brings a new company
    deals.all()
    deals("deals")
    again = RecordLink.objects.get(object="companies", salesforce_id=account).hubspot_id
    assert again != company and deal_companies(hs_person, deal) == [again]
    assert sf_person.Opportunity.get(opportunity)["AccountId"] == account
    error.refresh_from_db()
    assert error.resolved_at is not None


def test_deleting_a_hubspot_contact_keeps_its_contact_role(deals, sf_person, hs_person):
    """A deleted contact drops out of its deals' associations. That isn't the contact taken
    off the deal: HubSpot deletes never change Salesforce (spec §10), so the role stays."""
    _, contact, opportunity = opportunity_with_role(
        deals, sf_person, account="Acme", person="Ann", email="ann@gone.example",
        opportunity="Anvils",
    )  # fmt: skip
    deals.all()
    deals()
    deal = deals.link(salesforce_id=opportunity).hubspot_id
    hs_contact = RecordLink.objects.get(object="contacts", salesforce_id=contact).hubspot_id
    assert deal_contacts(hs_person, deal) == [hs_contact]

    hs_person.crm.contacts.basic_api.archive(hs_contact)  # a marketer deletes the contact
    run = deals.all()
    assert not run.counts.get("roles_deleted")
    assert roles(sf_person, opportunity) == [contact]
    assert sf_person.Contact.get(contact)["LastName"] == "Ann"
    # Its link is retired (as the contact sync does), so later cycles don't look again.
    assert not RecordLink.objects.filter(object="contacts", hubspot_id=hs_contact).exists()
    idle = deals()
    assert idle.calls[System.SALESFORCE] == 1
    assert roles(sf_person, opportunity) == [contact]

    # Edited in Salesforce, the contact comes back to HubSpot, and onto the deal.
    sf_person.Contact.update(contact, {"Title": "Back"})
    deals.all()
    deals()
    again = RecordLink.objects.get(object="contacts", salesforce_id=contact).hubspot_id
    assert again != hs_contact
    assert deal_contacts(hs_person, deal) == [again]
    assert roles(sf_person, opportunity) == [contact]


def deal_moved_to_a_company_without_account(deals, sf_person, hs_person):
    """An opportunity on an account, synced, whose deal HubSpot then moves to a company that
    has no account (no contacts): (opportunity, account, deal, its company, the new one)."""
    from .test_companies import hs_company

    account = sf_person.Account.create({"Name": "Acme"})["id"]
    opportunity = new_opportunity(sf_person, Name="Anvils", AccountId=account)
    deals.all()
    deal = deals.link(salesforce_id=opportunity).hubspot_id
    company = RecordLink.objects.get(object="companies", salesforce_id=account).hubspot_id
    assert deal_companies(hs_person, deal) == [company]
    beta = hs_company(hs_person, name="Beta (HubSpot only)")
    hs_person.crm.associations.v4.basic_api.archive("deals", deal, "companies", company)
    deals.hs_action("associate", from_type="deals", from_id=deal, to_type="companies",
                    to_id=beta, type_id=5)  # fmt: skip
    return opportunity, account, deal, company, beta


def test_a_deal_moved_to_a_company_without_an_account_waits_with_an_error_until_it_has_one(
    with_companies, sf_person, hs_person, integration
):
    deals = with_companies
    opportunity, account, deal, _, beta = deal_moved_to_a_company_without_account(
        deals, sf_person, hs_person
    )
    run = deals.all()
    assert run.counts["waiting_for_account"] == 1
    assert sf_person.Opportunity.get(opportunity)["AccountId"] == account  # nothing cleared
    error = SyncError.objects.get(object="deals", resolved_at__isnull=True)
    assert error.error_type == "waiting_for_account" and error.record_key == f"hubspot:{deal}"
    assert error.direction == "to_salesforce" and error.salesforce_id == opportunity
    assert f"Company {beta} hasn't synced to Salesforce yet" in error.message
    assert "'Sync a company' on the Companies tab" in error.message

    # Its retry finds the deal still waiting: the error stays.
    SyncError.objects.filter(pk=error.pk).update(next_retry_at=timezone.now())
    deals()
    error.refresh_from_db()
    assert error.resolved_at is None and error.attempts == 2
    idle = deals()
    assert idle.calls[System.SALESFORCE] == 1  # waiting costs nothing per cycle

    # A manual Sync of the company creates its account: the opportunity follows, the error ends.
    record_resync(integration=integration, object_name="companies", record_key=f"hubspot:{beta}")
    deals.all()
    beta_account = RecordLink.objects.get(object="companies", hubspot_id=beta).salesforce_id
    assert sf_person.Opportunity.get(opportunity)["AccountId"] == beta_account
    error.refresh_from_db()
    assert error.resolved_at is not None
    assert not SyncError.objects.filter(resolved_at__isnull=True).exists()


def test_a_deal_moved_back_from_a_company_without_an_account_ends_its_wait(
    with_companies, sf_person, hs_person
):
    deals = with_companies
    opportunity, account, deal, company, beta = deal_moved_to_a_company_without_account(
        deals, sf_person, hs_person
    )
    deals.all()
    error = SyncError.objects.get(object="deals", resolved_at__isnull=True)
    assert error.error_type == "waiting_for_account"

    hs_person.crm.associations.v4.basic_api.archive("deals", deal, "companies", beta)
    deals.hs_action("associate", from_type="deals", from_id=deal, to_type="companies",
                    to_id=company, type_id=5)  # fmt: skip
    deals()
    error.refresh_from_db()
    assert error.resolved_at is not None
    assert sf_person.Opportunity.get(opportunity)["AccountId"] == account
    assert deal_companies(hs_person, deal) == [company]


def test_deleting_an_opportunity_with_do_nothing_keeps_the_deal(deals, sf_person, hs_person):
    deals.settings(salesforce_delete="nothing")
    opportunity = new_opportunity(sf_person, Name="Keep the deal")
    deals()
    deal = deals.link(salesforce_id=opportunity).hubspot_id
    sf_person.Opportunity.delete(opportunity)
    deals()
    assert deal in hs_deal_ids(hs_person) and not deals.links().exists()
    # The kept deal's next edit doesn't bring the opportunity back.
    hs_deal_update(hs_person, deal, description="Note from marketing")
    run = deals()
    assert run.counts["skipped_salesforce_deleted"] == 1, run.counts
    assert sf_person.query("SELECT Id FROM Opportunity")["totalSize"] == 0
    assert not deals.links().exists()


def test_a_deal_create_lost_after_it_landed_is_not_duplicated(
    deals, sf_person, hs_person, emulators
):
    deals()  # pipelines
    opportunity = new_opportunity(sf_person, Name="Crashy")
    emulators.hubspot.app.faults.add(
        path="/crm/v3/objects/deals/batch/upsert",
        apply_then_fail=True,
        error_code="BAD_GATEWAY",
        times=4,  # every retry of this cycle: it fails with the deal created, unlinked
    )
    with pytest.raises(AssertionError):
        deals()
    deals()
    assert len(hs_deal_ids(hs_person)) == 1
    assert deals.link(salesforce_id=opportunity)


def test_an_opportunity_create_lost_after_it_landed_is_not_duplicated(
    deals, sf_person, hs_person, emulators
):
    deals()
    pipeline_id, stage = hs_stage(hs_person, "Prospecting")
    deal = hs_deal(
        hs_person, dealname="Crash Opp", closedate="2026-03-01", pipeline=pipeline_id,
        dealstage=stage.id,
    )  # fmt: skip
    emulators.salesforce.app.faults.add(
        path="/composite/sobjects/Opportunity",
        apply_then_fail=True,
        error_code="SERVER_UNAVAILABLE",
        times=4,
    )
    with pytest.raises(AssertionError):
        deals()  # the opportunity landed, every answer was lost: the cycle fails unlinked
    deals()
    deals()
    assert sf_person.query("SELECT Id FROM Opportunity")["totalSize"] == 1
    assert deals.link(hubspot_id=str(deal))
    assert len(hs_deal_ids(hs_person)) == 1


def test_opportunities_are_not_matched_by_name(deals, sf_person, hs_person):
    deals()
    pipeline_id, stage = hs_stage(hs_person, "Prospecting")
    hs_deal(
        hs_person, dealname="Same Name", closedate="2026-03-01", pipeline=pipeline_id,
        dealstage=stage.id,
    )  # fmt: skip
    new_opportunity(sf_person, Name="Same Name")
    deals()
    deals()
    assert len(hs_deal_ids(hs_person)) == 2
    assert sf_person.query("SELECT Id FROM Opportunity")["totalSize"] == 2


# --- owners, late links, cost ---------------------------------------------------------------
def test_owner_is_two_way_and_a_new_opportunity_without_a_valid_owner_gets_the_integration_user(
    deals, integration, sf_person, hs_person, emulators
):
    sf_user = deals.sf_action(
        "create_user", first_name="Sanne", last_name="Visser", email="sanne@example.com"
    )
    sanne = deals.hs_action(
        "create_owner", email="sanne@example.com", first_name="Sanne", last_name="Visser"
    )["id"]
    stranger = deals.hs_action(
        "create_owner", email="stranger@example.com", first_name="No", last_name="Match"
    )["id"]
    opportunity = new_opportunity(sf_person, Name="Owned", OwnerId=sf_user)
    deals()
    deal = deals.link(salesforce_id=opportunity).hubspot_id
    assert hs_deal_get(hs_person, deal, "hubspot_owner_id")["hubspot_owner_id"] == sanne
    hs_deal_update(hs_person, deal, hubspot_owner_id=stranger)
    run = deals()
    assert run.counts["owner_resets"] == 1
    assert hs_deal_get(hs_person, deal, "hubspot_owner_id")["hubspot_owner_id"] == sanne

    pipeline_id, stage = hs_stage(hs_person, "Prospecting")
    new_deal = hs_deal(
        hs_person, dealname="Unowned", closedate="2026-05-01", pipeline=pipeline_id,
        dealstage=stage.id, hubspot_owner_id=stranger,
    )  # fmt: skip
    deals()
    created = deals.link(hubspot_id=str(new_deal)).salesforce_id
    assert (
        sf_person.Opportunity.get(created)["OwnerId"] == integration.salesforce_connection.user_id
    )


def test_a_contact_that_syncs_after_its_opportunity_is_associated_then(deals, sf_person, hs_person):
    contact = sf_person.Contact.create({"LastName": "Late"})["id"]  # no email: doesn't sync
    opportunity = new_opportunity(sf_person, Name="Early")
    deals.sf_action("add_contact_role", opportunity_id=opportunity, contact_id=contact)
    deals.all()
    deal = deals.link(salesforce_id=opportunity).hubspot_id
    assert deal_contacts(hs_person, deal) == []
    sf_person.Contact.update(contact, {"Email": "late@links.example"})
    deals("contacts")
    deals()
    hs_contact = RecordLink.objects.get(object="contacts", salesforce_id=contact).hubspot_id
    assert deal_contacts(hs_person, deal) == [hs_contact]


def test_an_idle_cycle_costs_one_salesforce_call_and_reads_only_on_hubspot(
    with_companies, sf_person, hs_person
):
    deals = with_companies
    account = sf_person.Account.create({"Name": "Idle Inc"})["id"]
    contact = sf_person.Contact.create(
        {"LastName": "Idle", "Email": "idle@idle.example", "AccountId": account}
    )["id"]
    for n in range(3):
        opportunity = new_opportunity(sf_person, Name=f"Idle {n}", AccountId=account)
        deals.sf_action("add_contact_role", opportunity_id=opportunity, contact_id=contact)
    deals.all()
    deals.all()
    idle = deals()
    writes = [k for k, v in idle.counts.items() if v and k.startswith(("created", "updated"))]
    assert not writes and not idle.counts.get("associations_to_hubspot")
    # Opportunities and roles in one composite call; the deal search and one association
    # read per associated object type for the sweep.
    assert idle.calls == {"salesforce": 1, "hubspot": 3}


def test_record_types_added_later_get_pipelines_and_deals_move_there(deals, sf_person, hs_person):
    early = new_opportunity(sf_person, Name="Before record types", StageName="Qualification")
    deals()
    early_deal = deals.link(salesforce_id=early).hubspot_id
    default_id = hs_stage(hs_person, "Qualification")[0]
    assert hs_deal_get(hs_person, early_deal, "pipeline")["pipeline"] == default_id
    first = deals.sf_action("add_record_type", object="Opportunity", label="New Business")
    second = deals.sf_action("add_record_type", object="Opportunity", label="Renewal")
    renewal = new_opportunity(sf_person, Name="Renewal", RecordTypeId=second)
    state = SchemaCache.objects.get(integration=deals.integration, object="deals:pipelines")
    state.data = {**state.data, "checked_at": "2020-01-01T00:00:00+00:00"}  # an hour later
    state.save()
    run = deals()  # the describe changed: pipelines and the cached schema follow
    assert run.counts["pipelines_created"] == 2
    labels = {p["label"] for p in synced_pipelines(deals.integration)}
    assert labels == {f"Salesforce – {first}", f"Salesforce – {second}"}
    props = hs_deal_get(hs_person, deals.link(salesforce_id=renewal).hubspot_id, "pipeline")
    assert props["pipeline"] == hs_stage(hs_person, "Prospecting", f"Salesforce – {second}")[0]
    # The deal in the old default pipeline moved to its record type's pipeline, same stage.
    pipeline_id, stage = hs_stage(hs_person, "Qualification", f"Salesforce – {first}")
    props = hs_deal_get(hs_person, early_deal, "pipeline", "dealstage")
    assert (props["pipeline"], props["dealstage"]) == (pipeline_id, stage.id)
    assert sf_person.Opportunity.get(early)["StageName"] == "Qualification"
    idle = deals()
    assert not idle.counts.get("updated_in_hubspot")


def test_pipeline_stages_are_put_back_in_step_when_the_describe_is_read_again(
    deals, integration, hs_person
):
    deals()
    pipeline_id, won = hs_stage(hs_person, "Closed Won")
    _, lost = hs_stage(hs_person, "Closed Lost")
    hs_person.crm.pipelines.pipeline_stages_api.update(
        "deals", pipeline_id, won.id, {"metadata": {"isClosed": "false", "probability": "0.5"}}
    )
    hs_person.crm.pipelines.pipeline_stages_api.update(
        "deals", pipeline_id, lost.id, {"archived": True}
    )
    # Not before the describe is due again (hourly), and only when it changed.
    assert deals().counts.get("pipeline_stages_updated", 0) == 0
    state = SchemaCache.objects.get(integration=integration, object="deals:pipelines")
    state.data = {**state.data, "checked_at": "2020-01-01T00:00:00+00:00", "signature": "old"}
    state.save()
    run = deals()
    assert run.counts["pipeline_stages_updated"] == 1
    assert run.counts["pipeline_stages_created"] == 1
    assert hs_stage(hs_person, "Closed Won")[1].metadata == {
        "isClosed": "true",
        "probability": "1.0",
    }
    new_lost = hs_stage(hs_person, "Closed Lost")[1]
    assert new_lost.id != lost.id
    assert deals.pipeline()["stage_count"] == 10


def test_a_deal_company_without_an_account_sets_the_account_once_it_has_one(
    with_companies, sf_person, hs_person
):
    deals = with_companies
    from .test_companies import hs_company

    company = hs_company(hs_person, name="No Account Yet")
    deals.all()  # the company has no contacts: no account
    pipeline_id, stage = hs_stage(hs_person, "Prospecting")
    deal = hs_deal(
        hs_person, dealname="Waits for account", closedate="2026-04-01", pipeline=pipeline_id,
        dealstage=stage.id,
    )  # fmt: skip
    deals.hs_action("associate", from_type="deals", from_id=deal, to_type="companies",
                    to_id=company)  # fmt: skip
    deals()
    opportunity = deals.link(hubspot_id=str(deal)).salesforce_id
    assert sf_person.Opportunity.get(opportunity)["AccountId"] is None
    waiting = SyncError.objects.get(object="deals", resolved_at__isnull=True)
    assert waiting.error_type == "waiting_for_account"
    assert waiting.record_key == f"hubspot:{deal}" and "has no account" in waiting.message
    idle = deals()
    idle = deals()
    assert idle.calls["salesforce"] == 1  # waiting costs nothing per cycle
    contact = hs_create(hs_person, email="acc@later.example", firstname="A", lastname="L")
    deals("contacts")
    deals.hs_action("associate", from_type="contacts", from_id=contact, to_type="companies",
                    to_id=company)  # fmt: skip
    deals("companies")  # the company creates its account
    account = RecordLink.objects.get(object="companies", hubspot_id=str(company)).salesforce_id
    deals()
    assert sf_person.Opportunity.get(opportunity)["AccountId"] == account
    waiting.refresh_from_db()
    assert waiting.resolved_at is not None


def test_a_refused_company_association_is_an_error_and_never_clears_the_account(
    with_companies, sf_person, hs_person, emulators
):
    deals = with_companies
    account = sf_person.Account.create({"Name": "Refused"})["id"]
    deals("companies")
    opportunity = new_opportunity(sf_person, Name="Refused deal", AccountId=account)
    emulators.hubspot.app.faults.add(
        path="/crm/v4/associations/deals/companies/batch/create",
        status=400,
        body={
            "status": "error",
            "category": "VALIDATION_ERROR",
            "message": "Association limit reached for this record",
        },
        times=1,
    )
    run = deals()
    assert run.counts["failed"] == 1
    error = SyncError.objects.get(object="deals", resolved_at__isnull=True)
    assert error.error_type == "association_limit"
    deal = deals.link(salesforce_id=opportunity).hubspot_id
    assert deal_companies(hs_person, deal) == []
    deals()
    deals()
    assert sf_person.Opportunity.get(opportunity)["AccountId"] == account
    SyncError.objects.filter(pk=error.pk).update(next_retry_at="2020-01-01T00:00:00Z")
    deals()
    company = RecordLink.objects.get(object="companies", salesforce_id=account).hubspot_id
    assert deal_companies(hs_person, deal) == [company]
    assert not SyncError.objects.filter(object="deals", resolved_at__isnull=True).exists()


def test_hubspot_fills_blank_salesforce_fields_and_two_way_fields_follow_the_latest_edit(
    deals, sf_person, hs_person
):
    from sync_engine.models import FieldMapping

    opportunity = new_opportunity(sf_person, Name="Rules")  # no description, no amount
    deals()
    deal = deals.link(salesforce_id=opportunity).hubspot_id
    hs_deal_update(hs_person, deal, description="Filled in HubSpot", amount="250")
    run = deals()
    assert run.counts["updated_in_salesforce"] == 1
    record = sf_person.Opportunity.get(opportunity)
    assert (record["Description"], record["Amount"]) == ("Filled in HubSpot", 250)
    # Prefer Salesforce unless blank: once Salesforce has a value, HubSpot's edits stay there.
    hs_deal_update(hs_person, deal, amount="300")
    deals()
    assert sf_person.Opportunity.get(opportunity)["Amount"] == 250
    # Two-way: the most recent edit wins, from either side.
    FieldMapping.objects.filter(object="deals", hubspot_property="dealname").update(rule="two_way")
    hs_deal_update(hs_person, deal, dealname="Renamed in HubSpot")
    deals()
    assert sf_person.Opportunity.get(opportunity)["Name"] == "Renamed in HubSpot"
    sf_person.Opportunity.update(opportunity, {"Name": "Renamed in Salesforce"})
    deals()
    assert hs_deal_get(hs_person, deal, "dealname")["dealname"] == "Renamed in Salesforce"


def test_deals_run_in_a_cycle_over_every_pair(with_companies, emulators, sf_person, hs_person):
    from sync_engine.sync.cycle import sync_cycles_run

    deals = with_companies
    account, contact, opportunity = opportunity_with_role(
        deals,
        sf_person,
        account="Everything Inc",
        person="Every",
        email="every@thing.example",
        opportunity="Everything deal",
    )
    runs = sync_cycles_run(integration=deals.integration)
    assert all(r.status == "succeeded" for r in runs), [(r.object, r.message) for r in runs]
    assert [r.object for r in runs][:3] == ["contacts", "companies", "deals"]
    deal = deals.link(salesforce_id=opportunity).hubspot_id
    hs_contact = RecordLink.objects.get(object="contacts", salesforce_id=contact).hubspot_id
    company = RecordLink.objects.get(object="companies", salesforce_id=account).hubspot_id
    assert deal_contacts(hs_person, deal) == [hs_contact]
    assert deal_companies(hs_person, deal) == [company]
    sf_person.Opportunity.update(opportunity, {"StageName": "Closed Won"})
    advance_clocks(emulators, 61)  # the next scheduled cycle: its probe answers in minutes
    runs = sync_cycles_run(integration=deals.integration)
    assert all(r.status == "succeeded" for r in runs), [(r.object, r.message) for r in runs]
    props = hs_deal_get(hs_person, deal, "dealstage")
    assert props["dealstage"] == hs_stage(hs_person, "Closed Won")[1].id
    stage = hs_person.crm.contacts.basic_api.get_by_id(
        hs_contact, properties=["lifecyclestage"]
    ).properties["lifecyclestage"]
    assert stage == "customer"


def test_without_an_external_id_a_lost_opportunity_create_is_found_not_duplicated(
    deals, integration, sf_person, hs_person, emulators
):
    deals()
    # An org without HubSpot_Id__c on Opportunity: plain creates, never retried.
    cache = SchemaCache.objects.get(
        integration=integration, system="salesforce", object="Opportunity"
    )
    cache.data = [f for f in cache.data if f["name"] != "HubSpot_Id__c"]
    cache.save()
    pipeline_id, stage = hs_stage(hs_person, "Prospecting")
    deal = hs_deal(
        hs_person, dealname="No External Id", closedate="2026-03-01", pipeline=pipeline_id,
        dealstage=stage.id,
    )  # fmt: skip
    emulators.salesforce.app.faults.add(
        path="/composite/sobjects$", method="POST", apply_then_fail=True, drop=True, times=1
    )
    with pytest.raises(AssertionError):
        deals()  # the opportunity landed, the answer was lost
    assert deals().counts["matched"] == 1  # its own create, found by the opportunity read
    deals()
    assert sf_person.query("SELECT Id FROM Opportunity")["totalSize"] == 1
    assert deals.link(hubspot_id=str(deal))
    assert len(hs_deal_ids(hs_person)) == 1
    # Someone else's opportunity of the same name is never taken for a deal.
    new_opportunity(sf_person, Name="No External Id")
    deals()
    assert len(hs_deal_ids(hs_person)) == 2


def test_without_an_external_id_the_integration_users_own_opportunity_gets_its_own_deal(
    deals, integration, hs_person, emulators
):
    """Lost creates are looked for only among the creates the sync noted it was sending:
    an opportunity someone makes while logged in as the integration user is not taken for
    an unrelated deal of the same name (one in an unsynced pipeline, here)."""
    deals()
    cache = SchemaCache.objects.get(
        integration=integration, system="salesforce", object="Opportunity"
    )
    cache.data = [f for f in cache.data if f["name"] != "HubSpot_Id__c"]
    cache.save()
    hs_deal(hs_person, dealname="Renewal", pipeline="default", dealstage="appointmentscheduled")
    as_integration_user = salesforce_client(emulators, token=SF_TOKEN)
    opportunity = as_integration_user.Opportunity.create(
        {"Name": "Renewal", "StageName": "Prospecting", "CloseDate": "2026-12-31"}
    )["id"]
    run = deals()
    assert run.counts["created_in_hubspot"] == 1, run.counts
    deal = deals.link(salesforce_id=opportunity).hubspot_id
    assert hs_deal_get(hs_person, deal, "pipeline")["pipeline"] != "default"
    assert len(hs_deal_ids(hs_person)) == 2


def test_a_deal_moved_between_synced_pipelines_in_hubspot_changes_the_record_type(
    deals, sf_person, hs_person
):
    first = deals.sf_action("add_record_type", object="Opportunity", label="New Business")
    second = deals.sf_action("add_record_type", object="Opportunity", label="Renewal")
    opportunity = new_opportunity(sf_person, Name="Switches process", RecordTypeId=first)
    deals()
    deal = deals.link(salesforce_id=opportunity).hubspot_id
    pipeline_id, stage = hs_stage(hs_person, "Prospecting", f"Salesforce – {second}")
    hs_deal_update(hs_person, deal, pipeline=pipeline_id, dealstage=stage.id)
    deals()
    record = sf_person.Opportunity.get(opportunity)
    assert record["RecordTypeId"][:15] == second[:15] and record["StageName"] == "Prospecting"
    deals()
    idle = deals()
    assert not idle.counts.get("updated_in_hubspot") and not idle.counts.get(
        "updated_in_salesforce"
    )
    assert hs_deal_get(hs_person, deal, "pipeline")["pipeline"] == pipeline_id


def test_a_type_hubspot_lacks_is_added_to_the_deal_type_options(deals, sf_person, hs_person):
    opportunity = new_opportunity(sf_person, Name="Typed", Type="New Customer")
    deals()
    deal = deals.link(salesforce_id=opportunity).hubspot_id
    assert hs_deal_get(hs_person, deal, "dealtype")["dealtype"] == "New Customer"
    options = hs_person.crm.properties.core_api.get_by_name("deals", "dealtype").options
    assert "New Customer" in {o.value for o in options}
    assert not SyncError.objects.filter(object="deals").exists()


def test_a_changed_deal_shares_the_sweeps_association_read(with_companies, sf_person, hs_person):
    """The sweep's slice of linked deals is read at the start of the cycle: an opportunity
    edited in Salesforce among them needs no association read of its own."""
    deals = with_companies
    account, contact, opportunity = opportunity_with_role(
        deals,
        sf_person,
        account="Shared Read Inc",
        person="Shared",
        email="shared@read.example",
        opportunity="Shared read",
    )
    deals.all()
    deals.all()
    last = ApiCall.objects.filter(integration=deals.integration).order_by("-id")[0].id

    sf_person.Opportunity.update(opportunity, {"Description": "Edited in Salesforce"})
    run = deals()

    assert run.counts.get("updated_in_hubspot") == 1, run.counts
    deal = deals.link(salesforce_id=opportunity).hubspot_id
    person = RecordLink.objects.get(integration=deals.integration, salesforce_id=contact)
    assert deal_contacts(hs_person, deal) == [person.hubspot_id]  # left as it was
    reads = list(
        ApiCall.objects.filter(
            integration=deals.integration, id__gt=last, operation__contains="associations"
        ).values_list("operation", flat=True)
    )
    assert sorted(reads) == [
        "associations.deals.companies.batch.read",
        "associations.deals.contacts.batch.read",
    ], reads


def test_a_cycle_that_dies_before_its_association_sweep_sweeps_that_slice_again(
    deals, sf_person, monkeypatch
):
    from sync_engine.models import SyncCursor
    from sync_engine.sync import deals as deal_sync

    new_opportunity(sf_person, Name="First")
    new_opportunity(sf_person, Name="Second")
    deals()
    monkeypatch.setattr(deal_sync, "SWEEP", 1)  # a slice of one deal per cycle
    sweep = SyncCursor.objects.filter(stream="deals:association-sweep")
    before = (sweep.first().seen or {}).get("after", 0) if sweep.exists() else 0

    def dies(self):
        raise RuntimeError("worker lost")

    monkeypatch.setattr(deal_sync.DealSync, "sync_hubspot_changes", dies)
    with pytest.raises(RuntimeError):
        sync_cycle_run(integration=deals.integration, object_name="deals")
    assert (sweep.get().seen or {}).get("after", 0) == before  # the slice wasn't compared
    monkeypatch.undo()
    monkeypatch.setattr(deal_sync, "SWEEP", 1)
    deals()
    assert sweep.get().seen["after"] == deals.links().order_by("pk")[0].pk


def test_a_contact_merged_in_hubspot_is_not_taken_for_deleted(
    deals, sf_person, hs_person, emulators
):
    """Reading a merged-away contact answers with the one it was merged into: the deal pair,
    running first, leaves the contact's link for the contact pair to move, and no second
    Salesforce contact is made for the survivor."""
    _, contact, opportunity = opportunity_with_role(
        deals, sf_person, account="Acme", person="Ann", email="ann@x.example", opportunity="Anvils"
    )
    deals.all()
    deals()
    merged_away = RecordLink.objects.get(object="contacts", salesforce_id=contact).hubspot_id
    survivor = hs_create(hs_person, email="ann.b@x.example", lastname="Ann B", company="Acme")
    emulators.hubspot.app.run_action(
        "merge", object_type="contacts", primary_id=survivor, merged_id=merged_away
    )
    advance_clocks(emulators, 60)
    deals()  # the deal pair runs first (Sync now on deals, say)
    deals("contacts")
    links = set(
        RecordLink.objects.filter(object="contacts").values_list("hubspot_id", "salesforce_id")
    )
    assert (survivor, contact) in links
    assert len(sf_person.query("SELECT Id FROM Contact")["records"]) == 1
    assert roles(sf_person, opportunity) == [contact]  # the role stays


def test_deals_read_again_in_the_overlap_count_as_unchanged(deals, sf_person):
    """The cycle after a create reads the new records again on both sides (each read
    overlaps the last one): the run says they were unchanged, not just read."""
    for n in range(3):
        new_opportunity(sf_person, Name=f"Echo {n}")
    deals()
    run = deals()
    assert run.counts["read_hubspot"] == run.counts["read_salesforce"] == 3
    assert run.counts["unchanged"] == 6  # each deal read again on both sides
    assert "Unchanged: 6" in run_details(run.counts)
