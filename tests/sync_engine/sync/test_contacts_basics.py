"""Contacts ⇄ leads/contacts, end to end through the official clients and the emulators."""

from hubspot.crm.contacts import SimplePublicObjectInputForCreate


def hs_create(hs, **properties):
    obj = hs.crm.contacts.basic_api.create(SimplePublicObjectInputForCreate(properties=properties))
    return obj.id


def hs_get(hs, contact_id, *props):
    return hs.crm.contacts.basic_api.get_by_id(contact_id, properties=list(props)).properties


def test_a_salesforce_lead_creates_a_hubspot_contact_and_an_idle_cycle_writes_nothing(
    cycle, sf_person, hs_person
):
    lead = sf_person.Lead.create(
        {
            "FirstName": "Ada",
            "LastName": "Lovelace",
            "Company": "Analytical Engines",
            "Email": "ada@example.com",
            "Title": "Countess",
        }
    )["id"]
    run = cycle()
    assert run.counts["created_in_hubspot"] == 1
    link = cycle.link(salesforce_id=lead)
    props = hs_get(
        hs_person, link.hubspot_id, "email", "firstname", "lastname", "company", "jobtitle"
    )
    assert props["email"] == "ada@example.com" and props["firstname"] == "Ada"
    assert props["company"] == "Analytical Engines" and props["jobtitle"] == "Countess"

    settle = cycle()  # reads back its own writes: recognised, nothing written
    idle = cycle()
    for run in (settle, idle):
        assert not any(
            run.counts.get(k)
            for k in (
                "created_in_hubspot",
                "updated_in_hubspot",
                "created_in_salesforce",
                "updated_in_salesforce",
            )
        )
    assert settle.calls == idle.calls == {"salesforce": 1, "hubspot": 1}


def test_a_hubspot_contact_creates_a_salesforce_lead_by_default(cycle, sf_person, hs_person):
    contact = hs_create(
        hs_person,
        email="grace@example.com",
        firstname="Grace",
        lastname="Hopper",
        company="US Navy",
        jobtitle="Rear Admiral",
    )
    run = cycle()
    assert run.counts["created_in_salesforce"] == 1
    link = cycle.link(hubspot_id=contact)
    lead = sf_person.Lead.get(link.salesforce_id)
    assert (lead["LastName"], lead["Company"], lead["Email"]) == (
        "Hopper",
        "US Navy",
        "grace@example.com",
    )


def test_salesforce_create_defaults_reach_hubspot_in_the_cycle_that_creates_the_lead(
    cycle, sf_person, hs_person
):
    """Salesforce fills in Lead Status (and makes the integration user the owner) when it
    creates the lead: known from describe, so HubSpot gets the status with the creating
    cycle's writes, and reading the new lead back is no edit to carry over again."""
    contact = hs_create(
        hs_person, email="katherine@example.com", lastname="Johnson", company="NASA"
    )
    run = cycle()
    assert run.counts["created_in_salesforce"] == 1
    lead = sf_person.Lead.get(cycle.link(hubspot_id=contact).salesforce_id)
    assert lead["Status"] == "Open - Not Contacted"
    assert hs_get(hs_person, contact, "hs_lead_status")["hs_lead_status"] == lead["Status"]
    # The same cycle's Salesforce read meets the new lead: already in step, so the contact
    # isn't read from HubSpot and merged again. It is our own create, read back.
    assert run.counts["own_writes_read_back"] == 1 and not run.counts.get("unchanged")

    settle = cycle()
    assert not any(
        settle.counts.get(k)
        for k in ("updated_in_hubspot", "updated_in_salesforce", "created_in_hubspot")
    )


def test_the_same_email_on_both_sides_links_instead_of_duplicating(cycle, sf_person, hs_person):
    contact = hs_create(hs_person, email="Linus@Example.com", firstname="Linus", lastname="T")
    sf_contact = sf_person.Contact.create(
        {"LastName": "Torvalds", "Email": "linus@example.com", "Phone": "+1 555 0100"}
    )["id"]
    cycle()
    cycle()
    assert sf_person.query("SELECT COUNT() FROM Lead")["totalSize"] == 0
    assert sf_person.query("SELECT COUNT() FROM Contact")["totalSize"] == 1
    link = cycle.link(hubspot_id=contact)
    assert (link.salesforce_id, link.salesforce_type) == (sf_contact, "Contact")
    props = hs_get(hs_person, contact, "lastname", "phone")
    assert props["lastname"] == "Torvalds"  # prefer Salesforce unless blank
    assert props["phone"] == "+1 555 0100"


def test_edits_of_a_lead_and_a_contact_share_one_read_and_one_write_in_hubspot(
    cycle, sf_person, hs_person, emulators
):
    """A cycle's changed leads and contacts that are linked already go to HubSpot together:
    one batch read of their contacts and one batch update, whatever object they are."""
    lead = sf_person.Lead.create({"LastName": "Lead", "Company": "L", "Email": "l@example.com"})
    contact = sf_person.Contact.create({"LastName": "Contact", "Email": "c@example.com"})
    cycle()
    cycle()  # reads back its own writes
    sf_person.Lead.update(lead["id"], {"Title": "Lead edit"})
    sf_person.Contact.update(contact["id"], {"Title": "Contact edit"})
    emulators.hubspot.app.ledger.clear()

    run = cycle()

    assert run.counts["updated_in_hubspot"] == 2
    for record in (lead, contact):
        hubspot_id = cycle.link(salesforce_id=record["id"]).hubspot_id
        assert (
            hs_person.crm.contacts.basic_api.get_by_id(hubspot_id, properties=["jobtitle"])
            .properties["jobtitle"]
            .endswith(" edit")
        )
    paths = [e.path for e in emulators.hubspot.app.ledger.entries()]
    assert sum(p.endswith("/batch/read") for p in paths) == 1
    assert sum(p.endswith("/batch/update") for p in paths) == 1


def test_hubspot_edits_of_a_lead_and_a_contact_read_salesforce_in_one_call(
    cycle, sf_person, hs_person, emulators
):
    """The Salesforce side of a cycle's HubSpot changes is read in one composite call, leads'
    and contacts' queries together, then written in one collection."""
    from .helpers import set_rule

    set_rule(cycle.integration, "jobtitle", "two_way")
    lead = sf_person.Lead.create({"LastName": "Lead", "Company": "L", "Email": "hl@example.com"})
    contact = sf_person.Contact.create({"LastName": "Contact", "Email": "hc@example.com"})
    cycle()
    cycle()  # reads back its own writes
    for record in (lead, contact):
        hubspot_id = cycle.link(salesforce_id=record["id"]).hubspot_id
        hs_person.crm.contacts.basic_api.update(
            hubspot_id, {"properties": {"jobtitle": "Marketer edit"}}
        )

    run = cycle()

    assert run.counts["updated_in_salesforce"] == 2
    assert sf_person.Lead.get(lead["id"])["Title"] == "Marketer edit"
    assert sf_person.Contact.get(contact["id"])["Title"] == "Marketer edit"
    # The read of both, the update of both, the streams' read (one composite call).
    assert run.calls["salesforce"] == 3
