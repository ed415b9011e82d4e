"""The Django project and web layer: settings, URLs, the Celery app, views and the REST API."""

from .celery import app as celery_app

__all__ = ["celery_app"]
