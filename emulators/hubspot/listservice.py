"""List operations: creation, DYNAMIC re-evaluation on every record write, manual membership."""

from __future__ import annotations

from typing import Any

from .lists import PROCESSING_TYPES, HList, Predicate, compile_branch
from .schema import ObjectType
from .state import HubSpotState
from .store import Record


class ListError(ValueError):
    """An invalid list request (answered with 400)."""


class ListService:
    def __init__(self, state: HubSpotState) -> None:
        self.state = state
        self._compiled: dict[int, tuple[int, Predicate]] = {}
        self._dynamic: dict[str, list[HList]] | None = None

    # --- lookups ------------------------------------------------------------------------
    def get(self, list_id: Any, *, include_deleted: bool = False) -> HList | None:
        try:
            lst = self.state.lists.get(int(list_id))
        except (TypeError, ValueError):
            return None
        if lst is None or (lst.deleted_at is not None and not include_deleted):
            return None
        return lst

    def by_name(self, name: str, object_type_id: str) -> HList | None:
        for lst in self.state.lists.values():
            if (
                lst.deleted_at is None
                and lst.object_type_id == object_type_id
                and lst.name.lower() == name.lower()
            ):
                return lst
        return None

    def _object_type(self, lst: HList) -> ObjectType:
        return self.state.registry.types[lst.object_type_id]

    def predicate(self, lst: HList) -> Predicate:
        cached = self._compiled.get(lst.id)
        if cached is None or cached[0] != lst.version:
            cached = (lst.version, compile_branch(lst.filter_branch, self._object_type(lst)))
            self._compiled[lst.id] = cached
        return cached[1]

    def _dynamic_lists(self, type_id: str) -> list[HList]:
        if self._dynamic is None:
            self._dynamic = {}
            for lst in self.state.lists.values():
                if lst.processing_type == "DYNAMIC" and lst.deleted_at is None:
                    self._dynamic.setdefault(lst.object_type_id, []).append(lst)
        return self._dynamic.get(type_id, [])

    def invalidate(self) -> None:
        self._dynamic = None

    # --- lifecycle ----------------------------------------------------------------------
    def create(
        self,
        *,
        name: Any,
        object_type: ObjectType,
        processing_type: Any,
        filter_branch: Any,
        ts: int,
        created_by: str | None,
    ) -> HList:
        if not isinstance(name, str) or not name.strip():
            raise ListError("name is required")
        processing_type = str(processing_type or "").upper()
        if processing_type not in PROCESSING_TYPES:
            raise ListError(f"processingType must be one of {', '.join(PROCESSING_TYPES)}")
        if processing_type == "DYNAMIC" and not filter_branch:
            raise ListError("A DYNAMIC list needs a filterBranch")
        if self.by_name(name, object_type.id):
            raise ListError(f"A list named '{name}' already exists")
        if filter_branch:
            compile_branch(filter_branch, object_type)  # rejects unsupported filters up front
        lst = HList(
            id=self.state.next_list_id,
            name=name,
            object_type_id=object_type.id,
            processing_type=processing_type,
            filter_branch=filter_branch or None,
            created=ts,
            updated=ts,
            created_by=created_by,
            filters_updated=ts if filter_branch else None,
        )
        self.state.next_list_id += 1
        self.state.lists[lst.id] = lst
        self.invalidate()
        if filter_branch:
            self.evaluate_all(lst, ts)
        return lst

    def update_filters(self, lst: HList, filter_branch: Any, ts: int) -> HList:
        compile_branch(filter_branch, self._object_type(lst))
        lst.filter_branch = filter_branch
        lst.version += 1
        lst.updated = lst.filters_updated = ts
        if lst.processing_type == "DYNAMIC":
            self.evaluate_all(lst, ts)
        return lst

    def rename(self, lst: HList, name: str, ts: int) -> HList:
        other = self.by_name(name, lst.object_type_id)
        if other is not None and other.id != lst.id:
            raise ListError(f"A list named '{name}' already exists")
        lst.name = name
        lst.version += 1
        lst.updated = ts
        return lst

    def delete(self, lst: HList, ts: int) -> None:
        lst.deleted_at = ts
        self.invalidate()

    def undelete(self, lst: HList) -> None:
        lst.deleted_at = None
        self.invalidate()

    def evaluate_all(self, lst: HList, ts: int) -> None:
        match = self.predicate(lst)
        store = self.state.stores.get(lst.object_type_id)
        records = store.records.values() if store else ()
        keep = {r.id for r in records if not r.archived and match(r)}
        for record_id in [i for i in lst.members if i not in keep]:
            del lst.members[record_id]
        for record_id in sorted(keep):
            lst.members.setdefault(record_id, ts)

    # --- record hooks -------------------------------------------------------------------
    def record_changed(self, object_type: ObjectType, record: Record, ts: int) -> None:
        for lst in self._dynamic_lists(object_type.id):
            inside = not record.archived and self.predicate(lst)(record)
            if inside:
                if record.id not in lst.members:
                    lst.members[record.id] = ts
            else:
                lst.members.pop(record.id, None)

    def record_removed(self, type_id: str, record_id: int) -> None:
        for lst in self.state.lists.values():
            if lst.object_type_id == type_id:
                lst.members.pop(record_id, None)

    # --- manual membership --------------------------------------------------------------
    def _ids(self, lst: HList, raw_ids: Any) -> tuple[list[int], list[str]]:
        if not isinstance(raw_ids, list):
            raise ListError("expected a JSON array of record ids")
        store = self.state.stores.get(lst.object_type_id)
        found, missing = [], []
        for raw in raw_ids:
            try:
                record_id = self.state.resolve_alias(int(str(raw)))
            except ValueError:
                missing.append(str(raw))
                continue
            record = store.records.get(record_id) if store else None
            if record is None or record.archived:
                missing.append(str(raw))
            else:
                found.append(record_id)
        return found, missing

    def _check_manual(self, lst: HList) -> None:
        if lst.processing_type == "DYNAMIC":
            raise ListError(
                f"List {lst.id} is a DYNAMIC list; its memberships come from its filters and "
                "cannot be changed manually"
            )

    def add(self, lst: HList, raw_ids: Any, ts: int) -> dict:
        self._check_manual(lst)
        found, missing = self._ids(lst, raw_ids)
        added = []
        for record_id in found:
            if record_id not in lst.members:
                lst.members[record_id] = ts
                added.append(str(record_id))
        if added:
            lst.updated = ts
        return {"recordIdsRemoved": [], "recordsIdsAdded": added, "recordIdsMissing": missing}

    def remove(self, lst: HList, raw_ids: Any, ts: int) -> dict:
        self._check_manual(lst)
        found, missing = self._ids(lst, raw_ids)
        removed = []
        for record_id in found:
            if lst.members.pop(record_id, None) is not None:
                removed.append(str(record_id))
        if removed:
            lst.updated = ts
        return {"recordIdsRemoved": removed, "recordsIdsAdded": [], "recordIdsMissing": missing}
