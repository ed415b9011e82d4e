"""*Refresh properties and fields* is an admin's action, and admins' actions are audit-logged:
one entry per refresh naming the object and who refreshed, from the object tabs, a custom
object's page and the API alike, shown on the audit log. The engine's own schema reads (a
tab's first visit, a cycle) and refreshes that failed log nothing."""

from __future__ import annotations

from html import unescape

import pytest

from sync_engine.models import AuditEvent
from sync_engine.services import custom_object_delete

from .test_api_hunt7 import TokenClient
from .test_custom_object_refresh_hunt_g import REFRESH, project  # noqa: F401

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("back_to_english")]
HTMX = {"HTTP_HX_REQUEST": "true"}
ACTION = "schema.refreshed"


def refreshes():
    return list(AuditEvent.objects.filter(action=ACTION).order_by("pk"))


def audit_page(client) -> str:
    response = client.get("/audit/")
    assert response.status_code == 200
    return unescape(response.content.decode())


@pytest.mark.parametrize(
    ("object_name", "tab"),
    [
        ("contacts", "Contacts"),
        ("companies", "Companies"),
        ("deals", "Deals"),
        ("tickets", "Tickets"),
    ],
)
def test_refreshing_an_object_tab_is_audit_logged(admin_client, admin_user, live, object_name, tab):
    admin_client.get(f"/{object_name}/")  # the first visit reads the schemas: not an action
    assert refreshes() == []
    response = admin_client.post(f"/objects/{object_name}/mappings/refresh/", **HTMX)
    assert "Properties and fields refreshed from HubSpot and Salesforce." in unescape(
        response.content.decode()
    )
    [event] = refreshes()
    assert event.actor == admin_user and event.integration == live
    assert event.details == {"object": object_name}
    html = audit_page(admin_client)
    row = html[html.index("Properties and fields refreshed") :]
    row = row[: row.index("</tr>")]
    assert tab in row
    assert admin_user.get_username() in html


def test_refreshing_a_custom_objects_page_is_audit_logged_once(
    admin_client,
    admin_user,
    live,
    project,  # noqa: F811
):
    before = AuditEvent.objects.count()
    response = admin_client.post(REFRESH, **HTMX)
    assert response.status_code == 200
    assert AuditEvent.objects.count() == before + 1  # one entry, not one per schema read
    [event] = refreshes()
    assert event.actor == admin_user and event.details["object"] == "custom:1"
    html = audit_page(admin_client)
    row = html[html.index("Properties and fields refreshed") :]
    assert "Projects" in row[: row.index("</tr>")]
    # Removed since, it is still named.
    custom_object_delete(integration=live, object_name="custom:1", actor=admin_user)
    html = audit_page(admin_client)
    row = html[html.index("Properties and fields refreshed") :]
    assert "Projects" in row[: row.index("</tr>")] and "custom:1" not in row


def test_refreshing_over_the_api_is_audit_logged(admin_user, live):
    api = TokenClient(admin_user)
    assert api.post("/api/v1/mappings/refresh/", {"object": "companies"}).status_code == 200
    [event] = refreshes()
    assert event.actor == admin_user and event.details == {"object": "companies"}
    [entry] = api.get(f"/api/v1/audit/?action={ACTION}").json()["results"]
    assert entry["actor"] == admin_user.get_username()
    assert entry["details"] == {"object": "companies"}


def test_a_failed_or_refused_refresh_logs_nothing(admin_client, viewer_client, live, emulators):
    assert viewer_client.post("/objects/contacts/mappings/refresh/", **HTMX).status_code == 403
    emulators.salesforce.app.faults.add(path=r"/describe", status=503, body=[
        {"errorCode": "SERVER_UNAVAILABLE", "message": "down for maintenance"}
    ], times=5)  # fmt: skip
    response = admin_client.post("/objects/contacts/mappings/refresh/", **HTMX)
    assert "Couldn't refresh the schemas:" in unescape(response.content.decode())
    assert refreshes() == []
