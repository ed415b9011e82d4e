"""Sync errors of every pair, not just contacts, as an admin reads and resyncs them: a pair
switched off, activities' engagement keys, Salesforce ids as people copy them."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from sync_engine.models import ObjectSync, SyncError, SyncRun
from sync_engine.selectors import salesforce_id_suffix

from .conftest import form_on_page, make_error, make_link

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}


def company_errors(integration, n: int = 2):
    return make_error(
        integration,
        n,
        object_name="companies",
        salesforce_type="Account",
        error_type="picklist",
        code="INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
        message="Industry: bad value for restricted picklist field: Spaceflight",
    )


# --- a pair switched off ---------------------------------------------------------------------
def test_resyncing_errors_of_a_pair_switched_off_says_they_wait_for_it(
    admin_client, connected, django_capture_on_commit_callbacks
):
    ObjectSync.objects.create(integration=connected, object="companies", enabled=False)
    company_errors(connected)
    make_error(connected, 1, error_type="picklist", hubspot_id="77")  # contacts: on
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = admin_client.post(
            "/sync-health/errors/resync/", {"error_type": "picklist", "scope": "all"}, **HTMX
        )
    html = response.content.decode()
    # Not "the next cycle starts now" for errors no cycle will retry while the pair is off.
    assert "2 errors of Companies wait: that sync is off. They are retried once it is on." in html
    assert "1 error queued for a resync; the next sync cycle starts now." in html
    # Only the contacts' row says it is queued; the companies' rows say why they wait.
    assert html.count("Resync queued") == 1
    assert html.count("Companies sync is off") == 2
    assert len(callbacks) == 1  # a cycle for contacts only: none that would do nothing


def test_the_panel_doesnt_poll_for_ever_for_errors_of_a_pair_switched_off(admin_client, connected):
    ObjectSync.objects.create(integration=connected, object="companies", enabled=False)
    errors = company_errors(connected)
    SyncError.objects.filter(pk__in=[e.pk for e in errors]).update(
        next_retry_at=timezone.now() - timedelta(minutes=1)
    )  # due, as a retry falls due, or queued before the pair was switched off
    html = admin_client.get("/sync-health/errors/picklist/", **HTMX).content.decode()
    assert 'hx-trigger="every 3s"' not in html
    assert "Resync queued" not in html and html.count("Companies sync is off") == 2


def test_only_an_errors_own_pair_being_off_holds_it(admin_client, connected):
    ObjectSync.objects.create(integration=connected, object="companies", enabled=True)
    company_errors(connected, 1)
    response = admin_client.post(
        "/sync-health/errors/resync/", {"error_type": "picklist", "scope": "all"}, **HTMX
    )
    html = response.content.decode()
    assert "1 error queued for a resync; the next sync cycle starts now." in html
    assert "sync is off" not in html and "Resync queued" in html


def test_a_records_resync_in_a_pair_switched_off_says_it_waits(
    admin_client, connected, django_capture_on_commit_callbacks
):
    ObjectSync.objects.create(integration=connected, object="deals", enabled=False)
    make_error(
        connected, 1, object_name="deals", hubspot_id="9001", salesforce_type="Opportunity",
        record_label="Renewal 2027",
    )  # fmt: skip
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = admin_client.post("/records/deals/hubspot:9001/resync/", follow=True)
    html = response.content.decode()
    assert "This record syncs again now." not in html
    assert "Queued. Deals sync is off: it runs once that sync is turned back on." in html
    assert not callbacks
    assert not SyncRun.objects.exists()


def test_a_records_page_in_a_pair_switched_off_says_nothing_syncs_until_it_is_on(
    admin_client, connected
):
    ObjectSync.objects.create(integration=connected, object="deals", enabled=False)
    make_error(
        connected, 1, object_name="deals", hubspot_id="9001", salesforce_type="Opportunity",
        record_label="Renewal 2027", message="Amount: value out of range",
    )  # fmt: skip
    html = admin_client.get("/records/deals/hubspot:9001/").content.decode()
    assert "Deals sync is off" in html
    assert "Nothing syncs for this record until that sync is turned back on." in html
    # Its errors stay in sight: they can be fixed meanwhile.
    assert "1 current error" in html and "Amount: value out of range" in html
    assert "Once that sync is on" in html  # its next retry, not a time no cycle keeps
    # Its Resync waits, as its message then says.
    assert "A resync waits: it runs once that sync is turned back on." in html


def test_a_synced_records_page_in_a_pair_switched_off_doesnt_say_it_syncs(admin_client, connected):
    pair = ObjectSync.objects.create(integration=connected, object="companies", enabled=False)
    make_link(connected, "501", "0015000000000ABCDE", "Account", object="companies")
    html = admin_client.get("/records/companies/hubspot:501/").content.decode()
    assert "Companies sync is off" in html
    assert ">Syncing</span>" not in html and "None: the record syncs." not in html
    assert "Sends its values again on the next cycle" not in html
    assert "A resync waits: it runs once that sync is turned back on." in html
    # Switched on, it syncs again, and says so.
    pair.enabled = True
    pair.save()
    html = admin_client.get("/records/companies/hubspot:501/").content.decode()
    assert "sync is off" not in html and "A resync waits" not in html
    assert ">Syncing</span>" in html and "None: the record syncs." in html


# --- activities: engagement keys -------------------------------------------------------------
def test_an_activity_error_from_hubspot_links_its_salesforce_task(viewer_client, connected):
    """A linked call whose edit Salesforce refused: the error is keyed ``hubspot:calls:<id>``,
    the link's HubSpot id is ``calls:<id>``; the panel still finds the Task it is copied to."""
    make_link(connected, "calls:123", "00T5000000000ABCDE", "Task", object="activities")
    make_error(
        connected, 1, object_name="activities", error_type="salesforce_custom_code",
        record_key="hubspot:calls:123", hubspot_id="123", salesforce_type="Task",
        record_label="Discovery call", code="FIELD_CUSTOM_VALIDATION_EXCEPTION",
        message="No forbidden calls",
    )  # fmt: skip
    html = viewer_client.get("/sync-health/errors/salesforce_custom_code/", **HTMX).content.decode()
    assert 'href="https://acme.my.salesforce.com/lightning/r/Task/00T5000000000ABCDE/view"' in html
    assert 'href="/records/activities/hubspot:calls:123/"' in html
    page = viewer_client.get("/records/activities/hubspot:calls:123/").content.decode()
    assert "No forbidden calls" in page and "00T5000000000ABCDE" in page


