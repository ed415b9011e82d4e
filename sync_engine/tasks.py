"""Celery tasks: thin shells over services. Schedules live in ``schedules.py``."""

from __future__ import annotations

import logging

from celery import shared_task

from .errors import ConnectorError
from .selectors import integration_get_default, integration_salesforce_connection
from .services import api_calls_prune, integration_refresh_limits

logger = logging.getLogger(__name__)


@shared_task(name="sync_engine.refresh_api_limits", ignore_result=True)
def refresh_api_limits() -> None:
    integration = integration_get_default()
    if integration is None or integration_salesforce_connection(integration=integration) is None:
        return
    if not integration.is_connected:
        return
    try:
        integration_refresh_limits(integration=integration)
    except ConnectorError as error:
        logger.warning("refresh_api_limits failed: %s", error)


@shared_task(name="sync_engine.prune_api_calls", ignore_result=True)
def prune_api_calls() -> None:
    api_calls_prune()
