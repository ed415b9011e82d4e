"""Every page and endpoint needs a login: walk the URL conf, so new URLs are covered too."""

from __future__ import annotations

import re

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

# The login pages themselves (logout only accepts POST and logs nobody in) and the language
# switcher, which the login page offers too.
PUBLIC = {"/login/", "/logout/", "/admin/login/", "/admin/logout/", "/i18n/setlang/"}
# A value for each path converter, by its class's name ("str" is StringConverter).
SAMPLE_VALUES = {
    "int": "1",
    "string": "x",
    "slug": "x",
    "uuid": "00000000-0000-0000-0000-000000000000",
}


def concrete_paths(patterns=None, prefix="") -> list[str]:
    paths: list[str] = []
    for entry in patterns if patterns is not None else get_resolver().url_patterns:
        route = str(entry.pattern)
        if route.startswith("^") or "(?P" in route:
            continue  # regex routes (admin internals): covered by admin's own login
        for name, converter in getattr(entry.pattern, "converters", {}).items():
            kind = type(converter).__name__.replace("Converter", "").lower()
            route = re.sub(rf"<(?:\w+:)?{name}>", SAMPLE_VALUES.get(kind, "x"), route)
        if isinstance(entry, URLResolver):
            paths += concrete_paths(entry.url_patterns, prefix + route)
        elif isinstance(entry, URLPattern):
            paths.append("/" + prefix + route)
    return sorted(set(paths))


PATHS = [p for p in concrete_paths() if p not in PUBLIC]


def test_the_walk_finds_the_pages():
    assert {"/", "/api/v1/integration/", "/api/schema/", "/sync-health/"} <= set(PATHS)
    assert {"/records/x/x/resync/", "/api/v1/settings/x/", "/custom-objects/1/remove/"} <= set(
        PATHS
    )
    assert not [path for path in PATHS if "<" in path or ">" in path]


@pytest.mark.django_db
@pytest.mark.parametrize("path", PATHS)
def test_anonymous_is_turned_away(client, path):
    response = client.get(path)
    if path.startswith("/api/"):
        assert response.status_code in (401, 403), path
    else:
        assert response.status_code == 302, path
        assert "login" in response["Location"], path


@pytest.mark.django_db
def test_login_page_is_public_and_redirects_back(client, user):
    response = client.get("/login/?next=/sync-health/")
    assert response.status_code == 200
    assert b'name="next" value="/sync-health/"' in response.content
    response = client.post(
        "/login/",
        {"username": "viewer", "password": "viewer-pass-123", "next": "/sync-health/"},
    )
    assert response.status_code == 302 and response["Location"] == "/sync-health/"


@pytest.mark.django_db
def test_wrong_password_is_refused(client, user):
    response = client.post("/login/", {"username": "viewer", "password": "nope"})
    assert response.status_code == 200
    assert b"didn't match" in response.content


@pytest.mark.django_db
def test_logout_needs_post_and_logs_out(logged_in):
    assert logged_in.get("/sync-health/").status_code == 200
    assert logged_in.get("/logout/").status_code == 405
    assert logged_in.post("/logout/").status_code == 302
    response = logged_in.get("/sync-health/")
    assert response.status_code == 302 and "login" in response["Location"]
