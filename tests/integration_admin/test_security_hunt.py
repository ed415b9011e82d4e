"""Odd input and ids of other objects, as a demanding admin or an attacker sends them: a
clear answer (never a 500), and nothing changed that the page or endpoint doesn't own."""

from __future__ import annotations

import pytest
from django.test import Client
from django.utils import timezone

from sync_engine.models import AuditEvent, FieldMapping, SyncError

from .conftest import make_custom_object, make_error

pytestmark = pytest.mark.django_db
JSON = "application/json"


@pytest.fixture
def admin_browser(admin_user):
    """An admin's session that answers a server error as the browser sees it (a 500 page),
    not as an exception in the test."""
    client = Client(raise_request_exception=False)
    client.force_login(admin_user)
    return client


@pytest.fixture
def custom_mapping(connected) -> FieldMapping:
    """``custom:1``'s mapping of its required "name" property, as its wizard stores it."""
    make_custom_object(connected)
    return FieldMapping.objects.create(
        integration=connected, object="custom:1", hubspot_property="name",
        salesforce_field="Name", salesforce_fields={"Project__c": "Name"}, rule="two_way",
    )  # fmt: skip


def test_the_mapping_editor_leaves_a_custom_objects_mappings_to_its_wizard(
    admin_browser, custom_mapping
):
    """The editor's rule and delete endpoints, given a custom object's mapping id: a 404,
    the mapping as the wizard set it (not deleted, then a server error)."""
    response = admin_browser.post(f"/mappings/{custom_mapping.pk}/delete/")
    assert response.status_code == 404
    response = admin_browser.post(
        f"/mappings/{custom_mapping.pk}/rule/", {"rule": "prefer_salesforce_unless_blank"}
    )
    assert response.status_code == 404
    custom_mapping.refresh_from_db()
    assert custom_mapping.rule == "two_way"
    assert not AuditEvent.objects.filter(action__startswith="mapping.").exists()


def test_the_api_leaves_a_custom_objects_mappings_to_its_wizard(admin_client, custom_mapping):
    """As POST refuses to add one: its rule and its removal are the wizard's."""
    url = f"/api/v1/mappings/{custom_mapping.pk}/"
    for response in (
        admin_client.delete(url),
        admin_client.patch(url, {"rule": "prefer_hubspot_unless_blank"}, content_type=JSON),
    ):
        assert response.status_code == 400
        assert response.json() == {
            "object": ["A custom object pair's mappings are set in the Custom objects wizard."]
        }
    custom_mapping.refresh_from_db()
    assert custom_mapping.rule == "two_way"
    assert admin_client.get(url).json()["hubspot_property"] == "name"  # still readable


def test_resync_selected_skips_an_id_no_error_can_have(admin_browser, connected):
    """A tampered checkbox value past the database's ids: the real selection is queued."""
    chosen, other = make_error(connected, 2)
    response = admin_browser.post(
        "/sync-health/errors/resync/",
        {"error_type": "property_value", "scope": "selected", "ids": [str(chosen.pk), "9" * 30]},
        follow=True,
    )
    assert response.status_code == 200
    assert "1 error queued for a resync" in response.content.decode()
    now = timezone.now()
    assert SyncError.objects.get(pk=chosen.pk).next_retry_at <= now
    assert SyncError.objects.get(pk=other.pk).next_retry_at > now


def test_the_api_refuses_a_resync_id_no_error_can_have(admin_browser, connected):
    make_error(connected)
    for bad in (10**30, 0):
        response = admin_browser.post("/api/v1/errors/resync/", {"ids": [bad]}, content_type=JSON)
        assert response.status_code == 400, bad
        assert list(response.json()) == ["ids"]


@pytest.mark.parametrize(
    "job",
    ["²", "9" * 30, "1" * 5000],
    ids=["superscript digit", "past 64 bits", "more digits than int() reads"],
)
def test_an_import_address_with_a_job_id_no_import_can_have_shows_the_page(
    admin_browser, connected, job
):
    response = admin_browser.get("/import/?job=" + job)
    assert response.status_code == 200
    assert "Import from Salesforce" in response.content.decode()
