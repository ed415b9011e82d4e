"""The auto-approving OAuth 2.0 web-server flow, refresh, revoke, userinfo and token expiry."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import SalesforceExpiredSession

from emulators.testing import salesforce_client, salesforce_session

REDIRECT = "https://app.example.com/oauth/callback"


@pytest.fixture
def http(emulators):
    session = salesforce_session(emulators.ca_path)
    yield session
    session.close()


def authorize(http, base: str, client_id: str = "my-client", state: str = "xyz") -> str:
    response = http.get(
        f"{base}/services/oauth2/authorize",
        allow_redirects=False,
        params={
            "response_type": "code",
            "client_id": client_id,
            "redirect_uri": REDIRECT,
            "state": state,
        },
    )
    assert response.status_code == 302
    location = urlsplit(response.headers["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == REDIRECT
    query = parse_qs(location.query)
    assert query["state"] == [state]
    return query["code"][0]


def exchange(http, base: str, code: str, client_id: str = "my-client"):
    return http.post(
        f"{base}/services/oauth2/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT,
            "client_id": client_id,
            "client_secret": "shh",
        },
    )


def test_full_flow_gives_a_working_session(http, emulators, app):
    base = emulators.salesforce.url
    token = exchange(http, base, authorize(http, base))
    assert token.status_code == 200
    body = token.json()
    assert set(body) == {
        "access_token",
        "refresh_token",
        "instance_url",
        "id",
        "token_type",
        "issued_at",
        "signature",
        "scope",
    }
    assert body["instance_url"] == base and body["token_type"] == "Bearer"
    sf = Salesforce(
        instance_url=body["instance_url"],
        session_id=body["access_token"],
        session=salesforce_session(emulators.ca_path),
    )
    created = sf.Contact.create({"LastName": "Via OAuth"})
    record = sf.Contact.get(created["id"])
    user = app.org.store.get("User", record["CreatedById"])
    assert user["Name"] == "Integration User"
    info = http.get(
        f"{base}/services/oauth2/userinfo",
        headers={"Authorization": f"Bearer {body['access_token']}"},
    ).json()
    assert info["user_id"] == user["Id"] and info["organization_id"] == app.org.org_id
    assert info["name"] == "Integration User" and info["email"] == user["Email"]
    identity = http.get(body["id"], headers={"Authorization": f"Bearer {body['access_token']}"})
    assert identity.json()["user_id"] == user["Id"]


def test_codes_are_single_use_and_checked(http, emulators):
    base = emulators.salesforce.url
    code = authorize(http, base)
    assert exchange(http, base, code, client_id="other").status_code == 400
    code = authorize(http, base)
    assert exchange(http, base, code).status_code == 200
    again = exchange(http, base, code)
    assert again.status_code == 400
    assert again.json()["error"] == "invalid_grant"


def test_refresh_and_one_user_per_client(http, emulators, app):
    base = emulators.salesforce.url
    first = exchange(http, base, authorize(http, base)).json()
    refreshed = http.post(
        f"{base}/services/oauth2/token",
        data={
            "grant_type": "refresh_token",
            "refresh_token": first["refresh_token"],
            "client_id": "my-client",
            "client_secret": "shh",
        },
    )
    assert refreshed.status_code == 200
    body = refreshed.json()
    assert "refresh_token" not in body and body["access_token"] != first["access_token"]
    assert app.user_for_token(body["access_token"]) == app.user_for_token(first["access_token"])
    other = exchange(http, base, authorize(http, base, "second-client"), "second-client").json()
    assert app.user_for_token(other["access_token"]) != app.user_for_token(body["access_token"])
    bad = http.post(
        f"{base}/services/oauth2/token",
        data={"grant_type": "refresh_token", "refresh_token": "nope", "client_id": "my-client"},
    )
    assert bad.status_code == 400
    assert bad.json() == {
        "error": "invalid_grant",
        "error_description": "expired access/refresh token",
    }


def test_revoke(http, emulators):
    base = emulators.salesforce.url
    grant = exchange(http, base, authorize(http, base)).json()
    assert (
        http.post(
            f"{base}/services/oauth2/revoke", data={"token": grant["refresh_token"]}
        ).status_code
        == 200
    )
    sf = Salesforce(
        instance_url=base,
        session_id=grant["access_token"],
        session=salesforce_session(emulators.ca_path),
    )
    with pytest.raises(SalesforceExpiredSession):
        sf.limits()
    refresh = http.post(
        f"{base}/services/oauth2/token",
        data={"grant_type": "refresh_token", "refresh_token": grant["refresh_token"]},
    )
    assert refresh.status_code == 400


def test_expire_token_affects_only_that_token(emulators, app):
    sf = salesforce_client(emulators, token="token-a")
    other = salesforce_client(emulators, token="token-b")
    sf.limits()
    app.run_action("expire_token", token="token-a")
    with pytest.raises(SalesforceExpiredSession) as caught:
        sf.query("SELECT Id FROM Lead")
    assert caught.value.content == [
        {"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}
    ]
    assert other.query("SELECT Id FROM Lead")["done"] is True


def test_issue_token_action(emulators, app):
    grant = app.run_action("issue_token", client_id="test-client", client_secret="s")
    sf = salesforce_client(emulators, token=grant["access_token"])
    assert sf.limits()["DailyApiRequests"]["Max"] == 15000
    assert grant["instance_url"] == emulators.salesforce.url


def test_bad_token_requests(http, emulators):
    base = emulators.salesforce.url
    unsupported = http.post(f"{base}/services/oauth2/token", data={"grant_type": "password"})
    assert unsupported.status_code == 400
    assert unsupported.json()["error"] == "unsupported_grant_type"
    assert (
        http.get(
            f"{base}/services/oauth2/userinfo", headers={"Authorization": "Bearer unknown"}
        ).status_code
        == 403
    )
