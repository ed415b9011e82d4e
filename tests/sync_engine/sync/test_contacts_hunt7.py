"""Contacts hunt 7: a converted lead's errors end in the cycle that reads the conversion; a
HubSpot contact that syncs with one Salesforce person is never written with another's values
by a create (an upsert by email) that would land on it."""

from __future__ import annotations

import pytest

from sync_engine.models import RecordLink, SyncError
from tests.integration_admin.test_record_error_endings import RecordPage

from .helpers import hs_emails, hs_get, new_lead

pytestmark = pytest.mark.django_db

CONVERTED = "Ended: its Salesforce lead was converted"
REFUSED = {"status": "error", "category": "VALIDATION_ERROR", "message": "Property values refused"}


def convert(emulators, lead: str) -> str:
    """Convert ``lead`` in Salesforce (no opportunity): the new contact's id."""
    done = emulators.salesforce.app.run_action(
        "convert_lead", lead_id=lead, create_opportunity=False
    )
    return done["contact_id"]


def open_errors(key: str) -> list[SyncError]:
    return list(SyncError.objects.filter(record_key=key, resolved_at__isnull=True))


def ended_as_converted(admin_client, run, error: SyncError) -> None:
    """Ended in this cycle, as converted (not by a retry), and its page says so."""
    error.refresh_from_db()
    assert error.resolved_at is not None, "still open: it would end only at its retry"
    assert (error.ended_because, error.next_retry_at) == ("converted", None)
    assert not run.counts.get("retried")
    page = RecordPage(admin_client, "contacts", error.record_key)
    assert CONVERTED in page.history
    assert page.status.startswith("Not syncing"), page.status
    assert page.current == "None: the record no longer syncs."


# --- 1. a converted lead's errors end with the conversion -------------------------------------
def test_a_synced_leads_refused_edit_ends_in_the_cycle_that_reads_its_conversion(
    admin_client, cycle, emulators, sf_person, hs_person
):
    """A synced lead whose edit HubSpot refused has an open error (its retry 20 minutes
    away). Converted in Salesforce, the next cycle ends the error as converted, and the
    contact it became carries on with the lead's HubSpot contact."""
    lead = new_lead(sf_person, Email="convert@example.com", LastName="Lead")
    cycle()
    contact = cycle.link(salesforce_id=lead).hubspot_id
    emulators.hubspot.app.faults.add(
        path=r"^/crm/v3/objects/contacts/batch/update$", status=400, body=REFUSED, times=8
    )
    sf_person.Lead.update(lead, {"Title": "Refused"})
    cycle()
    (error,) = open_errors(f"salesforce:{lead}")
    emulators.hubspot.app.faults.clear()

    person = convert(emulators, lead)
    sf_person.Contact.update(person, {"Title": "Buyer"})
    run = cycle()
    ended_as_converted(admin_client, run, error)
    assert not SyncError.objects.filter(resolved_at__isnull=True).exists()
    assert cycle.link(salesforce_id=person).hubspot_id == contact
    assert hs_get(hs_person, contact, "jobtitle")["jobtitle"] == "Buyer"


def test_a_refused_new_leads_error_ends_in_the_cycle_that_reads_its_conversion(
    admin_client, cycle, emulators, sf_person, hs_person
):
    """A new lead HubSpot refused (no link, an open error) is converted: the error ends as
    converted in that cycle; the contact it became is created in HubSpot."""
    cycle()
    emulators.hubspot.app.faults.add(
        path=r"^/crm/v3/objects/contacts/batch/(create|upsert)$", status=400, body=REFUSED, times=8
    )
    lead = new_lead(sf_person, Email="refused@example.com", LastName="Refused")
    cycle()
    assert not RecordLink.objects.filter(salesforce_id=lead).exists()
    (error,) = open_errors(f"salesforce:{lead}")
    emulators.hubspot.app.faults.clear()

    person = convert(emulators, lead)
    run = cycle()
    ended_as_converted(admin_client, run, error)
    assert not SyncError.objects.filter(resolved_at__isnull=True).exists()
    assert hs_emails(hs_person) == ["refused@example.com"]
    assert cycle.link(salesforce_id=person)


