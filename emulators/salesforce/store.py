"""Record storage: one dict of records per object, secondary indexes and an undo journal.

Records are sparse dicts of canonical field name -> wire value (null fields are simply absent),
plus a few private ``_`` keys (deletion time, late-commit shadow). Every write goes through
:meth:`Store.insert` / :meth:`Store.update` so the indexes stay right and so a transaction
(allOrNone collections, composite) can be rolled back by replaying the journal backwards.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from .ids import IdGenerator

_MISSING = object()


def index_key(value: Any, case_sensitive: bool) -> Any:
    if isinstance(value, str) and not case_sensitive:
        return value.lower()
    return value


class Store:
    def __init__(self) -> None:
        self.tables: dict[str, dict[str, dict[str, Any]]] = {}
        self.ids = IdGenerator()
        # (object, field) -> {key: set of ids}; case-insensitive keys unless flagged otherwise
        self._indexes: dict[tuple[str, str], dict[Any, set[str]]] = {}
        self._index_case: dict[tuple[str, str], bool] = {}
        self._indexed_fields: dict[str, set[str]] = {}
        self._journal: list[tuple] | None = None
        self._depth = 0
        # ids whose newest version is not committed yet (late-commit fault), per object
        self.pending: dict[str, set[str]] = {}

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_journal"] = None
        state["_depth"] = 0
        return state

    # --- reads ---------------------------------------------------------------------------
    def table(self, obj: str) -> dict[str, dict[str, Any]]:
        table = self.tables.get(obj)
        if table is None:
            table = self.tables[obj] = {}
        return table

    def get(self, obj: str, record_id: str) -> dict[str, Any] | None:
        table = self.tables.get(obj)
        return table.get(record_id) if table is not None else None

    def ensure_index(
        self, obj: str, field: str, case_sensitive: bool = False
    ) -> dict[Any, set[str]]:
        key = (obj, field)
        index = self._indexes.get(key)
        if index is None:
            index = {}
            for record_id, rec in self.table(obj).items():
                value = rec.get(field)
                if value is not None:
                    index.setdefault(index_key(value, case_sensitive), set()).add(record_id)
            self._indexes[key] = index
            self._index_case[key] = case_sensitive
            self._indexed_fields.setdefault(obj, set()).add(field)
        return index

    def lookup(self, obj: str, field: str, value: Any, case_sensitive: bool = False) -> set[str]:
        index = self.ensure_index(obj, field, case_sensitive)
        return index.get(index_key(value, self._index_case[(obj, field)]), set())

    # --- writes --------------------------------------------------------------------------
    def new_id(self, prefix: str) -> str:
        return self.ids.next(prefix)

    def insert(self, obj: str, rec: dict[str, Any]) -> None:
        record_id = rec["Id"]
        self.table(obj)[record_id] = rec
        fields = self._indexed_fields.get(obj)
        if fields:
            for field in fields:
                value = rec.get(field)
                if value is not None:
                    self._index_add(obj, field, value, record_id)
        if self._journal is not None:
            self._journal.append(("insert", obj, record_id))

    def update(self, obj: str, record_id: str, changes: dict[str, Any]) -> None:
        """Apply changes (None removes a field); journals the previous values."""
        rec = self.tables[obj][record_id]
        if self._journal is not None:
            self._journal.append(
                ("update", obj, record_id, {k: rec.get(k, _MISSING) for k in changes})
            )
        fields = self._indexed_fields.get(obj)
        for name, value in changes.items():
            if fields and name in fields:
                old = rec.get(name)
                if old is not None:
                    self._index_remove(obj, name, old, record_id)
                if value is not None:
                    self._index_add(obj, name, value, record_id)
            if value is None:
                rec.pop(name, None)
            else:
                rec[name] = value

    def remove(self, obj: str, record_id: str) -> None:
        """Physically remove (used by rollback and recycle-bin purges only)."""
        rec = self.tables[obj].pop(record_id)
        fields = self._indexed_fields.get(obj)
        if fields:
            for field in fields:
                value = rec.get(field)
                if value is not None:
                    self._index_remove(obj, field, value, record_id)
        self.pending.get(obj, set()).discard(record_id)

    def _index_add(self, obj: str, field: str, value: Any, record_id: str) -> None:
        key = index_key(value, self._index_case[(obj, field)])
        self._indexes[(obj, field)].setdefault(key, set()).add(record_id)

    def _index_remove(self, obj: str, field: str, value: Any, record_id: str) -> None:
        key = index_key(value, self._index_case[(obj, field)])
        ids = self._indexes[(obj, field)].get(key)
        if ids is not None:
            ids.discard(record_id)
            if not ids:
                del self._indexes[(obj, field)][key]

    # --- transactions --------------------------------------------------------------------
    @contextmanager
    def transaction(self) -> Iterator[Transaction]:
        """Nested-safe; the body calls ``tx.rollback()`` to undo everything since it began."""
        if self._journal is None:
            self._journal = []
        self._depth += 1
        tx = Transaction(self, len(self._journal))
        try:
            yield tx
        except BaseException:
            tx.rollback()
            raise
        finally:
            self._depth -= 1
            if self._depth == 0:
                self._journal = None

    def _undo_to(self, mark: int) -> None:
        journal = self._journal
        assert journal is not None
        saved, self._journal = journal, None  # undo steps must not journal themselves
        try:
            while len(saved) > mark:
                entry = saved.pop()
                if entry[0] == "insert":
                    _, obj, record_id = entry
                    if record_id in self.tables.get(obj, {}):
                        self.remove(obj, record_id)
                else:
                    _, obj, record_id, old = entry
                    if record_id in self.tables.get(obj, {}):
                        self.update(
                            obj,
                            record_id,
                            {k: (None if v is _MISSING else v) for k, v in old.items()},
                        )
        finally:
            self._journal = saved


class Transaction:
    def __init__(self, store: Store, mark: int) -> None:
        self.store = store
        self.mark = mark

    def rollback(self) -> None:
        if self.store._journal is not None:
            self.store._undo_to(self.mark)
