"""Two admins set up the same custom object at once: the one who finishes second is told, on
the wizard's last step, which sync has the object now and what to do (not an English "This
object already syncs" that step 4 can't fix)."""

from __future__ import annotations

from html import unescape

import pytest
from django.test import Client

from sync_engine.models import ObjectSync

from .test_custom_objects_wizard import RULES, hs_type  # noqa: F401 (the fixture)


def walk_to_associations(client, hubspot_object: str, sobject: str, mappings: dict) -> None:
    client.get("/custom-objects/new/")
    client.post(
        "/custom-objects/wizard/objects/",
        {"salesforce_object": sobject, "hubspot_object": hubspot_object},
    )
    client.post("/custom-objects/wizard/rules/", RULES)
    response = client.post(
        "/custom-objects/wizard/fields/", {f"map:{k}": v for k, v in mappings.items()}
    )
    assert response["Location"] == "/custom-objects/wizard/associations/"


@pytest.mark.parametrize(
    ("theirs", "mappings", "expected"),
    [
        (
            "Project__c",
            {"Name": "project_name"},
            "Salesforce's Project already syncs with HubSpot's Projects: leave without "
            "saving, and change that sync with its “Edit sync” on the Custom objects tab",
        ),
        (
            "Invoice__c",
            {"Notes__c": "project_name"},
            "HubSpot's Projects already syncs with Salesforce's Invoice: leave without "
            "saving, and change that sync with its “Edit sync” on the Custom objects tab",
        ),
    ],
)
def test_an_object_paired_meanwhile_by_another_admin_is_named_at_finish(
    admin_client,
    admin_user,
    live,
    hs_type,  # noqa: F811 (the fixture)
    theirs,
    mappings,
    expected,
):
    walk_to_associations(admin_client, hs_type, "Project__c", {"Name": "project_name"})
    other = Client()  # another admin, in another browser
    other.force_login(admin_user)
    walk_to_associations(other, hs_type, theirs, mappings)
    other.post("/custom-objects/wizard/associations/", {})
    assert ObjectSync.objects.filter(integration=live, object="custom:1").exists()

    response = admin_client.post("/custom-objects/wizard/associations/", {})
    assert response.status_code == 200
    html = unescape(response.content.decode())
    assert expected in html
    assert "This object already syncs" not in html
    assert ObjectSync.objects.filter(integration=live, object__startswith="custom:").count() == 1
