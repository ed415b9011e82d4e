import re
from collections.abc import Mapping
from dataclasses import fields
from typing import ClassVar

from drf_spectacular.utils import OpenApiExample, extend_schema_field, extend_schema_serializer
from rest_framework import serializers

from sync_engine.error_types import ERROR_TYPES
from sync_engine.models import MAX_ROW_ID, ImportJob, ListResyncJob, SyncError, SyncRun
from sync_engine.object_settings import (
    CUSTOM_PREFIX,
    SETTINGS_CLASSES,
    UNMAPPED_PAIRS,
    CustomObjectSettings,
)
from sync_engine.sync.rules import SyncRule

from ..forms import MAX_ALLOCATION

# The object pairs: the standard ones, and "custom:<n>" for those the Custom objects wizard adds.
STANDARD_PAIRS = tuple(SETTINGS_CLASSES)
CUSTOM_PAIR = re.compile(rf"{CUSTOM_PREFIX}[1-9][0-9]*")
OBJECT_PAIR_SCHEMA = {
    "type": "string",
    "pattern": rf"^({'|'.join(STANDARD_PAIRS)}|{CUSTOM_PAIR.pattern})$",
    "description": f"An object pair: {', '.join(STANDARD_PAIRS)}, or custom:<n> for a custom "
    "object pair (numbered by the Custom objects wizard).",
    "example": "contacts",
}
SETTING_NAMES = frozenset(
    f.name for cls in (*SETTINGS_CLASSES.values(), CustomObjectSettings) for f in fields(cls)
)


def _one_of(values) -> str:
    return ", ".join(values)


def is_object_pair(name: str) -> bool:
    return name in SETTINGS_CLASSES or CUSTOM_PAIR.fullmatch(name) is not None


@extend_schema_field(OBJECT_PAIR_SCHEMA)
class ObjectPairField(serializers.CharField):
    """An object pair's name: a standard pair or ``custom:<n>``."""

    default_error_messages = {
        "not_a_pair": f'"{{input}}" is not an object pair: use one of {_one_of(STANDARD_PAIRS)} '
        "or custom:<n>."
    }

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        if value and not is_object_pair(value):
            self.fail("not_a_pair", input=value)
        return value


def choice_field(choices, what: str, **kwargs) -> serializers.ChoiceField:
    """A ChoiceField whose error names the allowed values."""
    return serializers.ChoiceField(
        choices=list(choices),
        error_messages={
            "invalid_choice": f'"{{input}}" is not {what}: use one of {_one_of(choices)}.'
        },
        **kwargs,
    )


CANT_CHANGE = "Can't be changed here: the integration sets it."


class StrictSerializer(serializers.Serializer):
    # A request body that answers 400 for any key it doesn't take, so a misspelt or read-only
    # field isn't dropped silently (which would answer 200 with nothing changed). A comment,
    # not a docstring: the schema would show a docstring on every subclass.

    # What the endpoint answers with: its fields are known here, though not changeable.
    answers_with: ClassVar[type[serializers.Serializer] | None] = None
    # Why a known field can't be changed here, where there's more to say than CANT_CHANGE.
    cant_change: ClassVar[dict[str, str]] = {}

    def refused_keys(self, data) -> dict[str, list[str]]:
        if not isinstance(data, Mapping):
            return {}  # the serializer's own "Expected a dictionary" error says it
        takes = [name for name, field in self.fields.items() if not field.read_only]
        known = {*self.fields, *self.cant_change}
        if self.answers_with is not None:
            known |= set(self.answers_with().fields)
        refused = {}
        for key in data:
            if key in takes:
                continue
            if key in known:
                refused[key] = [self.cant_change.get(key, CANT_CHANGE)]
            else:
                refused[key] = [
                    f"Unknown field: this endpoint takes {_one_of(takes) or 'no fields'}."
                ]
        return refused

    def to_internal_value(self, data):
        refused = self.refused_keys(data)
        try:
            value = super().to_internal_value(data)
        except serializers.ValidationError as error:
            if refused and isinstance(error.detail, dict):
                raise serializers.ValidationError({**error.detail, **refused}) from error
            raise
        if refused:
            raise serializers.ValidationError(refused)
        return value


