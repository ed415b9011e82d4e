"""Salesforce error values and bodies.

Single-record REST answers ``[{"message","errorCode","fields"}]`` with a 4xx status; sObject
Collections and composite sub-results report the same codes per record as ``statusCode``.
``SfError`` subclasses ValueError so control-plane actions that fail answer 400 too.
"""

from __future__ import annotations

from typing import Any

from ..core.http import ApiError, Response

ROLLED_BACK = (
    "Record rolled back because not all records were valid and the request was using AllOrNone "
    "header"
)
INVALID_FIELD_HINT = (
    "If you are attempting to use a custom field, be sure to append the '__c' after the custom "
    "field name. Please reference your WSDL or the describe call for the appropriate names."
)
INVALID_TYPE_HINT = (
    "If you are attempting to use a custom object, be sure to append the '__c' after the entity "
    "name. Please reference your WSDL or the describe call for the appropriate names."
)


class SfError(ValueError):
    def __init__(
        self,
        code: str,
        message: str,
        fields: list[str] | None = (),  # None: omit the key (query, auth and routing errors)
        status: int = 400,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.fields = None if fields is None else list(fields)
        self.status = status
        self.extra = extra or {}

    def item(self) -> dict[str, Any]:
        out: dict[str, Any] = dict(self.extra)
        out["message"] = self.message
        out["errorCode"] = self.code
        if self.fields is not None:
            out["fields"] = self.fields
        return out

    def record_item(self) -> dict[str, Any]:
        """The per-record form used by sObject Collections and Bulk results."""
        out: dict[str, Any] = dict(self.extra)
        out["statusCode"] = self.code
        out["message"] = self.message
        out["fields"] = self.fields or []
        return out

    def response(self, headers: dict[str, str] | None = None) -> Response:
        return Response.json(self.status, [self.item()], headers)

    def api_error(self) -> ApiError:
        return ApiError(self.response())


def not_found() -> SfError:
    return SfError("NOT_FOUND", "The requested resource does not exist", None, 404)


def entity_deleted() -> SfError:
    return SfError("ENTITY_IS_DELETED", "entity is deleted", [], 404)


def invalid_session() -> SfError:
    return SfError("INVALID_SESSION_ID", "Session expired or invalid", None, 401)


def limit_exceeded() -> SfError:
    return SfError("REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.", None, 403)


def malformed_id(value: object, label: str | None = None, field: str | None = None) -> SfError:
    if label:
        return SfError(
            "MALFORMED_ID", f"{label}: id value of incorrect type: {value}", [field or "Id"]
        )
    return SfError("MALFORMED_ID", f"malformed id {value}", [])


def invalid_field(name: str, obj: str) -> SfError:
    return SfError("INVALID_FIELD", f"No such column '{name}' on sobject of type {obj}", [])


def invalid_type(name: str) -> SfError:
    """SOQL ``FROM`` an unknown object (a REST path to one is a plain 404 NOT_FOUND)."""
    return SfError(
        "INVALID_TYPE", f"sObject type '{name}' is not supported. {INVALID_TYPE_HINT}", None
    )
