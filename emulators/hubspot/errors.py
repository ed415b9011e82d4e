"""HubSpot error bodies.

Every error HubSpot answers with has the same envelope:
``{"status":"error","message","correlationId","category","context"?,"errors"?,"links"?}``.
The client never decodes these (it raises ``ApiException`` with the raw body), but the engine
parses them, so categories and messages follow what HubSpot really sends.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Any

from ..core.http import ApiError, Response


def correlation_id() -> str:
    return str(uuid.uuid4())


def error_body(
    category: str,
    message: str,
    *,
    context: dict[str, list[str]] | None = None,
    errors: list[dict] | None = None,
    sub_category: str | None = None,
    links: dict[str, str] | None = None,
    **extra: Any,
) -> dict:
    body: dict[str, Any] = {
        "status": "error",
        "message": message,
        "correlationId": correlation_id(),
        "category": category,
    }
    if sub_category:
        body["subCategory"] = sub_category
    if context:
        body["context"] = context
    if errors:
        body["errors"] = errors
    if links:
        body["links"] = links
    body.update(extra)
    return body


def error_response(status: int, category: str, message: str, **kwargs: Any) -> Response:
    return Response.json(status, error_body(category, message, **kwargs))


def hs_error(status: int, category: str, message: str, **kwargs: Any) -> ApiError:
    """An exception a handler raises; the core turns it into the response."""
    return ApiError(error_response(status, category, message, **kwargs))


def validation_error(message: str, **kwargs: Any) -> ApiError:
    return hs_error(400, "VALIDATION_ERROR", message, **kwargs)


def not_found(message: str = "resource not found", **kwargs: Any) -> ApiError:
    return hs_error(404, "OBJECT_NOT_FOUND", message, **kwargs)


def conflict(message: str, **kwargs: Any) -> ApiError:
    return hs_error(409, "CONFLICT", message, **kwargs)


def missing_scopes_response(required: list[str]) -> Response:
    """HubSpot's 403 for a token whose app lacks a scope: any one of ``required`` would do."""
    return error_response(
        403,
        "MISSING_SCOPES",
        "This app hasn't been granted all required scopes to make this call.",
        errors=[
            {
                "message": "One or more of the following scopes are required.",
                "context": {"requiredGranularScopes": list(required)},
            }
        ],
        links={"scopes": "https://developers.hubspot.com/scopes"},
    )


@dataclass(frozen=True)
class PropertyProblem:
    """One invalid property value, as listed inside a VALIDATION_ERROR message."""

    name: str
    error: str  # INVALID_EMAIL, INVALID_OPTION, PROPERTY_DOESNT_EXIST, ...
    message: str
    value: str | None = None

    def as_result(self, portal_id: int) -> dict:
        result: dict[str, Any] = {
            "isValid": False,
            "message": self.message,
            "error": self.error,
            "name": self.name,
            "localizedErrorMessage": self.message,
        }
        if self.value is not None:
            result["propertyValue"] = self.value
        result["portalId"] = portal_id
        return result


def property_errors_body(problems: list[PropertyProblem], portal_id: int) -> dict:
    """The body HubSpot sends for invalid property values (message embeds a JSON list)."""
    listed = json.dumps([p.as_result(portal_id) for p in problems], separators=(",", ":"))
    return error_body(
        "VALIDATION_ERROR",
        f"Property values were not valid: {listed}",
        errors=[
            {"message": p.message, "code": p.error, "context": {"propertyName": [p.name]}}
            for p in problems
        ],
    )


def property_errors(problems: list[PropertyProblem], portal_id: int) -> ApiError:
    return ApiError(Response.json(400, property_errors_body(problems, portal_id)))


def standard_error(
    category: str,
    message: str,
    *,
    context: dict[str, list[str]] | None = None,
    errors: list[dict] | None = None,
    sub_category: str | None = None,
) -> dict:
    """One entry of a 207 batch response's ``errors`` (the client's ``StandardError``)."""
    item: dict[str, Any] = {
        "status": "error",
        "category": category,
        "message": message,
        "context": context or {},
        "links": {},
        "errors": errors or [],
    }
    if sub_category:
        item["subCategory"] = sub_category
    return item


def batch_item_error(body: dict, context: dict[str, list[str]] | None = None) -> dict:
    """Turn a top-level error body into a per-input batch error."""
    merged = dict(body.get("context") or {})
    merged.update(context or {})
    return standard_error(
        body["category"], body["message"], context=merged, errors=body.get("errors")
    )


def rate_limit_body(policy: str) -> dict:
    """HubSpot's 429 body; ``policyName`` tells which limit was hit."""
    label = {
        "TEN_SECONDLY_ROLLING": "ten_secondly_rolling",
        "DAILY": "daily",
        "SECONDLY": "secondly",
    }.get(policy, policy.lower())
    return {
        "status": "error",
        "message": f"You have reached your {label} limit.",
        "errorType": "RATE_LIMIT",
        "correlationId": correlation_id(),
        "policyName": policy,
        "requestId": uuid.uuid4().hex,
        "category": "RATE_LIMITS",
    }


SERVER_ERROR_HTML = (
    "<!DOCTYPE html><html><head><title>{status} {reason}</title></head>"
    "<body><h1>{status} {reason}</h1><p>The server encountered a temporary error and could "
    "not complete your request. Please try again in 30 seconds.</p></body></html>"
)


def html_error(status: int) -> Response:
    reason = {
        500: "Internal Server Error",
        502: "Bad Gateway",
        503: "Service Unavailable",
        504: "Gateway Timeout",
    }.get(status, "Server Error")
    return Response.text(
        status, SERVER_ERROR_HTML.format(status=status, reason=reason), "text/html"
    )
