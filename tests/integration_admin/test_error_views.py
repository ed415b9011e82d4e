"""*Create view* on the Sync health panel (spec §3.2): a MANUAL HubSpot list per object type of
the records that have a current error of the type, made on the HubSpot emulator and checked
through the official client."""

from __future__ import annotations

from datetime import timedelta
from uuid import uuid4

import pytest
from django.utils import timezone
from hubspot.crm.companies import SimplePublicObjectInputForCreate as CompanyInput
from hubspot.crm.contacts import (
    BatchInputSimplePublicObjectBatchInputForCreate,
    SimplePublicObjectBatchInputForCreate,
)
from hubspot.crm.lists import ListCreateRequest, ListSearchRequest

from emulators.testing import hubspot_client
from sync_engine.models import ApiCall, AuditEvent, SyncError
from sync_engine.services import sync_error_record
from tests.sync_engine.sync.helpers import hs_create

from .conftest import make_error

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}
URL = "/sync-health/errors/property_value/view/"
NAME = "Salesforce sync errors: Invalid property value ("


@pytest.fixture
def hs(emulators):
    return hubspot_client(emulators, strict=False)


def contacts(hs, n: int) -> list[str]:
    return [hs_create(hs, email=f"{uuid4().hex}@example.com", lastname="Person") for _ in range(n)]


def error_for(integration, hubspot_id: str, **extra) -> SyncError:
    values = {
        "integration": integration,
        "object_name": "contacts",
        "error_type": "property_value",
        "direction": SyncError.Direction.TO_SALESFORCE,
        "hubspot_id": hubspot_id,
        "salesforce_type": "Lead",
        "record_label": f"Person {hubspot_id}",
        "code": "INVALID_EMAIL_ADDRESS",
        "message": "Email: invalid email address",
        **extra,
    }
    return sync_error_record(**values)


def members(hs, list_id: str) -> set[str]:
    found, after = set(), None
    while True:
        page = hs.crm.lists.memberships_api.get_page(list_id, after=after, limit=250)
        found |= {str(m.record_id) for m in page.results}
        after = page.paging.next.after if page.paging and page.paging.next else None
        if not after:
            return found


def views_in_hubspot(hs) -> list:
    request = ListSearchRequest(query="Salesforce sync errors", offset=0, count=100)
    return list(hs.crm.lists.lists_api.do_search(request).lists or [])


def created_list_ids() -> list[str]:
    return AuditEvent.objects.get(action="errors.view_created").details["lists"]


# --- making a view ------------------------------------------------------------------------------
def test_admin_makes_a_view_of_the_affected_records(admin_client, admin_user, live, hs, emulators):
    ids = contacts(hs, 3)
    for hubspot_id in ids:
        error_for(live, hubspot_id)
    other = contacts(hs, 1)[0]  # another type of error, and a fixed one: not in the view
    error_for(live, other, error_type="email_in_use")
    fixed = error_for(live, hs_create(hs, email="fixed@example.com"))
    SyncError.objects.filter(pk=fixed.pk).update(resolved_at=fixed.last_seen_at)

    response = admin_client.post(URL, **HTMX)

    assert response.status_code == 200
    html = response.content.decode()
    [list_id] = created_list_ids()
    found = hs.crm.lists.lists_api.get_by_id(list_id).list
    assert found.name.startswith(NAME) and found.processing_type == "MANUAL"
    assert found.object_type_id == "0-1"
    assert members(hs, list_id) == set(ids)
    # The panel comes back with a link to the list in HubSpot (here: the emulator's page of
    # it) and the flash out of band.
    list_url = f"{emulators.hubspot.url}/contacts/62515/objectLists/{list_id}"
    assert f'href="{list_url}"' in html
    assert 'id="created-views"' in html and "(3 records)" in html
    assert "with 3 records." in html and 'hx-swap-oob="innerHTML"' in html
    event = AuditEvent.objects.get(action="errors.view_created")
    assert event.actor == admin_user
    assert event.details == {"error_type": "property_value", "lists": [list_id], "records": 3}
    operations = list(
        ApiCall.objects.filter(integration=live, system="hubspot").values_list(
            "operation", flat=True
        )
    )
    assert operations.count("lists.create") == 1
    assert operations.count("lists.memberships.add") == 1


