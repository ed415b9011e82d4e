"""The Django admin shows the engine's records read-only: connections, settings and the ledgers
change only through the dashboard, the API and ``manage.py``, which check the admin role and
write the audit log (the admin would bypass both, and could rewrite the audit log itself)."""

from django.contrib import admin

from .models import ApiCall, AuditEvent, HubSpotConnection, Integration, SalesforceConnection


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Integration)
class IntegrationAdmin(ReadOnlyAdmin):
    list_display = ["name", "state", "salesforce_api_allocation", "salesforce_api_limit"]


@admin.register(SalesforceConnection)
class SalesforceConnectionAdmin(ReadOnlyAdmin):
    list_display = ["instance_url", "username", "connected_at", "last_verified_at"]
    exclude = ["access_token", "refresh_token", "client_secret"]


@admin.register(HubSpotConnection)
class HubSpotConnectionAdmin(ReadOnlyAdmin):
    list_display = ["base_url", "portal_id", "connected_at", "last_verified_at"]
    exclude = ["access_token", "refresh_token", "client_secret"]


@admin.register(ApiCall)
class ApiCallAdmin(ReadOnlyAdmin):
    list_display = ["called_at", "system", "operation", "status", "records", "duration_ms"]
    list_filter = ["system", "status"]
    date_hierarchy = "called_at"


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = ["at", "action", "actor", "integration"]
    list_filter = ["action"]
