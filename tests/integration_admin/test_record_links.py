""" "Open in HubSpot" / "open in Salesforce": on the emulators (the demo) the links lead to the
emulators' own record pages; on a real HubSpot account to app.hubspot.com."""

from __future__ import annotations

import re

import pytest
import requests

from emulators.testing import salesforce_session
from sync_engine.models import RecordLink
from sync_engine.sync.cycle import sync_cycle_run

from .conftest import make_link

pytestmark = pytest.mark.django_db


def new_tab_links(html: str) -> list[str]:
    return re.findall(r'<a href="([^"]+)" target="_blank"', html)


def test_on_the_emulators_the_record_page_links_lead_to_the_records(admin_client, live, emulators):
    contact = emulators.hubspot.app.run_action(
        "create",
        object_type="contacts",
        properties={"email": "lina@example.com", "firstname": "Lina", "lastname": "Linked",
                    "company": "Acme"},
    )["id"]  # fmt: skip
    assert sync_cycle_run(integration=live, object_name="contacts").status == "succeeded"
    link = RecordLink.objects.get(object="contacts", hubspot_id=contact)

    html = admin_client.get(f"/records/contacts/hubspot:{contact}/").content.decode()

    hubspot, salesforce = new_tab_links(html)
    assert hubspot == f"{emulators.hubspot.url}/contacts/62515/record/0-1/{contact}"
    assert salesforce == (
        f"{emulators.salesforce.url}/lightning/r/{link.salesforce_type}/{link.salesforce_id}/view"
    )
    # A browser following them (no token) sees the record in each CRM.
    page = requests.get(hubspot, timeout=10)
    assert page.status_code == 200 and "lina@example.com" in page.text
    page = salesforce_session(emulators.ca_path).get(salesforce, timeout=10)
    assert page.status_code == 200 and "lina@example.com" in page.text


def test_on_the_emulators_create_inclusion_list_leads_to_the_emulator(
    admin_client, live, emulators
):
    html = admin_client.get("/contacts/").content.decode()
    create = f"{emulators.hubspot.url}/contacts/62515/objectLists/create"
    assert f'href="{create}"' in html and "app.hubspot.com" not in html
    page = requests.get(create, timeout=10)
    assert page.status_code == 200 and "create_list" in page.text


def test_a_real_hubspot_account_still_links_to_app_hubspot_com(admin_client, connected):
    make_link(connected, "501", "00Q5000000000ABCDE", "Lead")
    html = admin_client.get("/records/contacts/hubspot:501/").content.decode()
    assert new_tab_links(html) == [
        "https://app.hubspot.com/contacts/4242/record/0-1/501",
        "https://acme.my.salesforce.com/lightning/r/Lead/00Q5000000000ABCDE/view",
    ]
    html = admin_client.get("/contacts/").content.decode()
    assert 'href="https://app.hubspot.com/contacts/4242/objectLists/create"' in html


def test_an_api_proxy_in_front_of_hubspot_still_links_to_app_hubspot_com(admin_client, connected):
    """``HUBSPOT_API_URL`` may name a proxy: it serves the API, not HubSpot's pages."""
    connected.hubspot_connection.base_url = "https://hubspot-proxy.acme.example"
    connected.hubspot_connection.save()
    make_link(connected, "501", "00Q5000000000ABCDE", "Lead")
    html = admin_client.get("/records/contacts/hubspot:501/").content.decode()
    assert "https://app.hubspot.com/contacts/4242/record/0-1/501" in new_tab_links(html)
