"""The Companies tab's inclusion list (spec §6.5, "the new company sync"): the picker offers
HubSpot's active company lists, saving one says what changed and starts no sync, the REST
API takes it, *Sync a company* refuses a company the list keeps out, and a list deleted in
HubSpot is said on Sync health and on the tab."""

from __future__ import annotations

import pytest
from hubspot.crm.companies import SimplePublicObjectInputForCreate as CompanyCreate

from emulators.testing import active_list, hubspot_client, known_property_branch
from sync_engine.models import ApiCall, AuditEvent, ObjectSync, ResyncRequest
from sync_engine.sync.cycle import sync_cycle_run

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}
JSON = "application/json"
FORM = {
    "enabled": "on",
    "salesforce_creates": "on",
    "hubspot_creates": "on",
    "salesforce_delete": "nothing",
}


def company_list(emulators, name: str = "Target <accounts>") -> str:
    """An active list of the companies that have a description."""
    return active_list(
        emulators,
        name,
        object_type="companies",
        filter_branch=known_property_branch("description"),
    )


def saved(integration) -> dict:
    return ObjectSync.objects.get(integration=integration, object="companies").options


def new_company(emulators, **properties) -> str:
    api = hubspot_client(emulators, strict=False).crm.companies.basic_api
    return api.create(CompanyCreate(properties=properties)).id


def test_the_picker_offers_active_company_lists_only(admin_client, live, emulators, lists):
    wanted = company_list(emulators)
    new_company(emulators, name="Acme", description="in the list")
    static = emulators.hubspot.app.run_action(
        "create_list", list_name="Hand-picked companies", object_type="companies"
    )
    html = admin_client.get("/companies/").content.decode()
    assert 'hx-get="/objects/companies/lists/?selected="' in html
    assert "Only companies in the inclusion list sync to Salesforce from HubSpot." in html
    assert "the contacts' inclusion list chosen on the Contacts tab" in html

    picker = admin_client.get("/objects/companies/lists/", **HTMX).content.decode()
    assert "No inclusion list: all companies sync" in picker
    assert f'<option value="{wanted}">Target &lt;accounts&gt; (1 company)</option>' in picker
    assert f'value="{static["listId"]}"' not in picker  # a static list limits nothing
    assert f'value="{lists["active"]}"' not in picker  # a contact list
    assert 'hx-get="/objects/companies/lists/"' in picker  # its search asks for company lists
    # The Contacts tab's picker still offers contact lists only.
    contacts = admin_client.get("/objects/contacts/lists/", **HTMX).content.decode()
    assert f'value="{lists["active"]}"' in contacts and f'value="{wanted}"' not in contacts


def test_saving_a_company_list_says_what_changed_and_starts_no_sync(
    admin_client, admin_user, live, emulators
):
    list_id = company_list(emulators)
    admin_client.get("/companies/")
    html = admin_client.post(
        "/companies/", {**FORM, "inclusion_list_id": list_id}, **HTMX
    ).content.decode()
    assert (
        '<span class="change__name">Company inclusion list</span>: <span class="change__before">'
        'No list: all companies sync</span> → <span class="change__after">Target &lt;accounts&gt;'
    ) in html
    assert saved(live)["inclusion_list_id"] == list_id
    event = AuditEvent.objects.filter(action="settings.updated").latest("pk")
    assert event.details["changes"]["inclusion_list_id"] == {"from": None, "to": list_id}
    assert not ResyncRequest.objects.exists()
    # A post from a page whose picker never loaded leaves the list as it is.
    admin_client.post("/companies/", {**FORM, "salesforce_delete": "delete"}, **HTMX)
    assert saved(live)["inclusion_list_id"] == list_id
    # A contact list is refused, said at the top of the card.
    contacts = active_list(emulators, "People")
    html = admin_client.post(
        "/companies/", {**FORM, "inclusion_list_id": contacts}, **HTMX
    ).content.decode()
    assert f"HubSpot list {contacts} isn&#x27;t a company list." in html
    assert saved(live)["inclusion_list_id"] == list_id