class SalesforceConnectionSerializer(serializers.Serializer):
    instance_url = serializers.URLField()
    organization_id = serializers.CharField()
    user_id = serializers.CharField()
    user_name = serializers.CharField()
    username = serializers.CharField()
    connected_at = serializers.DateTimeField()
    last_verified_at = serializers.DateTimeField(allow_null=True)


class HubSpotConnectionSerializer(serializers.Serializer):
    base_url = serializers.URLField()
    portal_id = serializers.CharField()
    connected_at = serializers.DateTimeField()
    last_verified_at = serializers.DateTimeField(allow_null=True)


class ApiUsageSerializer(serializers.Serializer):
    salesforce_calls_last_24h = serializers.IntegerField(source="used")
    allocated_to_hubspot = serializers.IntegerField(source="allocation")
    remaining = serializers.IntegerField()
    percent_used = serializers.IntegerField()
    limited_by_salesforce = serializers.IntegerField(source="limit", allow_null=True)
    salesforce_org_remaining = serializers.IntegerField(source="org_remaining", allow_null=True)
    limits_checked_at = serializers.DateTimeField(allow_null=True)
    hubspot_calls_last_24h = serializers.IntegerField(source="hubspot_used")


class ForecastSerializer(serializers.Serializer):
    state = serializers.ChoiceField(
        choices=["reached", "runs_out", "enough", "idle"],
        help_text="reached: no calls left; runs_out: at `runs_out_at`; enough: the pace fits "
        "the allocation; idle: no calls in the last hour.",
    )
    pace_per_hour = serializers.IntegerField(help_text="Salesforce calls in the last 60 minutes.")
    runs_out_at = serializers.DateTimeField(source="at", allow_null=True)
    paced = serializers.BooleanField(
        help_text="The last hour's pace would run the allocation out, but cycles are slowed "
        "down to last: the forecast is at their slower pace."
    )


class HourSerializer(serializers.Serializer):
    start = serializers.DateTimeField()
    salesforce = serializers.IntegerField()
    hubspot = serializers.IntegerField()


class IntegrationSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    state = serializers.CharField()
    state_reason = serializers.CharField()
    state_changed_at = serializers.DateTimeField()
    sync_enabled = serializers.BooleanField(
        read_only=True,
        help_text="The whole sync's on/off switch (the Connection page). While off, no cycle "
        "runs; turned back on, the next cycle reads every change made meanwhile.",
    )
    sync_not_started = serializers.BooleanField(
        read_only=True,
        help_text="Connected for the first time and not started yet: the sync waits for an "
        "admin to review the settings and turn it on (POST /api/v1/integration/sync/).",
    )
    sync_changed_at = serializers.DateTimeField(read_only=True, allow_null=True)
    sync_changed_by = serializers.CharField(
        read_only=True, help_text="Who last turned sync on or off (empty: the system)."
    )
    salesforce = SalesforceConnectionSerializer(allow_null=True)
    hubspot = HubSpotConnectionSerializer(allow_null=True)
    api_usage = ApiUsageSerializer()
    forecast = ForecastSerializer()
    calls_per_hour = HourSerializer(many=True)
    last_synced = serializers.DictField(child=serializers.DateTimeField())


@extend_schema_serializer(
    examples=[
        OpenApiExample("An allocation", value={"allocated_to_hubspot": 5000}, request_only=True)
    ]
)
class AllocationSerializer(StrictSerializer):
    answers_with = IntegrationSerializer
    cant_change = {
        "sync_enabled": "Can't be changed here: turn sync on or off with POST "
        "/api/v1/integration/sync/ (or on the Connection page)."
    }

    allocated_to_hubspot = serializers.IntegerField(
        min_value=1,
        max_value=MAX_ALLOCATION,
        help_text="Salesforce API calls per rolling 24 hours the integration may spend; at "
        "most `limited_by_salesforce`.",
    )


