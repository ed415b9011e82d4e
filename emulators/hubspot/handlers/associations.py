"""Associations v4: per-record reads and writes, batch calls and the label definitions.

Links are symmetric (see ``associations.py``); a labelled association always includes the
pair's unlabeled type, and contact/deal/ticket -> company links keep exactly one primary company.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ...core.http import ApiError, Request, Response
from ..errors import not_found, standard_error, validation_error
from ..schema import AssocType, ObjectType
from ..store import Record
from ..timeutil import iso
from .common import (
    actor,
    batch_inputs,
    body_object,
    decode_cursor,
    encode_cursor,
    error_json,
    int_arg,
    json_body,
    ok,
)

if TYPE_CHECKING:
    from ..app import HubSpotApp

OBJ = "/crm/v4/objects/{objectType}/{objectId}/associations"
PAIR = "/crm/v4/associations/{fromObjectType}/{toObjectType}"


class AssociationHandlers:
    def __init__(self, app: HubSpotApp) -> None:
        self.app = app

    @property
    def crm(self):
        return self.app.crm

    def register(self) -> None:
        add = self.app.route
        add("PUT", OBJ + "/default/{toObjectType}/{toObjectId}", self.create_default)
        add("GET", OBJ + "/{toObjectType}", self.get_page)
        add("PUT", OBJ + "/{toObjectType}/{toObjectId}", self.create)
        add("DELETE", OBJ + "/{toObjectType}/{toObjectId}", self.archive)
        add("POST", PAIR + "/batch/create", self.batch_create)
        add("POST", PAIR + "/batch/read", self.batch_read)
        add("POST", PAIR + "/batch/archive", self.batch_archive)
        add("POST", PAIR + "/batch/labels/archive", self.batch_archive_labels)
        add("POST", PAIR + "/batch/associate/default", self.batch_create_default)
        add("GET", PAIR + "/labels", self.labels)
        add("POST", PAIR + "/labels", self.create_label)
        add("DELETE", PAIR + "/labels/{typeId}", self.delete_label)

    # --- helpers ------------------------------------------------------------------------
    def _pair(self, request: Request, from_key: str, to_key: str) -> tuple[ObjectType, ObjectType]:
        return (
            self.crm.object_type(request.params[from_key]),
            self.crm.object_type(request.params[to_key]),
        )

    def _record(self, object_type: ObjectType, key: Any) -> Record:
        record = self.crm.find(object_type, str(key))
        if record is None:
            raise not_found(
                f"No {object_type.singular} with id {key} exists", context={"id": [str(key)]}
            )
        return record

    def _types(self, from_t: ObjectType, to_t: ObjectType, specs: Any) -> list[AssocType]:
        if not isinstance(specs, list) or not specs:
            raise validation_error("At least one association type is required")
        out = []
        for spec in specs:
            assoc = self.crm.requested_association_type(spec)
            if assoc.from_type != from_t.id or assoc.to_type != to_t.id:
                raise validation_error(
                    f"association type id {assoc.type_id} doesn't exist between "
                    f"{from_t.singular} and {to_t.singular}"
                )
            out.append(assoc)
        return out

    def _live_targets(
        self, from_t: ObjectType, record_id: int, to_t: ObjectType
    ) -> list[tuple[int, set[int]]]:
        store = self.app.state.stores.get(to_t.id)
        targets = self.app.state.associations.targets(from_t.id, record_id, to_t.id)
        out = []
        for to_id in sorted(targets):
            target = store.records.get(to_id) if store else None
            if target is not None and not target.archived:
                out.append((to_id, targets[to_id]))
        return out

    def _with_labels(self, to_id: int, type_ids: set[int]) -> dict:
        registry = self.app.state.registry
        specs = [registry.assoc_types[t] for t in type_ids]
        specs.sort(key=lambda a: (a.label is not None, a.type_id))
        return {"toObjectId": to_id, "associationTypes": [a.spec() for a in specs]}

    def _labels_pair(
        self,
        from_t: ObjectType,
        from_id: int,
        to_t: ObjectType,
        to_id: int,
        assocs: list[AssocType],
    ) -> dict:
        return {
            "fromObjectTypeId": from_t.id,
            "fromObjectId": from_id,
            "toObjectTypeId": to_t.id,
            "toObjectId": to_id,
            "labels": [a.label for a in assocs if a.label],
        }

    def _default_result(self, from_id: int, to_id: int, assoc: AssocType) -> dict:
        return {
            "from": {"id": str(from_id)},
            "to": {"id": str(to_id)},
            "associationSpec": {
                "associationCategory": assoc.category,
                "associationTypeId": assoc.type_id,
            },
        }

    def _batch(self, results: list, started: int, errors: list[dict] | None = None) -> dict:
        out: dict[str, Any] = {
            "status": "COMPLETE",
            "results": results,
            "startedAt": iso(started),
            "completedAt": iso(self.app.now_ms()),
        }
        if errors:
            out["numErrors"] = len(errors)
            out["errors"] = errors
        return out

    # --- single pair --------------------------------------------------------------------
    def get_page(self, request: Request) -> Response:
        from_t, to_t = self._pair(request, "objectType", "toObjectType")
        record = self._record(from_t, request.params["objectId"])
        limit = int_arg(request, "limit", 500, low=1, high=500)
        start = decode_cursor(request.arg("after"))
        targets = [t for t in self._live_targets(from_t, record.id, to_t) if t[0] >= start]
        out: dict[str, Any] = {"results": [self._with_labels(i, s) for i, s in targets[:limit]]}
        if len(targets) > limit:
            cursor = encode_cursor(targets[limit][0])
            out["paging"] = {"next": {"after": cursor}}
        return ok(out)

    def create(self, request: Request) -> Response:
        from_t, to_t = self._pair(request, "objectType", "toObjectType")
        record = self._record(from_t, request.params["objectId"])
        target = self._record(to_t, request.params["toObjectId"])
        assocs = self._types(from_t, to_t, json_body(request))
        who, ts = actor(request), self.app.now_ms()
        for assoc in assocs:
            self.crm.associate(assoc, record.id, target.id, who, ts)
        return ok(self._labels_pair(from_t, record.id, to_t, target.id, assocs), 201)

    def create_default(self, request: Request) -> Response:
        from_t, to_t = self._pair(request, "objectType", "toObjectType")
        record = self._record(from_t, request.params["objectId"])
        target = self._record(to_t, request.params["toObjectId"])
        started = self.app.now_ms()
        assoc = self._default_type(from_t, to_t)
        self.crm.associate(assoc, record.id, target.id, actor(request), started)
        return ok(self._batch([self._default_result(record.id, target.id, assoc)], started))

    def _default_type(self, from_t: ObjectType, to_t: ObjectType) -> AssocType:
        assoc = self.app.state.registry.default_type(from_t.id, to_t.id)
        if assoc is None:
            raise validation_error(f"{from_t.singular} and {to_t.singular} cannot be associated")
        return assoc

    def archive(self, request: Request) -> Response:
        from_t, to_t = self._pair(request, "objectType", "toObjectType")
        record = self.crm.find(from_t, request.params["objectId"])
        target = self.crm.find(to_t, request.params["toObjectId"])
        if record is not None and target is not None:
            self.crm.disassociate(
                from_t.id, record.id, to_t.id, target.id, None, actor(request), self.app.now_ms()
            )
        return Response.empty(204)

    # --- batch --------------------------------------------------------------------------
    def batch_create(self, request: Request) -> Response:
        from_t, to_t = self._pair(request, "fromObjectType", "toObjectType")
        inputs = batch_inputs(body_object(request), 2000)
        started, who = self.app.now_ms(), actor(request)
        results, errors = [], []
        for item in inputs:
            item = item or {}
            try:
                record = self._record(from_t, (item.get("from") or {}).get("id"))
                target = self._record(to_t, (item.get("to") or {}).get("id"))
                assocs = self._types(from_t, to_t, item.get("types"))
            except ApiError as error:
                body = error_json(error)
                errors.append(
                    standard_error(body["category"], body["message"], context=body.get("context"))
                )
                continue
            for assoc in assocs:
                self.crm.associate(assoc, record.id, target.id, who, started)
            results.append(self._labels_pair(from_t, record.id, to_t, target.id, assocs))
        return ok(self._batch(results, started, errors), 207 if errors else 201)

    def batch_create_default(self, request: Request) -> Response:
        from_t, to_t = self._pair(request, "fromObjectType", "toObjectType")
        inputs = batch_inputs(body_object(request), 2000)
        started, who = self.app.now_ms(), actor(request)
        assoc = self._default_type(from_t, to_t)
        results, errors = [], []
        for item in inputs:
            item = item or {}
            try:
                record = self._record(from_t, (item.get("from") or {}).get("id"))
                target = self._record(to_t, (item.get("to") or {}).get("id"))
            except ApiError as error:
                body = error_json(error)
                errors.append(
                    standard_error(body["category"], body["message"], context=body.get("context"))
                )
                continue
            self.crm.associate(assoc, record.id, target.id, who, started)
            results.append(self._default_result(record.id, target.id, assoc))
        return ok(self._batch(results, started, errors))

    def batch_read(self, request: Request) -> Response:
        from_t, to_t = self._pair(request, "fromObjectType", "toObjectType")
        inputs = batch_inputs(body_object(request), 1000)
        started = self.app.now_ms()
        # 500 in HubSpot; smaller (set_association_page_size) to test paging cheaply.
        size = self.app.state.settings.association_page_size
        results, errors = [], []
        for item in inputs:
            item = item or {}
            key = str(item.get("id", ""))
            record = self.crm.find(from_t, key)
            targets = self._live_targets(from_t, record.id, to_t) if record else []
            start = decode_cursor(item.get("after"))
            targets = [t for t in targets if t[0] >= start]
            if not targets:
                errors.append(
                    standard_error(
                        "OBJECT_NOT_FOUND",
                        f"No {to_t.singular} is associated with {from_t.singular} {key}.",
                        context={"fromObjectId": [key]},
                        sub_category="crm.associations.NO_ASSOCIATIONS_FOUND",
                    )
                )
                continue
            entry: dict[str, Any] = {
                "from": {"id": str(record.id)},  # type: ignore[union-attr]
                "to": [self._with_labels(i, s) for i, s in targets[:size]],
            }
            if len(targets) > size:
                entry["paging"] = {"next": {"after": encode_cursor(targets[size][0])}}
            results.append(entry)
        return ok(self._batch(results, started, errors), 207 if errors else 200)

    def batch_archive(self, request: Request) -> Response:
        from_t, to_t = self._pair(request, "fromObjectType", "toObjectType")
        inputs = batch_inputs(body_object(request), 2000)
        who, ts = actor(request), self.app.now_ms()
        for item in inputs:
            item = item or {}
            record = self.crm.find(from_t, str((item.get("from") or {}).get("id", "")))
            if record is None:
                continue
            for to in item.get("to") or []:
                target = self.crm.find(to_t, str((to or {}).get("id", "")))
                if target is not None:
                    self.crm.disassociate(from_t.id, record.id, to_t.id, target.id, None, who, ts)
        return Response.empty(204)

    def batch_archive_labels(self, request: Request) -> Response:
        from_t, to_t = self._pair(request, "fromObjectType", "toObjectType")
        inputs = batch_inputs(body_object(request), 2000)
        who, ts = actor(request), self.app.now_ms()
        for item in inputs:
            item = item or {}
            record = self.crm.find(from_t, str((item.get("from") or {}).get("id", "")))
            target = self.crm.find(to_t, str((item.get("to") or {}).get("id", "")))
            if record is None or target is None:
                continue
            assocs = self._types(from_t, to_t, item.get("types"))
            self.crm.disassociate(
                from_t.id, record.id, to_t.id, target.id, [a.type_id for a in assocs], who, ts
            )
        return Response.empty(204)

    # --- label definitions --------------------------------------------------------------
    def labels(self, request: Request) -> Response:
        from_t, to_t = self._pair(request, "fromObjectType", "toObjectType")
        pairs = self.app.state.registry.pair_types(from_t.id, to_t.id)
        return ok({"results": [a.spec() for a in pairs]})

    def create_label(self, request: Request) -> Response:
        from_t, to_t = self._pair(request, "fromObjectType", "toObjectType")
        body = body_object(request)
        if not body.get("label") or not body.get("name"):
            raise validation_error("label and name are required")
        assoc = self.app.state.registry.add_label(
            from_t, to_t, str(body["label"]), body.get("inverseLabel")
        )
        return ok({"results": [assoc.spec()]})

    def delete_label(self, request: Request) -> Response:
        from_t, to_t = self._pair(request, "fromObjectType", "toObjectType")
        registry = self.app.state.registry
        try:
            assoc = registry.assoc_types.get(int(request.params["typeId"]))
        except ValueError:
            assoc = None
        if assoc is None or assoc.from_type != from_t.id or assoc.to_type != to_t.id:
            raise not_found("Association label not found")
        if assoc.category != "USER_DEFINED":
            raise validation_error("HubSpot-defined association types cannot be deleted")
        self.app.state.associations.purge_types({assoc.type_id, assoc.inverse})
        registry.assoc_types.pop(assoc.inverse, None)
        registry.assoc_types.pop(assoc.type_id, None)
        return Response.empty(204)
