"""The legacy Engagements API's change feed: ``GET /engagements/v1/engagements/modified/after``.

HubSpot documents it for incremental sync: every engagement type (calls, emails, meetings,
notes, tasks) modified after a point in time, in one paged read, where the v3 objects API needs
one search per type. Parameters: ``after`` (a Unix time in milliseconds, or the cursor a
previous answer gave) and ``limit`` (default 100, at most 1,000). The answer is
``{"results": [...], "hasMore": bool, "after": cursor}``, each result in the v1 shape
(``engagement``, ``associations``, ``attachments``, ``metadata``). It needs the contacts read
scope. HubSpot warns that recent changes may show late (indexing): the emulator applies its
search lag here too. HubSpot doesn't promise an order; the emulator answers by modification
time, then id, which its cursor follows.
"""

from __future__ import annotations

import base64
from typing import TYPE_CHECKING

from ...core.http import ApiError, Request, Response
from ..errors import missing_scopes_response, validation_error
from ..schema import ENGAGEMENTS
from ..timeutil import parse_ms
from .common import int_arg, ok

if TYPE_CHECKING:
    from ..app import HubSpotApp
    from ..store import Record

PATH = "/engagements/v1/engagements/modified/after"
DEFAULT_LIMIT, MAX_LIMIT = 100, 1000
V1_TYPES = {
    "calls": "CALL",
    "emails": "EMAIL",
    "meetings": "MEETING",
    "notes": "NOTE",
    "tasks": "TASK",
}
# v1 metadata keys filled from v3 properties, per type.
METADATA = {
    "calls": {"title": "hs_call_title", "body": "hs_call_body", "status": "hs_call_status"},
    "emails": {"subject": "hs_email_subject", "text": "hs_email_text", "html": "hs_email_html"},
    "meetings": {"title": "hs_meeting_title", "body": "hs_meeting_body"},
    "notes": {"body": "hs_note_body"},
    "tasks": {"subject": "hs_task_subject", "body": "hs_task_body", "status": "hs_task_status"},
}
ASSOCIATED = {"0-1": "contactIds", "0-2": "companyIds", "0-3": "dealIds", "0-5": "ticketIds"}


def _cursor(updated: int, record_id: int) -> str:
    text = f"{updated}:{record_id}".encode()
    return "c" + base64.urlsafe_b64encode(text).decode().rstrip("=")


def _position(after: str) -> tuple[int, int]:
    """``after`` as the key (modified ms, id) the answer starts past."""
    if after.isdigit():
        return int(after), 2**63
    try:
        padded = after[1:] + "=" * (-len(after[1:]) % 4)
        updated, record_id = base64.urlsafe_b64decode(padded.encode()).decode().split(":")
        return int(updated), int(record_id)
    except (ValueError, UnicodeDecodeError):
        raise validation_error(f"Invalid value for after: {after}") from None


class EngagementHandlers:
    def __init__(self, app: HubSpotApp) -> None:
        self.app = app

    def register(self) -> None:
        self.app.route("GET", PATH, self.modified_after)

    def modified_after(self, request: Request) -> Response:
        user = getattr(request, "hs_user", None)
        if user is not None and "crm.objects.contacts.read" not in user.scopes:
            raise ApiError(missing_scopes_response(["crm.objects.contacts.read"]))
        after = request.arg("after")
        if not after:
            raise validation_error("after is required: a Unix time in milliseconds or a cursor")
        start = _position(after)
        limit = int_arg(request, "limit", DEFAULT_LIMIT, low=1, high=MAX_LIMIT)
        crm, settings = self.app.crm, self.app.state.settings
        lag = settings.search_lag_ms
        cutoff = self.app.now_ms() - lag if lag > 0 else None
        found: list[tuple[int, int, str, Record]] = []
        for name in sorted(ENGAGEMENTS):
            store = crm.state.stores.get(crm.object_type(name).id)
            for record in store.modified_between(start[0], None) if store else ():
                key = (record.updated, record.id)
                if record.archived or key <= start:
                    continue
                if cutoff is not None and record.updated > cutoff:
                    continue
                found.append((*key, name, record))
        found.sort(key=lambda item: item[:2])
        page, more = found[:limit], len(found) > limit
        body = {"results": [self._v1(name, record) for *_, name, record in page], "hasMore": more}
        if more:
            body["after"] = _cursor(page[-1][0], page[-1][1])
        return ok(body)

    def _v1(self, name: str, record: Record) -> dict:
        props = record.props
        owner = props.get("hubspot_owner_id")
        engagement = {
            "id": record.id,
            "portalId": self.app.state.portal_id,
            "active": True,
            "createdAt": record.created,
            "lastUpdated": record.updated,
            "type": V1_TYPES[name],
            "timestamp": _ms(props.get("hs_timestamp")) or record.created,
        }
        if owner and owner.isdigit():
            engagement["ownerId"] = int(owner)
        associations = {key: [] for key in ASSOCIATED.values()}
        associations.update(ownerIds=[], workflowIds=[])
        links = self.app.state.associations.all_links(record.type_id, record.id)
        for type_id, key in ASSOCIATED.items():
            associations[key] = sorted(links.get(type_id, {}))
        metadata = {k: props[p] for k, p in METADATA[name].items() if props.get(p) is not None}
        return {
            "engagement": engagement,
            "associations": associations,
            "attachments": [],
            "metadata": metadata,
        }


def _ms(value: str | None) -> int | None:
    """A v3 datetime property (ISO text or milliseconds) as milliseconds."""
    return parse_ms(value) if value else None