class ClearSuspensionSerializer(StrictSerializer):
    # No fields: a body, if any, is an empty object.
    pass


@extend_schema_serializer(
    examples=[OpenApiExample("Sync off", value={"enabled": False}, request_only=True)]
)
class SyncSwitchSerializer(StrictSerializer):
    answers_with = IntegrationSerializer

    enabled = serializers.BooleanField(
        help_text="false: nothing syncs (no cycle runs, a running one finishes); true: the "
        "next cycle reads every change made while it was off."
    )


class DisconnectSerializer(StrictSerializer):
    # No fields: a body, if any, is an empty object.
    pass


class SyncNowSerializer(StrictSerializer):
    # No fields: a body, if any, is an empty object.
    pass


class SyncStartedSerializer(serializers.Serializer):
    objects = serializers.ListField(
        child=serializers.CharField(),
        help_text="The object pairs the cycle syncs, in the order it runs them: those switched "
        "on (empty: every pair is off, and no cycle starts).",
    )


class ObjectSettingsField(serializers.DictField):
    """An object pair's settings: typed per pair in the schema (``api/schema.py``)."""

    def __init__(self, *, changes: bool = False, **kwargs) -> None:
        self.changes = changes  # a partial update, without what only a wizard sets
        super().__init__(**kwargs)


class ObjectSettingsSerializer(serializers.Serializer):
    object = ObjectPairField()
    enabled = serializers.BooleanField()
    settings = ObjectSettingsField()


class ObjectSettingsUpdateSerializer(StrictSerializer):
    cant_change = {"object": "Can't be changed: the object pair is the one in the URL."}

    enabled = serializers.BooleanField(required=False, help_text="Turn this pair's sync on or off.")
    settings = ObjectSettingsField(
        changes=True, required=False, help_text="A partial update: only the settings to change."
    )

    def refused_keys(self, data) -> dict[str, list[str]]:
        refused = super().refused_keys(data)
        for key in refused:
            if key in SETTING_NAMES:  # sent at the top level
                refused[key] = [f'Unknown field: send settings inside "settings": {{"{key}": …}}.']
        return refused


class ObjectSettingsChangedSerializer(ObjectSettingsSerializer):
    changed = serializers.DictField(
        child=serializers.DictField(), help_text='{"name": {"from": old, "to": new}}'
    )


MAPPED_PAIRS = tuple(name for name in STANDARD_PAIRS if name not in UNMAPPED_PAIRS)


@extend_schema_field(
    {
        **OBJECT_PAIR_SCHEMA,
        "description": f"The object pair. POST takes {_one_of(MAPPED_PAIRS)}: activities "
        "have no field mappings, and a custom object pair's are set in its wizard.",
    }
)
class MappingObjectField(serializers.ChoiceField):
    default_error_messages = {
        "invalid_choice": f'"{{input}}" is not an object pair: use one of '
        f"{_one_of(STANDARD_PAIRS)}.",
        "custom": "A custom object pair's mappings are set in the Custom objects wizard.",
        "unmapped": "Activities have no field mappings: every activity of a selected type "
        "syncs with its subject, body, date and status.",
    }

    def __init__(self, **kwargs) -> None:
        super().__init__(choices=list(STANDARD_PAIRS), **kwargs)

    def to_internal_value(self, data):
        if isinstance(data, str) and CUSTOM_PAIR.fullmatch(data):
            self.fail("custom")
        if data in UNMAPPED_PAIRS:
            self.fail("unmapped")
        return super().to_internal_value(data)


