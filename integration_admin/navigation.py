"""The dashboard's tabs, in HubSpot's order. A tab whose view isn't built yet shows a notice."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Tab:
    slug: str
    label: str
    url_name: str
    built: bool = False
    summary: str = ""


TABS: tuple[Tab, ...] = (
    Tab("sync-health", "Sync health", "sync_health", summary="API call use and sync-error cards."),
    Tab("discover", "Discover features", "discover", summary="What else the integration can do."),
    Tab("contacts", "Contacts", "contacts", summary="Contact sync rules and property mappings."),
    Tab("companies", "Companies", "companies", summary="Company sync and property mappings."),
    Tab("deals", "Deals", "deals", summary="Deal sync, pipelines and property mappings."),
    Tab("tickets", "Tickets", "tickets", summary="Ticket ⇄ Case sync."),
    Tab("activities", "Activities", "activities", summary="Tasks, calls, emails and meetings."),
    Tab("custom-objects", "Custom objects", "custom_objects", summary="Sync custom objects."),
    Tab("connection", "Connection", "home", built=True, summary="Both connections and API use."),
)

TABS_BY_SLUG = {tab.slug: tab for tab in TABS}
