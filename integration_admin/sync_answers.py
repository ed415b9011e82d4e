"""What a sync asked for by hand did, in the admin's words: a record's *Resync*, a tab's
*Sync a contact* / *Sync a company*, *Resync a list*, a Resync of errors. The services say it
by code (``sync_engine.services.RecordSyncRequest`` and ``ListResync``,
``sync_engine.selectors.sync_waits_because``);
the pages and the API both answer with these words (the API in English)."""

from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from sync_engine.imports import job_stalled
from sync_engine.models import ListResyncJob
from sync_engine.selectors import (
    WAITS_NOT_CONNECTED,
    WAITS_ON_HOLD,
    WAITS_PAIR_OFF,
    WAITS_SYNC_OFF,
    object_settings_get,
)
from sync_engine.services import (
    LIST_EMPTY,
    LIST_NOT_FOUND,
    LIST_OTHER_OBJECT,
    LIST_RESYNC_BROKE,
    LIST_RESYNC_DISCONNECTED,
    LIST_RESYNC_MAX,
    LIST_RESYNC_RUNNING,
    LIST_TOO_LARGE,
    RECORD_LIST_MISSING,
    RECORD_NO_EMAIL,
    RECORD_NOT_FOUND,
    RECORD_NOT_IN_LIST,
    RECORD_PAIR_OFF,
    RECORD_UNAVAILABLE,
    RECORD_UNREADABLE,
    ListResync,
    RecordSyncRequest,
)

from .forms import inclusion_list_label
from .status import object_labels
from .templatetags.humanize_numbers import thousands

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
    if shared := _refused_either(outcome):
        return shared
    if outcome.object_name == "companies":
        return _company_refused(integration, outcome)
    return _contact_refused(integration, outcome)


def _refused_either(outcome: RecordSyncRequest | ListResync) -> str | None:
    """The refusals a record's sync and a list resync word alike: HubSpot couldn't be
    reached, or the pair's sync is off; None for any other."""
    if outcome.refused == RECORD_UNAVAILABLE:
        return _("Couldn't reach HubSpot: %(error)s") % {"error": outcome.error}
    if outcome.refused == RECORD_PAIR_OFF:
        if outcome.object_name == "companies":
            return _("Turn company sync on first.")
        return _("Turn contact sync on first.")
    return None


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


# --- Resync a list ---------------------------------------------------------------------------
def _list_name(outcome: ListResync) -> str:
    return outcome.name or outcome.list_id


def list_resync_confirmation(outcome: ListResync, inclusion_list: bool = False) -> str:
    """What the admin confirms: how many records sync again, what happens to them, and what
    it costs in Salesforce calls at most (``inclusion_list``: the pair has one)."""
    values = {
        "count": thousands(outcome.members),
        "list": _list_name(outcome),
        "calls": thousands(outcome.salesforce_calls),
        "cycles": thousands(outcome.cycles),
    }
    if outcome.object_name == "companies":
        text = ngettext(
            "%(count)s company in %(list)s will be synced again: its mapped values are "
            "compared and written where the sync rules say, and it gets a Salesforce account "
            "if it has none.",
            "%(count)s companies in %(list)s will be synced again: their mapped values are "
            "compared and written where the sync rules say, and those without a Salesforce "
            "account get one.",
            outcome.members,
        )
    else:
        text = ngettext(
            "%(count)s contact in %(list)s will be synced again: its mapped values are "
            "compared and written where the sync rules say; if no Salesforce lead or contact "
            "has its email, the creation setting decides.",
            "%(count)s contacts in %(list)s will be synced again: their mapped values are "
            "compared and written where the sync rules say; for those whose email no "
            "Salesforce lead or contact has, the creation setting decides.",
            outcome.members,
        )
    cost = ngettext(
        "This costs up to %(calls)s Salesforce calls, over %(cycles)s sync cycle.",
        "This costs up to %(calls)s Salesforce calls, over %(cycles)s sync cycles.",
        outcome.cycles,
    )
    parts = [text % values, cost % values]
    if inclusion_list and outcome.object_name == "companies":
        parts.append(_("Companies outside the inclusion list are skipped."))
    elif inclusion_list:
        parts.append(_("Contacts outside the inclusion list are skipped."))
    return " ".join(parts)


