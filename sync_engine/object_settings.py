"""The settings of each object pair, their defaults (HubSpot's) and their validation.

Stored as JSON on ``ObjectSync.options``; read through :func:`settings_for`, which fills in
defaults for anything missing, so adding a setting needs no data migration.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any, ClassVar


class SettingsError(ValueError):
    """A settings change that isn't allowed; ``errors`` maps field names to messages."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


@dataclass
class ContactSettings:
    """Contacts ⇄ leads/contacts (spec §6, §7, §12)."""

    # Salesforce → HubSpot: when a lead or contact is created or updated.
    salesforce_create_update: str = "create_or_update"  # or "nothing"
    # Salesforce → HubSpot: when a lead or contact is deleted. HubSpot never deletes in Salesforce.
    salesforce_delete: str = "nothing"  # or "delete"
    # HubSpot → Salesforce: which Salesforce object a HubSpot contact creates or updates.
    hubspot_creates: str = "lead"  # or "contact"
    # Lifecycle stage automation from opportunity contact roles (spec §7).
    lifecycle_transitions: bool = True
    lifecycle_company_fanout: bool = False
    # Only contacts in this active HubSpot list sync; None means everyone.
    inclusion_list_id: str | None = None
    # State and country matching (spec §12).
    salesforce_state_country: str = "disabled"  # "enabled", "customised"
    hubspot_state_country: str = "convert"  # or "as_is"

    CHOICES: ClassVar[dict[str, tuple[str, ...]]] = {
        "salesforce_create_update": ("create_or_update", "nothing"),
        "salesforce_delete": ("delete", "nothing"),
        "hubspot_creates": ("lead", "contact"),
        "salesforce_state_country": ("disabled", "enabled", "customised"),
        "hubspot_state_country": ("convert", "as_is"),
    }


@dataclass
class CompanySettings:
    """Companies ⇄ accounts (spec §9). The pair itself starts switched off
    (``ObjectSync.enabled``): the admin turns it on before importing accounts."""

    # Salesforce → HubSpot: a new (or edited, unlinked) account creates a HubSpot company.
    salesforce_creates: bool = True
    # HubSpot → Salesforce: a company creates an account when the spec's conditions hold
    # (an associated contact syncs as a Salesforce contact); the record's Sync forces it.
    hubspot_creates: bool = True
    # Salesforce → HubSpot: when an account is deleted. HubSpot never deletes accounts.
    salesforce_delete: str = "nothing"  # or "delete"

    CHOICES: ClassVar[dict[str, tuple[str, ...]]] = {
        "salesforce_delete": ("delete", "nothing"),
    }


SETTINGS_CLASSES: dict[str, type] = {"contacts": ContactSettings, "companies": CompanySettings}
# Pairs that start switched off until an admin turns them on (spec §9: company sync).
OFF_BY_DEFAULT = frozenset({"companies"})


def settings_for(object_name: str, options: dict[str, Any] | None) -> Any:
    cls = SETTINGS_CLASSES[object_name]
    known = {f.name for f in fields(cls)}
    return cls(**{k: v for k, v in (options or {}).items() if k in known})


def settings_validate(object_name: str, changes: dict[str, Any]) -> dict[str, Any]:
    """Check a partial update; returns the cleaned values or raises :class:`SettingsError`."""
    cls = SETTINGS_CLASSES.get(object_name)
    if cls is None:
        raise SettingsError({"object": f"{object_name} has no settings yet"})
    types = {f.name: f.type for f in fields(cls)}
    errors: dict[str, str] = {}
    cleaned: dict[str, Any] = {}
    for name, value in changes.items():
        if name not in types:
            errors[name] = "unknown setting"
        elif name in cls.CHOICES and value not in cls.CHOICES[name]:
            errors[name] = f"must be one of {', '.join(cls.CHOICES[name])}"
        elif types[name] == "bool" and not isinstance(value, bool):
            errors[name] = "must be true or false"
        elif types[name] == "str | None" and value not in (None, "") and not isinstance(value, str):
            errors[name] = "must be text or empty"
        else:
            cleaned[name] = value or None if types[name] == "str | None" else value
    if errors:
        raise SettingsError(errors)
    return cleaned


def settings_as_dict(settings: Any) -> dict[str, Any]:
    return asdict(settings)
