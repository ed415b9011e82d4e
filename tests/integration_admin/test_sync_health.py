"""The Sync health tab: the API call use panel and the allocation form, the error cards, the
detail panel, the CSV export, resyncs, the per-record view and Sync now."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from sync_engine.models import (
    ApiCall,
    AuditEvent,
    Integration,
    ObjectSync,
    RecordLink,
    ResyncRequest,
    SyncError,
    SyncRun,
)
from tests.sync_engine.factories import ApiCallFactory

from .conftest import make_custom_object, make_error

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}


# --- API call use ---------------------------------------------------------------------------
def test_usage_panel_numbers_chart_and_forecast(viewer_client, connected):
    now = timezone.now()
    ApiCallFactory.create_batch(7, integration=connected, called_at=now - timedelta(minutes=5))
    ApiCallFactory.create_batch(2, integration=connected, called_at=now - timedelta(hours=5))
    ApiCallFactory.create_batch(3, integration=connected, system="hubspot")
    ApiCallFactory(integration=connected, called_at=now - timedelta(hours=30))  # outside
    html = viewer_client.get("/sync-health/").content.decode()
    assert 'data-stat="used">9<' in html
    assert "4,991 left of the allocation" in html
    assert 'value="5000"' in html  # Allocated to HubSpot
    assert 'data-stat="limit">15,000<' in html  # Limited by Salesforce
    assert "HubSpot API calls in the last 24 hours: 3" in html
    # The chart: 24 hours × 2 systems as SVG bars, drawn on the server.
    assert html.count('<rect class="bar bar--salesforce"') == 24
    assert html.count('<rect class="bar bar--hubspot"') == 24
    assert "Salesforce (9)" in html and "HubSpot (3)" in html
    assert ": 7 calls</title>" in html
    # 7 calls in the last hour: 9 used, 5,000 allowed → fine at this pace.
    assert 'data-forecast="enough"' in html


def test_forecast_warns_when_the_pace_runs_out(viewer_client, connected):
    # 7,000 left: enough for a cycle a minute, so the last hour's pace is the pace.
    _calls(connected, 3_000, minutes_ago=10)
    Integration.objects.filter(pk=connected.pk).update(salesforce_api_allocation=10_000)
    html = viewer_client.get("/sync-health/").content.decode()
    assert 'data-forecast="runs_out"' in html and "data-cadence" not in html
    assert "At the current pace the allocation runs out in 2\xa0hours" in html


def test_update_allocation_with_htmx(admin_client, admin_user, connected):
    response = admin_client.post("/sync-health/allocation/", {"allocation": "7000"}, **HTMX)
    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith('<section class="card" id="api-usage"')
    assert "Saved: 5,000 → 7,000 calls per 24 hours." in html
    connected.refresh_from_db()
    assert connected.salesforce_api_allocation == 7000
    event = AuditEvent.objects.get(action="integration.allocation_changed")
    assert event.actor == admin_user and event.details == {"from": 5000, "to": 7000}


def test_update_allocation_without_htmx(admin_client, connected):
    response = admin_client.post("/sync-health/allocation/", {"allocation": "15000"})
    assert response.status_code == 302 and response["Location"] == "/sync-health/"
    html = admin_client.get("/sync-health/").content.decode()
    assert "Allocated to HubSpot changed from 5,000 to 15,000 calls." in html


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("0", "The allocation must be at least 1 call."),
        ("-5", "The allocation must be at least 1 call."),
        ("15001", "can&#x27;t be more than Salesforce&#x27;s limit of 15,000 calls per 24 hours"),
        # Far past the limit (and what the database holds): still the limit that's named.
        (
            "99999999999999999999",
            "can&#x27;t be more than Salesforce&#x27;s limit of 15,000 calls per 24 hours",
        ),
        ("lots", "Enter a whole number of API calls."),
        ("", "Enter the number of API calls to allocate to HubSpot."),
    ],
)
def test_invalid_allocation_shows_inline_error(admin_client, connected, value, message):
    response = admin_client.post("/sync-health/allocation/", {"allocation": value}, **HTMX)
    html = response.content.decode()
    assert 'class="field-error" id="allocation-error"' in html and message in html
    assert 'aria-invalid="true"' in html
    connected.refresh_from_db()
    assert connected.salesforce_api_allocation == 5000
    assert not AuditEvent.objects.filter(action="integration.allocation_changed").exists()
    # Without htmx the whole page comes back with the same message.
    response = admin_client.post("/sync-health/allocation/", {"allocation": value})
    assert response.status_code == 400 and message in response.content.decode()


def test_saving_the_same_allocation_says_it_is_unchanged(admin_client, connected):
    html = admin_client.post("/sync-health/allocation/", {"allocation": "5000"}, **HTMX)
    html = html.content.decode()
    assert "Unchanged: that is the allocation already." in html and "5,000 → 5,000" not in html
    html = admin_client.post("/sync-health/allocation/", {"allocation": "5000"}, follow=True)
    assert "Unchanged: that is the allocation already." in html.content.decode()


def test_allocation_may_be_anything_positive_when_the_limit_is_unknown(admin_client, connected):
    Integration.objects.filter(pk=connected.pk).update(salesforce_api_limit=None)
    admin_client.post("/sync-health/allocation/", {"allocation": "250000"}, **HTMX)
    connected.refresh_from_db()
    assert connected.salesforce_api_allocation == 250000


def test_viewer_cannot_change_the_allocation(viewer_client, connected):
    html = viewer_client.get("/sync-health/").content.decode()
    assert 'name="allocation" id="id_allocation"' in html and "disabled" in html
    response = viewer_client.post("/sync-health/allocation/", {"allocation": "6000"}, **HTMX)
    assert response.status_code == 403
    assert response["HX-Retarget"] == "#flash"
    assert "Only integration admins can change settings" in response.content.decode()
    response = viewer_client.post("/sync-health/allocation/", {"allocation": "6000"})
    assert response.status_code == 403
    assert "Only integration admins can change settings" in response.content.decode()
    connected.refresh_from_db()
    assert connected.salesforce_api_allocation == 5000


# --- error cards and the panel ----------------------------------------------------------------
def test_cards_count_current_errors_and_impacted_records(viewer_client, connected):
    make_error(connected, 3)
    make_error(connected, 2, error_type="picklist", code="INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST")
    # The same record failing again bumps its error: still one error, one record.
    again = make_error(connected, 1, error_type="picklist")[0]
    assert again.attempts == 2
    resolved = make_error(connected, 1, error_type="owner", hubspot_id="77")[0]
    SyncError.objects.filter(pk=resolved.pk).update(resolved_at=timezone.now())
    html = viewer_client.get("/sync-health/").content.decode()
    cards = html[html.index('id="error-cards"') : html.index('id="error-panel"')]
    assert cards.index("Invalid property value") < cards.index("Picklist value not allowed")
    assert "<strong>3</strong> current errors" in cards
    assert "<strong>3</strong> impacted records" in cards
    assert "<strong>2</strong> current errors" in cards
    assert "<strong>2</strong> impacted records" in cards
    assert "Owner can" not in cards  # resolved errors don't count
    assert 'href="/sync-health/errors/picklist/"' in cards
    assert 'hx-get="/sync-health/errors/picklist/" hx-target="#error-panel"' in cards


def two_linked_people(integration) -> None:
    """Lead 00Q5000000000ABCDE ⇄ HubSpot 501 and contact 0035000000000ABCDE ⇄ 502."""
    RecordLink.objects.create(
        integration=integration, object="contacts", hubspot_id="501",
        salesforce_id="00Q5000000000ABCDE", salesforce_type="Lead",
    )  # fmt: skip
    RecordLink.objects.create(
        integration=integration, object="contacts", hubspot_id="502",
        salesforce_id="0035000000000ABCDE", salesforce_type="Contact",
    )  # fmt: skip


def test_a_linked_record_failing_both_ways_is_one_impacted_record(viewer_client, connected):
    """The engine keeps an error going to Salesforce on the HubSpot record ("hubspot:<id>")
    and one going to HubSpot on the Salesforce record ("salesforce:<id>"): a synced pair
    failing the same way in both directions has two errors but is one record."""
    to_hubspot = SyncError.Direction.TO_HUBSPOT
    two_linked_people(connected)
    make_error(connected, 1, hubspot_id="501", salesforce_id="00Q5000000000ABCDE")
    make_error(
        connected, 1, direction=to_hubspot, hubspot_id="501", salesforce_id="00Q5000000000ABCDE",
        record_key="salesforce:00Q5000000000ABCDE",
    )  # fmt: skip
    # The error going to HubSpot needn't carry the HubSpot id: the link pairs them.
    make_error(connected, 1, hubspot_id="502", salesforce_type="Contact")
    make_error(
        connected, 1, direction=to_hubspot, hubspot_id="", salesforce_id="0035000000000ABCDE",
        salesforce_type="Contact",
    )  # fmt: skip
    # Not paired: a Salesforce record of its own, and a company with a contact's HubSpot id.
    make_error(
        connected, 1, direction=to_hubspot, hubspot_id="", salesforce_id="00Q5000000000ZZZZZ"
    )
    make_error(connected, 1, object_name="companies", hubspot_id="501", salesforce_type="Account")
    html = viewer_client.get("/sync-health/").content.decode()
    cards = html[html.index('id="error-cards"') : html.index('id="error-panel"')]
    assert "<strong>6</strong> current errors" in cards
    assert "<strong>4</strong> impacted records" in cards
    summary = viewer_client.get("/api/v1/errors/summary/").json()
    assert [(c["error_type"], c["errors"], c["records"]) for c in summary] == [
        ("property_value", 6, 4)
    ]


def test_links_open_the_record_s_own_hubspot_object(viewer_client, connected):
    """A company sync error about a contact links to the contact; a custom object's error
    to its record of that custom object type."""
    make_custom_object(connected)
    make_error(
        connected,
        1,
        object_name="companies",
        error_type="waiting_for_account",
        hubspot_id="501",
        salesforce_id="0035000000000ABCDE",
        salesforce_type="Contact",
    )
    make_error(
        connected,
        1,
        object_name="custom:1",
        error_type="waiting_for_opportunity",
        hubspot_id="77",
        salesforce_id="a005000000000ABCDE",
        salesforce_type="Project__c",
    )
    # fmt: skip
    html = viewer_client.get("/sync-health/errors/waiting_for_account/", **HTMX).content.decode()
    assert 'href="https://app.hubspot.com/contacts/4242/record/0-1/501"' in html
    assert "record/0-2/501" not in html
    html = viewer_client.get(
        "/sync-health/errors/waiting_for_opportunity/", **HTMX
    ).content.decode()
    assert 'href="https://app.hubspot.com/contacts/4242/record/2-1/77"' in html
    page = viewer_client.get("/records/custom:1/hubspot:77/").content.decode()
    assert "Waiting for opportunity to sync" in page
    cells = b"".join(viewer_client.get("/sync-health/errors/export/").streaming_content).decode()
    assert "record/0-1/501" in cells and "record/2-1/77" in cells


def test_the_cards_help_doesnt_say_where_the_panel_is(viewer_client, connected):
    """On a phone the panel opens under the cards, not on their right."""
    make_error(connected, 1)
    html = viewer_client.get("/sync-health/").content.decode()
    assert "Click a type to see its errors in the panel that opens." in html
    assert "on the right" not in html


def test_no_errors_says_so(viewer_client, connected):
    assert "No sync errors" in viewer_client.get("/sync-health/").content.decode()


def test_panel_explains_lists_and_links_both_systems(viewer_client, connected):
    make_error(connected, 1, hubspot_id="501", salesforce_id="", record_label="Ann <ann@x>")
    RecordLink.objects.create(
        integration=connected, object="contacts", hubspot_id="501",
        salesforce_id="00Q5000000000ABCDE", salesforce_type="Lead",
    )  # fmt: skip
    response = viewer_client.get("/sync-health/errors/property_value/", **HTMX)
    html = response.content.decode()
    assert html.lstrip().startswith('<div class="panel__inner"')
    assert "A value doesn&#x27;t fit its field" in html  # explanation
    assert "Correct the value shown in the error on the record, then resync." in html  # fix
    assert "Ann &lt;ann@x&gt;" in html
    assert "INVALID_EMAIL_ADDRESS" in html and "invalid email address: bad0@" in html
    assert 'href="https://app.hubspot.com/contacts/4242/record/0-1/501"' in html
    assert 'href="https://acme.my.salesforce.com/lightning/r/Lead/00Q5000000000ABCDE/view"' in html
    assert 'href="/records/contacts/hubspot:501/"' in html
    assert '<td class="num" data-label="Attempts">1</td>' in html  # attempts
    # A plain request gets the whole tab with the panel open.
    page = viewer_client.get("/sync-health/errors/property_value/").content.decode()
    assert "<html" in page and "health-layout--panel" in page and "Ann &lt;ann@x&gt;" in page


def test_panel_search_and_pages(viewer_client, connected):
    make_error(connected, 30)
    html = viewer_client.get("/sync-health/errors/property_value/", **HTMX).content.decode()
    assert "1–25 of 30" in html and "Page 1 of 2" in html
    assert html.count('name="ids"') == 0  # viewers get no checkboxes
    list_only = {**HTMX, "HTTP_HX_TARGET": "error-list"}
    html = viewer_client.get(
        "/sync-health/errors/property_value/?page=2", **list_only
    ).content.decode()
    assert html.lstrip().startswith('<div id="error-list"')
    assert "26–30 of 30" in html and "Person 0<" in html
    html = viewer_client.get(
        "/sync-health/errors/property_value/?q=Person 1", **list_only
    ).content.decode()
    assert "1–11 of 11" in html  # Person 1, 10…19
    html = viewer_client.get(
        "/sync-health/errors/property_value/?q=1017", **list_only
    ).content.decode()
    assert "1–1 of 1" in html and "Person 17" in html
    html = viewer_client.get("/sync-health/errors/property_value/?q=zzz", **list_only)
    assert "No current errors match your search." in html.content.decode()


def test_admins_get_checkboxes_and_resync_buttons(admin_client, connected):
    errors = make_error(connected, 2)
    html = admin_client.get("/sync-health/errors/property_value/", **HTMX).content.decode()
    for error in errors:
        assert f'name="ids" value="{error.pk}"' in html
    assert "Resync selected" in html and "Resync all" in html and "Export errors" in html


# --- export -----------------------------------------------------------------------------------
def _csv(response) -> list[list[str]]:
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text)))


def test_export_is_safe_against_formula_injection(viewer_client, connected):
    make_error(connected, 1, record_label='=HYPERLINK("http://evil","x")', message="+1 bad")
    make_error(connected, 1, hubspot_id="2", record_label="@SUM(A1)", message="-2\tx")
    make_error(connected, 1, hubspot_id="3", record_label="\tTab", message="\rCR")
    make_error(connected, 1, error_type="picklist", hubspot_id="4", record_label="Plain")
    response = viewer_client.get("/sync-health/errors/export/?type=property_value")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert 'attachment; filename="sync-errors-property_value-' in response["Content-Disposition"]
    rows = _csv(response)
    header, body = rows[0], rows[1:]
    assert header[:4] == ["Error type", "Object", "Direction", "Record"]
    assert len(body) == 3
    cells = [cell for row in body for cell in row]
    assert '\'=HYPERLINK("http://evil","x")' in cells and "'+1 bad" in cells
    assert "'@SUM(A1)" in cells and "'-2\tx" in cells
    assert "'\tTab" in cells and "'\rCR" in cells
    assert not any(c[:1] in ("=", "+", "-", "@", "\t", "\r") for c in cells)
    assert "https://app.hubspot.com/contacts/4242/record/0-1/2" in cells


def test_export_all_types_and_search(viewer_client, connected):
    make_error(connected, 3)
    make_error(connected, 2, error_type="picklist", hubspot_id="90")
    assert len(_csv(viewer_client.get("/sync-health/errors/export/"))) == 1 + 4
    rows = _csv(viewer_client.get("/sync-health/errors/export/?type=property_value&q=Person 2"))
    assert [r[3] for r in rows[1:]] == ["Person 2"]


def test_export_fills_the_other_id_from_the_record_s_link(viewer_client, connected):
    """An error kept on one side of a synced pair exports both ids and both links (the
    links read with the errors, not one query per row)."""
    two_linked_people(connected)
    make_error(
        connected, 1, direction=SyncError.Direction.TO_HUBSPOT, hubspot_id="",
        salesforce_id="00Q5000000000ABCDE", record_label="Ann",
    )  # fmt: skip
    make_error(connected, 1, hubspot_id="502", salesforce_type="", record_label="Bob")
    make_error(connected, 1, hubspot_id="503", record_label="Cy")  # not synced yet
    rows = _csv(viewer_client.get("/sync-health/errors/export/"))
    header, body = rows[0], {row[3]: row for row in rows[1:]}
    hubspot_id, hubspot_link = header.index("HubSpot id"), header.index("HubSpot link")
    salesforce_id, salesforce_link = header.index("Salesforce id"), header.index("Salesforce link")
    sobject = header.index("Salesforce object")
    ann, bob, cy = body["Ann"], body["Bob"], body["Cy"]
    assert ann[hubspot_id] == "501"
    assert ann[hubspot_link] == "https://app.hubspot.com/contacts/4242/record/0-1/501"
    assert ann[salesforce_id] == "00Q5000000000ABCDE"
    assert (bob[salesforce_id], bob[sobject]) == ("0035000000000ABCDE", "Contact")
    assert bob[salesforce_link] == (
        "https://acme.my.salesforce.com/lightning/r/Contact/0035000000000ABCDE/view"
    )
    assert (cy[hubspot_id], cy[salesforce_id], cy[salesforce_link]) == ("503", "", "")
    # More linked rows, no more queries.
    with CaptureQueriesContext(connection) as few:
        _csv(viewer_client.get("/sync-health/errors/export/"))
    for i in range(40):
        salesforce = f"00Q60000000{i:02d}ABCDE"
        RecordLink.objects.create(
            integration=connected, object="contacts", hubspot_id=str(600 + i),
            salesforce_id=salesforce, salesforce_type="Lead",
        )  # fmt: skip
        make_error(connected, 1, hubspot_id="", salesforce_id=salesforce, record_label=f"P{i}")
    with CaptureQueriesContext(connection) as many:
        rows = _csv(viewer_client.get("/sync-health/errors/export/"))
    assert len(rows) == 1 + 3 + 40 and len(many) == len(few)
    assert {row[hubspot_id] for row in rows if row[3].startswith("P")} == {
        str(600 + i) for i in range(40)
    }


# --- resync -----------------------------------------------------------------------------------
def test_resync_selected_queues_them_and_starts_a_cycle_on_commit(
    admin_client, admin_user, connected, django_capture_on_commit_callbacks
):
    errors = make_error(connected, 3)
    chosen = [errors[0].pk, errors[2].pk]
    with django_capture_on_commit_callbacks() as callbacks:
        response = admin_client.post(
            "/sync-health/errors/resync/",
            {"error_type": "property_value", "scope": "selected", "ids": chosen},
            **HTMX,
        )
    assert response.status_code == 200
    html = response.content.decode()
    assert "2 errors queued for a resync; the next sync cycle starts now." in html
    assert html.count("Resync queued") == 2
    assert 'hx-trigger="every 3s"' in html  # the panel watches them leave
    now = timezone.now()
    queued = SyncError.objects.filter(next_retry_at__lte=now).values_list("pk", flat=True)
    assert sorted(queued) == sorted(chosen)
    assert len(callbacks) == 1  # one cycle for contacts, started once the transaction commits
    event = AuditEvent.objects.get(action="errors.resync_requested")
    assert event.actor == admin_user and event.details["count"] == 2


def test_resync_all_of_a_type(admin_client, connected, django_capture_on_commit_callbacks):
    make_error(connected, 4)
    make_error(connected, 1, error_type="picklist", hubspot_id="99")
    with django_capture_on_commit_callbacks():
        response = admin_client.post(
            "/sync-health/errors/resync/", {"error_type": "property_value", "scope": "all"}
        )
    assert response.status_code == 302
    assert response["Location"] == "/sync-health/errors/property_value/"
    queued = SyncError.objects.filter(next_retry_at__lte=timezone.now())
    assert queued.count() == 4 and not queued.filter(error_type="picklist").exists()


def test_resync_keeps_the_panels_search(admin_client, connected):
    errors = make_error(connected, 12)
    response = admin_client.post(
        "/sync-health/errors/resync/",
        {"error_type": "property_value", "scope": "selected", "ids": [errors[2].pk],
         "q": "Person 2"},
        **HTMX,
    )  # fmt: skip
    html = response.content.decode()
    assert 'value="Person 2"' in html and "1–1 of 1" in html


def test_no_create_view_for_a_type_only_activities_have(admin_client, connected):
    make_error(connected, 1, error_type="waiting_for_contact", object_name="activities")
    html = admin_client.get("/sync-health/errors/waiting_for_contact/", **HTMX).content.decode()
    assert "Create view" not in html
    make_error(connected, 1, error_type="property_value")
    html = admin_client.get("/sync-health/errors/property_value/", **HTMX).content.decode()
    assert "Create view" in html


def test_resync_selected_needs_a_selection(admin_client, connected):
    make_error(connected, 1)
    response = admin_client.post(
        "/sync-health/errors/resync/", {"error_type": "property_value", "scope": "selected"}, **HTMX
    )
    assert "Select the errors to resync first." in response.content.decode()
    assert not SyncError.objects.filter(next_retry_at__lte=timezone.now()).exists()


def test_resync_with_a_mangled_error_type_goes_to_a_real_panel(admin_client, connected):
    make_error(connected, 1)
    response = admin_client.post(
        "/sync-health/errors/resync/", {"error_type": "property value!", "scope": "all"}
    )
    assert response.status_code == 302
    assert response["Location"] == "/sync-health/errors/propertyvalue/"


def test_viewer_cannot_resync(viewer_client, connected):
    error = make_error(connected, 1)[0]
    response = viewer_client.post(
        "/sync-health/errors/resync/", {"scope": "selected", "ids": [error.pk]}
    )
    assert response.status_code == 403
    error.refresh_from_db()
    assert error.next_retry_at > timezone.now()


def test_resync_runs_a_real_cycle(
    admin_client, live, celery_eager, django_capture_on_commit_callbacks
):
    error = make_error(live, 1)[0]
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post("/sync-health/errors/resync/", {"scope": "all"})
    run = SyncRun.objects.get(integration=live)
    assert run.object == "contacts" and run.trigger == "resync"
    error.refresh_from_db()
    assert error.attempts >= 1


# --- one record -------------------------------------------------------------------------------
def test_a_record_without_errors_is_named_as_last_synced(admin_client, connected):
    RecordLink.objects.create(
        integration=connected, object="contacts", hubspot_id="1933",
        salesforce_id="003000000000002AAA", salesforce_type="Contact",
        snapshot={"firstname": "Ada", "lastname": "Lovelace", "email": "ada@example.com"},
    )  # fmt: skip
    html = admin_client.get("/records/contacts/hubspot:1933/").content.decode()
    assert '<h1 class="page__title">Ada Lovelace</h1>' in html
    # It can be synced again by hand, errors or not (a new mapping's values, say).
    assert 'action="/records/contacts/hubspot:1933/resync/"' in html and "Sync this record" in html
    # A custom object's record, by its own name property.
    RecordLink.objects.create(
        integration=connected, object="custom:1", hubspot_id="1901", salesforce_id="a005g01",
        salesforce_type="Project__c", snapshot={"__contacts": [], "project_name": "Apollo"},
    )  # fmt: skip
    html = admin_client.get("/records/custom:1/hubspot:1901/").content.decode()
    assert '<h1 class="page__title">Apollo</h1>' in html


def test_record_view_shows_link_errors_and_history(admin_client, connected):
    RecordLink.objects.create(
        integration=connected, object="contacts", hubspot_id="1000",
        salesforce_id="003000000000001AAA", salesforce_type="Contact",
    )  # fmt: skip
    current = make_error(connected, 1)[0]
    old = make_error(connected, 1, error_type="owner", message="owner gone")[0]
    SyncError.objects.filter(pk=old.pk).update(resolved_at=timezone.now())
    # The same record's error filed under its Salesforce key shows up too.
    make_error(
        connected,
        1,
        error_type="picklist",
        hubspot_id="",
        salesforce_id="003000000000001AAA",
        direction=SyncError.Direction.TO_HUBSPOT,
        message="bad state",
    )
    html = admin_client.get("/records/contacts/hubspot:1000/").content.decode()
    assert "Person 0" in html
    assert "https://acme.my.salesforce.com/lightning/r/Contact/003000000000001AAA/view" in html
    assert "https://app.hubspot.com/contacts/4242/record/0-1/1000" in html
    assert "2 current errors" in html and "bad state" in html and current.message in html
    history = html[html.index("Sync history") :]
    assert "owner gone" in history and "Owner can" in history
    assert 'action="/records/contacts/hubspot:1000/resync/"' in html


def test_record_resync(admin_client, connected, django_capture_on_commit_callbacks):
    error = make_error(connected, 1)[0]
    with django_capture_on_commit_callbacks() as callbacks:
        response = admin_client.post("/records/contacts/hubspot:1000/resync/")
    assert response.status_code == 302
    error.refresh_from_db()
    assert error.next_retry_at <= timezone.now() and callbacks
    # The whole record is queued too, errors or not.
    assert ResyncRequest.objects.filter(integration=connected, record_key="hubspot:1000").exists()


def test_unknown_record_is_404(viewer_client, admin_client, connected):
    assert viewer_client.get("/records/contacts/hubspot:404/").status_code == 404
    assert viewer_client.get("/records/planets/hubspot:1/").status_code == 404
    # Its Resync too, whatever the key looks like, and nothing is queued.
    assert admin_client.post("/records/contacts/hubspot:404/resync/").status_code == 404
    assert admin_client.post("/records/contacts/bogus/resync/").status_code == 404
    assert not ResyncRequest.objects.exists()


# --- Sync now ---------------------------------------------------------------------------------
def test_sync_now_enqueues_a_cycle_on_commit(
    admin_client, live, celery_eager, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = admin_client.post("/sync-now/", {"next": "/contacts/"})
    assert response.status_code == 302 and response["Location"] == "/contacts/"
    assert len(callbacks) == 1
    run = SyncRun.objects.get(integration=live)
    assert run.trigger == "manual" and run.status == "succeeded"
    assert AuditEvent.objects.filter(action="sync.requested").exists()
    assert "Sync started for Contacts." in admin_client.get("/contacts/").content.decode()


def test_sync_now_covers_custom_objects_too(
    admin_client, connected, django_capture_on_commit_callbacks
):
    make_custom_object(connected)
    with django_capture_on_commit_callbacks():
        admin_client.post("/sync-now/", {"next": "/contacts/"})
    assert AuditEvent.objects.get(action="sync.requested").details["objects"] == [
        "contacts",
        "custom:1",
    ]
    assert "Sync started for Contacts, Projects." in admin_client.get("/contacts/").content.decode()


def test_sync_now_refuses_viewers_and_foreign_redirects(
    admin_client, viewer_client, connected, django_capture_on_commit_callbacks
):
    assert viewer_client.post("/sync-now/").status_code == 403
    with django_capture_on_commit_callbacks():
        response = admin_client.post("/sync-now/", {"next": "https://evil.example/"})
    assert response["Location"] == "/"


def test_raising_a_used_up_allocation_resumes_at_once(admin_client, admin_user, connected):
    ApiCallFactory.create_batch(5, integration=connected, called_at=timezone.now())
    Integration.objects.filter(pk=connected.pk).update(
        salesforce_api_allocation=5,
        state="paused",
        state_reason="The Salesforce API allocation is used up.",
    )
    html = admin_client.get("/sync-health/").content.decode()
    assert "statusbar--paused" in html and 'data-forecast="reached"' in html
    # The cause, then what to do, each said once.
    reason = '<span class="statusbar__reason">The Salesforce API allocation is used up.</span>'
    assert reason in html
    assert html.count("raise “Allocated to HubSpot” on the Sync health tab") == 1

    response = admin_client.post("/sync-health/allocation/", {"allocation": "50"}, **HTMX)
    html = response.content.decode()
    assert 'id="statusbar" hx-swap-oob="true"' in html and "statusbar--connected" in html
    connected.refresh_from_db()
    assert connected.state == "connected" and connected.state_reason == ""
    resumed = AuditEvent.objects.get(action="integration.state_changed")
    assert resumed.actor == admin_user and resumed.details["to"] == "connected"
    assert "used up" not in admin_client.get("/sync-health/").content.decode()


def test_a_raise_still_under_the_window_keeps_the_pause(admin_client, connected):
    ApiCallFactory.create_batch(5, integration=connected, called_at=timezone.now())
    Integration.objects.filter(pk=connected.pk).update(
        salesforce_api_allocation=3,
        state="paused",
        state_reason="The Salesforce API allocation is used up.",
    )
    html = admin_client.post("/sync-health/allocation/", {"allocation": "4"}, **HTMX).content
    assert b"hx-swap-oob" not in html
    connected.refresh_from_db()
    assert connected.state == "paused"


def test_an_org_limit_pause_advises_waiting_for_salesforce(viewer_client, connected):
    Integration.objects.filter(pk=connected.pk).update(
        state="paused",
        state_reason="The Salesforce org reached its daily API limit, which stops every "
        "integration.",
    )
    html = viewer_client.get("/sync-health/").content.decode()
    assert "Syncing resumes by itself when Salesforce frees calls" in html
    assert "Allocated to HubSpot” on the Sync health tab" not in html


# --- the run history ------------------------------------------------------------------------
NOW = timezone.now()


def _runs_card(html: str) -> str:
    return html[html.index('id="sync-runs"') :]


def _older_link(html: str) -> str:
    """The "Show older cycles" address htmx asks for (the page's own is the no-JS fallback)."""
    match = re.search(r'hx-get="(/sync-health/runs/\?[^"]+)"[^>]*>Show older cycles<', html)
    assert match, "no Show older cycles"
    return match.group(1).replace("&amp;", "&")


def _run(integration, marker: str, minutes: float, **values) -> SyncRun:
    values.setdefault("object", "contacts")
    values.setdefault("status", "succeeded")
    return SyncRun.objects.create(
        integration=integration,
        started_at=NOW - timedelta(minutes=minutes),
        message=marker,
        **values,
    )


def _markers(html: str) -> list[str]:
    return re.findall(r'<span class="muted">(R\d+)</span>', html)


def test_show_older_pages_through_the_whole_history(viewer_client, connected):
    # 25 runs, a minute apart, but R09, R10 and R11 started at the same moment, across the
    # first page's end: the id orders them (newest first), and the next page goes on from there.
    for i in range(25):
        _run(connected, f"R{i:02d}", minutes=9 if i in (9, 10, 11) else i)
    order = [f"R{i:02d}" for i in (*range(9), 11, 10, 9, *range(12, 25))]
    html = viewer_client.get("/sync-health/").content.decode()
    # The first page stays as it was: about the last three cycles, at least 10 runs.
    assert _markers(_runs_card(html)) == order[:10]
    link = _older_link(html)
    # Runs that arrive meanwhile don't shift the next page (it starts after the last run shown).
    _run(connected, "R99", minutes=-1)
    older = viewer_client.get(link, **HTMX, HTTP_HX_TARGET="sync-runs-more")
    assert older.status_code == 200 and older["Cache-Control"].startswith("no-store")
    rows = older.content.decode()
    assert "<section" not in rows  # just the rows that replace the button's row
    assert _markers(rows) == order[10:]
    assert "Show older cycles" not in rows  # the oldest run is in
    # Without JavaScript the button's own address shows the same older runs in the tab.
    plain = re.search(r'href="(/sync-health/\?before=\d+)#sync-runs"', html).group(1)
    page = viewer_client.get(plain).content.decode()
    assert _markers(_runs_card(page)) == order[10:]
    assert "Newest cycles" in page


def test_older_pages_come_fifty_runs_at_a_time(viewer_client, connected):
    for i in range(70):
        _run(connected, f"R{i:02d}", minutes=i)
    html = viewer_client.get("/sync-health/").content.decode()
    rows = viewer_client.get(_older_link(html), **HTMX, HTTP_HX_TARGET="sync-runs-more")
    rows = rows.content.decode()
    assert _markers(rows) == [f"R{i:02d}" for i in range(10, 60)]
    last = viewer_client.get(_older_link(rows), **HTMX, HTTP_HX_TARGET="sync-runs-more")
    assert _markers(last.content.decode()) == [f"R{i:02d}" for i in range(60, 70)]


def test_the_run_history_filters_by_pair_and_status(viewer_client, connected):
    _run(connected, "R01", 1, error_count=11, counts={"failed": 11})
    _run(connected, "R02", 2, object="deals", error_count=3, counts={"failed": 3})
    _run(connected, "R03", 3, object="deals")
    _run(connected, "R04", 4, object="deals", status="failed")
    _run(connected, "R05", 5, object="deals", counts={"failed": 2})  # error_count not copied
    _run(connected, "R06", 6, object="deals", status="paused", error_count=1)
    for i in range(7, 40):
        _run(connected, f"R{i:02d}", i)  # clean contacts runs, pushing the others further down

    def card(query: str) -> list[str]:
        response = viewer_client.get(
            f"/sync-health/runs/?{query}", **HTMX, HTTP_HX_TARGET="sync-runs"
        )
        assert response.status_code == 200
        html = response.content.decode()
        assert html.lstrip().startswith('<section class="card" id="sync-runs"')
        return _markers(html)

    assert card("status=errors") == ["R01", "R02", "R05", "R06"]
    assert card("object=deals&status=errors") == ["R02", "R05", "R06"]
    assert card("object=deals") == ["R02", "R03", "R04", "R05", "R06"]
    assert card("object=deals&status=succeeded") == ["R03"]
    assert card("object=deals&status=succeeded_with_errors") == ["R02", "R05"]
    assert card("status=failed") == ["R04"]
    assert card("status=paused") == ["R06"]
    assert card("object=tickets") == []
    empty = viewer_client.get(
        "/sync-health/runs/?object=tickets", **HTMX, HTTP_HX_TARGET="sync-runs"
    )
    assert "No sync cycle matches these filters." in empty.content.decode()
    # Unknown values are no filter at all (the newest runs, as on the tab).
    assert card("object=nope&status=bogus&before=x")[:3] == ["R01", "R02", "R03"]
    # The card keeps the choices, and the tab reads the same filters without JavaScript.
    html = viewer_client.get("/sync-health/runs/?object=deals&status=errors", **HTMX,
                             HTTP_HX_TARGET="sync-runs").content.decode()  # fmt: skip
    assert '<option value="deals" selected>Deals</option>' in html
    assert '<option value="errors" selected>With errors</option>' in html
    page = viewer_client.get("/sync-health/?object=deals&status=errors").content.decode()
    assert _markers(_runs_card(page)) == ["R02", "R05", "R06"]
    # Paging keeps the filter.
    many = viewer_client.get("/sync-health/runs/?status=succeeded", **HTMX,
                             HTTP_HX_TARGET="sync-runs").content.decode()  # fmt: skip
    assert _markers(many) == ["R03"] + [f"R{i:02d}" for i in range(7, 16)]
    older = viewer_client.get(_older_link(many), **HTMX, HTTP_HX_TARGET="sync-runs-more")
    assert _markers(older.content.decode()) == [f"R{i:02d}" for i in range(16, 40)]
    assert "status=succeeded" in _older_link(many)


def test_a_succeeded_cycle_that_failed_records_says_so(viewer_client, connected):
    _run(connected, "R01", 1, trigger="resync", error_count=8,
         counts={"failed": 8, "retried": 8})  # fmt: skip
    _run(connected, "R02", 2, counts={"read_salesforce": 3, "created_in_hubspot": 3})
    _run(connected, "R03", 3, counts={"failed": 2})  # the engine's count alone
    _run(connected, "R04", 4, status="failed", error_count=1)
    runs = _runs_card(viewer_client.get("/sync-health/").content.decode())
    rows = dict(zip(_markers(runs), re.findall(r"<tr>(.*?)</tr>", runs, re.S)[1:], strict=True))
    badge = '<span class="badge badge--succeeded_with_errors">Succeeded with errors</span>'
    assert badge in rows["R01"] and badge in rows["R03"]
    assert '<span class="badge badge--succeeded">Succeeded</span>' in rows["R02"]
    assert "Succeeded with errors" not in rows["R02"]
    assert '<span class="badge badge--failed">Failed</span>' in rows["R04"]
    # A row with errors leads to the error cards; a clean one has nothing to lead to.
    assert '<a href="#sync-errors" title="Sync errors">8</a>' in rows["R01"]
    assert "#sync-errors" not in rows["R02"]


def test_the_run_history_reads_a_constant_number_of_queries(
    viewer_client, connected, django_assert_max_num_queries
):
    make_custom_object(connected)

    def grow(n: int) -> None:
        for i in range(n):
            for name in ("contacts", "deals", "custom:1"):
                _run(connected, f"R{i:02d}", i, object=name, error_count=i % 2)

    urls = [
        # Session, user, integration, the pairs, the runs, the custom pair's name, then the
        # header's last syncs and role.
        ("/sync-health/runs/?status=errors", "sync-runs", 8),
        # The rows alone need no pairs.
        ("/sync-health/runs/?object=custom:1&before=999999", "sync-runs-more", 7),
    ]
    grow(3)
    for url, target, queries in urls:
        with django_assert_max_num_queries(queries):
            assert viewer_client.get(url, **HTMX, HTTP_HX_TARGET=target).status_code == 200
    grow(80)
    for url, target, queries in urls:
        with django_assert_max_num_queries(queries):
            assert viewer_client.get(url, **HTMX, HTTP_HX_TARGET=target).status_code == 200


def test_viewers_read_the_run_history_which_changes_nothing(viewer_client, client, connected):
    _run(connected, "R01", 1, error_count=2)
    response = viewer_client.get("/sync-health/runs/?status=errors", **HTMX,
                                 HTTP_HX_TARGET="sync-runs")  # fmt: skip
    assert response.status_code == 200 and "R01" in response.content.decode()
    assert viewer_client.post("/sync-health/runs/", **HTMX).status_code == 405
    # A plain visit (no htmx, or Back) goes to the tab with the same filters.
    response = viewer_client.get("/sync-health/runs/?status=errors")
    assert response.status_code == 302
    assert response["Location"] == "/sync-health/?status=errors#sync-runs"
    assert response["Vary"] and "HX-Request" in response["Vary"]
    # And nobody without a login.
    response = client.get("/sync-health/runs/", **HTMX)
    assert response.status_code == 302 and "login" in response["Location"]


def _cycles(integration, calls: int, n: int = 3) -> None:
    """Contacts on, and ``n`` finished cycles that cost ``calls`` Salesforce calls each."""
    ObjectSync.objects.update_or_create(
        integration=integration, object="contacts", defaults={"enabled": True}
    )
    for _ in range(n):
        SyncRun.objects.create(
            integration=integration, object="contacts", finished_at=timezone.now(),
            salesforce_calls=calls,
        )  # fmt: skip


def _calls(integration, n: int, minutes_ago: float = 5) -> None:
    at = timezone.now() - timedelta(minutes=minutes_ago)
    ApiCall.objects.bulk_create(
        ApiCall(integration=integration, system="salesforce", operation="query", status=200,
                called_at=at)
        for _ in range(n)
    )  # fmt: skip


def test_a_stretched_schedule_says_how_often_cycles_run(admin_client, connected):
    """While the allocation wouldn't last at a cycle a minute, the panel says the cycles run
    less often (and why); at a cycle a minute it says nothing of it."""
    ObjectSync.objects.update_or_create(
        integration=connected, object="contacts", defaults={"enabled": True}
    )
    assert "data-cadence" not in admin_client.get("/sync-health/").content.decode()
    _cycles(connected, 40)  # cycles that cost 40 calls, with 4,000 of 5,000 spent
    _calls(connected, 4_000)
    html = admin_client.get("/sync-health/").content.decode()
    # 1,000 calls left at 40 a cycle: one cycle per 57.6 minutes, so every 58 minutes.
    assert 'data-cadence="58"' in html
    assert (
        "Cycles run every 58 minutes instead of every minute, to keep within the allocation at "
        "about 40 Salesforce calls a cycle." in html
    )


def test_slowed_cycles_that_make_the_allocation_last_forecast_no_run_out(admin_client, connected):
    """4,000 calls in the last hour would fill the 1,000 left in 15 minutes, but the cycles
    now come every 58 minutes at 40 calls (about 41 an hour): the card says the allocation
    lasts, not that it runs out at a pace the schedule no longer keeps."""
    _cycles(connected, 40)
    _calls(connected, 4_000)
    html = admin_client.get("/sync-health/").content.decode()
    assert 'data-forecast="enough"' in html and 'data-cadence="58"' in html
    assert (
        "At the last hour's pace (4,000 Salesforce calls) the allocation would run out, but "
        "with cycles slowed down it won't." in html
    )
    assert "runs out in" not in html


def test_a_nearly_used_up_allocation_runs_out_at_the_slowed_pace(admin_client, connected):
    """The walkthrough's 110: 106 used, 4 left, cycles of about 5 calls now an hour apart.
    At the last hour's pace (106 an hour) it would run out in minutes; at a cycle an hour
    it runs out at about the next one, and the card says so, not "in 4 minutes"."""
    _cycles(connected, 5)
    _calls(connected, 106)
    Integration.objects.filter(pk=connected.pk).update(salesforce_api_allocation=110)
    html = admin_client.get("/sync-health/").content.decode()
    assert 'data-forecast="runs_out"' in html and 'data-cadence="60"' in html
    # 5 calls an hour fill the 4 left in 48 minutes (the forecast walks 5 minutes at a time).
    assert re.search(
        r"Even with cycles slowed down, the allocation runs out in (49|50)\xa0minutes", html
    ), re.search(r'data-forecast="runs_out">(.*?)</p>', html, re.S)
    assert "Pace: 106 Salesforce calls in the last hour." in html
    assert "At the current pace the allocation runs out" not in html
    assert "at about 5 Salesforce calls a cycle" in html


def test_the_cadence_note_shows_what_a_cycle_costs_by_the_schedule(admin_client, connected):
    """The walkthrough's 10,000 right after the first cycle: 11 calls in the last hour are
    safe, yet cycles run every 2 minutes. The schedule paces by the median cycle, and the
    only one so far (the first, which reads everything) cost 8 calls: 8 a minute would be
    11,520 a day, more than the 9,989 left. The note gives that figure, so the card doesn't
    read as a contradiction: it says the cycles cost more than usual, not that the
    allocation needs them slowed."""
    _cycles(connected, 8, n=1)
    _calls(connected, 11)
    Integration.objects.filter(pk=connected.pk).update(salesforce_api_allocation=10_000)
    html = admin_client.get("/sync-health/").content.decode()
    assert 'data-forecast="enough"' in html and 'data-cadence="2"' in html
    assert (
        "At the current pace (11 Salesforce calls in the last hour) the allocation won't run out."
        in html
    )
    assert (
        "Recent cycles cost more than usual (about 8 Salesforce calls each, as a first sync "
        "does), so cycles run every 2 minutes instead of every minute until they cost less." in html
    )


def test_a_used_up_allocation_says_syncing_waits_not_how_often_cycles_run(admin_client, connected):
    _cycles(connected, 5)
    _calls(connected, 110)
    Integration.objects.filter(pk=connected.pk).update(salesforce_api_allocation=110)
    html = admin_client.get("/sync-health/").content.decode()
    assert 'data-forecast="reached"' in html and "data-cadence" not in html


def test_a_mistyped_error_type_address_is_not_found(viewer_client, connected):
    assert viewer_client.get("/sync-health/errors/zzz-not-a-type/").status_code == 404
    # A known type whose errors are all fixed still opens (it says so).
    assert viewer_client.get("/sync-health/errors/owner/").status_code == 200


def test_the_run_filter_shows_in_the_address_so_a_reload_keeps_it(viewer_client, connected):
    response = viewer_client.get(
        "/sync-health/runs/?object=deals&status=errors",
        **HTMX,
        HTTP_HX_TARGET="sync-runs",
        HTTP_HX_CURRENT_URL="http://testserver/sync-health/errors/owner/?q=ada&status=failed",
    )
    # The page's own address and its other parameters stay; the filter replaces the old one.
    address = response["HX-Replace-Url"]
    assert address == "/sync-health/errors/owner/?q=ada&object=deals&status=errors#sync-runs"
    # "Show older cycles" adds rows, and leaves the address alone.
    more = viewer_client.get(
        "/sync-health/runs/?status=errors&before=999999", **HTMX, HTTP_HX_TARGET="sync-runs-more"
    )
    assert "HX-Replace-Url" not in more


# --- why a cycle paused -------------------------------------------------------------------------
def _paused_rows(html: str) -> list[str]:
    rows = re.findall(r"<tr>(.*?)</tr>", _runs_card(html), re.S)[1:]
    return [row for row in rows if "badge--paused" in row]


def _details(row: str) -> str:
    """A run row's Details cell as people read it."""
    cell = re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)[-1]
    return re.sub(r"<[^>]+>", "", cell).strip()


