from django.apps import AppConfig


class IntegrationAdminConfig(AppConfig):
    name = "integration_admin"
    verbose_name = "Integration admin"

    def ready(self) -> None:
        # Sends the suspension email when the engine announces a suspension.
        from . import notifications  # noqa: F401