class MappingSerializer(StrictSerializer):
    id = serializers.IntegerField(read_only=True)
    object = MappingObjectField()
    hubspot_property = serializers.CharField(max_length=120)
    salesforce_field = serializers.CharField(max_length=120)
    salesforce_fields = serializers.DictField(read_only=True)
    rule = serializers.ChoiceField(
        choices=[r.value for r in SyncRule], default=SyncRule.PREFER_SALESFORCE_UNLESS_BLANK
    )
    is_default = serializers.BooleanField(read_only=True)
    hubspot_type = serializers.CharField(read_only=True)
    hubspot_field_type = serializers.CharField(read_only=True)
    salesforce_type = serializers.CharField(read_only=True)
    warning = serializers.CharField(read_only=True)
    created_at = serializers.DateTimeField(read_only=True)
    updated_at = serializers.DateTimeField(read_only=True)


FIXED_MAPPING = (
    "Can't be changed: only a mapping's rule can. To map other fields, delete this mapping "
    "and add a new one."
)


class MappingRuleSerializer(StrictSerializer):
    answers_with = MappingSerializer
    cant_change = dict.fromkeys(("object", "hubspot_property", "salesforce_field"), FIXED_MAPPING)

    rule = serializers.ChoiceField(choices=[r.value for r in SyncRule])


class SyncErrorSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    object = serializers.CharField()
    error_type = serializers.CharField()
    direction = serializers.CharField()
    record_key = serializers.CharField()
    record_label = serializers.CharField()
    hubspot_id = serializers.CharField()
    salesforce_id = serializers.CharField()
    salesforce_type = serializers.CharField()
    code = serializers.CharField()
    message = serializers.CharField()
    fields = serializers.ListField(child=serializers.CharField())
    values = serializers.DictField(
        help_text="What was sent for those fields; for an activity waiting for its contact, "
        "whom it waits for (WhoId, or the HubSpot contacts)."
    )
    first_seen_at = serializers.DateTimeField()
    last_seen_at = serializers.DateTimeField()
    attempts = serializers.IntegerField()
    next_retry_at = serializers.DateTimeField(allow_null=True)
    resolved_at = serializers.DateTimeField(allow_null=True)
    ended_because = serializers.CharField(
        help_text="Why a resolved error ended: blank when its record synced (and for current "
        "errors); otherwise "
        + "; ".join(
            f"`{value}`: {label[0].lower()}{label[1:]}"
            for value, label in SyncError.EndedBecause.choices
            if value
        )
        + "."
    )


class ErrorCardSerializer(serializers.Serializer):
    error_type = serializers.CharField()
    category = serializers.CharField()
    title = serializers.CharField()
    explanation = serializers.CharField()
    fix = serializers.CharField()
    errors = serializers.IntegerField(help_text="Current errors of this type.")
    records = serializers.IntegerField(help_text="Records they impact.")


class ResyncResultSerializer(serializers.Serializer):
    queued = serializers.IntegerField()


class ResyncSerializer(StrictSerializer):
    answers_with = ResyncResultSerializer

    ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=MAX_ROW_ID),
        required=False,
        help_text="Errors to resync.",
    )
    error_type = choice_field(
        ERROR_TYPES, "an error type", required=False, help_text="Only errors of this type."
    )
    all = serializers.BooleanField(
        default=False,
        help_text="Resync every current error (of `error_type`, and that `q` finds, if given).",
    )
    q = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=200,
        help_text="With `all`: only the errors this search finds, as `errors/?q=` lists them.",
    )

    def validate(self, data):
        if not data.get("all") and not data.get("ids"):
            raise serializers.ValidationError("Give `ids`, or `all: true`.")
        if data.get("q", "").strip() and not data.get("all"):
            raise serializers.ValidationError(
                {"q": ["A search goes with `all: true`: the ids are the errors."]}
            )
        return data