def list_resync_answer(integration, outcome: ListResync) -> str:
    """What *Resync a list* says of its job: waiting for a worker, how many it has queued so
    far, that its worker stopped, that all are queued; or why it queued nothing, or stopped."""
    name = _list_name(outcome)
    job = outcome.job
    if not outcome.ok:
        refused = _list_resync_refused(outcome, name)
        if job is not None and job.status == ListResyncJob.Status.FAILED and outcome.queued:
            kept = ngettext(
                "The %(count)s record queued before it stopped still syncs.",
                "The %(count)s records queued before it stopped still sync.",
                outcome.queued,
            ) % {"count": thousands(outcome.queued)}
            return f"{refused} {kept}"
        return refused
    values = {"count": thousands(outcome.queued), "total": thousands(outcome.members), "list": name}
    if job is not None and job_stalled(job):
        return (
            _(
                "The worker reading %(list)s stopped answering after queueing %(count)s of "
                "%(total)s. Resume to go on after them."
            )
            % values
        )
    if job is not None and job.status == ListResyncJob.Status.QUEUED:
        return _("Waiting for a worker to read the members of %(list)s…") % values
    if job is not None and job.status == ListResyncJob.Status.RUNNING:
        return (
            ngettext(
                "Reading %(list)s: queued %(count)s of %(total)s company so far…",
                "Reading %(list)s: queued %(count)s of %(total)s companies so far…",
                outcome.members,
            )
            if outcome.object_name == "companies"
            else ngettext(
                "Reading %(list)s: queued %(count)s of %(total)s contact so far…",
                "Reading %(list)s: queued %(count)s of %(total)s contacts so far…",
                outcome.members,
            )
        ) % values
    queued = (
        ngettext(
            "Queued %(count)s company from %(list)s; it syncs over the next cycles.",
            "Queued %(count)s companies from %(list)s; they sync over the next cycles.",
            outcome.queued,
        )
        if outcome.object_name == "companies"
        else ngettext(
            "Queued %(count)s contact from %(list)s; it syncs over the next cycles.",
            "Queued %(count)s contacts from %(list)s; they sync over the next cycles.",
            outcome.queued,
        )
    ) % values
    waits = waits_message(integration, outcome.waits, outcome.object_name)
    return f"{queued} {waits}" if waits else queued


def _list_resync_refused(outcome: ListResync, name: str) -> str:
    """Why a list resync queued nothing, or stopped."""
    if shared := _refused_either(outcome):
        return shared
    if outcome.refused == LIST_NOT_FOUND:
        return _("HubSpot has no list %(id)s.") % {"id": outcome.list_id}
    if outcome.refused == LIST_OTHER_OBJECT:
        if outcome.object_name == "companies":
            return _("HubSpot list %(list)s isn't a list of companies.") % {"list": name}
        return _("HubSpot list %(list)s isn't a contact list.") % {"list": name}
    if outcome.refused == LIST_EMPTY:
        return _("%(list)s has no members: there is nothing to resync.") % {"list": name}
    if outcome.refused == LIST_TOO_LARGE:
        return _(
            "%(list)s has %(count)s members, and a list resync takes at most %(max)s at once "
            "(as HubSpot's own bulk resync). Split it into smaller lists in HubSpot and resync "
            "each."
        ) % {
            "list": name,
            "count": thousands(outcome.members),
            "max": thousands(LIST_RESYNC_MAX),
        }
    if outcome.refused == LIST_RESYNC_RUNNING:
        return _(
            "%(list)s is already being resynced (%(count)s of %(total)s queued so far): wait "
            "for it to finish before resyncing it again."
        ) % {
            "list": name,
            "count": thousands(outcome.queued),
            "total": thousands(outcome.members),
        }
    if outcome.refused == LIST_RESYNC_DISCONNECTED:
        return _(
            "The integration was disconnected, so the resync of %(list)s stopped. Once "
            "connected again, resync the list to go on."
        ) % {"list": name}
    if outcome.refused == LIST_RESYNC_BROKE:
        return _("The list resync stopped on an unexpected error: %(error)s") % {
            "error": outcome.error
        }
    raise ValueError(f"unknown refusal {outcome.refused!r}")


def list_resync_percent(job: ListResyncJob) -> int:
    """How far the card's bar is: members queued of HubSpot's count."""
    if job.status == ListResyncJob.Status.SUCCEEDED:
        return 100
    return min(100, job.queued * 100 // job.members) if job.members else 0


def inclusion_list_chosen(integration, object_name: str) -> bool:
    """Whether the pair's records outside its own inclusion list are skipped (1 query)."""
    settings = object_settings_get(integration=integration, object_name=object_name)
    return bool(getattr(settings, "inclusion_list_id", None))
