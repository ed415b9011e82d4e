"""Sync rules per mapping (spec §8.2), both directions, blanks and conflicts."""

import time

from emulators.testing import advance_clocks

from .helpers import hs_create, hs_get, hs_update, new_lead, set_rule


def linked_pair(cycle, sf_person, **lead_fields):
    lead = new_lead(sf_person, Email="pat@example.com", **lead_fields)
    cycle()
    return lead, cycle.link(salesforce_id=lead).hubspot_id


def test_prefer_salesforce_unless_blank(cycle, sf_person, hs_person):
    lead, contact = linked_pair(cycle, sf_person, Title="Engineer")
    hs_update(hs_person, contact, jobtitle="Chief Engineer", mobilephone="+31 6 1234")
    cycle()
    assert hs_get(hs_person, contact, "jobtitle")["jobtitle"] == "Engineer"  # Salesforce wins
    assert sf_person.Lead.get(lead)["MobilePhone"] == "+31 6 1234"  # HubSpot fills a blank
    sf_person.Lead.update(lead, {"Title": None})
    cycle()
    assert hs_get(hs_person, contact, "jobtitle")["jobtitle"] in (None, "")  # cleared both
    hs_update(hs_person, contact, mobilephone="")
    cycle()
    assert sf_person.Lead.get(lead)["MobilePhone"] == "+31 6 1234"  # clearing in HubSpot: no
    assert hs_get(hs_person, contact, "mobilephone")["mobilephone"] == "+31 6 1234"


def test_always_use_salesforce(cycle, integration, sf_person, hs_person):
    set_rule(integration, "jobtitle", "always_use_salesforce")
    set_rule(integration, "mobilephone", "always_use_salesforce")
    lead, contact = linked_pair(cycle, sf_person, Title="Engineer")
    hs_update(hs_person, contact, jobtitle="Boss", mobilephone="+1 555")
    cycle()
    assert hs_get(hs_person, contact, "jobtitle")["jobtitle"] == "Engineer"
    assert sf_person.Lead.get(lead)["MobilePhone"] is None  # never written, even when empty


def test_two_way_follows_the_latest_change_and_propagates_deletes(
    cycle, integration, sf_person, hs_person
):
    set_rule(integration, "jobtitle", "two_way")
    lead, contact = linked_pair(cycle, sf_person, Title="Engineer")
    hs_update(hs_person, contact, jobtitle="Architect")
    cycle()
    assert sf_person.Lead.get(lead)["Title"] == "Architect"
    sf_person.Lead.update(lead, {"Title": "Director"})
    cycle()
    assert hs_get(hs_person, contact, "jobtitle")["jobtitle"] == "Director"
    hs_update(hs_person, contact, jobtitle="")
    cycle()
    assert sf_person.Lead.get(lead)["Title"] is None

    # Both sides change before the next cycle: the most recent change wins.
    sf_person.Lead.update(lead, {"Title": "From Salesforce"})
    time.sleep(1.1)  # Salesforce stamps whole seconds
    hs_update(hs_person, contact, jobtitle="From HubSpot, later")
    cycle()
    assert sf_person.Lead.get(lead)["Title"] == "From HubSpot, later"
    assert hs_get(hs_person, contact, "jobtitle")["jobtitle"] == "From HubSpot, later"


def test_dont_sync(cycle, integration, sf_person, hs_person):
    set_rule(integration, "jobtitle", "dont_sync")
    lead, contact = linked_pair(cycle, sf_person, Title="Engineer")
    assert hs_get(hs_person, contact, "jobtitle")["jobtitle"] in (None, "")
    hs_update(hs_person, contact, jobtitle="Boss")
    cycle()
    assert sf_person.Lead.get(lead)["Title"] == "Engineer"


def test_salesforce_changes_do_nothing_when_creation_is_off(cycle, sf_person, hs_person):
    cycle.settings(salesforce_create_update="nothing")
    new_lead(sf_person, Email="nobody@example.com")
    run = cycle()
    assert run.counts["skipped_create_disabled"] == 1
    assert not run.counts.get("created_in_hubspot")


def test_hubspot_contacts_can_create_salesforce_contacts(cycle, sf_person, hs_person):
    cycle.settings(hubspot_creates="contact")
    contact = hs_create(hs_person, email="kim@example.com", lastname="Kim")
    cycle()
    link = cycle.link(hubspot_id=contact)
    assert link.salesforce_type == "Contact"
    assert sf_person.Contact.get(link.salesforce_id)["Email"] == "kim@example.com"


