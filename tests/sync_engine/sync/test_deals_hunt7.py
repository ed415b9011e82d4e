"""Deals waiting for their company's account (or their account's company) that leave the
synced pipelines, come back, or are deleted while they wait."""

from __future__ import annotations

from sync_engine.models import RecordLink, SyncError
from sync_engine.services import record_resync

from . import test_deals
from .helpers import due_now
from .test_companies import hs_company
from .test_deals import deal_companies, hs_deal, hs_deal_update, hs_stage

with_companies = test_deals.with_companies


def open_errors(**filters):
    return SyncError.objects.filter(object="deals", resolved_at__isnull=True, **filters)


def deal_waiting_for_its_company(deals, sf_person, hs_person) -> tuple[str, str, str]:
    """A deal made in HubSpot in a synced pipeline on a company without an account: its
    opportunity is created with no account and a *Waiting for account to sync* error.
    (deal, opportunity, company)."""
    company = hs_company(hs_person, name="No Account Yet")
    deals.all()  # the company has no contact that syncs as a contact: no account
    pipeline_id, stage = hs_stage(hs_person, "Prospecting")
    deal = hs_deal(
        hs_person, dealname="Waits for account", closedate="2026-04-01", pipeline=pipeline_id,
        dealstage=stage.id,
    )  # fmt: skip
    deals.hs_action("associate", from_type="deals", from_id=deal, to_type="companies",
                    to_id=company, type_id=5)  # fmt: skip
    deals()
    opportunity = deals.link(hubspot_id=str(deal)).salesforce_id
    assert sf_person.Opportunity.get(opportunity)["AccountId"] is None
    waiting = open_errors().get()
    assert waiting.error_type == "waiting_for_account"
    assert waiting.record_key == f"hubspot:{deal}"
    return str(deal), opportunity, str(company)


def company_synced(deals, integration, company: str) -> str:
    """The Companies tab's *Sync a company*: the company gets its account. Its account."""
    record_resync(integration=integration, object_name="companies", record_key=f"hubspot:{company}")
    deals("companies")
    return RecordLink.objects.get(object="companies", hubspot_id=company).salesforce_id


def opportunity_waiting_for_its_accounts_company(deals, sf_person):
    """A synced opportunity moved onto a new account, whose company doesn't exist yet: its
    *Waiting for account to sync* error. (opportunity, deal, account, the error)."""
    opportunity = test_deals.new_opportunity(sf_person, Name="Waits for company")
    deals.all()
    deal = deals.link(salesforce_id=opportunity).hubspot_id
    later = sf_person.Account.create({"Name": "Later Inc"})["id"]
    sf_person.Opportunity.update(opportunity, {"AccountId": later})
    assert deals().counts["waiting_for_account"] == 1
    waiting = open_errors().get()
    assert waiting.record_key == f"salesforce:{opportunity}"
    return opportunity, deal, later, waiting


def test_a_waiting_deal_moved_out_of_the_synced_pipelines_ends_its_wait_once(
    with_companies, integration, sf_person, hs_person
):
    deals = with_companies
    deal, opportunity, company = deal_waiting_for_its_company(deals, sf_person, hs_person)
    waiting = open_errors().get()
    account = company_synced(deals, integration, company)
    hs_deal_update(hs_person, deal, pipeline="default", dealstage="appointmentscheduled")

    run = deals()
    assert run.counts["skipped_unsynced_pipeline"] == 1  # one deal, counted once
    waiting.refresh_from_db()
    assert waiting.resolved_at is not None
    assert waiting.ended_because == SyncError.EndedBecause.NOT_SYNCING
    assert not open_errors().exists()
    assert sf_person.Opportunity.get(opportunity)["AccountId"] is None  # opted out: untouched

    # Later cycles don't look at it again.
    idle = deals()
    assert not idle.counts.get("skipped_unsynced_pipeline")
    assert idle.calls["salesforce"] == 1

    # Moved back into the synced pipeline, it syncs again: the company's account now exists.
    pipeline_id, stage = hs_stage(hs_person, "Prospecting")
    hs_deal_update(hs_person, deal, pipeline=pipeline_id, dealstage=stage.id)
    run = deals()
    assert not run.counts.get("skipped_unsynced_pipeline")
    assert sf_person.Opportunity.get(opportunity)["AccountId"] == account
    assert deal_companies(hs_person, deal) == [company]
    assert not open_errors().exists()
    assert not deals().counts.get("updated_in_salesforce")


