"""The HubSpot connector against the HubSpot emulator, through hubspot-api-client."""

from __future__ import annotations

import time
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from sync_engine.connectors.hubspot import HubSpotConnector
from sync_engine.errors import AuthExpired, Conflict, NotFound, RateLimited, TransientError
from sync_engine.models import ApiCall, HubSpotConnection, System

pytestmark = pytest.mark.django_db


def our_calls(integration):
    return list(
        ApiCall.objects.filter(integration=integration, system=System.HUBSPOT).order_by("id")
    )


def their_calls(emulators):
    return emulators.hubspot.app.ledger.entries()


def assert_ledgers_agree(integration, emulators):
    ours, theirs = our_calls(integration), their_calls(emulators)
    assert len(ours) == len(theirs), (
        [c.operation for c in ours],
        [(e.method, e.path) for e in theirs],
    )
    assert [c.status for c in ours] == [e.status for e in theirs]


def test_owners_page(hubspot, emulators):
    page = hubspot.owners_page(limit=1)
    assert page.results is not None
    assert [c.operation for c in our_calls(hubspot.integration)] == ["owners.list"]
    assert_ledgers_agree(hubspot.integration, emulators)


def test_batches_and_search_are_counted_once_each(hubspot, emulators):
    inputs = [
        {"properties": {"email": f"c{i}@example.com", "firstname": f"C{i}"}} for i in range(150)
    ]
    created = hubspot.batch_create(object_type="contacts", inputs=inputs)
    assert len(created.results) == 150 and not created.errors
    ids = [r.id for r in created.results]

    updated = hubspot.batch_update(
        object_type="contacts",
        inputs=[{"id": i, "properties": {"lastname": "Batch"}} for i in ids[:10]],
    )
    assert len(updated.results) == 10
    read = hubspot.batch_read(object_type="contacts", ids=ids[:5], properties=["lastname"])
    assert {r.properties["lastname"] for r in read.results} == {"Batch"}

    first = hubspot.search(
        object_type="contacts",
        filter_groups=[
            {"filters": [{"propertyName": "lastname", "operator": "EQ", "value": "Batch"}]}
        ],
        properties=["email"],
        limit=100,
    )
    assert first.total == 10

    calls = our_calls(hubspot.integration)
    assert [(c.operation, c.records) for c in calls] == [
        ("contacts.batch.create", 100),
        ("contacts.batch.create", 50),
        ("contacts.batch.update", 10),
        ("contacts.batch.read", 5),
        ("contacts.search", 10),
    ]
    assert_ledgers_agree(hubspot.integration, emulators)


def test_listing_pages(hubspot, emulators):
    hubspot.batch_create(
        object_type="companies",
        inputs=[{"properties": {"name": f"Co {i}", "domain": f"co{i}.example"}} for i in range(25)],
    )
    pages = list(hubspot.objects_pages(object_type="companies", limit=10, properties=["name"]))
    assert [len(p.results) for p in pages] == [10, 10, 5]
    assert_ledgers_agree(hubspot.integration, emulators)


def test_properties_and_pipelines(hubspot):
    names = {p.name for p in hubspot.properties_get_all(object_type="contacts")}
    assert {"email", "firstname", "lastname"} <= names
    pipelines = hubspot.pipelines_get_all(object_type="deals")
    assert pipelines and pipelines[0].stages


def test_duplicate_email_is_a_conflict(hubspot):
    hubspot.object_create(object_type="contacts", properties={"email": "dup@example.com"})
    with pytest.raises(Conflict) as caught:
        hubspot.object_create(object_type="contacts", properties={"email": "dup@example.com"})
    assert caught.value.status == 409


def test_missing_object(hubspot):
    with pytest.raises(NotFound):
        hubspot.object_get(object_type="contacts", object_id="999999999")


def test_rate_limit_is_not_retried_behind_our_back(hubspot, emulators):
    emulators.hubspot.app.faults.add(
        path="/crm/v3/owners", status=429, headers={"Retry-After": "7"}, times=5
    )
    with pytest.raises(RateLimited) as caught:
        hubspot.owners_page()
    assert caught.value.retry_after == 7.0
    assert len(their_calls(emulators)) == 1  # urllib3 did not retry the GET
    assert_ledgers_agree(hubspot.integration, emulators)


def test_searches_keep_to_hubspots_five_a_second(hubspot, emulators, settings):
    # A cycle over every pair sends nine searches at once; HubSpot admits five a second.
    settings.HUBSPOT_SEARCHES_PER_SECOND = 5
    emulators.hubspot.app.configure_budget(search_per_second=5)
    started = time.monotonic()
    for _ in range(9):
        hubspot.search(object_type="contacts", limit=1)
    assert time.monotonic() - started >= 1.0  # the sixth waited for the first to age out
    assert [c.status for c in our_calls(hubspot.integration)] == [200] * 9
    assert_ledgers_agree(hubspot.integration, emulators)


