"""Deals ⇄ opportunities: contact roles Salesforce holds more than once for one contact."""

from __future__ import annotations

from sync_engine.models import RecordLink

from .test_deals import deal_contacts, new_opportunity, roles


def test_a_contact_taken_off_a_deal_loses_every_role_it_holds_on_the_opportunity(
    deals, sf_person, hs_person
):
    """Salesforce lets one contact hold several roles on an opportunity (Decision Maker and
    Economic Buyer, say). Taking the contact off the deal in HubSpot takes it off the
    opportunity: every one of its roles goes, or the next edit of the opportunity puts the
    contact back on the deal."""
    ann = sf_person.Contact.create({"LastName": "Ann", "Email": "ann@two-roles.example"})["id"]
    opportunity = new_opportunity(sf_person, Name="Two hats")
    for role in ("Decision Maker", "Economic Buyer"):
        deals.sf_action("add_contact_role", opportunity_id=opportunity, contact_id=ann, role=role)
    deals.all()
    deals()
    deal = deals.link(salesforce_id=opportunity).hubspot_id
    hs_ann = RecordLink.objects.get(object="contacts", salesforce_id=ann).hubspot_id
    assert deal_contacts(hs_person, deal) == [hs_ann]

    hs_person.crm.associations.v4.basic_api.archive("deals", deal, "contacts", hs_ann)
    run = deals()
    assert run.counts["roles_deleted"] == 2
    assert roles(sf_person, opportunity) == []

    # A later edit of the opportunity doesn't bring her back onto the deal.
    sf_person.Opportunity.update(opportunity, {"Name": "Two hats, renamed"})
    deals()
    deals()
    assert deal_contacts(hs_person, deal) == []
    assert roles(sf_person, opportunity) == []
