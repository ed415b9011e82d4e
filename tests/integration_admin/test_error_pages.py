"""The 404 page in the site's look (header, tabs for a logged-in person, a way back to Sync
health) and a 500 page that renders without the database or the context processors."""

from __future__ import annotations

import pytest
from django.test import RequestFactory
from django.utils import translation
from django.views.defaults import server_error

pytestmark = pytest.mark.django_db


def test_an_unknown_address_gets_the_sites_404_page(client):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    html = response.content.decode()
    assert "<title>Page not found · HubSpot ⇄ Salesforce</title>" in html
    assert '<h1 class="page__title">Page not found</h1>' in html
    assert "There's no page at this address." in html
    assert '<a class="button" href="/sync-health/">Back to Sync health</a>' in html
    assert 'href="/static/css/app.css"' in html and 'src="/static/js/app.js"' in html
    assert "<script>" not in html  # the CSP allows no inline script


def test_a_logged_in_person_gets_the_404_page_with_the_header_and_tabs(logged_in, connected):
    for path in ("/no-such-page/", "/records/planets/hubspot:1/"):  # a URL; a view's Http404
        response = logged_in.get(path)
        assert response.status_code == 404, path
        html = response.content.decode()
        assert "Page not found" in html and 'class="topbar__user"' in html
        assert 'class="tabs"' in html and 'id="statusbar"' in html


def test_the_404_page_speaks_the_chosen_language(logged_in, connected):
    logged_in.cookies["django_language"] = "nl"
    html = logged_in.get("/no-such-page/").content.decode()
    assert '<html lang="nl">' in html and "Terug naar" in html  # "Back to Sync health"


def test_the_500_page_needs_no_database_and_no_context_processors(django_assert_num_queries):
    request = RequestFactory().get("/sync-health/")
    with django_assert_num_queries(0), translation.override("en"):
        response = server_error(request)
    assert response.status_code == 500
    html = response.content.decode()
    assert "<title>Server error · HubSpot ⇄ Salesforce</title>" in html
    assert '<h1 class="page__title">Something went wrong</h1>' in html
    assert 'href="/static/css/app.css"' in html  # the same look
    assert '<a class="button" href="/sync-health/">Back to Sync health</a>' in html
    assert "<script" not in html
    assert "topbar__user" not in html  # nothing about the person: there is no request context


def test_the_500_page_is_in_the_active_language():
    with translation.override("nl"):
        html = server_error(RequestFactory().get("/")).content.decode()
    assert '<html lang="nl">' in html and "Terug naar" in html  # "Back to Sync health"
