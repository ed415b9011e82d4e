"""sObject Collections (``composite/sobjects``): up to 200 records per call, one API call.

The answer is HTTP 200 with one result per record; errors use ``statusCode``. With
``allOrNone`` every write of the call is rolled back when any record fails, and the records
that were fine report ALL_OR_NONE_OPERATION_ROLLED_BACK.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ...core.http import Request, Response
from ..dml import Ctx
from ..errors import ROLLED_BACK, SfError, malformed_id
from ..ids import normalize
from ..render import record_json, resolve_fields
from ..schema import FieldDef

if TYPE_CHECKING:
    from ..app import SalesforceApp

MAX_RECORDS = 200
MAX_RETRIEVE = 2000
MAX_TYPE_CHUNKS = 10


def register(app: SalesforceApp) -> None:
    h = Collections(app)
    app.api("POST", "composite/sobjects", h.create)
    app.api("PATCH", "composite/sobjects", h.update)
    app.api("DELETE", "composite/sobjects", h.delete)
    app.api("GET", "composite/sobjects/{sobject}", h.retrieve)
    app.api("POST", "composite/sobjects/{sobject}", h.retrieve)
    app.api("PATCH", "composite/sobjects/{sobject}/{field}", h.upsert)


def _limit_error() -> Response:
    return SfError(
        "EXCEEDED_ID_LIMIT",
        f"record limit reached. cannot submit more than {MAX_RECORDS} records into this call",
        None,
    ).response()


def external_id_key(ext: FieldDef, value: Any) -> str:
    text = str(value)
    return text if ext.case_sensitive else text.lower()


def repeated_external_ids(records: list[Any], ext: FieldDef) -> set[str]:
    """External-id values more than one record of one upsert call carries: Salesforce fails
    every one of those records rather than picking one to create and the others to update."""
    seen: set[str] = set()
    repeated: set[str] = set()
    for record in records:
        if not isinstance(record, dict):
            continue
        value = next((v for k, v in record.items() if k.lower() == ext.lower), None)
        if value is None or value == "":
            continue
        key = external_id_key(ext, value)
        (repeated if key in seen else seen).add(key)
    return repeated


def duplicate_external_id(ext: FieldDef, value: Any) -> SfError:
    return SfError("DUPLICATE_VALUE", f"Duplicate external id specified: {value}", [ext.name])


def _as_bool(value: Any) -> bool:
    return value is True or (isinstance(value, str) and value.lower() == "true")


class Collections:
    def __init__(self, app: SalesforceApp) -> None:
        self.app = app

    def _records(self, request: Request) -> tuple[list[Any], bool] | Response:
        body = request.json()
        if not isinstance(body, dict) or not isinstance(body.get("records"), list):
            return SfError(
                "JSON_PARSER_ERROR", "Expected an object with a records array", None
            ).response()
        records = body["records"]
        if len(records) > MAX_RECORDS:
            return _limit_error()
        types = [
            ((r.get("attributes") or {}).get("type") if isinstance(r, dict) else None)
            for r in records
        ]
        chunks = sum(1 for i, t in enumerate(types) if i == 0 or t != types[i - 1])
        if chunks > MAX_TYPE_CHUNKS:
            return SfError(
                "INVALID_BATCH_REQUEST",
                "A request can't contain more than 10 chunks of sObject types",
                None,
            ).response()
        forced = getattr(request, "sf_all_or_none", False)  # set by an all-or-none composite
        return records, forced or _as_bool(body.get("allOrNone"))

    def _run(
        self,
        request: Request,
        records: list[Any],
        all_or_none: bool,
        op: Callable[[Any, Ctx], dict[str, Any]],
        id_of: Callable[[Any], Any] | None = None,
    ) -> Response:
        """Apply ``op`` per record; ``id_of`` names the record in failures (update/delete)."""
        ctx = self.app.ctx(request, collection=True)
        results: list[dict[str, Any]] = []
        failed = False
        with self.app.org.store.transaction() as tx:
            for record in records:
                try:
                    results.append(op(record, ctx))
                except SfError as error:
                    failed = True
                    result: dict[str, Any] = {"success": False, "errors": [error.record_item()]}
                    if id_of is not None:
                        result = {"id": id_of(record), **result}
                    results.append(result)
            if failed and all_or_none:
                tx.rollback()
                rolled_back = {
                    "statusCode": "ALL_OR_NONE_OPERATION_ROLLED_BACK",
                    "message": ROLLED_BACK,
                    "fields": [],
                }
                results = [
                    r
                    if not r["success"]
                    else {
                        **({"id": id_of(rec)} if id_of is not None else {}),
                        "success": False,
                        "errors": [dict(rolled_back)],
                    }
                    for r, rec in zip(results, records, strict=True)
                ]
        return Response.json(200, results)

    def _type_of(self, record: Any) -> Any:
        if not isinstance(record, dict):
            raise SfError("JSON_PARSER_ERROR", "Each record must be a JSON object", [])
        type_name = (record.get("attributes") or {}).get("type")
        if not type_name:
            raise SfError("INVALID_TYPE", "Must specify a type in attributes", [])
        obj = self.app.schema.get(str(type_name))
        if obj is None:
            raise SfError("INVALID_TYPE", f"sObject type '{type_name}' is not supported.", [])
        return obj

    def create(self, request: Request) -> Response:
        parsed = self._records(request)
        if isinstance(parsed, Response):
            return parsed

        def op(record: Any, ctx: Ctx) -> dict[str, Any]:
            obj = self._type_of(record)
            if any(k.lower() == "id" for k in record):
                raise SfError(
                    "INVALID_FIELD", "The Id field should not be specified in the sobject data.", []
                )
            return {"id": self.app.writer.create(obj, record, ctx), "success": True, "errors": []}

        return self._run(request, parsed[0], parsed[1], op)

    def update(self, request: Request) -> Response:
        parsed = self._records(request)
        if isinstance(parsed, Response):
            return parsed

        def op(record: Any, ctx: Ctx) -> dict[str, Any]:
            obj = self._type_of(record)
            record_id = next((v for k, v in record.items() if k.lower() == "id"), None)
            if not record_id:
                raise SfError("MISSING_ARGUMENT", "Id not specified in an update call", [])
            body = {k: v for k, v in record.items() if k.lower() != "id"}
            updated = self.app.writer.update(obj, record_id, body, ctx)
            return {"id": updated, "success": True, "errors": []}

        def id_of(record: Any) -> Any:
            if not isinstance(record, dict):
                return None
            return next((v for k, v in record.items() if k.lower() == "id"), None)

        return self._run(request, parsed[0], parsed[1], op, id_of)

    def upsert(self, request: Request) -> Response:
        parsed = self._records(request)
        if isinstance(parsed, Response):
            return parsed
        obj = self.app.sobject(request.params["sobject"])
        field_name = request.params["field"]
        try:
            ext = self.app.writer.external_id_field(obj, field_name, self.app.ctx(request))
        except SfError as error:
            return SfError(error.code, error.message, None, 400).response()

        repeated = repeated_external_ids(parsed[0], ext)

        def op(record: Any, ctx: Ctx) -> dict[str, Any]:
            record_obj = self._type_of(record)
            if record_obj is not obj:
                raise SfError(
                    "INVALID_TYPE",
                    f"The record type {record_obj.name} does not match {obj.name}",
                    [],
                )
            value = next((v for k, v in record.items() if k.lower() == ext.lower), None)
            if value is None or value == "":
                raise SfError("MISSING_ARGUMENT", f"{ext.name} not specified", [ext.name])
            if external_id_key(ext, value) in repeated:
                raise duplicate_external_id(ext, value)
            try:
                record_id, created = self.app.writer.upsert(obj, ext.name, value, record, ctx)
            except SfError as error:
                if error.status == 300:
                    error.status = 400
                raise
            return {"id": record_id, "success": True, "errors": [], "created": created}

        return self._run(request, parsed[0], parsed[1], op)

    def delete(self, request: Request) -> Response:
        ids = request.args("ids")
        if not ids:
            return SfError("MISSING_ARGUMENT", "ids parameter is required", None).response()
        if len(ids) > MAX_RECORDS:
            return _limit_error()
        all_or_none = _as_bool(request.arg("allOrNone", "false"))

        def op(record_id: str, ctx: Ctx) -> dict[str, Any]:
            norm = normalize(record_id)
            if norm is None:
                raise malformed_id(record_id)
            obj = self.app.schema.for_id(norm)
            if obj is None:
                raise malformed_id(record_id)
            deleted = self.app.writer.delete(obj, norm, ctx)
            return {"id": deleted, "success": True, "errors": []}

        return self._run(request, ids, all_or_none, op, id_of=lambda record_id: record_id)

    def retrieve(self, request: Request) -> Response:
        obj = self.app.sobject(request.params["sobject"])
        if request.method == "POST":
            body = request.json() or {}
            ids = body.get("ids") or []
            names = body.get("fields") or []
        else:
            ids = request.args("ids")
            names = request.args("fields")
        if not names:
            return SfError("MISSING_ARGUMENT", "fields parameter is required", None).response()
        if not ids:
            return SfError("MISSING_ARGUMENT", "ids parameter is required", None).response()
        if len(ids) > MAX_RETRIEVE:
            return SfError(
                "EXCEEDED_ID_LIMIT", f"cannot retrieve more than {MAX_RETRIEVE} ids", None
            ).response()
        try:
            fields = resolve_fields(self.app, obj, request.sf_user, list(names))
        except SfError as error:
            return error.response()
        version = request.params["version"]
        out: list[Any] = []
        for raw_id in ids:
            norm = normalize(raw_id)
            rec = self.app.org.store.get(obj.name, norm) if norm else None
            if rec is not None:
                rec = self.app.visible_version(obj.name, rec)
            if rec is None or rec.get("IsDeleted"):
                out.append(None)
            else:
                out.append(record_json(self.app, obj, rec, version, request.sf_user, fields))
        return Response.json(200, out)