class QueuedSerializer(serializers.Serializer):
    """What a "sync this record" action queued."""

    object = serializers.CharField()
    record = serializers.CharField(required=False, help_text="hubspot:<id> or salesforce:<id>.")
    errors_queued = serializers.IntegerField(
        required=False, help_text="Its current errors queued for a retry with it."
    )
    syncs_now = serializers.BooleanField(
        help_text="true: a sync cycle starts now; false: it waits, and `waits` says for what."
    )
    waits = serializers.CharField(
        allow_null=True, help_text="Why it waits (sync off, on hold, its pair off), or null."
    )
    message = serializers.CharField(help_text="What the dashboard says of it.")


class RecordResyncSerializer(StrictSerializer):
    # No fields: the record is the one in the URL.
    answers_with = QueuedSerializer


class ContactSyncSerializer(StrictSerializer):
    answers_with = QueuedSerializer

    contact = serializers.CharField(
        max_length=300,
        help_text="The HubSpot contact's email address or record id, or its HubSpot address.",
    )


class CompanySyncSerializer(StrictSerializer):
    answers_with = QueuedSerializer

    company = serializers.CharField(
        max_length=300, help_text="The HubSpot company's record id, or its HubSpot address."
    )


class ListResyncResultSerializer(serializers.Serializer):
    """What *Resync a list*'s dry run found: its confirmation (a confirmed one answers with
    its job: ``ListResyncJobSerializer``)."""

    object = serializers.CharField()
    list_id = serializers.CharField()
    list_name = serializers.CharField()
    members = serializers.IntegerField(
        help_text="The list's members: as HubSpot counts them (dry run), or as read."
    )
    queued = serializers.IntegerField(help_text="Records queued to sync again (0: a dry run).")
    salesforce_calls = serializers.IntegerField(
        help_text="About what syncing them costs in Salesforce calls, at most."
    )
    cycles = serializers.IntegerField(help_text="The sync cycles they take (2,000 a cycle).")
    syncs_now = serializers.BooleanField(
        help_text="true: a sync cycle starts now; false: it waits (or a dry run)."
    )
    waits = serializers.CharField(
        allow_null=True, help_text="Why it waits (sync off, on hold), or null."
    )
    message = serializers.CharField(help_text="What the dashboard says of it.")


class ListResyncJobSerializer(serializers.Serializer):
    """A list resync's job: a worker reads the list's members and queues them."""

    id = serializers.IntegerField()
    url = serializers.CharField(help_text="GET it for the job's state (poll it while it runs).")
    object = serializers.CharField()
    list_id = serializers.CharField()
    list_name = serializers.CharField()
    status = serializers.ChoiceField(choices=ListResyncJob.Status.values)
    members = serializers.IntegerField(help_text="The list's members, as HubSpot counts them.")
    queued = serializers.IntegerField(help_text="Members read and queued to sync again so far.")
    percent = serializers.IntegerField(help_text="queued of members.")
    stalled = serializers.BooleanField(
        help_text="Running, but its worker stopped: POST the list again to go on after the "
        "members already queued."
    )
    salesforce_calls = serializers.IntegerField(
        help_text="About what syncing them costs in Salesforce calls, at most."
    )
    cycles = serializers.IntegerField(help_text="The sync cycles they take (2,000 a cycle).")
    refused = serializers.CharField(
        allow_null=True, help_text="Why it stopped (a code), when it failed; else null."
    )
    waits = serializers.CharField(
        allow_null=True,
        help_text="Once all are queued: why they wait (sync off, on hold), or null.",
    )
    message = serializers.CharField(help_text="What the dashboard's card says of it.")
    started_by = serializers.CharField(allow_null=True, help_text="Who confirmed it.")
    created_at = serializers.DateTimeField()
    started_at = serializers.DateTimeField(allow_null=True)
    finished_at = serializers.DateTimeField(allow_null=True)


LIST_RESYNC_PAIRS = ("contacts", "companies")


