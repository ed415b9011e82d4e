"""Running SOQL against the store: filtering, sorting, paging with query locators, rendering.

A query snapshots the ordered ids of its result; pages are rendered from the current records
when fetched. Locators (``01g...-2000``) expire after a TTL of emulator time and only a limited
number stay open, like Salesforce's server-side cursors.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from .errors import SfError
from .schema import FieldDef, ObjectDef
from .soql import CompiledQuery, compile_query

if TYPE_CHECKING:
    from .app import SalesforceApp

DEFAULT_BATCH = 2000
MIN_BATCH = 200
_BATCH_RE = re.compile(r"batchSize\s*=\s*(\d+)", re.IGNORECASE)


def batch_size_from(header: str | None) -> int:
    if not header:
        return DEFAULT_BATCH
    m = _BATCH_RE.search(header)
    if not m:
        return DEFAULT_BATCH
    return max(MIN_BATCH, min(DEFAULT_BATCH, int(m.group(1))))


def _hidden(rec: dict[str, Any]) -> bool:
    """What only queryAll returns: deleted records and archived activities."""
    return bool(rec.get("IsDeleted") or rec.get("IsArchived"))


@dataclass
class Locator:
    id: str
    compiled: CompiledQuery
    ids: list[str]
    query_all: bool
    batch: int
    user_id: str
    created: datetime


class OrgResolver:
    """Binds SOQL compilation to this org's schema, records and the requesting user."""

    def __init__(self, app: SalesforceApp, user_id: str, query_all: bool) -> None:
        self.app = app
        self.user_id = user_id
        self.query_all = query_all

    def object(self, name: str) -> ObjectDef | None:
        obj = self.app.schema.get(name)
        grants = self.app.org.record_access.get(self.user_id, {})
        if obj is not None and grants.get(obj.name) == "none":
            return None  # no Read on the object: SOQL doesn't know the type (INVALID_TYPE)
        return obj

    def fields(self, obj: ObjectDef) -> dict[str, FieldDef]:
        return self.app.visible_fields(obj, self.user_id)

    def record(self, record_id: str) -> tuple[ObjectDef, dict[str, Any]] | None:
        return self.app.find_record(record_id)

    def children(self, obj: ObjectDef, field: str, parent_id: str) -> list[dict[str, Any]]:
        store = self.app.org.store
        table = store.table(obj.name)
        out = []
        ids = list(store.lookup(obj.name, field, parent_id, case_sensitive=True))
        self.app.writer.archive_activities(obj.name, (table[i] for i in ids))
        for child_id in ids:
            rec = self.app.visible_version(obj.name, table[child_id])
            if rec is not None and (self.query_all or not _hidden(rec)):
                out.append(rec)
        return out

    def child_relationship(self, parent: ObjectDef, name: str) -> tuple[ObjectDef, str] | None:
        return self.app.schema.child_relationship(parent, name)

    def today(self) -> date:
        return self.app.clock.now().date()

    def semi_join_values(self, compiled: CompiledQuery) -> set[Any]:
        rows = self.app.queries.scan(compiled, query_all=False)
        get = compiled.fields[0].getter
        return {v for v in (get(r) for r in rows) if v is not None}


