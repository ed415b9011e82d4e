"""*Resync a list* on the Contacts and Companies tabs and over the REST API (spec §5.2
"resyncing a whole list or segment", §8.2: how a new mapping is backfilled): pick a HubSpot
list, confirm what it costs (one HubSpot call), a worker reads and queues the members while
the card polls how far it got, audit-logged once, and the next cycle writes their values to
Salesforce. Admins only, with the form's CSRF token."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from sync_engine.models import ApiCall, AuditEvent, ListResyncJob, ResyncRequest, System
from sync_engine.services import (
    object_settings_update,
    object_sync_get_or_create,
)
from sync_engine.sync.cycle import sync_cycle_run
from sync_engine.tasks import run_list_resync
from tests.sync_engine.sync.helpers import (
    handles_mapped_after_they_synced,
    hs_contacts,
    hs_create,
    hs_list,
)

from .test_api_hunt7 import TokenClient

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "list-resync"}
URL = "/contacts/list-resync/"


def hubspot_operations(integration) -> list[str]:
    calls = ApiCall.objects.filter(integration=integration, system=System.HUBSPOT).order_by("id")
    return list(calls.values_list("operation", flat=True))


def job_line(html: str, job) -> str:
    """The card's line for one list resync (``<div class="list-resync-job" …>…</div>``)."""
    found = re.search(
        rf'<div class="list-resync-job" id="list-resync-job-{job.pk}".*?</div>', html, re.S
    )
    assert found, html
    return found.group(0)


def descriptions(sf, emails) -> dict[str, str | None]:
    quoted = ", ".join(f"'{e}'" for e in emails)
    soql = f"SELECT Email, Description FROM Lead WHERE Email IN ({quoted})"  # noqa: S608
    return {r["Email"]: r["Description"] for r in sf.query(soql)["records"]}


@pytest.fixture
def backfill(live, emulators, hs_person, sf_person):
    """Three contacts synced before a mapping of their Twitter handle to the lead's
    Description was added: nothing backfilled. Returns their emails and the list of them."""
    object_sync_get_or_create(integration=live, object_name="contacts")
    emails = [f"b{i}@backfill.example" for i in range(3)]
    ids = [
        hs_create(hs_person, email=e, lastname="B", company="Acme", twitterhandle=f"@{e[:2]}")
        for e in emails
    ]
    sync_cycle_run(integration=live, object_name="contacts")
    handles_mapped_after_they_synced(live, emulators)
    assert descriptions(sf_person, emails) == dict.fromkeys(emails)
    return emails, hs_list(emulators, "Backfill <handles>", ids)


def test_an_admin_resyncs_a_list_from_the_contacts_tab(
    admin_client, admin_user, live, backfill, sf_person, django_capture_on_commit_callbacks
):
    emails, list_id = backfill
    # The tab draws the card, which asks for HubSpot's lists once shown.
    html = admin_client.get("/contacts/").content.decode()
    assert 'id="list-resync"' in html and f'hx-get="{URL}" hx-trigger="load"' in html
    html = admin_client.get(URL, **HTMX).content.decode()
    assert html.lstrip().startswith('<section class="card" id="list-resync"')
    assert f'<option value="{list_id}">Backfill &lt;handles&gt; (3 records)</option>' in html
    assert 'hx-trigger="load"' not in html

    # Review: what will happen and what it costs; nothing queued yet.
    html = admin_client.post(URL, {"list_id": list_id}, **HTMX).content.decode()
    assert (
        "3 contacts in Backfill &lt;handles&gt; will be synced again: their mapped values are "
        "compared and written where the sync rules say" in html
    )
    assert "This costs up to 6 Salesforce calls, over 1 sync cycle." in html
    assert ">Resync 3 contacts</button>" in html
    assert not ResyncRequest.objects.exists()

    # Confirm: one HubSpot call (the list's size) and a job for a worker, audit-logged.
    calls = len(hubspot_operations(live))
    with django_capture_on_commit_callbacks() as callbacks:
        html = admin_client.post(URL, {"list_id": list_id, "confirm": "1"}, **HTMX).content.decode()
    assert hubspot_operations(live)[calls:] == ["lists.get"]
    job = ListResyncJob.objects.get()
    assert len(callbacks) == 1 and not ResyncRequest.objects.exists()
    line = job_line(html, job)
    assert 'data-status="queued"' in line
    assert f'hx-get="/contacts/list-resync/{job.pk}/" hx-trigger="every 1s"' in line
    assert "Waiting for a worker to read the members of Backfill &lt;handles&gt;…" in line
    event = AuditEvent.objects.get(action="records.list_resync_requested")
    assert event.actor == admin_user and event.details["records"] == 3
    audit = admin_client.get("/audit/").content.decode()
    assert "List resync" in audit and "Contacts · Backfill &lt;handles&gt;" in audit

    # A second confirm of the list while it runs (a double-click) is refused.
    html = admin_client.post(URL, {"list_id": list_id, "confirm": "1"}, **HTMX).content.decode()
    assert (
        'role="alert">Backfill &lt;handles&gt; is already being resynced (0 of 3 queued so '
        "far): wait for it to finish before resyncing it again.</div>" in html
    )
    assert ListResyncJob.objects.count() == 1
    assert AuditEvent.objects.filter(action="records.list_resync_requested").count() == 1

    # The poll while the worker reads it, then once it has queued them all.
    ListResyncJob.objects.filter(pk=job.pk).update(
        status="running", queued=1, heartbeat_at=timezone.now()
    )
    line = admin_client.get(f"{URL}{job.pk}/", **HTMX).content.decode()
    assert 'data-status="running"' in line and 'value="33"' in line and "hx-trigger" in line
    assert "Reading Backfill &lt;handles&gt;: queued 1 of 3 contacts so far…" in line
    ListResyncJob.objects.filter(pk=job.pk).update(status="queued", queued=0, heartbeat_at=None)
    run_list_resync(job.pk)
    line = admin_client.get(f"{URL}{job.pk}/", **HTMX).content.decode()
    assert 'data-status="succeeded"' in line and "hx-trigger" not in line
    assert (
        'role="status">Queued 3 contacts from Backfill &lt;handles&gt;; they sync over the '
        "next cycles.</p>" in line
    )
    assert ResyncRequest.objects.count() == 3

    run = sync_cycle_run(integration=live, object_name="contacts")
    assert run.counts["retried"] == 3
    assert descriptions(sf_person, emails) == {e: f"@{e[:2]}" for e in emails}
    assert not ResyncRequest.objects.exists()
    # The card still says how it ended, and offers the list again.
    html = admin_client.get(URL, **HTMX).content.decode()
    assert "Queued 3 contacts from Backfill" in job_line(html, job)
    assert f'<option value="{list_id}">' in html


