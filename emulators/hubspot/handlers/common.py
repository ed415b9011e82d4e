"""Small helpers shared by the route handlers."""

from __future__ import annotations

import base64
import json
from typing import TYPE_CHECKING, Any

from ...core.http import ApiError, Request, Response
from ..errors import validation_error
from ..store import Actor

if TYPE_CHECKING:
    from ..app import HubSpotApp

MAX_BATCH = 100


def json_body(request: Request) -> Any:
    return request.json()


def body_object(request: Request) -> dict:
    body = request.json()
    if body is None:
        return {}
    if not isinstance(body, dict):
        raise validation_error("The request body must be a JSON object")
    return body


def flag(request: Request, name: str, default: bool = False) -> bool:
    """Booleans arrive as ``archived=False`` (Python ``str()``) or ``true``; accept any case."""
    value = request.arg(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in ("true", "1", "yes")


def int_arg(request: Request, name: str, default: int, *, low: int, high: int) -> int:
    raw = request.arg(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise validation_error(f"{name} must be an integer, got {raw!r}") from None
    if not low <= value <= high:
        raise validation_error(f"{name} must be between {low} and {high}, got {value}")
    return value


def actor(request: Request) -> Actor:
    user = getattr(request, "hs_user", None)
    return user.actor() if user is not None else Actor("API")


def batch_inputs(body: dict, limit: int = MAX_BATCH) -> list:
    inputs = body.get("inputs")
    if not isinstance(inputs, list):
        raise validation_error("inputs must be a list")
    if len(inputs) > limit:
        raise validation_error(
            f"Batch input exceeds the limit of {limit} inputs: got {len(inputs)}",
            context={"inputs": [str(len(inputs))]},
        )
    return inputs


def encode_cursor(value: int) -> str:
    """Paging cursors are opaque to clients; we encode the next record id."""
    return base64.urlsafe_b64encode(str(value).encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> int:
    if not cursor:
        return 0
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        return int(base64.urlsafe_b64decode(padded.encode()).decode())
    except (ValueError, UnicodeDecodeError):
        raise validation_error(f"Invalid paging cursor: {cursor}") from None


def error_json(error: ApiError) -> dict:
    return json.loads(error.response.body.decode("utf-8"))


def ok(payload: Any, status: int = 200) -> Response:
    return Response.json(status, payload)


def now_ms(app: HubSpotApp) -> int:
    return app.now_ms()
