"""Properties v3 and property groups, served from the same registry that validates writes."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ...core.http import ApiError, Request, Response
from ..errors import hs_error, not_found, standard_error, validation_error
from ..schema import ObjectType, Prop, prop_from_create
from ..serialize import batch_json
from .common import batch_inputs, body_object, error_json, flag, ok

if TYPE_CHECKING:
    from ..app import HubSpotApp

BASE = "/crm/v3/properties/{objectType}"
_UPDATABLE = {
    "label",
    "description",
    "groupName",
    "hidden",
    "displayOrder",
    "formField",
    "options",
    "type",
    "fieldType",
    "calculationFormula",
}


class PropertyHandlers:
    def __init__(self, app: HubSpotApp) -> None:
        self.app = app

    def register(self) -> None:
        add = self.app.route
        add("GET", BASE + "/groups", self.groups)
        add("POST", BASE + "/groups", self.create_group)
        add("GET", BASE + "/groups/{groupName}", self.get_group)
        add("PATCH", BASE + "/groups/{groupName}", self.update_group)
        add("DELETE", BASE + "/groups/{groupName}", self.archive_group)
        add("POST", BASE + "/batch/read", self.batch_read)
        add("POST", BASE + "/batch/create", self.batch_create)
        add("POST", BASE + "/batch/archive", self.batch_archive)
        add("GET", BASE, self.get_all)
        add("POST", BASE, self.create)
        add("GET", BASE + "/{propertyName}", self.get_by_name)
        add("PATCH", BASE + "/{propertyName}", self.update)
        add("DELETE", BASE + "/{propertyName}", self.archive)

    def _type(self, request: Request) -> ObjectType:
        return self.app.crm.object_type(request.params["objectType"])

    def _prop(self, object_type: ObjectType, name: str, *, archived: bool = False) -> Prop:
        prop = object_type.properties.get(name)
        if prop is None or prop.archived != archived:
            raise not_found(
                f"Unable to find property {name} on object type {object_type.id}",
                context={"propertyName": [name]},
            )
        return prop

    # --- properties ---------------------------------------------------------------------
    def get_all(self, request: Request) -> Response:
        object_type = self._type(request)
        archived = flag(request, "archived")
        return ok(
            {
                "results": [
                    p.public() for p in object_type.properties.values() if p.archived == archived
                ]
            }
        )

    def get_by_name(self, request: Request) -> Response:
        object_type = self._type(request)
        prop = self._prop(
            object_type, request.params["propertyName"], archived=flag(request, "archived")
        )
        return ok(prop.public())

    def _create_one(self, object_type: ObjectType, spec: Any) -> Prop:
        if not isinstance(spec, dict):
            raise validation_error("The property definition must be an object")
        existing = object_type.properties.get(str(spec.get("name")))
        if existing is not None and not existing.archived:
            raise hs_error(
                409,
                "OBJECT_ALREADY_EXISTS",
                f"Property named '{spec.get('name')}' already exists.",
                context={"name": [str(spec.get("name"))]},
            )
        if not spec.get("groupName"):
            raise validation_error("groupName is required")
        if spec["groupName"] not in object_type.groups:
            raise validation_error(f"Property group {spec['groupName']} does not exist")
        try:
            prop = prop_from_create(spec, spec["groupName"], self.app.now_ms())
        except ValueError as error:
            raise validation_error(str(error)) from None
        object_type.properties[prop.name] = prop
        object_type.invalidate()
        return prop

    def create(self, request: Request) -> Response:
        object_type = self._type(request)
        return ok(self._create_one(object_type, body_object(request)).public(), 201)

    def update(self, request: Request) -> Response:
        object_type = self._type(request)
        prop = self._prop(object_type, request.params["propertyName"])
        body = body_object(request)
        unknown = set(body) - _UPDATABLE
        if unknown:
            raise validation_error(f"Cannot update {', '.join(sorted(unknown))}")
        if prop.hubspot_defined and set(body) - {
            "label",
            "description",
            "groupName",
            "hidden",
            "displayOrder",
            "formField",
            "options",
        }:
            raise validation_error(f"HubSpot-defined property {prop.name} cannot change type")
        if "groupName" in body and body["groupName"] not in object_type.groups:
            raise validation_error(f"Property group {body['groupName']} does not exist")
        prop.label = body.get("label", prop.label)
        prop.description = body.get("description", prop.description)
        prop.group = body.get("groupName", prop.group)
        prop.hidden = bool(body.get("hidden", prop.hidden))
        prop.display_order = int(body.get("displayOrder", prop.display_order))
        prop.form_field = bool(body.get("formField", prop.form_field))
        prop.type = body.get("type", prop.type)
        prop.field_type = body.get("fieldType", prop.field_type)
        prop.calculation_formula = body.get("calculationFormula", prop.calculation_formula)
        if "options" in body:
            prop.set_options(body["options"] or [])
        prop.updated_at = self.app.now_ms()
        return ok(prop.public())

    def _archive_one(self, object_type: ObjectType, name: str) -> None:
        prop = object_type.properties.get(name)
        if prop is None or prop.archived:
            return
        if prop.hubspot_defined:
            raise validation_error(f"HubSpot-defined property {name} cannot be archived")
        prop.archived = True
        prop.archived_at = self.app.now_ms()
        prop.unique = False
        object_type.invalidate()
        self.app.state.store(object_type.id).unique.pop(name, None)

    def archive(self, request: Request) -> Response:
        object_type = self._type(request)
        self._prop(object_type, request.params["propertyName"])
        self._archive_one(object_type, request.params["propertyName"])
        return Response.empty(204)

    # --- batch --------------------------------------------------------------------------
    def batch_read(self, request: Request) -> Response:
        object_type = self._type(request)
        body = body_object(request)
        archived = bool(body.get("archived", False))
        started = self.app.now_ms()
        results, missing = [], []
        for item in batch_inputs(body, 1000):
            name = str((item or {}).get("name", ""))
            prop = object_type.properties.get(name)
            if prop is None or prop.archived != archived:
                missing.append(name)
            else:
                results.append(prop.public())
        errors = (
            [
                standard_error(
                    "OBJECT_NOT_FOUND",
                    "Some properties could not be found",
                    context={"propertyNames": missing},
                )
            ]
            if missing
            else []
        )
        return ok(batch_json(results, started, self.app.now_ms(), errors), 207 if errors else 200)

    def batch_create(self, request: Request) -> Response:
        object_type = self._type(request)
        started = self.app.now_ms()
        results, errors = [], []
        for spec in batch_inputs(body_object(request), 1000):
            try:
                results.append(self._create_one(object_type, spec).public())
            except ApiError as error:  # one bad definition fails alone
                body = error_json(error)
                errors.append(
                    standard_error(body["category"], body["message"], context=body.get("context"))
                )
        return ok(batch_json(results, started, self.app.now_ms(), errors), 207 if errors else 201)

    def batch_archive(self, request: Request) -> Response:
        object_type = self._type(request)
        for item in batch_inputs(body_object(request), 1000):
            self._archive_one(object_type, str((item or {}).get("name", "")))
        return Response.empty(204)

    # --- groups -------------------------------------------------------------------------
    def _group(self, object_type: ObjectType, name: str) -> dict:
        group = object_type.groups.get(name)
        if group is None or group["archived"]:
            raise not_found(f"Unable to find property group {name}")
        return group

    def groups(self, request: Request) -> Response:
        object_type = self._type(request)
        return ok({"results": [dict(g) for g in object_type.groups.values() if not g["archived"]]})

    def get_group(self, request: Request) -> Response:
        return ok(dict(self._group(self._type(request), request.params["groupName"])))

    def create_group(self, request: Request) -> Response:
        object_type = self._type(request)
        body = body_object(request)
        name, label = body.get("name"), body.get("label")
        if not name or not label:
            raise validation_error("name and label are required")
        existing = object_type.groups.get(name)
        if existing is not None and not existing["archived"]:
            raise hs_error(409, "OBJECT_ALREADY_EXISTS", f"Property group {name} already exists")
        group = {
            "name": name,
            "label": label,
            "displayOrder": int(body.get("displayOrder", -1)),
            "archived": False,
        }
        object_type.groups[name] = group
        return ok(dict(group), 201)

    def update_group(self, request: Request) -> Response:
        group = self._group(self._type(request), request.params["groupName"])
        body = body_object(request)
        group["label"] = body.get("label", group["label"])
        group["displayOrder"] = int(body.get("displayOrder", group["displayOrder"]))
        return ok(dict(group))

    def archive_group(self, request: Request) -> Response:
        object_type = self._type(request)
        group = self._group(object_type, request.params["groupName"])
        if any(
            p.group == group["name"] and not p.archived and p.hubspot_defined
            for p in object_type.properties.values()
        ):
            raise validation_error(
                f"Property group {group['name']} holds HubSpot-defined "
                "properties and cannot be archived"
            )
        group["archived"] = True
        return Response.empty(204)
