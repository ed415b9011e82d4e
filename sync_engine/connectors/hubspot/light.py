"""Light stand-ins for hubspot-api-client's response models, built from the JSON body.

The client turns every response into model objects and parses every datetime with dateutil
(about a quarter of a sync cycle's time on a backfill). The hot endpoints (search, batch read,
batch create/update/upsert) are read with ``_preload_content=False`` instead and the body is
wrapped here: same attribute names as the client's models (``.id``, ``.properties``,
``.properties_with_history``, ``.updated_at``, ``.archived``…; ``.results``, ``.errors``,
``.paging.next.after``, ``.total``), datetimes parsed only when an attribute is read.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from dateutil import parser as date_parser


def parse_datetime(value: Any) -> datetime | None:
    """An ISO stamp as the client would give it (timezone-aware), or None."""
    if value is None or isinstance(value, datetime):
        return value
    try:
        parsed = datetime.fromisoformat(value)
    except (TypeError, ValueError):
        parsed = date_parser.isoparse(str(value))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _snake(name: str) -> str:
    out = []
    for char in name:
        if char.isupper():
            out.append("_")
            out.append(char.lower())
        else:
            out.append(char)
    return "".join(out)


class LightModel:
    """Attributes named as the client's models name them; ``to_dict()`` like theirs."""

    __slots__ = ("_raw",)
    _times: tuple[str, ...] = ()

    def __init__(self, raw: dict) -> None:
        self._raw = raw

    def to_dict(self) -> dict:
        return {_snake(k): _plain(getattr(self, _snake(k))) for k in self._raw}

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and other._raw == self._raw

    __hash__ = None  # type: ignore[assignment]  # mutable, like the client's models

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._raw!r})"


def _plain(value: Any) -> Any:
    if isinstance(value, LightModel):
        return value.to_dict()
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


class Generic(LightModel):
    """Any other nested object: camelCase keys read as snake_case attributes."""

    __slots__ = ()

    def __getattr__(self, name: str) -> Any:
        raw = object.__getattribute__(self, "_raw")
        for key in (name, _camel(name)):
            if key in raw:
                return _wrap(raw[key])
        if name.startswith("__"):
            raise AttributeError(name)
        return None


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(p[:1].upper() + p[1:] for p in rest)


def _wrap(value: Any) -> Any:
    if isinstance(value, dict):
        return Generic(value)
    if isinstance(value, list):
        return [_wrap(v) for v in value]
    return value


class ValueWithTimestamp(LightModel):
    """One entry of a property's history."""

    __slots__ = ()

    @property
    def value(self) -> Any:
        return self._raw.get("value")

    @property
    def timestamp(self) -> datetime | None:
        return parse_datetime(self._raw.get("timestamp"))

    @property
    def source_type(self) -> Any:
        return self._raw.get("sourceType")

    @property
    def source_id(self) -> Any:
        return self._raw.get("sourceId")

    @property
    def source_label(self) -> Any:
        return self._raw.get("sourceLabel")

    @property
    def updated_by_user_id(self) -> Any:
        return self._raw.get("updatedByUserId")


class HubSpotObject(LightModel):
    """A CRM record (``SimplePublicObject``, its upsert and with-associations variants)."""

    __slots__ = ("id", "properties", "_history")

    def __init__(self, raw: dict) -> None:
        super().__init__(raw)
        self.id = raw.get("id")
        self.properties = raw.get("properties") or {}
        self._history: dict | None = None

    @property
    def properties_with_history(self) -> dict[str, list[ValueWithTimestamp]] | None:
        if self._history is None:
            raw = self._raw.get("propertiesWithHistory")
            if raw is None:
                return None
            self._history = {
                name: [ValueWithTimestamp(e) for e in entries or []]
                for name, entries in raw.items()
            }
        return self._history

    @property
    def created_at(self) -> datetime | None:
        return parse_datetime(self._raw.get("createdAt"))

    @property
    def updated_at(self) -> datetime | None:
        return parse_datetime(self._raw.get("updatedAt"))

    @property
    def archived_at(self) -> datetime | None:
        return parse_datetime(self._raw.get("archivedAt"))

    @property
    def archived(self) -> bool | None:
        return self._raw.get("archived")

    @property
    def new(self) -> bool | None:
        return self._raw.get("new")

    @property
    def url(self) -> str | None:
        return self._raw.get("url")

    @property
    def associations(self) -> Any:
        raw = self._raw.get("associations")
        return {k: _wrap(v) for k, v in raw.items()} if isinstance(raw, dict) else raw

    def to_dict(self) -> dict:
        out = super().to_dict()
        out["properties"] = self.properties
        return out


class StandardError(LightModel):
    """One error of a batch response (``.category``, ``.message``, ``.context``…)."""

    __slots__ = ()

    @property
    def status(self) -> Any:
        return self._raw.get("status")

    @property
    def id(self) -> Any:
        return self._raw.get("id")

    @property
    def category(self) -> Any:
        return self._raw.get("category")

    @property
    def sub_category(self) -> Any:
        return self._raw.get("subCategory")

    @property
    def message(self) -> Any:
        return self._raw.get("message")

    @property
    def context(self) -> dict | None:
        return self._raw.get("context")

    @property
    def links(self) -> dict | None:
        return self._raw.get("links")

    @property
    def errors(self) -> list:
        return [_wrap(e) for e in self._raw.get("errors") or []]


class BatchResponse(LightModel):
    """A batch call's answer: ``.results`` (records), ``.errors`` (207), ``.status``."""

    __slots__ = ("results", "errors")

    def __init__(self, raw: dict) -> None:
        super().__init__(raw)
        self.results = [HubSpotObject(r) for r in raw.get("results") or []]
        errors = raw.get("errors")
        self.errors = [StandardError(e) for e in errors] if errors is not None else None

    @property
    def status(self) -> Any:
        return self._raw.get("status")

    @property
    def num_errors(self) -> Any:
        return self._raw.get("numErrors")

    @property
    def requested_at(self) -> datetime | None:
        return parse_datetime(self._raw.get("requestedAt"))

    @property
    def started_at(self) -> datetime | None:
        return parse_datetime(self._raw.get("startedAt"))

    @property
    def completed_at(self) -> datetime | None:
        return parse_datetime(self._raw.get("completedAt"))

    @property
    def links(self) -> dict | None:
        return self._raw.get("links")


class SearchPage(LightModel):
    """A search page: ``.total``, ``.results``, ``.paging.next.after``."""

    __slots__ = ("results",)

    def __init__(self, raw: dict) -> None:
        super().__init__(raw)
        self.results = [HubSpotObject(r) for r in raw.get("results") or []]

    @property
    def total(self) -> Any:
        return self._raw.get("total")

    @property
    def paging(self) -> Generic | None:
        raw = self._raw.get("paging")
        return Generic(raw) if raw else None


def batch_response(raw: Any) -> BatchResponse:
    return BatchResponse(raw if isinstance(raw, dict) else {})


def search_page(raw: Any) -> SearchPage:
    return SearchPage(raw if isinstance(raw, dict) else {})