# --- searching the panel ---------------------------------------------------------------------
def test_the_panel_finds_an_error_by_its_salesforce_id_in_either_form(viewer_client, connected):
    """Salesforce shows 15-character ids in some places (Classic addresses, reports) and
    18-character ones in others; the engine stores the 18-character form."""
    core = "a0B5g00000AbCdE"
    make_error(
        connected, 1, object_name="custom:1", hubspot_id="", error_type="picklist",
        salesforce_id=core + salesforce_id_suffix(core), salesforce_type="Project__c",
        record_label="Apollo",
    )  # fmt: skip
    make_error(connected, 1, error_type="picklist", record_label="Someone else")
    list_only = {**HTMX, "HTTP_HX_TARGET": "error-list"}
    for query in (core, core + salesforce_id_suffix(core)):
        html = viewer_client.get(
            f"/sync-health/errors/picklist/?q={query}", **list_only
        ).content.decode()
        assert "1–1 of 1" in html and "Apollo" in html, query


# --- Create view -----------------------------------------------------------------------------
def test_a_type_only_activities_have_says_why_there_is_no_create_view(
    admin_client, viewer_client, connected
):
    make_error(
        connected, 2, error_type="waiting_for_contact", object_name="activities",
        salesforce_type="Task",
    )  # fmt: skip
    html = admin_client.get("/sync-health/errors/waiting_for_contact/", **HTMX).content.decode()
    assert "Create view</button>" not in html
    assert "they are all activities, and a HubSpot list can't hold activities" in html
    # Viewers can't make views at all: nothing to explain to them.
    html = viewer_client.get("/sync-health/errors/waiting_for_contact/", **HTMX).content.decode()
    assert "HubSpot list" not in html


