"""The settings of each object pair, their defaults (HubSpot's) and their validation.

Stored as JSON on ``ObjectSync.options``; read through :func:`settings_for`, which fills in
defaults for anything missing, so adding a setting needs no data migration.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
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
    # HubSpot list ids: given as a number or digit string, stored as text; the service checks
    # with HubSpot that a newly chosen list exists (see ``object_settings_update``).
    HUBSPOT_LIST_IDS: ClassVar[tuple[str, ...]] = ("inclusion_list_id",)
    # The HubSpot object type (objectTypeId) whose active lists those settings take.
    HUBSPOT_LIST_OBJECT_TYPE: ClassVar[str] = "0-1"


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
    # Only companies in this active HubSpot company list sync (spec §6.5, "the new company
    # sync"); None means every company. The account-creation conditions (§9) still consult
    # the contacts' inclusion list, as before.
    inclusion_list_id: str | None = None

    CHOICES: ClassVar[dict[str, tuple[str, ...]]] = {
        "salesforce_delete": ("delete", "nothing"),
    }
    HUBSPOT_LIST_IDS: ClassVar[tuple[str, ...]] = ("inclusion_list_id",)
    HUBSPOT_LIST_OBJECT_TYPE: ClassVar[str] = "0-2"


@dataclass
class DealSettings:
    """Deals ⇄ opportunities (spec §10). Starts switched off."""

    # Salesforce → HubSpot: when an opportunity is deleted. Deleting a deal never deletes
    # the opportunity.
    salesforce_delete: str = "delete"  # or "nothing"

    CHOICES: ClassVar[dict[str, tuple[str, ...]]] = {
        "salesforce_delete": ("delete", "nothing"),
    }


@dataclass
class TicketSettings:
    """Tickets ⇄ cases (spec §14), set up through the Tickets-tab wizard. Starts switched off."""

    # Salesforce → HubSpot: when a case is deleted.
    salesforce_delete: str = "nothing"  # or "delete"
    # Associations kept in step (wizard step 2).
    sync_account_association: bool = True
    sync_contact_association: bool = True
    # The wizard has been finished; until then the tab shows the wizard.
    setup_complete: bool = False
    # Case process (a Case record type id, or "master") -> its HubSpot ticket pipeline:
    # {"label", "pipeline" (id; "" = create one), "stages" {case status: stage id},
    # "managed" (a pipeline the integration created: it adds stages for new statuses)}.
    pipelines: dict = field(default_factory=dict)

    CHOICES: ClassVar[dict[str, tuple[str, ...]]] = {
        "salesforce_delete": ("delete", "nothing"),
    }
    # Chosen (and checked against both CRMs) in the wizard only, not through the API.
    WIZARD: ClassVar[str] = "Tickets"
    WIZARD_ONLY: ClassVar[tuple[str, ...]] = ("pipelines", "setup_complete")


@dataclass
class ActivitySettings:
    """Activities ⇄ tasks (spec §13): one toggle per type and direction. Starts switched off;
    turning a type on never backfills (the import covers history): only activities created
    or modified after the moment a type (and the pair) was turned on sync."""

    # HubSpot → Salesforce (timeline sync, as Tasks on the linked lead or contact).
    hubspot_calls: bool = False
    hubspot_emails: bool = False
    hubspot_meetings: bool = False
    hubspot_notes: bool = False
    hubspot_tasks: bool = False
    # Salesforce → HubSpot (as engagements on the linked contact).
    salesforce_tasks: bool = False
    salesforce_calls: bool = False
    salesforce_emails: bool = False
    salesforce_meetings: bool = False
    # When each toggle (and "enabled", the pair's switch) was last turned on: ISO times,
    # written by ``object_settings_update`` through :meth:`stamp_changes`, never by a form.
    turned_on_at: dict = field(default_factory=dict)

    CHOICES: ClassVar[dict[str, tuple[str, ...]]] = {}
    READ_ONLY: ClassVar[tuple[str, ...]] = ("turned_on_at",)
    TOGGLES: ClassVar[tuple[str, ...]] = (
        "hubspot_calls",
        "hubspot_emails",
        "hubspot_meetings",
        "hubspot_notes",
        "hubspot_tasks",
        "salesforce_tasks",
        "salesforce_calls",
        "salesforce_emails",
        "salesforce_meetings",
    )

    @classmethod
    def stamp_changes(cls, current: dict, diff: dict, now: Any) -> dict:
        """The ``turned_on_at`` that goes with a change: the moment of every toggle (or the
        pair's switch) that went from off to on."""
        turned_on = [
            name
            for name, (old, new) in diff.items()
            if (name in cls.TOGGLES or name == "enabled") and new is True and old is not True
        ]
        if not turned_on:
            return {}
        stamps = dict(current.get("turned_on_at") or {})
        for name in turned_on:
            stamps[name] = now.isoformat()
        return {"turned_on_at": stamps}


@dataclass
class CustomObjectSettings:
    """One Salesforce object ⇄ one HubSpot custom object (spec §15); the pair's name is
    ``custom:<n>``. Starts switched off until the wizard finishes."""

    salesforce_object: str = ""
    hubspot_object: str = ""  # the custom object's objectTypeId, e.g. "2-1000001"
    # What each side does with the other's updates and deletes.
    salesforce_to_hubspot: str = "create_or_update"  # or "nothing"
    hubspot_to_salesforce: str = "create_or_update"  # or "nothing"
    salesforce_delete: str = "nothing"  # or "delete": a Salesforce delete deletes in HubSpot
    hubspot_delete: str = "nothing"  # or "delete": a HubSpot delete deletes in Salesforce
    conflict_winner: str = "salesforce"  # or "hubspot"
    # Associations: HubSpot object name -> Salesforce lookup field, e.g. {"contacts": "Contact__c"}.
    associations: dict = field(default_factory=dict)
    # How the two objects are called, for the tab (read when the wizard picked them).
    salesforce_label: str = ""
    hubspot_label: str = ""

    CHOICES: ClassVar[dict[str, tuple[str, ...]]] = {
        "salesforce_to_hubspot": ("create_or_update", "nothing"),
        "hubspot_to_salesforce": ("create_or_update", "nothing"),
        "salesforce_delete": ("delete", "nothing"),
        "hubspot_delete": ("delete", "nothing"),
        "conflict_winner": ("salesforce", "hubspot"),
    }
    # Chosen (and checked against both schemas) in the wizard only, not through the API.
    WIZARD: ClassVar[str] = "Custom objects"
    WIZARD_ONLY: ClassVar[tuple[str, ...]] = (
        "salesforce_object",
        "hubspot_object",
        "associations",
        "salesforce_label",
        "hubspot_label",
    )


CUSTOM_PREFIX = "custom:"


class PairRemoved(LookupError):
    """A custom pair named (by a queued cycle, an import) that the wizard no longer has."""


MAX_CUSTOM_OBJECTS = 10  # spec §15
SETTINGS_CLASSES: dict[str, type] = {
    "contacts": ContactSettings,
    "companies": CompanySettings,
    "deals": DealSettings,
    "tickets": TicketSettings,
    "activities": ActivitySettings,
}
# Pairs that start switched off until an admin turns them on (spec §9: company sync, §10
# deals, §13 activities, §14 the tickets wizard); custom objects too.
OFF_BY_DEFAULT = frozenset({"companies", "deals", "tickets", "activities"})
# Pairs without field mappings: activities span five HubSpot engagement types, and every
# activity of a type that is on syncs the same fields (spec §13).
UNMAPPED_PAIRS = ("activities",)  # a tuple: the API tests any JSON value sent against it


def settings_class(object_name: str) -> type | None:
    if object_name.startswith(CUSTOM_PREFIX):
        return CustomObjectSettings
    return SETTINGS_CLASSES.get(object_name)


def starts_enabled(object_name: str) -> bool:
    return object_name not in OFF_BY_DEFAULT and not object_name.startswith(CUSTOM_PREFIX)


def settings_for(object_name: str, options: dict[str, Any] | None) -> Any:
    cls = settings_class(object_name)
    known = {f.name for f in fields(cls)}
    return cls(**{k: v for k, v in (options or {}).items() if k in known})


MAX_LIST_ID_DIGITS = 18  # HubSpot's ids are 64-bit integers


def hubspot_list_id(value: Any) -> str | None:
    """A HubSpot list id as stored: ``None`` (no list) for None or blank text, the digits of a
    positive whole number given as a number or as text (``7``, ``"7"``, ``" 007 "`` all read
    ``"7"``); raises ``ValueError`` for anything else (``"abc"``, ``1.5``, ``true``, ``-3``)."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ValueError(value)
    text = str(value).strip()
    if text == "":
        return None
    if not (text.isascii() and text.isdigit()) or int(text) == 0:
        raise ValueError(value)
    text = str(int(text))
    if len(text) > MAX_LIST_ID_DIGITS:
        raise ValueError(value)
    return text


UNKNOWN_SETTING = "unknown setting"


def changeable_settings(cls: type) -> tuple[str, ...]:
    """The settings a change may name: not those only a wizard or the integration sets."""
    fixed = {*getattr(cls, "WIZARD_ONLY", ()), *getattr(cls, "READ_ONLY", ())}
    return tuple(f.name for f in fields(cls) if f.name not in fixed)


def wizard_only_note(cls: type) -> str:
    """What a setting only the pair's wizard sets says of itself (API refusals, its schema)."""
    return f"Set in the {cls.WIZARD} wizard."


def unknown_setting(cls: type, name: str) -> str | None:
    """What a change naming ``name`` is told when ``cls`` has no such setting (the settings
    it takes); None when it has."""
    if name in {f.name for f in fields(cls)}:
        return None
    return f"{UNKNOWN_SETTING}: this pair's settings are {', '.join(changeable_settings(cls))}"


def settings_validate(object_name: str, changes: dict[str, Any]) -> dict[str, Any]:
    """Check a partial update; returns the cleaned values or raises :class:`SettingsError`."""
    cls = settings_class(object_name)
    if cls is None:
        raise SettingsError({"object": f"{object_name} has no settings yet"})
    types = {f.name: f.type for f in fields(cls)}
    errors: dict[str, str] = {}
    cleaned: dict[str, Any] = {}
    for name, value in changes.items():
        if name not in types:
            errors[name] = UNKNOWN_SETTING
        elif name in getattr(cls, "READ_ONLY", ()):
            errors[name] = "set by the integration, not by hand"
        elif name in cls.CHOICES and value not in cls.CHOICES[name]:
            errors[name] = f"must be one of {', '.join(cls.CHOICES[name])}"
        elif types[name] == "bool" and not isinstance(value, bool):
            errors[name] = "must be true or false"
        elif name in getattr(cls, "HUBSPOT_LIST_IDS", ()):
            try:
                cleaned[name] = hubspot_list_id(value)
            except ValueError:
                errors[name] = "must be a HubSpot list id (a number), or empty for no list"
        elif types[name] == "str | None" and value not in (None, "") and not isinstance(value, str):
            errors[name] = "must be text or empty"
        else:
            cleaned[name] = value or None if types[name] == "str | None" else value
    if errors:
        raise SettingsError(errors)
    return cleaned


def settings_as_dict(settings: Any) -> dict[str, Any]:
    return asdict(settings)
