"""An owner Salesforce can't take is put back in HubSpot (spec §11): a new account, opportunity
or contact whose HubSpot owner has no active Salesforce user gets the integration user, a new
lead the assignment rule's owner, and the HubSpot record is then given the owner Salesforce has
(its HubSpot owner, or none), so the two systems agree from the first sync on."""

from hubspot.crm.companies import SimplePublicObjectInput as CompanyInput

from .helpers import hs_create, hs_get
from .test_companies import hs_company, hs_company_get
from .test_deals import hs_deal, hs_deal_get, hs_deal_update, hs_stage


def stranger(emulators) -> str:
    """A HubSpot owner no Salesforce user matches."""
    return emulators.hubspot.app.run_action(
        "create_owner", email="stranger@example.com", first_name="No", last_name="Match"
    )["id"]


def integration_owner(integration, sf_person, emulators) -> str:
    """The HubSpot owner of the integration user (same name and email)."""
    user = sf_person.User.get(integration.salesforce_connection.user_id)
    return emulators.hubspot.app.run_action(
        "create_owner",
        email=user["Email"],
        first_name=user.get("FirstName") or "",
        last_name=user["LastName"],
    )["id"]


def company_creating_an_account(companies, hs_person, **properties) -> str:
    """A HubSpot company with a contact that syncs as a Salesforce contact, so the next
    company cycle creates its account."""
    contact = hs_create(hs_person, email="own@owner.example", firstname="O", lastname="W")
    company = hs_company(hs_person, name="Unowned", **properties)
    companies.both()
    companies.hs_action("associate", from_type="contacts", from_id=contact, to_type="companies",
                        to_id=company)  # fmt: skip
    return company


def company_owner(hs_person, company) -> str:
    return hs_company_get(hs_person, company, "hubspot_owner_id")["hubspot_owner_id"] or ""


def test_a_new_accounts_integration_user_owner_goes_back_to_the_company(
    companies, integration, sf_person, hs_person, emulators
):
    """The company's owner has no Salesforce user: the account is the integration user's,
    and the company becomes the integration user's HubSpot owner's in the same cycle, with
    the company update that writes the account id anyway."""
    ours = integration_owner(integration, sf_person, emulators)
    company = company_creating_an_account(
        companies, hs_person, hubspot_owner_id=stranger(emulators)
    )
    runs, calls = companies.cycle()
    assert runs["companies"].counts["created_in_salesforce"] == 1, runs["companies"].counts
    account = companies.link(hubspot_id=str(company)).salesforce_id
    assert sf_person.Account.get(account)["OwnerId"] == integration.salesforce_connection.user_id
    assert company_owner(hs_person, company) == ours
    assert runs["companies"].counts["owner_resets"] == 1
    assert calls.count("companies.batch.update") == 1, calls
    run = companies()  # and stays so, with nothing more to write
    assert not run.counts.get("updated_in_hubspot") and not run.counts.get("owner_resets")
    assert not run.counts.get("updated_in_salesforce"), run.counts
    assert company_owner(hs_person, company) == ours


def test_a_new_accounts_owner_without_a_hubspot_owner_clears_the_companys(
    companies, integration, sf_person, hs_person, emulators
):
    """The integration user has no HubSpot owner: the company's unresolvable owner is
    cleared, as a Salesforce owner HubSpot has no owner for clears it."""
    company = company_creating_an_account(
        companies, hs_person, hubspot_owner_id=stranger(emulators)
    )
    run = companies()
    assert run.counts["created_in_salesforce"] == 1, run.counts
    account = companies.link(hubspot_id=str(company)).salesforce_id
    assert sf_person.Account.get(account)["OwnerId"] == integration.salesforce_connection.user_id
    assert company_owner(hs_person, company) == ""
    run = companies()
    assert not run.counts.get("updated_in_hubspot") and not run.counts.get("updated_in_salesforce")
    assert company_owner(hs_person, company) == ""


