"""``GET /lightning/r/{Type}/{Id}/view``: a record as a person opens it from the dashboard's
"open in Salesforce" link. Read-only and without a token (a browser has none), so it is
served outside the API pipeline: no session, no ``DailyApiRequests``, no ledger entry."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..core import pages
from ..core.http import Request, Response
from .ids import normalize

if TYPE_CHECKING:
    from .app import SalesforceApp


def register(app: SalesforceApp) -> None:
    app.pages.add("GET", "/lightning/r/{sobject}/{record_id}/view", lambda r: record_page(app, r))


def _live(app: SalesforceApp, record_id: Any) -> tuple[Any, dict] | None:
    norm = normalize(record_id)
    found = app.find_record(norm) if norm else None
    if found is None or found[1].get("IsDeleted"):
        return None
    return found


def record_page(app: SalesforceApp, request: Request) -> Response:
    obj = app.schema.get(request.params["sobject"])
    found = _live(app, request.params["record_id"])
    if obj is None or found is None or found[0].name != obj.name:
        return pages.not_found("There is no such record: it never existed or was deleted.")
    rec = found[1]
    rows = [
        (f.label, _cell(app, f.reference_to, value))
        for f in app.visible_fields(obj, app.org.ui_user_id).values()
        if (value := rec.get(f.name)) is not None and value != ""
    ]
    name = rec.get("Name")
    heading = f"{obj.label}: {name}" if name else obj.label
    return pages.page(200, heading, pages.table(rows), note=rec["Id"])


def _cell(app: SalesforceApp, reference_to: Any, value: Any) -> pages.Cell:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):  # a compound address
        return ", ".join(str(v) for v in value.values() if v not in (None, ""))
    if reference_to and isinstance(value, str):
        target = _live(app, value)
        if target is not None:  # a lookup: leads to the record it points at
            target_obj, target_rec = target
            text = f"{target_rec['Name']} ({value})" if target_rec.get("Name") else value
            return text, f"/lightning/r/{target_obj.name}/{target_rec['Id']}/view"
    return str(value)
