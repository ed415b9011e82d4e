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
    # str, not slug: custom object pairs are named "custom:<n>"
    path("settings/<str:object_name>/", views.ObjectSettingsView.as_view(), name="object_settings"),
    path("mappings/", views.MappingListView.as_view(), name="mappings"),
    path("mappings/<int:mapping_id>/", views.MappingDetailView.as_view(), name="mapping"),
    path("errors/", views.ErrorListView.as_view(), name="errors"),
    path("errors/summary/", views.ErrorSummaryView.as_view(), name="error_summary"),
    path("errors/resync/", views.ErrorResyncView.as_view(), name="error_resync"),
    path("errors/export/", views.ErrorExportView.as_view(), name="error_export"),
    path("runs/", views.RunListView.as_view(), name="runs"),
    path("audit/", views.AuditListView.as_view(), name="audit"),
    # Anything else (e.g. mappings/abc/) answers a JSON 404; paths without the trailing slash
    # don't match, so they're still redirected to it first.
    re_path(r"^(?:.*/)?$", views.NoSuchEndpointView.as_view()),
]
