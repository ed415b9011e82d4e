"""The sync-error taxonomy (spec §4): every remote failure lands in exactly one type.

Each type carries the plain explanation and the recommended fix the dashboard shows on its card.
``classify`` turns a raw failure (which system, HTTP status, error code, message) into a type.
Transient failures (locked rows, 5xx, rate limits) are retried quietly: recorded at once, but
shown on Sync health only once a retry fails too (``selectors.shown_errors``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class ErrorType:
    key: str
    category: str
    title: str
    explanation: str
    fix: str
    transient: bool = False


# The record key of an error that is a whole Salesforce object's, not one record's: the
# integration user can't use that object at all ("object:Opportunity"; see ``sync.cycle``).
OBJECT_KEY = "object:"

_TYPES = [
    ErrorType(
        "association_limit",
        "Associations",
        "Association limit reached",
        "The record is associated with more records than HubSpot allows for one record.",
        "Remove some associations, or move them to another Salesforce record, then resync.",
    ),
    ErrorType(
        "waiting_for_account",
        "Associations",
        "Waiting for account to sync",
        "The record points at a company or account that hasn't synced to the other system "
        "yet: a Salesforce account without a HubSpot company, or a HubSpot company without a "
        "Salesforce account.",
        "For a Salesforce account: turn on company sync or import Salesforce accounts. For a "
        "HubSpot company: sync it under “Sync a company” on the Companies tab, or it syncs once "
        "it meets the account creation rules. The record follows by itself once its account "
        "or company has synced.",
    ),
    ErrorType(
        "waiting_for_contact",
        "Associations",
        "Waiting for contact to sync",
        "The record belongs to a contact or lead that hasn't synced to the other system yet.",
        "Check why the contact doesn't sync (contact sync settings, inclusion list, email); "
        "the record follows by itself once its contact has synced.",
    ),
    ErrorType(
        "waiting_for_opportunity",
        "Associations",
        "Waiting for opportunity to sync",
        "The record is associated with an opportunity or deal that hasn't synced to the other"
        " system yet: a Salesforce opportunity without a HubSpot deal, or a HubSpot deal "
        "without a Salesforce opportunity.",
        "Check why the opportunity or deal doesn't sync (deal sync settings, the deal's "
        "pipeline); the record is associated by itself once it has synced.",
    ),
    ErrorType(
        "waiting_for_case",
        "Associations",
        "Waiting for case to sync",
        "The record is associated with a case or ticket that hasn't synced to the other "
        "system yet: a Salesforce case without a HubSpot ticket, or a HubSpot ticket without "
        "a Salesforce case.",
        "Check why the case doesn't sync (ticket sync settings); the record is associated by "
        "itself once it has synced. Tickets made in HubSpot never create cases: associate the"
        " record with a ticket that came from Salesforce, or remove the association.",
    ),
    ErrorType(
        "salesforce_custom_code",
        "Salesforce custom code",
        "Blocked by Salesforce custom code or a validation rule",
        "An Apex trigger, flow, process or validation rule in Salesforce rejected the write.",
        "Ask a Salesforce admin to adjust the rule or automation (for example exempt the "
        "integration user), or fix the value it complains about, then resync.",
    ),
    ErrorType(
        "email_in_use",
        "Duplicates",
        "Email already in use",
        "Another HubSpot contact already has this email address, and HubSpot allows one "
        "contact per email.",
        "Remove the email from the other HubSpot contact, or merge the two, then resync.",
    ),
    ErrorType(
        "duplicate_created",
        "Duplicates",
        "Duplicate created by the sync",
        "The integration created this Salesforce record for a HubSpot contact before another "
        "Salesforce record with the same email was visible (it was being saved at the same "
        "time). The HubSpot contact now syncs with that other record, and this one with "
        "nothing.",
        "Merge this record into the one the error names in Salesforce (for a lead and a "
        "contact: convert the lead into the contact), or delete it. The error ends by itself "
        "once the record is gone or syncs again.",
    ),
    ErrorType(
        "salesforce_duplicate_rule",
        "Duplicates",
        "Salesforce duplicate rule",
        "A Salesforce duplicate or matching rule blocked the create or update.",
        "Review the duplicate and matching rules in Salesforce Setup, or merge the "
        "duplicate records in Salesforce, then resync.",
    ),
    ErrorType(
        "value_in_use",
        "Duplicates",
        "Value already in use",
        "Another record already holds this value in a field that requires unique values (a "
        "Salesforce unique or external ID field, or a HubSpot property with unique values), "
        "so Salesforce or HubSpot refused it.",
        "Change the value on one of the two records, or merge them if they are the same "
        "(the raw message names the record that holds it), then resync.",
    ),
    ErrorType(
        "field_permission",
        "Permissions",
        "Field permission",
        "The Salesforce integration user can't read or edit a mapped field.",
        "Give the integration user read and edit access to the field (field-level "
        "security), or set the mapping to 'Always use Salesforce'.",
    ),
    ErrorType(
        "insufficient_access",
        "Permissions",
        "Insufficient access or missing Salesforce record",
        "The integration user can't edit this record, or a lookup or owner value points "
        "at a record that doesn't exist or isn't visible.",
        "Check the record's sharing and the lookup or owner value, then resync.",
    ),
    ErrorType(
        "object_permission",
        "Permissions",
        "Object permission",
        "The Salesforce integration user's profile and permission sets don't let it read, "
        "create or edit this kind of object (the error names it). Without Read the object "
        "can't sync at all: its sync stops, the other objects' go on. Without Create or Edit "
        "the records shown can't be written to Salesforce.",
        "In Salesforce Setup, give the integration user Read, Create and Edit on the object "
        "(and Modify All, which HubSpot's own integration asks for) in its profile or a "
        "permission set assigned to it. The sync checks again every 20 minutes and carries on "
        "by itself once it has access; Resync checks at once.",
    ),
    ErrorType(
        "record_locked",
        "Permissions",
        "Record locked in Salesforce",
        "The Salesforce record is locked, usually because it is in an approval process, and "
        "the integration user may not edit locked records.",
        "Finish or recall the approval in Salesforce, or let the integration user edit locked "
        "records (Modify All on the object), then resync.",
    ),
    ErrorType(
        "hubspot_scope",
        "Permissions",
        "HubSpot scope missing",
        "The HubSpot app the integration connects with hasn't been granted a scope this "
        "change needs (the raw message names it).",
        "Add the scope to the app in HubSpot (for a private app: its Scopes tab), reconnect "
        "on the Connection tab if HubSpot issued a new token, then resync.",
    ),
    ErrorType(
        "picklist",
        "Picklists",
        "Picklist value not allowed",
        "The value isn't one of the allowed values of a restricted picklist (this includes "
        "State/Country picklists).",
        "Add the value to the Salesforce picklist, or align the HubSpot property's options "
        "(for states and countries, see the state and country matching setting; a deal's "
        "currency is added to HubSpot's account currencies, or activated in Salesforce).",
    ),
    ErrorType(
        "property_value",
        "Property values",
        "Invalid property value",
        "A value doesn't fit its field: an invalid email, text too long, text in a number "
        "field, a required field left empty, or an amount in a currency Salesforce has no "
        "conversion rate for.",
        "Correct the value shown in the error on the record, then resync.",
    ),
    ErrorType(
        "missing_property",
        "Mapping",
        "Mapped property or field missing",
        "A mapped HubSpot property or Salesforce field no longer exists (it was deleted or "
        "renamed), so its value can't be written.",
        "Restore the property or field, or change or remove the mapping on the object's tab "
        "(refresh its field list first), then resync.",
    ),
    ErrorType(
        "lifecycle_stage",
        "Property values",
        "Lifecycle stage not updated",
        "HubSpot refused the lifecycle stage that the record's Salesforce opportunities move "
        "it to (automatic lifecycle stage transitions).",
        "Fix what the raw message names in HubSpot (for example a lifecycle stage option that "
        "was removed). The stage is written again on every sync, and the error ends once it "
        "is in HubSpot.",
    ),
    ErrorType(
        "campaigns_not_written",
        "Property values",
        "Salesforce campaigns not updated",
        "HubSpot refused the Salesforce campaigns property written to this contact.",
        "Fix what the raw message names in HubSpot, then resync; the campaigns are written "
        "again and the error ends once they are in HubSpot.",
    ),
    ErrorType(
        "owner",
        "Owner",
        "Owner can't be matched",
        "The HubSpot owner doesn't match an active Salesforce user on both name and email.",
        "Make the owner's name and email identical in both systems, or pick another owner.",
    ),
    ErrorType(
        "inactive_owner",
        "Owner",
        "Owner is an inactive Salesforce user",
        "The Salesforce user who would own the record is deactivated, and Salesforce only "
        "gives records to active users. The owner comes from the record, its HubSpot owner or "
        "a Salesforce assignment rule.",
        "Reactivate the user in Salesforce, or give the record (or the assignment rule that "
        "picks the user) an active owner, then resync.",
    ),
    ErrorType(
        "pipeline_limit",
        "Other",
        "Pipeline limit reached",
        "HubSpot refused to create the pipeline for the opportunity's record type or the case's "
        "process. The Sales Hub or Service Hub tier caps how many deal or ticket pipelines an "
        "account can have.",
        "Delete a pipeline you don't use in HubSpot, or upgrade the tier (for cases, you can "
        "also choose an existing ticket pipeline on the Tickets tab). The integration tries "
        "again within the hour, and the records sync once the pipeline exists.",
    ),
    ErrorType(
        "api_limit",
        "API limit",
        "API call limit reached",
        "The integration used its Salesforce API allocation, or the org hit its daily limit.",
        "Wait for the 24-hour window to free up, or raise 'Allocated to HubSpot' on the "
        "Sync health tab.",
    ),
    ErrorType(
        "converted_lead",
        "Other",
        "Converted lead",
        "The Salesforce lead was converted to a contact, which can no longer be updated as a lead.",
        "Nothing to do when contact sync is on; the contact is followed from now on.",
    ),
    ErrorType(
        "merged_in_salesforce",
        "Other",
        "Merged in Salesforce",
        "The Salesforce record this HubSpot record synced with was merged into another one, "
        "which already syncs with another HubSpot record. This record was kept, so it syncs "
        "with nothing now, and no new Salesforce record is made for it.",
        "Merge this HubSpot record into the one that syncs with the surviving Salesforce "
        "record (the error names it), or delete it; the error then ends by itself. To have "
        "this done for you, set what happens in HubSpot when a Salesforce record is deleted "
        "to delete the HubSpot record. Resync it only if it is a different person or company "
        "after all: it then syncs as a new record, and may create one in Salesforce.",
    ),
    ErrorType(
        "authentication",
        "Permissions",
        "Connection expired",
        "Salesforce or HubSpot rejected the integration's credentials.",
        "Reconnect on the Connection tab.",
    ),
    ErrorType(
        "transient",
        "Other",
        "Temporary error",
        "The remote system was briefly unavailable or busy.",
        "Nothing to do: the record is retried automatically.",
        transient=True,
    ),
    ErrorType(
        "other",
        "Other",
        "Other error",
        "An error we don't recognise; the raw message has the details.",
        "Read the raw message; resync once the cause is fixed. Report it if it persists.",
    ),
]
ERROR_TYPES: dict[str, ErrorType] = {t.key: t for t in _TYPES}

_SALESFORCE_CODES = {
    "FIELD_CUSTOM_VALIDATION_EXCEPTION": "salesforce_custom_code",
    "CANNOT_INSERT_UPDATE_ACTIVATE_ENTITY": "salesforce_custom_code",
    "APEX_ERROR": "salesforce_custom_code",
    "CANNOT_EXECUTE_FLOW_TRIGGER": "salesforce_custom_code",  # a Flow or Process Builder
    "DUPLICATES_DETECTED": "salesforce_duplicate_rule",
    # A unique or external ID field's value is taken by another record (not a duplicate
    # rule, and not a value that is wrong in itself).
    "DUPLICATE_VALUE": "value_in_use",
    # A lookup filter refuses the related record: as for a lookup to a record one can't use.
    "FIELD_FILTER_VALIDATION_EXCEPTION": "insufficient_access",
    "INVALID_FIELD_FOR_INSERT_UPDATE": "field_permission",
    "INVALID_FIELD": "missing_property",
    "INSUFFICIENT_ACCESS_OR_READONLY": "insufficient_access",
    # A type the user may not use at all (Salesforce names it as an unknown one).
    "INVALID_TYPE": "object_permission",
    "INVALID_CROSS_REFERENCE_KEY": "insufficient_access",
    "INSUFFICIENT_ACCESS_ON_CROSS_REFERENCE_ENTITY": "insufficient_access",
    "ENTITY_IS_DELETED": "insufficient_access",
    "ENTITY_IS_LOCKED": "record_locked",  # an approval process locked it
    "INACTIVE_OWNER_OR_USER": "inactive_owner",
    "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST": "picklist",
    "INVALID_EMAIL_ADDRESS": "property_value",
    "STRING_TOO_LONG": "property_value",
    "REQUIRED_FIELD_MISSING": "property_value",
    "INVALID_TYPE_ON_FIELD_IN_RECORD": "property_value",
    "NUMBER_OUTSIDE_VALID_RANGE": "property_value",
    "MALFORMED_ID": "property_value",
    "REQUEST_LIMIT_EXCEEDED": "api_limit",
    "CANNOT_UPDATE_CONVERTED_LEAD": "converted_lead",
    "INVALID_SESSION_ID": "authentication",
    "UNABLE_TO_LOCK_ROW": "transient",
    "SERVER_UNAVAILABLE": "transient",
    "UNKNOWN_EXCEPTION": "transient",
    "QUERY_TIMEOUT": "transient",
}

_HUBSPOT_CATEGORIES = {
    "CONFLICT": "email_in_use",
    "RATE_LIMIT": "transient",
    "RATE_LIMITS": "transient",
    "EXPIRED_AUTHENTICATION": "authentication",
    "INVALID_AUTHENTICATION": "authentication",
    "MISSING_SCOPES": "hubspot_scope",  # the HubSpot app's scopes, not a Salesforce object
}
_HUBSPOT_PROPERTY_ERRORS = {
    "INVALID_OPTION": "picklist",
    "PROPERTY_DOESNT_EXIST": "missing_property",
}
_CONTACT_CONFLICT = re.compile(r"\s*(contact\b|$)", re.IGNORECASE)
# Keys of a HubSpot error's ``context`` that name no property (the input's id, a trace id).
_CONTEXT_NOT_PROPERTIES = {"id", "ids", "objectwritetraceid"}
_STATE_COUNTRY = re.compile(r"\b(state|country)\b", re.IGNORECASE)
# How Salesforce says a refusal is about the whole object, not this record's sharing ("…on
# object id" is the record's): "entity type cannot be updated: Opportunity".
OBJECT_REFUSED = re.compile(
    r"entity type cannot be \w+|insufficient access rights on (?:object|entity)(?! id)",
    re.IGNORECASE,
)


def classify(
    *,
    system: str,
    status: int,
    code: str | None,
    message: str = "",
    context: dict[str, Any] | None = None,
) -> ErrorType:
    """The error type for one failure. ``code`` is Salesforce's errorCode/statusCode or
    HubSpot's category (plus, for property validation, the ``error`` name in the message);
    ``context``: a HubSpot error's context, which names the property of a unique-value clash."""
    code = (code or "").upper()
    message = message or ""
    if status in (0, 429) or status >= 500:
        return ERROR_TYPES["transient"]
    if system == "salesforce":
        if code == "FIELD_INTEGRITY_EXCEPTION":
            # State/Country picklist mismatches use this code; so do other field combinations.
            return ERROR_TYPES["picklist" if _STATE_COUNTRY.search(message) else "property_value"]
        if code == "INSUFFICIENT_ACCESS_OR_READONLY" and (
            status == 403 or OBJECT_REFUSED.search(message)
        ):
            return ERROR_TYPES["object_permission"]
        return ERROR_TYPES[_SALESFORCE_CODES.get(code, "other")]
    if code == "CONFLICT":
        # Only contacts are unique by email; another object's clash is on a property with
        # unique values ("Company already exists. Existing ID: 7"), and so is a contact's
        # when the context names a property other than email.
        named = {str(k).lower() for k in context or {}} - _CONTEXT_NOT_PROPERTIES
        contact = bool(_CONTACT_CONFLICT.match(message))
        if not contact or (named and "email" not in named):
            return ERROR_TYPES["value_in_use"]
    if code in _HUBSPOT_CATEGORIES:
        return ERROR_TYPES[_HUBSPOT_CATEGORIES[code]]
    if code == "VALIDATION_ERROR":
        for name, key in _HUBSPOT_PROPERTY_ERRORS.items():
            if name in message:
                return ERROR_TYPES[key]
        if "association" in message.lower() and "limit" in message.lower():
            return ERROR_TYPES["association_limit"]
        return ERROR_TYPES["property_value"]
    return ERROR_TYPES["other"]