def test_a_waiting_deal_out_of_the_synced_pipelines_ends_its_wait_at_its_retry(
    with_companies, integration, sf_person, hs_person
):
    """Moved out before its company synced: the wait ends when the deal is seen, or at the
    latest at its retry, and the deal counts once per cycle."""
    deals = with_companies
    deal, opportunity, company = deal_waiting_for_its_company(deals, sf_person, hs_person)
    waiting = open_errors().get()
    hs_deal_update(hs_person, deal, pipeline="default", dealstage="appointmentscheduled")
    run = deals()
    assert run.counts["skipped_unsynced_pipeline"] == 1
    due_now(waiting)
    run = deals()
    assert run.counts.get("skipped_unsynced_pipeline", 0) <= 1
    waiting.refresh_from_db()
    assert waiting.resolved_at is not None
    assert waiting.ended_because == SyncError.EndedBecause.NOT_SYNCING

    # Its company syncs meanwhile; the deal, moved back, gets the account without an error.
    account = company_synced(deals, integration, company)
    assert not deals().counts.get("skipped_unsynced_pipeline")
    pipeline_id, stage = hs_stage(hs_person, "Prospecting")
    hs_deal_update(hs_person, deal, pipeline=pipeline_id, dealstage=stage.id)
    deals()
    assert sf_person.Opportunity.get(opportunity)["AccountId"] == account
    assert not open_errors().exists()


def test_resync_all_counts_a_waiting_deal_out_of_the_pipelines_once(
    with_companies, integration, sf_person, hs_person
):
    deals = with_companies
    deal, _, company = deal_waiting_for_its_company(deals, sf_person, hs_person)
    company_synced(deals, integration, company)
    hs_deal_update(hs_person, deal, pipeline="default", dealstage="appointmentscheduled")
    record_resync(integration=integration, object_name="deals", record_key=f"hubspot:{deal}")
    run = deals()
    assert run.counts["skipped_unsynced_pipeline"] == 1
    assert not open_errors().exists()


# --- a deal deleted in HubSpot while it waits -----------------------------------------------
def test_a_deal_deleted_while_waiting_for_its_companys_account_ends_the_wait(
    with_companies, integration, sf_person, hs_person
):
    deals = with_companies
    deal, opportunity, company = deal_waiting_for_its_company(deals, sf_person, hs_person)
    waiting = open_errors().get()
    hs_person.crm.deals.basic_api.archive(deal)
    company_synced(deals, integration, company)
    run = deals()
    assert run.counts["links_removed"] == 1
    waiting.refresh_from_db()
    assert waiting.resolved_at is not None
    assert waiting.ended_because == SyncError.EndedBecause.GONE_FROM_HUBSPOT
    assert sf_person.Opportunity.get(opportunity)["AccountId"] is None  # HubSpot deletes: none
    assert not deals.links().exists()


def test_a_deal_deleted_while_waiting_for_its_accounts_company_is_not_made_again(
    with_companies, integration, sf_person, hs_person
):
    deals = with_companies
    opportunity, deal, later, waiting = opportunity_waiting_for_its_accounts_company(
        deals, sf_person
    )
    hs_person.crm.deals.basic_api.archive(deal)
    due_now(waiting)
    deals()
    deals()
    waiting.refresh_from_db()
    assert waiting.resolved_at is not None
    assert waiting.ended_because == SyncError.EndedBecause.GONE_FROM_HUBSPOT
    assert test_deals.hs_deal_ids(hs_person) == []  # its retry doesn't make it again
    assert sf_person.Opportunity.get(opportunity)["AccountId"] == later
    assert not open_errors().exists()


