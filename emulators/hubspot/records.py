"""Record operations shared by the HTTP handlers and the control-plane actions.

Every write goes through :meth:`Crm.create` or :meth:`Crm.update`, so history, modification
dates, unique indexes, DYNAMIC list membership and the primary-company link stay consistent
whoever writes (the integration over HTTP, a "person" through an action, or the seed).
Validation is separate (:meth:`Crm.prepare`), so batch calls can check every input before
committing any of them.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from .errors import PropertyProblem, conflict, not_found, validation_error
from .listservice import ListService
from .schema import AssocType, ObjectType
from .state import HubSpotState
from .store import Actor, Record
from .timeutil import iso
from .validation import check_properties

CONTACTS = "0-1"
COMPANIES = "0-2"
DEALS = "0-3"
# Objects with a primary company: the company side of the pair is always companies.
PRIMARY_COMPANY_OWNERS = {"0-1", "0-3", "0-5"}
# HubSpot merges contacts, companies, deals, tickets and custom objects; not engagements.
MERGEABLE = {"0-1", "0-2", "0-3", "0-5"}


class Crm:
    def __init__(self, state: HubSpotState) -> None:
        self.state = state
        self.registry = state.registry
        self.lists = ListService(state)

    # --- lookups ------------------------------------------------------------------------
    def object_type(self, name: str) -> ObjectType:
        object_type = self.registry.resolve(name)
        if object_type is None:
            raise validation_error(f"Unable to infer object type from: {name}")
        return object_type

    def record(self, object_type: ObjectType, record_id: int) -> Record | None:
        store = self.state.stores.get(object_type.id)
        if store is None:
            return None
        return store.records.get(self.state.resolve_alias(record_id))

    def find(
        self,
        object_type: ObjectType,
        key: str,
        id_property: str | None = None,
        *,
        archived: bool | None = False,
    ) -> Record | None:
        """A record by id (merged-away ids resolve to the survivor) or by a unique property.

        ``archived=False`` finds live records, ``True`` archived ones, ``None`` either.
        """
        if id_property and id_property != "hs_object_id":
            if id_property not in object_type.unique_props:
                raise validation_error(
                    f"{id_property} is not a unique property of {object_type.name}; "
                    "idProperty must be a property with unique values"
                )
            store = self.state.stores.get(object_type.id)
            owner = store.unique_owner(id_property, key) if store else None
            record = store.records.get(owner) if store and owner is not None else None
        else:
            try:
                record = self.record(object_type, int(key))
            except ValueError:
                return None
        if record is None:
            return None
        if archived is not None and record.archived != archived:
            return None
        return record

    def require(
        self,
        object_type: ObjectType,
        key: str,
        id_property: str | None = None,
        *,
        archived: bool | None = False,
    ) -> Record:
        record = self.find(object_type, key, id_property, archived=archived)
        if record is None:
            raise not_found(
                "Object not found.  objectId are usually numeric.", context={"id": [key]}
            )
        return record

    # --- validation ---------------------------------------------------------------------
    def prepare(
        self,
        object_type: ObjectType,
        values: Any,
        *,
        creating: bool,
        record: Record | None = None,
        owners: set[str] | None = None,
    ) -> tuple[dict[str, str], list[PropertyProblem]]:
        if not isinstance(values, dict):
            raise validation_error("properties must be an object of property names to values")
        return check_properties(
            object_type,
            values,
            owners=owners if owners is not None else self.state.active_owner_ids(),
            registry=self.registry,
            creating=creating,
            current=record.props if record else None,
        )

    def find_conflict(
        self, object_type: ObjectType, clean: dict[str, str], exclude: int | None = None
    ) -> tuple[str, str, int] | None:
        store = self.state.stores.get(object_type.id)
        if store is None:
            return None
        for prop in object_type.unique_props:
            value = clean.get(prop)
            if value:
                owner = store.unique_owner(prop, value)
                if owner is not None and owner != exclude:
                    return prop, value, owner
        return None

    def conflict_error(self, object_type: ObjectType, prop: str, value: str, owner: int):
        noun = object_type.singular.capitalize()
        return conflict(
            f"{noun} already exists. Existing ID: {owner}",
            context={"id": [str(owner)], prop: [value]},
        )

    def prepare_associations(
        self,
        object_type: ObjectType,
        specs: Any,
    ) -> list[tuple[AssocType, int]]:
        """Inline ``associations`` of a create: ``[{"to":{"id"},"types":[{...}]}]``."""
        if not specs:
            return []
        out = []
        for spec in specs:
            to_id = str(((spec or {}).get("to") or {}).get("id", ""))
            types = spec.get("types")
            if not isinstance(types, list) or not types:
                raise validation_error("Each association needs its types")
            for type_spec in types:
                assoc = self.requested_association_type(type_spec)
                if assoc.from_type != object_type.id:
                    raise validation_error(
                        f"association type id {assoc.type_id} doesn't exist between "
                        f"{object_type.singular} and the requested object"
                    )
                target_type = self.registry.types[assoc.to_type]
                target = self.find(target_type, to_id)
                if target is None:
                    raise validation_error(
                        f"One or more associations are invalid: {target_type.singular} "
                        f"{to_id} does not exist",
                        context={"id": [to_id]},
                    )
                out.append((assoc, target.id))
        return out

    def requested_association_type(self, spec: Any) -> AssocType:
        """An ``{"associationCategory","associationTypeId"}`` from a request: HubSpot
        requires both (the control plane may name a type by its id alone)."""
        if not isinstance(spec, dict) or any(
            spec.get(key) in (None, "") for key in ("associationCategory", "associationTypeId")
        ):
            raise validation_error(
                "Each association type needs an associationCategory and an associationTypeId"
            )
        return self.association_type(spec["associationCategory"], spec["associationTypeId"])

    def association_type(self, category: Any, type_id: Any) -> AssocType:
        try:
            assoc = self.registry.assoc_types.get(int(type_id))
        except (TypeError, ValueError):
            assoc = None
        if assoc is None or (category and category != assoc.category):
            raise validation_error(f"{category} association type id {type_id} doesn't exist")
        return assoc

    # --- writes -------------------------------------------------------------------------
    def _write(
        self, object_type: ObjectType, record: Record, values: dict[str, str], actor: Actor, ts: int
    ) -> list[str]:
        """Set values (``""`` clears), recording history; returns the names that changed."""
        props, history = record.props, record.history
        unique = object_type.unique_props
        store = self.state.stores[object_type.id]
        changed = []
        entry_actor = actor
        for name, value in values.items():
            old = props.get(name)
            if value == "":
                if old is None:
                    continue
                del props[name]
            else:
                if old == value:
                    continue
                props[name] = value
            entry = (value, ts, entry_actor)
            trail = history.get(name)
            if trail is None:
                history[name] = [entry]
            else:
                trail.append(entry)
            changed.append(name)
            if name in unique:
                if old:
                    store.release_unique(name, old, record.id)
                if value:
                    store.claim_unique(name, value, record.id)
        return changed

    def _stamp(self, object_type: ObjectType, record: Record, actor: Actor, ts: int) -> None:
        stamp = iso(ts)
        values = dict.fromkeys(object_type.modified_props, stamp)
        if actor.source_type == "CRM_UI" and actor.user_id is not None:
            values["hs_updated_by_user_id"] = str(actor.user_id)
        self._write(object_type, record, values, actor, ts)
        record.updated = ts
        self.state.stores[object_type.id].touch(record)

    def create(
        self,
        object_type: ObjectType,
        clean: dict[str, str],
        actor: Actor,
        ts: int,
        *,
        associations: Iterable[tuple[AssocType, int]] = (),
        record_id: int | None = None,
    ) -> Record:
        store = self.state.store(object_type.id)
        record = Record(record_id or self.state.new_id(), object_type.id, ts)
        store.records[record.id] = record
        stamp = iso(ts)
        system = {"hs_object_id": str(record.id), "hs_object_source": actor.source_type}
        for name in object_type.created_props + object_type.modified_props:
            system[name] = stamp
        if actor.source_id is not None:
            system["hs_object_source_id"] = actor.source_id
        if actor.label is not None:
            system["hs_object_source_label"] = actor.label
        if actor.source_type == "CRM_UI" and actor.user_id is not None:
            system["hs_created_by_user_id"] = system["hs_updated_by_user_id"] = str(actor.user_id)
        system.update(clean)
        self._write(object_type, record, system, actor, ts)
        self._derive(object_type, record, clean, actor, ts)
        store.touch(record)
        for assoc, to_id in associations:
            self.associate(assoc, record.id, to_id, actor, ts)
        if object_type.id == CONTACTS and clean.get("associatedcompanyid"):
            self._company_from_property(record, actor, ts)
        self.lists.record_changed(object_type, record, ts)
        return record

    def update(
        self, object_type: ObjectType, record: Record, clean: dict[str, str], actor: Actor, ts: int
    ) -> list[str]:
        changed = self._write(object_type, record, clean, actor, ts)
        if changed:
            self._derive(object_type, record, changed, actor, ts)
            self._stamp(object_type, record, actor, ts)
            if object_type.id == CONTACTS and "associatedcompanyid" in changed:
                self._company_from_property(record, actor, ts)
            self.lists.record_changed(object_type, record, ts)
        return changed

    def _derive(
        self, object_type: ObjectType, record: Record, changed: Iterable[str], actor: Actor, ts: int
    ) -> None:
        """Calculated properties HubSpot maintains itself when their inputs change."""
        changed = set(changed)
        props = record.props
        values: dict[str, str] = {}
        if object_type.id == DEALS and changed & {"dealstage", "pipeline"}:
            pipeline = self.registry.pipelines.get(DEALS, {}).get(props.get("pipeline", ""))
            stage = next(
                (
                    s
                    for s in (pipeline or {}).get("stages", [])
                    if s["id"] == props.get("dealstage")
                ),
                None,
            )
            if stage is not None:
                probability = stage["metadata"].get("probability", "")
                closed = stage["metadata"].get("isClosed", "false")
                values["hs_deal_stage_probability"] = probability
                values["hs_is_closed"] = closed
                values["hs_is_closed_won"] = str(
                    closed == "true" and probability in ("1", "1.0")
                ).lower()
        if object_type.id == CONTACTS and "lifecyclestage" in changed:
            entered = f"hs_lifecyclestage_{props.get('lifecyclestage')}_date"
            if entered in object_type.properties and not props.get(entered):
                values[entered] = iso(ts)
        if values:
            self._write(object_type, record, values, actor, ts)

    def archive(self, object_type: ObjectType, record: Record, ts: int) -> None:
        if record.archived:
            return
        record.archived = True
        record.archived_at = ts
        self.state.stores[object_type.id].release_all(record, object_type.unique_props)
        self.lists.record_removed(object_type.id, record.id)

    def restore(self, object_type: ObjectType, record: Record, actor: Actor, ts: int) -> None:
        if not record.archived:
            return
        found = self.find_conflict(object_type, record.props, exclude=record.id)
        if found:
            raise self.conflict_error(object_type, *found)
        record.archived = False
        record.archived_at = None
        store = self.state.stores[object_type.id]
        for prop in object_type.unique_props:
            if record.props.get(prop):
                store.claim_unique(prop, record.props[prop], record.id)
        self._stamp(object_type, record, actor, ts)
        self.lists.record_changed(object_type, record, ts)

    def purge(self, object_type: ObjectType, record: Record) -> None:
        """GDPR delete: gone for good, with its associations, list memberships and aliases."""
        store = self.state.stores[object_type.id]
        store.release_all(record, object_type.unique_props)
        del store.records[record.id]
        self.state.associations.drop(object_type.id, record.id, self.registry)
        self.lists.record_removed(object_type.id, record.id)
        for alias, target in list(self.state.aliases.items()):
            if target == record.id:
                del self.state.aliases[alias]

    def merge(
        self, object_type: ObjectType, primary: Record, merged: Record, actor: Actor, ts: int
    ) -> Record:
        """Merge ``merged`` into ``primary``: blanks are filled from the merged record, ids and
        emails are remembered, associations and manual list memberships move over, and the
        merged id resolves to the survivor from now on."""
        if object_type.id not in MERGEABLE and not object_type.custom:
            raise validation_error(f"Merging {object_type.name} is not supported")
        if primary.id == merged.id:
            raise validation_error("Cannot merge an object with itself")
        store = self.state.stores[object_type.id]
        merged_ids = [i for i in (primary.props.get("hs_merged_object_ids") or "").split(";") if i]
        merged_ids += [str(merged.id)]
        merged_ids += [i for i in (merged.props.get("hs_merged_object_ids") or "").split(";") if i]
        values: dict[str, str] = {}
        for name, value in merged.props.items():
            prop = object_type.properties.get(name)
            if prop is None or prop.read_only or name in object_type.unique_props:
                continue
            if not primary.props.get(name):
                values[name] = value
        values["hs_merged_object_ids"] = ";".join(dict.fromkeys(merged_ids))
        emails: list[str] = []
        if object_type.id == CONTACTS:
            emails = [e for e in (primary.props.get("hs_additional_emails") or "").split(";") if e]
            emails += [e for e in [merged.props.get("email")] if e]
            emails += [e for e in (merged.props.get("hs_additional_emails") or "").split(";") if e]
            if emails:
                values["hs_additional_emails"] = ";".join(dict.fromkeys(emails))
        # Move the merged record's links before it disappears.
        links = self.state.associations.drop(object_type.id, merged.id, self.registry)
        memberships = [
            lst
            for lst in self.state.lists.values()
            if merged.id in lst.members and lst.processing_type != "DYNAMIC"
        ]
        store.release_all(merged, object_type.unique_props)
        del store.records[merged.id]
        self.lists.record_removed(object_type.id, merged.id)
        for alias, target in list(self.state.aliases.items()):
            if target == merged.id:
                self.state.aliases[alias] = primary.id
        self.state.aliases[merged.id] = primary.id
        self.update(object_type, primary, values, actor, ts)
        for email in emails:
            store.claim_unique("email", email, primary.id)
        for assoc, to_id in links:
            if assoc.primary and self._has_primary(object_type.id, primary.id):
                continue
            self.associate(assoc, primary.id, to_id, actor, ts)
        for lst in memberships:
            lst.members.setdefault(primary.id, ts)
        return primary

    # --- associations -------------------------------------------------------------------
    def associate(self, assoc: AssocType, from_id: int, to_id: int, actor: Actor, ts: int) -> None:
        registry, links = self.registry, self.state.associations
        links.add(assoc, from_id, to_id, registry)
        if not assoc.default:
            # A labelled association always comes with the pair's unlabeled one.
            default = registry.default_type(assoc.from_type, assoc.to_type)
            if default is not None:
                links.add(default, from_id, to_id, registry)
        side = self._primary_side(assoc, from_id, to_id)
        if side is None:
            return
        owner_type, owner_id, company_id = side
        primary = registry.primary_type(owner_type, COMPANIES)
        assert primary is not None
        current = self._primary_company(owner_type, owner_id)
        if assoc.primary or current is None:
            if current is not None and current != company_id:
                links.remove(primary, owner_id, current, registry)
            links.add(primary, owner_id, company_id, registry)
            self._company_to_property(owner_type, owner_id, company_id, actor, ts)

    def disassociate(
        self,
        from_type: str,
        from_id: int,
        to_type: str,
        to_id: int,
        type_ids: Iterable[int] | None,
        actor: Actor,
        ts: int,
    ) -> bool:
        registry, links = self.registry, self.state.associations
        present = links.targets(from_type, from_id, to_type).get(to_id, set())
        wanted = set(present) if type_ids is None else set(type_ids) & present
        for type_id in wanted:
            links.remove(registry.assoc_types[type_id], from_id, to_id, registry)
        if not wanted:
            return False
        assoc = registry.assoc_types[next(iter(wanted))]
        side = self._primary_side(assoc, from_id, to_id)
        if side is not None:
            owner_type, owner_id, _company = side
            if self._primary_company(owner_type, owner_id) is None:
                self._company_to_property(owner_type, owner_id, None, actor, ts)
        return True

    def _primary_side(
        self, assoc: AssocType, from_id: int, to_id: int
    ) -> tuple[str, int, int] | None:
        if assoc.to_type == COMPANIES and assoc.from_type in PRIMARY_COMPANY_OWNERS:
            return assoc.from_type, from_id, to_id
        if assoc.from_type == COMPANIES and assoc.to_type in PRIMARY_COMPANY_OWNERS:
            return assoc.to_type, to_id, from_id
        return None

    def _primary_company(self, owner_type: str, owner_id: int) -> int | None:
        primary = self.registry.primary_type(owner_type, COMPANIES)
        if primary is None:
            return None
        for company_id, types in self.state.associations.targets(
            owner_type, owner_id, COMPANIES
        ).items():
            if primary.type_id in types:
                return company_id
        return None

    def _has_primary(self, owner_type: str, owner_id: int) -> bool:
        return self._primary_company(owner_type, owner_id) is not None

    def _company_to_property(
        self, owner_type: str, owner_id: int, company_id: int | None, actor: Actor, ts: int
    ) -> None:
        """Contacts mirror their primary company in ``associatedcompanyid``."""
        if owner_type != CONTACTS:
            return
        contacts = self.registry.types[CONTACTS]
        record = self.record(contacts, owner_id)
        if record is None:
            return
        value = str(company_id) if company_id is not None else ""
        if self._write(contacts, record, {"associatedcompanyid": value}, actor, ts):
            self._stamp(contacts, record, actor, ts)

    def _company_from_property(self, record: Record, actor: Actor, ts: int) -> None:
        """Writing ``associatedcompanyid`` on a contact sets its primary company."""
        companies = self.registry.types[COMPANIES]
        value = record.props.get("associatedcompanyid")
        company = self.find(companies, value) if value else None
        if company is None:
            return
        primary = self.registry.primary_type(CONTACTS, COMPANIES)
        assert primary is not None
        self.associate(primary, record.id, company.id, actor, ts)