class QueryEngine:
    def __init__(self, app: SalesforceApp) -> None:
        self.app = app
        self.locators: OrderedDict[str, Locator] = OrderedDict()
        self.ttl = timedelta(minutes=15)
        self.max_open = 50

    def reset(self) -> None:
        self.locators.clear()

    def compile(self, soql: str, user_id: str, query_all: bool) -> CompiledQuery:
        return compile_query(soql, OrgResolver(self.app, user_id, query_all))

    def scan(self, compiled: CompiledQuery, *, query_all: bool) -> list[dict[str, Any]]:
        """Matching records, sorted and cut by OFFSET/LIMIT."""
        obj_name = compiled.obj.name
        table = self.app.org.store.table(obj_name)
        pred = compiled.predicate
        pending = self.app.settle_pending(obj_name)
        self.app.writer.archive_activities(obj_name, table.values())
        records: Any = table.values()
        if pending:
            visible = self.app.visible_version
            records = [v for v in (visible(obj_name, r) for r in records) if v is not None]
        if query_all:
            rows = list(records) if pred is None else [r for r in records if pred(r)]
        elif pred is None:
            rows = [r for r in records if not _hidden(r)]
        else:
            rows = [r for r in records if not _hidden(r) and pred(r)]
        compiled.sort(rows)
        if compiled.offset:
            rows = rows[compiled.offset :]
        if compiled.limit is not None:
            rows = rows[: compiled.limit]
        return rows

    def run(self, soql: str, *, user_id: str, query_all: bool, version: str, batch: int) -> dict:
        compiled = self.compile(soql, user_id, query_all)
        rows = self.scan(compiled, query_all=query_all)
        if compiled.count_only:
            return {"totalSize": len(rows), "done": True, "records": []}
        total = len(rows)
        page = rows[:batch]
        result: dict[str, Any] = {"totalSize": total, "done": total <= batch}
        if total > batch:
            locator = self._open(compiled, [r["Id"] for r in rows], query_all, batch, user_id)
            result["nextRecordsUrl"] = self._url(version, query_all, locator.id, batch)
        result["records"] = self.render_rows(compiled, page, version, query_all)
        return result

    def more(self, locator_text: str, *, user_id: str, version: str, query_all: bool) -> dict:
        locator_id, _, offset_text = locator_text.partition("-")
        locator = self.locators.get(locator_id)
        now = self.app.clock.now()
        if locator is not None and now - locator.created > self.ttl:
            del self.locators[locator_id]
            locator = None
        if locator is None or not offset_text.isdigit():
            raise SfError("INVALID_QUERY_LOCATOR", "invalid query locator", None)
        offset = int(offset_text)
        ids = locator.ids[offset : offset + locator.batch]
        table = self.app.org.store.table(locator.compiled.obj.name)
        obj_name = locator.compiled.obj.name
        rows = []
        for record_id in ids:
            rec = table.get(record_id)
            if rec is not None:
                rec = self.app.visible_version(obj_name, rec)
            if rec is not None:
                rows.append(rec)
        end = offset + len(ids)
        result: dict[str, Any] = {"totalSize": len(locator.ids), "done": end >= len(locator.ids)}
        if not result["done"]:
            result["nextRecordsUrl"] = self._url(version, locator.query_all, locator.id, end)
        result["records"] = self.render_rows(locator.compiled, rows, version, locator.query_all)
        return result

    def _open(
        self, compiled: CompiledQuery, ids: list[str], query_all: bool, batch: int, user_id: str
    ) -> Locator:
        locator = Locator(
            id=self.app.org.store.new_id("01g"),
            compiled=compiled,
            ids=ids,
            query_all=query_all,
            batch=batch,
            user_id=user_id,
            created=self.app.clock.now(),
        )
        self.locators[locator.id] = locator
        while len(self.locators) > self.max_open:
            self.locators.popitem(last=False)
        return locator

    def expire_all(self) -> int:
        count = len(self.locators)
        self.locators.clear()
        return count

    @staticmethod
    def _url(version: str, query_all: bool, locator_id: str, offset: int) -> str:
        resource = "queryAll" if query_all else "query"
        return f"/services/data/v{version}/{resource}/{locator_id}-{offset}"

    # --- rendering -----------------------------------------------------------------------
    def render_rows(
        self, compiled: CompiledQuery, rows: list[dict], version: str, query_all: bool
    ) -> list[dict]:
        base = f"/services/data/v{version}/sobjects/"
        type_name = compiled.obj.name
        url = base + type_name + "/"
        plan = compiled.plan
        if all(entry[0] == "field" for entry in plan):
            names = [entry[1] for entry in plan]
            out = []
            for rec in rows:
                item: dict[str, Any] = {"attributes": {"type": type_name, "url": url + rec["Id"]}}
                get = rec.get
                for name in names:
                    item[name] = get(name)
                out.append(item)
            return out
        return [self._render(type_name, rec, plan, base, version, query_all) for rec in rows]

    def _render(
        self, type_name: str, rec: dict, plan: list[tuple], base: str, version: str, query_all: bool
    ) -> dict:
        item: dict[str, Any] = {
            "attributes": {"type": type_name, "url": f"{base}{type_name}/{rec['Id']}"}
        }
        for entry in plan:
            kind = entry[0]
            if kind == "field":
                item[entry[1]] = rec.get(entry[1])
            elif kind == "rel":
                _, rel_name, ref_field, sub = entry
                target_id = rec.get(ref_field)
                found = self.app.find_record(target_id) if target_id else None
                if found is None:
                    item[rel_name] = None
                else:
                    item[rel_name] = self._render(
                        found[0].name, found[1], sub, base, version, query_all
                    )
            else:  # child subquery
                _, rel_name, child_obj, fk, child = entry
                resolver = OrgResolver(self.app, "", query_all)
                children = [
                    r
                    for r in resolver.children(child_obj, fk, rec["Id"])
                    if child.predicate is None or child.predicate(r)
                ]
                child.sort(children)
                if child.offset:
                    children = children[child.offset :]
                if child.limit is not None:
                    children = children[: child.limit]
                if not children:
                    item[rel_name] = None
                else:
                    item[rel_name] = {
                        "totalSize": len(children),
                        "done": True,
                        "records": self.render_rows(child, children, version, query_all),
                    }
        return item
