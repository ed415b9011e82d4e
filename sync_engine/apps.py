from django.apps import AppConfig


class SyncEngineConfig(AppConfig):
    name = "sync_engine"
    verbose_name = "Sync engine"
    default_auto_field = "django.db.models.BigAutoField"
