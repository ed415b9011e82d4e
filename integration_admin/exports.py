"""CSV export of sync errors, safe to open in a spreadsheet.

Text from the CRMs (names, error messages) may start with ``=``, ``+``, ``-``, ``@``, a tab or a
carriage return, which spreadsheets run as a formula ("CSV injection"); such cells get a leading
apostrophe so they read as text.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator

from django.utils.translation import gettext as _

from sync_engine.models import Integration, ObjectSync, SyncError
from sync_engine.selectors import ErrorRow, hubspot_objects, record_links_for_errors

from .links import hubspot_record_url, salesforce_record_url

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
LINKS_CHUNK = 1000  # errors whose record links are read together (one query)


def csv_safe(value: object) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


def _with_links(
    integration: Integration, errors: Iterable[SyncError], objects: dict[str, str]
) -> Iterator[ErrorRow]:
    """The errors with their record links, read a chunk at a time: an error kept on one side
    of a synced pair borrows the other side's id from the link."""
    chunk: list[SyncError] = []

    def rows(chunk: list[SyncError]) -> Iterator[ErrorRow]:
        # An error that names both records and the Salesforce object needs no link.
        missing = [e for e in chunk if not (e.hubspot_id and e.salesforce_id and e.salesforce_type)]
        links = record_links_for_errors(integration=integration, errors=missing)
        for error in chunk:
            yield ErrorRow(error=error, link=links.get(error.pk), hubspot_objects=objects)

    for error in errors:
        chunk.append(error)
        if len(chunk) == LINKS_CHUNK:
            yield from rows(chunk)
            chunk = []
    if chunk:
        yield from rows(chunk)


class _Echo:
    def write(self, value: str) -> str:
        return value


def errors_csv_rows(integration: Integration, errors: Iterable[SyncError]) -> Iterator[str]:
    """CSV lines (header first) for a stream of errors; one pass, so 100,000 rows stream."""
    writer = csv.writer(_Echo())
    salesforce = getattr(integration, "salesforce_connection", None)
    hubspot = getattr(integration, "hubspot_connection", None)
    objects = hubspot_objects(
        integration=integration,
        object_names=ObjectSync.objects.filter(integration=integration).values_list(
            "object", flat=True
        ),
    )
    yield "\ufeff" + writer.writerow(
        [
            _("Error type"),
            _("Object"),
            _("Direction"),
            _("Record"),
            _("HubSpot id"),
            _("HubSpot link"),
            _("Salesforce object"),
            _("Salesforce id"),
            _("Salesforce link"),
            _("Code"),
            _("Message"),
            _("Fields"),
            _("Values sent"),
            _("First seen"),
            _("Last seen"),
            _("Attempts"),
            _("Next retry"),
        ]
    )
    for row in _with_links(integration, errors, objects):
        error = row.error
        yield writer.writerow(
            [
                csv_safe(value)
                for value in (
                    error.error_type,
                    error.object,
                    error.direction,
                    error.record_label,
                    row.hubspot_id,
                    hubspot_record_url(
                        hubspot, row.hubspot_object, row.hubspot_id, error.record_key
                    ),
                    row.salesforce_type,
                    row.salesforce_id,
                    salesforce_record_url(salesforce, row.salesforce_type, row.salesforce_id),
                    error.code,
                    error.message,
                    ", ".join(str(f) for f in error.fields or []),
                    ", ".join(f"{field}={value}" for field, value in error.sent()),
                    error.first_seen_at.isoformat(),
                    error.last_seen_at.isoformat(),
                    error.attempts,
                    error.next_retry_at.isoformat() if error.next_retry_at else "",
                )
            ]
        )
