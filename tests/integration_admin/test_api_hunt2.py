"""The REST API as a demanding user meets it: what the pages change is changeable here too, a
filter it doesn't know is refused rather than ignored, and odd input answers 4xx, not 500."""

from __future__ import annotations

import pytest
from django.test import Client
from django.utils import timezone

from sync_engine.models import AuditEvent, Integration

from .conftest import make_error

pytestmark = pytest.mark.django_db
JSON = "application/json"


# --- filters ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("path", "param", "takes"),
    [
        # "error_type" is what each error and the resync body call it; the filter is "type".
        ("/api/v1/errors/?error_type=picklist", "error_type", "type, object, q, resolved, page"),
        ("/api/v1/errors/export/?error_type=picklist", "error_type", "type, object, q, resolved"),
        ("/api/v1/runs/?trigger=manual", "trigger", "object, status, page"),
        ("/api/v1/mappings/?object_name=contacts", "object_name", "object, page"),
        ("/api/v1/audit/?actor=ada", "actor", "action, page"),
    ],
)
def test_a_filter_an_endpoint_doesnt_take_is_refused_not_ignored(
    viewer_client, connected, path, param, takes
):
    make_error(connected, 2)
    make_error(connected, 1, error_type="picklist")
    response = viewer_client.get(path)
    assert response.status_code == 400, response.content
    assert response.json() == {param: [f"Unknown query parameter: this endpoint takes {takes}."]}


def test_the_filters_and_paging_it_takes_still_work(viewer_client, connected):
    make_error(connected, 2)
    make_error(connected, 1, error_type="picklist")
    body = viewer_client.get("/api/v1/errors/?type=picklist&page=1&format=json").json()
    assert body["count"] == 1 and body["results"][0]["error_type"] == "picklist"
    export = viewer_client.get("/api/v1/errors/export/?type=picklist&format=csv")
    assert export.status_code == 200
    assert len(b"".join(export.streaming_content).decode("utf-8-sig").splitlines()) == 2


# --- input the database can't take -----------------------------------------------------------
@pytest.mark.postgres
def test_an_audit_filter_with_a_nul_character_is_a_400(viewer_client, connected):
    """PostgreSQL refuses text with NUL bytes: that's the filter's fault, said as a 400."""
    response = viewer_client.get("/api/v1/audit/?action=settings%00")
    assert response.status_code == 400
    assert response.json() == {"action": ["Null characters are not allowed."]}


@pytest.mark.postgres
@pytest.mark.parametrize("name", ["custom:%00", "custom:1%00", "custom:abc", "custom:01"])
def test_a_custom_pair_name_that_cant_be_one_is_a_404(admin_client, connected, name):
    for response in (
        admin_client.get(f"/api/v1/settings/{name}/"),
        admin_client.patch(f"/api/v1/settings/{name}/", {"enabled": True}, content_type=JSON),
    ):
        assert response.status_code == 404
        assert "No custom object pair" in response.json()["detail"]


# --- resync: all the errors a search finds, as the panel's "Resync all" -----------------------
def test_resync_all_of_a_type_as_searched(
    admin_client, connected, django_capture_on_commit_callbacks
):
    errors = make_error(connected, 3)  # "Person 0", "Person 1", "Person 2"
    with django_capture_on_commit_callbacks():
        response = admin_client.post(
            "/api/v1/errors/resync/",
            {"all": True, "error_type": "property_value", "q": "Person 1"},
            content_type=JSON,
        )
    assert response.status_code == 200, response.content
    assert response.json() == {"queued": 1}
    for error in errors:
        error.refresh_from_db()
    queued = {e.pk for e in errors if e.next_retry_at <= timezone.now()}
    listed = admin_client.get("/api/v1/errors/?q=Person 1").json()["results"]
    assert queued == {e["id"] for e in listed}
    event = AuditEvent.objects.get(action="errors.resync_requested")
    assert event.details["search"] == "Person 1"


