"""The app.hubspot.com addresses the dashboard links to, as small read-only pages: a record
(``/contacts/{portal}/record/{typeId}/{id}``), a list (``…/objectLists/{listId}``) and where
lists are made (``…/objectLists/create``). A browser has no token, so they are served outside
the API pipeline: no auth, no rate limits, no ledger entry. The emulator is one account, so
any portal id in the address is accepted."""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import quote

from ..core import pages
from ..core.http import Request, Response
from .schema import ObjectType
from .store import Record

if TYPE_CHECKING:
    from .app import HubSpotApp

MAX_MEMBERS = 1000  # a list page shows this many members at most
_NAME_PROPS = (
    "name",
    "dealname",
    "subject",
    "hs_call_title",
    "hs_meeting_title",
    "hs_task_subject",
    "hs_email_subject",
)


def register(app: HubSpotApp) -> None:
    add = app.pages.add
    add("GET", "/contacts/{portal}/objectLists/create", lambda r: create_list_page(r))
    add("GET", "/contacts/{portal}/objectLists/{list_id}", lambda r: list_page(app, r))
    add("GET", "/contacts/{portal}/record/{type_id}/{record_id}", lambda r: record_page(app, r))


def record_page(app: HubSpotApp, request: Request) -> Response:
    object_type = app.state.registry.resolve(request.params["type_id"])
    record = app.crm.find(object_type, request.params["record_id"]) if object_type else None
    if object_type is None or record is None:
        return pages.not_found("There is no such record: it never existed or was deleted.")
    values = [
        (prop.label, record.props[name])
        for name, prop in object_type.properties.items()
        if record.props.get(name)
    ]
    values += [(n, v) for n, v in record.props.items() if v and n not in object_type.properties]
    associated = []
    links = app.state.associations.all_links(object_type.id, record.id)
    for to_type_id, targets in sorted(links.items()):
        to_type = app.state.registry.types.get(to_type_id)
        if to_type is None:
            continue
        for to_id in sorted(targets):
            target = app.crm.find(to_type, str(to_id))
            if target is not None:
                associated.append((_plural(to_type), _link(request, to_type, target)))
    name = display_name(object_type, record)
    heading = f"{_singular(object_type)}: {name}" if name else _singular(object_type)
    return pages.page(
        200,
        heading,
        pages.table(values),
        pages.section("Associations", pages.table(associated)),
        note=str(record.id),
    )


def list_page(app: HubSpotApp, request: Request) -> Response:
    key = request.params["list_id"]
    hlist = app.state.lists.get(int(key)) if key.isdigit() else None
    object_type = app.state.registry.types.get(hlist.object_type_id) if hlist else None
    if hlist is None or hlist.deleted_at is not None or object_type is None:
        return pages.not_found("There is no such list: it never existed or was deleted.")
    members = []
    for record_id in list(hlist.members)[:MAX_MEMBERS]:
        record = app.crm.find(object_type, str(record_id))
        if record is not None:
            shown = record.props.get("email") or display_name(object_type, record)
            members.append((_link(request, object_type, record, str(record.id)), shown))
    more = len(hlist.members) - MAX_MEMBERS
    details = [
        ("Object", _plural(object_type)),
        ("Type", "Active" if hlist.processing_type == "DYNAMIC" else "Static"),
        ("Size", str(len(hlist.members))),
    ]
    return pages.page(
        200,
        f"List: {hlist.name}",
        pages.table(details),
        pages.section("Members", pages.table(members)),
        pages.paragraph(f"… and {more} more.") if more > 0 else "",
        note=str(hlist.id),
    )


def create_list_page(request: Request) -> Response:
    return pages.page(
        200,
        "Create a list",
        pages.paragraph(
            "This is the HubSpot emulator: lists are made through its control plane "
            "(POST /__emulator__/actions/create_list) or the Lists API (POST /crm/v3/lists), "
            "as its README describes. Back in the integration, refresh the list picker."
        ),
    )


def display_name(object_type: ObjectType, record: Record) -> str:
    props = record.props
    if object_type.name == "contacts":
        full = " ".join(p for p in (props.get("firstname"), props.get("lastname")) if p)
        return full or props.get("email") or ""
    primary = (object_type.schema or {}).get("primaryDisplayProperty")
    return next((props[k] for k in (primary, *_NAME_PROPS) if k and props.get(k)), "")


def _link(request: Request, object_type: ObjectType, record: Record, text: str = "") -> pages.Cell:
    portal = quote(request.params["portal"], safe="")
    href = f"/contacts/{portal}/record/{object_type.id}/{record.id}"
    name = display_name(object_type, record)
    return (text or (f"{name} ({record.id})" if name else str(record.id))), href


def _singular(object_type: ObjectType) -> str:
    labels = (object_type.schema or {}).get("labels") or {}
    return labels.get("singular") or object_type.singular.capitalize()


def _plural(object_type: ObjectType) -> str:
    labels = (object_type.schema or {}).get("labels") or {}
    return labels.get("plural") or object_type.name.capitalize()
