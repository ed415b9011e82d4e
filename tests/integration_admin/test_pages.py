"""Every page renders for a logged-in person, with the header, the status bar and the tabs, in a
constant number of queries; remote text is escaped and tokens never appear."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from sync_engine.models import Integration, ObjectSync, SyncRun
from tests.sync_engine.factories import ApiCallFactory

from .conftest import make_custom_object, make_error

pytestmark = pytest.mark.django_db

PAGES = [
    "/sync-health/",
    "/sync-health/errors/property_value/",
    "/discover/",
    "/contacts/",
    "/companies/",
    "/deals/",
    "/tickets/",
    "/activities/",
    "/custom-objects/",
    "/connection/",
    "/audit/",
    "/records/contacts/hubspot:1000/",
]


def test_home_sends_to_sync_health(logged_in, connected):
    response = logged_in.get("/")
    assert response.status_code == 302 and response["Location"] == "/sync-health/"


def test_pages_before_connecting(logged_in):
    for path in ("/sync-health/", "/contacts/"):
        html = logged_in.get(path).content.decode()
        assert "Not connected yet" in html and "manage.py connect" in html
    html = logged_in.get("/connection/").content.decode()
    assert "Not connected yet" in html


@pytest.mark.parametrize("path", PAGES)
def test_every_page_renders_with_header_and_tabs(admin_client, connected, path):
    make_error(connected, 2)
    response = admin_client.get(path)
    assert response.status_code == 200, path
    html = response.content.decode()
    assert "pill--connected" in html
    assert "acme.my.salesforce.com" in html and "api.hubapi.com" in html
    assert 'aria-label="Integration settings"' in html
    assert "js/htmx.min.js" in html and 'hx-headers=\'{"X-CSRFToken": "' in html
    # Tokens are stored encrypted and never rendered back.
    assert "never-shown" not in html


@pytest.mark.parametrize(
    ("path", "queries"),
    [
        # Session, user, role, integration and last syncs (the header), then the page's own
        # reads; the same before and after the data grows.
        ("/sync-health/", 14),  # 3 for the cadence, 1 for the inclusion lists missing
        ("/sync-health/errors/property_value/", 18),
        ("/contacts/", 8),
        ("/discover/", 5),
        ("/connection/", 7),  # 2 of them for when each side last answered
        ("/audit/", 6),
        ("/records/contacts/hubspot:1000/", 8),  # 1 of them: whether its pair is on
    ],
)
def test_pages_run_a_constant_number_of_queries(
    viewer_client, connected, path, queries, django_assert_max_num_queries
):
    def grow(n: int) -> None:
        for i in range(n):
            make_error(connected, 1, hubspot_id=str(5000 + i), record_label=f"P{i}")
            SyncRun.objects.create(
                integration=connected,
                object="contacts",
                status="succeeded",
                finished_at=timezone.now() - timedelta(minutes=i),
            )
        ApiCallFactory.create_batch(n, integration=connected)

    make_error(connected, 1)  # hubspot:1000, for the record page
    viewer_client.get(path)  # warm up (object settings and default mappings on first use)
    with django_assert_max_num_queries(queries):
        assert viewer_client.get(path).status_code == 200
    grow(30)
    with django_assert_max_num_queries(queries):
        assert viewer_client.get(path).status_code == 200


def test_status_bar_shows_state_reason_advice_and_last_sync(admin_client, connected):
    finished = timezone.now() - timedelta(minutes=7)
    SyncRun.objects.create(
        integration=connected, object="contacts", status="succeeded", finished_at=finished
    )
    SyncRun.objects.create(integration=connected, object="contacts", status="failed")
    Integration.objects.filter(pk=connected.pk).update(
        state="paused", state_reason="Allocated to HubSpot used up (5,000 calls in 24 hours)"
    )
    html = admin_client.get("/discover/").content.decode()
    assert "statusbar--paused" in html
    assert "Allocated to HubSpot used up (5,000 calls in 24 hours)" in html
    assert "raise “Allocated to HubSpot” on the Sync health tab" in html
    assert "Contacts: <time" in html and "synced 7\xa0minutes ago" in html
    assert 'action="/sync-now/"' in html


def test_every_pair_is_named_for_people_in_the_status_bar_and_the_runs(admin_client, connected):
    make_custom_object(connected)
    for name in ("custom:1", "activities", "deals", "companies", "contacts"):
        SyncRun.objects.create(
            integration=connected, object=name, status="succeeded", finished_at=timezone.now()
        )
    html = admin_client.get("/sync-health/").content.decode()
    bar = html[
        html.index('class="statusbar__syncs"') : html.index("</ul>", html.index("statusbar__syncs"))
    ]
    # In the cycle's order, the custom object by its HubSpot name.
    assert re.findall(r"<li>([^:<]+):", bar) == [
        "Contacts", "Companies", "Deals", "Activities", "Projects"
    ]  # fmt: skip
    runs = html[html.index('id="sync-runs"') :]
    assert ">Projects</td>" in runs
    # The id is only the object filter's value, never text people read.
    assert '<option value="custom:1">Projects</option>' in runs
    assert "custom:1" not in re.sub(r'value="[^"]*"', "", runs)


def test_a_cycles_details_read_in_peoples_words(admin_client, connected):
    SyncRun.objects.create(
        integration=connected, object="contacts", status="succeeded", trigger="manual",
        counts={"streams_unchanged": 2, "read_salesforce": 1200, "linked": 0,
                "created_in_hubspot": 3},
    )  # fmt: skip
    runs = admin_client.get("/sync-health/").content.decode()
    runs = runs[runs.index('id="sync-runs"') :]
    assert "Read from Salesforce: 1,200 · Created in HubSpot: 3" in runs
    assert "streams_unchanged" not in runs and "Linked" not in runs  # bookkeeping, and zeros
    assert ">Sync now</td>" in runs and ">Succeeded</span>" in runs
    assert "Nothing to sync" not in runs


def test_an_idle_cycle_says_it_had_nothing_to_sync(admin_client, connected):
    SyncRun.objects.create(
        integration=connected, object="contacts", status="succeeded",
        counts={"streams_unchanged": 2},
    )  # fmt: skip
    SyncRun.objects.create(
        integration=connected, object="deals", status="failed", message="Boom",
    )  # fmt: skip
    runs = admin_client.get("/sync-health/").content.decode()
    runs = runs[runs.index('id="sync-runs"') :]
    assert runs.count("Nothing to sync") == 1 and "Boom" in runs


def test_the_audit_log_names_settings_and_objects_for_people(admin_client, connected):
    from sync_engine.services import audit_event_record

    audit_event_record(
        action="settings.updated",
        integration=connected,
        details={"object": "activities", "changes": {"hubspot_calls": {"from": False, "to": True}}},
    )
    audit_event_record(
        action="settings.updated",
        integration=connected,
        details={
            "object": "tickets",
            "changes": {
                "pipelines": {"from": {}, "to": {"master": {"label": "Master", "pipeline": ""}}}
            },
        },
    )
    audit_event_record(action="record.resync_requested", integration=connected,
                       details={"object": "contacts", "record": "hubspot:7"})  # fmt: skip
    html = admin_client.get("/audit/").content.decode()
    assert "HubSpot calls to Salesforce" in html and "hubspot_calls" not in html
    assert "Pipeline for Master" in html and "&#x27;master&#x27;" not in html
    assert "Record resync requested" in html and "Contacts · hubspot:7" in html
    assert ">record.resync_requested<" not in html  # (it stays in a data attribute)


def test_the_audit_log_reads_custom_objects_names_once_a_page(admin_client, connected):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from sync_engine.services import audit_event_record

    make_custom_object(connected)

    def custom_events(n: int) -> int:
        for _ in range(n):
            change = {"object": "custom:1", "changes": {"enabled": {"from": False, "to": True}}}
            audit_event_record(action="settings.updated", integration=connected, details=change)
        with CaptureQueriesContext(connection) as queries:
            html = admin_client.get("/audit/").content.decode()
        assert "Projects" in html
        return len(queries)

    assert custom_events(1) == custom_events(5)


def test_the_audit_log_names_choices_imports_and_connections(admin_client, connected):
    from sync_engine.services import audit_event_record

    audit_event_record(
        action="settings.updated",
        integration=connected,
        details={
            "object": "companies",
            "changes": {"salesforce_delete": {"from": "nothing", "to": "delete"}},
        },
    )
    audit_event_record(
        action="import.started", integration=connected, details={"object": "tasks", "import": 4}
    )
    audit_event_record(
        action="import.started",
        integration=connected,
        details={"object": "campaign:7015g0000000002AAA", "import": 5, "name": "Partner Summit"},
    )
    audit_event_record(action="integration.connected", integration=connected, details={
        "previous_state": "disconnected", "salesforce_refresh": True})  # fmt: skip
    html = admin_client.get("/audit/").content.decode()
    assert "When a Salesforce account is deleted" in html and "Do nothing" in html
    assert "Salesforce tasks" in html and "#4" in html
    assert "Campaign members: Partner Summit" in html  # never the id, title-cased
    assert "Salesforce token refresh" in html and "previous_state" not in html


def test_the_audit_log_names_states_and_reasons_in_the_readers_language(
    admin_client, connected, back_to_english
):
    """States (before a connect, a disconnect; a pause and its end) read as the header names
    them, and a pause's reason in words, in English and in Dutch: never "disconnected"."""
    from sync_engine.budget import ALLOCATION_USED
    from sync_engine.services import (
        audit_event_record,
        integration_disconnect,
        integration_set_state,
    )

    audit_event_record(action="integration.connected", integration=connected, details={
        "previous_state": "disconnected", "salesforce_refresh": True})  # fmt: skip
    integration_set_state(integration=connected, state="paused", reason=ALLOCATION_USED)
    integration_set_state(integration=connected, state="connected")
    integration_disconnect(integration=connected)
    for language, expected in (
        ("en", ["State before: Disconnected", "State before: Connected",
                "Connected</span> → <span class=\"change__after\">Paused",
                "Paused</span> → <span class=\"change__after\">Connected",
                "Reason: The Salesforce API allocation is used up."]),
        ("nl", ["Status ervoor: Niet verbonden", "Status ervoor: Verbonden",
                "Verbonden</span> → <span class=\"change__after\">Gepauzeerd",
                "Gepauzeerd</span> → <span class=\"change__after\">Verbonden",
                "Reden: De Salesforce API-toewijzing is op."]),
    ):  # fmt: skip
        html = admin_client.get("/audit/", HTTP_ACCEPT_LANGUAGE=language).content.decode()
        for text in expected:
            assert text in html, (language, text)
        table = html[html.index('class="table table--audit') :]
        words = re.sub(r"<[^>]+>", " ", table)  # what people read, not the attributes
        assert not re.search(r"\b(connected|disconnected|paused)\b", words), language


