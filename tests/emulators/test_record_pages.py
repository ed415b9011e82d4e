"""The emulators' record pages: where the dashboard's "open in Salesforce" / "open in HubSpot"
links lead in the demo. Read-only HTML, no token (a browser has none), never billed."""

from __future__ import annotations

import re

import pytest
import requests
from hubspot.crm.objects import SimplePublicObjectInputForCreate
from hubspot.crm.schemas import (
    ObjectSchemaEgg,
    ObjectTypeDefinitionLabels,
    ObjectTypePropertyCreate,
)

from emulators.hubspot.state import PORTAL_ID
from emulators.testing import (
    active_list,
    hubspot_client,
    salesforce_client,
    salesforce_session,
)

SCRIPT = "<script>alert(1)</script>"
ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"


@pytest.fixture
def sf(emulators):
    return salesforce_client(emulators)


@pytest.fixture
def hs(emulators):
    return hubspot_client(emulators, strict=False)


def sf_page(emulators, path: str) -> requests.Response:
    """A browser's GET: no bearer token."""
    return salesforce_session(emulators.ca_path).get(emulators.salesforce.url + path, timeout=10)


def hs_page(emulators, path: str) -> requests.Response:
    return requests.get(emulators.hubspot.url + path, timeout=10)


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def assert_html_page(response: requests.Response, status: int = 200) -> str:
    assert response.status_code == status, response.text[:300]
    assert response.headers["Content-Type"].startswith("text/html")
    return response.text


# --- Salesforce -------------------------------------------------------------------------------
def test_a_salesforce_record_page_shows_its_fields_escaped(emulators, sf):
    account = sf.Account.create({"Name": "Acme & Sons"})["id"]
    contact = sf.Contact.create(
        {"FirstName": "Ada", "LastName": SCRIPT, "Email": "ada@example.com", "AccountId": account}
    )["id"]

    html = assert_html_page(sf_page(emulators, f"/lightning/r/Contact/{contact}/view"))

    heading = re.search(r"<h1>(.*?)</h1>", html, re.S).group(1)
    assert "Contact" in heading and contact in heading and f"Ada {ESCAPED}" in heading
    assert SCRIPT not in html and ESCAPED in html
    text = text_of(html)
    assert "Email ada@example.com" in text
    assert "Last Name " + "&lt;script&gt;" in text
    # A lookup leads to the record it points at; empty fields are left out.
    assert f'href="/lightning/r/Account/{account}/view"' in html
    assert "Mobile Phone" not in text
    account_html = assert_html_page(sf_page(emulators, f"/lightning/r/Account/{account}/view"))
    assert "Acme &amp; Sons" in account_html
    # Salesforce's 15-character id finds the same record.
    assert contact in assert_html_page(
        sf_page(emulators, f"/lightning/r/Contact/{contact[:15]}/view")
    )


def test_a_missing_or_deleted_salesforce_record_is_a_404_page(emulators, sf):
    contact = sf.Contact.create({"LastName": "Gone"})["id"]
    sf.Contact.delete(contact)
    lead = sf.Lead.create({"LastName": "Lead", "Company": "Co"})["id"]
    for path in (
        f"/lightning/r/Contact/{contact}/view",  # in the recycle bin
        f"/lightning/r/Account/{lead}/view",  # a lead's id under another type
        "/lightning/r/Contact/003000000000000AAA/view",
        "/lightning/r/Planet/003000000000000AAA/view",
        "/lightning/r/Contact/<b>x/view",  # not an id
    ):
        html = assert_html_page(sf_page(emulators, path), 404)
        assert "<b>x" not in html


def test_salesforce_record_pages_use_no_api_budget(emulators, sf):
    contact = sf.Contact.create({"LastName": "Counted"})["id"]
    app = emulators.salesforce.app
    used = app.budget_state()["used"]
    app.ledger.clear()
    with app.lock:
        app.configure_budget(max=used)  # the API allowance is spent: pages still answer
    for _ in range(3):
        assert_html_page(sf_page(emulators, f"/lightning/r/Contact/{contact}/view"))
    assert app.budget_state()["used"] == used
    assert app.ledger.entries() == []


# --- HubSpot ----------------------------------------------------------------------------------
def create(hs, object_type: str, properties: dict) -> str:
    made = hs.crm.objects.basic_api.create(
        object_type, SimplePublicObjectInputForCreate(properties=properties)
    )
    return made.id


def associate(hs, from_type: str, from_id: str, to_type: str, to_id: str) -> None:
    hs.crm.associations.v4.basic_api.create_default(from_type, from_id, to_type, to_id)


