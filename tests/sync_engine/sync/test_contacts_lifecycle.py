"""Lifecycle stages from opportunity contact roles (spec §7)."""

import datetime

from hubspot.crm.companies import SimplePublicObjectInput as CompanyInput
from hubspot.crm.companies import SimplePublicObjectInputForCreate as CompanyCreate
from hubspot.crm.properties import OptionInput, PropertyUpdate

from emulators.testing import advance_clocks
from sync_engine.models import ApiCall, RecordLink, SyncError
from sync_engine.services import object_settings_update
from sync_engine.sync.cycle import sync_cycle_run

from .helpers import hs_create, hs_get, hs_update


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


def company_sync_on(integration, emulators):
    # A company cycle searches twice: HubSpot's 5 searches a second would slow every test.
    emulators.hubspot.app.configure_budget(search_per_second=1000)
    object_settings_update(
        integration=integration, object_name="companies", changes={}, enabled=True
    )


def company_cycle(integration):
    run = sync_cycle_run(integration=integration, object_name="companies")
    assert run.status == "succeeded", run.message


def new_company(hs, **properties):
    return hs.crm.companies.basic_api.create(CompanyCreate(properties=properties)).id


def company_stage(hs, company_id):
    return hs.crm.companies.basic_api.get_by_id(
        company_id, properties=["lifecyclestage"]
    ).properties.get("lifecyclestage")


def contact_of_a_synced_company(cycle, emulators, integration, sf_person, email):
    """With companies syncing: an opportunity on an account, and a linked contact of that
    account whose primary company is the account's company. Returns (opportunity, account,
    contact, HubSpot contact, HubSpot company)."""
    company_sync_on(integration, emulators)
    opp, account = opportunity(sf_person)
    contact, hs_contact = linked_contact(cycle, sf_person, email, account)
    company_cycle(integration)  # the account's company, the contact's primary company
    company = RecordLink.objects.get(object="companies", salesforce_id=account).hubspot_id
    return opp, account, contact, hs_contact, company


def refuse_stage(hs, object_type, refused):
    """An admin removes the ``refused`` lifecycle stage of ``object_type`` in HubSpot, which
    then refuses it as a value. Returns what puts the option back."""
    prop = hs.crm.properties.core_api.get_by_name(object_type, "lifecyclestage")
    options = [
        OptionInput(
            label=o.label, value=o.value, hidden=bool(o.hidden), display_order=o.display_order
        )
        for o in prop.options
    ]

    def offer(values):
        hs.crm.properties.core_api.update(
            object_type, "lifecyclestage", PropertyUpdate(options=values)
        )

    offer([o for o in options if o.value != refused])
    return lambda: offer(options)


def role_refused_in_hubspot(cycle, emulators, sf_person, hs_person, email):
    """A linked contact gets a role on an open opportunity while HubSpot refuses the
    *opportunity* stage. Returns (opportunity, contact, HubSpot contact, what puts the
    option back)."""
    opp, account = opportunity(sf_person)
    contact, hs_contact = linked_contact(cycle, sf_person, email, account)
    put_back = refuse_stage(hs_person, "contacts", "opportunity")
    emulators.salesforce.app.run_action("add_contact_role", opportunity_id=opp, contact_id=contact)
    return opp, contact, hs_contact, put_back


def lifecycle_errors(integration, object_name):
    """The record's current *Lifecycle stage not updated* errors, as the dashboard shows them."""
    return list(
        SyncError.objects.filter(
            integration=integration,
            object=object_name,
            error_type="lifecycle_stage",
            resolved_at__isnull=True,
        )
    )


def company_calls(integration):
    return list(
        ApiCall.objects.filter(integration=integration, operation__startswith="companies.")
        .order_by("pk")
        .values_list("operation", flat=True)
    )


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