def test_recent_cycles_show_every_pair_of_the_last_three_cycles(admin_client, connected):
    names = ("contacts", "companies", "deals", "tickets", "activities", "custom:1")
    make_custom_object(connected)
    for name in names[:-1]:
        ObjectSync.objects.update_or_create(
            integration=connected, object=name, defaults={"enabled": True}
        )
    for _cycle in range(4):
        for name in names:
            SyncRun.objects.create(integration=connected, object=name, status="succeeded")
    html = admin_client.get("/sync-health/").content.decode()
    runs = html[html.index('id="sync-runs"') :]
    assert runs.count("<tr>") - 1 == 18  # six pairs, three cycles (the header row aside)


def test_suspended_offers_clear_suspension_to_admins(admin_client, viewer_client, connected):
    Integration.objects.filter(pk=connected.pk).update(
        state="suspended", state_reason="Salesforce org API access disabled"
    )
    html = admin_client.get("/discover/").content.decode()
    assert "Clear suspension" in html and "reconnect on the Connection tab" in html
    assert "Clear suspension" not in viewer_client.get("/discover/").content.decode()
    response = admin_client.post("/integration/clear-suspension/", {"next": "/discover/"})
    assert response.status_code == 302 and response["Location"] == "/discover/"
    connected.refresh_from_db()
    assert connected.state == "connected"


