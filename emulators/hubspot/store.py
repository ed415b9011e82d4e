"""Records and the per-type stores that hold them.

A record keeps its current property values (strings) and, per property, every write as
``(value, timestamp_ms, actor)``; that history feeds ``propertiesWithHistory``. Each type store
also keeps the unique-value indexes (contact email, custom unique properties) and an index by
modification time that search uses to answer ``lastmodifieddate > x`` without a full scan.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass


@dataclass(frozen=True)
class Actor:
    """Who wrote a value: an integration (API token) or a person in the CRM UI, or the system."""

    source_type: str  # INTEGRATION | CRM_UI | IMPORT | API ...
    source_id: str | None = None
    user_id: int | None = None
    label: str | None = None

    def history_fields(self) -> dict:
        out: dict = {"sourceType": self.source_type}
        if self.source_id is not None:
            out["sourceId"] = self.source_id
        if self.label is not None:
            out["sourceLabel"] = self.label
        if self.user_id is not None:
            out["updatedByUserId"] = self.user_id
        return out


SYSTEM = Actor("API", None, None, None)


class Record:
    __slots__ = (
        "id",
        "type_id",
        "props",
        "history",
        "created",
        "updated",
        "archived",
        "archived_at",
    )

    def __init__(self, record_id: int, type_id: str, created: int) -> None:
        self.id = record_id
        self.type_id = type_id
        self.props: dict[str, str] = {}
        self.history: dict[str, list[tuple[str, int, Actor]]] = {}
        self.created = created
        self.updated = created
        self.archived = False
        self.archived_at: int | None = None

    def __getstate__(self) -> tuple:
        return (
            self.id,
            self.type_id,
            self.props,
            self.history,
            self.created,
            self.updated,
            self.archived,
            self.archived_at,
        )

    def __setstate__(self, state: tuple) -> None:
        (
            self.id,
            self.type_id,
            self.props,
            self.history,
            self.created,
            self.updated,
            self.archived,
            self.archived_at,
        ) = state


def unique_key(prop: str, value: str) -> str:
    # Emails compare case-insensitively; other unique values exactly.
    return value.lower() if prop == "email" else value


class TypeStore:
    """All records of one object type."""

    def __init__(self, type_id: str) -> None:
        self.type_id = type_id
        self.records: dict[int, Record] = {}  # insertion order == id order (ids only grow)
        self.unique: dict[str, dict[str, int]] = {}
        # (updated_ms, id) per write; entries whose stamp no longer matches the record are stale
        # and skipped. Kept sorted lazily, compacted when mostly stale.
        self._mod_index: list[tuple[int, int]] = []
        self._mod_sorted = True

    # --- modification index -------------------------------------------------------------
    def touch(self, record: Record) -> None:
        entry = (record.updated, record.id)
        if self._mod_index and entry < self._mod_index[-1]:
            self._mod_sorted = False
        self._mod_index.append(entry)
        if len(self._mod_index) > 2 * len(self.records) + 1024:
            self._compact()

    def _compact(self) -> None:
        self._mod_index = sorted((r.updated, r.id) for r in self.records.values())
        self._mod_sorted = True

    def modified_between(self, low: int | None, high: int | None) -> list[Record]:
        """Live records with ``low <= updated <= high`` (either bound optional), in (updated, id)
        order."""
        if not self._mod_sorted:
            self._mod_index.sort()
            self._mod_sorted = True
        index = self._mod_index
        start = 0 if low is None else bisect.bisect_left(index, (low, -1))
        stop = len(index) if high is None else bisect.bisect_right(index, (high, 1 << 62))
        records = self.records
        out = []
        for i in range(start, stop):
            stamp, record_id = index[i]
            record = records.get(record_id)
            if record is not None and record.updated == stamp:
                out.append(record)
        if len(out) * 2 + 1024 < stop - start:
            self._compact()
        return self._dedupe(out)

    @staticmethod
    def _dedupe(records: list[Record]) -> list[Record]:
        # A record re-touched at the same millisecond appears twice; keep the first.
        seen: set[int] = set()
        out = []
        for record in records:
            if record.id not in seen:
                seen.add(record.id)
                out.append(record)
        return out

    # --- unique values ------------------------------------------------------------------
    def unique_owner(self, prop: str, value: str) -> int | None:
        return self.unique.get(prop, {}).get(unique_key(prop, value))

    def claim_unique(self, prop: str, value: str, record_id: int) -> None:
        self.unique.setdefault(prop, {})[unique_key(prop, value)] = record_id

    def release_unique(self, prop: str, value: str, record_id: int) -> None:
        index = self.unique.get(prop)
        key = unique_key(prop, value)
        if index is not None and index.get(key) == record_id:
            del index[key]

    def release_all(self, record: Record, unique_props: list[str]) -> None:
        for prop in unique_props:
            value = record.props.get(prop)
            if value:
                self.release_unique(prop, value, record.id)
        for extra in (record.props.get("hs_additional_emails") or "").split(";"):
            if extra:
                self.release_unique("email", extra, record.id)