def test_a_stalled_list_resync_offers_resume(
    admin_client, live, backfill, django_capture_on_commit_callbacks
):
    """Its worker died after queueing some: the card says so, and Resume goes on after them."""
    _, list_id = backfill
    admin_client.post(URL, {"list_id": list_id, "confirm": "1"}, **HTMX)
    job = ListResyncJob.objects.get()
    ListResyncJob.objects.filter(pk=job.pk).update(
        status="running", queued=2, after="gone", worker="gone:1:x:y",
        heartbeat_at=timezone.now() - timedelta(minutes=6),
    )  # fmt: skip
    html = admin_client.get(URL, **HTMX).content.decode()
    line = job_line(html, job)
    assert 'data-status="stalled"' in line and "hx-trigger" not in line
    assert (
        "The worker reading Backfill &lt;handles&gt; stopped answering after queueing 2 of 3. "
        "Resume to go on after them." in line
    )
    assert ">Resume</button>" in line
    with django_capture_on_commit_callbacks() as callbacks:
        html = admin_client.post(URL, {"list_id": list_id, "confirm": "1"}, **HTMX)
    job.refresh_from_db()
    assert (job.status, job.worker, job.queued, job.after) == ("queued", "", 2, "gone")
    assert len(callbacks) == 1 and ListResyncJob.objects.count() == 1
    assert "Waiting for a worker to read" in job_line(html.content.decode(), job)
    assert AuditEvent.objects.filter(action="records.list_resync_requested").count() == 1


def test_without_htmx_the_tab_confirms_and_says_what_was_queued(admin_client, live, backfill):
    _, list_id = backfill
    response = admin_client.post(URL, {"list_id": list_id})
    assert response.status_code == 200
    html = response.content.decode()
    assert '<h1 class="page__title">Contacts</h1>' in html  # the whole tab, with the confirmation
    assert 'name="confirm" value="1"' in html and "3 contacts in Backfill" in html
    response = admin_client.post(URL, {"list_id": list_id, "confirm": "1"}, follow=True)
    html = response.content.decode()
    assert "Waiting for a worker to read the members of Backfill &lt;handles&gt;…" in html
    assert ListResyncJob.objects.count() == 1 and not ResyncRequest.objects.exists()


