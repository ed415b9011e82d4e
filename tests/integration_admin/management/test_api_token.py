"""`manage.py api_token`: tokens that expire, revoking by prefix, refusals, and an audit trail
that never holds a token."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from django.utils import timezone
from knox.models import AuthToken

from sync_engine.models import AuditEvent

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("connected")]


def run(*args) -> str:
    out = StringIO()
    call_command("api_token", *args, stdout=out)
    return out.getvalue()


def create(*args) -> str:
    return re.search(r"^  ([0-9a-f]{64})$", run(*args), re.MULTILINE)[1]


def status(token: str) -> int:
    return Client().get("/api/v1/runs/", HTTP_AUTHORIZATION=f"Token {token}").status_code


def test_a_token_never_expires_unless_asked(admin_user):
    token = create(admin_user.username)
    assert AuthToken.objects.get().expiry is None
    assert "never expires" in run(admin_user.username, "--list")
    assert status(token) == 200


def test_a_token_with_an_expiry_is_refused_after_it(admin_user):
    output = run(admin_user.username, "--expires-days", "1")
    token = re.search(r"^  ([0-9a-f]{64})$", output, re.MULTILINE)[1]
    row = AuthToken.objects.get()
    assert timedelta(hours=23) < row.expiry - timezone.now() <= timedelta(days=1)
    assert "expires " in output and status(token) == 200
    AuthToken.objects.update(expiry=timezone.now() - timedelta(seconds=1))
    assert "expired" in run(admin_user.username, "--list")
    assert status(token) == 401
    assert not AuthToken.objects.exists()  # knox deletes it on the refused call


def test_revoke_one_token_by_its_prefix(admin_user):
    kept, revoked = create(admin_user.username), create(admin_user.username)
    prefix = revoked[:15]  # knox's token_key, as --list shows it
    assert prefix in run(admin_user.username, "--list")
    assert "Revoked 1 token" in run(admin_user.username, "--revoke", prefix)
    assert status(revoked) == 401 and status(kept) == 200
    with pytest.raises(CommandError, match="no token with prefix"):
        run(admin_user.username, "--revoke", prefix)


def test_refusals(admin_user, viewer_user):
    with pytest.raises(CommandError, match="No user 'nobody'"):
        run("nobody")
    viewer_user.is_active = False
    viewer_user.save()
    with pytest.raises(CommandError, match="inactive"):
        run(viewer_user.username)
    for days in ("0", "-3"):
        with pytest.raises(CommandError, match="1 or more"):
            run(admin_user.username, "--expires-days", days)
    with pytest.raises(CommandError, match="at most 36,500"):  # not an OverflowError
        run(admin_user.username, "--expires-days", "99999999")
    with pytest.raises(CommandError, match="only goes with creating"):
        run(admin_user.username, "--expires-days", "3", "--list")
    assert not AuthToken.objects.exists() and not AuditEvent.objects.exists()


def test_audit_events_name_the_prefix_never_the_token(admin_user):
    tokens = [create(admin_user.username), create(admin_user.username, "--expires-days", "7")]
    prefixes = {token[:15] for token in tokens}
    assert run(admin_user.username, "--revoke-all") == "Revoked 2 token(s) of ada.\n"
    events = AuditEvent.objects.order_by("pk")
    assert [e.action for e in events] == ["api_token.created"] * 2 + ["api_token.revoked"] * 2
    assert all(e.actor is None and e.details["username"] == "ada" for e in events)
    assert {e.details["prefix"] for e in events[:2]} == prefixes
    assert {e.details["prefix"] for e in events[2:]} == prefixes
    assert events[0].details["expiry"] is None and events[1].details["expiry"]
    stored = json.dumps([e.details for e in events])
    assert not any(token in stored for token in tokens)
    assert "has no API tokens" in run(admin_user.username, "--list")


def test_the_django_admin_lists_tokens_but_cannot_make_or_change_them(admin_user):
    from django.contrib.auth import get_user_model

    create(admin_user.username)
    client = Client()
    client.force_login(get_user_model().objects.create_superuser("root", password="x"))
    listing = client.get("/admin/knox/authtoken/")
    assert listing.status_code == 200
    assert AuthToken.objects.get().token_key in listing.content.decode()
    assert client.get("/admin/knox/authtoken/add/").status_code == 403
    assert client.post("/admin/knox/authtoken/add/", {"user": admin_user.pk}).status_code == 403
    assert AuthToken.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_the_upgrade_drops_the_old_plain_text_token_table():
    import importlib

    from django.db import connection

    upgrade = importlib.import_module("integration_admin.migrations.0002_drop_plaintext_api_tokens")
    with connection.cursor() as cursor:
        cursor.execute('CREATE TABLE "authtoken_token" ("key" varchar(40) PRIMARY KEY)')
        cursor.execute("INSERT INTO \"authtoken_token\" VALUES ('plain-text-key')")
    with connection.schema_editor() as editor:
        upgrade.drop_plaintext_tokens(None, editor)
    assert "authtoken_token" not in connection.introspection.table_names()
