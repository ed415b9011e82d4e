"""Links to a record in both systems."""

from __future__ import annotations

import re
from urllib.parse import quote, urlsplit

from sync_engine.models import SyncObject
from sync_engine.services import HUBSPOT_OBJECT_TYPE_IDS as HUBSPOT_OBJECTS_BY_ID
from sync_engine.services import LOOPBACK_HOSTS

# HubSpot's object type ids in record URLs, by object name.
HUBSPOT_OBJECT_TYPE_IDS = {name: type_id for type_id, name in HUBSPOT_OBJECTS_BY_ID.items()}
# The activities pair's records are engagements of these types, named "calls:123".
HUBSPOT_ENGAGEMENT_TYPE_IDS = {
    "calls": "0-48",
    "emails": "0-49",
    "meetings": "0-47",
    "notes": "0-46",
    "tasks": "0-27",
}
HUBSPOT_APP_URL = "https://app.hubspot.com"


def hubspot_app_url(connection) -> str:
    """Where HubSpot's pages live: app.hubspot.com, unless the API is on this machine (the
    emulator, in the demo and tests), which serves the same addresses itself. A proxy in
    front of HubSpot's API (``HUBSPOT_API_URL``) serves no pages: app.hubspot.com."""
    base_url = (connection.base_url or "").rstrip("/")
    parts = urlsplit(base_url)
    if parts.hostname in LOOPBACK_HOSTS and parts.scheme in ("http", "https"):
        return base_url
    return HUBSPOT_APP_URL


def _account_url(connection) -> str:
    return f"{hubspot_app_url(connection)}/contacts/{quote(connection.portal_id, safe='')}"


def salesforce_record_url(connection, sobject: str, record_id: str) -> str:
    """``{instance}/lightning/r/{Type}/{Id}/view``; "" when something is missing."""
    if not connection or not sobject or not record_id:
        return ""
    return (
        f"{connection.instance_url.rstrip('/')}/lightning/r/"
        f"{quote(sobject, safe='')}/{quote(record_id, safe='')}/view"
    )


def hubspot_record_url(connection, object_name: str, record_id: str, record_key: str = "") -> str:
    """``{app}/contacts/{portal}/record/{type}/{id}``; "" when unknown.
    ``object_name`` is a standard object ("contacts"), a custom one's type id ("2-1000001") or
    "activities", whose ``record_id`` names the engagement's type as its link does
    ("calls:123"); an error from HubSpot keeps the bare id, its ``record_key`` the type
    ("hubspot:calls:123")."""
    if object_name == SyncObject.ACTIVITIES:
        type_id, record_id = _engagement(record_id, record_key)
    else:
        type_id = HUBSPOT_OBJECT_TYPE_IDS.get(object_name)
    if type_id is None and re.fullmatch(r"2-\d+", object_name or ""):
        type_id = object_name
    if not connection or not connection.portal_id or not type_id or not record_id:
        return ""
    return f"{_account_url(connection)}/record/{type_id}/{quote(record_id, safe='')}"


def _engagement(record_id: str, record_key: str) -> tuple[str | None, str]:
    """An engagement's HubSpot type id and bare id, from "calls:123", or from "123" and the
    error's key "hubspot:calls:123"."""
    if ":" not in (record_id or "") and record_key.startswith("hubspot:"):
        record_id = record_key.partition(":")[2]
    kind, _, engagement_id = (record_id or "").rpartition(":")
    return HUBSPOT_ENGAGEMENT_TYPE_IDS.get(kind), engagement_id


def hubspot_create_list_url(connection) -> str:
    """HubSpot's lists tool, where "+ Create inclusion list" sends people; "" when the account
    id isn't known (then no list can be created from here)."""
    if not connection or not connection.portal_id:
        return ""
    return f"{_account_url(connection)}/objectLists/create"


def hubspot_list_url(connection, list_id: str) -> str:
    """``{app}/contacts/{portal}/objectLists/{listId}``: a list (a *view*
    made from the Sync health tab); "" when the account id isn't known."""
    if not connection or not connection.portal_id or not list_id:
        return ""
    return f"{_account_url(connection)}/objectLists/{quote(str(list_id), safe='')}"
