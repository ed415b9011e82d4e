"""Record pages and Sync health for the pairs beyond contacts, driven through the emulators:
what an admin reads of a record the company, deal, ticket or custom object sync failed."""

from __future__ import annotations

import pytest
from hubspot.crm.companies import SimplePublicObjectInputForCreate as CompanyCreate

from emulators.testing import hubspot_client, salesforce_client
from sync_engine.models import FieldMapping, RecordLink, ResyncRequest, SyncError
from sync_engine.sync.cycle import sync_cycle_run
from tests.sync_engine.sync.helpers import company_sync_on
from tests.sync_engine.sync.test_custom_objects import Projects, set_up

pytestmark = pytest.mark.django_db


def cycles(integration, *pairs: str) -> None:
    for name in pairs:
        run = sync_cycle_run(integration=integration, object_name=name)
        assert run.status == "succeeded", run.message


def contact_waiting_for_a_company_account(live, emulators) -> tuple[str, str, SyncError]:
    """A Salesforce contact on an account, synced, then moved in HubSpot to a company that
    makes no account by itself: (its HubSpot id, its Salesforce id, the company sync's error
    about it, kept under the HubSpot contact)."""
    company_sync_on(live, emulators)
    sf = salesforce_client(emulators, token="sales-rep-token")
    hs = hubspot_client(emulators, token="marketer-token", strict=False)
    account = sf.Account.create({"Name": "Waits Inc"})["id"]
    contact = sf.Contact.create(
        {"FirstName": "Wanda", "LastName": "Waits", "Email": "wanda@waits.example",
         "AccountId": account}
    )["id"]  # fmt: skip
    cycles(live, "contacts", "companies", "contacts", "companies")
    hs_contact = RecordLink.objects.get(object="contacts", salesforce_id=contact).hubspot_id
    beta = hs.crm.companies.basic_api.create(CompanyCreate(properties={"name": "Beta"})).id
    emulators.hubspot.app.run_action("associate", from_type="contacts", from_id=hs_contact,
                                     to_type="companies", to_id=beta, type_id=1)  # fmt: skip
    cycles(live, "contacts", "companies")
    error = SyncError.objects.get(object="companies", resolved_at__isnull=True)
    assert error.record_key == f"hubspot:{hs_contact}" and error.salesforce_type == "Contact"
    return hs_contact, contact, error


def test_the_page_of_a_contact_the_company_sync_waits_on_shows_the_synced_contact(
    admin_client, live, emulators
):
    hs_contact, contact, error = contact_waiting_for_a_company_account(live, emulators)
    html = admin_client.get(f"/records/companies/{error.record_key}/").content.decode()
    # The contact is synced: its page says with what, and links both records, not "no partner".
    assert "Not synced yet" not in html
    hubspot = emulators.hubspot.url
    assert f'href="{hubspot}/contacts/62515/record/0-1/{hs_contact}"' in html
    assert f'href="{emulators.salesforce.url}/lightning/r/Contact/{contact}/view"' in html
    assert '<h1 class="page__title">Wanda Waits &lt;wanda@waits.example&gt;</h1>' in html
    assert "Waiting for account to sync" in html

    # Its Resync asks for the contact's association again, as its error's retry does.
    admin_client.post(f"/records/companies/{error.record_key}/resync/")
    request = ResyncRequest.objects.get(object="companies", record_key=error.record_key)
    assert request.salesforce_type == "Contact"


def test_the_panel_and_the_export_name_the_contact_the_company_sync_waits_on(
    admin_client, live, emulators
):
    _, _, error = contact_waiting_for_a_company_account(live, emulators)
    html = admin_client.get(
        "/sync-health/errors/waiting_for_account/", HTTP_HX_REQUEST="true"
    ).content.decode()
    link = f'<a class="record-name" href="/records/companies/{error.record_key}/">'
    assert f"{link}Wanda Waits &lt;wanda@waits.example&gt;</a>" in html
    export = b"".join(admin_client.get("/sync-health/errors/export/").streaming_content)
    assert ",Wanda Waits <wanda@waits.example>," in export.decode()


# --- a record that never synced still links to itself --------------------------------------
def test_the_page_of_a_hubspot_record_salesforce_refused_links_it_in_hubspot(
    admin_client, live, emulators
):
    """A project made in HubSpot with a status Salesforce's picklist lacks: no partner, so
    the page's one way to the record to fix is a link to it, as its custom object type."""
    hs = hubspot_client(emulators, token="marketer-token", strict=False)
    emulators.hubspot.app.configure_budget(search_per_second=1000)
    hs_type, name = set_up(live, hs)
    projects = Projects(live, emulators, hs, hs_type, name)
    bad = projects.create(project_name="Called off", status="Cancelled")
    projects()
    error = SyncError.objects.get(object=name, resolved_at__isnull=True)
    assert error.record_key == f"hubspot:{bad}" and error.error_type == "picklist"
    html = admin_client.get(f"/records/{name}/{error.record_key}/").content.decode()
    assert "Not synced yet" in html
    assert f'href="{emulators.hubspot.url}/contacts/62515/record/{hs_type}/{bad}"' in html


def test_the_page_of_a_salesforce_record_hubspot_refused_links_it_in_salesforce(
    admin_client, live, emulators
):
    """A Salesforce project HubSpot refuses (its required name isn't mapped: a pairing saved
    before the wizard required it)."""
    sf = salesforce_client(emulators, token="sales-rep-token")
    hs = hubspot_client(emulators, token="marketer-token", strict=False)
    emulators.hubspot.app.configure_budget(search_per_second=1000)
    hs_type, name = set_up(live, hs, mappings={"Name": "project_name", "Budget__c": "budget"})
    FieldMapping.objects.filter(object=name, hubspot_property="project_name").delete()
    project = sf.Project__c.create({"Name": "Gemini", "Budget__c": 10.0})["id"]
    Projects(live, emulators, hs, hs_type, name)()
    error = SyncError.objects.get(object=name, resolved_at__isnull=True)
    assert error.record_key == f"salesforce:{project}"
    html = admin_client.get(f"/records/{name}/{error.record_key}/").content.decode()
    assert "Not synced yet" in html
    url = f"{emulators.salesforce.url}/lightning/r/Project__c/{project}/view"
    assert f'href="{url}"' in html