def test_every_paused_cycle_says_why_in_one_translated_sentence(
    admin_client, live, emulators, back_to_english
):
    """A cycle that runs out of allocation halfway (after reading two HubSpot contacts) and
    the next one, which finds none left, both say why in the same sentence, set apart from
    the counts, in the reader's language: never the budget's own words and numbers."""
    from sync_engine.sync.cycle import sync_cycle_run

    for n in (1, 2):
        emulators.hubspot.app.run_action(
            "create", object_type="contacts", properties={"email": f"p{n}@example.com"}
        )
    Integration.objects.filter(pk=live.pk).update(salesforce_api_allocation=2)
    halfway = sync_cycle_run(integration=live, object_name="contacts", trigger="manual")
    none_left = sync_cycle_run(integration=live, object_name="contacts", trigger="manual")
    assert halfway.status == none_left.status == "paused"
    assert halfway.counts["read_hubspot"] == 2 and none_left.salesforce_calls == 0

    for language, read, sentence, badge in (
        ("en", "Read from HubSpot: 2", "The Salesforce API allocation is used up.",
         "Paused (API allocation)"),
        ("nl", "Gelezen uit HubSpot: 2", "De Salesforce API-toewijzing is op.",
         "Gepauzeerd (API-toewijzing)"),
    ):  # fmt: skip
        html = admin_client.get("/sync-health/", HTTP_ACCEPT_LANGUAGE=language).content.decode()
        rows = _paused_rows(html)  # newest first
        assert all(badge in row for row in rows)
        assert [_details(row) for row in rows] == [sentence, f"{read} · {sentence}"], language
        assert "allocation used up" not in html and "waiting for the window" not in html