@extend_schema_field(
    {
        # A pattern, not an enum: an enum would be pulled out into a component of its own.
        "type": "string",
        "pattern": rf"^({'|'.join(LIST_RESYNC_PAIRS)})$",
        "description": "The pair whose records the list holds: contacts or companies.",
        "example": "contacts",
    }
)
class ListResyncPairField(serializers.ChoiceField):
    pass


class ListResyncSerializer(StrictSerializer):
    answers_with = ListResyncResultSerializer

    object = ListResyncPairField(
        choices=list(LIST_RESYNC_PAIRS),
        error_messages={
            "invalid_choice": f'"{{input}}" is not resynced by list: use one of '
            f"{_one_of(LIST_RESYNC_PAIRS)}."
        },
    )
    list_id = serializers.RegexField(
        r"^[0-9]{1,30}$",
        error_messages={"invalid": "A HubSpot list id: digits only."},
        help_text="The HubSpot list (ILS list id), of contacts or of companies.",
    )
    dry_run = serializers.BooleanField(
        default=False,
        help_text="true: only say how many records would sync again and about what it "
        "costs (one HubSpot call); nothing is queued.",
    )


class CreateViewSerializer(StrictSerializer):
    error_type = choice_field(ERROR_TYPES, "an error type", help_text="The errors' type.")


class CreatedViewSerializer(serializers.Serializer):
    list_id = serializers.CharField()
    name = serializers.CharField()
    hubspot_object = serializers.CharField(help_text='"contacts", or a custom object\'s type id.')
    records = serializers.IntegerField(help_text="Records added to the list.")
    missing = serializers.IntegerField(help_text="Records HubSpot no longer has: left out.")
    url = serializers.CharField(help_text="The list in HubSpot (empty: the account isn't known).")


class ErrorViewsSerializer(serializers.Serializer):
    views = CreatedViewSerializer(
        many=True, help_text="One HubSpot list per object type (none: no current errors)."
    )
    not_in_hubspot = serializers.IntegerField(
        help_text="Records left out: not in HubSpot yet (their Salesforce record hasn't synced)."
    )
    activities = serializers.IntegerField(help_text="Activities left out: lists can't hold them.")


@extend_schema_field(
    {
        # A pattern, not an enum: an enum would be pulled out into a component of its own.
        "type": "string",
        "pattern": rf"^({'|'.join(MAPPED_PAIRS)})$",
        "description": f"An object pair with field mappings: {_one_of(MAPPED_PAIRS)} (a custom "
        "object pair's fields are read in its wizard).",
        "example": "contacts",
    }
)
class MappedPairField(MappingObjectField):
    pass


class SchemaRefreshSerializer(StrictSerializer):
    object = MappedPairField()


class SchemaRefreshedSerializer(serializers.Serializer):
    object = serializers.CharField()
    refreshed = serializers.BooleanField()


