from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView

from . import views
from .navigation import TABS

urlpatterns = [
    path("", views.home, name="home"),
    path("partials/api-usage/", views.api_usage_partial, name="api_usage_partial"),
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
    path("api/v1/", include("integration_admin.api.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
]

# Tabs not built yet; each gets its real view (and drops out of this loop) as it lands.
urlpatterns += [
    path(f"{tab.slug}/", views.tab_placeholder, {"tab": tab.slug}, name=tab.url_name)
    for tab in TABS
    if not tab.built
]
