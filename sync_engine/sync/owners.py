"""Owners: HubSpot owners ⇄ Salesforce users (spec §11).

Any Salesforce owner syncs into HubSpot (matched to the HubSpot owner with the same email); a
HubSpot owner syncs to Salesforce only when an *active* Salesforce user has the same name and
email. Both directories are read once per cycle, and only when an owner actually differs.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .changes import with_retries


def _norm(value: str | None) -> str:
    return " ".join((value or "").split()).casefold()


@dataclass
class OwnerDirectory:
    salesforce: object
    hubspot: object
    _loaded: bool = False
    _sf_users: dict[str, dict] = field(default_factory=dict)  # Id -> user
    _hs_by_email: dict[str, str] = field(default_factory=dict)  # email -> HubSpot owner id
    _hs_owners: dict[str, dict] = field(default_factory=dict)  # owner id -> {name, email}

    def _load(self) -> None:
        if self._loaded:
            return
        users = with_retries(
            lambda: self.salesforce.query_all(
                "SELECT Id, Name, FirstName, LastName, Email, IsActive FROM User"
            )
        )
        self._sf_users = {u["Id"]: u for u in users}
        for owner in with_retries(lambda: self.hubspot.owners_all()):
            name = " ".join(p for p in (owner.first_name, owner.last_name) if p)
            self._hs_owners[str(owner.id)] = {"name": name, "email": owner.email or ""}
            if owner.email:
                self._hs_by_email.setdefault(_norm(owner.email), str(owner.id))
        self._loaded = True

    def hubspot_owner_for(self, salesforce_user_id: str | None) -> str:
        """The HubSpot owner id for a Salesforce owner, or "" when HubSpot has no such owner."""
        if not salesforce_user_id:
            return ""
        self._load()
        user = self._sf_users.get(salesforce_user_id)
        if not user:
            return ""
        return self._hs_by_email.get(_norm(user.get("Email")), "")

    def salesforce_user_active(self, user_id: str | None) -> bool:
        """Whether ``user_id`` is an active Salesforce user (only those can own a new record)."""
        if not user_id:
            return False
        self._load()
        return bool((self._sf_users.get(user_id) or {}).get("IsActive"))

    def salesforce_user_for(self, hubspot_owner_id: str | None) -> str | None:
        """The active Salesforce user matching a HubSpot owner on name and email, or None."""
        if not hubspot_owner_id:
            return None
        self._load()
        owner = self._hs_owners.get(str(hubspot_owner_id))
        if not owner:
            return None
        name = _norm(owner["name"])
        for user in self._sf_users.values():
            if (
                user.get("IsActive")
                and _norm(user.get("Email")) == _norm(owner["email"])
                and name in _user_names(user)
            ):
                return user["Id"]
        return None


def _user_names(user: dict) -> set[str]:
    """A Salesforce user's name as HubSpot writes an owner's ("First Last"): ``Name`` follows
    the user's locale ("Last First" in Japanese, Chinese, Korean, Hungarian), so its parts
    count too."""
    parts = " ".join(p for p in (user.get("FirstName"), user.get("LastName")) if p)
    return {_norm(user.get("Name")), _norm(parts)}
