"""CRM v3 objects: basic CRUD, list pages, batch calls, search, merge and GDPR delete.

Status codes are exactly the ones hubspot-api-client 12 decodes (create 201, batch create 201,
update and batch read/update/upsert 200, 207 with per-input errors, archive 204): any other 2xx
would make the client silently return None.

Batch writes check every input before committing any. With the default batch mode
(``all_or_nothing``) one invalid input rejects the whole batch with 400 VALIDATION_ERROR, and a
duplicate unique value (an existing contact email) rejects it with 409 CONFLICT, which is how
HubSpot answers. ``set_batch_validation_mode("partial")`` makes invalid or conflicting inputs fail
alone in a 207 instead. Ids that do not exist always fail alone (207), in both modes.
"""

from __future__ import annotations

import bisect
from typing import TYPE_CHECKING, Any

from ...core.http import ApiError, Request, Response
from ..errors import (
    batch_item_error,
    missing_scopes_response,
    not_found,
    property_errors,
    property_errors_body,
    standard_error,
    validation_error,
)
from ..schema import ENGAGEMENTS, ObjectType
from ..search import search
from ..serialize import associations_json, batch_json, known_names, property_names, record_json
from ..store import Record
from .common import (
    actor,
    batch_inputs,
    body_object,
    decode_cursor,
    encode_cursor,
    error_json,
    flag,
    int_arg,
    ok,
)

if TYPE_CHECKING:
    from ..app import HubSpotApp

BASE = "/crm/v3/objects/{objectType}"


def missing_error(object_type: ObjectType, ids: list[str]) -> dict:
    """HubSpot's per-batch error for ids that do not exist (or are archived)."""
    noun = object_type.singular.upper()
    return standard_error(
        "OBJECT_NOT_FOUND",
        f"Could not get some {noun} objects, they may be deleted or not exist. "
        "Check that ids are valid.",
        context={"ids": ids},
    )


def object_scopes(object_type: ObjectType, *, write: bool) -> list[str]:
    """The scopes, any one of which lets a token read (or write) records of a type."""
    access = "write" if write else "read"
    if object_type.custom:
        return [f"crm.objects.custom.{access}"]
    if object_type.name in ENGAGEMENTS:  # activities come with the contacts scopes
        return [f"crm.objects.contacts.{access}"]
    if object_type.name == "tickets":  # the legacy "tickets" scope grants both
        return [f"crm.objects.tickets.{access}", "tickets"]
    return [f"crm.objects.{object_type.name}.{access}"]


def _writes(request: Request) -> bool:
    if request.method == "GET":
        return False
    return not (request.method == "POST" and request.path.endswith(("/batch/read", "/search")))


