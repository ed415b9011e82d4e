"""Every periodic job, in one place. ``settings.CELERY_BEAT_SCHEDULE`` points here, and
django-celery-beat's DatabaseScheduler copies these entries into its tables at start-up.

Keep this module free of Django model imports: settings import it.
"""

from celery.schedules import crontab

BEAT_SCHEDULE = {
    "sync-due": {
        "task": "sync_engine.sync_due",
        "schedule": 60.0,  # the per-pair interval is decided in sync/schedule.py
    },
    "refresh-api-limits": {
        "task": "sync_engine.refresh_api_limits",
        "schedule": crontab(minute="*/30"),
    },
    "prune-api-calls": {
        "task": "sync_engine.prune_api_calls",
        "schedule": crontab(minute=17, hour=3),
    },
}
