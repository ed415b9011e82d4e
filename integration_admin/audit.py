"""Audit events in people's words: who, when, what, and before → after."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from sync_engine.models import AuditEvent
from sync_engine.selectors import LIST_NAMES

from .forms import setting_label, setting_value
from .labels import engine_message, error_text, rule_label, target_label
from .status import STATE_LABELS, ObjectNames
from .templatetags.humanize_numbers import thousands

ACTION_LABELS = {
    "integration.created": gettext_lazy("Integration created"),
    "integration.connected": gettext_lazy("Connected"),
    "integration.allocation_changed": gettext_lazy("Allocated to HubSpot changed"),
    "integration.state_changed": gettext_lazy("Integration state changed"),
    "integration.sync_turned_off": gettext_lazy("Sync turned off"),
    "integration.sync_turned_on": gettext_lazy("Sync turned on"),
    "integration.disconnected": gettext_lazy("Disconnected"),
    "integration.user_changed": gettext_lazy("Integration user changed"),
    "integration.sandbox_changed": gettext_lazy("Connected to a new sandbox"),
    "notifications.suspension_email_on": gettext_lazy("Suspension emails turned on"),
    "notifications.suspension_email_off": gettext_lazy("Suspension emails turned off"),
    "settings.updated": gettext_lazy("Settings changed"),
    "mapping.created": gettext_lazy("Mapping added"),
    "mapping.rule_changed": gettext_lazy("Sync rule changed"),
    "mapping.deleted": gettext_lazy("Mapping deleted"),
    "schema.refreshed": gettext_lazy("Properties and fields refreshed"),
    "errors.resync_requested": gettext_lazy("Resync requested"),
    "errors.view_created": gettext_lazy("View created in HubSpot"),
    "record.resync_requested": gettext_lazy("Record resync requested"),
    "records.list_resync_requested": gettext_lazy("List resync"),
    "api_token.created": gettext_lazy("API token created"),
    "api_token.revoked": gettext_lazy("API token revoked"),
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
    "user.created": gettext_lazy("User added"),
    "user.roles_changed": gettext_lazy("User's access changed"),
    "user.deleted": gettext_lazy("User deleted"),
    "user.password_set": gettext_lazy("User's password set"),
}

# What decides a person's access (user.* events).
ROLE_LABELS = {
    "is_active": gettext_lazy("Active"),
    "is_staff": gettext_lazy("Django admin access"),
    "is_superuser": gettext_lazy("Superuser"),
    "groups": gettext_lazy("Groups"),
}


# Details of the other events, by key.
NOTE_LABELS = {
    "previous_state": gettext_lazy("State before"),
    "salesforce_url": gettext_lazy("Salesforce"),
    "salesforce_user": gettext_lazy("Salesforce user"),
    "hubspot_url": gettext_lazy("HubSpot"),
    "salesforce_org": gettext_lazy("Salesforce org id"),
    "hubspot_account": gettext_lazy("HubSpot account id"),
    "salesforce_refresh": gettext_lazy("Salesforce token refresh"),
    "hubspot_refresh": gettext_lazy("HubSpot token refresh"),
    "username": gettext_lazy("User"),
    "salesforce_sandbox": gettext_lazy("Salesforce sandbox"),
    "links_removed": gettext_lazy("Links removed"),
    "cursors_reset": gettext_lazy("Read positions reset"),
    "errors_ended": gettext_lazy("Sync errors ended"),
    "imports_stopped": gettext_lazy("Imports stopped"),
    "company_keys_emptied": gettext_lazy("Companies' old account ids emptied"),
    "record_keys_emptied": gettext_lazy("Custom object records' old Salesforce ids emptied"),
    "sync_waits_for_start": gettext_lazy("Sync waits for an admin to start it"),
}


# Details that hold one of the integration's states ("disconnected"): shown as the header
# names them.
STATE_KEYS = {"previous_state"}


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
    if value is None or value == "" or value == {} or value == []:
        return "—"
    if isinstance(value, bool):
        return _("On") if value else _("Off")
    if isinstance(value, int):
        return thousands(value)
    if isinstance(value, dict):  # e.g. the tickets' pipelines: their processes by label
        return ", ".join(
            str(v.get("label") or k) if isinstance(v, dict) else f"{k}: {_text(v)}"
            for k, v in value.items()
        )
    if isinstance(value, list):
        return ", ".join(_text(v) for v in value)
    return str(value)


def _state(value: Any) -> str:
    """An integration state as the header names it ("Disconnected", in the reader's language)."""
    label = STATE_LABELS.get(value) if isinstance(value, str) else None
    return str(label) if label else _text(value)


def _stage_name(entry: dict, status: str, stage: str, names: dict) -> str:
    """A ticket stage by name: as the wizard noted it, else (the integration's own pipelines
    name their stages after the case statuses) the status, else its HubSpot id."""
    name = names.get((entry.get("pipeline"), stage))
    if name:
        return str(name)
    return status if entry.get("managed") else str(stage)


def _pipeline_text(entry: dict, names: dict, stages: bool = False) -> str:
    """A process's pipeline: its name, and (``stages``) each status → the stage it takes."""
    if not entry:
        return _text(None)
    if not entry.get("pipeline"):
        return _("A new pipeline, created at the first sync")
    label = str(entry.get("pipeline_label") or entry["pipeline"])
    table = entry.get("stages") or {}
    if not stages or not table:
        return label
    pairs = ", ".join(
        f"{status} → {_stage_name(entry, status, stage, names)}" for status, stage in table.items()
    )
    return f"{label} ({pairs})"


def _pipeline_changes(before: Any, after: Any) -> list[Change]:
    """The tickets' process → pipeline table, changed: per case process, the pipeline it now
    syncs to (with its stages), or each case status whose stage changed in the same pipeline."""
    before = before if isinstance(before, dict) else {}
    after = after if isinstance(after, dict) else {}
    names: dict[tuple, str] = {}  # (pipeline, stage) -> the stage's name, from either end
    for entry in (*before.values(), *after.values()):
        if isinstance(entry, dict) and isinstance(entry.get("stage_labels"), dict):
            for stage, label in entry["stage_labels"].items():
                names[(entry.get("pipeline"), stage)] = label
    keys = sorted(dict.fromkeys([*after, *before]), key=lambda key: key != "master")
    changes = []
    for key in keys:
        old, new = before.get(key), after.get(key)
        old = old if isinstance(old, dict) else {}
        new = new if isinstance(new, dict) else {}
        process = str(new.get("label") or old.get("label") or key)
        if bool(old) != bool(new) or old.get("pipeline") != new.get("pipeline"):
            changes.append(
                Change(
                    _("Pipeline for %(process)s") % {"process": process},
                    _pipeline_text(old, names),
                    _pipeline_text(new, names, stages=True),
                )
            )
            continue
        old_stages, new_stages = old.get("stages") or {}, new.get("stages") or {}
        for status in dict.fromkeys([*new_stages, *old_stages]):
            if old_stages.get(status) == new_stages.get(status):
                continue
            name = _("Stage for %(status)s in %(process)s (%(pipeline)s)") % {
                "status": status,
                "process": process,
                "pipeline": _pipeline_text(new, names),
            }
            before_stage, after_stage = (
                _stage_name(entry, status, table[status], names) if status in table else _text(None)
                for entry, table in ((old, old_stages), (new, new_stages))
            )
            changes.append(Change(name, before_stage, after_stage))
    return changes


def _mapping_changes(name_of: ObjectNames, object_name: str, before: Any, after: Any):
    """A custom object's mappings (``{Salesforce field: HubSpot property}``), changed: one
    row per mapping added, removed or moved to another property, named as the mapping
    tables name them."""
    before = before if isinstance(before, dict) else {}
    after = after if isinstance(after, dict) else {}

    def pair(field: str, prop: Any) -> str:
        if not prop:
            return _text(None)
        return f"{name_of.property(object_name, prop)} ⇄ {name_of.field(object_name, field)}"

    return [
        Change(_("Mapping"), pair(field, before.get(field)), pair(field, after.get(field)))
        for field in dict.fromkeys([*before, *after])
        if before.get(field) != after.get(field)
    ]


def _associations_text(name_of: ObjectNames, object_name: str, value: Any) -> str:
    """A custom object's associations (``{HubSpot object: Salesforce lookup}``) by name."""
    if not isinstance(value, dict) or not value:
        return _text(None)
    return ", ".join(
        f"{name_of(hs_object)} ⇄ {name_of.field(object_name, lookup)}"
        for hs_object, lookup in value.items()
    )


def describe_event(event: AuditEvent, names: ObjectNames | None = None) -> AuditRow:
    """One event in people's words; ``names`` names the objects (shared by a page's rows,
    so custom objects are read once)."""
    name_of = names or ObjectNames(None)
    details = event.details or {}
    actor = event.actor.get_username() if event.actor else _("System")
    row = AuditRow(
        event=event, action=str(ACTION_LABELS.get(event.action, event.action)), actor=actor
    )
    action = event.action
    if action in ("integration.user_changed", "integration.sandbox_changed"):
        name = _("Integration user") if action == "integration.user_changed" else _("Org id")
        row.changes.append(Change(name, _text(details.get("from")), _text(details.get("to"))))
        for key, value in details.items():
            if key not in ("from", "to"):
                row.notes.append((str(NOTE_LABELS.get(key, key)), _text(value)))
    elif action == "integration.allocation_changed":
        row.changes.append(
            Change(_("Allocated to HubSpot"), _text(details.get("from")), _text(details.get("to")))
        )
    elif action == "integration.state_changed":
        row.changes.append(
            Change(_("State"), _state(details.get("from")), _state(details.get("to")))
        )
        if details.get("reason"):
            reason = str(details["reason"])
            row.notes.append((_("Reason"), engine_message(reason)))
    elif action == "settings.updated":
        object_name = str(details.get("object", ""))
        row.subject = name_of(object_name)
        for name, change in (details.get("changes") or {}).items():
            if isinstance(change, dict) and object_name == "tickets" and name == "pipelines":
                detail = _pipeline_changes(change.get("from"), change.get("to"))
                if detail:  # else (only names noted by the integration changed) as a list
                    row.changes.extend(detail)
                    continue
            if isinstance(change, dict):
                before, after = (
                    setting_value(object_name, name, value, details.get(LIST_NAMES)) or _text(value)
                    for value in (change.get("from"), change.get("to"))
                )
                row.changes.append(Change(setting_label(object_name, name), before, after))
    elif action == "mapping.rule_changed":
        prop = name_of.property(details.get("object"), details.get("hubspot"))
        row.subject = f"{name_of(details.get('object'))} · {prop}"
        row.changes.append(
            Change(
                _("Sync rule"),
                rule_label(details.get("from", "")),
                rule_label(details.get("to", "")),
            )
        )
    elif action in ("mapping.created", "mapping.deleted"):
        row.subject = name_of(details.get("object"))
        pair = (
            f"{name_of.property(details.get('object'), details.get('hubspot'))} ⇄ "
            f"{name_of.field(details.get('object'), details.get('salesforce'))}"
        )
        before, after = (_text(None), pair) if action == "mapping.created" else (pair, _text(None))
        row.changes.append(Change(_("Mapping"), before, after))
        if details.get("rule"):
            row.notes.append((_("Sync rule"), rule_label(details["rule"])))
        if details.get("reason"):  # removed by the integration (a migration), not by a person
            row.notes.append((_("Reason"), engine_message(str(details["reason"]))))
    elif action in ("errors.resync_requested", "errors.view_created"):
        if "count" in details:
            row.notes.append((_("Errors"), _text(details["count"])))
        if "records" in details:
            row.notes.append((_("Records"), _text(details["records"])))
        if details.get("error_type"):
            row.notes.append((_("Error type"), str(error_text(details["error_type"]).title)))
        if details.get("search"):  # "Resync all" as searched: not every error of the type
            row.notes.append((_("Search"), str(details["search"])))
    elif action == "schema.refreshed":
        object_name = str(details.get("object", ""))
        row.subject = name_of(object_name)
        if row.subject == object_name and details.get("hubspot_label"):  # a custom one, gone
            row.subject = str(details["hubspot_label"])
    elif action == "record.resync_requested":
        row.subject = f"{name_of(details.get('object'))} · {details.get('record', '')}"
    elif action == "records.list_resync_requested":
        row.subject = f"{name_of(details.get('object'))} · {details.get('list', '')}"
        row.notes.append((_("Records"), _text(details.get("records"))))
        row.notes.append((_("HubSpot list id"), _text(details.get("list_id"))))
    elif action in ("sync.requested", "import.started", "import.cancelled", "import.resumed"):
        objects = details.get("objects") or ([details["object"]] if "object" in details else [])
        if objects:
            row.subject = ", ".join(
                target_label(name, {name: {"label": name_of(name)}}, details.get("name") or "")
                if action.startswith("import.")
                else name_of(name)
                for name in objects
            )
        if "import" in details:
            row.notes.append((_("Import"), f"#{details['import']}"))
    elif action.startswith("api_token."):
        row.notes.append((_("User"), _text(details.get("username"))))
        row.notes.append((_("Token prefix"), _text(details.get("prefix"))))
        if details.get("expiry"):
            row.notes.append((_("Expires"), _text(details["expiry"])))
    elif action.startswith("user."):
        row.subject = _text(details.get("username"))
        for key, change in (details.get("changes") or {}).items():
            if isinstance(change, dict):
                row.changes.append(
                    Change(
                        str(ROLE_LABELS.get(key, key)),
                        _text(change.get("from")),
                        _text(change.get("to")),
                    )
                )
    elif action.startswith("custom_object."):
        object_name = str(details.get("object", ""))
        row.subject = name_of(object_name)
        if row.subject == object_name:  # removed since: named by what the entry noted
            noted = details.get("hubspot_label") or details.get("salesforce_label")
            row.subject = str(noted or object_name)
        if details.get("salesforce"):
            salesforce = details.get("salesforce_label") or details["salesforce"]
            hubspot = details.get("hubspot_label") or details.get("hubspot", "")
            objects = f"{salesforce} ⇄ {hubspot}"
            row.notes.append((_("Synced objects"), objects))
        if action == "custom_object.created":  # the mappings it was set up with
            row.changes.extend(_mapping_changes(name_of, object_name, {}, details.get("mappings")))
        for name, change in (details.get("changes") or {}).items():
            if not isinstance(change, dict):
                continue
            before, after = change.get("from"), change.get("to")
            if name == "mappings":
                row.changes.extend(_mapping_changes(name_of, object_name, before, after))
            elif name == "associations":
                row.changes.append(
                    Change(
                        setting_label(object_name, name),
                        _associations_text(name_of, object_name, before),
                        _associations_text(name_of, object_name, after),
                    )
                )
            else:
                before, after = (
                    setting_value(object_name, name, value) or _text(value)
                    for value in (before, after)
                )
                row.changes.append(Change(setting_label(object_name, name), before, after))
    else:
        for key, value in details.items():
            text = _state(value) if key in STATE_KEYS else _text(value)
            row.notes.append((str(NOTE_LABELS.get(key, key)), text))
    return row
