"""Roles, CSRF and the security headers."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import resolve

from integration_admin.roles import ADMINS, VIEWERS, user_is_admin
from sync_engine.models import Integration, ListResyncJob

from .conftest import everything_stored
from .test_login_required import PUBLIC, concrete_paths

pytestmark = pytest.mark.django_db

# Every view that changes something, with a body that would be valid for an admin.
CHANGES = [
    ("/sync-health/allocation/", {"allocation": "6000"}),
    ("/sync-health/errors/resync/", {"scope": "all"}),
    ("/sync-health/errors/property_value/view/", {}),
    ("/records/contacts/hubspot:1/resync/", {}),
    ("/contacts/", {"salesforce_delete": "delete"}),
    ("/objects/contacts/mappings/add/", {"hubspot_property": "a", "salesforce_field": "b"}),
    ("/objects/contacts/mappings/refresh/", {}),
    ("/mappings/1/rule/", {"rule": "two_way"}),
    ("/mappings/1/delete/", {}),
    ("/connection/salesforce/connect/", {}),
    ("/sync-now/", {}),
    ("/integration/clear-suspension/", {}),
    ("/companies/sync/", {"company_id": "1"}),
    ("/tickets/", {"step": "1", "action": "next", "salesforce_delete": "delete"}),
    ("/custom-objects/wizard/objects/", {"salesforce_object": "Project__c"}),
    ("/custom-objects/1/switch/", {}),
    ("/custom-objects/1/remove/", {}),
    ("/import/start/", {"object": "leads"}),
    ("/import/1/cancel/", {}),
    ("/import/1/resume/", {}),
]


def test_the_roles_exist_as_groups():
    assert set(Group.objects.values_list("name", flat=True)) >= {ADMINS, VIEWERS}


def test_who_is_an_admin(admin_user, viewer_user, user):
    boss = get_user_model().objects.create_superuser("boss", password="x")
    assert user_is_admin(admin_user) and user_is_admin(boss)
    assert not user_is_admin(viewer_user) and not user_is_admin(user)
    admin_user.is_active = False
    assert not user_is_admin(admin_user)


@pytest.mark.parametrize(("path", "data"), CHANGES)
def test_viewers_and_people_without_a_role_are_refused(
    viewer_client, logged_in, connected, path, data
):
    for client in (viewer_client, logged_in):
        response = client.post(path, data)
        assert response.status_code == 403, path
        assert "Only integration admins can change settings" in response.content.decode()


def test_role_shows_in_the_header(admin_client, viewer_client, connected):
    assert "Integration admin</span>" in admin_client.get("/discover/").content.decode()
    html = viewer_client.get("/discover/").content.decode()
    assert "Viewer</span>" in html and "You&#x27;re a viewer" not in html
    assert "You're a viewer: you can look at everything" in html


def test_superuser_is_an_admin_on_the_pages(connected):
    boss = get_user_model().objects.create_superuser("boss", password="x")
    client = Client()
    client.force_login(boss)
    assert client.post("/sync-health/allocation/", {"allocation": "6000"}).status_code == 302


def test_forms_need_a_csrf_token(admin_user, connected):
    client = Client(enforce_csrf_checks=True)
    client.force_login(admin_user)
    assert client.post("/sync-health/allocation/", {"allocation": "6000"}).status_code == 403
    page = client.get("/sync-health/").content.decode()
    token = page.split('name="csrfmiddlewaretoken" value="')[1].split('"')[0]
    response = client.post(
        "/sync-health/allocation/", {"allocation": "6000", "csrfmiddlewaretoken": token}
    )
    assert response.status_code == 302
    # htmx sends the token in a header, taken from the page's hx-headers.
    header = page.split('hx-headers=\'{"X-CSRFToken": "')[1].split('"')[0]
    response = client.post(
        "/sync-health/allocation/", {"allocation": "6001"},
        HTTP_X_CSRFTOKEN=header, HTTP_HX_REQUEST="true",
    )  # fmt: skip
    assert response.status_code == 200


def test_security_headers(admin_client, connected, client):
    for response in (admin_client.get("/sync-health/"), client.get("/login/")):
        assert response["X-Frame-Options"] == "DENY"
        assert response["X-Content-Type-Options"] == "nosniff"
        assert response["Referrer-Policy"] == "same-origin"
        assert response["Cross-Origin-Opener-Policy"] == "same-origin"
        policy = response["Content-Security-Policy"]
        assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy
        assert "unsafe-inline" not in policy.split("script-src")[1].split(";")[0]


def test_no_inline_scripts_in_the_pages(admin_client, connected):
    pages = [admin_client.get(p) for p in ("/sync-health/", "/contacts/", "/connection/")]
    for response in [*pages, Client().get("/login/")]:
        html = response.content.decode()
        scripts = re.findall(r"<script([^>]*)>(.*?)</script>", html, re.S)
        assert scripts and all('src="' in attrs and not body.strip() for attrs, body in scripts)
        assert "javascript:" not in html and " onclick=" not in html


def test_plain_http_works_by_default(client, settings):
    """`make run` serves http://127.0.0.1:8000: no HTTPS redirect unless asked for."""
    assert settings.SECURE_SSL_REDIRECT is False
    assert client.get("/login/").status_code == 200


