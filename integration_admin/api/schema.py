"""The OpenAPI schema's additions to what drf-spectacular reads from the views: the error
answers of every operation, and each object pair's settings typed from ``object_settings``."""

from __future__ import annotations

from dataclasses import MISSING, fields

from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.plumbing import ResolvedComponent, is_serializer
from drf_spectacular.utils import OpenApiResponse
from rest_framework.permissions import SAFE_METHODS

from sync_engine.object_settings import (
    SETTINGS_CLASSES,
    CustomObjectSettings,
    changeable_settings,
    wizard_only_note,
)

NOT_CONNECTED = "Not connected yet: run `manage.py connect` or use the Connection tab."

_MESSAGES = {"type": "array", "items": {"type": "string"}}
_ERROR = {
    "type": "object",
    "properties": {"detail": {"type": "string"}},
    "required": ["detail"],
}
_VALIDATION_ERROR = {
    "type": "object",
    "description": "Messages per field sent: a list of messages, or for `settings` one list "
    "per setting. Errors about the request as a whole are under `non_field_errors`.",
    "additionalProperties": {
        "oneOf": [_MESSAGES, {"type": "object", "additionalProperties": _MESSAGES}]
    },
    "example": {
        "allocated_to_hubspot": ["Ensure this value is greater than or equal to 1."],
        "bogus": ["Unknown field: this endpoint takes allocated_to_hubspot."],
    },
}


class ApiAutoSchema(AutoSchema):
    """Adds the error answers (400, 401, 403, 404, 406, 409, 415, 429, 503) to each operation.
    A view says more of some with ``not_found``, ``conflict`` (or by method), ``bad_request``
    and ``remote_unavailable`` (by method), and ``no_parameters`` for a GET that takes none."""

    def _component(self, name: str, schema: dict) -> dict:
        component = ResolvedComponent(
            name=name, type=ResolvedComponent.SCHEMA, object=name, schema=schema
        )
        self.registry.register_on_missing(component)
        return component.ref

    def _error_responses(self) -> dict[int, OpenApiResponse]:
        error = self._component("Error", _ERROR)
        writes = self.method not in SAFE_METHODS
        responses = {
            401: OpenApiResponse(
                error,
                description="Not logged in: no session and no `Authorization: Token <key>`, "
                "or a token that is wrong, expired or revoked.",
            ),
            429: OpenApiResponse(error, description="Too many requests: wait and retry."),
        }
        # Serializers among the parameters are the query filters, which the view validates;
        # a list without filters refuses any parameter (``no_parameters``).
        filtered = any(is_serializer(p) for p in self.get_override_parameters())
        if writes or filtered or getattr(self.view, "no_parameters", False):
            invalid = self._component("ValidationError", _VALIDATION_ERROR)
            default = (
                "A value that isn't allowed, or a field the endpoint doesn't take (messages "
                "per field); or a body that isn't JSON (`detail`). Nothing was changed."
                if writes or filtered
                else "A query parameter: this endpoint takes none."
            )
            responses[400] = OpenApiResponse(
                {"oneOf": [invalid, error]} if writes else invalid,
                # More to say for some (e.g. why a record can't be queued), by method.
                description=getattr(self.view, "bad_request", {}).get(self.method, default),
            )
        if writes:
            responses[415] = OpenApiResponse(
                error, description="A body that isn't `application/json`: bodies are JSON."
            )
            responses[403] = OpenApiResponse(
                error,
                description="Only integration admins change anything (viewers read); a "
                "session also needs the CSRF token (`X-CSRFToken`).",
            )
        # Every /api/v1/ endpoint but the audit log needs the integration (``_integration``).
        default = NOT_CONNECTED if self.path.startswith("/api/v1/") else None
        if not_found := getattr(self.view, "not_found", default):
            responses[404] = OpenApiResponse(error, description=not_found)
        conflict = getattr(self.view, "conflict", None)
        if isinstance(conflict, dict):  # by method
            conflict = conflict.get(self.method)
        if conflict:
            responses[409] = OpenApiResponse(error, description=conflict)
        if unavailable := getattr(self.view, "remote_unavailable", {}).get(self.method):
            responses[503] = OpenApiResponse(error, description=unavailable)
        if not any(r.media_type == "application/json" for r in self.view.get_renderers()):
            responses[406] = OpenApiResponse(
                error, description="The Accept header asks for a format this endpoint lacks."
            )
        return responses

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        for code, response in self._error_responses().items():
            responses.setdefault(
                str(code),
                self._get_response_for_code(response, str(code), ["application/json"], direction),
            )
        return dict(sorted(responses.items()))


