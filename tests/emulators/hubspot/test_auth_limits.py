"""Authentication (private tokens and OAuth), rate limits, 429s and injected faults."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from hubspot.crm.contacts import ApiException
from hubspot.crm.contacts.exceptions import ServiceException, UnauthorizedException
from hubspot.oauth import AccessTokenInfoResponse, TokenResponseIF
from hubspot.oauth import ApiException as OAuthApiException

from emulators.testing import hubspot_client

from .conftest import control, error_of

REDIRECT = "http://localhost:8000/oauth/callback"


def authorize(base_url, client_id="client-1"):
    response = requests.get(
        f"{base_url}/oauth/authorize",
        allow_redirects=False,
        timeout=10,
        params={
            "client_id": client_id,
            "redirect_uri": REDIRECT,
            "scope": "oauth crm.objects.contacts.read",
            "state": "s1",
        },
    )
    assert response.status_code == 302
    location = urlsplit(response.headers["Location"])
    query = parse_qs(location.query)
    assert f"{location.scheme}://{location.netloc}{location.path}" == REDIRECT
    assert query["state"] == ["s1"]
    return query["code"][0]


def exchange(hs, code, client_id="client-1"):
    return hs.oauth.tokens_api.create(
        grant_type="authorization_code",
        code=code,
        redirect_uri=REDIRECT,
        client_id=client_id,
        client_secret="secret",
    )


def headers_of(client):
    _data, status, headers = client.crm.contacts.basic_api.get_page_with_http_info()
    assert status == 200
    return headers


def test_missing_token_is_401_invalid_authentication(emulators):
    anonymous = hubspot_client(emulators, token=None)
    with pytest.raises(UnauthorizedException) as caught:
        anonymous.crm.contacts.basic_api.get_page()
    assert caught.value.status == 401
    assert error_of(caught.value)["category"] == "INVALID_AUTHENTICATION"


def test_unknown_tokens_can_be_refused(emulators, hs, app):
    headers_of(hs)  # known from now on
    app.run_action("set_auto_create_users", enabled=False)
    headers_of(hs)
    stranger = hubspot_client(emulators, token="never-seen")
    with pytest.raises(UnauthorizedException) as caught:
        stranger.crm.contacts.basic_api.get_page()
    assert error_of(caught.value)["category"] == "INVALID_AUTHENTICATION"


def test_expire_token_action_over_http(hs, base_url):
    headers_of(hs)
    assert control(base_url, "expire_token", token="integration-token").status_code == 200
    with pytest.raises(UnauthorizedException) as caught:
        hs.crm.contacts.basic_api.get_page()
    assert error_of(caught.value)["category"] == "EXPIRED_AUTHENTICATION"


def test_oauth_authorization_code_and_refresh(emulators, hs, app, base_url):
    tokens = exchange(hs, authorize(base_url))
    assert isinstance(tokens, TokenResponseIF)
    assert tokens.token_type == "bearer" and tokens.expires_in == 1800
    user = hubspot_client(emulators, token=tokens.access_token)
    headers = headers_of(user)
    assert "X-HubSpot-RateLimit-Max" in headers
    assert "X-HubSpot-RateLimit-Daily" not in headers  # public (OAuth) apps see no daily pair
    info = hs.oauth.access_tokens_api.get(tokens.access_token)
    assert isinstance(info, AccessTokenInfoResponse)
    assert info.hub_id == app.state.portal_id and "oauth" in info.scopes
    app.clock.advance(1801)
    with pytest.raises(UnauthorizedException) as caught:
        user.crm.contacts.basic_api.get_page()
    assert error_of(caught.value)["category"] == "EXPIRED_AUTHENTICATION"
    used = app.budget_state()["usage"]["oauth-app:client-1"]["daily_used"]
    refreshed = hs.oauth.tokens_api.create(
        grant_type="refresh_token",
        client_id="client-1",
        client_secret="secret",
        refresh_token=tokens.refresh_token,
    )
    assert refreshed.access_token != tokens.access_token
    assert refreshed.refresh_token == tokens.refresh_token
    headers_of(hubspot_client(emulators, token=refreshed.access_token))
    # The allowance belongs to the app, so a refreshed token keeps counting where it was.
    assert app.budget_state()["usage"]["oauth-app:client-1"]["daily_used"] == used + 1


def test_oauth_errors(hs, base_url):
    with pytest.raises(OAuthApiException) as caught:
        exchange(hs, "not-a-code")
    assert caught.value.status == 400 and error_of(caught.value)["status"] == "BAD_AUTH_CODE"
    code = authorize(base_url)
    exchange(hs, code)
    with pytest.raises(OAuthApiException):
        exchange(hs, code)  # codes are single-use
    with pytest.raises(OAuthApiException) as caught:
        hs.oauth.tokens_api.create(
            grant_type="refresh_token",
            client_id="client-1",
            client_secret="secret",
            refresh_token="nope",
        )
    assert error_of(caught.value)["status"] == "BAD_REFRESH_TOKEN"


def test_account_details(hs, app):
    details = hs.api_request({"method": "GET", "path": "/account-info/v3/details"}).json()
    assert details["portalId"] == app.state.portal_id
    assert {"timeZone", "companyCurrency", "uiDomain"} <= set(details)


def test_the_account_time_zone_can_be_set_and_its_offset_follows(hs, app):
    app.run_action("set_time_zone", time_zone="Asia/Kolkata")  # no daylight saving
    details = hs.api_request({"method": "GET", "path": "/account-info/v3/details"}).json()
    assert (details["timeZone"], details["utcOffset"]) == ("Asia/Kolkata", "+05:30")
    assert details["utcOffsetMilliseconds"] == 19_800_000
    with pytest.raises(ValueError, match="unknown time zone"):
        app.run_action("set_time_zone", time_zone="Mars/Olympus_Mons")


def test_rate_limit_headers_on_every_response(hs):
    first, second = headers_of(hs), headers_of(hs)
    assert first["X-HubSpot-RateLimit-Daily"] == "650000"
    assert first["X-HubSpot-RateLimit-Interval-Milliseconds"] == "10000"
    assert first["X-HubSpot-RateLimit-Max"] == "190"
    assert (
        int(second["X-HubSpot-RateLimit-Remaining"])
        == int(first["X-HubSpot-RateLimit-Remaining"]) - 1
    )
    assert int(second["X-HubSpot-RateLimit-Daily-Remaining"]) == 649998
    with pytest.raises(ApiException) as caught:
        hs.crm.contacts.basic_api.create({"properties": {"email": "bad"}})
    assert caught.value.headers["X-HubSpot-RateLimit-Daily-Remaining"] == "649997"


def test_ten_second_window_429(hs, app):
    app.configure_budget(per_ten_seconds=3)
    app.clock.freeze()
    for i in range(3):
        hs.crm.contacts.basic_api.create({"properties": {"email": f"r{i}@x.com"}})
    with pytest.raises(ApiException) as caught:
        hs.crm.contacts.basic_api.create({"properties": {"email": "r3@x.com"}})
    error = caught.value
    assert error.status == 429
    body = error_of(error)
    assert body == {
        **body,
        "status": "error",
        "errorType": "RATE_LIMIT",
        "policyName": "TEN_SECONDLY_ROLLING",
        "message": "You have reached your ten_secondly_rolling limit.",
    }
    assert body["correlationId"] and body["requestId"]
    assert error.headers["X-HubSpot-RateLimit-Remaining"] == "0"
    assert "Retry-After" not in error.headers
    app.clock.advance(10)
    hs.crm.contacts.basic_api.create({"properties": {"email": "r3@x.com"}})


def test_retry_after_makes_urllib3_retry_gets_but_not_posts(hs, app):
    app.configure_budget(per_ten_seconds=1, retry_after=0)
    app.clock.freeze()
    headers_of(hs)
    app.ledger.clear()
    with pytest.raises(ApiException) as caught:
        hs.crm.contacts.basic_api.get_page()
    assert caught.value.status == 429 and caught.value.headers["Retry-After"] == "0"
    assert [e.status for e in app.ledger.entries()] == [429] * 4  # 1 try + 3 urllib3 retries
    app.ledger.clear()
    with pytest.raises(ApiException):
        hs.crm.contacts.basic_api.create({"properties": {"email": "p@x.com"}})
    assert len(app.ledger.entries()) == 1  # POST is never retried


def test_daily_limit(hs, app, base_url):
    budget = requests.post(f"{base_url}/__emulator__/budget", json={"daily": 2}, timeout=10)
    assert budget.json()["daily"] == 2
    headers_of(hs)
    assert headers_of(hs)["X-HubSpot-RateLimit-Daily-Remaining"] == "0"
    with pytest.raises(ApiException) as caught:
        hs.crm.contacts.basic_api.get_page()
    assert error_of(caught.value)["policyName"] == "DAILY"
    state = requests.get(f"{base_url}/__emulator__/budget", timeout=10).json()
    assert state["usage"]["integration-token"]["daily_used"] == 2  # refused calls not counted


def test_tokens_have_separate_windows(emulators, hs, app):
    app.configure_budget(per_ten_seconds=1)
    app.clock.freeze()
    headers_of(hs)
    headers_of(hubspot_client(emulators, token="other-app"))


def test_injected_faults_use_real_bodies(hs, app, base_url):
    requests.post(
        f"{base_url}/__emulator__/faults",
        timeout=10,
        json={
            "path": "/crm/v3/objects/contacts$",
            "method": "POST",
            "error_code": "SERVER_ERROR",
            "times": 1,
        },
    )
    with pytest.raises(ServiceException) as caught:
        hs.crm.contacts.basic_api.create({"properties": {"email": "f@x.com"}})
    assert caught.value.status == 502 and "<html>" in caught.value.body
    hs.crm.contacts.basic_api.create({"properties": {"email": "f@x.com"}})
    app.faults.add(path="/crm/v3/objects/contacts", error_code="EXPIRED_AUTHENTICATION", times=1)
    with pytest.raises(UnauthorizedException) as caught:
        hs.crm.contacts.basic_api.get_page()
    assert error_of(caught.value)["category"] == "EXPIRED_AUTHENTICATION"
    app.faults.add(path="/crm/v3/objects/contacts", error_code="RATE_LIMIT", times=1)
    with pytest.raises(ApiException) as caught:
        hs.crm.contacts.basic_api.create({"properties": {"email": "g@x.com"}})
    assert caught.value.status == 429
    assert error_of(caught.value)["policyName"] == "TEN_SECONDLY_ROLLING"


def test_apply_then_fail_commits_the_write(hs, app):
    app.faults.add(
        path="/batch/create", error_code="SERVER_ERROR", status=504, apply_then_fail=True, times=1
    )
    with pytest.raises(ServiceException) as caught:
        hs.crm.contacts.batch_api.create({"inputs": [{"properties": {"email": "once@x.com"}}]})
    assert caught.value.status == 504
    got = hs.crm.contacts.basic_api.get_by_id("once@x.com", id_property="email")
    assert got.properties["email"] == "once@x.com"