class ObjectHandlers:
    def __init__(self, app: HubSpotApp) -> None:
        self.app = app

    @property
    def crm(self):
        return self.app.crm

    def register(self) -> None:
        add = self.app.route
        add("POST", BASE + "/batch/read", self.batch_read)
        add("POST", BASE + "/batch/create", self.batch_create)
        add("POST", BASE + "/batch/update", self.batch_update)
        add("POST", BASE + "/batch/upsert", self.batch_upsert)
        add("POST", BASE + "/batch/archive", self.batch_archive)
        add("POST", BASE + "/search", self.search)
        add("POST", BASE + "/merge", self.merge)
        add("POST", BASE + "/gdpr-delete", self.gdpr_delete)
        add("GET", BASE, self.get_page)
        add("POST", BASE, self.create)
        add("GET", BASE + "/{objectId}", self.get_by_id)
        add("PATCH", BASE + "/{objectId}", self.update)
        add("DELETE", BASE + "/{objectId}", self.archive)

    def _type(self, request: Request) -> ObjectType:
        object_type = self.crm.object_type(request.params["objectType"])
        user = getattr(request, "hs_user", None)
        if user is not None:
            required = object_scopes(object_type, write=_writes(request))
            if not set(required) & set(user.scopes):
                raise ApiError(missing_scopes_response(required))
        return object_type

    def _history_names(self, object_type: ObjectType, names: list[str]) -> list[str]:
        return known_names(object_type, names)

    def _portal(self) -> int:
        return self.app.state.portal_id

    # --- single records -----------------------------------------------------------------
    def get_by_id(self, request: Request) -> Response:
        object_type = self._type(request)
        archived = flag(request, "archived")
        record = self.crm.require(
            object_type, request.params["objectId"], request.arg("idProperty"), archived=archived
        )
        history = self._history_names(object_type, request.args("propertiesWithHistory"))
        out = record_json(
            record, property_names(object_type, request.args("properties")), history=history
        )
        associations = associations_json(self.app.state, record, request.args("associations"))
        if associations:  # HubSpot leaves the key out when there are none
            out["associations"] = associations
        return ok(out)

    def get_page(self, request: Request) -> Response:
        object_type = self._type(request)
        history = self._history_names(object_type, request.args("propertiesWithHistory"))
        # HubSpot caps pages at 100, or 50 when property history is requested.
        limit = int_arg(request, "limit", 10, low=1, high=50 if history else 100)
        start = decode_cursor(request.arg("after"))
        archived = flag(request, "archived")
        names = property_names(object_type, request.args("properties"))
        wanted = request.args("associations")
        store = self.app.state.stores.get(object_type.id)
        ids = list(store.records) if store else []
        page: list[Record] = []
        next_id = None
        for record_id in ids[bisect.bisect_left(ids, start) :]:
            record = store.records[record_id]  # type: ignore[union-attr]
            if record.archived != archived:
                continue
            if len(page) == limit:
                next_id = record_id
                break
            page.append(record)
        results = []
        for record in page:
            item = record_json(record, names, history=history)
            associations = associations_json(self.app.state, record, wanted) if wanted else None
            if associations:
                item["associations"] = associations
            results.append(item)
        out: dict[str, Any] = {"results": results}
        if next_id is not None:  # the last page has no "paging" at all (fetch_all relies on it)
            cursor = encode_cursor(next_id)
            out["paging"] = {
                "next": {
                    "after": cursor,
                    "link": f"{self.app.base_url}/crm/v3/objects/{object_type.name}?after={cursor}",
                }
            }
        return ok(out)

    def create(self, request: Request) -> Response:
        object_type = self._type(request)
        body = body_object(request)
        if "properties" not in body:
            raise validation_error("properties is required")
        clean, problems = self.crm.prepare(object_type, body["properties"], creating=True)
        if problems:
            raise property_errors(problems, self._portal())
        associations = self.crm.prepare_associations(object_type, body.get("associations"))
        found = self.crm.find_conflict(object_type, clean)
        if found:
            raise self.crm.conflict_error(object_type, *found)
        record = self.crm.create(
            object_type, clean, actor(request), self.app.now_ms(), associations=associations
        )
        return ok(record_json(record, None), 201)

    def update(self, request: Request) -> Response:
        object_type = self._type(request)
        body = body_object(request)
        record = self.crm.require(
            object_type, request.params["objectId"], request.arg("idProperty")
        )
        clean, problems = self.crm.prepare(
            object_type, body.get("properties"), creating=False, record=record
        )
        if problems:
            raise property_errors(problems, self._portal())
        found = self.crm.find_conflict(object_type, clean, exclude=record.id)
        if found:
            raise self.crm.conflict_error(object_type, *found)
        self.crm.update(object_type, record, clean, actor(request), self.app.now_ms())
        return ok(record_json(record, self._update_names(object_type, clean)))

    @staticmethod
    def _update_names(object_type: ObjectType, clean: dict[str, str]) -> list[str]:
        names = list(object_type.default_props) + list(object_type.modified_props)
        return list(dict.fromkeys(names + list(clean)))

    def archive(self, request: Request) -> Response:
        object_type = self._type(request)
        record = self.crm.find(object_type, request.params["objectId"])
        if record is not None:  # archiving a missing record is a no-op, like HubSpot
            self.crm.archive(object_type, record, self.app.now_ms())
        return Response.empty(204)

    # --- batch --------------------------------------------------------------------------
    def batch_read(self, request: Request) -> Response:
        object_type = self._type(request)
        body = body_object(request)
        inputs = batch_inputs(body)
        archived = flag(request, "archived")
        id_property = body.get("idProperty")
        names = property_names(object_type, body.get("properties"))
        history = self._history_names(object_type, body.get("propertiesWithHistory") or [])
        started = self.app.now_ms()
        results, missing, seen = [], [], set()
        for item in inputs:
            key = str((item or {}).get("id", ""))
            record = self.crm.find(object_type, key, id_property, archived=archived)
            if record is None:
                missing.append(key)
            elif record.id not in seen:
                seen.add(record.id)
                results.append(record_json(record, names, history=history))
        errors = []
        if missing:
            errors.append(missing_error(object_type, missing))
        out = batch_json(results, started, self.app.now_ms(), errors)
        return ok(out, 207 if errors else 200)

    def _partial(self) -> bool:
        return self.app.state.settings.batch_mode == "partial"

    def _fail(self, errors: list[dict], error: ApiError, context: dict[str, list[str]]) -> None:
        """One input failed: raise for the whole batch, or record it for a 207."""
        if not self._partial():
            raise error
        errors.append(batch_item_error(error_json(error), context))

    def _trace_context(self, item: dict, **extra: str) -> dict[str, list[str]]:
        context = {k: [v] for k, v in extra.items()}
        if item.get("objectWriteTraceId"):
            context["objectWriteTraceId"] = [str(item["objectWriteTraceId"])]
        return context

    def _check_input(
        self,
        object_type: ObjectType,
        item: Any,
        errors: list[dict],
        context: dict,
        *,
        creating: bool,
        record: Record | None,
        owners: set[str],
        claimed: dict[tuple[str, str], int],
        exclude: int | None,
    ) -> dict[str, str] | None:
        """Validate one batch input; None when it failed (and was recorded or raised)."""
        if not isinstance(item, dict) or not isinstance(item.get("properties"), dict):
            self._fail(errors, validation_error("Each input needs a properties object"), context)
            return None
        clean, problems = self.crm.prepare(
            object_type, item["properties"], creating=creating, record=record, owners=owners
        )
        if problems:
            body = property_errors_body(problems, self._portal())
            self._fail(errors, ApiError(Response.json(400, body)), context)
            return None
        found = self.crm.find_conflict(object_type, clean, exclude=exclude)
        if found:
            self._fail(errors, self.crm.conflict_error(object_type, *found), context)
            return None
        for prop in object_type.unique_props:
            value = clean.get(prop)
            if value:
                key = (prop, value.lower() if prop == "email" else value)
                if key in claimed:
                    self._fail(
                        errors,
                        validation_error(
                            f"Duplicate {prop} in batch input: {value}", context={prop: [value]}
                        ),
                        context,
                    )
                    return None
                claimed[key] = 1
        return clean

    def batch_create(self, request: Request) -> Response:
        object_type = self._type(request)
        inputs = batch_inputs(body_object(request))
        started = self.app.now_ms()
        owners = self.app.state.active_owner_ids()
        errors: list[dict] = []
        claimed: dict[tuple[str, str], int] = {}
        ready = []
        for item in inputs:
            context = self._trace_context(item if isinstance(item, dict) else {})
            clean = self._check_input(
                object_type,
                item,
                errors,
                context,
                creating=True,
                record=None,
                owners=owners,
                claimed=claimed,
                exclude=None,
            )
            if clean is None:
                continue
            try:
                associations = self.crm.prepare_associations(object_type, item.get("associations"))
            except ApiError as error:
                self._fail(errors, error, context)
                continue
            ready.append((item, clean, associations))
        who, ts = actor(request), self.app.now_ms()
        results = []
        for item, clean, associations in ready:
            record = self.crm.create(object_type, clean, who, ts, associations=associations)
            out = record_json(record, None)
            if item.get("objectWriteTraceId"):
                out["objectWriteTraceId"] = str(item["objectWriteTraceId"])
            results.append(out)
        return ok(batch_json(results, started, self.app.now_ms(), errors), 207 if errors else 201)

    def _duplicate_ids(self, object_type: ObjectType, inputs: list) -> None:
        keys = [str((i or {}).get("id", "")) for i in inputs if isinstance(i, dict)]
        seen, duplicates = set(), []
        for key in keys:
            if key in seen:
                duplicates.append(key)
            seen.add(key)
        if duplicates:
            raise validation_error(
                f"Duplicate IDs found in batch input: {duplicates}. IDs must be unique",
                context={"ids": duplicates},
            )

    def batch_update(self, request: Request) -> Response:
        object_type = self._type(request)
        inputs = batch_inputs(body_object(request))
        self._duplicate_ids(object_type, inputs)
        started = self.app.now_ms()
        owners = self.app.state.active_owner_ids()
        errors: list[dict] = []
        missing: list[str] = []
        claimed: dict[tuple[str, str], int] = {}
        ready = []
        for item in inputs:
            item = item if isinstance(item, dict) else {}
            key = str(item.get("id", ""))
            record = self.crm.find(object_type, key, item.get("idProperty"))
            if record is None:
                missing.append(key)
                continue
            context = self._trace_context(item, id=key)
            clean = self._check_input(
                object_type,
                item,
                errors,
                context,
                creating=False,
                record=record,
                owners=owners,
                claimed=claimed,
                exclude=record.id,
            )
            if clean is not None:
                ready.append((item, record, clean))
        if missing:
            errors.append(missing_error(object_type, missing))
        who, ts = actor(request), self.app.now_ms()
        results = []
        for item, record, clean in ready:
            self.crm.update(object_type, record, clean, who, ts)
            out = record_json(record, self._update_names(object_type, clean))
            if item.get("objectWriteTraceId"):
                out["objectWriteTraceId"] = str(item["objectWriteTraceId"])
            results.append(out)
        return ok(batch_json(results, started, self.app.now_ms(), errors), 207 if errors else 200)

    def batch_upsert(self, request: Request) -> Response:
        object_type = self._type(request)
        inputs = batch_inputs(body_object(request))
        self._duplicate_ids(object_type, inputs)
        started = self.app.now_ms()
        owners = self.app.state.active_owner_ids()
        errors: list[dict] = []
        claimed: dict[tuple[str, str], int] = {}
        ready = []
        for item in inputs:
            item = item if isinstance(item, dict) else {}
            key = str(item.get("id", ""))
            id_property = item.get("idProperty") or None
            context = self._trace_context(item, id=key)
            record = self.crm.find(object_type, key, id_property)
            if record is None and id_property in (None, "hs_object_id"):
                self._fail(
                    errors,
                    not_found(
                        f"No {object_type.singular} with id {key} to "
                        "update; upserts create records only through a "
                        "unique idProperty",
                        context={"ids": [key]},
                    ),
                    context,
                )
                continue
            if record is None:
                properties = dict(item.get("properties") or {})
                properties.setdefault(id_property, key)
                item = {**item, "properties": properties}
            clean = self._check_input(
                object_type,
                item,
                errors,
                context,
                creating=record is None,
                record=record,
                owners=owners,
                claimed=claimed,
                exclude=record.id if record else None,
            )
            if clean is not None:
                ready.append((item, record, clean))
        who, ts = actor(request), self.app.now_ms()
        results = []
        for item, record, clean in ready:
            if record is None:
                record = self.crm.create(object_type, clean, who, ts)
                out = record_json(record, None)
                out["new"] = True
            else:
                self.crm.update(object_type, record, clean, who, ts)
                out = record_json(record, self._update_names(object_type, clean))
                out["new"] = False
            if item.get("objectWriteTraceId"):
                out["objectWriteTraceId"] = str(item["objectWriteTraceId"])
            results.append(out)
        return ok(batch_json(results, started, self.app.now_ms(), errors), 207 if errors else 200)

    def batch_archive(self, request: Request) -> Response:
        object_type = self._type(request)
        inputs = batch_inputs(body_object(request))
        ts = self.app.now_ms()
        for item in inputs:
            record = self.crm.find(object_type, str((item or {}).get("id", "")))
            if record is not None:
                self.crm.archive(object_type, record, ts)
        return Response.empty(204)

    # --- search, merge, GDPR ------------------------------------------------------------
    def search(self, request: Request) -> Response:
        object_type = self._type(request)
        return ok(search(self.crm, object_type, request.json(), self.app.now_ms()))

    def merge(self, request: Request) -> Response:
        object_type = self._type(request)
        body = body_object(request)
        primary_key, merged_key = body.get("primaryObjectId"), body.get("objectIdToMerge")
        if not primary_key or not merged_key:
            raise validation_error("primaryObjectId and objectIdToMerge are required")
        primary = self.crm.require(object_type, str(primary_key))
        merged = self.crm.require(object_type, str(merged_key))
        survivor = self.crm.merge(object_type, primary, merged, actor(request), self.app.now_ms())
        return ok(record_json(survivor, None))

    def gdpr_delete(self, request: Request) -> Response:
        object_type = self._type(request)
        if object_type.name != "contacts":  # HubSpot's GDPR delete is for contacts only
            raise validation_error(f"GDPR delete is not supported for {object_type.name}")
        body = body_object(request)
        key = body.get("objectId")
        if not key:
            raise validation_error("objectId is required")
        record = self.crm.require(object_type, str(key), body.get("idProperty"), archived=None)
        self.crm.purge(object_type, record)
        return Response.empty(204)