# --- 2. a create never lands on another person's HubSpot contact ------------------------------
def holder_untouched(hs_person, contact: str, email: str) -> None:
    """HubSpot contact ``contact`` still holds the lead's values."""
    seen = hs_get(hs_person, contact, "email", "firstname", "lastname", "jobtitle", "phone")
    assert seen["email"] == email
    assert (seen["firstname"], seen["lastname"], seen["jobtitle"]) == ("Lena", "Lead", "Buyer")
    assert seen["phone"] == "111"


def email_in_use_on(person: str, holder: str, lead: str) -> SyncError:
    (error,) = open_errors(f"salesforce:{person}")
    assert (error.error_type, error.hubspot_id) == ("email_in_use", holder)
    assert f"HubSpot contact {holder} has this email" in error.message
    assert f"syncs with Salesforce lead {lead}" in error.message
    assert "convert the lead into the contact" in error.message
    return error


def test_a_lead_and_a_contact_with_one_email_in_a_first_sync_never_share_a_hubspot_contact(
    cycle, emulators, sf_person, hs_person
):
    """A first sync (HubSpot read whole, so new emails aren't looked up) meets a lead and a
    contact with one email. The lead's HubSpot contact, made first, keeps the lead's values;
    the contact gets *Email already in use* naming it, instead of its values landing on it
    (HubSpot's upsert by email finds the lead's contact). The next cycle changes neither."""
    email = "shared@example.com"
    lead = new_lead(
        sf_person, Email=email, FirstName="Lena", LastName="Lead", Title="Buyer", Phone="111"
    )
    account = sf_person.Account.create({"Name": "Acme"})["id"]
    person = sf_person.Contact.create(
        {
            "Email": email,
            "FirstName": "Carl",
            "LastName": "Contact",
            "Title": "CEO",
            "Phone": "222",
            "AccountId": account,
        }
    )["id"]
    run = cycle()
    holder = cycle.link(salesforce_id=lead).hubspot_id
    assert hs_emails(hs_person) == [email]
    holder_untouched(hs_person, holder, email)
    email_in_use_on(person, holder, lead)
    assert not RecordLink.objects.filter(salesforce_id=person).exists()
    assert run.counts["created_in_hubspot"] == 1

    cycle()
    holder_untouched(hs_person, holder, email)
    got = sf_person.Lead.get(lead)
    assert (got["FirstName"], got["LastName"], got["Title"]) == ("Lena", "Lead", "Buyer")
    got = sf_person.Contact.get(person)
    assert (got["FirstName"], got["LastName"], got["Title"]) == ("Carl", "Contact", "CEO")


def test_a_person_made_again_after_its_contact_was_deleted_never_lands_on_anothers(
    cycle, emulators, sf_person, hs_person
):
    """A lead's HubSpot contact was deleted in HubSpot, and a Salesforce contact with the
    same email got a HubSpot contact of its own since. The lead, edited, is made again in
    HubSpot as a new one would be: that email is the other person's contact's, so the lead
    gets *Email already in use* naming it, and that contact keeps its own values."""
    email = "again@example.com"
    lead = new_lead(sf_person, Email=email, FirstName="Lena", LastName="Lead", Title="Buyer")
    cycle()
    hs_person.crm.contacts.basic_api.archive(cycle.link(salesforce_id=lead).hubspot_id)
    cycle()
    account = sf_person.Account.create({"Name": "Acme"})["id"]
    person = sf_person.Contact.create(
        {"Email": email, "FirstName": "Carl", "LastName": "Contact", "AccountId": account}
    )["id"]
    cycle()
    holder = cycle.link(salesforce_id=person).hubspot_id

    sf_person.Lead.update(lead, {"Title": "Head of Buying"})
    cycle()
    seen = hs_get(hs_person, holder, "firstname", "lastname", "jobtitle")
    assert (seen["firstname"], seen["lastname"], seen["jobtitle"]) == ("Carl", "Contact", None)
    (error,) = open_errors(f"salesforce:{lead}")
    assert (error.error_type, error.hubspot_id) == ("email_in_use", holder)
    assert f"syncs with Salesforce contact {person}" in error.message
    assert cycle.link(salesforce_id=person).hubspot_id == holder
    assert not RecordLink.objects.filter(salesforce_id=lead).exists()
    assert hs_emails(hs_person) == [email]