def test_an_edit_of_a_won_opportunity_is_no_new_win(cycle, emulators, sf_person, hs_person):
    """Spec §7's events are a role added and the opportunity *becoming* Closed Won: a rep's
    later edit of a long-won opportunity doesn't move its contacts forward again (a marketer
    may have moved one back on purpose: a customer who churned, say)."""
    won, account = opportunity(sf_person)
    contact, hs_contact = linked_contact(cycle, sf_person, "churned@example.com", account)
    sf = emulators.salesforce.app
    sf.run_action("add_contact_role", opportunity_id=won, contact_id=contact)
    cycle()
    sf.run_action("set_stage", opportunity_id=won, stage="Closed Won")
    cycle()
    assert stage(hs_person, hs_contact) == "customer"
    hs_update(hs_person, hs_contact, lifecyclestage="")
    hs_update(hs_person, hs_contact, lifecyclestage="lead")
    advance_clocks(emulators, 600)  # long after the win
    sf_person.Opportunity.update(won, {"Description": "Renewal notes"})
    cycle()
    cycle()
    assert stage(hs_person, hs_contact) == "lead"
    # Reopened and won again: that is a new win.
    sf.run_action("set_stage", opportunity_id=won, stage="Prospecting")
    cycle()
    sf.run_action("set_stage", opportunity_id=won, stage="Closed Won")
    cycle()
    assert stage(hs_person, hs_contact) == "customer"


def test_an_edit_right_after_the_win_is_no_new_win_either(cycle, emulators, sf_person, hs_person):
    """Inside the minutes a read overlaps the last one, the win applied is remembered."""
    won, account = opportunity(sf_person)
    contact, hs_contact = linked_contact(cycle, sf_person, "quick@example.com", account)
    emulators.salesforce.app.run_action("add_contact_role", opportunity_id=won, contact_id=contact)
    emulators.salesforce.app.run_action("set_stage", opportunity_id=won, stage="Closed Won")
    cycle()
    assert stage(hs_person, hs_contact) == "customer"
    hs_update(hs_person, hs_contact, lifecyclestage="")
    hs_update(hs_person, hs_contact, lifecyclestage="lead")
    advance_clocks(emulators, 5)
    sf_person.Opportunity.update(won, {"Description": "Signed copy attached"})
    cycle()
    assert stage(hs_person, hs_contact) == "lead"


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


# --- the contact's company (spec §7: "when companies sync") ---------------------------------
def test_closed_won_moves_the_contact_and_its_primary_company_to_customer(
    cycle, emulators, integration, sf_person, hs_person
):
    opp, account, contact, hs_contact, company = contact_of_a_synced_company(
        cycle, emulators, integration, sf_person, "won@example.com"
    )
    assert hs_get(hs_person, hs_contact, "associatedcompanyid")["associatedcompanyid"] == company
    other = new_company(hs_person, name="Side project")  # associated, but not primary
    emulators.hubspot.app.run_action(
        "associate", from_type="contacts", from_id=hs_contact, to_type="companies", to_id=other
    )
    sf = emulators.salesforce.app
    sf.run_action("add_contact_role", opportunity_id=opp, contact_id=contact)
    cycle()
    assert (stage(hs_person, hs_contact), company_stage(hs_person, company)) == (
        "opportunity",
        "opportunity",
    )
    sf.run_action("set_stage", opportunity_id=opp, stage="Closed Won")
    before = len(company_calls(integration))
    cycle()
    assert stage(hs_person, hs_contact) == "customer"
    assert company_stage(hs_person, company) == "customer"
    assert company_stage(hs_person, other) is None
    # One batch read of the companies' stages, one batch update: the contacts' read brought
    # their primary company along.
    assert company_calls(integration)[before:] == ["companies.batch.read", "companies.batch.update"]


def test_a_company_at_a_later_stage_is_never_moved_back(
    cycle, emulators, integration, sf_person, hs_person
):
    opp, account, contact, hs_contact, company = contact_of_a_synced_company(
        cycle, emulators, integration, sf_person, "fan@example.com"
    )
    sf = emulators.salesforce.app
    sf.run_action("add_contact_role", opportunity_id=opp, contact_id=contact)
    cycle()
    assert company_stage(hs_person, company) == "opportunity"
    hs_person.crm.companies.basic_api.update(
        company, CompanyInput(properties={"lifecyclestage": "evangelist"})
    )
    sf.run_action("set_stage", opportunity_id=opp, stage="Closed Won")
    cycle()
    assert stage(hs_person, hs_contact) == "customer"
    assert company_stage(hs_person, company) == "evangelist"  # never back to customer