def test_password_guessing_is_locked_out_for_a_while(client, admin_user):
    admin_user.set_password("right-Pass-123")
    admin_user.save()
    for _ in range(10):
        response = client.post("/login/", {"username": admin_user.username, "password": "wrong"})
    assert response.status_code == 429
    # Locked: even the right password is refused for now, with a page that says why.
    response = client.post(
        "/login/", {"username": admin_user.username, "password": "right-Pass-123"}
    )
    assert response.status_code == 429
    html = response.content.decode()
    assert "Too many failed logins" in html and "manage.py axes_reset" in html
    assert 'href="/login/"' in html  # someone else may still log in
    assert "_auth_user_id" not in client.session


def test_a_few_wrong_passwords_then_the_right_one_logs_in(client, admin_user):
    admin_user.set_password("right-Pass-123")
    admin_user.save()
    for _ in range(3):
        client.post("/login/", {"username": admin_user.username, "password": "wrong"})
    response = client.post(
        "/login/", {"username": admin_user.username, "password": "right-Pass-123"}
    )
    assert response.status_code == 302 and "_auth_user_id" in client.session


# --- every URL, walked: a new page or endpoint is covered as soon as it is routed ------------
# Pages and partials that only read, whatever the method: a POST draws them (or their 404) and
# changes nothing. Any other dashboard URL refuses a viewer's POST (403), or takes no POST
# (405). A new URL that answers a viewer's POST otherwise fails the walk until it is either
# admin-only or listed here as a read.
READS = {
    "home", "sync_health", "api_usage_partial", "error_cards_partial", "errors_export",
    "error_panel", "record_detail", "discover", "connection", "audit_log", "imports",
    "import_progress", "custom_objects", "custom_object", "inclusion_lists", "mapping_editor",
    "mapping_check", "ticket_stages",
}  # fmt: skip
WALKED = [p for p in concrete_paths() if p not in PUBLIC and not p.startswith("/admin/")]
DASHBOARD = [p for p in WALKED if not p.startswith("/api/")]
API = [p for p in WALKED if p.startswith("/api/")]
HTMX = {"HTTP_HX_REQUEST": "true"}
JSON = "application/json"


def _stored() -> tuple:
    """What any change would write, the integration's own switches included."""
    return (
        everything_stored(),
        list(Integration.objects.values_list("sync_enabled", "salesforce_api_allocation", "state")),
        list(ListResyncJob.objects.values_list("pk", flat=True)),
    )


def test_the_walk_covers_the_tabs_pages_and_endpoints():
    assert {
        "/companies/", "/companies/sync/", "/deals/", "/tickets/", "/tickets/stages/",
        "/activities/", "/custom-objects/new/", "/custom-objects/wizard/x/",
        "/custom-objects/1/switch/", "/custom-objects/1/remove/", "/import/start/",
        "/import/1/cancel/", "/objects/x/mappings/add/", "/x/list-resync/",
    } <= set(DASHBOARD)  # fmt: skip
    assert {"/api/v1/settings/x/", "/api/v1/companies/sync/", "/api/v1/imports/1/cancel/"} <= set(
        API
    )
    assert {resolve(path).url_name for path in DASHBOARD} >= READS


@pytest.mark.parametrize("path", DASHBOARD)
def test_every_dashboard_post_is_refused_to_viewers_or_only_reads(
    path, every_pair, viewer_client, logged_in
):
    before = _stored()
    reads = resolve(path).url_name in READS
    for client in (viewer_client, logged_in):
        for extra in ({}, HTMX):
            response = client.post(path, {}, **extra)
            if reads:
                assert response.status_code in (200, 302, 404), (path, response.status_code)
            else:
                assert response.status_code in (403, 405), (path, response.status_code)
                if response.status_code == 403:
                    assert "Only integration admins can change settings" in (
                        response.content.decode()
                    )
    assert _stored() == before


@pytest.mark.parametrize("path", API)
def test_every_api_write_is_refused_to_viewers(path, every_pair, viewer_client):
    before = _stored()
    for method in ("post", "put", "patch", "delete"):
        response = getattr(viewer_client, method)(path, {}, content_type=JSON)
        # The schema and its docs page aren't REST endpoints: they take GET only.
        allowed = (405,) if path in ("/api/schema/", "/api/docs/") else (403,)
        assert response.status_code in allowed, (method, path, response.status_code)
    assert _stored() == before


@pytest.mark.parametrize("path", DASHBOARD + API)
def test_every_write_needs_the_csrf_token(path, every_pair, admin_user):
    client = Client(enforce_csrf_checks=True)
    client.force_login(admin_user)
    before = _stored()
    if path.startswith("/api/"):
        for method in ("post", "put", "patch", "delete"):
            response = getattr(client, method)(path, {}, content_type=JSON)
            assert response.status_code == 403, (method, path, response.status_code)
    else:
        for extra in ({}, HTMX):
            response = client.post(path, {}, **extra)
            assert response.status_code == 403, (path, response.status_code)
            assert "CSRF" in response.content.decode()
    assert _stored() == before