def test_the_card_says_why_it_queues_nothing(admin_client, live, emulators):
    object_sync_get_or_create(integration=live, object_name="contacts")
    company = emulators.hubspot.app.run_action(
        "create", object_type="companies", properties={"name": "Acme"}
    )["id"]
    companies = hs_list(emulators, "Key accounts", [company], "companies")

    def refused(list_id: str) -> str:
        response = admin_client.post(URL, {"list_id": list_id}, **HTMX)
        assert response.status_code == 200  # htmx swaps in only a 2xx answer
        html = response.content.decode()
        assert 'aria-invalid="true"' in html
        return html

    assert 'role="alert">HubSpot has no list 424242.</div>' in refused("424242")
    assert "HubSpot list Key accounts isn&#x27;t a contact list." in refused(companies)
    assert "Nobody has no members" in refused(hs_list(emulators, "Nobody", []))
    # A contact list isn't offered on the Companies tab's card, nor taken there.
    object_settings_update(integration=live, object_name="companies", changes={}, enabled=True)
    html = admin_client.get("/companies/list-resync/", **HTMX).content.decode()
    assert "Key accounts" in html
    html = admin_client.post("/companies/list-resync/", {"list_id": companies}, **HTMX)
    assert "1 company in Key accounts will be synced again" in html.content.decode()
    assert not ResyncRequest.objects.exists()


def test_the_card_is_for_admins_only_and_needs_the_forms_csrf_token(
    viewer_client, admin_user, live, emulators
):
    object_sync_get_or_create(integration=live, object_name="contacts")
    list_id = hs_list(emulators, "Anyone", [])
    assert 'id="list-resync"' not in viewer_client.get("/contacts/").content.decode()
    assert viewer_client.get(URL, **HTMX).status_code == 403
    for data in ({"list_id": list_id}, {"list_id": list_id, "confirm": "1"}):
        assert viewer_client.post(URL, data).status_code == 403
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(admin_user)
    assert strict.post(URL, {"list_id": list_id, "confirm": "1"}).status_code == 403
    assert admin_client_404(admin_user)
    assert not ResyncRequest.objects.exists()
    assert not AuditEvent.objects.filter(action="records.list_resync_requested").exists()


def admin_client_404(admin_user) -> bool:
    """Only contacts and companies are resynced by list."""
    client = Client()
    client.force_login(admin_user)
    return client.get("/deals/list-resync/").status_code == 404


# --- the REST API ----------------------------------------------------------------------------
API = "/api/v1/lists/resync/"


def test_the_api_resyncs_a_list(admin_user, viewer_user, live, backfill, sf_person):
    emails, list_id = backfill
    api = TokenClient(admin_user)
    dry = api.post(API, {"object": "contacts", "list_id": list_id, "dry_run": True})
    assert dry.status_code == 200, dry.content
    assert dry.json() == {
        "object": "contacts",
        "list_id": list_id,
        "list_name": "Backfill <handles>",
        "members": 3,
        "queued": 0,
        "salesforce_calls": 6,
        "cycles": 1,
        "syncs_now": False,
        "waits": None,
        "message": dry.json()["message"],
    }
    assert dry.json()["message"].startswith("3 contacts in Backfill <handles> will be synced")
    assert not ResyncRequest.objects.exists()

    # Viewers read only; unknown fields and bad values are refused; nothing queued.
    assert (
        TokenClient(viewer_user).post(API, {"object": "contacts", "list_id": list_id}).status_code
        == 403
    )
    bogus = api.post(API, {"object": "contacts", "list_id": list_id, "bogus": 1})
    assert bogus.status_code == 400 and "bogus" in bogus.json()
    assert api.post(API, {"object": "deals", "list_id": list_id}).status_code == 400
    assert api.post(API, {"object": "contacts", "list_id": "abc"}).json() == {
        "list_id": ["A HubSpot list id: digits only."]
    }
    assert api.post(API, {"object": "contacts", "list_id": "424242"}).json() == {
        "list_id": ["HubSpot has no list 424242."]
    }
    assert api.post(API, {"object": "companies", "list_id": list_id}).json() == {
        "object": ["Turn company sync on first."]
    }
    assert not ResyncRequest.objects.exists()

    done = api.post(API, {"object": "contacts", "list_id": list_id})
    assert done.status_code == 202, done.content
    job = ListResyncJob.objects.get()
    body = done.json()
    url = f"/api/v1/lists/resync/{job.pk}/"
    assert done["Location"] == url
    assert {k: body[k] for k in ("id", "url", "status", "members", "queued", "refused")} == {
        "id": job.pk,
        "url": url,
        "status": "queued",
        "members": 3,
        "queued": 0,
        "refused": None,
    }
    assert body["message"] == "Waiting for a worker to read the members of Backfill <handles>…"
    assert body["started_by"] == admin_user.get_username()
    assert not ResyncRequest.objects.exists()
    again = api.post(API, {"object": "contacts", "list_id": list_id})
    assert again.status_code == 409 and again.json()["detail"].startswith(
        "Backfill <handles> is already being resynced (0 of 3 queued so far)"
    )
    assert ListResyncJob.objects.count() == 1
    assert AuditEvent.objects.get(action="records.list_resync_requested").actor == admin_user

    run_list_resync(job.pk)
    state = TokenClient(viewer_user).get(url)  # viewers read it
    assert state.status_code == 200, state.content
    body = state.json()
    assert (body["status"], body["queued"], body["percent"], body["waits"]) == (
        "succeeded", 3, 100, None,
    )  # fmt: skip
    assert body["message"] == (
        "Queued 3 contacts from Backfill <handles>; they sync over the next cycles."
    )
    assert api.get("/api/v1/lists/resync/999999/").status_code == 404
    assert api.get(f"/api/v1/lists/resync/{2**64}/").status_code == 404
    sync_cycle_run(integration=live, object_name="contacts")
    assert descriptions(sf_person, emails) == {e: f"@{e[:2]}" for e in emails}


