"""Translations of the engine's words: error types, sync rules, categories, stored messages.

The engine (``sync_engine``) speaks English only; the dashboard shows these strings through
this module so they can be translated. ``tests/integration_admin/test_i18n.py`` checks that every
engine string has its entry here, in the same English words.
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from sync_engine import imports as engine_imports
from sync_engine import services as engine_services
from sync_engine.budget import ALLOCATION_USED, HUBSPOT_DAILY_LIMIT, ORG_LIMIT
from sync_engine.error_types import ERROR_TYPES
from sync_engine.imports import CAMPAIGN_PREFIX, STANDARD_TARGETS
from sync_engine.models import ImportJob, Integration, System
from sync_engine.selectors import custom_objects_list
from sync_engine.services import DISCONNECTED_BY_ADMIN
from sync_engine.sync import changes, cycle
from sync_engine.sync import companies as company_sync
from sync_engine.sync.context import MAPPINGS_MISMATCHED
from sync_engine.sync.rules import SyncRule

from .status import ObjectNames
from .templatetags.humanize_numbers import thousands

RULE_LABELS: dict[str, Promise] = {
    SyncRule.PREFER_SALESFORCE_UNLESS_BLANK: _("Prefer Salesforce unless blank"),
    SyncRule.ALWAYS_USE_SALESFORCE: _("Always use Salesforce"),
    SyncRule.TWO_WAY: _("Two-way"),
    SyncRule.DONT_SYNC: _("Don't sync"),
}


def offered_rules(hubspot_property: str, salesforce_field: str, schema=None) -> list[str]:
    """The sync rules a mapping of this pair may have, in the editor's order: what both the
    table rows and the add form offer (spec §6.3, §8.2, §11). ``schema``: the pair's
    ``SchemaOptions``, which say which fields and properties take no writes."""
    from sync_engine.services import mapping_rules

    allowed = mapping_rules(
        hubspot_property,
        salesforce_read_only=schema is not None and salesforce_field in schema.read_only_fields,
        hubspot_read_only=schema is not None and hubspot_property in schema.read_only_properties,
    )
    return [str(value) for value in RULE_LABELS if value in allowed]


CATEGORY_LABELS: dict[str, Promise] = {
    "API limit": _("API limit"),
    "Associations": _("Associations"),
    "Duplicates": _("Duplicates"),
    "Mapping": _("Mapping"),
    "Other": _("Other"),
    "Owner": _("Owner"),
    "Permissions": _("Permissions"),
    "Picklists": _("Picklists"),
    "Property values": _("Property values"),
    "Salesforce custom code": _("Salesforce custom code"),
}


@dataclass(frozen=True)
class ErrorText:
    title: Promise
    explanation: Promise
    fix: Promise


ERROR_TEXT: dict[str, ErrorText] = {
    "association_limit": ErrorText(
        _("Association limit reached"),
        _("The record is associated with more records than HubSpot allows for one record."),
        _("Remove some associations, or move them to another Salesforce record, then resync."),
    ),
    "waiting_for_account": ErrorText(
        _("Waiting for account to sync"),
        _(
            "The record points at a company or account that hasn't synced to the other system "
            "yet: a Salesforce account without a HubSpot company, or a HubSpot company without a "
            "Salesforce account."
        ),
        _(
            "For a Salesforce account: turn on company sync or import Salesforce accounts. "
            "For a HubSpot company: sync it under “Sync a company” on the Companies tab, or it "
            "syncs once it meets the account creation rules. The record follows by itself once "
            "its account or company has synced."
        ),
    ),
    "waiting_for_contact": ErrorText(
        _("Waiting for contact to sync"),
        _("The record belongs to a contact or lead that hasn't synced to the other system yet."),
        _(
            "Check why the contact doesn't sync (contact sync settings, inclusion list, email); "
            "the record follows by itself once its contact has synced."
        ),
    ),
    "waiting_for_opportunity": ErrorText(
        _("Waiting for opportunity to sync"),
        _(
            "The record is associated with an opportunity or deal that hasn't synced to the other"
            " system yet: a Salesforce opportunity without a HubSpot deal, or a HubSpot deal "
            "without a Salesforce opportunity."
        ),
        _(
            "Check why the opportunity or deal doesn't sync (deal sync settings, the deal's "
            "pipeline); the record is associated by itself once it has synced."
        ),
    ),
    "waiting_for_case": ErrorText(
        _("Waiting for case to sync"),
        _(
            "The record is associated with a case or ticket that hasn't synced to the other "
            "system yet: a Salesforce case without a HubSpot ticket, or a HubSpot ticket without "
            "a Salesforce case."
        ),
        _(
            "Check why the case doesn't sync (ticket sync settings); the record is associated by "
            "itself once it has synced. Tickets made in HubSpot never create cases: associate the"
            " record with a ticket that came from Salesforce, or remove the association."
        ),
    ),
    "salesforce_custom_code": ErrorText(
        _("Blocked by Salesforce custom code or a validation rule"),
        _("An Apex trigger, flow, process or validation rule in Salesforce rejected the write."),
        _(
            "Ask a Salesforce admin to adjust the rule or automation (for example exempt the "
            "integration user), or fix the value it complains about, then resync."
        ),
    ),
    "email_in_use": ErrorText(
        _("Email already in use"),
        _(
            "Another HubSpot contact already has this email address, and HubSpot allows one "
            "contact per email."
        ),
        _("Remove the email from the other HubSpot contact, or merge the two, then resync."),
    ),
    "duplicate_created": ErrorText(
        _("Duplicate created by the sync"),
        _(
            "The integration created this Salesforce record for a HubSpot contact before "
            "another Salesforce record with the same email was visible (it was being saved at "
            "the same time). The HubSpot contact now syncs with that other record, and this "
            "one with nothing."
        ),
        _(
            "Merge this record into the one the error names in Salesforce (for a lead and a "
            "contact: convert the lead into the contact), or delete it. The error ends by "
            "itself once the record is gone or syncs again."
        ),
    ),
    "salesforce_duplicate_rule": ErrorText(
        _("Salesforce duplicate rule"),
        _("A Salesforce duplicate or matching rule blocked the create or update."),
        _(
            "Review the duplicate and matching rules in Salesforce Setup, or merge the "
            "duplicate records in Salesforce, then resync."
        ),
    ),
    "field_permission": ErrorText(
        _("Field permission"),
        _("The Salesforce integration user can't read or edit a mapped field."),
        _(
            "Give the integration user read and edit access to the field (field-level "
            "security), or set the mapping to 'Always use Salesforce'."
        ),
    ),
    "insufficient_access": ErrorText(
        _("Insufficient access or missing Salesforce record"),
        _(
            "The integration user can't edit this record, or a lookup or owner value points "
            "at a record that doesn't exist or isn't visible."
        ),
        _("Check the record's sharing and the lookup or owner value, then resync."),
    ),
    "object_permission": ErrorText(
        _("Object permission"),
        _(
            "The Salesforce integration user's profile and permission sets don't let it read, "
            "create or edit this kind of object (the error names it). Without Read the object "
            "can't sync at all: its sync stops, the other objects' go on. Without Create or "
            "Edit the records shown can't be written to Salesforce."
        ),
        _(
            "In Salesforce Setup, give the integration user Read, Create and Edit on the object "
            "(and Modify All, which HubSpot's own integration asks for) in its profile or a "
            "permission set assigned to it. The sync checks again every 20 minutes and carries "
            "on by itself once it has access; Resync checks at once."
        ),
    ),
    "picklist": ErrorText(
        _("Picklist value not allowed"),
        _(
            "The value isn't one of the allowed values of a restricted picklist (this "
            "includes State/Country picklists)."
        ),
        _(
            "Add the value to the Salesforce picklist, or align the HubSpot property's "
            "options (for states and countries, see the state and country matching setting; a "
            "deal's currency is added to HubSpot's account currencies, or activated in "
            "Salesforce)."
        ),
    ),
    "pipeline_limit": ErrorText(
        _("Pipeline limit reached"),
        _(
            "HubSpot refused to create the pipeline for the opportunity's record type or the "
            "case's process. The Sales Hub or Service Hub tier caps how many deal or ticket "
            "pipelines an account can have."
        ),
        _(
            "Delete a pipeline you don't use in HubSpot, or upgrade the tier (for cases, you "
            "can also choose an existing ticket pipeline on the Tickets tab). The integration "
            "tries again within the hour, and the records sync once the pipeline exists."
        ),
    ),
    "property_value": ErrorText(
        _("Invalid property value"),
        _(
            "A value doesn't fit its field: an invalid email, text too long, text in a number "
            "field, a required field left empty, or an amount in a currency Salesforce has no "
            "conversion rate for."
        ),
        _("Correct the value shown in the error on the record, then resync."),
    ),
    "missing_property": ErrorText(
        _("Mapped property or field missing"),
        _(
            "A mapped HubSpot property or Salesforce field no longer exists (it was deleted "
            "or renamed), so its value can't be written."
        ),
        _(
            "Restore the property or field, or change or remove the mapping on the object's "
            "tab (refresh its field list first), then resync."
        ),
    ),
    "campaigns_not_written": ErrorText(
        _("Salesforce campaigns not updated"),
        _("HubSpot refused the Salesforce campaigns property written to this contact."),
        _(
            "Fix what the raw message names in HubSpot, then resync; the campaigns are "
            "written again and the error ends once they are in HubSpot."
        ),
    ),
    "lifecycle_stage": ErrorText(
        _("Lifecycle stage not updated"),
        _(
            "HubSpot refused the lifecycle stage that the record's Salesforce opportunities "
            "move it to (automatic lifecycle stage transitions)."
        ),
        _(
            "Fix what the raw message names in HubSpot (for example a lifecycle stage option "
            "that was removed). The stage is written again on every sync, and the error ends "
            "once it is in HubSpot."
        ),
    ),
    "owner": ErrorText(
        _("Owner can't be matched"),
        _("The HubSpot owner doesn't match an active Salesforce user on both name and email."),
        _("Make the owner's name and email identical in both systems, or pick another owner."),
    ),
    "api_limit": ErrorText(
        _("API call limit reached"),
        _("The integration used its Salesforce API allocation, or the org hit its daily limit."),
        _(
            "Wait for the 24-hour window to free up, or raise 'Allocated to HubSpot' on the "
            "Sync health tab."
        ),
    ),
    "converted_lead": ErrorText(
        _("Converted lead"),
        _(
            "The Salesforce lead was converted to a contact, which can no longer be updated "
            "as a lead."
        ),
        _("Nothing to do when contact sync is on; the contact is followed from now on."),
    ),
    "merged_in_salesforce": ErrorText(
        _("Merged in Salesforce"),
        _(
            "The Salesforce record this HubSpot record synced with was merged into another "
            "one, which already syncs with another HubSpot record. This record was kept, so it "
            "syncs with nothing now, and no new Salesforce record is made for it."
        ),
        _(
            "Merge this HubSpot record into the one that syncs with the surviving Salesforce "
            "record (the error names it), or delete it; the error then ends by itself. To have "
            "this done for you, set what happens in HubSpot when a Salesforce record is deleted "
            "to delete the HubSpot record. Resync it only if it is a different person or "
            "company after all: it then syncs as a new record, and may create one in Salesforce."
        ),
    ),
    "authentication": ErrorText(
        _("Connection expired"),
        _("Salesforce or HubSpot rejected the integration's credentials."),
        _("Reconnect on the Connection tab."),
    ),
    "transient": ErrorText(
        _("Temporary error"),
        _("The remote system was briefly unavailable or busy."),
        _("Nothing to do: the record is retried automatically."),
    ),
    "other": ErrorText(
        _("Other error"),
        _("An error we don't recognise; the raw message has the details."),
        _("Read the raw message; resync once the cause is fixed. Report it if it persists."),
    ),
    # Codes with a card of their own rather than "Other error" or another system's advice.
    "value_in_use": ErrorText(
        _("Value already in use"),
        _(
            "Another record already holds this value in a field that requires unique values "
            "(a Salesforce unique or external ID field, or a HubSpot property with unique "
            "values), so Salesforce or HubSpot refused it."
        ),
        _(
            "Change the value on one of the two records, or merge them if they are the same "
            "(the raw message names the record that holds it), then resync."
        ),
    ),
    "record_locked": ErrorText(
        _("Record locked in Salesforce"),
        _(
            "The Salesforce record is locked, usually because it is in an approval process, "
            "and the integration user may not edit locked records."
        ),
        _(
            "Finish or recall the approval in Salesforce, or let the integration user edit "
            "locked records (Modify All on the object), then resync."
        ),
    ),
    "hubspot_scope": ErrorText(
        _("HubSpot scope missing"),
        _(
            "The HubSpot app the integration connects with hasn't been granted a scope this "
            "change needs (the raw message names it)."
        ),
        _(
            "Add the scope to the app in HubSpot (for a private app: its Scopes tab), "
            "reconnect on the Connection tab if HubSpot issued a new token, then resync."
        ),
    ),
    "inactive_owner": ErrorText(
        _("Owner is an inactive Salesforce user"),
        _(
            "The Salesforce user who would own the record is deactivated, and Salesforce "
            "only gives records to active users. The owner comes from the record, its "
            "HubSpot owner or a Salesforce assignment rule."
        ),
        _(
            "Reactivate the user in Salesforce, or give the record (or the assignment rule "
            "that picks the user) an active owner, then resync."
        ),
    ),
}


def rule_label(rule: str) -> str:
    return str(RULE_LABELS.get(rule, rule))


def error_text(error_type: str) -> ErrorText:
    """The translated title, explanation and fix of an error type (unknown types read as
    "other", like the engine files them)."""
    if error_type in ERROR_TEXT:
        return ERROR_TEXT[error_type]
    kind = ERROR_TYPES.get(error_type)
    if kind is None:
        return ERROR_TEXT["other"]
    return ErrorText(kind.title, kind.explanation, kind.fix)  # type: ignore[arg-type]


def category_label(category: str) -> str:
    return str(CATEGORY_LABELS.get(category, category))


# --- sync runs ------------------------------------------------------------------------------
RUN_STATUS_LABELS: dict[str, Promise] = {
    "running": _("Running"),
    "succeeded": _("Succeeded"),
    # A cycle that finished but failed records: not a plain success (``run_outcome``).
    "succeeded_with_errors": _("Succeeded with errors"),
    "paused": _("Paused (API allocation)"),
    "failed": _("Failed"),
}
# The run history's status filter: any run that failed records, then each status as its badge
# says it.
RUN_FILTER_LABELS: dict[str, Promise] = {
    "errors": _("With errors"),
    **RUN_STATUS_LABELS,
}


def run_outcome(status: str, error_count: int, counts: dict | None) -> str:
    """A run's status as its badge tells it: "succeeded_with_errors" for a succeeded run that
    failed records (its ``error_count``, or the engine's ``counts["failed"]``)."""
    if status != "succeeded":
        return status
    failed = (counts or {}).get("failed") or 0
    try:
        failed = int(failed)
    except (TypeError, ValueError):
        failed = 0
    return "succeeded_with_errors" if (error_count or 0) > 0 or failed > 0 else status


# Why an ended error ended, as a record's Sync history says it (``SyncError.ended_because``;
# blank: its record synced).
ENDED_BECAUSE_LABELS: dict[str, Promise] = {
    "": _("Cleared: the record synced"),
    "not_syncing": _("Ended: the record no longer syncs (its rules leave it alone)"),
    "deleted": _("Ended: the record was deleted"),
    "gone_from_hubspot": _("Ended: merged or deleted in HubSpot"),
    "resynced": _("Ended: an admin resynced it"),
    "merged_in_salesforce": _("Ended: its Salesforce record was merged away"),
    "partner_not_syncing": _("Ended: what it waited for no longer syncs"),
    "converted": _("Ended: its Salesforce lead was converted"),
}


# Why a record no longer syncs, as its page's Status says it, by the reason its latest error
# ended (``selectors.STOPPED_SYNCING``).
STOPPED_SYNCING_LABELS: dict[str, Promise] = {
    "not_syncing": _(
        "Its last error ended because the sync's rules now leave this record alone (for "
        "example, it left the inclusion list, or creating such records is turned off). It "
        "syncs again as soon as they include it."
    ),
    "deleted": _("The record was deleted, so nothing is left to sync."),
    "gone_from_hubspot": _("It was merged or deleted in HubSpot, so nothing is left to sync."),
    "merged_in_salesforce": _(
        "It was merged into another record in Salesforce, which syncs in its place."
    ),
    "converted": _("The lead was converted in Salesforce: its contact syncs in its place."),
}


RUN_TRIGGER_LABELS: dict[str, Promise] = {
    "schedule": _("Schedule"),
    "manual": _("Sync now"),
    "resync": _("Resync"),
}
# What a run's counts mean (``SyncRun.counts``; the engine's own names).
RUN_COUNT_LABELS: dict[str, Promise] = {
    "read_salesforce": _("Read from Salesforce"),
    "read_hubspot": _("Read from HubSpot"),
    "created_in_hubspot": _("Created in HubSpot"),
    "created_in_salesforce": _("Created in Salesforce"),
    "updated_in_hubspot": _("Updated in HubSpot"),
    "updated_in_salesforce": _("Updated in Salesforce"),
    "deleted_in_hubspot": _("Deleted in HubSpot"),
    "deleted_in_salesforce": _("Deleted in Salesforce"),
    "matched": _("Matched"),
    "linked": _("Linked"),
    "unchanged": _("Unchanged"),
    "own_writes_read_back": _("Our own writes, read back"),
    "failed": _("Failed"),
    "retried": _("Retried"),
    "conflicts": _("Conflicts"),
    "owner_resets": _("Owners reset"),
    "associations_to_hubspot": _("Associations set in HubSpot"),
    "associations_to_salesforce": _("Associations set in Salesforce"),
    "accounts_set_on_contacts": _("Accounts given to contacts"),
    "waiting_for_account": _("Waiting for account"),
    "waiting_for_contact": _("Waiting for contact"),
    "waits_resolved": _("Waits ended"),
    "lifecycle_updates": _("Lifecycle stages moved"),
    "campaigns_updated": _("Salesforce campaigns updated"),
    "leads_converted": _("Leads converted"),
    "roles_created": _("Contact roles created"),
    "roles_deleted": _("Contact roles deleted"),
    "pipelines_created": _("Pipelines created"),
    "skipped_no_email": _("Skipped: no email"),
    "skipped_outside_list": _("Skipped: outside the inclusion list"),
    "skipped_create_disabled": _("Skipped: creation off"),
    "skipped_no_contact": _("Skipped: no contact syncs"),
    "skipped_merged_in_salesforce": _("Skipped: merged in Salesforce"),
    "skipped_unsynced_pipeline": _("Skipped: pipeline not synced"),
    "skipped_salesforce_deleted": _("Skipped: deleted in Salesforce"),
    "skipped_type_off": _("Skipped: type not synced"),
    "skipped_before_turned_on": _("Skipped: from before it was turned on"),
    "skipped_own": _("Skipped: the integration's own copies"),
    "skipped_series": _("Skipped: a recurring series' pattern"),
    "skipped_invitee_copy": _("Skipped: an invitee's copy of a group event"),
    "kept_unsynced_pipeline": _("Kept: deal in a pipeline not synced"),
    "pipelines_refused": _("Pipelines HubSpot refused"),
    "associations_unlinked": _("Associations to records not synced"),
    "associations_skipped_company_sync_off": _("Associations skipped: company sync off"),
    "associations_skipped_contact_sync_off": _("Associations skipped: contact sync off"),
    "kept_account_company_deleted": _("Kept on their account: company deleted in HubSpot"),
    "links_removed": _("Links ended: a record was deleted"),
    "links_repointed": _("Links moved after a merge"),
    "tickets_rekeyed": _("Tickets moved to the case their case was merged into"),
    "matched_lost_create": _("Linked: records made by a create whose answer was lost"),
    "links_retired_other_side_deleted": _("Links ended: the other copy was deleted"),
    "list_entrants": _("Read: new members of the inclusion list"),
    "moved_in_hubspot": _("Activities moved to another record in HubSpot"),
    "pipeline_stages_created": _("Pipeline stages created"),
    "stages_created": _("Pipeline stages created"),
    "stages_updated": _("Pipeline stages set open or closed"),
    "pipeline_stages_updated": _("Pipeline stages updated"),
    "not_configured": _("Not set up: its objects or fields are missing"),
    "mappings_mismatched": _("Mappings left out, types mismatched"),
}


# Counts the engine keeps for itself, never shown: every other count has a label above.
RUN_COUNTS_BOOKKEEPING = frozenset(
    {"streams_unchanged", "paused_rechecked", "waiting_rechecked", "pipelines_adopted"}
)


def run_details(counts: dict) -> str:
    """A run's counts in people's words, the ones that happened ("Read from Salesforce: 12 ·
    Created in HubSpot: 3"); the engine's bookkeeping (cursor and stream counters) left out."""
    parts = [
        f"{RUN_COUNT_LABELS[key]}: {thousands(value)}"
        for key, value in (counts or {}).items()
        if key in RUN_COUNT_LABELS and value
    ]
    return " · ".join(parts)


# Why the integration paused (``sync_engine.budget``): its state's reason, and the message of
# each run that paused.
PAUSE_REASON_LABELS: dict[str, Promise] = {
    ALLOCATION_USED: _("The Salesforce API allocation is used up."),
    ORG_LIMIT: _("The Salesforce org reached its daily API limit, which stops every integration."),
    HUBSPOT_DAILY_LIMIT: _("The HubSpot account reached its daily API limit."),
}
# What older versions stored in a paused run: "salesforce API allocation used up: 110 of 110
# calls in the last 24 hours", or "The Salesforce API allocation is used up; waiting for …".
_ALLOCATION_USED_BEFORE = re.compile(
    r"\w+ API allocation used up: \d+ of \d+ calls|The Salesforce API allocation is used up;"
)


def pause_reason_text(reason: str) -> str | None:
    """A pause's reason in the reader's language, or None when it isn't one of the engine's."""
    if _ALLOCATION_USED_BEFORE.match(reason or ""):
        reason = ALLOCATION_USED
    for known, label in PAUSE_REASON_LABELS.items():
        if (reason or "").startswith(known):
            return str(label)
    return None


# The engine's other messages (a run's, an import's, why an import can't start or resume, why
# a cycle suspended the integration), keyed by the English template the engine stores them
# with. The stored text stays English (logs, the REST API, rows of older versions read the
# same); the dashboard recognises the template and fills its parts into the translation.
# Tried in this order, the first that matches the whole text wins: a message that wraps
# another (in its ``{error}`` or ``{reason}``) comes before the ones it may wrap.
_NOT_SYNCING = {
    state: cycle.NOT_SYNCING.format(state=state, reason="{reason}")
    for state in (Integration.State.SUSPENDED, Integration.State.DISCONNECTED)
}
_BULK_JOB_ENDED = {
    state: engine_imports.BULK_JOB_ENDED.format(job="{job}", state=state, reason="{reason}")
    for state in ("failed", "aborted")
}
ENGINE_MESSAGE_LABELS: dict[str, Promise] = {
    # a sync run's message
    _NOT_SYNCING[Integration.State.SUSPENDED]: _("Integration suspended: %(reason)s"),
    _NOT_SYNCING[Integration.State.DISCONNECTED]: _("Integration disconnected: %(reason)s"),
    cycle.STOPPED_BY: _("The cycle stopped unexpectedly: %(error)s"),
    cycle.TEMPORARY_FAILURE: _("Temporary failure, retried on the next cycle: %(error)s"),
    cycle.STOPPED_UNEXPECTEDLY: _("The cycle stopped unexpectedly."),
    cycle.INTERRUPTED: _(
        "Interrupted: the worker stopped before the cycle finished; this cycle picked up where "
        "it left off."
    ),
    cycle.TAKEN_OVER: _(
        "Stopped: another worker took over after this cycle stalled for longer than its "
        "lease; that worker's cycle goes on from where this one stopped."
    ),
    cycle.OBJECT_SYNC_OFF: _("Sync is off for this object."),
    cycle.FIELDS_GONE: _(
        "Salesforce no longer shows %(fields)s to the integration user (deleted, or hidden by "
        "field-level security): its fields were read again and the mappings of missing fields "
        "are left out. Restore the field or the user's access to it, then Refresh properties "
        "and fields on the object's tab; or remove the mapping."
    ),
    changes.LIST_MISSING: _(
        "The inclusion list chosen on the Contacts tab (HubSpot list %(list_id)s) no longer "
        "exists in HubSpot. Contacts are held as if outside the list until another list, or "
        "none, is chosen there."
    ),
    company_sync.LIST_MISSING: _(
        "The inclusion list chosen on the Companies tab (HubSpot list %(list_id)s) no longer "
        "exists in HubSpot. Companies are held as if outside the list until another list, or "
        "none, is chosen there."
    ),
    MAPPINGS_MISMATCHED: _(
        "Not synced: %(mappings)s. A type changed since the mapping was made, to types that "
        "can't map (Mismatched types on the object's tab). Change the type back, then Refresh "
        "properties and fields; or map other fields."
    ),
    cycle.OBJECT_NOT_ACCESSIBLE: _(
        "Not syncing: the Salesforce integration user has no access to %(objects)s (see Object "
        "permission on Sync health). Checked again every 20 minutes, or at once on Resync."
    ),
    cycle.PART_NOT_ACCESSIBLE: _(
        "Synced, but not what needs %(objects)s: the Salesforce integration user has no access "
        "to it (see Object permission on Sync health). Checked again every 20 minutes, or at "
        "once on Resync."
    ),
    cycle.SYNC_OFF: _(
        "Sync is off for the whole integration: turn it back on on the Connection page."
    ),
    # why the integration is suspended or disconnected
    cycle.CREDENTIALS_REJECTED: _(
        "%(system)s: the credentials were rejected. Reconnect on the Connection tab."
    ),
    cycle.ACCESS_DENIED: _(
        "%(system)s: access denied (%(code)s). Give the integration user API access and the "
        "object permissions, then reconnect."
    ),
    cycle.HUBSPOT_ACCESS_DENIED: _(
        "HubSpot: access denied (%(code)s). The HubSpot app the integration connects with "
        "lacks a scope it needs: add the scope to the app in HubSpot (for a private app: its "
        "Scopes tab), then reconnect on the Connection tab with the new token, or clear the "
        "suspension if the token didn't change."
    ),
    # why an import stopped when another worker took its pair over (see above for cycles)
    engine_imports.PAIR_TAKEN_OVER: _(
        "Stopped: this import stalled for longer than its lease and another worker took over "
        "the %(pair)s sync; resume the import to continue where it stopped."
    ),
    DISCONNECTED_BY_ADMIN: _(
        "Disconnected on the Connection page; the stored tokens were deleted."
    ),
    # why an import stopped, around the error that stopped it
    engine_imports.STOPPED_BY_BUDGET: _(
        "%(error)s The import stopped after %(records)s records; resume it once the 24-hour "
        "window frees calls (or raise 'Allocated to HubSpot')."
    ),
    engine_imports.STOPPED_BY_ORG_LIMIT: _(
        "Salesforce's org-wide API limit is reached (%(error)s); resume it later."
    ),
    engine_imports.STOPPED_BY_HUBSPOT_LIMIT: _(
        "HubSpot's daily API limit is reached (%(error)s); resume the import once it resets, "
        "at midnight in the HubSpot account's time zone."
    ),
    engine_imports.STOPPED_BY_CREDENTIALS: _(
        "%(system)s: %(error)s Reconnect, then resume the import."
    ),
    engine_imports.STOPPED_BY_HUBSPOT_SCOPES: _(
        "HubSpot: %(error)s The HubSpot app the integration connects with lacks a scope it "
        "needs: add the scope to the app in HubSpot (for a private app: its Scopes tab), "
        "reconnect on the Connection tab if its token changed, then resume the import."
    ),
    engine_imports.STOPPED_BY_ERROR: _("%(error)s Resume the import to continue where it stopped."),
    engine_imports.STOPPED_BY_DEFECT: _("Unexpected error: %(kind)s: %(error)s"),
    # errors of ours an import stops on
    engine_imports.CYCLE_TOO_LONG: _(
        "The %(pair)s sync has been running for over ten minutes; resume the import when it "
        "finishes."
    ),
    engine_imports.NOTHING_TO_IMPORT: _("Nothing to import for %(object)s."),
    _BULK_JOB_ENDED["failed"]: _("Salesforce's Bulk query job %(job)s failed: %(reason)s"),
    _BULK_JOB_ENDED["aborted"]: _("Salesforce's Bulk query job %(job)s aborted: %(reason)s"),
    engine_imports.NO_REASON_GIVEN: _("no reason given"),
    # ``sync_engine.errors.NotConnected``'s words
    "Not connected to {system}: connect it again on the Connection tab.": _(
        "Not connected to %(system)s: connect it again on the Connection tab."
    ),
    # what a running or finished import says
    engine_imports.PREPARING: _(
        "Salesforce is preparing the Bulk query; the records follow when it's ready."
    ),
    engine_imports.WAITING_FOR_CYCLE: _("Waiting for the running %(pair)s sync cycle to finish…"),
    engine_imports.WAITING_FOR_IMPORT: _("Waiting for the running import of %(target)s to finish…"),
    engine_imports.PAIR_UNSUPPORTED: _(
        "Importing %(label)s needs the %(pair)s sync, which isn't available in this version yet."
    ),
    engine_imports.PAIR_SWITCHED_OFF: _(
        "The %(pair)s sync is switched off, so no record was imported. Turn it on on its tab, "
        "then import %(label)s again."
    ),
    engine_imports.DEALS_WITHOUT_COMPANIES: _(
        "Company sync is off, so the imported deals have no company association: turn "
        "company sync on and import accounts first."
    ),
    engine_imports.CAMPAIGN_MEMBERS: _("Campaign members: %(campaign)s"),
    # why an import can't start or resume
    engine_imports.CAMPAIGN_UNREADABLE: _(
        "Salesforce campaign %(campaign)s couldn't be read: %(error)s"
    ),
    engine_imports.NOT_CONNECTED: _("The integration isn't connected."),
    engine_imports.SUSPENDED: _(
        "Syncing is suspended (see the status bar), so nothing can sync: mend its "
        "cause, then clear the suspension."
    ),
    engine_imports.UNKNOWN_OBJECT: _("Unknown object to import: %(object)s"),
    engine_imports.ALREADY_RUNNING: _("An import of %(label)s is already running."),
    engine_imports.ANOTHER_RUNNING: _("Another import of this object is running."),
    engine_imports.ONLY_STOPPED_RESUME: _(
        "Only a failed, cancelled or stalled import can be resumed."
    ),
    engine_imports.NO_SUCH_CAMPAIGN: _("Salesforce has no campaign %(campaign)s."),
    engine_imports.CAMPAIGN_INACTIVE: _(
        "The campaign %(campaign)s isn't active: only active campaigns can be imported."
    ),
    # the mapping editor's refusals (a field type said as HubSpot's and Salesforce's own
    # screens say it, ``_message_part``); "Lead or Contact" before "Lead", which it contains
    engine_services.MAPPING_RULE_UNKNOWN: _("unknown sync rule"),
    engine_services.MAPPING_NO_PROPERTY: _("HubSpot has no %(pair)s property '%(property)s'"),
    engine_services.MAPPING_HUBSPOT_USER: _("HubSpot user properties can't be mapped"),
    engine_services.MAPPING_HUBSPOT_BOOKKEEPING: _(
        "%(property)s is HubSpot's own bookkeeping: it can't be mapped"
    ),
    engine_services.MAPPING_ENGINE_KEY: _(
        "%(property)s is the integration's own key: it links the records, so it can't be mapped"
    ),
    engine_services.MAPPING_ENGINE_MANAGED: _(
        "%(property)s is set by the integration itself from %(field)s: it can't be mapped"
    ),
    engine_services.MAPPING_SYSTEM_FIELD: _(
        "%(field)s is a Salesforce system field: it can't be mapped"
    ),
    engine_services.MAPPING_NO_FIELD_EITHER: _("%(sobject)s or %(other)s has no field '%(field)s'"),
    engine_services.MAPPING_NO_FIELD: _("%(sobject)s has no field '%(field)s'"),
    engine_services.MAPPING_INCOMPATIBLE_ON: _(
        "A HubSpot %(hubspot_type)s property can't map to a Salesforce %(salesforce_type)s "
        "field: %(sobject)s's %(field)s is one"
    ),
    engine_services.MAPPING_INCOMPATIBLE: _(
        "A HubSpot %(hubspot_type)s property can't map to a Salesforce %(salesforce_type)s field"
    ),
    engine_services.MAPPING_TAKEN: _("'%(name)s' is already mapped"),
    engine_services.MAPPINGS_LOCKED: _("Turn %(pair)s sync on before changing its mappings"),
    engine_services.MAPPING_DEFAULT_KEPT: _("Default mappings can't be deleted"),
    engine_services.TICKET_PROPERTY_NEEDED: _(
        "HubSpot needs %(property)s on every ticket: it always syncs"
    ),
    engine_services.EMAIL_RULES_REFUSED: _(
        "Email syncs only with 'Prefer Salesforce unless blank' or 'Two-way', so an invalid "
        "address can't get stuck"
    ),
    engine_services.OWNER_RULES_REFUSED: _("The owner always syncs both ways"),
    # the custom object wizard's Finish, when another admin paired the object meanwhile
    engine_services.CUSTOM_OBJECT_SALESFORCE_SYNCED: _(
        "Salesforce's %(object)s already syncs with HubSpot's %(pair)s: leave without saving, "
        "and change that sync with its “Edit sync” on the Custom objects tab"
    ),
    engine_services.CUSTOM_OBJECT_HUBSPOT_SYNCED: _(
        "HubSpot's %(pair)s already syncs with Salesforce's %(object)s: leave without saving, "
        "and change that sync with its “Edit sync” on the Custom objects tab"
    ),
    # the custom object wizard's other refusals at Finish; ``pair``: the HubSpot object an
    # association is with, by its tab's name
    engine_services.CUSTOM_OBJECT_UNPICKED: _(
        "Pick a Salesforce object and a HubSpot custom object"
    ),
    engine_services.CUSTOM_OBJECT_OWN_TAB: _("This object syncs through its own tab"),
    engine_services.CUSTOM_OBJECT_NOT_A_LOOKUP: _("'%(field)s' can't stand for %(pair)s"),
    # its refusals of the mappings at Finish (the fields changed since step 3), and the warning
    # stored with a read-only field's mapping
    engine_services.CUSTOM_OBJECT_NOT_MAPPABLE: _(
        "'%(field)s' can't be mapped (lookups sync as associations)"
    ),
    engine_services.CUSTOM_OBJECT_NO_PROPERTY: _(
        "HubSpot has no property '%(property)s' that can be mapped"
    ),
    engine_services.CUSTOM_OBJECT_ALREADY_MAPPED: _(
        "'%(property)s' is already mapped to %(field)s"
    ),
    engine_services.CUSTOM_OBJECT_REQUIRED: _(
        "HubSpot requires %(names)s to create a record: map a Salesforce field to it, or set "
        "salesforce_to_hubspot to 'nothing' (Salesforce records then don't create HubSpot "
        "records)"
    ),
    engine_services.CUSTOM_OBJECT_READ_ONLY: _("Read-only in Salesforce: it syncs to HubSpot only"),
    engine_services.READ_ONLY_REFUSED: _(
        "Read-only in Salesforce: only 'Always use Salesforce' or 'Don't sync' can work, writes "
        "to it fail"
    ),
    engine_services.HUBSPOT_READ_ONLY_REFUSED: _(
        "Read-only in HubSpot: only 'Prefer Salesforce unless blank', 'Two-way' or 'Don't sync' "
        "can work, its value can only flow to Salesforce"
    ),
    engine_services.BOTH_READ_ONLY_REFUSED: _(
        "Read-only in both HubSpot and Salesforce: this pair can never sync"
    ),
}

# A HubSpot property's field type as HubSpot's property editor names it, by its API
# ``fieldType`` (a calculation's kinds all read "Calculation", but its score, "Score").
HUBSPOT_FIELD_TYPE_LABELS: dict[str, Promise] = {
    "text": _("Single-line text"),
    "textarea": _("Multi-line text"),
    "select": _("Dropdown select"),
    "radio": _("Radio select"),
    "checkbox": _("Multiple checkboxes"),
    "booleancheckbox": _("Single checkbox"),
    "number": _("Number"),
    "date": _("Date picker"),
    "phonenumber": _("Phone number"),
    "hubspot_user": _("HubSpot user"),
    "calculation_score": _("Score"),
    "calculation": _("Calculation"),
    "file": _("File"),
    "html": _("Rich text"),
}
# A Salesforce field's type as Setup's Fields & Relationships names it, by its describe
# ``type``.
SALESFORCE_TYPE_LABELS: dict[str, Promise] = {
    "string": _("Text"),
    "textarea": _("Text Area"),
    "double": _("Number"),
    "int": _("Number"),
    "long": _("Number"),
    "date": _("Date"),
    "datetime": _("Date/Time"),
    "time": _("Time"),
    "boolean": _("Checkbox"),
    "picklist": _("Picklist"),
    "multipicklist": _("Picklist (Multi-Select)"),
    "combobox": _("Picklist"),
    "email": _("Email"),
    "phone": _("Phone"),
    "url": _("URL"),
    "currency": _("Currency"),
    "percent": _("Percent"),
    "reference": _("Lookup"),
    "id": _("ID"),
    "address": _("Address"),
    "location": _("Geolocation"),
    "encryptedstring": _("Text (Encrypted)"),
}
_HUBSPOT_TYPE = re.compile(r"\w+ \((?P<field_type>\w+)\)")


def hubspot_type_label(hubspot_type: str) -> str:
    """A HubSpot property's "type (fieldType)" as HubSpot's property editor says it ("Dropdown
    select" for "enumeration (select)"); as given when its field type isn't one we know."""
    match = _HUBSPOT_TYPE.fullmatch(hubspot_type or "")
    field_type = match["field_type"] if match else ""
    if field_type.startswith("calculation_") and field_type not in HUBSPOT_FIELD_TYPE_LABELS:
        field_type = "calculation"
    label = HUBSPOT_FIELD_TYPE_LABELS.get(field_type)
    return str(label) if label else hubspot_type


# A mapping row's "Mismatched types" warning (spec §4 item 7), by the side whose type changed
# since the mapping was made (``sync_engine.selectors.TypeMismatch``).
TYPE_MISMATCH_TEXTS: dict[str, Promise] = {
    "salesforce": _(
        "The Salesforce field is now %(salesforce_type)s, and a HubSpot %(hubspot_type)s "
        "property can't map to it: this mapping doesn't sync until then. Change the field type "
        "back in Salesforce, then Refresh properties and fields; or map another field."
    ),
    "hubspot": _(
        "The HubSpot property is now %(hubspot_type)s, which can't map to a Salesforce "
        "%(salesforce_type)s field: this mapping doesn't sync until then. Change the property "
        "type back in HubSpot, then Refresh properties and fields; or map another property."
    ),
    "both": _(
        "The HubSpot property is now %(hubspot_type)s and the Salesforce field "
        "%(salesforce_type)s, types that can't map to each other: this mapping doesn't sync "
        "until then. Change a type back, then Refresh properties and fields; or map other "
        "fields."
    ),
}


def type_mismatch_text(mismatch) -> str:
    """A ``TypeMismatch`` for the mapping row, its types named as HubSpot's and Salesforce's
    own screens name them ("Single-line text", "Number"); "" for none."""
    if mismatch is None:
        return ""
    return str(TYPE_MISMATCH_TEXTS[mismatch.changed]) % {
        "hubspot_type": hubspot_type_label(mismatch.hubspot_type),
        "salesforce_type": SALESFORCE_TYPE_LABELS.get(
            mismatch.salesforce_type, mismatch.salesforce_type
        ),
    }


def _template_pattern(template: str) -> re.Pattern:
    """The texts ``template`` writes: its own words, any text for each part in braces."""
    pattern = ""
    for literal, field, _spec, _conversion in string.Formatter().parse(template):
        pattern += re.escape(literal)
        if field is not None:
            pattern += f"(?P<{field}>.*?)"
    return re.compile(pattern, re.S)


_ENGINE_MESSAGES = [
    (_template_pattern(template), label) for template, label in ENGINE_MESSAGE_LABELS.items()
]
# Parts that hold a message of their own: the engine's (translated in turn) or a remote
# system's (as it came).
_NESTED_PARTS = {"error", "reason"}
_TARGET_KEYS = {target.label: key for key, target in STANDARD_TARGETS.items()}


def engine_message(message: str, *, names: ObjectNames | None = None, label: str = "") -> str:
    """One of the engine's messages in the reader's language, as stored when it isn't one.

    Its parts are filled in for people: a pair by its tab's name (``names`` reads custom
    objects'), an import's object by ``label`` (the page's name for it), a system by its
    name, a count grouped their way, a nested message of ours translated in turn. The rest,
    a remote system's words and ids, stays as stored (the page escapes it like any text).
    """
    text = message or ""
    for pattern, translated in _ENGINE_MESSAGES:
        match = pattern.fullmatch(text)
        if match:
            parts = {
                name: _message_part(name, value, names, label)
                for name, value in match.groupdict().items()
            }
            return str(translated) % parts
    return pause_reason_text(text) or text


def _message_part(name: str, value: str, names: ObjectNames | None, label: str) -> str:
    if name in _NESTED_PARTS:
        return engine_message(value, names=names, label=label)
    if name == "pair":
        return (names or ObjectNames(None))(value)
    if name == "label":
        if label:
            return label
        if value in _TARGET_KEYS:
            return target_label(_TARGET_KEYS[value])
        return engine_message(value, names=names)  # a campaign's members
    if name == "target":  # another import's object, by its name on the Import page
        return target_label(_TARGET_KEYS[value]) if value in _TARGET_KEYS else value
    if name == "system":
        return str(dict(System.choices).get(value.lower(), value))
    if name == "hubspot_type":
        return hubspot_type_label(value)
    if name == "salesforce_type":
        return str(SALESFORCE_TYPE_LABELS.get(value, value))
    if name == "records" and value.replace(",", "").isdigit():
        return thousands(int(value.replace(",", "")))
    return value


# What an import brings over (the Import page, the audit log).
IMPORT_TARGET_LABELS: dict[str, Promise] = {
    "leads": _("Salesforce leads"),
    "contacts": _("Salesforce contacts"),
    "accounts": _("Salesforce accounts"),
    "opportunities": _("Salesforce opportunities"),
    "cases": _("Salesforce cases"),
    "tasks": _("Salesforce tasks"),
    "events": _("Salesforce events"),
}


def target_label(key: str, custom: dict[str, dict[str, str]] | None = None, name: str = "") -> str:
    """What the Import page (and the audit log) call an import's object: a custom object by
    its entry in ``custom``; ``name`` is a campaign's (``campaign:<Id>``)."""
    if key in IMPORT_TARGET_LABELS:
        return str(IMPORT_TARGET_LABELS[key])
    if key.startswith(CAMPAIGN_PREFIX):
        return _("Campaign members: %(campaign)s") % {
            "campaign": name or key.removeprefix(CAMPAIGN_PREFIX)
        }
    return (custom or {}).get(key, {}).get("label", key)


CUSTOM_HELP = _("Records become HubSpot %(object)s records, matched by their sync key.")


def custom_labels(integration: Integration) -> dict[str, dict[str, str]]:
    """``custom:<n>`` -> its ``label`` ("Salesforce Project (Project__c)") and ``help``, for
    :func:`target_label` (1 query)."""
    labels = {}
    for row in custom_objects_list(integration=integration):
        settings = row["settings"]
        name = f"{settings.salesforce_label or settings.salesforce_object}"
        labels[row["object"]] = {
            "label": _("Salesforce %(object)s")
            % {"object": f"{name} ({settings.salesforce_object})"},
            "help": CUSTOM_HELP % {"object": settings.hubspot_label or settings.hubspot_object},
        }
    return labels


def job_label(job: ImportJob, custom: dict[str, dict[str, str]] | None = None) -> str:
    """What an import is of, as the Import page (and the API) call it."""
    return target_label(job.object, custom, job.object_label)
