"""What real HubSpot refuses, the emulator refuses too: merges of objects HubSpot can't merge,
GDPR deletes of anything but contacts, and calls a token's app has no scope for."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from hubspot.crm.deals import ApiException as DealsApiException
from hubspot.crm.deals import PublicMergeInput as DealMerge
from hubspot.crm.objects import ApiException as ObjectsApiException

from emulators.testing import hubspot_client

from .conftest import control, error_of

TOKEN = "integration-token"  # noqa: S105 - the emulator's test token


def post(base_url: str, path: str, body: dict):
    return requests.post(
        base_url + path, json=body, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10
    )


# --- merge and GDPR delete -----------------------------------------------------------------


def test_notes_cannot_be_merged(hs, base_url):
    when = {"hs_timestamp": "2026-01-05T10:00:00Z"}
    a = hs.crm.objects.basic_api.create("notes", {"properties": {**when, "hs_note_body": "A"}}).id
    b = hs.crm.objects.basic_api.create("notes", {"properties": {**when, "hs_note_body": "B"}}).id
    response = post(
        base_url, "/crm/v3/objects/notes/merge", {"primaryObjectId": a, "objectIdToMerge": b}
    )
    assert response.status_code == 400
    assert response.json()["category"] == "VALIDATION_ERROR"
    # both notes are still there, unmerged
    assert hs.crm.objects.basic_api.get_by_id("notes", b).id == b
    # nor in the CRM's own screens (the control plane answers HubSpot's error)
    ui = control(base_url, "merge", object_type="notes", primary_id=a, merged_id=b)
    assert ui.status_code == 400


def test_deals_can_be_merged(hs):
    a = hs.crm.deals.basic_api.create({"properties": {"dealname": "Keep"}}).id
    b = hs.crm.deals.basic_api.create({"properties": {"dealname": "Old"}}).id
    survivor = hs.crm.deals.basic_api.merge(DealMerge(primary_object_id=a, object_id_to_merge=b))
    assert survivor.id == a


def test_gdpr_delete_is_for_contacts_only(hs, base_url):
    company = hs.crm.companies.basic_api.create({"properties": {"name": "Acme"}}).id
    response = post(base_url, "/crm/v3/objects/companies/gdpr-delete", {"objectId": company})
    assert response.status_code == 400
    assert response.json()["category"] == "VALIDATION_ERROR"
    assert hs.crm.companies.basic_api.get_by_id(company).id == company


# --- scopes --------------------------------------------------------------------------------


def token_with_scopes(hs, base_url: str, scopes: str) -> str:
    """Install an OAuth app granted only ``scopes``; its access token."""
    redirect = "http://localhost/cb"
    approval = requests.get(
        f"{base_url}/oauth/authorize",
        params={"client_id": "narrow", "redirect_uri": redirect, "scope": scopes},
        allow_redirects=False,
        timeout=10,
    )
    code = parse_qs(urlsplit(approval.headers["Location"]).query)["code"][0]
    return hs.oauth.tokens_api.create(
        grant_type="authorization_code",
        code=code,
        redirect_uri=redirect,
        client_id="narrow",
        client_secret="secret",
    ).access_token


def test_a_token_without_the_deals_read_scope_cannot_read_deals(emulators, hs, base_url):
    deal = hs.crm.deals.basic_api.create({"properties": {"dealname": "Secret"}}).id
    token = token_with_scopes(
        hs, base_url, "oauth crm.objects.contacts.read crm.objects.deals.write"
    )
    narrow = hubspot_client(emulators, token=token)
    with pytest.raises(DealsApiException) as caught:
        narrow.crm.deals.basic_api.get_by_id(deal)
    assert caught.value.status == 403
    body = error_of(caught.value)
    assert body["category"] == "MISSING_SCOPES"
    assert body["errors"][0]["context"]["requiredGranularScopes"] == ["crm.objects.deals.read"]
    for read in (
        lambda: narrow.crm.deals.basic_api.get_page(),
        lambda: narrow.crm.deals.search_api.do_search({"filterGroups": []}),
        lambda: narrow.crm.deals.batch_api.read({"inputs": [{"id": deal}]}),
    ):
        with pytest.raises(DealsApiException) as caught:
            read()
        assert caught.value.status == 403
    # what it was granted works: writing deals, reading contacts (and notes, which ride on
    # the contacts scopes); writing notes needs contacts.write, which it lacks
    assert narrow.crm.deals.basic_api.create({"properties": {"dealname": "Mine"}}).id
    assert narrow.crm.contacts.basic_api.get_page().results == []
    assert narrow.crm.objects.basic_api.get_page("notes").results == []
    with pytest.raises(ObjectsApiException) as caught:
        narrow.crm.objects.basic_api.create(
            "notes", {"properties": {"hs_timestamp": "2026-01-05T10:00:00Z"}}
        )
    assert error_of(caught.value)["errors"][0]["context"]["requiredGranularScopes"] == [
        "crm.objects.contacts.write"
    ]


def test_the_legacy_tickets_scope_reads_and_writes_tickets(emulators, hs, base_url):
    narrow = hubspot_client(emulators, token=token_with_scopes(hs, base_url, "oauth tickets"))
    ticket = narrow.crm.tickets.basic_api.create(
        {"properties": {"subject": "Help", "hs_pipeline_stage": "1"}}
    ).id
    assert narrow.crm.tickets.basic_api.get_by_id(ticket).id == ticket
