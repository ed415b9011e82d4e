from django.apps import AppConfig


class IntegrationAdminConfig(AppConfig):
    name = "integration_admin"
    verbose_name = "Integration admin"