# --- settings, typed per object pair -------------------------------------------------------
_SETTING_TYPES = {
    "str": {"type": "string"},
    "str | None": {"type": "string", "nullable": True},
    "bool": {"type": "boolean"},
    "dict": {"type": "object", "additionalProperties": True},
}
PAIR_SETTINGS = {**SETTINGS_CLASSES, "custom:<n>": CustomObjectSettings}
# Each pair's inclusion list (``HUBSPOT_LIST_IDS``): what it holds and what it limits.
_LIST_ID_DESCRIPTIONS = {
    "contacts": "A HubSpot list id (an active contact list; a JSON number is taken too): only "
    "its contacts sync. Empty or null: every contact.",
    "companies": "A HubSpot list id (an active company list; a JSON number is taken too): only "
    "its companies sync to Salesforce and take Salesforce's updates (a new Salesforce account "
    "still creates its company). Empty or null: every company.",
}


def settings_schema(object_name: str, cls: type, *, changes: bool) -> dict:
    """One pair's settings: names, types, allowed values and defaults. ``changes``: what a
    PATCH may send (any of them; none that only a wizard or the integration sets)."""
    wizard_only = set(getattr(cls, "WIZARD_ONLY", ()))
    read_only = set(getattr(cls, "READ_ONLY", ()))
    changeable = changeable_settings(cls)
    properties = {}
    for setting in fields(cls):
        if changes and setting.name not in changeable:
            continue
        prop = dict(_SETTING_TYPES[setting.type])  # a new type needs documenting here
        if setting.name in cls.CHOICES:
            prop["enum"] = list(cls.CHOICES[setting.name])
        if setting.name in getattr(cls, "HUBSPOT_LIST_IDS", ()):
            prop["description"] = _LIST_ID_DESCRIPTIONS[object_name]
            if not changes:
                prop["pattern"] = "^[0-9]+$"
        if setting.name in wizard_only:
            prop["readOnly"] = True
            prop["description"] = wizard_only_note(cls)
        elif setting.name in read_only:
            prop["readOnly"] = True
            prop["description"] = "Set by the integration."
        if not changes:
            # Not on a change: a key left out stays as it is, and Swagger's "Try it out"
            # would fill every default in, resetting the settings the admin didn't mean to.
            default = setting.default_factory() if setting.default is MISSING else setting.default
            prop["default"] = default
        properties[setting.name] = prop
    schema = {
        "type": "object",
        "title": f"{object_name} settings" + (" to change" if changes else ""),
        "properties": properties,
        "additionalProperties": False,
    }
    if not changes:
        schema["required"] = list(properties)
    return schema


def _component_name(object_name: str, *, changes: bool) -> str:
    base = "CustomObject" if object_name == "custom:<n>" else object_name.capitalize()
    return f"{base}Settings{'Changes' if changes else ''}"


class ObjectSettingsFieldExtension(OpenApiSerializerFieldExtension):
    """``settings``: one schema per object pair (the one in the path applies)."""

    target_class = "integration_admin.api.serializers.ObjectSettingsField"

    def map_serializer_field(self, auto_schema, direction):
        changes = self.target.changes
        refs = []
        for object_name, cls in PAIR_SETTINGS.items():
            component = ResolvedComponent(
                name=_component_name(object_name, changes=changes),
                type=ResolvedComponent.SCHEMA,
                object=(cls, changes),
                schema=settings_schema(object_name, cls, changes=changes),
            )
            auto_schema.registry.register_on_missing(component)
            refs.append(component.ref)
        pairs = ", ".join(
            f"{_component_name(name, changes=changes)} for {name}" for name in PAIR_SETTINGS
        )
        return {
            # A partial change may fit several pairs' schemas.
            ("anyOf" if changes else "oneOf"): refs,
            "description": f"The settings of the object pair in the path: {pairs}."
            + (" Only the settings to change." if changes else ""),
        }
