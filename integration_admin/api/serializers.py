from rest_framework import serializers

from sync_engine.object_settings import SETTINGS_CLASSES
from sync_engine.sync.rules import SyncRule

from ..forms import MAX_ALLOCATION


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


class AllocationSerializer(serializers.Serializer):
    allocated_to_hubspot = serializers.IntegerField(min_value=1, max_value=MAX_ALLOCATION)


class ObjectSettingsSerializer(serializers.Serializer):
    object = serializers.ChoiceField(choices=sorted(SETTINGS_CLASSES))
    enabled = serializers.BooleanField()
    settings = serializers.DictField()


class ObjectSettingsUpdateSerializer(serializers.Serializer):
    enabled = serializers.BooleanField(required=False)
    settings = serializers.DictField(
        required=False, help_text="A partial update: only the settings to change."
    )


class ObjectSettingsChangedSerializer(ObjectSettingsSerializer):
    changed = serializers.DictField(
        child=serializers.DictField(), help_text='{"name": {"from": old, "to": new}}'
    )


class MappingSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    object = serializers.CharField()
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


class MappingRuleSerializer(serializers.Serializer):
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
    values = serializers.DictField(help_text="What was sent for those fields.")
    first_seen_at = serializers.DateTimeField()
    last_seen_at = serializers.DateTimeField()
    attempts = serializers.IntegerField()
    next_retry_at = serializers.DateTimeField(allow_null=True)
    resolved_at = serializers.DateTimeField(allow_null=True)


class ErrorCardSerializer(serializers.Serializer):
    error_type = serializers.CharField()
    category = serializers.CharField()
    title = serializers.CharField()
    explanation = serializers.CharField()
    fix = serializers.CharField()
    errors = serializers.IntegerField(help_text="Current errors of this type.")
    records = serializers.IntegerField(help_text="Records they impact.")


class ResyncSerializer(serializers.Serializer):
    ids = serializers.ListField(
        child=serializers.IntegerField(), required=False, help_text="Errors to resync."
    )
    error_type = serializers.CharField(required=False, help_text="Only errors of this type.")
    all = serializers.BooleanField(
        default=False, help_text="Resync every current error (of `error_type`, if given)."
    )

    def validate(self, data):
        if not data.get("all") and not data.get("ids"):
            raise serializers.ValidationError("Give `ids`, or `all: true`.")
        return data


class ResyncResultSerializer(serializers.Serializer):
    queued = serializers.IntegerField()


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
