from django.contrib import admin

from .models import ApiCall, AuditEvent, HubSpotConnection, Integration, SalesforceConnection


@admin.register(Integration)
class IntegrationAdmin(admin.ModelAdmin):
    list_display = ["name", "state", "salesforce_api_allocation", "salesforce_api_limit"]


@admin.register(SalesforceConnection)
class SalesforceConnectionAdmin(admin.ModelAdmin):
    list_display = ["instance_url", "username", "connected_at", "last_verified_at"]
    exclude = ["access_token", "refresh_token", "client_secret"]


@admin.register(HubSpotConnection)
class HubSpotConnectionAdmin(admin.ModelAdmin):
    list_display = ["base_url", "portal_id", "connected_at", "last_verified_at"]
    exclude = ["access_token", "refresh_token", "client_secret"]


@admin.register(ApiCall)
class ApiCallAdmin(admin.ModelAdmin):
    list_display = ["called_at", "system", "operation", "status", "records", "duration_ms"]
    list_filter = ["system", "status"]
    date_hierarchy = "called_at"


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = ["at", "action", "actor", "integration"]
    list_filter = ["action"]
    readonly_fields = ["at", "action", "actor", "integration", "details"]