def test_contacts_without_email_never_sync(cycle, sf_person, hs_person):
    hs_create(hs_person, firstname="No", lastname="Email", company="X")
    new_lead(sf_person, LastName="Emailless")
    run = cycle()
    assert run.counts["skipped_no_email"] == 2
    assert sf_person.query("SELECT COUNT() FROM Lead")["totalSize"] == 1


def test_new_mappings_are_not_retroactive_but_a_record_resync_backfills(
    cycle, emulators, integration, sf_person, hs_person
):
    from sync_engine.services import mapping_create, record_resync

    lead = new_lead(sf_person, Email="backfill@example.com", Description="@backfill")
    cycle()
    contact = cycle.link(salesforce_id=lead).hubspot_id
    advance_clocks(emulators, 600)  # ten quiet minutes: the records are past the cursors' overlap
    cycle()
    mapping_create(
        integration=integration,
        object_name="contacts",
        hubspot_property="twitterhandle",
        salesforce_field="Description",
    )
    cycle()
    assert hs_get(hs_person, contact, "twitterhandle")["twitterhandle"] in (None, "")
    record_resync(
        integration=integration,
        object_name="contacts",
        record_key=f"salesforce:{lead}",
        salesforce_type="Lead",
    )
    cycle()
    assert hs_get(hs_person, contact, "twitterhandle")["twitterhandle"] == "@backfill"


def test_two_way_on_a_first_link_the_later_edit_wins(cycle, integration, sf_person, hs_person):
    """Two people matched by email for the first time, holding different values of a two-way
    field: the value changed last wins, by HubSpot's per-property time (the kill test caught a
    HubSpot edit made before the first link being overwritten by Salesforce's older value)."""
    set_rule(integration, "jobtitle", "two_way")
    lead = new_lead(sf_person, Email="first@example.com", Title="Analyst")
    contact = hs_create(hs_person, email="first@example.com", lastname="Doe", jobtitle="Old")
    time.sleep(1.1)  # Salesforce stamps whole seconds
    hs_update(hs_person, contact, jobtitle="HubSpot edit")
    cycle()
    assert sf_person.Lead.get(lead)["Title"] == "HubSpot edit"
    assert hs_get(hs_person, contact, "jobtitle")["jobtitle"] == "HubSpot edit"

    other = hs_create(hs_person, email="second@example.com", lastname="Roe", jobtitle="Old")
    time.sleep(1.1)
    second = new_lead(sf_person, Email="second@example.com", Title="Salesforce, later")
    cycle()
    assert sf_person.Lead.get(second)["Title"] == "Salesforce, later"
    assert hs_get(hs_person, other, "jobtitle")["jobtitle"] == "Salesforce, later"


def test_a_value_the_integration_wrote_itself_never_counts_as_a_hubspot_edit(
    cycle, integration, sf_person, hs_connection, emulators
):
    """A write of ours whose commit was lost (a killed worker): HubSpot holds an old
    Salesforce value, written after Salesforce's newer edit. At the first link the history
    shows it as the integration's own write, so Salesforce's value wins."""
    from emulators.testing import hubspot_client

    set_rule(integration, "jobtitle", "two_way")
    lead = new_lead(sf_person, Email="echo@example.com", Title="Salesforce edit")
    time.sleep(1.1)
    ours = hubspot_client(emulators, token=hs_connection.access_token, strict=False)
    contact = hs_create(ours, email="echo@example.com", lastname="Doe", jobtitle="Engineer")
    cycle()
    assert sf_person.Lead.get(lead)["Title"] == "Salesforce edit"
    assert hs_get(ours, contact, "jobtitle")["jobtitle"] == "Salesforce edit"


