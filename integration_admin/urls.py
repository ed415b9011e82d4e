from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView

from .api.views import DocsView
from .views import actions, companies, connection, errors, health, mappings, objects, pages
from .views import custom_objects as custom_objects_views
from .views import imports as imports_views
from .views import list_resync as list_resync_views
from .views import notifications as notifications_views
from .views import tickets as tickets_views

OBJECTS = ("contacts", "companies", "deals", "tickets", "activities")

urlpatterns = [
    path("", pages.home, name="home"),
    # Sync health
    path("sync-health/", health.sync_health, name="sync_health"),
    path("sync-health/usage/", health.api_usage_partial, name="api_usage_partial"),
    path("sync-health/allocation/", health.allocation_update, name="allocation_update"),
    path("sync-health/cards/", health.error_cards_partial, name="error_cards_partial"),
    path("sync-health/runs/", health.runs_partial, name="runs_partial"),
    path("sync-health/errors/export/", health.errors_export, name="errors_export"),
    path("sync-health/errors/resync/", errors.errors_resync, name="errors_resync"),
    path("sync-health/errors/<slug:error_type>/", health.error_panel, name="error_panel"),
    path(
        "sync-health/errors/<slug:error_type>/view/",
        errors.errors_create_view,
        name="errors_create_view",
    ),
    path("records/", errors.record_find, name="record_find"),
    path(
        "records/<str:object_name>/<str:record_key>/",
        errors.record_detail,
        name="record_detail",
    ),
    path(
        "records/<str:object_name>/<str:record_key>/resync/",
        errors.record_resync,
        name="record_resync",
    ),
    # Object tabs and the mapping editor
    # The Tickets tab is its setup wizard, then its settings (ahead of the generic tab route).
    path("tickets/", tickets_views.ticket_tab, name="tickets"),
    path("tickets/stages/", tickets_views.ticket_stages, name="ticket_stages"),
    *[path(f"{name}/", objects.object_tab, {"object_name": name}, name=name) for name in OBJECTS],
    path("companies/sync/", companies.company_sync, name="company_sync"),
    path("contacts/sync/", objects.contact_sync, name="contact_sync"),
    path(
        "<slug:object_name>/list-resync/",
        list_resync_views.list_resync,
        name="list_resync",
    ),
    path(
        "<slug:object_name>/list-resync/<int:job_id>/",
        list_resync_views.list_resync_job,
        name="list_resync_job",
    ),
    path("objects/<slug:object_name>/lists/", objects.inclusion_lists, name="inclusion_lists"),
    path("objects/<slug:object_name>/mappings/", mappings.mapping_editor, name="mapping_editor"),
    path("objects/<slug:object_name>/mappings/add/", mappings.mapping_add, name="mapping_add"),
    path(
        "objects/<slug:object_name>/mappings/check/", mappings.mapping_check, name="mapping_check"
    ),
    path(
        "objects/<slug:object_name>/mappings/refresh/",
        mappings.mapping_schema_refresh,
        name="mapping_schema_refresh",
    ),
    path("mappings/<int:mapping_id>/rule/", mappings.mapping_rule, name="mapping_rule"),
    path("mappings/<int:mapping_id>/delete/", mappings.mapping_remove, name="mapping_remove"),
    # Other tabs and pages
    path("discover/", pages.discover, name="discover"),
    # Custom objects: the tab and its wizard
    path("custom-objects/", custom_objects_views.custom_objects_tab, name="custom_objects"),
    path("custom-objects/new/", custom_objects_views.wizard_start, name="custom_object_new"),
    path(
        "custom-objects/wizard/<slug:step>/",
        custom_objects_views.wizard_step,
        name="custom_object_wizard",
    ),
    path(
        "custom-objects/<int:number>/",
        custom_objects_views.custom_object_page,
        name="custom_object",
    ),
    path(
        "custom-objects/<int:number>/mappings/refresh/",
        custom_objects_views.custom_object_schema_refresh,
        name="custom_object_schema_refresh",
    ),
    path(
        "custom-objects/<int:number>/edit/",
        custom_objects_views.wizard_edit,
        name="custom_object_edit",
    ),
    path(
        "custom-objects/<int:number>/switch/",
        custom_objects_views.custom_object_switch,
        name="custom_object_switch",
    ),
    path(
        "custom-objects/<int:number>/remove/",
        custom_objects_views.custom_object_remove,
        name="custom_object_remove",
    ),
    path("connection/", connection.connection, name="connection"),
    path(
        "connection/salesforce/connect/",
        connection.salesforce_connect,
        name="salesforce_connect",
    ),
    path(
        "connection/salesforce/callback/",
        connection.salesforce_callback,
        name="salesforce_callback",
    ),
    path("connection/salesforce/user/", connection.salesforce_user, name="salesforce_user"),
    path(
        "connection/salesforce/sandbox/",
        connection.salesforce_sandbox,
        name="salesforce_sandbox",
    ),
    path(
        "connection/salesforce/sandbox/confirm/",
        connection.salesforce_sandbox_confirm,
        name="salesforce_sandbox_confirm",
    ),
    path("connection/sync/", connection.sync_switch, name="sync_switch"),
    path("connection/disconnect/", connection.disconnect, name="disconnect"),
    path(
        "connection/suspension-email/",
        notifications_views.suspension_email,
        name="suspension_email",
    ),
    path("audit/", pages.audit_log, name="audit_log"),
    # Import from Salesforce
    path("import/", imports_views.imports_page, name="imports"),
    path("import/start/", imports_views.import_start_view, name="import_start"),
    path("import/<int:job_id>/", imports_views.import_progress_partial, name="import_progress"),
    path("import/<int:job_id>/cancel/", imports_views.import_cancel_view, name="import_cancel"),
    path("import/<int:job_id>/resume/", imports_views.import_resume_view, name="import_resume"),
    path("sync-now/", actions.sync_now, name="sync_now"),
    path("integration/clear-suspension/", actions.clear_suspension, name="clear_suspension"),
    # Accounts, languages, the Django admin
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    # REST API
    path("api/v1/", include("integration_admin.api.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    # Swagger UI from drf-spectacular-sidecar's static files; its script is a separate file,
    # so the Content-Security-Policy needs no inline script. (Redoc is left out: its page
    # loads web fonts from a CDN.)
    path("api/docs/", DocsView.as_view(url_name="schema"), name="api_docs"),
]
