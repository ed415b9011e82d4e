"""The Custom objects wizard as a demanding admin reads it: a Salesforce field nobody can
write (an invoice's auto-number) says on the fields step that it syncs to HubSpot only."""

from __future__ import annotations

import re

from .test_custom_objects_wizard import RULES, hs_type  # noqa: F401 (a fixture)


def field_row(html: str, field: str) -> str:
    """The fields step's table row of Salesforce field ``field``."""
    rows = re.findall(r"<tr>(.*?)</tr>", html, re.S)
    return next(row for row in rows if f'name="map:{field}"' in row)


def test_a_read_only_salesforce_field_says_it_syncs_to_hubspot_only(
    admin_client,
    hs_type,  # noqa: F811
):
    admin_client.get("/custom-objects/new/")
    admin_client.post(
        "/custom-objects/wizard/objects/",
        {"salesforce_object": "Invoice__c", "hubspot_object": hs_type},
    )
    admin_client.post("/custom-objects/wizard/rules/", RULES)
    html = admin_client.get("/custom-objects/wizard/fields/").content.decode()
    assert "Read-only in Salesforce: syncs to HubSpot only" in field_row(html, "Name")
    assert "Read-only" not in field_row(html, "Amount__c")
