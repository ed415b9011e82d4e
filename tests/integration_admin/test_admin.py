"""The Django admin (integration_admin/admin.py): who gains or loses access is audit-logged;
the periodic jobs and the role groups are read-only."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.test import Client
from django_celery_beat.models import IntervalSchedule, PeriodicTask

from integration_admin.roles import ADMINS, VIEWERS
from sync_engine.models import AuditEvent

pytestmark = pytest.mark.django_db
User = get_user_model()


@pytest.fixture
def root():
    return User.objects.create_superuser("root", password="x")


@pytest.fixture
def superuser_client(root):
    client = Client()
    client.force_login(root)
    return client


def change_form(user, **overrides) -> dict:
    data = {
        "username": user.username,
        "first_name": "",
        "last_name": "",
        "email": "",
        "is_active": "on",
        "date_joined_0": "2026-01-01",
        "date_joined_1": "00:00:00",
        "initial-date_joined_0": "2026-01-01",
        "initial-date_joined_1": "00:00:00",
        "groups": [g.pk for g in user.groups.all()],
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def test_putting_someone_in_the_admins_group_is_audit_logged(superuser_client, root):
    vic = User.objects.create_user("vic", password="x")
    vic.groups.add(Group.objects.get(name=VIEWERS))
    admins = Group.objects.get(name=ADMINS)
    response = superuser_client.post(
        f"/admin/auth/user/{vic.pk}/change/", change_form(vic, groups=[admins.pk])
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert list(vic.groups.values_list("name", flat=True)) == [ADMINS]
    event = AuditEvent.objects.get(action="user.roles_changed")
    assert event.actor == root and event.details["username"] == "vic"
    assert event.details["changes"] == {"groups": {"from": [VIEWERS], "to": [ADMINS]}}
    html = superuser_client.get("/audit/").content.decode()
    assert "User&#x27;s access changed" in html and "Integration admins" in html


def test_saving_a_user_without_access_changes_logs_nothing(superuser_client):
    vic = User.objects.create_user("vic", password="x")
    response = superuser_client.post(
        f"/admin/auth/user/{vic.pk}/change/", change_form(vic, first_name="Victor")
    )
    assert response.status_code == 302
    assert not AuditEvent.objects.filter(action__startswith="user.").exists()


def test_granting_a_permission_is_audit_logged(superuser_client, root):
    """A single permission can give as much as a group: it is access too."""
    bob = User.objects.create_user("bob", password="x", is_staff=True)
    change_user = Permission.objects.get(codename="change_user")
    response = superuser_client.post(
        f"/admin/auth/user/{bob.pk}/change/",
        change_form(bob, is_staff="on", user_permissions=[change_user.pk]),
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    event = AuditEvent.objects.get(action="user.roles_changed")
    assert event.details["changes"] == {"permissions": {"from": [], "to": ["auth.change_user"]}}


def test_setting_someones_password_is_audit_logged(superuser_client, root):
    """Whoever sets a password can sign in as that person: who did it is on record."""
    vic = User.objects.create_user("vic", password="x")
    response = superuser_client.post(
        f"/admin/auth/user/{vic.pk}/password/",
        {"password1": "a-new-long-passphrase", "password2": "a-new-long-passphrase"},
    )
    assert response.status_code == 302
    event = AuditEvent.objects.get(action="user.password_set")
    assert event.actor == root and event.details == {"username": "vic"}
    assert "User&#x27;s password set" in superuser_client.get("/audit/").content.decode()


def test_deleting_a_user_is_audit_logged(superuser_client, root):
    vic = User.objects.create_user("vic", password="x")
    superuser_client.post(f"/admin/auth/user/{vic.pk}/delete/", {"post": "yes"})
    assert not User.objects.filter(username="vic").exists()
    event = AuditEvent.objects.get(action="user.deleted")
    assert event.actor == root and event.details == {"username": "vic"}


def test_the_periodic_jobs_and_role_groups_cannot_be_changed(superuser_client):
    every = IntervalSchedule.objects.create(every=1, period="minutes")
    task = PeriodicTask.objects.create(name="sync-due", task="sync_engine.sync_due", interval=every)
    url = f"/admin/django_celery_beat/periodictask/{task.pk}/change/"
    assert superuser_client.get(url).status_code == 200  # shown
    superuser_client.post(url, {"name": "sync-due", "enabled": ""})
    assert superuser_client.post(
        "/admin/django_celery_beat/periodictask/",
        {"action": "disable_tasks", "_selected_action": [task.pk]},
    ).status_code in (200, 302)
    task.refresh_from_db()
    assert task.enabled is True
    assert superuser_client.get("/admin/django_celery_beat/periodictask/add/").status_code == 403
    admins = Group.objects.get(name=ADMINS)
    superuser_client.post(f"/admin/auth/group/{admins.pk}/change/", {"name": "Everyone"})
    assert Group.objects.filter(name=ADMINS).exists()


def test_admin_pages_link_the_favicon_so_browsers_ask_for_no_favicon_ico(superuser_client, root):
    """The dashboard's pages say there is no icon (base.html); without the same link the
    admin's pages make browsers ask for /favicon.ico, a 404 in every log."""
    for path in ("/admin/", "/admin/auth/user/", f"/admin/auth/user/{root.pk}/change/",
                 "/admin/auth/user/add/"):  # fmt: skip
        response = superuser_client.get(path)
        assert response.status_code == 200, path
        assert '<link rel="icon" href="data:,">' in response.content.decode(), path
    response = Client().get("/admin/login/")
    assert '<link rel="icon" href="data:,">' in response.content.decode()


def test_the_admin_index_spells_hubspot(superuser_client):
    html = superuser_client.get("/admin/").content.decode()
    assert "HubSpot connections" in html and "Hub spot" not in html