def test_a_hubspot_contact_page_shows_its_properties_and_associations(emulators, hs):
    contact = create(hs, "contacts", {"email": "ada@example.com", "firstname": SCRIPT})
    company = create(hs, "companies", {"name": "Acme & Sons"})
    associate(hs, "contacts", contact, "companies", company)

    html = assert_html_page(hs_page(emulators, f"/contacts/{PORTAL_ID}/record/0-1/{contact}"))

    heading = re.search(r"<h1>(.*?)</h1>", html, re.S).group(1)
    assert "Contact" in heading and contact in heading and ESCAPED in heading
    assert SCRIPT not in html
    text = text_of(html)
    assert "Email ada@example.com" in text and f"First Name {ESCAPED}" in text
    # Associations by object type, each leading to that record's page.
    assert "Companies" in text
    assert f'href="/contacts/{PORTAL_ID}/record/0-2/{company}"' in html
    company_html = assert_html_page(
        hs_page(emulators, f"/contacts/{PORTAL_ID}/record/0-2/{company}")
    )
    assert "Acme &amp; Sons" in company_html
    assert f'href="/contacts/{PORTAL_ID}/record/0-1/{contact}"' in company_html


def test_hubspot_pages_for_every_object_type(emulators, hs):
    deal = create(hs, "deals", {"dealname": "Big deal", "pipeline": "default",
                                "dealstage": "appointmentscheduled"})  # fmt: skip
    ticket = create(hs, "tickets", {"subject": "Broken", "hs_pipeline": "0",
                                    "hs_pipeline_stage": "1"})  # fmt: skip
    note = create(hs, "notes", {"hs_note_body": "Called <b>twice</b>",
                                "hs_timestamp": "2024-01-01T00:00:00Z"})  # fmt: skip
    widget_name = ObjectTypePropertyCreate(
        name="widget_name", label="Name", type="string", field_type="text"
    )
    schema = hs.crm.schemas.core_api.create(
        ObjectSchemaEgg(
            name="widgets",
            labels=ObjectTypeDefinitionLabels(singular="Widget", plural="Widgets"),
            primary_display_property="widget_name",
            required_properties=["widget_name"],
            associated_objects=["CONTACT"],
            properties=[widget_name],
        )
    )
    widget = create(hs, schema.object_type_id, {"widget_name": "Sprocket"})
    for type_id, record_id, expected in (
        ("0-3", deal, "Big deal"),
        ("0-5", ticket, "Broken"),
        ("0-46", note, "Called &lt;b&gt;twice&lt;/b&gt;"),
        (schema.object_type_id, widget, "Sprocket"),
    ):
        path = f"/contacts/{PORTAL_ID}/record/{type_id}/{record_id}"
        html = assert_html_page(hs_page(emulators, path))
        assert expected in html and record_id in html, path


def test_a_missing_or_archived_hubspot_record_is_a_404_page(emulators, hs):
    contact = create(hs, "contacts", {"email": "gone@example.com"})
    hs.crm.contacts.basic_api.archive(contact)
    for path in (
        f"/contacts/{PORTAL_ID}/record/0-1/{contact}",
        f"/contacts/{PORTAL_ID}/record/0-2/{contact}",  # a contact's id as a company
        f"/contacts/{PORTAL_ID}/record/0-1/999999",
        f"/contacts/{PORTAL_ID}/record/2-999/1",
        f"/contacts/{PORTAL_ID}/record/0-1/abc",
        f"/contacts/{PORTAL_ID}/objectLists/999",
    ):
        html = assert_html_page(hs_page(emulators, path), 404)
        assert "Not found" in html


def test_a_hubspot_list_page_shows_its_members(emulators, hs):
    member = create(hs, "contacts", {"email": "member@example.com"})
    create(hs, "companies", {"name": "Not a contact"})
    list_id = active_list(emulators, f"Known {SCRIPT}")

    html = assert_html_page(hs_page(emulators, f"/contacts/{PORTAL_ID}/objectLists/{list_id}"))

    assert SCRIPT not in html and f"Known {ESCAPED}" in html
    assert "member@example.com" in html
    assert f'href="/contacts/{PORTAL_ID}/record/0-1/{member}"' in html


def test_the_hubspot_create_list_page_says_where_lists_are_made(emulators):
    html = assert_html_page(hs_page(emulators, f"/contacts/{PORTAL_ID}/objectLists/create"))
    assert "/__emulator__/actions/create_list" in html and "/crm/v3/lists" in html


def test_hubspot_pages_need_no_token_and_are_never_billed_or_limited(emulators, hs):
    contact = create(hs, "contacts", {"email": "free@example.com"})
    app = emulators.hubspot.app
    app.configure_budget(per_ten_seconds=1, daily=1, reset_usage=True)
    app.ledger.clear()
    for _ in range(5):
        assert_html_page(hs_page(emulators, f"/contacts/{PORTAL_ID}/record/0-1/{contact}"))
    assert app.ledger.entries() == []
    # The one call the API allows is still there for the integration.
    assert hs.crm.contacts.basic_api.get_by_id(contact).properties["email"] == "free@example.com"
