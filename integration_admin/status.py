"""The header's account of the integration: its state, why, and what to do about it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from sync_engine.budget import HUBSPOT_DAILY_LIMIT, ORG_LIMIT, paused_because
from sync_engine.models import Integration, ObjectSync, SyncObject
from sync_engine.object_settings import CUSTOM_PREFIX, settings_for
from sync_engine.services import DISCONNECTED_BY_ADMIN
from sync_engine.sync.registry import pair_order

STATE_LABELS = {
    Integration.State.CONNECTED: gettext_lazy("Connected"),
    Integration.State.PAUSED: gettext_lazy("Paused"),
    Integration.State.SUSPENDED: gettext_lazy("Suspended"),
    Integration.State.DISCONNECTED: gettext_lazy("Disconnected"),
}
OBJECT_LABELS = {
    SyncObject.CONTACTS: gettext_lazy("Contacts"),
    SyncObject.COMPANIES: gettext_lazy("Companies"),
    SyncObject.DEALS: gettext_lazy("Deals"),
    SyncObject.TICKETS: gettext_lazy("Tickets"),
    SyncObject.ACTIVITIES: gettext_lazy("Activities"),
}
# The header's state while an admin has the whole sync turned off (not one of the
# integration's states: it is connected, or paused, underneath).
SYNC_OFF = "sync_off"
# Objects the engine syncs today (those with settings); the header lists their last sync.
SYNCED_OBJECTS = ("contacts",)


def _fallback_label(name: str) -> str:
    """A pair's tab name, else the name as it is: ids are case-sensitive, never title-cased."""
    if name in OBJECT_LABELS:
        return str(OBJECT_LABELS[name])
    return name.title() if name.isalpha() else name


def object_labels(integration: Integration, names) -> dict[str, str]:
    """``{object: its name for people}`` for ``names``: the tabs' names, and a custom object's
    HubSpot label ("Projects" for ``custom:1``); one query, only when custom objects are
    among them."""
    labels = {name: _fallback_label(name) for name in names}
    custom = [name for name in names if name.startswith(CUSTOM_PREFIX)]
    if custom:
        labels.update(_custom_labels(integration, object__in=custom))
    return labels


def _custom_labels(integration: Integration, **which) -> dict[str, str]:
    rows = ObjectSync.objects.filter(integration=integration, **which)
    labels = {}
    for name, options in rows.values_list("object", "options"):
        settings = settings_for(name, options)
        labels[name] = settings.hubspot_label or settings.salesforce_label or name
    return labels


class ObjectNames:
    """Pairs' names for people, for a page that names many (the audit log): the custom
    objects' are read once, on first need (1 query); a pair's property and field labels
    likewise, from the cached schemas (1 query per pair named)."""

    def __init__(self, integration: Integration | None) -> None:
        self.integration = integration
        self._custom: dict[str, str] | None = None
        self._labels: dict[str, tuple[dict[str, str], dict[str, str]]] = {}

    def property(self, object_name, hubspot_property) -> str:
        """A HubSpot property as the mapping tables name it, with its API name."""
        return self._named(self._schema_labels(str(object_name or ""))[0], hubspot_property)

    def field(self, object_name, salesforce_field) -> str:
        """A Salesforce field as the mapping tables name it, with its API name."""
        return self._named(self._schema_labels(str(object_name or ""))[1], salesforce_field)

    @staticmethod
    def _named(labels: dict[str, str], name) -> str:
        name = str(name or "")
        label = labels.get(name)
        return f"{label} ({name})" if label and label != name else name

    def _schema_labels(self, object_name: str) -> tuple[dict[str, str], dict[str, str]]:
        if object_name not in self._labels:
            self._labels[object_name] = (
                _schema_labels(self.integration, object_name) if self.integration else ({}, {})
            )
        return self._labels[object_name]

    def __call__(self, name) -> str:
        name = str(name or "")
        if not name.startswith(CUSTOM_PREFIX):
            return _fallback_label(name) if name else ""
        if self._custom is None:
            self._custom = (
                _custom_labels(self.integration, object__startswith=CUSTOM_PREFIX)
                if self.integration is not None
                else {}
            )
        return self._custom.get(name, name)


def _schema_labels(integration: Integration, object_name: str) -> tuple[dict, dict]:
    """(HubSpot property labels, Salesforce field labels) of a pair, as its mapping table
    shows them (one query; two for a custom object)."""
    from sync_engine.selectors import pair_schema_options

    schema = pair_schema_options(integration=integration, object_name=object_name)
    return schema.hubspot_labels, schema.salesforce_labels


@dataclass(frozen=True)
class LastSync:
    object: str
    label: str
    at: datetime | None