def test_the_settings_api_exposes_the_company_list(admin_client, live, emulators):
    body = admin_client.get("/api/v1/settings/companies/").json()
    assert body["settings"]["inclusion_list_id"] is None
    list_id = company_list(emulators)
    response = admin_client.patch(
        "/api/v1/settings/companies/",
        {"settings": {"inclusion_list_id": int(list_id)}},
        content_type=JSON,
    )
    assert response.status_code == 200, response.content
    assert response.json()["changed"] == {"inclusion_list_id": {"from": None, "to": list_id}}
    contacts = active_list(emulators, "People")
    response = admin_client.patch(
        "/api/v1/settings/companies/",
        {"settings": {"inclusion_list_id": contacts}},
        content_type=JSON,
    )
    assert response.status_code == 400
    assert "isn't a company list" in str(response.json())
    response = admin_client.patch(
        "/api/v1/settings/companies/", {"settings": {"inclusion_list_id": None}}, content_type=JSON
    )
    assert response.json()["settings"]["inclusion_list_id"] is None


def test_sync_a_company_refuses_one_outside_the_list(admin_client, live, emulators):
    list_id = company_list(emulators)
    inside = new_company(emulators, name="Inside", description="listed")
    outside = new_company(emulators, name="Outside")
    admin_client.get("/companies/")
    admin_client.post("/companies/", {**FORM, "inclusion_list_id": list_id})
    html = admin_client.post(
        "/companies/sync/", {"company_id": outside}, follow=True
    ).content.decode()
    assert (
        f"Company Outside ({outside}) isn&#x27;t in the company inclusion list (Target "
        "&lt;accounts&gt;), so it doesn&#x27;t sync to Salesforce." in html
    )
    assert not ResyncRequest.objects.exists()
    html = admin_client.post("/companies/sync/", {"company_id": inside}, follow=True)
    assert f"Company Inside ({inside}) syncs now" in html.content.decode()
    assert ResyncRequest.objects.filter(record_key=f"hubspot:{inside}").exists()


@pytest.fixture
def company_list_deleted(admin_client, live, emulators):
    """An admin chose a company list; someone deleted it in HubSpot; a cycle ran."""
    list_id = company_list(emulators)
    admin_client.get("/companies/")
    admin_client.post("/companies/", {**FORM, "inclusion_list_id": list_id})
    assert saved(live)["inclusion_list_id"] == list_id
    hubspot_client(emulators, token="marketer-token").crm.lists.lists_api.remove(list_id)
    run = sync_cycle_run(integration=live, object_name="companies")
    assert run.status == "succeeded", run.message
    return list_id


def test_sync_health_says_the_companies_are_held(admin_client, company_list_deleted):
    html = admin_client.get("/sync-health/").content.decode()
    assert 'id="inclusion-list-missing"' not in html  # the contacts' list is fine
    notice = html[html.index('id="company-inclusion-list-missing"') :]
    notice = notice[: notice.index("</div>")]
    assert (
        "The inclusion list chosen on the Companies tab (Target &lt;accounts&gt;) no longer "
        "exists in HubSpot: companies are held until you choose another list, or none."
    ) in notice
    assert "new Salesforce accounts still create their HubSpot companies" in notice
    assert 'href="/companies/#company-limit"' in notice
    runs = html[html.index('id="sync-runs"') :]
    assert f"Companies tab (HubSpot list {company_list_deleted}) no longer exists" in runs

    before = ApiCall.objects.filter(operation="lists.get").count()
    picker = admin_client.get(
        f"/objects/companies/lists/?selected={company_list_deleted}", **HTMX
    ).content.decode()
    assert (
        f'<option value="{company_list_deleted}" selected>Target &lt;accounts&gt; (no longer '
        "exists in HubSpot)</option>"
    ) in picker
    assert "so companies are held until you choose another list, or none." in picker
    assert ApiCall.objects.filter(operation="lists.get").count() == before  # the run knew

    admin_client.post("/companies/", {**FORM, "inclusion_list_id": ""})
    html = admin_client.get("/sync-health/").content.decode()
    assert 'id="company-inclusion-list-missing"' not in html