class ImportJobSerializer(serializers.Serializer):
    # Read as they are from the import (the others are worked out from it).
    MODEL_FIELDS = (
        "id", "object", "status", "message", "created_at", "started_at", "finished_at",
        "total", "processed", "created", "updated", "skipped", "failed", "left_out",
        "salesforce_calls", "hubspot_calls",
    )  # fmt: skip

    id = serializers.IntegerField()
    object = serializers.CharField(
        help_text="leads, contacts, accounts, opportunities, cases, tasks, events, "
        "custom:<n>, or campaign:<Salesforce id> (its members)."
    )
    label = serializers.CharField(help_text="What the Import page calls it.")
    status = serializers.ChoiceField(choices=ImportJob.Status.values)
    message = serializers.CharField(help_text="Why it stopped, when it failed.")
    started_by = serializers.CharField(allow_null=True, help_text="Who started it.")
    created_at = serializers.DateTimeField()
    started_at = serializers.DateTimeField(allow_null=True)
    finished_at = serializers.DateTimeField(allow_null=True)
    total = serializers.IntegerField(allow_null=True, help_text="Records to import (counted).")
    processed = serializers.IntegerField()
    percent = serializers.IntegerField(help_text="The progress bar: processed of total.")
    seconds = serializers.FloatField(help_text="How long it has run.")
    rate = serializers.FloatField(help_text="Records per second.")
    created = serializers.IntegerField()
    updated = serializers.IntegerField()
    skipped = serializers.IntegerField()
    skipped_reasons = serializers.DictField(
        child=serializers.IntegerField(), help_text="Why records were skipped: reason -> count."
    )
    failed = serializers.IntegerField()
    left_out = serializers.IntegerField(
        help_text="Of created and updated: written without a value HubSpot refused (a "
        "picklist option, say); each has its error on Sync health."
    )
    salesforce_calls = serializers.IntegerField()
    hubspot_calls = serializers.IntegerField()
    stalled = serializers.BooleanField(help_text="Running, but its worker stopped: resume it.")
    resumable = serializers.BooleanField(
        help_text="Failed, cancelled or stalled: POST resume/ goes on after its last record."
    )


class ImportTargetSerializer(serializers.Serializer):
    object = serializers.CharField(help_text="What POST imports/ takes as `object`.")
    label = serializers.CharField()
    pair_enabled = serializers.BooleanField(
        help_text="Its object pair's sync is on: an import starts only then."
    )
    pair_off = serializers.CharField(help_text="What to turn on first, while it is off.")


class ImportStartSerializer(StrictSerializer):
    answers_with = ImportJobSerializer

    object = serializers.CharField(
        max_length=60,
        help_text="What to import: leads, contacts, accounts, opportunities, cases, tasks, "
        "events, custom:<n>, or campaign:<Salesforce id> (an active campaign's members).",
    )


class ImportActionSerializer(StrictSerializer):
    # No fields: the import is the one in the URL.
    answers_with = ImportJobSerializer


class SyncRunSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    object = serializers.CharField()
    trigger = serializers.CharField()
    status = serializers.CharField()
    started_at = serializers.DateTimeField()
    finished_at = serializers.DateTimeField(allow_null=True)
    counts = serializers.DictField()
    salesforce_calls = serializers.IntegerField()
    hubspot_calls = serializers.IntegerField()
    error_count = serializers.IntegerField()
    message = serializers.CharField()


class AuditEventSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    at = serializers.DateTimeField()
    actor = serializers.SerializerMethodField()
    action = serializers.CharField()
    details = serializers.DictField()

    def get_actor(self, event) -> str | None:
        return event.actor.get_username() if event.actor else None


# --- query parameters -----------------------------------------------------------------------
class MappingFilterSerializer(serializers.Serializer):
    object = ObjectPairField(required=False, allow_blank=True, help_text="Only this object pair.")


class ErrorFilterSerializer(serializers.Serializer):
    type = choice_field(
        ERROR_TYPES, "an error type", required=False, allow_blank=True, help_text="Error type."
    )
    object = ObjectPairField(required=False, allow_blank=True, help_text="Only this object pair.")
    q = serializers.CharField(
        required=False,
        allow_blank=True,
        help_text="Search record names, ids, codes and messages.",
    )
    resolved = serializers.BooleanField(
        required=False, default=False, help_text="true: past errors instead of current ones."
    )


class AuditFilterSerializer(serializers.Serializer):
    action = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=100,
        help_text="Only actions starting with this, e.g. `settings` or `integration.allocation`.",
    )


class ImportFilterSerializer(serializers.Serializer):
    # None: a parameter is refused (400), not ignored.
    pass


class RunFilterSerializer(serializers.Serializer):
    object = ObjectPairField(required=False, allow_blank=True, help_text="Only this object pair.")
    status = choice_field(SyncRun.Status.values, "a run status", required=False, allow_blank=True)