def test_remote_text_is_escaped(admin_client, connected):
    sf = connected.salesforce_connection
    sf.user_name = "<script>alert(1)</script>"
    sf.save()
    Integration.objects.filter(pk=connected.pk).update(
        state="suspended", state_reason="<b>org</b> API access disabled"
    )
    make_error(connected, 1, record_label="<img src=x onerror=alert(2)>", message="<i>bad</i>")
    pages = "".join(
        admin_client.get(p).content.decode()
        for p in ("/connection/", "/sync-health/errors/property_value/")
    )
    assert "<script>alert(1)</script>" not in pages
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in pages
    assert "&lt;b&gt;org&lt;/b&gt; API access disabled" in pages
    assert "<img src=x" not in pages and "&lt;img src=x onerror=alert(2)&gt;" in pages
    assert "<i>bad</i>" not in pages and "&lt;i&gt;bad&lt;/i&gt;" in pages


def test_tab_bar_in_order(logged_in, connected):
    html = logged_in.get("/sync-health/").content.decode()
    labels = [
        "Sync health", "Discover features", "Contacts", "Companies", "Deals", "Tickets",
        "Activities", "Custom objects", "Connection",
    ]  # fmt: skip
    positions = [html.index(f">{label}</a>") for label in labels]
    assert positions == sorted(positions)
    assert 'class="tabs__tab tabs__tab--active" href="/sync-health/" aria-current="page"' in html


