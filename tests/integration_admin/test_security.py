"""Roles, CSRF and the security headers."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.test import Client

from integration_admin.roles import ADMINS, VIEWERS, user_is_admin

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
