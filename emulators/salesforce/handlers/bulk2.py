"""Bulk API 2.0 (``/jobs/ingest``, ``/jobs/query``) — registered later."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..app import SalesforceApp


def register(app: SalesforceApp) -> None:
    return None
