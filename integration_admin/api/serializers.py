from rest_framework import serializers


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


class IntegrationSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    state = serializers.CharField()
    state_reason = serializers.CharField()
    state_changed_at = serializers.DateTimeField()
    salesforce = SalesforceConnectionSerializer(allow_null=True)
    hubspot = HubSpotConnectionSerializer(allow_null=True)
    api_usage = ApiUsageSerializer()
