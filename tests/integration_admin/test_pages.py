"""The home page (Connection tab), the header and the placeholder tabs."""

from __future__ import annotations

import pytest

from sync_engine.models import Integration
from tests.sync_engine.factories import (
    ApiCallFactory,
    HubSpotConnectionFactory,
    IntegrationFactory,
    SalesforceConnectionFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def connected():
    integration = IntegrationFactory(
        name="Acme ⇄ Acme", salesforce_api_allocation=5000, salesforce_api_limit=15000
    )
    SalesforceConnectionFactory(
        integration=integration,
        instance_url="https://acme.my.salesforce.com",
        user_name="Integration User",
        username="integration@acme.example",
    )
    HubSpotConnectionFactory(integration=integration, base_url="https://api.hubapi.com")
    return integration


def test_home_before_connecting(logged_in):
    response = logged_in.get("/")
    assert response.status_code == 200
    assert b"Not connected yet" in response.content
    assert b"manage.py connect" in response.content


def test_home_shows_the_connection_and_api_use(logged_in, connected):
    ApiCallFactory.create_batch(7, integration=connected)
    ApiCallFactory(integration=connected, system="hubspot")
    html = logged_in.get("/").content.decode()
    assert "https://acme.my.salesforce.com" in html
    assert "Integration User" in html and "integration@acme.example" in html
    assert "https://api.hubapi.com" in html
    assert "Limited by Salesforce" in html and "15,000" in html
    assert "Allocated to HubSpot" in html and "5,000" in html
    assert "API calls used (last 24 h)" in html
    assert '<div class="stat__value">7</div>' in html
    # Header: state and both systems.
    assert "pill--connected" in html
    assert "acme.my.salesforce.com" in html and "api.hubapi.com" in html
    # htmx is loaded and gets the CSRF token.
    assert "js/htmx.min.js" in html
    assert 'hx-headers=\'{"X-CSRFToken": "' in html


def test_api_usage_partial(logged_in, connected):
    html = logged_in.get("/partials/api-usage/").content.decode()
    assert html.lstrip().startswith('<section class="card" id="api-usage"')
    assert "<html" not in html


def test_remote_text_is_escaped(logged_in, connected):
    sf = connected.salesforce_connection
    sf.user_name = "<script>alert(1)</script>"
    sf.save()
    Integration.objects.filter(pk=connected.pk).update(
        state="suspended", state_reason="<b>org</b> API access disabled"
    )
    html = logged_in.get("/").content.decode()
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;b&gt;org&lt;/b&gt; API access disabled" in html


@pytest.mark.parametrize(
    ("path", "label"),
    [
        ("/sync-health/", "Sync health"),
        ("/discover/", "Discover features"),
        ("/contacts/", "Contacts"),
        ("/companies/", "Companies"),
        ("/deals/", "Deals"),
        ("/tickets/", "Tickets"),
        ("/activities/", "Activities"),
        ("/custom-objects/", "Custom objects"),
    ],
)
def test_tabs_not_built_yet_say_so(logged_in, path, label):
    html = logged_in.get(path).content.decode()
    assert f'<h1 class="page__title">{label}</h1>' in html
    assert "Not built yet" in html
    assert 'aria-current="page"' in html


def test_tab_bar_in_order(logged_in):
    html = logged_in.get("/").content.decode()
    labels = [
        "Sync health", "Discover features", "Contacts", "Companies", "Deals", "Tickets",
        "Activities", "Custom objects", "Connection",
    ]  # fmt: skip
    positions = [html.index(f">{label}</a>") for label in labels]
    assert positions == sorted(positions)


def test_static_files_are_served(logged_in):
    from django.test import Client

    for path in ("/static/css/app.css", "/static/js/htmx.min.js"):
        response = Client().get(path)
        assert response.status_code == 200, path
