"""Audit events in people's words: who, when, what, and before → after."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from sync_engine.models import AuditEvent

from .labels import rule_label

ACTION_LABELS = {
    "integration.created": gettext_lazy("Integration created"),
    "integration.connected": gettext_lazy("Connected"),
    "integration.allocation_changed": gettext_lazy("Allocated to HubSpot changed"),
    "integration.state_changed": gettext_lazy("Integration state changed"),
    "settings.updated": gettext_lazy("Settings changed"),
    "mapping.created": gettext_lazy("Mapping added"),
    "mapping.rule_changed": gettext_lazy("Sync rule changed"),
    "mapping.deleted": gettext_lazy("Mapping deleted"),
    "errors.resync_requested": gettext_lazy("Resync requested"),
    "sync.requested": gettext_lazy("Sync started by hand"),
    "import.started": gettext_lazy("Import from Salesforce started"),
    "import.cancelled": gettext_lazy("Import from Salesforce cancelled"),
    "import.resumed": gettext_lazy("Import from Salesforce resumed"),
    "custom_object.created": gettext_lazy("Custom object sync added"),
    "custom_object.updated": gettext_lazy("Custom object sync changed"),
    "custom_object.deleted": gettext_lazy("Custom object sync removed"),
    "admin.created": gettext_lazy("Admin created"),
    "admin.password_reset": gettext_lazy("Admin password reset"),
    "secrets.reencrypted": gettext_lazy("Secrets re-encrypted"),
}


@dataclass
class Change:
    name: str
    before: str
    after: str


@dataclass
class AuditRow:
    event: AuditEvent
    action: str
    actor: str
    subject: str = ""
    changes: list[Change] = field(default_factory=list)
    notes: list[tuple[str, str]] = field(default_factory=list)


def _text(value: Any) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return _("On") if value else _("Off")
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def describe_event(event: AuditEvent) -> AuditRow:
    details = event.details or {}
    actor = event.actor.get_username() if event.actor else _("System")
    row = AuditRow(
        event=event, action=str(ACTION_LABELS.get(event.action, event.action)), actor=actor
    )
    action = event.action
    if action == "integration.allocation_changed":
        row.changes.append(
            Change(_("Allocated to HubSpot"), _text(details.get("from")), _text(details.get("to")))
        )
    elif action == "integration.state_changed":
        row.changes.append(Change(_("State"), _text(details.get("from")), _text(details.get("to"))))
        if details.get("reason"):
            row.notes.append((_("Reason"), str(details["reason"])))
    elif action == "settings.updated":
        row.subject = str(details.get("object", ""))
        for name, change in (details.get("changes") or {}).items():
            if isinstance(change, dict):
                row.changes.append(Change(name, _text(change.get("from")), _text(change.get("to"))))
    elif action == "mapping.rule_changed":
        row.subject = f"{details.get('object', '')} · {details.get('hubspot', '')}"
        row.changes.append(
            Change(
                _("Sync rule"),
                rule_label(details.get("from", "")),
                rule_label(details.get("to", "")),
            )
        )
    elif action in ("mapping.created", "mapping.deleted"):
        row.subject = str(details.get("object", ""))
        pair = f"{details.get('hubspot', '')} ⇄ {details.get('salesforce', '')}"
        before, after = (_text(None), pair) if action == "mapping.created" else (pair, _text(None))
        row.changes.append(Change(_("Mapping"), before, after))
        if details.get("rule"):
            row.notes.append((_("Sync rule"), rule_label(details["rule"])))
    elif action.startswith("custom_object."):
        row.subject = str(details.get("object", ""))
        if details.get("salesforce"):
            objects = f"{details['salesforce']} ⇄ {details.get('hubspot', '')}"
            row.notes.append((_("Synced objects"), objects))
        for name, change in (details.get("changes") or {}).items():
            if isinstance(change, dict):
                row.changes.append(Change(name, _text(change.get("from")), _text(change.get("to"))))
    else:
        for key, value in details.items():
            if isinstance(value, list):
                value = ", ".join(str(v) for v in value)
            row.notes.append((str(key), _text(value)))
    return row
