"""What a sync asked for by hand did, in the admin's words: a record's *Resync*, a tab's
*Sync a contact* / *Sync a company*, a Resync of errors. The services say it by code
(``sync_engine.services.RecordSyncRequest``, ``sync_engine.selectors.sync_waits_because``);
the pages and the API both answer with these words (the API in English)."""

from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from sync_engine.selectors import (
    WAITS_NOT_CONNECTED,
    WAITS_ON_HOLD,
    WAITS_PAIR_OFF,
    WAITS_SYNC_OFF,
)
from sync_engine.services import (
    RECORD_LIST_MISSING,
    RECORD_NO_EMAIL,
    RECORD_NOT_FOUND,
    RECORD_NOT_IN_LIST,
    RECORD_PAIR_OFF,
    RECORD_UNAVAILABLE,
    RECORD_UNREADABLE,
    RecordSyncRequest,
)

from .forms import inclusion_list_label
from .status import object_labels

WAITS = {
    WAITS_SYNC_OFF: gettext_lazy("Queued. Sync is off: it runs once sync is turned back on."),
    WAITS_NOT_CONNECTED: gettext_lazy(
        "Queued. Not connected: it runs once Salesforce and HubSpot are connected again."
    ),
    WAITS_ON_HOLD: gettext_lazy(
        "Queued. Syncing is on hold (see the status bar): it runs once syncing resumes."
    ),
}


def waits_message(integration, waits: str, object_name: str = "") -> str | None:
    """Why a queued resync won't run at once (``waits``: a ``sync_waits_because`` code), in
    the admin's words; None when it will."""
    if waits == WAITS_PAIR_OFF:
        return _("Queued. %(pair)s sync is off: it runs once that sync is turned back on.") % {
            "pair": object_labels(integration, [object_name])[object_name]
        }
    return str(WAITS[waits]) if waits else None


def record_sync_answer(integration, outcome: RecordSyncRequest) -> str:
    """What a *Sync a contact* / *Sync a company* card says: queued (and whether it syncs
    now), or why not."""
    if outcome.ok:
        waits = waits_message(integration, outcome.waits, outcome.object_name)
        return waits or _syncs_now(outcome)
    if outcome.refused == RECORD_UNAVAILABLE:
        return _("Couldn't reach HubSpot: %(error)s") % {"error": outcome.error}
    if outcome.object_name == "companies":
        return _company_refused(integration, outcome)
    return _contact_refused(integration, outcome)


def _syncs_now(outcome: RecordSyncRequest) -> str:
    if outcome.object_name == "companies":
        return _("Company %(id)s syncs now; its Salesforce account is created if it has none.") % {
            "id": _company(outcome)
        }
    return _(
        "Contact %(contact)s syncs now; if no Salesforce lead or contact has its email, one "
        "is created."
    ) % {"contact": outcome.name or outcome.record_id}


def _company(outcome: RecordSyncRequest) -> str:
    return f"{outcome.name} ({outcome.record_id})" if outcome.name else outcome.record_id


def _company_refused(integration, outcome: RecordSyncRequest) -> str:
    if outcome.refused == RECORD_UNREADABLE:
        return _("Enter the HubSpot company's record id, or paste its address from HubSpot.")
    if outcome.refused == RECORD_PAIR_OFF:
        return _("Turn company sync on first.")
    if outcome.refused == RECORD_LIST_MISSING:
        return _(
            "The company inclusion list (%(list)s) no longer exists in HubSpot, so no company "
            "syncs to Salesforce. Choose another list above, or none to sync all companies."
        ) % {"list": inclusion_list_label(integration, outcome.list_id)}
    if outcome.refused == RECORD_NOT_IN_LIST:
        return _(
            "Company %(company)s isn't in the company inclusion list (%(list)s), so it doesn't "
            "sync to Salesforce. Add it to that list in HubSpot, or change the inclusion list "
            "above."
        ) % {
            "company": _company(outcome),
            "list": inclusion_list_label(integration, outcome.list_id),
        }
    return _("HubSpot has no company %(id)s.") % {"id": outcome.asked}


def _contact_refused(integration, outcome: RecordSyncRequest) -> str:
    who = outcome.name or outcome.record_id
    if outcome.refused == RECORD_UNREADABLE:
        return _(
            "Enter the HubSpot contact's email address or record id, or paste its address "
            "from HubSpot."
        )
    if outcome.refused == RECORD_PAIR_OFF:
        return _("Turn contact sync on first.")
    if outcome.refused == RECORD_NOT_FOUND:
        return _("HubSpot has no contact %(contact)s.") % {"contact": outcome.asked}
    if outcome.refused == RECORD_NO_EMAIL:
        return _(
            "Contact %(contact)s has no email address, so it can't sync: the email is what "
            "matches it to a Salesforce lead or contact."
        ) % {"contact": who}
    list_label = inclusion_list_label(integration, outcome.list_id)
    if outcome.refused == RECORD_LIST_MISSING:
        return _(
            "The inclusion list (%(list)s) no longer exists in HubSpot, so no contact syncs to "
            "Salesforce. Choose another list above, or none to sync all contacts."
        ) % {"list": list_label}
    if outcome.refused == RECORD_NOT_IN_LIST:
        return _(
            "Contact %(contact)s isn't in the inclusion list (%(list)s), so it doesn't sync to "
            "Salesforce. Add it to that list in HubSpot, or change the inclusion list above."
        ) % {"contact": who, "list": list_label}
    raise ValueError(f"unknown refusal {outcome.refused!r}")