# --- Resync all, searched --------------------------------------------------------------------
def test_resync_all_of_a_searched_panel_resyncs_what_it_asked_about(admin_client, connected):
    """The panel searched for "Person 2" shows 1 error and asks "Resync all 1?": that one is
    queued, not the type's other errors."""
    make_error(connected, 5)
    panel = admin_client.get(
        "/sync-health/errors/property_value/?q=Person 2", **HTMX
    ).content.decode()
    assert "Resync all 1?" in panel
    response = admin_client.post(
        "/sync-health/errors/resync/",
        {"error_type": "property_value", "scope": "all", "q": "Person 2"},
        **HTMX,
    )
    html = response.content.decode()
    assert "1 error queued for a resync; the next sync cycle starts now." in html
    queued = SyncError.objects.filter(next_retry_at__lte=timezone.now())
    assert [e.record_label for e in queued] == ["Person 2"]


# --- paging ----------------------------------------------------------------------------------
def test_resyncing_on_a_later_page_stays_on_that_page(admin_client, connected):
    errors = make_error(connected, 30)
    panel = admin_client.get(
        "/sync-health/errors/property_value/?page=2", **HTMX, HTTP_HX_TARGET="error-list"
    ).content.decode()
    assert "26–30 of 30" in panel
    form = form_on_page(panel)
    chosen = errors[0]  # the oldest: on page 2
    response = admin_client.post(
        "/sync-health/errors/resync/",
        {**form, "scope": "selected", "ids": [chosen.pk]},
        **HTMX,
    )
    html = response.content.decode()
    assert "1 error queued for a resync" in html
    assert "26–30 of 30" in html and "Page 2 of 2" in html
    assert f'name="ids" value="{chosen.pk}"' in html


# --- an activity's Resync, end to end --------------------------------------------------------
def test_an_activitys_resync_from_the_panel_syncs_it_and_clears_its_error(
    admin_client,
    live,
    emulators,
    sf_person,
    hs_person,
    celery_eager,
    django_capture_on_commit_callbacks,
):
    """A call Salesforce refused (a validation rule): once the rule is fixed, Resync in the
    panel retries it on the cycle it starts; the Task exists and the error is gone."""
    from sync_engine.sync.cycle import sync_cycle_run

    from .test_activity_links import call_made, lead_with_calls_syncing

    lead, contact, rule = lead_with_calls_syncing(live, emulators, sf_person)
    call = call_made(hs_person, contact, "A forbidden call")
    assert sync_cycle_run(integration=live, object_name="activities").status == "succeeded"
    error = SyncError.objects.get(object="activities", resolved_at__isnull=True)
    panel = admin_client.get(f"/sync-health/errors/{error.error_type}/", **HTMX).content.decode()
    assert f'href="/records/activities/hubspot:calls:{call}/"' in panel
    assert "No forbidden calls" in panel

    emulators.salesforce.app.run_action("remove_validation_rule", rule_name=rule)
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            "/sync-health/errors/resync/",
            {"error_type": error.error_type, "scope": "selected", "ids": [error.pk]},
            **HTMX,
        )
    assert "1 error queued for a resync" in response.content.decode()
    error.refresh_from_db()
    assert error.resolved_at is not None
    tasks = sf_person.query(
        f"SELECT Subject FROM Task WHERE WhoId = '{lead}'"  # noqa: S608
    )["records"]
    assert [t["Subject"] for t in tasks] == ["Call: A forbidden call"]
    page = admin_client.get(f"/records/activities/hubspot:calls:{call}/").content.decode()
    assert "None: the record syncs." in page


# --- export ----------------------------------------------------------------------------------
def test_the_export_keeps_every_pairs_names_whole_and_quoted(viewer_client, connected):
    """Names in any script, with commas, quotes and line breaks, come out as they are (UTF-8
    with a BOM, so a spreadsheet reads them); one that starts like a formula is text."""
    import csv
    import io

    make_error(
        connected, 1, object_name="deals", hubspot_id="9001", salesforce_type="Opportunity",
        record_label='Zoë Ørsted, "東京" renewal\nphase 2',
    )  # fmt: skip
    make_error(
        connected, 1, object_name="tickets", hubspot_id="9002", salesforce_type="Case",
        record_label="=CMD|' /C calc'!A0",
    )  # fmt: skip
    response = viewer_client.get("/sync-health/errors/export/")
    raw = b"".join(response.streaming_content)
    assert raw.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    labels = {row[1]: row[3] for row in rows[1:]}
    assert labels == {
        "deals": 'Zoë Ørsted, "東京" renewal\nphase 2',
        "tickets": "'=CMD|' /C calc'!A0",
    }