def test_a_dropdown_option_named_otherwise_than_its_label_stays_in_step(
    cycle, integration, sf_person, hs_person
):
    """HubSpot's lead status options are named otherwise than labelled ("WORKING", labelled
    as Salesforce's "Working - Contacted"): the lead's status is written as that option, both
    sides then hold the same choice (an idle cycle writes nothing), and edits travel as the
    other side's own name for it, never as HubSpot's internal one."""
    from hubspot.crm.properties import OptionInput, PropertyUpdate

    from sync_engine.services import schema_refresh

    named = {"WORKING": "Working - Contacted", "NOT_CONVERTED": "Closed - Not Converted"}
    current = hs_person.crm.properties.core_api.get_by_name("contacts", "hs_lead_status")
    options = [(o.value, o.label) for o in current.options] + list(named.items())
    hs_person.crm.properties.core_api.update(
        "contacts",
        "hs_lead_status",
        PropertyUpdate(
            options=[
                OptionInput(label=label, value=value, display_order=i, hidden=False)
                for i, (value, label) in enumerate(options)
            ]
        ),
    )
    schema_refresh(integration=integration, object_name="contacts")
    lead, contact = linked_pair(cycle, sf_person, Status="Working - Contacted")
    assert hs_get(hs_person, contact, "hs_lead_status")["hs_lead_status"] == "WORKING"
    for _ in range(2):  # our own write read back, then nothing
        run = cycle()
        assert not run.counts.get("updated_in_hubspot"), dict(run.counts)
        assert not run.counts.get("updated_in_salesforce"), dict(run.counts)

    set_rule(integration, "hs_lead_status", "two_way")
    hs_update(hs_person, contact, firstname="Pat")  # HubSpot's status is read again
    cycle()
    assert sf_person.Lead.get(lead)["Status"] == "Working - Contacted"

    hs_update(hs_person, contact, hs_lead_status="NOT_CONVERTED")
    cycle()
    assert sf_person.Lead.get(lead)["Status"] == "Closed - Not Converted"
    assert hs_get(hs_person, contact, "hs_lead_status")["hs_lead_status"] == "NOT_CONVERTED"

    sf_person.Lead.update(lead, {"Status": "Working - Contacted"})
    cycle()
    assert hs_get(hs_person, contact, "hs_lead_status")["hs_lead_status"] == "WORKING"
    for _ in range(2):
        run = cycle()
        assert not run.counts.get("updated_in_hubspot"), dict(run.counts)
        assert not run.counts.get("updated_in_salesforce"), dict(run.counts)
    assert sf_person.Lead.get(lead)["Status"] == "Working - Contacted"


def test_a_second_salesforce_person_with_the_email_takes_over_without_clearing_hubspot(
    cycle, sf_person, hs_person
):
    """Later syncs follow the most recently modified match (§6.2), as a first sync of the new
    pair: the blanks of a new, sparse lead were never cleared in Salesforce, so HubSpot keeps
    its values (and fills the lead's blanks), while the lead's own values come through."""
    contact = hs_create(
        hs_person, email="pat@example.com", lastname="Doe", company="Acme", phone="+1 555 0100"
    )
    hs_update(hs_person, contact, jobtitle="CTO")
    cycle()
    assert sf_person.Lead.get(cycle.link(hubspot_id=contact).salesforce_id)["Title"] == "CTO"
    second = new_lead(sf_person, Email="pat@example.com", City="Utrecht")  # a web-to-lead
    cycle()
    assert cycle.link(hubspot_id=contact).salesforce_id == second
    props = hs_get(hs_person, contact, "jobtitle", "phone", "city")
    assert (props["jobtitle"], props["phone"], props["city"]) == ("CTO", "+1 555 0100", "Utrecht")
    lead = sf_person.Lead.get(second)
    assert (lead["Title"], lead["Phone"]) == ("CTO", "+1 555 0100")
    sf_person.Lead.update(second, {"Title": None})  # a real clear still clears HubSpot
    cycle()
    assert hs_get(hs_person, contact, "jobtitle")["jobtitle"] in (None, "")


def test_always_use_salesforce_with_salesforce_blank_settles(
    cycle, emulators, integration, sf_person, hs_person
):
    """'Always use Salesforce' with Salesforce blank leaves HubSpot's value be (§8.2), and the
    pair is then in step: edits elsewhere, or of that value in HubSpot, which goes nowhere,
    read as unchanged instead of reading the other CRM again every time."""

    def later():  # past the cursors' overlap: a cycle reads only the edit that follows
        advance_clocks(emulators, 600)
        cycle()

    set_rule(integration, "jobtitle", "always_use_salesforce")
    contact = hs_create(hs_person, email="kim@example.com", lastname="Kim", jobtitle="Boss")
    lead = new_lead(sf_person, Email="kim@example.com", LastName="Kim")
    cycle()  # linked by email: nothing to write for the title
    assert cycle.link(hubspot_id=contact).salesforce_id == lead
    later()
    sf_person.Lead.update(lead, {"Description": "met at the fair"})  # an unmapped field
    run = cycle()
    assert run.counts.get("unchanged") == 1, dict(run.counts)
    hs_update(hs_person, contact, jobtitle="Big Boss")
    later()
    hs_update(hs_person, contact, lifecyclestage="lead")  # an unmapped property
    run = cycle()
    assert run.counts.get("unchanged") == 1, dict(run.counts)
    assert hs_get(hs_person, contact, "jobtitle")["jobtitle"] == "Big Boss"
    assert sf_person.Lead.get(lead)["Title"] is None
