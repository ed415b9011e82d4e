"""The association graph. Every link is stored from both ends, the far end under the inverse
type id, so reading from either side agrees (``contact -279-> company`` is also
``company -280-> contact``)."""

from __future__ import annotations

from .schema import AssocType, Registry

Links = dict[str, dict[int, set[int]]]  # to-type id -> to-record id -> association type ids


class AssociationStore:
    def __init__(self) -> None:
        self._links: dict[tuple[str, int], Links] = {}

    def add(self, assoc: AssocType, from_id: int, to_id: int, registry: Registry) -> None:
        inverse = registry.assoc_types[assoc.inverse]
        self._side(assoc.from_type, from_id, assoc.to_type, to_id).add(assoc.type_id)
        self._side(assoc.to_type, to_id, assoc.from_type, from_id).add(inverse.type_id)

    def _side(self, from_type: str, from_id: int, to_type: str, to_id: int) -> set[int]:
        links = self._links.setdefault((from_type, from_id), {})
        return links.setdefault(to_type, {}).setdefault(to_id, set())

    def remove(self, assoc: AssocType, from_id: int, to_id: int, registry: Registry) -> bool:
        inverse = registry.assoc_types[assoc.inverse]
        removed = self._discard(assoc.from_type, from_id, assoc.to_type, to_id, assoc.type_id)
        self._discard(assoc.to_type, to_id, assoc.from_type, from_id, inverse.type_id)
        return removed

    def _discard(
        self, from_type: str, from_id: int, to_type: str, to_id: int, type_id: int
    ) -> bool:
        links = self._links.get((from_type, from_id))
        if not links or to_type not in links or to_id not in links[to_type]:
            return False
        types = links[to_type][to_id]
        if type_id not in types:
            return False
        types.discard(type_id)
        if not types:
            del links[to_type][to_id]
            if not links[to_type]:
                del links[to_type]
            if not links:
                del self._links[(from_type, from_id)]
        return True

    def targets(self, from_type: str, from_id: int, to_type: str) -> dict[int, set[int]]:
        links = self._links.get((from_type, from_id))
        return dict(links.get(to_type, {})) if links else {}

    def all_links(self, from_type: str, from_id: int) -> Links:
        return self._links.get((from_type, from_id), {})

    def drop(self, type_id: str, record_id: int, registry: Registry) -> list[tuple[AssocType, int]]:
        """Remove every link of a record; returns what was removed (seen from the record)."""
        removed = []
        for targets in list(self.all_links(type_id, record_id).values()):
            for to_id, types in list(targets.items()):
                for assoc_id in list(types):
                    assoc = registry.assoc_types[assoc_id]
                    self.remove(assoc, record_id, to_id, registry)
                    removed.append((assoc, to_id))
        return removed

    def purge_types(self, type_ids: set[int]) -> None:
        """Forget every link of the given types (their label definition was deleted)."""
        for key in list(self._links):
            links = self._links[key]
            for to_type in list(links):
                for to_id in list(links[to_type]):
                    links[to_type][to_id] -= type_ids
                    if not links[to_type][to_id]:
                        del links[to_type][to_id]
                if not links[to_type]:
                    del links[to_type]
            if not links:
                del self._links[key]
