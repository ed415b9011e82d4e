"""``CaseStatus`` rows: the org's ``Case.Status`` values and whether each one closes a case.

The rows are the one source of status semantics: a Case's derived ``IsClosed``/``ClosedDate``,
the ``Status`` picklist in the Case describe and the ``set_case_status`` admin action all read
or write them. A new org gets the standard value set from the schema data (``Closed`` is its
one closed status); the API can only read them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .app import SalesforceApp

OBJECT = "CaseStatus"


def ensure_rows(app: SalesforceApp) -> None:
    """Give an org without status rows (new, or saved before they existed) the standard set."""
    if app.org.store.table(OBJECT):
        return
    obj = app.schema.objects[OBJECT]
    values = app.schema.picklist_semantics.get("Case.Status", {}).get("values", [])
    for n, status in enumerate(values, start=1):
        app.writer.insert_raw(
            obj,
            {
                "ApiName": status["value"],
                "MasterLabel": status.get("label") or status["value"],
                "SortOrder": status.get("sortOrder") or n,
                "IsClosed": bool(status.get("isClosed")),
                "IsDefault": bool(status.get("isDefault")),
            },
            app.org.ui_user_id,
        )


def rows(app: SalesforceApp) -> list[dict[str, Any]]:
    """Every status row, in picklist order."""
    table = app.org.store.table(OBJECT).values()
    return sorted(table, key=lambda r: (r.get("SortOrder") or 0, r["ApiName"]))


def by_name(app: SalesforceApp) -> dict[str, dict[str, Any]]:
    return {r["ApiName"]: r for r in app.org.store.table(OBJECT).values()}


def picklist_values(app: SalesforceApp) -> list[dict[str, Any]]:
    """``Case.Status``'s ``picklistValues`` as the describe shows them."""
    return [
        {
            "active": True,
            "defaultValue": bool(r.get("IsDefault")),
            "label": r.get("MasterLabel") or r["ApiName"],
            "validFor": None,
            "value": r["ApiName"],
        }
        for r in rows(app)
    ]


def set_status(
    app: SalesforceApp,
    value: str,
    *,
    label: str | None = None,
    closed: bool | None = None,
    default: bool | None = None,
) -> str:
    """Add a status (appended; open unless ``closed``) or change one (label, closed, default),
    as an admin does in Setup; returns its row id. The Case describe's ``Status`` picklist
    follows; cases already in that status keep ``IsClosed`` until their status is set again."""
    if not isinstance(value, str) or not value.strip() or len(value) > 255:
        raise ValueError("value must be a status name of 1 to 255 characters")
    existing = by_name(app).get(value)
    changes: dict[str, Any] = {}
    if closed is not None:
        changes["IsClosed"] = bool(closed)
    if label is not None:
        changes["MasterLabel"] = label
    if default is not None:
        changes["IsDefault"] = bool(default)
    store = app.org.store
    if default:  # one default value
        for row in by_name(app).values():
            if row["ApiName"] != value and row.get("IsDefault"):
                store.update(OBJECT, row["Id"], {"IsDefault": False})
    user = app.org.ui_user_id
    if existing is None:
        orders = [r.get("SortOrder") or 0 for r in by_name(app).values()]
        changes.setdefault("IsClosed", False)
        changes.setdefault("IsDefault", False)
        changes.update(
            ApiName=value,
            MasterLabel=label or value,
            SortOrder=max(orders, default=0) + 1,  # Setup appends new values
        )
        return app.writer.insert_raw(app.schema.objects[OBJECT], changes, user)
    now = app.now_stamp()
    changes.update(LastModifiedDate=now, LastModifiedById=user, SystemModstamp=now)
    store.update(OBJECT, existing["Id"], changes)
    return existing["Id"]
