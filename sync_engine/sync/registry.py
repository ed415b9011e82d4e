"""Which module syncs each object pair, in dependency order.

People come first, then accounts (whose sync puts contacts' company associations in step, so
it sees the people linked this cycle, and reads the HubSpot contact changes the contact sync
just read: see ``changes.ContactCompanies``), then what hangs off people and accounts
(opportunities need accounts). Classes are imported when first used, so a pair's
module loads only in the processes that sync it.
"""

from __future__ import annotations

from django.utils.module_loading import import_string

from ..object_settings import CUSTOM_PREFIX

PAIR_CLASSES: dict[str, str] = {
    "contacts": "sync_engine.sync.contacts.ContactSync",
    "companies": "sync_engine.sync.companies.CompanySync",
    "deals": "sync_engine.sync.deals.DealSync",
    "tickets": "sync_engine.sync.tickets.TicketSync",
    "activities": "sync_engine.sync.activities.ActivitySync",
}
CUSTOM_OBJECT_CLASS = "sync_engine.sync.custom_objects.CustomObjectSync"


def pair_class(object_name: str) -> type:
    if object_name.startswith(CUSTOM_PREFIX):
        return import_string(CUSTOM_OBJECT_CLASS)
    return import_string(PAIR_CLASSES[object_name])


def pair_streams(object_name: str, options: dict | None) -> tuple[str, ...]:
    """The Salesforce change streams a pair reads, for the cycle's change probe."""
    return pair_class(object_name).stream_names(object_name, options)


def is_pair(object_name: str) -> bool:
    return object_name in PAIR_CLASSES or object_name.startswith(CUSTOM_PREFIX)


def pair_order(object_name: str) -> int:
    """Position in a cycle over every pair: custom objects last, after the standard ones."""
    names = list(PAIR_CLASSES)
    return names.index(object_name) if object_name in names else len(names)