def test_cycles_paused_by_an_older_version_read_the_same(admin_client, connected, back_to_english):
    """Runs stored before the sentence was the engine's own (the budget's words with the
    counts, or "…; waiting for the window.") read like every other paused run."""
    old = "salesforce API allocation used up: 110 of 110 calls in the last 24 hours"
    _run(connected, old, 1, status="paused", counts={"read_hubspot": 2})
    _run(connected, "The Salesforce API allocation is used up; waiting for the window.", 2,
         object="companies", status="paused")  # fmt: skip
    for language, counts, sentence in (
        ("en", "Read from HubSpot: 2", "The Salesforce API allocation is used up."),
        ("nl", "Gelezen uit HubSpot: 2", "De Salesforce API-toewijzing is op."),
    ):
        runs = _runs_card(
            admin_client.get("/sync-health/", HTTP_ACCEPT_LANGUAGE=language).content.decode()
        )
        assert f'{counts} · <span class="muted">{sentence}</span>' in runs, language
        assert runs.count(f'<span class="muted">{sentence}</span>') == 2, language
        assert "used up:" not in runs and "waiting" not in runs


def test_a_runs_details_name_what_it_left_out(viewer_client, connected):
    """Counts of records a run couldn't carry across (associations to records that don't sync,
    pipelines HubSpot refused) are in its details, not only in the database."""
    _run(connected, "R01", minutes=1, object="tickets", counts={
        "associations_skipped_company_sync_off": 2, "associations_unlinked": 1,
    })  # fmt: skip
    _run(connected, "R02", minutes=2, object="deals", counts={
        "pipelines_refused": 1, "kept_unsynced_pipeline": 3,
    })  # fmt: skip
    runs = _runs_card(viewer_client.get("/sync-health/").content.decode())
    assert "Associations skipped: company sync off: 2" in runs
    assert "Associations to records not synced: 1" in runs
    assert "Pipelines HubSpot refused: 1" in runs
    assert "Kept: deal in a pipeline not synced: 3" in runs
