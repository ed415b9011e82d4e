"""``just_now``: under a minute, the pages say "just now" instead of timesince's "0 minutes"."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.template import Context, Template
from django.utils import timezone, translation

from integration_admin.templatetags.relative_time import just_now
from sync_engine.models import SyncRun


@pytest.mark.parametrize(
    ("ago", "expected"),
    [
        (timedelta(seconds=0), True),
        (timedelta(seconds=59), True),
        (timedelta(seconds=-30), True),  # a clock a little ahead: timesince says "0 minutes"
        (timedelta(seconds=61), False),
        (timedelta(hours=3), False),
    ],
)
def test_just_now_is_under_a_minute(ago, expected):
    assert just_now(timezone.now() - ago) is expected


def test_just_now_takes_naive_times_and_nothing_else():
    assert just_now(datetime.now() - timedelta(seconds=5)) is True
    assert just_now(datetime.now() - timedelta(minutes=5)) is False
    for value in (None, "", "2026-01-01", timezone.now().date()):
        assert just_now(value) is False


def test_a_template_says_just_now_then_minutes_ago():
    template = Template(
        "{% load i18n relative_time %}{% if at|just_now %}{% translate 'just now' %}"
        "{% else %}{% blocktranslate with since=at|timesince %}{{ since }} ago"
        "{% endblocktranslate %}{% endif %}"
    )
    with translation.override("en"):
        assert template.render(Context({"at": timezone.now()})) == "just now"
        two = timezone.now() - timedelta(minutes=2, seconds=5)
        assert template.render(Context({"at": two})) == "2\xa0minutes ago"


@pytest.mark.django_db
def test_the_status_bar_says_synced_just_now(admin_client, connected):
    now = timezone.now()
    SyncRun.objects.create(
        integration=connected, object="contacts", status="succeeded",
        finished_at=now - timedelta(seconds=10),
    )  # fmt: skip
    html = admin_client.get("/discover/").content.decode()
    assert ">synced just now</time>" in html and "0\xa0minutes" not in html
    SyncRun.objects.filter(object="contacts").update(finished_at=now - timedelta(minutes=3))
    html = admin_client.get("/discover/").content.decode()
    assert ">synced 3\xa0minutes ago</time>" in html and "just now" not in html


@pytest.mark.django_db
def test_the_usage_card_and_connection_page_say_just_now(admin_client, connected):
    from django.utils import timezone

    from sync_engine.models import Integration, SalesforceConnection

    Integration.objects.filter(pk=connected.pk).update(limits_checked_at=timezone.now())
    SalesforceConnection.objects.filter(integration=connected).update(
        last_verified_at=timezone.now()
    )
    assert "read from Salesforce just now" in admin_client.get("/sync-health/").content.decode()
    html = admin_client.get("/connection/").content.decode()
    assert "0\xa0minutes" not in html and "just now" in html