def test_calls_keep_within_the_burst_limit_hubspot_announces(hubspot, emulators):
    # An account allowing 10 calls per ten seconds: the first answer announces it, and the
    # calls after it wait for room (keeping one for the account's other callers) instead of
    # meeting a 429.
    emulators.hubspot.app.configure_budget(per_ten_seconds=10)
    started = time.monotonic()
    for _ in range(11):
        hubspot.owners_page(limit=1)
    assert time.monotonic() - started >= 10.0
    assert [c.status for c in our_calls(hubspot.integration)] == [200] * 11
    assert_ledgers_agree(hubspot.integration, emulators)


def test_a_search_limit_429_is_retried_a_second_later_not_ten(hubspot, emulators):
    # Another process's searches used the second up: HubSpot says SECONDLY, without a
    # Retry-After, and the ten-second interval header doesn't apply to it.
    emulators.hubspot.app.configure_budget(search_per_second=2)
    with pytest.raises(RateLimited) as caught:
        for _ in range(3):
            hubspot.search(object_type="contacts", limit=1)
    assert caught.value.retry_after == 1.0
    assert [c.status for c in our_calls(hubspot.integration)] == [200, 200, 429]


def test_server_error_is_transient(hubspot, emulators):
    emulators.hubspot.app.faults.add(path="/search", status=502, body="<html>bad gateway</html>")
    with pytest.raises(TransientError) as caught:
        hubspot.search(object_type="contacts")
    assert caught.value.status == 502


def test_dropped_connection_is_transient(hubspot, emulators):
    emulators.hubspot.app.faults.add(path="/crm/v3/owners", drop=True)
    with pytest.raises(TransientError):
        hubspot.owners_page()
    (call,) = our_calls(hubspot.integration)
    assert call.status == 0


def oauth_grant(emulators, client_id: str, client_secret: str) -> dict:
    """Install the app the way a person would: authorize, then exchange the code."""
    base, redirect = emulators.hubspot.url, "http://localhost/callback"
    with requests.Session() as http:
        http.trust_env = False
        approval = http.get(
            f"{base}/oauth/authorize",
            params={"client_id": client_id, "redirect_uri": redirect},
            allow_redirects=False,
        )
        code = parse_qs(urlsplit(approval.headers["Location"]).query)["code"][0]
        tokens = http.post(
            f"{base}/oauth/v1/token",
            data={
                "grant_type": "authorization_code",
                "client_id": client_id,
                "client_secret": client_secret,
                "redirect_uri": redirect,
                "code": code,
            },
        )
    tokens.raise_for_status()
    emulators.hubspot.app.ledger.clear()  # the install is not the integration's traffic
    return tokens.json()


def test_account_details(hubspot, emulators):
    details = hubspot.account_details()
    assert details["portalId"]
    assert [c.operation for c in our_calls(hubspot.integration)] == ["account.details"]
    assert_ledgers_agree(hubspot.integration, emulators)


def test_expired_token_is_refreshed(hs_connection, emulators):
    grant = oauth_grant(emulators, "hs-client", "hs-secret")
    hs_connection.access_token = grant["access_token"]
    hs_connection.refresh_token = grant["refresh_token"]
    hs_connection.client_id = "hs-client"
    hs_connection.client_secret = "hs-secret"
    hs_connection.save()
    connector = HubSpotConnector(integration=hs_connection.integration)
    connector.owners_page(limit=1)
    emulators.hubspot.app.run_action("expire_token", token=grant["access_token"])

    connector.owners_page(limit=1)

    stored = HubSpotConnection.objects.get(pk=hs_connection.pk)
    assert stored.access_token != grant["access_token"]
    ops = [(c.operation, c.status) for c in our_calls(hs_connection.integration)]
    assert ops == [
        ("owners.list", 200), ("owners.list", 401), ("oauth.token", 200), ("owners.list", 200),
    ]  # fmt: skip
    assert_ledgers_agree(hs_connection.integration, emulators)


def test_expired_token_without_refresh(hubspot, emulators):
    emulators.hubspot.app.run_action("expire_token", token=hubspot.connection.access_token)
    with pytest.raises(AuthExpired):
        hubspot.owners_page()


def test_api_objects_are_built_once(hubspot):
    # Each attribute access on the client builds a new connection pool; the connector caches.
    assert hubspot.api("crm.objects.batch_api") is hubspot.api("crm.objects.batch_api")
    assert hubspot.client.crm.objects.batch_api is not hubspot.client.crm.objects.batch_api
