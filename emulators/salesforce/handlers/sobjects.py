"""``/sobjects``: describe, single-record CRUD, external-id get/upsert/delete, updated/deleted."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from ...core.http import Request, Response
from ..describe import describe_global, describe_object, global_entry
from ..errors import SfError, not_found
from ..render import record_json, record_url, resolve_fields
from ..values import format_datetime, parse_datetime

if TYPE_CHECKING:
    from ..app import SalesforceApp

MAX_REPLICATION_IDS = 600_000


def register(app: SalesforceApp) -> None:
    h = SObjects(app)
    app.api("GET", "sobjects", h.describe_global)
    app.api("GET", "sobjects/{sobject}", h.metadata)
    app.api("POST", "sobjects/{sobject}", h.create)
    app.api("GET", "sobjects/{sobject}/describe", h.describe)
    app.api("GET", "sobjects/{sobject}/updated", h.updated)
    app.api("GET", "sobjects/{sobject}/deleted", h.deleted)
    app.api("GET", "sobjects/{sobject}/{record_id}", h.get)
    app.api("PATCH", "sobjects/{sobject}/{record_id}", h.update)
    app.api("DELETE", "sobjects/{sobject}/{record_id}", h.delete)
    app.api("GET", "sobjects/{sobject}/{field}/{value}", h.get_by_external_id)
    app.api("PATCH", "sobjects/{sobject}/{field}/{value}", h.upsert)
    app.api("POST", "sobjects/{sobject}/{field}/{value}", h.upsert)
    app.api("DELETE", "sobjects/{sobject}/{field}/{value}", h.delete_by_external_id)


def _body(request: Request) -> Any:
    body = request.json()
    if body is None:
        raise SfError("JSON_PARSER_ERROR", "The request body is empty", None).api_error()
    return body


class SObjects:
    def __init__(self, app: SalesforceApp) -> None:
        self.app = app

    def _version(self, request: Request) -> str:
        return request.params["version"]

    # --- describe ------------------------------------------------------------------------
    def describe_global(self, request: Request) -> Response:
        return Response.json(
            200, describe_global(self.app, self._version(request), request.sf_user)
        )

    def describe(self, request: Request) -> Response:
        obj = self.app.sobject(request.params["sobject"])
        return Response.json(
            200, describe_object(self.app, obj, self._version(request), request.sf_user)
        )

    def metadata(self, request: Request) -> Response:
        obj = self.app.sobject(request.params["sobject"])
        version = self._version(request)
        table = self.app.org.store.table(obj.name)
        recent = []
        for rec in reversed(list(table.values())[-5:]):
            if rec.get("IsDeleted"):
                continue
            item = {
                "attributes": {"type": obj.name, "url": record_url(version, obj.name, rec["Id"])},
                "Id": rec["Id"],
            }
            if "Name" in obj.fields:
                item["Name"] = rec.get("Name")
            recent.append(item)
        return Response.json(
            200, {"objectDescribe": global_entry(obj, version), "recentItems": recent}
        )

    # --- single records ------------------------------------------------------------------
    def create(self, request: Request) -> Response:
        obj = self.app.sobject(request.params["sobject"])
        ctx = self.app.ctx(request)
        try:
            record_id = self.app.writer.create(obj, _body(request), ctx)
        except SfError as error:
            return error.response()
        return Response.json(
            201,
            {"id": record_id, "success": True, "errors": []},
            {"Location": record_url(ctx.version, obj.name, record_id)},
        )

    def get(self, request: Request) -> Response:
        obj = self.app.sobject(request.params["sobject"])
        ctx = self.app.ctx(request)
        try:
            fields = self._fields(request, obj)
            rec = self.app.writer.live(obj, request.params["record_id"], ctx)
        except SfError as error:
            return error.response()
        return Response.json(200, record_json(self.app, obj, rec, ctx.version, ctx.user_id, fields))

    def _fields(self, request: Request, obj: Any) -> Any:
        names = request.args("fields")
        if not names:
            return None
        return resolve_fields(self.app, obj, request.sf_user, names)

    def update(self, request: Request) -> Response:
        obj = self.app.sobject(request.params["sobject"])
        try:
            self.app.writer.update(
                obj, request.params["record_id"], _body(request), self.app.ctx(request)
            )
        except SfError as error:
            return error.response()
        return Response.empty(204)

    def delete(self, request: Request) -> Response:
        obj = self.app.sobject(request.params["sobject"])
        try:
            self.app.writer.delete(obj, request.params["record_id"], self.app.ctx(request))
        except SfError as error:
            return error.response()
        return Response.empty(204)

    # --- external ids --------------------------------------------------------------------
    def _matches(self, request: Request) -> tuple[Any, Any, list[str]]:
        obj = self.app.sobject(request.params["sobject"])
        ctx = self.app.ctx(request)
        f = self.app.writer.external_id_field(obj, request.params["field"], ctx)
        matches = self.app.writer.find_by_external_id(obj, f, request.params["value"])
        return obj, ctx, matches

    def _multiple(self, obj: Any, version: str, matches: list[str]) -> Response:
        return Response.json(300, [record_url(version, obj.name, i) for i in matches])

    def get_by_external_id(self, request: Request) -> Response:
        try:
            obj, ctx, matches = self._matches(request)
            fields = self._fields(request, obj)
        except SfError as error:
            return error.response()
        if len(matches) > 1:
            return self._multiple(obj, ctx.version, matches)
        if not matches:
            return not_found().response()
        rec = self.app.org.store.get(obj.name, matches[0])
        return Response.json(200, record_json(self.app, obj, rec, ctx.version, ctx.user_id, fields))

    def upsert(self, request: Request) -> Response:
        obj = self.app.sobject(request.params["sobject"])
        ctx = self.app.ctx(request)
        update_only = (request.arg("updateOnly") or "").lower() == "true"
        try:
            record_id, created = self.app.writer.upsert(
                obj,
                request.params["field"],
                request.params["value"],
                _body(request),
                ctx,
                update_only=update_only,
            )
        except SfError as error:
            if error.status == 300:
                return self._multiple(obj, ctx.version, error.extra["matches"])
            return error.response()
        if not created and _version_tuple(ctx.version) < (46, 0):
            return Response.empty(204)
        body = {"id": record_id, "success": True, "errors": [], "created": created}
        return Response.json(201 if created else 200, body)

    def delete_by_external_id(self, request: Request) -> Response:
        try:
            obj, ctx, matches = self._matches(request)
        except SfError as error:
            return error.response()
        if len(matches) > 1:
            return self._multiple(obj, ctx.version, matches)
        if not matches:
            return not_found().response()
        try:
            self.app.writer.delete(obj, matches[0], ctx)
        except SfError as error:
            return error.response()
        return Response.empty(204)

    # --- replication ---------------------------------------------------------------------
    def _window(self, request: Request) -> tuple[datetime, datetime, datetime]:
        now = self.app.clock.now()
        bounds = []
        for name in ("start", "end"):
            raw = request.arg(name)
            if not raw:
                raise SfError("MISSING_ARGUMENT", f"{name} is required", None).api_error()
            parsed = parse_datetime(raw.replace(" ", "+"))
            if parsed is None:
                raise SfError(
                    "INVALID_REPLICATION_DATE", f"Could not parse the {name} date: {raw}", None
                ).api_error()
            bounds.append(parsed.replace(second=0, microsecond=0))  # minute granularity
        start, end = bounds
        if start < now - timedelta(days=30):
            raise SfError(
                "INVALID_REPLICATION_DATE", "startDate cannot be more than 30 days ago", None
            ).api_error()
        if end <= start:
            raise SfError(
                "INVALID_REPLICATION_DATE",
                "EndDate must chronologically follow the StartDate",
                None,
            ).api_error()
        latest = min(end, now.replace(second=0, microsecond=0))
        opened = self._open_transaction_start()
        if opened is not None:
            latest = min(latest, opened.replace(second=0, microsecond=0))
        return start, end, latest

    def _open_transaction_start(self) -> datetime | None:
        """When the oldest write still uncommitted (a late commit) began: Salesforce covers
        replication only up to a long-running transaction's start until it completes, so a
        caller starting its next call there misses none of its changes."""
        opened = []
        for obj_name in list(self.app.org.store.pending):
            for record_id in self.app.settle_pending(obj_name) or ():
                rec = self.app.org.store.get(obj_name, record_id)
                stamp = parse_datetime(rec["SystemModstamp"]) if rec else None
                if stamp is not None:
                    opened.append(stamp)
        return min(opened, default=None)

    def updated(self, request: Request) -> Response:
        obj = self.app.sobject(request.params["sobject"])
        start, end, latest = self._window(request)
        lo, hi = format_datetime(start), format_datetime(min(end, latest))
        ids = [
            rec["Id"]
            for rec in self._visible_records(obj.name)
            if not rec.get("IsDeleted") and lo <= rec["SystemModstamp"] < hi
        ]
        if len(ids) > MAX_REPLICATION_IDS:
            raise SfError("EXCEEDED_ID_LIMIT", "too many ids", None).api_error()
        return Response.json(200, {"ids": ids, "latestDateCovered": format_datetime(latest)})

    def deleted(self, request: Request) -> Response:
        obj = self.app.sobject(request.params["sobject"])
        start, end, latest = self._window(request)
        lo, hi = format_datetime(start), format_datetime(min(end, latest))
        found = []
        earliest = None
        for rec in self._visible_records(obj.name):
            when = rec.get("_deleted_at")
            if not rec.get("IsDeleted") or when is None:
                continue
            earliest = when if earliest is None or when < earliest else earliest
            if lo <= when < hi:
                found.append({"deletedDate": when, "id": rec["Id"]})
        found.sort(key=lambda d: (d["deletedDate"], d["id"]))
        if len(found) > MAX_REPLICATION_IDS:
            raise SfError("EXCEEDED_ID_LIMIT", "too many ids", None).api_error()
        return Response.json(
            200,
            {
                "deletedRecords": found,
                "earliestDateAvailable": earliest[:17] + "00.000+0000"
                if earliest
                else format_datetime(latest),
                "latestDateCovered": format_datetime(latest),
            },
        )

    def _visible_records(self, obj_name: str) -> list[dict]:
        visible = self.app.visible_version
        return [
            r
            for r in (visible(obj_name, rec) for rec in self.app.org.store.table(obj_name).values())
            if r is not None
        ]


def _version_tuple(version: str) -> tuple[int, int]:
    major, _, minor = version.partition(".")
    return int(major), int(minor or 0)