def test_one_view_per_hubspot_object_and_what_is_left_out(admin_client, live, hs):
    people = contacts(hs, 2)
    for hubspot_id in people:
        error_for(live, hubspot_id)
    company = hs.crm.companies.basic_api.create(CompanyInput(properties={"name": "Acme"})).id
    error_for(live, company, object_name="companies", salesforce_type="Account")
    # A person in the company sync's errors (its contact association) is a contact.
    person = contacts(hs, 1)[0]
    error_for(live, person, object_name="companies", salesforce_type="Contact")
    # A Salesforce record that hasn't synced yet has no HubSpot record to list.
    error_for(live, "", salesforce_id="00Q000000000001AAA", record_label="Not synced yet")
    # Activities (engagements) can't be in a list.
    error_for(
        live, "77", object_name="activities", salesforce_type="Task",
        record_key="hubspot:calls:77",
    )  # fmt: skip

    response = admin_client.post(URL, **HTMX)

    html = response.content.decode()
    assert response.status_code == 200
    lists = [hs.crm.lists.lists_api.get_by_id(i).list for i in created_list_ids()]
    by_type = {lst.object_type_id: lst for lst in lists}
    assert set(by_type) == {"0-1", "0-2"}
    assert members(hs, by_type["0-1"].list_id) == {*people, person}
    assert members(hs, by_type["0-2"].list_id) == {company}
    assert by_type["0-1"].name == by_type["0-2"].name  # unique per object type
    assert "1 record was left out: it isn&#x27;t in HubSpot yet" in html
    assert "1 activity was left out: HubSpot lists can&#x27;t hold activities." in html
    assert AuditEvent.objects.get(action="errors.view_created").details["records"] == 4


def test_records_hubspot_no_longer_has_are_counted(admin_client, live, hs):
    error_for(live, contacts(hs, 1)[0])
    error_for(live, "987654321")  # deleted in HubSpot since the error
    html = admin_client.post(URL, **HTMX).content.decode()
    [list_id] = created_list_ids()
    assert len(members(hs, list_id)) == 1
    assert "1 record is no longer in HubSpot, so the view leaves it out." in html
    assert "(1 record)" in html


def test_nothing_to_list_makes_no_view(admin_client, live, hs):
    before = len(views_in_hubspot(hs))
    error_for(live, "", salesforce_id="00Q000000000001AAA")
    html = admin_client.post(URL, **HTMX).content.decode()
    assert "No HubSpot view was created." in html
    assert "1 record was left out" in html and 'id="created-views"' not in html
    assert len(views_in_hubspot(hs)) == before
    assert not AuditEvent.objects.filter(action="errors.view_created").exists()


def test_a_name_hubspot_has_already_gets_a_number(admin_client, live, hs):
    error_for(live, contacts(hs, 1)[0])
    now = timezone.localtime()
    for moment in (now, now + timedelta(minutes=1)):  # the view is made this minute or the next
        name = f"{NAME}{moment:%Y-%m-%d %H:%M})"
        hs.crm.lists.lists_api.create(
            ListCreateRequest(name=name, object_type_id="0-1", processing_type="MANUAL")
        )
    admin_client.post(URL, **HTMX)
    [list_id] = created_list_ids()
    made = hs.crm.lists.lists_api.get_by_id(list_id).list
    assert made.name.startswith(NAME) and made.name.endswith(") (2)")
    assert ApiCall.objects.filter(operation="lists.get_by_name", status=200).count() == 1


def test_many_records_are_added_in_batches(admin_client, live, hs):
    ids = []
    for start in range(0, 501, 100):
        inputs = [
            SimplePublicObjectBatchInputForCreate(properties={"email": f"p{i}@example.com"})
            for i in range(start, min(start + 100, 501))
        ]
        batch = BatchInputSimplePublicObjectBatchInputForCreate(inputs=inputs)
        ids += [r.id for r in hs.crm.contacts.batch_api.create(batch).results]
    for hubspot_id in ids:
        error_for(live, hubspot_id)
    admin_client.post(URL, **HTMX)
    [list_id] = created_list_ids()
    assert members(hs, list_id) == set(ids)
    adds = ApiCall.objects.filter(integration=live, operation="lists.memberships.add")
    assert sorted(adds.values_list("records", flat=True)) == [1, 500]


def test_without_htmx_it_goes_back_to_the_panel(admin_client, live, hs):
    error_for(live, contacts(hs, 1)[0])
    response = admin_client.post(URL)
    assert response.status_code == 302
    assert response["Location"] == "/sync-health/errors/property_value/"
    html = admin_client.get(response["Location"]).content.decode()
    assert "Created the HubSpot view “Salesforce sync errors: Invalid property value (" in html
    assert "with 1 record." in html


