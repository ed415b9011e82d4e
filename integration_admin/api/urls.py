from django.urls import path

from . import views

app_name = "api"

urlpatterns = [
    path("integration/", views.IntegrationView.as_view(), name="integration"),
]
