"""The header's account of the integration: its state, why, and what to do about it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from sync_engine.models import Integration, SyncObject

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
# Objects the engine syncs today (those with settings); the header lists their last sync.
SYNCED_OBJECTS = ("contacts",)


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


def _advice(integration: Integration) -> str:
    state = integration.state
    reason = integration.state_reason.lower()
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
        if "access" in reason or "permission" in reason or "token" in reason:
            return _(
                "Give the integration user “API Enabled” and the permissions it needs, then "
                "reconnect on the Connection tab."
            )
        return _("Fix the cause above, then clear the suspension. If it persists, reconnect.")
    if state == Integration.State.DISCONNECTED:
        return _("Connect Salesforce and HubSpot on the Connection tab.")
    return ""


def integration_status(
    integration: Integration, last_synced: dict[str, datetime]
) -> IntegrationStatus:
    objects = list(SYNCED_OBJECTS) + sorted(set(last_synced) - set(SYNCED_OBJECTS))
    return IntegrationStatus(
        state=integration.state,
        label=str(STATE_LABELS.get(integration.state, integration.get_state_display())),
        reason=integration.state_reason,
        advice=_advice(integration),
        last_syncs=[
            LastSync(o, str(OBJECT_LABELS.get(o, o.title())), last_synced.get(o)) for o in objects
        ],
    )
