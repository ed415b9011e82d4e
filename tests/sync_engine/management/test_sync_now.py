"""What a new admin does from the shell: ``connect``, people created on both sides by their
own users, ``sync_now``: everyone once on each side, and the next ``sync_now`` writes nothing."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from hubspot.crm.contacts import SimplePublicObjectInputForCreate

from emulators.testing import hubspot_client, salesforce_client

from .test_connect import connect

pytestmark = pytest.mark.django_db


def sync_now() -> str:
    out = StringIO()
    call_command("sync_now", stdout=out)
    return out.getvalue()


def test_people_exist_once_on_each_side_after_connect_and_sync_now(emulators):
    connect(emulators)
    rep = salesforce_client(emulators, token="sales-rep")
    marketer = hubspot_client(emulators, token="marketer")
    rep.Lead.create({"LastName": "Lead", "Company": "Acme", "Email": "lead@example.com"})
    rep.Contact.create({"LastName": "Contact", "Email": "both@example.com", "Title": "Rep"})
    for email in ("both@example.com", "marketer@example.com"):
        marketer.crm.contacts.basic_api.create(
            SimplePublicObjectInputForCreate(
                properties={
                    "email": email,
                    "lastname": "Market",
                    "company": "Acme",
                    "jobtitle": "Marketer",
                }
            )
        )

    output = sync_now()

    assert output.startswith("contacts: Succeeded")
    assert "newly linked" in output and "Salesforce API calls" in output
    emails = sorted(
        c.properties["email"]
        for c in marketer.crm.contacts.basic_api.get_page(limit=100, properties=["email"]).results
    )
    assert emails == ["both@example.com", "lead@example.com", "marketer@example.com"]
    people = [
        (r["attributes"]["type"], r["Email"], r.get("Title"))
        for sobject in ("Lead", "Contact")
        for r in rep.query_all(f"SELECT Email, Title FROM {sobject}")["records"]  # noqa: S608
    ]
    # HubSpot's new contact became a lead (the default); the shared one kept Salesforce's
    # title (Prefer Salesforce unless blank).
    assert sorted(people) == [
        ("Contact", "both@example.com", "Rep"),
        ("Lead", "lead@example.com", None),
        ("Lead", "marketer@example.com", "Marketer"),
    ]

    sync_now()  # reads back its own writes
    again = sync_now()
    assert "created in" not in again and "updated in" not in again
