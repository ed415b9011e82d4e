"""Control-plane actions: a *person* working in HubSpot, or an operator changing the emulator.

Record edits made here are written with ``sourceType: CRM_UI`` and the person's user id, so
the engine sees them as human edits (conflicts, echo suppression). Call them over HTTP at
``POST /__emulator__/actions/<name>`` with a JSON body of keyword arguments, or in Python with
``app.run_action(name, **kwargs)``. Invalid input answers 400 over HTTP (HubSpot's own error
body when the same edit would fail in HubSpot).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from ..core.currencies import iso_4217
from .errors import property_errors
from .listservice import ListError
from .serialize import record_json
from .state import Owner
from .store import Actor

if TYPE_CHECKING:
    from .app import HubSpotApp

BATCH_MODES = ("all_or_nothing", "partial")
DEFAULT_UI_USER = 9_000_000  # "the HubSpot admin" when no owner exists to act as


class Actions:
    def __init__(self, app: HubSpotApp) -> None:
        self.app = app

    def register(self) -> None:
        for name in (
            "edit",
            "create",
            "archive",
            "restore",
            "merge",
            "associate",
            "disassociate",
            "add_to_list",
            "remove_from_list",
            "create_list",
            "set_deal_stage",
            "create_owner",
            "archive_owner",
            "expire_token",
            "set_search_lag",
            "set_batch_validation_mode",
            "set_search_limits",
            "set_auto_create_users",
            "set_time_zone",
            "set_currencies",
            "set_association_page_size",
        ):
            self.app.register_action(name, getattr(self, name))

    # --- helpers ------------------------------------------------------------------------
    @property
    def crm(self):
        return self.app.crm

    def _person(self, user_id: int | None) -> Actor:
        if user_id is None:
            owners = sorted(
                (o for o in self.app.state.owners.values() if not o.archived),
                key=lambda o: int(o.id),
            )
            user_id = owners[0].user_id if owners else DEFAULT_UI_USER
        return Actor("CRM_UI", f"userId:{user_id}", int(user_id), None)

    def _record(self, object_type: str, record_id: Any, *, archived: bool | None = False):
        type_ = self.crm.object_type(object_type)
        return type_, self.crm.require(type_, str(record_id), archived=archived)

    def _write(self, type_, record, properties: dict, actor: Actor) -> dict:
        clean, problems = self.crm.prepare(type_, properties, creating=False, record=record)
        if problems:
            raise property_errors(problems, self.app.state.portal_id)
        found = self.crm.find_conflict(type_, clean, exclude=record.id)
        if found:
            raise self.crm.conflict_error(type_, *found)
        self.crm.update(type_, record, clean, actor, self.app.now_ms())
        return record_json(record, None)

    # --- records ------------------------------------------------------------------------
    def edit(
        self,
        object_type: str,
        id: Any,
        properties: dict,  # noqa: A002
        user_id: int | None = None,
    ) -> dict:
        """A person edits properties of a record in the CRM UI."""
        type_, record = self._record(object_type, id)
        return self._write(type_, record, properties, self._person(user_id))

    def create(self, object_type: str, properties: dict, user_id: int | None = None) -> dict:
        type_ = self.crm.object_type(object_type)
        clean, problems = self.crm.prepare(type_, properties, creating=True)
        if problems:
            raise property_errors(problems, self.app.state.portal_id)
        found = self.crm.find_conflict(type_, clean)
        if found:
            raise self.crm.conflict_error(type_, *found)
        record = self.crm.create(type_, clean, self._person(user_id), self.app.now_ms())
        return record_json(record, None)

    def archive(self, object_type: str, id: Any, user_id: int | None = None) -> dict:  # noqa: A002
        type_, record = self._record(object_type, id)
        self.crm.archive(type_, record, self.app.now_ms())
        return {"id": str(record.id), "archived": True}

    def restore(self, object_type: str, id: Any, user_id: int | None = None) -> dict:  # noqa: A002
        type_, record = self._record(object_type, id, archived=True)
        self.crm.restore(type_, record, self._person(user_id), self.app.now_ms())
        return record_json(record, None)

    def merge(
        self, object_type: str, primary_id: Any, merged_id: Any, user_id: int | None = None
    ) -> dict:
        type_, primary = self._record(object_type, primary_id)
        _type, merged = self._record(object_type, merged_id)
        survivor = self.crm.merge(type_, primary, merged, self._person(user_id), self.app.now_ms())
        return record_json(survivor, None)

    def associate(
        self,
        from_type: str,
        from_id: Any,
        to_type: str,
        to_id: Any,
        type_id: int | None = None,
        user_id: int | None = None,
    ) -> dict:
        from_t, record = self._record(from_type, from_id)
        to_t, target = self._record(to_type, to_id)
        registry = self.app.state.registry
        assoc = (
            self.crm.association_type(None, type_id)
            if type_id is not None
            else registry.default_type(from_t.id, to_t.id)
        )
        if assoc is None or assoc.from_type != from_t.id or assoc.to_type != to_t.id:
            raise ValueError(f"{from_t.name} and {to_t.name} cannot be associated that way")
        self.crm.associate(assoc, record.id, target.id, self._person(user_id), self.app.now_ms())
        return {"from": str(record.id), "to": str(target.id), "typeId": assoc.type_id}

    def disassociate(
        self, from_type: str, from_id: Any, to_type: str, to_id: Any, user_id: int | None = None
    ) -> dict:
        from_t, record = self._record(from_type, from_id)
        to_t, target = self._record(to_type, to_id)
        removed = self.crm.disassociate(
            from_t.id, record.id, to_t.id, target.id, None, self._person(user_id), self.app.now_ms()
        )
        return {"removed": removed}

    def set_deal_stage(
        self,
        id: Any,
        stage: str,
        pipeline: str | None = None,  # noqa: A002
        user_id: int | None = None,
    ) -> dict:
        """A salesperson drags a deal to another stage."""
        values = {"dealstage": stage}
        if pipeline:
            values["pipeline"] = pipeline
        type_, record = self._record("deals", id)
        return self._write(type_, record, values, self._person(user_id))

    # --- lists --------------------------------------------------------------------------
    def _list(self, list_id: Any):
        lst = self.crm.lists.get(list_id)
        if lst is None:
            raise ValueError(f"list {list_id} does not exist")
        return lst

    def add_to_list(self, list_id: Any, record_ids: list) -> dict:
        try:
            return self.crm.lists.add(
                self._list(list_id), [str(i) for i in record_ids], self.app.now_ms()
            )
        except ListError as error:
            raise ValueError(str(error)) from None

    def remove_from_list(self, list_id: Any, record_ids: list) -> dict:
        try:
            return self.crm.lists.remove(
                self._list(list_id), [str(i) for i in record_ids], self.app.now_ms()
            )
        except ListError as error:
            raise ValueError(str(error)) from None

    def create_list(
        self,
        list_name: str,
        object_type: str = "contacts",
        processing_type: str = "MANUAL",
        filter_branch: dict | None = None,
        record_ids: list | None = None,
        user_id: int | None = None,
    ) -> dict:
        type_ = self.crm.object_type(object_type)
        person = self._person(user_id)
        lst = self.crm.lists.create(
            name=list_name,
            object_type=type_,
            processing_type=processing_type,
            filter_branch=filter_branch,
            ts=self.app.now_ms(),
            created_by=str(person.user_id),
        )
        if record_ids:
            self.crm.lists.add(lst, [str(i) for i in record_ids], self.app.now_ms())
        return lst.public()

    # --- owners and tokens --------------------------------------------------------------
    def create_owner(
        self,
        email: str,
        first_name: str = "",
        last_name: str = "",
        user_id: int | None = None,
        teams: list | None = None,
    ) -> dict:
        state, now = self.app.state, self.app.now_ms()
        owner = Owner(
            id=str(state.next_owner_id),
            email=email,
            first_name=first_name,
            last_name=last_name,
            user_id=int(user_id or state.new_user_id()),
            created=now,
            updated=now,
            teams=list(teams or []),
        )
        state.next_owner_id += 1
        state.owners[owner.id] = owner
        return owner.public()

    def archive_owner(self, owner_id: Any) -> dict:
        """The user is removed from HubSpot: the owner is archived, its records keep the id."""
        owner = self.app.state.owners.get(str(owner_id))
        if owner is None:
            raise ValueError(f"owner {owner_id} does not exist")
        owner.archived = True
        owner.updated = self.app.now_ms()
        return owner.public()

    def expire_token(self, token: str) -> dict:
        """The token stops working: every call with it answers 401 EXPIRED_AUTHENTICATION."""
        user = self.app.user_for(token)
        user.expired = True
        return {"token": token, "expired": True}

    # --- emulator settings --------------------------------------------------------------
    def set_search_lag(self, ms: int) -> dict:
        self.app.state.settings.search_lag_ms = max(0, int(ms))
        return {"search_lag_ms": self.app.state.settings.search_lag_ms}

    def set_batch_validation_mode(self, mode: str) -> dict:
        if mode not in BATCH_MODES:
            raise ValueError(f"mode must be one of {BATCH_MODES}")
        self.app.state.settings.batch_mode = mode
        return {"batch_mode": mode}

    def set_association_page_size(self, size: int) -> dict:
        """Associations per record in one batch-read answer (500, as HubSpot; the rest paged
        per record with ``paging.next.after``)."""
        size = int(size)
        if not 1 <= size <= 500:
            raise ValueError("size must be between 1 and 500")
        self.app.state.settings.association_page_size = size
        return {"association_page_size": size}

    def set_search_limits(
        self,
        max_groups: int | None = None,
        max_filters_per_group: int | None = None,
        max_filters: int | None = None,
    ) -> dict:
        settings = self.app.state.settings
        if max_groups is not None:
            settings.search_max_groups = int(max_groups)
        if max_filters_per_group is not None:
            settings.search_max_filters_per_group = int(max_filters_per_group)
        if max_filters is not None:
            settings.search_max_filters = int(max_filters)
        return {
            "max_groups": settings.search_max_groups,
            "max_filters_per_group": settings.search_max_filters_per_group,
            "max_filters": settings.search_max_filters,
        }

    def set_auto_create_users(self, enabled: bool) -> dict:
        """When off, only tokens already seen or issued through OAuth are accepted."""
        self.app.state.settings.auto_create_users = bool(enabled)
        return {"auto_create_users": self.app.state.settings.auto_create_users}

    def set_time_zone(self, time_zone: str) -> dict:
        """The account's time zone, as ``GET /account-info/v3/details`` reports it (an IANA
        name, e.g. "America/New_York")."""
        try:
            ZoneInfo(time_zone)
        except (KeyError, ValueError) as error:  # 400 over HTTP
            raise ValueError(f"unknown time zone {time_zone!r}") from error
        self.app.state.settings.time_zone = time_zone
        return {"time_zone": time_zone}

    def set_currencies(self, company: str, additional: list[str] | None = None) -> dict:
        """The account's company currency and additional currencies (ISO 4217 codes), as
        ``GET /account-info/v3/details`` reports them and deals' ``deal_currency_code`` offers
        them."""
        codes = iso_4217([company, *(additional or [])])  # 400 over HTTP otherwise
        settings = self.app.state.settings
        settings.company_currency, settings.additional_currencies = codes[0], tuple(codes[1:])
        self.app.state.currencies_offered()
        return {"company": company, "additional": list(settings.additional_currencies)}
