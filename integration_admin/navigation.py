"""The dashboard's tabs, in HubSpot's order."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class Tab:
    slug: str
    label: str | Promise
    url_name: str
    summary: str | Promise = ""
    # The sync object behind an object tab ("contacts"); empty for the other tabs.
    object_name: str = ""


TABS: tuple[Tab, ...] = (
    Tab("sync-health", _("Sync health"), "sync_health", _("API call use and sync-error cards.")),
    Tab("discover", _("Discover features"), "discover", _("What else the integration can do.")),
    Tab(
        "contacts",
        _("Contacts"),
        "contacts",
        _("Contact sync rules and property mappings."),
        "contacts",
    ),
    Tab(
        "companies",
        _("Companies"),
        "companies",
        _("Company sync and property mappings."),
        "companies",
    ),
    Tab("deals", _("Deals"), "deals", _("Deal sync, pipelines and property mappings."), "deals"),
    Tab("tickets", _("Tickets"), "tickets", _("Ticket ⇄ Case sync."), "tickets"),
    Tab(
        "activities",
        _("Activities"),
        "activities",
        _("Tasks, calls, emails and meetings."),
        "activities",
    ),
    Tab("custom-objects", _("Custom objects"), "custom_objects", _("Sync custom objects.")),
    Tab(
        "connection", _("Connection"), "connection", _("Both connections and the integration user.")
    ),
)

TABS_BY_SLUG = {tab.slug: tab for tab in TABS}
OBJECT_TABS = {tab.object_name: tab for tab in TABS if tab.object_name}
