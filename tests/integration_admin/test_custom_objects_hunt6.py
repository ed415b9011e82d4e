"""The custom object wizard in the page's language: its field pickers and its refusals name
field types as HubSpot's and Salesforce's own screens do ("Single-line text", "Currency"),
never by API names ("string/text"), in the mapping editor's words; its refusals at Finish
read in Dutch on a Dutch page, the REST API keeping the engine's English."""

from __future__ import annotations

from html import unescape

import pytest

from integration_admin.labels import ENGINE_MESSAGE_LABELS
from sync_engine import services
from sync_engine.models import ObjectSync

from .test_custom_objects_wizard import RULES, hs_type, walk_to_associations  # noqa: F401

pytestmark = pytest.mark.usefixtures("back_to_english")
NL = {"HTTP_ACCEPT_LANGUAGE": "nl"}
EN = {"HTTP_ACCEPT_LANGUAGE": "en"}
FIELDS = "/custom-objects/wizard/fields/"
FINISH = "/custom-objects/wizard/associations/"


def said(response) -> str:
    return unescape(response.content.decode())


def to_fields(client, hs_type: str) -> None:  # noqa: F811 (the fixture's name)
    client.get("/custom-objects/new/")
    client.post(
        "/custom-objects/wizard/objects/",
        {"salesforce_object": "Project__c", "hubspot_object": hs_type},
    )
    client.post("/custom-objects/wizard/rules/", RULES)


def test_the_field_pickers_name_types_as_hubspot_and_salesforce_do(
    admin_client,
    hs_type,  # noqa: F811 (the fixture)
):
    to_fields(admin_client, hs_type)
    for headers, text, number, currency in (
        (EN, "Single-line text", "Number", "Currency"),
        (NL, "Tekst met één regel", "Getal", "Valuta"),
    ):
        html = said(admin_client.get(FIELDS, **headers))
        assert f">Project name · {text}</option>" in html, headers
        assert f">Budget · {number}</option>" in html, headers
        assert f"Budget__c · {currency}</span>" in html, headers
        assert "string/text" not in html and "number/number" not in html
        assert "Budget__c · currency" not in html


def test_an_incompatible_pair_is_refused_in_the_mapping_editors_words(
    admin_client,
    hs_type,  # noqa: F811 (the fixture)
):
    to_fields(admin_client, hs_type)
    data = {"map:Name": "budget", "map:Budget__c": "project_name"}
    for headers, refusal in (
        (EN, "A HubSpot Number property can't map to a Salesforce Text field"),
        (
            NL,
            "Een HubSpot-eigenschap van het type Getal kan niet worden toegewezen aan een "
            "Salesforce-veld van het type Tekst",
        ),
    ):
        response = admin_client.post(FIELDS, data, **headers)
        assert response.status_code == 200
        html = said(response)
        assert refusal in html, headers
        assert "number/number" not in html and "string field" not in html


def test_a_lookup_gone_before_finish_is_refused_in_dutch(
    admin_client,
    live,
    emulators,
    hs_type,  # noqa: F811 (the fixture)
):
    """Step 4 offered the Contact lookup; the integration user lost sight of it in Salesforce
    before Finish: the refusal names HubSpot's contacts by their tab's name, in Dutch."""
    walk_to_associations(admin_client, hs_type)
    emulators.salesforce.app.run_action(
        "set_field_permission", object="Project__c", field="Contact__c", access="hidden",
        token=live.salesforce_connection.access_token,
    )  # fmt: skip
    for headers, refusal in (
        (EN, "'Contact__c' can't stand for Contacts"),
        (NL, "'Contact__c' kan niet voor Contactpersonen staan"),
    ):
        response = admin_client.post(FINISH, {"association:contacts": "Contact__c"}, **headers)
        assert response.status_code == 200
        assert refusal in said(response), headers
    assert not ObjectSync.objects.filter(integration=live, object__startswith="custom:").exists()


def test_every_wizard_refusal_has_its_words_for_people():
    refusals = [
        services.CUSTOM_OBJECT_UNPICKED,
        services.CUSTOM_OBJECT_OWN_TAB,
        services.CUSTOM_OBJECT_NOT_A_LOOKUP,
        services.CUSTOM_OBJECT_SALESFORCE_SYNCED,
        services.CUSTOM_OBJECT_HUBSPOT_SYNCED,
        services.MAPPING_INCOMPATIBLE,
    ]
    assert not [text for text in refusals if text not in ENGINE_MESSAGE_LABELS]