def test_with_company_sync_off_the_company_is_not_touched(
    cycle, emulators, integration, sf_person, hs_person
):
    opp, account = opportunity(sf_person)
    contact, hs_contact = linked_contact(cycle, sf_person, "solo@example.com", account)
    company = new_company(hs_person, name="Initech")
    emulators.hubspot.app.run_action(
        "associate", from_type="contacts", from_id=hs_contact, to_type="companies", to_id=company
    )
    sf = emulators.salesforce.app
    sf.run_action("add_contact_role", opportunity_id=opp, contact_id=contact)
    cycle()
    assert stage(hs_person, hs_contact) == "opportunity"
    assert company_stage(hs_person, company) is None
    assert company_calls(integration) == []
    # The same company follows its contact once company sync is switched on.
    company_sync_on(integration, emulators)
    sf.run_action("set_stage", opportunity_id=opp, stage="Closed Won")
    cycle()
    assert company_stage(hs_person, company) == "customer"


# --- stages HubSpot refuses (each record failing alone, until the stage lands) --------------
def test_a_refused_stage_is_an_error_that_only_the_stage_landing_ends(
    cycle, emulators, integration, sf_person, hs_person
):
    opp, contact, hs_contact, put_back = role_refused_in_hubspot(
        cycle, emulators, sf_person, hs_person, "refused@example.com"
    )
    run = cycle()
    assert stage(hs_person, hs_contact) != "opportunity"
    assert run.counts["failed"] == 1, run.counts
    [error] = lifecycle_errors(integration, "contacts")
    assert (error.record_key, error.salesforce_id, error.direction) == (
        f"hubspot:{hs_contact}",
        contact,
        "to_hubspot",
    )
    assert "opportunity was not one of the allowed options" in error.message
    # The contact's next sync goes through, but the stage still isn't in HubSpot: the error
    # stays (the same one, not ended and opened again).
    sf_person.Contact.update(contact, {"FirstName": "Renamed"})
    cycle()
    assert hs_get(hs_person, hs_contact, "firstname")["firstname"] == "Renamed"
    assert [e.pk for e in lifecycle_errors(integration, "contacts")] == [error.pk]
    # Once HubSpot offers the stage again, the next cycle writes it and the error ends.
    put_back()
    cycle()
    assert stage(hs_person, hs_contact) == "opportunity"
    assert lifecycle_errors(integration, "contacts") == []
    assert SyncError.objects.get(pk=error.pk).resolved_at is not None


def test_a_later_stage_that_lands_ends_the_refused_one(
    cycle, emulators, integration, sf_person, hs_person
):
    opp, account = opportunity(sf_person)
    contact, hs_contact = linked_contact(cycle, sf_person, "moved-on@example.com", account)
    refuse_stage(hs_person, "contacts", "opportunity")  # never offered again
    sf = emulators.salesforce.app
    sf.run_action("add_contact_role", opportunity_id=opp, contact_id=contact)
    cycle()
    assert len(lifecycle_errors(integration, "contacts")) == 1
    sf.run_action("set_stage", opportunity_id=opp, stage="Closed Won")
    cycle()
    assert stage(hs_person, hs_contact) == "customer"  # forward-only: past the refused one
    assert lifecycle_errors(integration, "contacts") == []


def test_one_refused_contact_never_holds_back_the_others(
    cycle, emulators, integration, sf_person, hs_person
):
    opp, account = opportunity(sf_person)
    people = dict(
        linked_contact(cycle, sf_person, f"{name}@example.com", account)
        for name in ("first", "second")
    )
    sf = emulators.salesforce.app
    for contact in people:
        sf.run_action("add_contact_role", opportunity_id=opp, contact_id=contact)
    # HubSpot rejects the batch, then the first contact alone once the engine splits it.
    emulators.hubspot.app.faults.add(
        path=r"^/crm/v3/objects/contacts/batch/update$",
        status=400,
        body={
            "status": "error",
            "category": "VALIDATION_ERROR",
            "message": "Lifecycle stage is locked by a workflow",
        },
        times=2,
    )
    cycle()
    [error] = lifecycle_errors(integration, "contacts")
    assert (error.code, error.message) == (
        "VALIDATION_ERROR",
        "Lifecycle stage is locked by a workflow",
    )
    refused = error.hubspot_id
    others = [hs for hs in people.values() if hs != refused]
    assert [stage(hs_person, hs) for hs in others] == ["opportunity"]
    assert stage(hs_person, refused) != "opportunity"
    cycle()  # the fault is gone: the refused stage is written
    assert {stage(hs_person, hs) for hs in people.values()} == {"opportunity"}
    assert lifecycle_errors(integration, "contacts") == []