def test_discover_links_to_where_each_feature_is_set_up(logged_in, connected):
    html = logged_in.get("/discover/").content.decode()
    for title, href in [
        ("Limit what syncs", "/contacts/#limit"),
        ("Map properties to fields", "/contacts/#mappings"),
        ("API call allocation", "/sync-health/#api-usage"),
        ("Sync errors you can act on", "/sync-health/#sync-errors"),
        ("Audit log", "/audit/"),
        ("REST API", "/api/docs/"),
        ("Companies and accounts", "/companies/"),
        ("Deals and opportunities", "/deals/"),
        ("Tickets from cases", "/tickets/"),
        ("Activity sync", "/activities/"),
        ("Sync custom objects", "/custom-objects/"),
        ("Import Salesforce records", "/import/"),
    ]:
        assert title in html and f'href="{href}"' in html, title
    assert "Workflow actions" in html and "Not yet available" in html


def test_static_files_are_served(client):
    for path in ("/static/css/app.css", "/static/js/htmx.min.js", "/static/js/app.js"):
        assert client.get(path).status_code == 200, path


def test_the_audit_log_names_mapped_properties_and_fields_as_the_tables_do(admin_client, connected):
    """With their labels from the cached schemas (and their API names), one query per pair."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from sync_engine.models import SchemaCache, System
    from sync_engine.services import audit_event_record

    SchemaCache.objects.create(
        integration=connected, system=System.HUBSPOT, object="tickets",
        data=[{"name": "hs_pipeline_stage", "label": "Ticket status"}],
    )  # fmt: skip
    SchemaCache.objects.create(
        integration=connected, system=System.SALESFORCE, object="Case",
        data=[{"name": "Status", "label": "Status"}, {"name": "Reason", "label": "Case Reason"}],
    )  # fmt: skip

    def mapping_events(n: int) -> tuple[str, int]:
        for _ in range(n):
            audit_event_record(
                action="mapping.rule_changed",
                integration=connected,
                details={
                    "object": "tickets",
                    "hubspot": "hs_pipeline_stage",
                    "from": "two_way",
                    "to": "always_use_salesforce",
                },
            )
            audit_event_record(action="mapping.created", integration=connected,
                               details={"object": "tickets", "hubspot": "hs_pipeline_stage",
                                        "salesforce": "Reason", "rule": "two_way"})  # fmt: skip
        with CaptureQueriesContext(connection) as queries:
            html = admin_client.get("/audit/").content.decode()
        return html, len(queries)

    html, queries = mapping_events(1)
    assert "Tickets · Ticket status (hs_pipeline_stage)" in html
    assert "Ticket status (hs_pipeline_stage) ⇄ Case Reason (Reason)" in html
    assert mapping_events(5)[1] == queries
