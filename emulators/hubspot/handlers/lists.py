"""Lists v3: list definitions, search and memberships (create answers 200, not 201)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ...core.http import Request, Response
from ..errors import hs_error, not_found, validation_error
from ..lists import HList
from ..listservice import ListError
from ..timeutil import iso
from .common import body_object, decode_cursor, encode_cursor, flag, int_arg, json_body, ok

if TYPE_CHECKING:
    from ..app import HubSpotApp

BASE = "/crm/v3/lists"


def list_error(error: ValueError):
    return hs_error(400, "VALIDATION_ERROR", str(error))


class ListHandlers:
    def __init__(self, app: HubSpotApp) -> None:
        self.app = app

    @property
    def lists(self):
        return self.app.crm.lists

    def register(self) -> None:
        add = self.app.route
        add("POST", BASE, self.create)
        add("GET", BASE, self.get_all)
        add("POST", BASE + "/search", self.search)
        add("GET", BASE + "/object-type-id/{objectTypeId}/name/{listName}", self.get_by_name)
        add("GET", BASE + "/records/{objectTypeId}/{recordId}/memberships", self.record_lists)
        add("GET", BASE + "/{listId}", self.get_by_id)
        add("DELETE", BASE + "/{listId}", self.delete)
        add("PUT", BASE + "/{listId}/restore", self.restore)
        add("PUT", BASE + "/{listId}/update-list-name", self.rename)
        add("PUT", BASE + "/{listId}/update-list-filters", self.update_filters)
        add("GET", BASE + "/{listId}/memberships", self.memberships)
        add("DELETE", BASE + "/{listId}/memberships", self.remove_all)
        add("GET", BASE + "/{listId}/memberships/join-order", self.memberships_join_order)
        add("PUT", BASE + "/{listId}/memberships/add", self.add)
        add("PUT", BASE + "/{listId}/memberships/remove", self.remove)
        add("PUT", BASE + "/{listId}/memberships/add-and-remove", self.add_and_remove)
        add("PUT", BASE + "/{listId}/memberships/add-from/{sourceListId}", self.add_from)

    def _list(self, list_id: str, *, include_deleted: bool = False) -> HList:
        lst = self.lists.get(list_id, include_deleted=include_deleted)
        if lst is None:
            raise not_found(f"List {list_id} does not exist", context={"listId": [list_id]})
        return lst

    def _user(self, request: Request) -> str | None:
        user = getattr(request, "hs_user", None)
        return str(user.user_id) if user else None

    # --- definitions --------------------------------------------------------------------
    def create(self, request: Request) -> Response:
        body = body_object(request)
        object_type = self.app.crm.object_type(str(body.get("objectTypeId") or ""))
        try:
            lst = self.lists.create(
                name=body.get("name"),
                object_type=object_type,
                processing_type=body.get("processingType"),
                filter_branch=body.get("filterBranch"),
                ts=self.app.now_ms(),
                created_by=self._user(request),
            )
        except ListError as error:
            raise list_error(error) from None
        except ValueError as error:  # unsupported filters
            raise list_error(error) from None
        return ok({"list": lst.public()})

    def get_by_id(self, request: Request) -> Response:
        lst = self._list(request.params["listId"])
        return ok({"list": lst.public(include_filters=flag(request, "includeFilters"))})

    def get_by_name(self, request: Request) -> Response:
        object_type = self.app.crm.object_type(request.params["objectTypeId"])
        lst = self.lists.by_name(request.params["listName"], object_type.id)
        if lst is None:
            raise not_found(f"List {request.params['listName']} does not exist")
        return ok({"list": lst.public(include_filters=flag(request, "includeFilters"))})

    def get_all(self, request: Request) -> Response:
        include = flag(request, "includeFilters")
        ids = request.args("listIds")
        found = (
            [self.lists.get(i) for i in ids]
            if ids
            else [lst for lst in self.app.state.lists.values() if lst.deleted_at is None]
        )
        return ok({"lists": [lst.public(include_filters=include) for lst in found if lst]})

    def search(self, request: Request) -> Response:
        body = body_object(request)
        query = str(body.get("query") or "").lower()
        offset, count = int(body.get("offset") or 0), int(body.get("count") or 20)
        if count > 500:
            raise validation_error("count must be at most 500")
        wanted_ids = {str(i) for i in body.get("listIds") or []}
        types = {str(t).upper() for t in body.get("processingTypes") or []}
        found = [
            lst
            for lst in self.app.state.lists.values()
            if lst.deleted_at is None
            and query in lst.name.lower()
            and (not wanted_ids or str(lst.id) in wanted_ids)
            and (not types or lst.processing_type in types)
        ]
        page = found[offset : offset + count]
        return ok(
            {
                "lists": [lst.search_result() for lst in page],
                "total": len(found),
                "offset": offset + len(page),
                "hasMore": offset + len(page) < len(found),
            }
        )

    def delete(self, request: Request) -> Response:
        self.lists.delete(self._list(request.params["listId"]), self.app.now_ms())
        return Response.empty(204)

    def restore(self, request: Request) -> Response:
        self.lists.undelete(self._list(request.params["listId"], include_deleted=True))
        return Response.empty(204)

    def rename(self, request: Request) -> Response:
        lst = self._list(request.params["listId"])
        name = request.arg("listName")
        if not name:
            raise validation_error("listName is required")
        try:
            self.lists.rename(lst, name, self.app.now_ms())
        except ListError as error:
            raise list_error(error) from None
        return ok({"updatedList": lst.public(include_filters=flag(request, "includeFilters"))})

    def update_filters(self, request: Request) -> Response:
        lst = self._list(request.params["listId"])
        if lst.processing_type == "MANUAL":
            raise validation_error("MANUAL lists have no filters")
        try:
            self.lists.update_filters(
                lst, body_object(request).get("filterBranch"), self.app.now_ms()
            )
        except ValueError as error:
            raise list_error(error) from None
        return ok({"updatedList": lst.public()})

    # --- memberships --------------------------------------------------------------------
    def _page(self, request: Request, members: list[tuple[int, int]]) -> Response:
        limit = int_arg(request, "limit", 100, low=1, high=250)
        offset = decode_cursor(request.arg("after"))
        page = members[offset : offset + limit]
        out: dict[str, Any] = {
            "results": [{"recordId": str(i), "membershipTimestamp": iso(ts)} for i, ts in page],
            "total": len(members),
        }
        if offset + limit < len(members):
            out["paging"] = {"next": {"after": encode_cursor(offset + limit)}}
        return ok(out)

    def memberships(self, request: Request) -> Response:
        lst = self._list(request.params["listId"])
        return self._page(request, sorted(lst.members.items()))

    def memberships_join_order(self, request: Request) -> Response:
        lst = self._list(request.params["listId"])
        return self._page(request, list(lst.members.items()))

    def add(self, request: Request) -> Response:
        lst = self._list(request.params["listId"])
        try:
            return ok(self.lists.add(lst, json_body(request), self.app.now_ms()))
        except ListError as error:
            raise list_error(error) from None

    def remove(self, request: Request) -> Response:
        lst = self._list(request.params["listId"])
        try:
            return ok(self.lists.remove(lst, json_body(request), self.app.now_ms()))
        except ListError as error:
            raise list_error(error) from None

    def add_and_remove(self, request: Request) -> Response:
        lst = self._list(request.params["listId"])
        body = body_object(request)
        ts = self.app.now_ms()
        try:
            removed = self.lists.remove(lst, body.get("recordIdsToRemove") or [], ts)
            added = self.lists.add(lst, body.get("recordIdsToAdd") or [], ts)
        except ListError as error:
            raise list_error(error) from None
        return ok(
            {
                "recordIdsRemoved": removed["recordIdsRemoved"],
                "recordsIdsAdded": added["recordsIdsAdded"],
                "recordIdsMissing": removed["recordIdsMissing"] + added["recordIdsMissing"],
            }
        )

    def add_from(self, request: Request) -> Response:
        lst = self._list(request.params["listId"])
        source = self._list(request.params["sourceListId"])
        try:
            self.lists.add(lst, [str(i) for i in source.members], self.app.now_ms())
        except ListError as error:
            raise list_error(error) from None
        return Response.empty(204)

    def remove_all(self, request: Request) -> Response:
        lst = self._list(request.params["listId"])
        try:
            self.lists.remove(lst, [str(i) for i in lst.members], self.app.now_ms())
        except ListError as error:
            raise list_error(error) from None
        return Response.empty(204)

    def record_lists(self, request: Request) -> Response:
        object_type = self.app.crm.object_type(request.params["objectTypeId"])
        try:
            record_id = self.app.state.resolve_alias(int(request.params["recordId"]))
        except ValueError:
            raise validation_error("recordId must be numeric") from None
        results = [
            {
                "listId": str(lst.id),
                "listVersion": lst.version,
                "firstAddedTimestamp": iso(lst.members[record_id]),
                "lastAddedTimestamp": iso(lst.members[record_id]),
            }
            for lst in self.app.state.lists.values()
            if lst.deleted_at is None
            and lst.object_type_id == object_type.id
            and record_id in lst.members
        ]
        return ok({"results": results, "total": len(results)})