@dataclass(frozen=True)
class IntegrationStatus:
    state: str
    label: str
    reason: str
    advice: str
    last_syncs: list[LastSync]
    not_started: bool = False  # the header offers the way to Start syncing


def _when(moment: datetime) -> str:
    return formats.date_format(timezone.localtime(moment), "DATETIME_FORMAT")


def _reason(integration: Integration) -> str:
    """The cause, in the reader's language where the engine's words are known."""
    if (
        integration.state == Integration.State.DISCONNECTED
        and integration.state_reason == DISCONNECTED_BY_ADMIN
    ):
        return _("Disconnected on %(when)s; the stored tokens were deleted.") % {
            "when": _when(integration.state_changed_at)
        }
    # Why it paused, or another of the engine's reasons, in the reader's language.
    from .labels import engine_message  # labels names pairs through this module

    return engine_message(integration.state_reason)


def state_advice(integration: Integration) -> str:
    """What to do about the integration's state: the status bar's advice, and the alert emails'."""
    state = integration.state
    reason = integration.state_reason.lower()
    if paused_because(integration, ORG_LIMIT):
        return _(
            "Syncing resumes by itself when Salesforce frees calls. For a migration, ask "
            "Salesforce for a temporary increase."
        )
    if paused_because(integration, HUBSPOT_DAILY_LIMIT):
        return _(
            "Syncing resumes by itself when HubSpot's daily limit resets, at midnight in the "
            "HubSpot account's time zone. The account's other apps use the same limit."
        )
    if state == Integration.State.PAUSED:
        return _(
            "Syncing resumes by itself as calls leave the rolling 24-hour window. To resume "
            "sooner, raise “Allocated to HubSpot” on the Sync health tab."
        )
    if state == Integration.State.SUSPENDED:
        if "limit" in reason:
            return _(
                "The Salesforce org ran out of API calls. Lower other integrations' use, ask "
                "Salesforce for a temporary increase, or wait for calls to free up; then clear "
                "the suspension."
            )
        hubspot = reason.startswith("hubspot:")  # its reason gives HubSpot's own advice
        if not hubspot and ("access" in reason or "permission" in reason or "token" in reason):
            return _(
                "Give the integration user “API Enabled” and the permissions it needs, then "
                "reconnect on the Connection tab."
            )
        return _("Fix the cause above, then clear the suspension. If it persists, reconnect.")
    if state == Integration.State.DISCONNECTED:
        return _("Connect Salesforce and HubSpot on the Connection tab.")
    return ""


def _sync_off_reason(integration: Integration) -> str:
    """Who turned the whole sync off, and when."""
    at = integration.sync_changed_at
    if at is None:
        return ""
    if integration.sync_changed_by:
        return _("Turned off by %(user)s on %(when)s") % {
            "user": integration.sync_changed_by,
            "when": _when(at),
        }
    return _("Turned off on %(when)s") % {"when": _when(at)}


def integration_status(
    integration: Integration, last_synced: dict[str, datetime]
) -> IntegrationStatus:
    objects = sorted(set(SYNCED_OBJECTS) | set(last_synced), key=lambda o: (pair_order(o), o))
    labels = object_labels(integration, objects)
    last_syncs = [LastSync(o, labels[o], last_synced.get(o)) for o in objects]
    if integration.sync_not_started and integration.state != Integration.State.DISCONNECTED:
        # Connected for the first time: nothing syncs until an admin has looked at what will.
        return IntegrationStatus(
            state=SYNC_OFF,
            label=_("Not started"),
            reason=_("Connected. Sync hasn't started: it waits for you to review the settings."),
            advice=_(
                "Choose what syncs first (on the Contacts tab, which HubSpot contacts sync and "
                "what they create in Salesforce; the other objects on their tabs; the "
                "mappings), then Start syncing on the Connection page."
            ),
            last_syncs=last_syncs,
            not_started=True,
        )
    if not integration.sync_enabled and integration.state != Integration.State.DISCONNECTED:
        # An admin's choice outranks what the engine reports underneath (a pause, a
        # suspension): nothing syncs until sync is back on, and then the state shows again.
        return IntegrationStatus(
            state=SYNC_OFF,
            label=_("Sync off"),
            reason=_sync_off_reason(integration),
            advice=_("Turn sync back on on the Connection page."),
            last_syncs=last_syncs,
        )
    return IntegrationStatus(
        state=integration.state,
        label=str(STATE_LABELS.get(integration.state, integration.get_state_display())),
        reason=_reason(integration),
        advice=state_advice(integration),
        last_syncs=last_syncs,
    )