def test_a_new_opportunitys_integration_user_owner_goes_back_to_the_deal(
    deals, integration, sf_person, hs_person, emulators
):
    ours = integration_owner(integration, sf_person, emulators)
    deals()  # the synced pipelines are made
    pipeline_id, stage = hs_stage(hs_person, "Prospecting")
    deal = hs_deal(
        hs_person, dealname="Unowned", closedate="2026-05-01", pipeline=pipeline_id,
        dealstage=stage.id, hubspot_owner_id=stranger(emulators),
    )  # fmt: skip
    run = deals()
    assert run.counts["created_in_salesforce"] == 1, run.counts
    opportunity = deals.link(hubspot_id=str(deal)).salesforce_id
    assert (
        sf_person.Opportunity.get(opportunity)["OwnerId"]
        == integration.salesforce_connection.user_id
    )
    assert hs_deal_get(hs_person, deal, "hubspot_owner_id")["hubspot_owner_id"] == ours
    assert run.counts["owner_resets"] == 1 and run.counts["updated_in_hubspot"] == 1
    run = deals()
    assert not run.counts.get("updated_in_hubspot") and not run.counts.get("updated_in_salesforce")

    # Later given another owner Salesforce can't take: reset to the opportunity's owner.
    hs_deal_update(hs_person, deal, hubspot_owner_id=stranger(emulators))
    run = deals()
    assert run.counts["owner_resets"] == 1, run.counts
    assert hs_deal_get(hs_person, deal, "hubspot_owner_id")["hubspot_owner_id"] == ours


def test_a_new_salesforce_contacts_integration_user_owner_goes_back_to_the_contact(
    cycle, integration, sf_person, hs_person, emulators
):
    """HubSpot contacts create Salesforce contacts: one whose owner Salesforce can't take is
    the integration user's, whose HubSpot owner the contact gets in the same cycle."""
    cycle.settings(hubspot_creates="contact")
    ours = integration_owner(integration, sf_person, emulators)
    contact = hs_create(
        hs_person, email="unowned@example.com", lastname="U", hubspot_owner_id=stranger(emulators)
    )
    run = cycle()
    assert run.counts["created_in_salesforce"] == 1, run.counts
    created = cycle.link(hubspot_id=contact).salesforce_id
    assert sf_person.Contact.get(created)["OwnerId"] == integration.salesforce_connection.user_id
    assert hs_get(hs_person, contact, "hubspot_owner_id")["hubspot_owner_id"] == ours
    run = cycle()
    assert not run.counts.get("updated_in_hubspot") and not run.counts.get("updated_in_salesforce")


def test_a_new_leads_rule_owner_goes_back_to_the_contact(
    cycle, integration, sf_person, hs_person, emulators
):
    """A contact whose owner has no Salesforce user: the lead assignment rule's owner (known
    once the contact sync reads the new lead back) goes back to the contact, not the
    integration user's."""
    rule_user = emulators.salesforce.app.run_action(
        "create_user", first_name="Lead", last_name="Queue", email="queue@example.com"
    )
    rule_owner = emulators.hubspot.app.run_action(
        "create_owner", email="queue@example.com", first_name="Lead", last_name="Queue"
    )["id"]
    integration_owner(integration, sf_person, emulators)  # not the lead's owner: not written
    emulators.salesforce.app.run_action("set_assignment_rule", object="Lead", owner_id=rule_user)
    contact = hs_create(
        hs_person, email="ruled@example.com", lastname="R", company="X",
        hubspot_owner_id=stranger(emulators),
    )  # fmt: skip
    run = cycle()
    assert run.counts["created_in_salesforce"] == 1, run.counts
    lead = cycle.link(hubspot_id=contact).salesforce_id
    assert sf_person.Lead.get(lead)["OwnerId"] == rule_user
    assert hs_get(hs_person, contact, "hubspot_owner_id")["hubspot_owner_id"] == rule_owner
    run = cycle()
    assert not run.counts.get("updated_in_hubspot") and not run.counts.get("updated_in_salesforce")


def test_a_linked_companys_owner_salesforce_cannot_take_is_cleared_for_an_ownerless_user(
    companies, integration, sf_person, hs_person, emulators
):
    """The account's owner (the user who made it) has no HubSpot owner, and the company is
    given one Salesforce can't take: it is reset to the account's, which is none."""
    account = sf_person.Account.create({"Name": "Linked"})["id"]
    companies()
    company = companies.link(salesforce_id=account).hubspot_id
    hs_person.crm.companies.basic_api.update(
        company, CompanyInput(properties={"hubspot_owner_id": stranger(emulators)})
    )
    run = companies()
    assert run.counts["owner_resets"] == 1, run.counts
    assert company_owner(hs_person, company) == ""
