"""Lifecycle stages from opportunity contact roles (spec §7)."""

import datetime

from .helpers import hs_create, hs_get


def opportunity(sf, stage="Prospecting"):
    account = sf.Account.create({"Name": "Initech"})["id"]
    close = (datetime.date.today() + datetime.timedelta(days=30)).isoformat()
    return sf.Opportunity.create(
        {"Name": "Big deal", "StageName": stage, "CloseDate": close, "AccountId": account}
    )["id"], account


def linked_contact(cycle, sf, email, account=None):
    fields = {"LastName": "Buyer", "Email": email}
    if account:
        fields["AccountId"] = account
    contact = sf.Contact.create(fields)["id"]
    cycle()
    return contact, cycle.link(salesforce_id=contact).hubspot_id


def stage(hs, contact_id):
    return hs_get(hs, contact_id, "lifecyclestage")["lifecyclestage"]


def test_open_opportunity_then_closed_won(cycle, emulators, sf_person, hs_person):
    opp, account = opportunity(sf_person)
    contact, hs_contact = linked_contact(cycle, sf_person, "buyer@example.com", account)
    sf = emulators.salesforce.app
    sf.run_action("add_contact_role", opportunity_id=opp, contact_id=contact, role="Decision Maker")
    cycle()
    assert stage(hs_person, hs_contact) == "opportunity"
    sf.run_action("set_stage", opportunity_id=opp, stage="Closed Won")
    cycle()
    assert stage(hs_person, hs_contact) == "customer"


def test_role_added_after_the_win_counts_and_stages_never_go_back(
    cycle, emulators, sf_person, hs_person
):
    won, account = opportunity(sf_person, stage="Closed Won")
    contact, hs_contact = linked_contact(cycle, sf_person, "late@example.com", account)
    sf = emulators.salesforce.app
    sf.run_action("add_contact_role", opportunity_id=won, contact_id=contact)
    cycle()
    assert stage(hs_person, hs_contact) == "customer"
    open_opp, _ = opportunity(sf_person)
    sf.run_action("add_contact_role", opportunity_id=open_opp, contact_id=contact)
    cycle()
    assert stage(hs_person, hs_contact) == "customer"  # never backwards to opportunity


def test_transitions_can_be_turned_off(cycle, emulators, sf_person, hs_person):
    cycle.settings(lifecycle_transitions=False)
    opp, account = opportunity(sf_person)
    contact, hs_contact = linked_contact(cycle, sf_person, "off@example.com", account)
    emulators.salesforce.app.run_action("add_contact_role", opportunity_id=opp, contact_id=contact)
    cycle()
    assert stage(hs_person, hs_contact) != "opportunity"


def test_company_fan_out(cycle, emulators, sf_person, hs_person):
    cycle.settings(lifecycle_company_fanout=True)
    opp, account = opportunity(sf_person)
    contact, hs_contact = linked_contact(cycle, sf_person, "champion@example.com", account)
    colleague = hs_create(hs_person, email="colleague@example.com", lastname="Colleague")
    company = hs_person.crm.companies.basic_api.create(
        {"properties": {"name": "Initech", "domain": "initech.example"}}
    ).id
    hs = emulators.hubspot.app
    for person in (hs_contact, colleague):
        hs.run_action(
            "associate", from_type="contacts", from_id=person, to_type="companies", to_id=company
        )
    emulators.salesforce.app.run_action("add_contact_role", opportunity_id=opp, contact_id=contact)
    cycle()
    assert stage(hs_person, hs_contact) == "opportunity"
    assert stage(hs_person, colleague) == "opportunity"
