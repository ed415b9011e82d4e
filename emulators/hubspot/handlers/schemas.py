"""Custom object schemas (``/crm-object-schemas/v3/schemas``). Creating one makes
``/crm/v3/objects/{2-N | p_name | p<portal>_name}`` work at once, with its properties."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ...core.http import Request, Response
from ..errors import hs_error, not_found, validation_error
from ..schema import ObjectType
from ..timeutil import iso
from .common import body_object, ok

if TYPE_CHECKING:
    from ..app import HubSpotApp

BASE = "/crm-object-schemas/v3/schemas"


class SchemaHandlers:
    def __init__(self, app: HubSpotApp) -> None:
        self.app = app

    def register(self) -> None:
        add = self.app.route
        add("GET", BASE, self.get_all)
        add("POST", BASE, self.create)
        add("GET", BASE + "/{objectType}", self.get_by_id)
        add("POST", BASE + "/{objectType}/associations", self.create_association)

    def _custom(self, key: str) -> ObjectType:
        object_type = self.app.state.registry.resolve(key)
        if object_type is None or not object_type.custom:
            raise not_found(f"Unable to find object schema {key}")
        return object_type

    def schema_json(self, object_type: ObjectType) -> dict[str, Any]:
        schema = object_type.schema or {}
        registry = self.app.state.registry
        associations = [
            {
                "id": str(a.type_id),
                "fromObjectTypeId": a.from_type,
                "toObjectTypeId": a.to_type,
                "name": a.name,
                "createdAt": iso(schema["createdAt"]),
                "updatedAt": iso(schema["updatedAt"]),
            }
            for a in registry.assoc_types.values()
            if a.default and (a.from_type == object_type.id)
        ]
        out: dict[str, Any] = {
            "id": schema["id"],
            "objectTypeId": object_type.id,
            "fullyQualifiedName": object_type.fqn,
            "name": object_type.name,
            "labels": schema["labels"],
            "primaryDisplayProperty": schema["primaryDisplayProperty"],
            "secondaryDisplayProperties": schema["secondaryDisplayProperties"],
            "requiredProperties": schema["requiredProperties"],
            "searchableProperties": schema["searchableProperties"],
            "properties": [p.public() for p in object_type.properties.values() if not p.archived],
            "associations": associations,
            "createdAt": iso(schema["createdAt"]),
            "updatedAt": iso(schema["updatedAt"]),
            "archived": schema["archived"],
        }
        if schema.get("description"):
            out["description"] = schema["description"]
        return out

    def get_all(self, request: Request) -> Response:
        custom = [t for t in self.app.state.registry.types.values() if t.custom]
        return ok({"results": [self.schema_json(t) for t in custom]})

    def get_by_id(self, request: Request) -> Response:
        return ok(self.schema_json(self._custom(request.params["objectType"])))

    def create(self, request: Request) -> Response:
        egg = body_object(request)
        name = egg.get("name")
        if not isinstance(name, str) or not name:
            raise validation_error("name is required")
        labels = egg.get("labels") or {}
        if not labels.get("singular") or not labels.get("plural"):
            raise validation_error("labels.singular and labels.plural are required")
        registry = self.app.state.registry
        if registry.resolve(name) is not None:
            raise hs_error(409, "OBJECT_ALREADY_EXISTS", f"Object type {name} already exists")
        properties = egg.get("properties")
        if not isinstance(properties, list) or not properties:
            raise validation_error("properties must list at least one property")
        names = {p.get("name") for p in properties if isinstance(p, dict)}
        missing = [r for r in egg.get("requiredProperties") or [] if r not in names]
        if missing:
            raise validation_error(f"Required properties are not defined: {missing}")
        primary = egg.get("primaryDisplayProperty")
        if primary and primary not in names:
            raise validation_error(f"primaryDisplayProperty {primary} is not defined")
        for target in egg.get("associatedObjects") or []:
            if registry.resolve(str(target)) is None:
                raise validation_error(f"Unknown associated object type {target}")
        try:
            object_type = registry.add_custom_type(egg, self.app.now_ms())
        except ValueError as error:
            raise validation_error(str(error)) from None
        return ok(self.schema_json(object_type), 201)

    def create_association(self, request: Request) -> Response:
        object_type = self._custom(request.params["objectType"])
        body = body_object(request)
        registry = self.app.state.registry
        from_t = registry.resolve(str(body.get("fromObjectTypeId") or object_type.id))
        to_t = registry.resolve(str(body.get("toObjectTypeId") or ""))
        if from_t is None or to_t is None:
            raise validation_error("fromObjectTypeId and toObjectTypeId must be object types")
        assoc = registry.associate_types(from_t, to_t)
        now = iso(self.app.now_ms())
        return ok(
            {
                "id": str(assoc.type_id),
                "fromObjectTypeId": from_t.id,
                "toObjectTypeId": to_t.id,
                "name": body.get("name") or assoc.name,
                "createdAt": now,
                "updatedAt": now,
            },
            201,
        )
