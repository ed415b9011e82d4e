"""What a demanding admin does to synced people that the everyday scenarios don't: leads
converted into contacts that sync already, contacts deleted while creation is off."""

from sync_engine.models import SyncError

from .helpers import hs_emails, hs_get, hs_update, new_lead


def leads_with(sf, email) -> list[str]:
    found = sf.query(f"SELECT Id FROM Lead WHERE Email = '{email}'")["records"]  # noqa: S608
    return [r["Id"] for r in found]


def test_a_lead_converted_into_a_contact_synced_already_is_never_made_again(
    cycle, emulators, sf_person, hs_person
):
    """A rep converts a lead into the existing contact it duplicates, each synced with its
    own HubSpot contact. The lead's HubSpot contact syncs with nothing then (the contact
    keeps its own), and its next edit must not make the converted person a new lead: an
    error on it says why, and how to fix it."""
    lead = new_lead(sf_person, Email="lee.web@example.com", LastName="Lee")
    person = sf_person.Contact.create({"LastName": "Lee", "Email": "lee@corp.example"})["id"]
    cycle()
    from_lead = cycle.link(salesforce_id=lead).hubspot_id
    from_contact = cycle.link(salesforce_id=person).hubspot_id
    emulators.salesforce.app.run_action(
        "convert_lead", lead_id=lead, contact_id=person, create_opportunity=False
    )
    cycle()
    assert cycle.link(salesforce_id=person).hubspot_id == from_contact
    hs_update(hs_person, from_lead, jobtitle="Buyer")  # a form fill, say
    cycle()
    assert leads_with(sf_person, "lee.web@example.com") == [lead]
    assert sf_person.query("SELECT COUNT() FROM Lead WHERE IsConverted = false")["totalSize"] == 0
    error = SyncError.objects.get(record_key=f"hubspot:{from_lead}", resolved_at__isnull=True)
    assert error.error_type == "email_in_use"
    assert person in error.message and from_contact in error.message
    assert hs_get(hs_person, from_contact, "email")["email"] == "lee@corp.example"


def test_a_lead_converted_into_a_contact_synced_already_says_so_at_once(
    cycle, emulators, sf_person, hs_person
):
    """The admin sees the lead's HubSpot contact stop syncing when the conversion syncs, not
    only at its next edit."""
    lead = new_lead(sf_person, Email="kim.web@example.com", LastName="Kim")
    person = sf_person.Contact.create({"LastName": "Kim", "Email": "kim@corp.example"})["id"]
    cycle()
    from_lead = cycle.link(salesforce_id=lead).hubspot_id
    emulators.salesforce.app.run_action(
        "convert_lead", lead_id=lead, contact_id=person, create_opportunity=False
    )
    cycle()
    error = SyncError.objects.get(record_key=f"hubspot:{from_lead}", resolved_at__isnull=True)
    assert lead in error.message and person in error.message


def test_a_contact_deleted_in_hubspot_is_not_made_again_while_salesforce_creates_nothing(
    cycle, sf_person, hs_person
):
    """With "When a Salesforce lead or contact is created or updated: Do nothing", a HubSpot
    contact an admin deleted doesn't come back at its Salesforce person's next edit."""
    lead = new_lead(sf_person, Email="bye@example.com")
    cycle()
    contact = cycle.link(salesforce_id=lead).hubspot_id
    cycle.settings(salesforce_create_update="nothing")
    hs_person.crm.contacts.basic_api.archive(contact)
    sf_person.Lead.update(lead, {"Title": "Still here"})
    run = cycle()
    assert "bye@example.com" not in hs_emails(hs_person)
    assert not run.counts.get("created_in_hubspot")
