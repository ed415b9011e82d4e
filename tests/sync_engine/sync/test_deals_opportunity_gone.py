"""A linked opportunity gone even from Salesforce's recycle bin (hard-deleted, purged): its
deletion never reaches the opportunity stream, so the deal's next edit finds it gone, removes
the link and skips the deal; later edits create no opportunity."""

from __future__ import annotations

from sync_engine.models import RecordLink

from .test_deals import (
    deal_contacts,
    deal_from_hubspot,
    deal_with_two_roles,
    hs_deal_ids,
    hs_deal_update,
    new_opportunity,
    role_delete,
    roles,
)


def opportunity_count(sf) -> int:
    return sf.query_all("SELECT Id FROM Opportunity", include_deleted=True)["totalSize"]


def hard_delete(sf, opportunity: str) -> None:
    (job,) = sf.bulk2.Opportunity.hard_delete(records=[{"Id": opportunity}], wait=0)
    assert job["numberRecordsFailed"] == 0


def test_a_hard_deleted_opportunity_unlinks_its_deal_on_the_next_deal_edit(
    deals, sf_person, hs_person
):
    opportunity = new_opportunity(sf_person, Name="Purged renewal")
    deals()
    deal = deals.link(salesforce_id=opportunity).hubspot_id
    hard_delete(sf_person, opportunity)
    assert opportunity_count(sf_person) == 0

    hs_deal_update(hs_person, deal, description="Edited after the purge")
    run = deals()
    assert run.counts["skipped_salesforce_deleted"] == 1, run.counts
    assert run.counts["links_removed"] == 1, run.counts
    assert not run.counts.get("created_in_salesforce")
    assert not deals.links().exists()
    assert opportunity_count(sf_person) == 0
    assert deal in hs_deal_ids(hs_person)  # no delete came through: the deal stays

    # Unlinked now, its key still names the opportunity gone: no new one.
    hs_deal_update(hs_person, deal, description="Edited again")
    run = deals()
    assert run.counts["skipped_salesforce_deleted"] == 1, run.counts
    assert not run.counts.get("created_in_salesforce") and not run.counts.get("links_removed")
    assert opportunity_count(sf_person) == 0 and not deals.links().exists()


def test_a_deal_from_hubspot_whose_opportunity_was_hard_deleted_creates_none(
    deals, sf_person, hs_person
):
    deals()  # the pipelines exist
    deal, opportunity = deal_from_hubspot(
        deals, hs_person, dealname="From HubSpot", closedate="2026-10-01"
    )
    hard_delete(sf_person, opportunity)

    hs_deal_update(hs_person, str(deal), description="Edited after the purge")
    run = deals()
    assert run.counts["skipped_salesforce_deleted"] == 1, run.counts
    assert run.counts["links_removed"] == 1, run.counts
    assert not deals.links().exists()

    hs_deal_update(hs_person, str(deal), description="Edited again")
    run = deals()
    assert run.counts["skipped_salesforce_deleted"] == 1, run.counts
    assert not run.counts.get("created_in_salesforce")
    assert opportunity_count(sf_person) == 0 and not deals.links().exists()


def test_a_deal_edit_reads_only_live_contact_roles(deals, sf_person, hs_person):
    """A deal edit reads its opportunity with queryAll (to tell the recycle bin from gone),
    its roles riding along: a role deleted in Salesforce stays off the deal."""
    opportunity, deal, ann, bob = deal_with_two_roles(deals, sf_person, "Live roles")
    hs_ann = RecordLink.objects.get(object="contacts", salesforce_id=ann).hubspot_id

    role_delete(sf_person, bob)
    deals()
    assert deal_contacts(hs_person, deal) == [hs_ann]

    hs_deal_update(hs_person, deal, description="Edited after Bob's role went")
    run = deals()
    assert run.counts["updated_in_salesforce"] == 1, run.counts
    assert deal_contacts(hs_person, deal) == [hs_ann]
    assert roles(sf_person, opportunity) == [ann]


def test_an_opportunity_in_the_recycle_bin_is_still_left_to_the_opportunity_stream(
    deals, sf_person, hs_person
):
    """Deleted (recycle bin) as its deal is edited: the stream's delete handling archives the
    deal, as before; the edit neither unlinks it as gone nor brings the opportunity back."""
    opportunity = new_opportunity(sf_person, Name="Binned renewal")
    deals()
    deal = deals.link(salesforce_id=opportunity).hubspot_id
    sf_person.Opportunity.delete(opportunity)
    hs_deal_update(hs_person, deal, description="Edited as it was deleted")
    run = deals()
    assert run.counts["deleted_in_hubspot"] == 1, run.counts
    assert not run.counts.get("skipped_salesforce_deleted")
    assert not run.counts.get("created_in_salesforce")
    assert deal not in hs_deal_ids(hs_person) and not deals.links().exists()
    assert sf_person.query("SELECT Id FROM Opportunity")["totalSize"] == 0
    assert opportunity_count(sf_person) == 1  # still in the recycle bin


def test_an_association_edit_of_a_deal_whose_opportunity_was_hard_deleted_unlinks_it(
    deals, sf_person, hs_person
):
    """The association sweep notices an edit that doesn't touch the deal (a contact taken
    off it) and puts the pair in step: with the opportunity gone for good, the link goes and
    the deal is counted as skipped, as a deal edit does, instead of being passed over every
    time."""
    ann = sf_person.Contact.create({"LastName": "Ann", "Email": "ann@gone.example"})["id"]
    opportunity = new_opportunity(sf_person, Name="Purged with a role")
    deals.sf_action("add_contact_role", opportunity_id=opportunity, contact_id=ann)
    deals.all()
    deal = deals.link(salesforce_id=opportunity).hubspot_id
    hs_ann = RecordLink.objects.get(object="contacts", salesforce_id=ann).hubspot_id
    hard_delete(sf_person, opportunity)

    hs_person.crm.associations.v4.basic_api.archive("deals", deal, "contacts", hs_ann)
    run = deals()
    assert run.counts["skipped_salesforce_deleted"] == 1, run.counts
    assert run.counts["links_removed"] == 1, run.counts
    assert not deals.links().exists() and opportunity_count(sf_person) == 0