def test_the_panel_comes_back_searched_as_it_was(admin_client, live, hs):
    """Create view lists every record with the error; the panel it answers with keeps the
    admin's search (it used to come back unsearched)."""
    first, second = contacts(hs, 2)
    error_for(live, first, record_label="Ada Lovelace")
    error_for(live, second, record_label="Grace Hopper")
    panel = admin_client.get("/sync-health/errors/property_value/?q=Ada", **HTMX).content
    assert 'name="q" value="Ada"' in panel.decode()  # the Create view form carries it
    html = admin_client.post(URL, {"q": "Ada"}, **HTMX).content.decode()
    assert "(2 records)" in html  # the view has both
    assert "Ada Lovelace" in html and "Grace Hopper" not in html  # the list is still searched
    response = admin_client.post(URL, {"q": "Ada"})
    assert response["Location"] == "/sync-health/errors/property_value/?q=Ada"


# --- who and what -------------------------------------------------------------------------------
def test_only_admins_see_the_button(admin_client, viewer_client, connected):
    make_error(connected, 1)
    panel = "/sync-health/errors/property_value/"
    assert f'hx-post="{URL}"' in admin_client.get(panel, **HTMX).content.decode()
    html = viewer_client.get(panel, **HTMX).content.decode()
    assert URL not in html and "Create view" not in html


def test_resync_all_asks_first_whether_the_cause_is_fixed(admin_client, connected):
    """Spec §3.3: HubSpot advises against retrying before the root cause is fixed."""
    make_error(connected, 3)
    html = admin_client.get("/sync-health/errors/property_value/", **HTMX).content.decode()
    button = html[html.index('value="all"') :]
    button = button[: button.index("</button>")]
    assert 'hx-confirm="Resync all 3? Fix the cause first' in button


def test_viewers_are_refused_and_no_list_is_made(viewer_client, live, hs):
    before = len(views_in_hubspot(hs))
    error_for(live, contacts(hs, 1)[0])
    for headers in ({}, HTMX):
        response = viewer_client.post(URL, **headers)
        assert response.status_code == 403
        assert "Only integration admins can change settings" in response.content.decode()
    assert len(views_in_hubspot(hs)) == before
    assert not ApiCall.objects.filter(operation__startswith="lists.").exists()
    assert not AuditEvent.objects.filter(action="errors.view_created").exists()


def test_unknown_types_and_gets(admin_client, client, connected):
    assert admin_client.post("/sync-health/errors/no_such_type/view/").status_code == 404
    assert admin_client.get(URL).status_code == 405
    response = client.post(URL)  # not logged in
    assert response.status_code == 302 and response["Location"].startswith("/login/")


# --- HubSpot refusing ---------------------------------------------------------------------------
def test_hubspot_refusing_shows_its_message_escaped(admin_client, live, hs, emulators):
    error_for(live, contacts(hs, 1)[0])
    before = len(views_in_hubspot(hs))
    emulators.hubspot.app.faults.add(
        path=r"/crm/v3/lists/?$",
        method="POST",
        status=400,
        body={"status": "error", "message": "<b>nope</b>", "category": "VALIDATION_ERROR"},
    )
    response = admin_client.post(URL, **HTMX)
    assert response.status_code == 200
    html = response.content.decode()
    assert "HubSpot didn&#x27;t create the view: &lt;b&gt;nope&lt;/b&gt;" in html
    assert "<b>nope</b>" not in html and 'id="created-views"' not in html
    # Without htmx: back to the panel, with the same message.
    response = admin_client.post(URL)
    assert response.status_code == 302
    html = admin_client.get(response["Location"]).content.decode()
    assert "&lt;b&gt;nope&lt;/b&gt;" in html and "<b>nope</b>" not in html
    assert len(views_in_hubspot(hs)) == before
    assert not AuditEvent.objects.filter(action="errors.view_created").exists()


def test_a_failure_after_a_list_was_made_is_audited(admin_client, live, hs, emulators):
    error_for(live, contacts(hs, 1)[0])
    emulators.hubspot.app.faults.add(
        path=r"/crm/v3/lists/\d+/memberships/add$",
        method="PUT",
        status=500,
        body={"status": "error", "message": "Down for a moment", "category": "INTERNAL_ERROR"},
    )
    html = admin_client.post(URL, **HTMX).content.decode()
    assert "HubSpot didn&#x27;t create the view: Down for a moment" in html
    event = AuditEvent.objects.get(action="errors.view_created")
    [list_id] = event.details["lists"]
    assert event.details["failed"] == "Down for a moment" and event.details["records"] == 0
    assert hs.crm.lists.lists_api.get_by_id(list_id).list.processing_type == "MANUAL"


def test_links_to_the_crms_say_they_open_a_new_tab(admin_client, connected):
    """Screen readers hear that a record link leaves the dashboard for a new tab."""
    make_error(connected, 1)
    html = admin_client.get("/sync-health/errors/property_value/").content.decode()
    assert (
        'target="_blank" rel="noopener noreferrer">HubSpot 1000'
        '<span class="visually-hidden"> (opens in a new tab)</span></a>'
    ) in html
