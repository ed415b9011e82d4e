"""Translations of the engine's words: error types, sync rules, categories.

The engine (``sync_engine``) speaks English only; the dashboard shows these strings through
this module so they can be translated. ``tests/integration_admin/test_i18n.py`` checks that every
engine string has its entry here, in the same English words.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from sync_engine.budget import ALLOCATION_USED, ORG_LIMIT
from sync_engine.error_types import ERROR_TYPES
from sync_engine.imports import CAMPAIGN_PREFIX
from sync_engine.sync.rules import SyncRule

from .templatetags.humanize_numbers import thousands

RULE_LABELS: dict[str, Promise] = {
    SyncRule.PREFER_SALESFORCE_UNLESS_BLANK: _("Prefer Salesforce unless blank"),
    SyncRule.ALWAYS_USE_SALESFORCE: _("Always use Salesforce"),
    SyncRule.TWO_WAY: _("Two-way"),
    SyncRule.DONT_SYNC: _("Don't sync"),
}


def offered_rules(hubspot_property: str, salesforce_field: str, read_only_fields) -> list[str]:
    """The sync rules a mapping of this pair may have, in the editor's order: what both the
    table rows and the add form offer (spec §6.3, §8.2, §11)."""
    from sync_engine.services import mapping_rules

    allowed = mapping_rules(
        hubspot_property, salesforce_read_only=salesforce_field in (read_only_fields or ())
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
        _("The record's lookup points at a Salesforce opportunity that has no HubSpot deal yet."),
        _(
            "Check why the opportunity doesn't sync (deal sync settings, its pipeline); the "
            "record is associated by itself once the opportunity has synced."
        ),
    ),
    "waiting_for_case": ErrorText(
        _("Waiting for case to sync"),
        _("The record's lookup points at a Salesforce case that has no HubSpot ticket yet."),
        _(
            "Check why the case doesn't sync (ticket sync settings); the record is associated "
            "by itself once the case has synced."
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
        _("The integration user lacks permission on this kind of Salesforce object."),
        _("Assign the integration permission set, or give the user Modify All on the object."),
    ),
    "picklist": ErrorText(
        _("Picklist value not allowed"),
        _(
            "The value isn't one of the allowed values of a restricted picklist (this "
            "includes State/Country picklists)."
        ),
        _(
            "Add the value to the Salesforce picklist, or align the HubSpot property's "
            "options (for states and countries, see the state and country matching setting)."
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
            "field, or a required field left empty."
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
    "leads_converted": _("Leads converted"),
    "roles_created": _("Contact roles created"),
    "roles_deleted": _("Contact roles deleted"),
    "pipelines_created": _("Pipelines created"),
    "skipped_no_email": _("Skipped: no email"),
    "skipped_outside_list": _("Skipped: outside the inclusion list"),
    "skipped_create_disabled": _("Skipped: creation off"),
    "skipped_no_contact": _("Skipped: no contact syncs"),
    "skipped_unsynced_pipeline": _("Skipped: pipeline not synced"),
    "skipped_salesforce_deleted": _("Skipped: deleted in Salesforce"),
    "skipped_type_off": _("Skipped: type not synced"),
    "skipped_before_turned_on": _("Skipped: from before it was turned on"),
    "skipped_own": _("Skipped: the integration's own copies"),
}


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


def run_message(message: str) -> str:
    """A run's message for people: why it paused in their language (one sentence, whichever
    way the cycle stopped); anything else (a remote system's words) as stored."""
    return pause_reason_text(message) or message


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
