"""Periodic jobs are declared once and point at registered tasks."""

from django.conf import settings

from integration_admin.celery import app
from sync_engine import tasks  # noqa: F401 - registers the tasks
from sync_engine.schedules import BEAT_SCHEDULE


def test_every_scheduled_task_exists():
    assert settings.CELERY_BEAT_SCHEDULE is BEAT_SCHEDULE
    for entry in BEAT_SCHEDULE.values():
        assert entry["task"] in app.tasks, entry["task"]


def test_limits_are_refreshed_at_least_hourly():
    schedule = BEAT_SCHEDULE["refresh-api-limits"]["schedule"]
    assert len(schedule.minute) >= 1 and len(schedule.hour) == 24