def test_transitions_switched_off_end_the_refused_stages(
    cycle, emulators, integration, sf_person, hs_person
):
    opp, contact, hs_contact, put_back = role_refused_in_hubspot(
        cycle, emulators, sf_person, hs_person, "dropped@example.com"
    )
    cycle()
    assert len(lifecycle_errors(integration, "contacts")) == 1
    cycle.settings(lifecycle_transitions=False)
    put_back()
    cycle()
    assert lifecycle_errors(integration, "contacts") == []  # nothing would ever write it
    assert stage(hs_person, hs_contact) != "opportunity"


def test_a_refused_company_stage_is_an_error_on_the_company_until_it_lands(
    cycle, emulators, integration, sf_person, hs_person
):
    opp, account, contact, hs_contact, company = contact_of_a_synced_company(
        cycle, emulators, integration, sf_person, "company@example.com"
    )
    put_back = refuse_stage(hs_person, "companies", "opportunity")
    emulators.salesforce.app.run_action("add_contact_role", opportunity_id=opp, contact_id=contact)
    cycle()
    assert stage(hs_person, hs_contact) == "opportunity"  # the contact isn't held back
    assert company_stage(hs_person, company) is None
    [error] = lifecycle_errors(integration, "companies")
    assert (error.record_key, error.hubspot_id, error.salesforce_id) == (
        f"hubspot:{company}",
        company,
        account,
    )
    assert "opportunity was not one of the allowed options" in error.message
    assert lifecycle_errors(integration, "contacts") == []
    # An unrelated edit syncs the company: its stage still isn't there, nor is the error over.
    sf_person.Account.update(account, {"Name": "Renamed Corp"})
    company_cycle(integration)
    assert hs_person.crm.companies.basic_api.get_by_id(company).properties["name"] == "Renamed Corp"
    assert lifecycle_errors(integration, "companies") == [error]
    put_back()
    cycle()
    assert company_stage(hs_person, company) == "opportunity"
    assert lifecycle_errors(integration, "companies") == []


def test_switched_on_transitions_apply_only_events_from_then_on(
    cycle, emulators, sf_person, hs_person
):
    """'When No, opportunity events never change lifecycle stages' (§7): switched on later,
    the contact roles and wins of the time they were off stay without effect; new events
    move stages as usual."""
    cycle.settings(lifecycle_transitions=False)
    won, account = opportunity(sf_person)
    contact, hs_contact = linked_contact(cycle, sf_person, "off@example.com", account)
    sf = emulators.salesforce.app
    sf.run_action("add_contact_role", opportunity_id=won, contact_id=contact)
    sf.run_action("set_stage", opportunity_id=won, stage="Closed Won")
    run = cycle()
    assert run.calls["salesforce"] <= 1  # the streams aren't read while off
    before = stage(hs_person, hs_contact)
    assert before not in ("opportunity", "customer")
    advance_clocks(emulators, 600)  # switched on some time later
    cycle.settings(lifecycle_transitions=True)
    cycle()
    assert stage(hs_person, hs_contact) == before
    later, _ = opportunity(sf_person)
    sf.run_action("add_contact_role", opportunity_id=later, contact_id=contact)
    cycle()
    assert stage(hs_person, hs_contact) == "opportunity"


def test_a_win_while_transitions_were_off_stays_without_effect_when_edited_later(
    cycle, emulators, sf_person, hs_person
):
    """Won while transitions were off, switched on a moment later (inside the read's
    overlap), then the opportunity edited: that win never applies (§7)."""
    won, account = opportunity(sf_person)
    contact, hs_contact = linked_contact(cycle, sf_person, "offwin@example.com", account)
    sf = emulators.salesforce.app
    sf.run_action("add_contact_role", opportunity_id=won, contact_id=contact)
    cycle.settings(lifecycle_transitions=False)
    cycle()
    sf.run_action("set_stage", opportunity_id=won, stage="Closed Won")
    advance_clocks(emulators, 5)
    cycle()
    before = stage(hs_person, hs_contact)
    assert before != "customer"
    cycle.settings(lifecycle_transitions=True)
    advance_clocks(emulators, 5)
    sf_person.Opportunity.update(won, {"Description": "Signed"})
    cycle()
    assert stage(hs_person, hs_contact) == before
    # The cycle does read this opportunity: a win made while transitions are on applies.
    for step in ("Prospecting", "Closed Won"):
        sf.run_action("set_stage", opportunity_id=won, stage=step)
        advance_clocks(emulators, 5)
        cycle()
    assert stage(hs_person, hs_contact) == "customer"