def test_the_endpoint_is_in_the_schema(admin_client):
    schema = admin_client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    operation = schema["paths"][API]["post"]
    assert {"200", "202", "400", "403", "409", "503"} <= set(operation["responses"])
    assert "get" in schema["paths"][API + "{job_id}/"]
    ref = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    body = schema["components"]["schemas"][ref.rsplit("/", 1)[1]]
    assert set(body["properties"]) == {"object", "list_id", "dry_run"}


# --- on a real Celery worker ------------------------------------------------------------------
@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.slow
@pytest.mark.timeout(300)
@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_midway_leaves_a_resync_another_worker_finishes(
    admin_client, live, emulators, tmp_path
):
    """The admin confirms a 600-member list; a real Celery worker (another process, on the
    Redis broker and this test's PostgreSQL database) reads it, slowly (HubSpot answers each
    page in a second), and is SIGKILLed once it has queued the first page. The card says its
    worker stopped; Resume puts it on a second worker, which reads only the two pages left:
    every member queued once, one job, one audit entry."""
    import os
    import signal

    from sync_engine.services import object_sync_get_or_create
    from tests.sync_engine import engine_processes as processes

    processes.require_postgres()
    if not os.environ.get("CELERY_BROKER_URL", "").startswith("redis://"):
        pytest.skip("needs CELERY_BROKER_URL=redis://… (the PostgreSQL phase sets it)")
    object_sync_get_or_create(integration=live, object_name="contacts")
    ids = hs_contacts(emulators, 600, email="w{i}@worker.example")
    list_id = hs_list(emulators, "Worker list", ids)
    emulators.hubspot.app.faults.add(path=r"/crm/v3/lists/.*/memberships", delay=1.0, times=20)
    workers = processes.Workers(tmp_path)
    # The list resync goes to this test's own queue, which only its workers consume (the
    # cycle it starts at the end waits on a queue nobody reads here).
    routes = processes.route_tasks({run_list_resync.name: {"queue": workers.queue}})
    try:
        workers.start(1)
        admin_client.post(URL, {"list_id": list_id, "confirm": "1"}, **HTMX)
        job = ListResyncJob.objects.get()

        def queued() -> int:
            job.refresh_from_db()
            return job.queued

        workers.wait_for(lambda: queued() >= 250, timeout=60)
        workers.processes[0].send_signal(signal.SIGKILL)
        workers.processes[0].wait(timeout=20)
        job.refresh_from_db()
        assert (job.status, job.queued) == ("running", 250)
        assert ResyncRequest.objects.count() == 250
        # Five minutes later its lease has run out: the card says the worker stopped.
        ListResyncJob.objects.filter(pk=job.pk).update(
            heartbeat_at=timezone.now() - timedelta(minutes=6)
        )
        line = job_line(admin_client.get(URL, **HTMX).content.decode(), job)
        assert 'data-status="stalled"' in line and "stopped answering after queueing 250" in line

        workers.processes.pop(0)
        workers.logs.pop(0)
        workers.start(1)
        pages_before = hubspot_operations(live).count("lists.memberships.list")
        admin_client.post(URL, {"list_id": list_id, "confirm": "1"}, **HTMX)
        workers.wait_for(lambda: ListResyncJob.objects.get(pk=job.pk).status == "succeeded")
        line = admin_client.get(f"{URL}{job.pk}/", **HTMX).content.decode()
        assert "Queued 600 contacts from Worker list; they sync over the next cycles." in line
    finally:
        processes.route_tasks(routes)
        workers.stop()
        emulators.hubspot.app.faults.clear()
    assert hubspot_operations(live).count("lists.memberships.list") - pages_before == 2
    assert sorted(ResyncRequest.objects.values_list("record_key", flat=True)) == sorted(
        f"hubspot:{i}" for i in ids
    )
    assert ListResyncJob.objects.count() == 1
    assert AuditEvent.objects.filter(action="records.list_resync_requested").count() == 1
