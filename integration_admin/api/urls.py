from django.urls import path, re_path

from . import views

app_name = "api"

urlpatterns = [
    path("integration/", views.IntegrationView.as_view(), name="integration"),
    path(
        "integration/clear-suspension/",
        views.ClearSuspensionView.as_view(),
        name="clear_suspension",
    ),
    path("integration/sync/", views.SyncSwitchView.as_view(), name="sync_switch"),
    path("integration/disconnect/", views.DisconnectView.as_view(), name="disconnect"),
    path("sync-now/", views.SyncNowView.as_view(), name="sync_now"),
    # str, not slug: custom object pairs are named "custom:<n>"
    path("settings/<str:object_name>/", views.ObjectSettingsView.as_view(), name="object_settings"),
    path("mappings/", views.MappingListView.as_view(), name="mappings"),
    path("mappings/refresh/", views.SchemaRefreshView.as_view(), name="schema_refresh"),
    path("mappings/<int:mapping_id>/", views.MappingDetailView.as_view(), name="mapping"),
    path("errors/", views.ErrorListView.as_view(), name="errors"),
    path("errors/summary/", views.ErrorSummaryView.as_view(), name="error_summary"),
    path("errors/resync/", views.ErrorResyncView.as_view(), name="error_resync"),
    path("errors/export/", views.ErrorExportView.as_view(), name="error_export"),
    path("errors/views/", views.ErrorViewCreateView.as_view(), name="error_views"),
    path(
        "records/<str:object_name>/<str:record_key>/resync/",
        views.RecordResyncView.as_view(),
        name="record_resync",
    ),
    path("contacts/sync/", views.ContactSyncView.as_view(), name="contact_sync"),
    path("companies/sync/", views.CompanySyncView.as_view(), name="company_sync"),
    path("lists/resync/", views.ListResyncView.as_view(), name="list_resync"),
    path("lists/resync/<int:job_id>/", views.ListResyncJobView.as_view(), name="list_resync_job"),
    path("imports/", views.ImportListView.as_view(), name="imports"),
    path("imports/targets/", views.ImportTargetListView.as_view(), name="import_targets"),
    path("imports/<int:job_id>/", views.ImportDetailView.as_view(), name="import"),
    path("imports/<int:job_id>/cancel/", views.ImportCancelView.as_view(), name="import_cancel"),
    path("imports/<int:job_id>/resume/", views.ImportResumeView.as_view(), name="import_resume"),
    path("runs/", views.RunListView.as_view(), name="runs"),
    path("audit/", views.AuditListView.as_view(), name="audit"),
    # Anything else (e.g. mappings/abc/) answers a JSON 404; paths without the trailing slash
    # don't match, so they're still redirected to it first.
    re_path(r"^(?:.*/)?$", views.NoSuchEndpointView.as_view()),
]