def test_the_audit_log_says_which_search_a_resync_was_limited_to(admin_client, connected):
    """ "Resync all" of a type as searched isn't all of the type: the log says the search."""
    make_error(connected, 3)
    admin_client.post(
        "/api/v1/errors/resync/",
        {"all": True, "error_type": "property_value", "q": "Person <1>"},
        content_type=JSON,
    )
    html = admin_client.get("/audit/").content.decode()
    assert "Search: Person &lt;1&gt;</div>" in html  # remote-ish text, escaped


def test_a_search_goes_with_all_only(admin_client, connected):
    (error,) = make_error(connected, 1)
    response = admin_client.post(
        "/api/v1/errors/resync/", {"ids": [error.pk], "q": "Person"}, content_type=JSON
    )
    assert response.status_code == 400
    assert response.json() == {"q": ["A search goes with `all: true`: the ids are the errors."]}
    assert not AuditEvent.objects.filter(action="errors.resync_requested").exists()


# --- clear a suspension, as the header's "Clear suspension" ----------------------------------
def _suspend(integration) -> None:
    Integration.objects.filter(pk=integration.pk).update(
        state=Integration.State.SUSPENDED, state_reason="Salesforce refused the token."
    )


def test_an_admin_clears_a_suspension(admin_client, admin_user, connected):
    _suspend(connected)
    assert admin_client.get("/api/v1/integration/").json()["state"] == "suspended"
    response = admin_client.post("/api/v1/integration/clear-suspension/", content_type=JSON)
    assert response.status_code == 200, response.content
    assert response.json()["state"] == "connected"
    assert admin_client.get("/api/v1/integration/").json()["state"] == "connected"
    event = AuditEvent.objects.get(action="integration.state_changed")
    assert event.actor == admin_user
    assert (event.details["from"], event.details["to"]) == ("suspended", "connected")


def test_only_a_suspension_is_cleared(admin_client, connected):
    for state in ("connected", "paused", "disconnected"):
        Integration.objects.filter(pk=connected.pk).update(state=state)
        response = admin_client.post("/api/v1/integration/clear-suspension/", content_type=JSON)
        assert response.status_code == 409, response.content
        assert "isn't suspended" in response.json()["detail"]
        assert Integration.objects.get(pk=connected.pk).state == state
    assert not AuditEvent.objects.filter(action="integration.state_changed").exists()


def test_a_viewer_cant_clear_a_suspension_nor_a_session_without_csrf(
    viewer_client, admin_user, connected
):
    _suspend(connected)
    response = viewer_client.post("/api/v1/integration/clear-suspension/", content_type=JSON)
    assert response.status_code == 403
    no_csrf = Client(enforce_csrf_checks=True)
    no_csrf.force_login(admin_user)
    response = no_csrf.post("/api/v1/integration/clear-suspension/", content_type=JSON)
    assert response.status_code == 403 and "CSRF" in response.json()["detail"]
    assert Integration.objects.get(pk=connected.pk).state == "suspended"


def test_clearing_takes_no_fields(admin_client, connected):
    _suspend(connected)
    response = admin_client.post(
        "/api/v1/integration/clear-suspension/", {"state": "connected"}, content_type=JSON
    )
    assert response.status_code == 400
    assert response.json() == {"state": ["Unknown field: this endpoint takes no fields."]}
    assert Integration.objects.get(pk=connected.pk).state == "suspended"


def test_the_schema_documents_clearing_a_suspension(logged_in):
    schema = logged_in.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    operation = schema["paths"]["/api/v1/integration/clear-suspension/"]["post"]
    assert {"200", "403", "409"} <= set(operation["responses"])
    assert "/api/v1/audit/" in schema["paths"]
    audit = schema["paths"]["/api/v1/audit/"]["get"]
    assert {p["name"] for p in audit["parameters"]} >= {"action", "page"}
    assert "400" in audit["responses"]