def test_an_opportunity_waiting_for_its_accounts_company_ends_its_wait_when_the_deal_leaves(
    with_companies, integration, sf_person, hs_person
):
    deals = with_companies
    opportunity, deal, later, waiting = opportunity_waiting_for_its_accounts_company(
        deals, sf_person
    )
    hs_deal_update(hs_person, deal, pipeline="default", dealstage="appointmentscheduled")
    run = deals()
    assert run.counts["skipped_unsynced_pipeline"] == 1
    waiting.refresh_from_db()
    assert waiting.ended_because == SyncError.EndedBecause.NOT_SYNCING
    deals("companies")  # the account's company appears
    later_company = RecordLink.objects.get(object="companies", salesforce_id=later).hubspot_id
    assert not deals().counts.get("skipped_unsynced_pipeline")
    assert deal_companies(hs_person, deal) == []  # opted out: left alone

    pipeline_id, stage = hs_stage(hs_person, "Prospecting")
    hs_deal_update(hs_person, deal, pipeline=pipeline_id, dealstage=stage.id)
    deals()
    assert deal_companies(hs_person, deal) == [later_company]
    assert sf_person.Opportunity.get(opportunity)["AccountId"] == later
    assert not open_errors().exists()


def test_a_deal_out_of_the_synced_pipelines_whose_contacts_change_is_not_read_every_cycle(
    deals, sf_person, hs_person
):
    """Association edits don't touch a deal: the sweep compares them every cycle. A deal
    that opted out isn't put in step, so it would be read (and counted) every cycle."""
    opportunity = test_deals.new_opportunity(sf_person, Name="Opts out")
    deals.all()
    deal = deals.link(salesforce_id=opportunity).hubspot_id
    hs_deal_update(hs_person, deal, pipeline="default", dealstage="appointmentscheduled")
    assert deals().counts["skipped_unsynced_pipeline"] == 1
    contact = test_deals.hs_create(
        hs_person, email="out@pipes.example", firstname="O", lastname="Ut"
    )
    deals("contacts")
    deals.hs_action("associate", from_type="deals", from_id=deal, to_type="contacts",
                    to_id=contact)  # fmt: skip
    sf_person.Opportunity.update(opportunity, {"Description": "Edited while out"})
    assert deals().counts["skipped_unsynced_pipeline"] == 1  # its opportunity changed
    for _ in range(2):
        idle = deals()
        assert not idle.counts.get("skipped_unsynced_pipeline")
        assert idle.calls["salesforce"] == 1
    assert test_deals.roles(sf_person, opportunity) == []

    # Moved back, it is put in step: the contact becomes a role, the edit reaches the deal.
    pipeline_id, stage = hs_stage(hs_person, "Prospecting")
    hs_deal_update(hs_person, deal, pipeline=pipeline_id, dealstage=stage.id)
    deals()
    sf_contact = RecordLink.objects.get(object="contacts", hubspot_id=str(contact)).salesforce_id
    assert test_deals.roles(sf_person, opportunity) == [sf_contact]
    assert test_deals.hs_deal_get(hs_person, deal, "description")["description"] == (
        "Edited while out"
    )
    assert "__out_of_pipelines" not in deals.link(hubspot_id=deal).snapshot
    deals()
    idle = deals()
    assert not any(k.startswith(("updated", "roles_", "associations_")) and v
                   for k, v in idle.counts.items())  # fmt: skip


def test_an_admins_resync_of_an_opportunity_whose_deal_was_deleted_makes_a_deal(
    with_companies, integration, sf_person, hs_person
):
    """Only the retry of an error leaves the deletion be: Resync asks for the record."""
    deals = with_companies
    opportunity = test_deals.new_opportunity(sf_person, Name="Resynced")
    deals.all()
    deal = deals.link(salesforce_id=opportunity).hubspot_id
    hs_person.crm.deals.basic_api.archive(deal)
    record_resync(
        integration=integration, object_name="deals", record_key=f"salesforce:{opportunity}"
    )
    run = deals()
    assert run.counts["created_in_hubspot"] == 1
    assert deals.link(salesforce_id=opportunity).hubspot_id != deal
