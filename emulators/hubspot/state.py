"""Everything the HubSpot emulator remembers, in one picklable object."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .associations import AssociationStore
from .lists import HList
from .schema import Registry
from .store import Actor, TypeStore
from .timeutil import iso

PORTAL_ID = 24681357
FIRST_RECORD_ID = 1001
DEFAULT_SCOPES = [
    "oauth",
    "crm.objects.contacts.read",
    "crm.objects.contacts.write",
    "crm.objects.companies.read",
    "crm.objects.companies.write",
    "crm.objects.deals.read",
    "crm.objects.deals.write",
    "tickets",
    "crm.objects.owners.read",
    "crm.lists.read",
    "crm.lists.write",
    "crm.schemas.custom.read",
    "crm.objects.custom.read",
    "crm.objects.custom.write",
]


@dataclass
class Settings:
    search_lag_ms: int = 0  # records written within the last N ms are invisible to search
    batch_mode: str = "all_or_nothing"  # or "partial": invalid batch inputs fail alone (207)
    search_max_groups: int = 5
    search_max_filters_per_group: int = 6
    search_max_filters: int = 18
    auto_create_users: bool = True  # any new bearer token becomes a user on first use
    time_zone: str = "Europe/Amsterdam"  # the account's time zone (account-info details)
    # The account's currencies (account-info details); deals' ``deal_currency_code`` offers
    # exactly these (Settings > Account defaults > Currencies, not the properties API).
    company_currency: str = "EUR"
    additional_currencies: tuple[str, ...] = ()
    association_page_size: int = 500  # associations per record in one batch-read answer


@dataclass
class User:
    """One bearer token: each token is its own user and app, so writes can be told apart."""

    token: str
    user_id: int
    app_id: int
    kind: str  # "private_app" (any token seen first on a request) or "oauth" (issued here)
    email: str
    scopes: list[str]
    created: int
    expires_at: int | None = None  # OAuth access tokens expire; private app tokens do not
    expired: bool = False  # set by the expire_token action
    client_id: str | None = None

    def actor(self) -> Actor:
        return Actor("INTEGRATION", str(self.app_id), None, f"App {self.app_id}")


@dataclass
class Owner:
    id: str
    email: str
    first_name: str
    last_name: str
    user_id: int
    created: int
    updated: int
    archived: bool = False
    teams: list[dict] = field(default_factory=list)
    type: str = "PERSON"

    def public(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "email": self.email,
            "firstName": self.first_name,
            "lastName": self.last_name,
            "userId": self.user_id,
            "userIdIncludingInactive": self.user_id,
            "type": self.type,
            "createdAt": iso(self.created),
            "updatedAt": iso(self.updated),
            "archived": self.archived,
            "teams": [dict(t) for t in self.teams],
        }


class HubSpotState:
    def __init__(self, now_ms: int, portal_id: int = PORTAL_ID) -> None:
        self.portal_id = portal_id
        self.created = now_ms
        self.registry = Registry(portal_id, now_ms)
        self.stores: dict[str, TypeStore] = {}
        self.next_id = FIRST_RECORD_ID
        self.aliases: dict[int, int] = {}  # merged-away record id -> surviving record id
        self.associations = AssociationStore()
        self.lists: dict[int, HList] = {}
        self.next_list_id = 1
        self.owners: dict[str, Owner] = {}
        self.next_owner_id = 70_000_001
        self.next_user_id = 9_000_001
        self.next_app_id = 3_100_001
        self.users: dict[str, User] = {}
        self.auth_codes: dict[str, dict] = {}
        self.refresh_tokens: dict[str, dict] = {}
        self.apps: dict[str, int] = {}  # OAuth client_id -> app id
        self.settings = Settings()
        self.currencies_offered()

    def currencies_offered(self) -> None:
        """Deals' currency property offers the account's currencies, the company's first."""
        deals = self.registry.resolve("deals")
        prop = deals.properties.get("deal_currency_code") if deals else None
        if prop is not None:
            codes = [self.settings.company_currency, *self.settings.additional_currencies]
            prop.set_options([{"label": code, "value": code} for code in dict.fromkeys(codes)])
            deals.invalidate()

    def store(self, type_id: str) -> TypeStore:
        store = self.stores.get(type_id)
        if store is None:
            store = self.stores[type_id] = TypeStore(type_id)
        return store

    def new_id(self) -> int:
        record_id = self.next_id
        self.next_id += 1
        return record_id

    def new_user_id(self) -> int:
        user_id = self.next_user_id
        self.next_user_id += 1
        return user_id

    def new_app_id(self) -> int:
        app_id = self.next_app_id
        self.next_app_id += 1
        return app_id

    def active_owner_ids(self) -> set[str]:
        return {o.id for o in self.owners.values() if not o.archived}

    def resolve_alias(self, record_id: int) -> int:
        return self.aliases.get(record_id, record_id)
