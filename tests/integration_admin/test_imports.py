"""The Import page: picking an object, starting (admins only, audit-logged, CSRF), the htmx
progress partial that polls while the import runs and stops when it ends, cancel and resume."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from sync_engine.imports import import_run
from sync_engine.models import AuditEvent, ImportJob


def test_the_page_needs_a_login(client, connected):
    response = client.get("/import/")
    assert response.status_code == 302 and response["Location"].startswith("/login/")
    assert client.get("/import/1/").status_code == 302


def test_the_page_lists_the_objects_and_warns_about_pairs_that_are_off(logged_in, connected):
    response = logged_in.get("/import/")
    assert response.status_code == 200
    html = response.content.decode()
    for key in ("leads", "contacts", "accounts", "opportunities", "cases", "tasks", "events"):
        assert f'value="{key}"' in html
    assert 'data-pair-off="accounts"' in html  # company sync starts off
    assert 'data-pair-off="leads"' not in html
    assert "No import has run yet." in html
    assert 'href="/import/"' in html  # the navigation link


def test_a_viewer_can_look_but_not_start(viewer_client, connected):
    html = viewer_client.get("/import/").content.decode()
    assert "<fieldset disabled>" in html
    response = viewer_client.post("/import/start/", {"object": "leads"})
    assert response.status_code == 403
    assert not ImportJob.objects.exists()


def test_starting_needs_the_csrf_token(admin_user, connected):
    client = Client(enforce_csrf_checks=True)
    client.force_login(admin_user)
    assert client.post("/import/start/", {"object": "leads"}).status_code == 403
    assert not ImportJob.objects.exists()


def test_an_admin_starts_an_import_it_is_queued_and_audit_logged(
    admin_client, admin_user, connected, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks:
        response = admin_client.post("/import/start/", {"object": "leads"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    job = ImportJob.objects.get()
    assert (job.object, job.status, job.started_by) == ("leads", "queued", admin_user)
    assert len(callbacks) == 1  # run_import, once the transaction commits
    html = response.content.decode()
    assert 'id="import-progress"' in html and f'hx-get="/import/{job.pk}/"' in html
    assert 'hx-trigger="every 1s"' in html
    assert "Import of Salesforce leads started." in html  # the flash, out of band
    event = AuditEvent.objects.get(action="import.started")
    assert event.actor == admin_user and event.details["object"] == "leads"
    # A second start of the same object is refused while the first is queued.
    again = admin_client.post("/import/start/", {"object": "leads"}, HTTP_HX_REQUEST="true")
    assert "already running" in again.content.decode()
    assert ImportJob.objects.count() == 1
    unknown = admin_client.post("/import/start/", {"object": "planets"})
    assert unknown.status_code == 302 and ImportJob.objects.count() == 1


def test_the_progress_partial_polls_while_running_and_stops_when_done(logged_in, connected):
    job = ImportJob.objects.create(
        integration=connected, object="contacts", status="running", total=2000, processed=500,
        created=400, skipped=100, skipped_reasons={"no_email": 60, "duplicate_email": 40},
        salesforce_calls=3, hubspot_calls=12,
    )  # fmt: skip
    html = logged_in.get(f"/import/{job.pk}/").content.decode()
    assert 'hx-trigger="every 1s"' in html
    assert 'value="25"' in html  # the <progress> bar: 500 of 2,000
    assert 'data-stat="created">400<' in html and 'data-stat="salesforce-calls">3<' in html
    assert "No email address: <strong>60</strong>" in html
    assert "Cancel import" not in html  # viewers get no buttons
    ImportJob.objects.filter(pk=job.pk).update(status="succeeded", processed=2000)
    done = logged_in.get(f"/import/{job.pk}/").content.decode()
    assert "hx-trigger" not in done and 'value="100"' in done
    assert "The import is finished." in done
    # The last poll also brings the history table up to date, out of band.
    assert "No import has run yet" not in done
    assert 'id="import-history"' in done and 'hx-swap-oob="true"' in done
    assert f'data-import="{job.pk}"' in done
    assert 'hx-swap-oob="true"' not in html  # polls while running don't redraw it
    assert logged_in.get("/import/999/").status_code == 404


def test_a_custom_object_is_offered_and_shown_by_its_name(admin_client, connected):
    from .conftest import make_custom_object

    make_custom_object(connected)
    html = admin_client.get("/import/").content.decode()
    assert "Salesforce Project (Project__c)" in html
    assert "Records become HubSpot Projects records" in html
    job = ImportJob.objects.create(integration=connected, object="custom:1", status="succeeded")
    html = admin_client.get(f"/import/?job={job.pk}").content.decode()
    assert "Import of Salesforce Project (Project__c)" in html
    history = html[html.index('id="import-history"') :]
    assert '<td data-label="Object">Salesforce Project (Project__c)</td>' in history


def test_a_running_poll_reads_only_what_its_card_shows(
    logged_in, connected, django_assert_max_num_queries
):
    # Polled every second: session, user, integration, job, role and the header's last syncs;
    # no custom-object labels for a standard object's import.
    job = ImportJob.objects.create(integration=connected, object="contacts", status="running")
    logged_in.get(f"/import/{job.pk}/")
    with django_assert_max_num_queries(6):
        assert logged_in.get(f"/import/{job.pk}/").status_code == 200


def test_cancel_and_resume(admin_client, connected, django_capture_on_commit_callbacks):
    job = ImportJob.objects.create(integration=connected, object="leads", status="running")
    response = admin_client.post(f"/import/{job.pk}/cancel/", HTTP_HX_REQUEST="true")
    job.refresh_from_db()
    assert job.status == "cancelled" and "Resume import" in response.content.decode()
    with django_capture_on_commit_callbacks() as callbacks:
        admin_client.post(f"/import/{job.pk}/resume/", HTTP_HX_REQUEST="true")
    job.refresh_from_db()
    assert job.status == "queued" and len(callbacks) == 1
    assert list(
        AuditEvent.objects.filter(action__startswith="import.").values_list("action", flat=True)
    ) == ["import.resumed", "import.cancelled"]


def test_a_stalled_import_offers_resume(
    admin_client, connected, django_capture_on_commit_callbacks
):
    from datetime import timedelta

    from django.utils import timezone

    job = ImportJob.objects.create(
        integration=connected, object="leads", status="running", worker="gone:1:x",
        heartbeat_at=timezone.now() - timedelta(minutes=30), position="00Q000000000009AAA",
    )  # fmt: skip
    html = admin_client.get(f"/import/{job.pk}/").content.decode()
    assert 'data-field="stalled"' in html and "Resume import" in html
    with django_capture_on_commit_callbacks() as callbacks:
        admin_client.post(f"/import/{job.pk}/resume/", HTTP_HX_REQUEST="true")
    job.refresh_from_db()
    assert (job.status, job.worker, job.position) == ("queued", "", "00Q000000000009AAA")
    assert len(callbacks) == 1


def test_a_started_import_leads_to_its_card_and_its_started_flash_goes_when_it_ends(
    admin_client, connected, django_capture_on_commit_callbacks
):
    """The card is below the start form: starting scrolls to it (htmx's ``show``, or the
    redirect's anchor); the flash saying the import started is gone once the card says it
    finished."""
    html = admin_client.get("/import/").content.decode()
    assert 'hx-swap="outerHTML show:#import-progress:top"' in html
    with django_capture_on_commit_callbacks():
        response = admin_client.post("/import/start/", {"object": "leads"})
    job = ImportJob.objects.get()
    assert response["Location"] == f"/import/?job={job.pk}#import-progress"
    page = admin_client.get(response["Location"]).content.decode()
    assert "Import of Salesforce leads started." in page
    running = admin_client.get(f"/import/{job.pk}/").content.decode()
    assert 'id="flash"' not in running  # polls while it runs leave the flash be
    ImportJob.objects.filter(pk=job.pk).update(status="succeeded")
    done = admin_client.get(f"/import/{job.pk}/").content.decode()
    assert "The import is finished." in done
    flash = re.search(r'<div id="flash"[^>]*hx-swap-oob="innerHTML">(.*?)</div>', done, re.S)
    assert flash and not flash.group(1).strip()  # swapped in empty


@pytest.mark.django_db
def test_an_import_through_the_page_runs_and_shows_its_summary(
    admin_client, live, sf_person, django_capture_on_commit_callbacks
):
    from sync_engine.services import object_sync_get_or_create

    object_sync_get_or_create(integration=live, object_name="contacts")
    sf_person.Contact.create({"LastName": "One", "Email": "one@example.com"})
    sf_person.Contact.create({"LastName": "Nobody"})
    with django_capture_on_commit_callbacks():
        admin_client.post("/import/start/", {"object": "contacts"})
    job = ImportJob.objects.get()
    import_run(job=job)
    html = admin_client.get(f"/import/?job={job.pk}").content.decode()
    assert 'data-status="succeeded"' in html
    assert 'data-stat="created">1<' in html and 'data-stat="skipped">1<' in html
    assert "No email address: <strong>1</strong>" in html
    assert f'data-import="{job.pk}"' in html


# --- one campaign's members (spec §16, §17) ---------------------------------------------------
def campaigns(rep, *names_active: tuple[str, bool]) -> dict[str, str]:
    """Salesforce campaigns (name -> id) the rep makes, each with one contact as its member."""
    ids = {}
    for i, (name, active) in enumerate(names_active):
        ids[name] = rep.Campaign.create({"Name": name, "IsActive": active})["id"]
        contact = rep.Contact.create({"LastName": f"M{i}", "Email": f"m{i}@camp.example"})["id"]
        rep.CampaignMember.create({"CampaignId": ids[name], "ContactId": contact})
    return ids


def salesforce_calls(integration) -> int:
    from sync_engine.models import ApiCall

    return ApiCall.objects.filter(integration=integration, system="salesforce").count()


@pytest.mark.django_db
def test_the_page_offers_the_active_campaigns_read_once_it_is_shown(admin_client, live, sf_person):
    ids = campaigns(
        sf_person, ("Partner Summit", True), ("Spring Webinar", False), ("<b>Fair & Co</b>", True)
    )
    page = admin_client.get("/import/").content.decode()
    assert salesforce_calls(live) == 0  # the page itself never waits on Salesforce
    assert 'hx-get="/import/?campaigns=1&amp;object=leads" hx-trigger="load"' in page
    before = salesforce_calls(live)
    html = admin_client.get("/import/?campaigns=1", HTTP_HX_REQUEST="true").content.decode()
    assert salesforce_calls(live) - before == 1  # one SOQL query
    assert 'id="import-campaigns"' in html and "<fieldset" not in html  # the choices only
    assert f'value="campaign:{ids["Partner Summit"]}"' in html and "Partner Summit" in html
    assert f'value="campaign:{ids["<b>Fair & Co</b>"]}"' in html
    assert "&lt;b&gt;Fair &amp; Co&lt;/b&gt;" in html and "<b>Fair" not in html  # escaped
    assert ids["Spring Webinar"] not in html and "Spring Webinar" not in html  # inactive
    # Without JavaScript: the whole page, with the campaigns in the form.
    full = admin_client.get(f"/import/?campaigns=1&object=campaign:{ids['Partner Summit']}")
    text = full.content.decode()
    assert "<fieldset>" in text and 'id="import-campaigns"' in text
    assert f'value="campaign:{ids["Partner Summit"]}" checked' in text


@pytest.mark.django_db
def test_a_failed_campaign_read_says_why(admin_client, live, emulators):
    rule = emulators.salesforce.app.faults.add(path=r"/query", error_code="SERVER_UNAVAILABLE")
    html = admin_client.get("/import/?campaigns=1", HTTP_HX_REQUEST="true").content.decode()
    emulators.salesforce.app.faults.remove(rule.id)
    assert 'data-field="campaigns-failure"' in html
    assert "Couldn't read Salesforce's campaigns: Server temporarily unavailable" in html
    assert 'value="campaign:' not in html


@pytest.mark.django_db
def test_an_admin_starts_a_campaign_import_by_its_name(
    admin_client, admin_user, live, sf_person, django_capture_on_commit_callbacks
):
    ids = campaigns(sf_person, ("Partner Summit", True), ("Spring Webinar", False))
    summit = f"campaign:{ids['Partner Summit']}"
    with django_capture_on_commit_callbacks() as callbacks:
        response = admin_client.post("/import/start/", {"object": summit}, HTTP_HX_REQUEST="true")
    job = ImportJob.objects.get()
    assert (job.object, job.object_label, job.started_by) == (summit, "Partner Summit", admin_user)
    assert len(callbacks) == 1
    html = response.content.decode()
    assert "Import of Campaign members: Partner Summit started." in html
    assert "Import of Campaign members: Partner Summit</h2>" in html
    assert '<td data-label="Object">Campaign members: Partner Summit</td>' in html  # out of band
    assert AuditEvent.objects.get(action="import.started").details["object"] == summit
    refused = admin_client.post(
        "/import/start/", {"object": f"campaign:{ids['Spring Webinar']}"}, HTTP_HX_REQUEST="true"
    ).content.decode()
    assert "isn&#x27;t active: only active campaigns can be imported" in refused
    assert ImportJob.objects.count() == 1
    import_run(job=job)
    done = admin_client.get(f"/import/?job={job.pk}").content.decode()
    assert 'data-status="succeeded"' in done and 'data-stat="created">1<' in done


@pytest.mark.django_db
def test_a_viewer_sees_the_campaigns_but_cannot_start_one(
    viewer_client, admin_user, live, sf_person
):
    ids = campaigns(sf_person, ("Partner Summit", True))
    summit = f"campaign:{ids['Partner Summit']}"
    html = viewer_client.get("/import/?campaigns=1").content.decode()
    assert "<fieldset disabled>" in html and f'value="{summit}"' in html
    before = salesforce_calls(live)
    assert viewer_client.post("/import/start/", {"object": summit}).status_code == 403
    csrf = Client(enforce_csrf_checks=True)
    csrf.force_login(admin_user)
    assert csrf.post("/import/start/", {"object": summit}).status_code == 403
    assert not ImportJob.objects.exists() and salesforce_calls(live) == before


# --- in Chromium ------------------------------------------------------------------------------
@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.timeout(300)
@pytest.mark.django_db(transaction=True)
def test_browser_a_20000_lead_import_fills_its_progress_bar(
    page, live_server, live, emulators, tmp_path
):
    """20,000 leads seeded straight into the emulated org (control-plane actions, not 20,000 API
    calls); the admin starts their import on the page; a real Celery worker (another process,
    on the Redis broker and this test's PostgreSQL database) runs it while the page polls its
    progress; the bar reaches the end and the summary shows."""
    import os

    from sync_engine.services import object_sync_get_or_create
    from sync_engine.tasks import run_import
    from tests.sync_engine import engine_processes as processes

    processes.require_postgres()
    if not os.environ.get("CELERY_BROKER_URL", "").startswith("redis://"):
        pytest.skip("needs CELERY_BROKER_URL=redis://… (the PostgreSQL phase sets it)")

    total = 20_000
    sf_app = emulators.salesforce.app
    for i in range(total):
        fields = {
            "LastName": f"Lead {i}",
            "Company": f"Co {i % 300}",
            "Email": f"l{i}@bulk.example",
        }
        sf_app.run_action("create", object="Lead", fields=fields)
    live.salesforce_connection.user_id = sf_app.run_action(
        "user_for_token", token=live.salesforce_connection.access_token
    )
    live.salesforce_connection.save()
    object_sync_get_or_create(integration=live, object_name="contacts")
    workers = processes.Workers(tmp_path)
    # The import task goes to this test's own queue, which only its worker consumes.
    routes = processes.route_tasks({run_import.name: {"queue": workers.queue}})
    try:
        workers.start(1)
        import_through_the_page(page, live_server, workers, total)
    finally:
        processes.route_tasks(routes)
        workers.stop()


def import_through_the_page(page, live_server, workers, total: int) -> None:
    """The admin's part: log in, start the import, watch the bar until the summary."""
    import re

    from playwright.sync_api import expect

    from .conftest import htmx_ready, log_in_as_admin, screenshot

    log_in_as_admin(page, live_server)
    polls: list[str] = []
    page.on(
        "request",
        lambda r: polls.append(r.url) if re.search(r"/import/\d+/$", r.url) else None,
    )
    page.click(".topbar__user a:has-text('Import records')")
    expect(page.locator("h1")).to_have_text("Import from Salesforce")
    # Started before htmx is loaded, the form posts without it and the page drawn after the
    # redirect may already say "running" (the worker is waiting): the card must say "queued".
    htmx_ready(page)
    page.check("#import-leads")
    page.click("#import-start button[type=submit]")
    progress = page.locator("#import-progress")
    expect(progress).to_have_attribute("data-status", "queued")
    expect(page.locator("#flash")).to_contain_text("Import of Salesforce leads started.")
    screenshot(page, "import-queued")

    # The worker runs it; the page keeps polling meanwhile.
    expect(progress).to_have_attribute("data-status", "succeeded", timeout=180_000)
    workers.wait_for(lambda: workers.tasks_done() == 1)
    job = ImportJob.objects.get()
    assert job.status == "succeeded" and job.method == "bulk"
    assert (job.total, job.processed, job.created, job.failed) == (total, total, total, 0)
    assert job.salesforce_calls <= 20
    expect(page.locator("#import-bar")).to_have_attribute("value", "100")
    expect(progress.locator('[data-field="processed"]')).to_have_text("20,000")
    expect(progress.locator('[data-stat="created"]')).to_have_text("20,000")
    expect(progress.locator('[data-field="summary"]')).to_contain_text("The import is finished.")
    screenshot(page, "import-finished")
    seen = len(polls)
    assert seen >= 2  # it polled while the import ran…
    page.wait_for_timeout(2_500)
    assert len(polls) == seen  # …and stopped once it ended


def test_the_card_names_the_records_written_without_a_value(admin_client, connected):
    """Created, but without a value HubSpot refused: the card says how many and where their
    errors are, though none failed."""
    job = ImportJob.objects.create(
        integration=connected, object="leads", status="succeeded", total=3, processed=3,
        created=3, left_out=2,
    )  # fmt: skip
    html = admin_client.get(f"/import/{job.pk}/").content.decode()
    note = re.search(r'data-field="left-out">(.*?)</p>', html, re.S)
    assert note, html
    assert note.group(1).startswith("2 records created or updated went over without a value")
    assert 'href="/health/"' in note.group(1) or "See Sync health" in note.group(1)
    assert 'data-stat="failed">0<' in html
    job.left_out = 0
    job.save()
    assert 'data-field="left-out"' not in admin_client.get(f"/import/{job.pk}/").content.decode()


def test_activity_imports_whose_every_type_is_off_are_flagged_and_refused(admin_client, connected):
    """Activity sync is on but no Salesforce type is: the Tasks and Events choices say an
    import would skip every record, and starting one is refused before any call. Meetings
    turned on clear the Events warning (and only it)."""
    from sync_engine.services import object_settings_update

    object_settings_update(
        integration=connected, object_name="activities", changes={}, enabled=True
    )
    html = admin_client.get("/import/").content.decode()
    assert 'data-pair-off="events"' in html and 'data-pair-off="tasks"' in html
    assert "Salesforce meetings are off on the Activities tab" in html
    refused = admin_client.post(
        "/import/start/", {"object": "events"}, HTTP_HX_REQUEST="true"
    ).content.decode()
    assert "every event would be skipped" in refused
    assert not ImportJob.objects.exists()
    targets = {t["object"]: t for t in admin_client.get("/api/v1/imports/targets/").json()}
    assert targets["events"]["pair_enabled"] is True
    assert targets["events"]["pair_off"].startswith("Salesforce meetings are off")

    object_settings_update(
        integration=connected,
        object_name="activities",
        changes={"salesforce_meetings": True},
    )
    html = admin_client.get("/import/").content.decode()
    assert 'data-pair-off="events"' not in html and 'data-pair-off="tasks"' in html
    targets = {t["object"]: t for t in admin_client.get("/api/v1/imports/targets/").json()}
    assert targets["events"]["pair_off"] == ""
