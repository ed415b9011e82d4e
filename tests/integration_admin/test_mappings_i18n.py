"""The mapping editor's refusals in the page's language: an incompatible pair, a property or
field already mapped or unknown, a rule a mapping can't have, a default that can't go. They
name field types as HubSpot's and Salesforce's own screens do ("Dropdown select", "Date"),
never by API names ("enumeration (select)"); the REST API keeps the engine's English.
"""

from __future__ import annotations

from html import unescape

import pytest
from hubspot.crm.properties import Option, PropertyCreate

from emulators.testing import hubspot_client
from sync_engine import services
from sync_engine.models import FieldMapping, ObjectSync
from sync_engine.services import schema_refresh
from sync_engine.sync.values import _compatibility

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("back_to_english")]
HTMX = {"HTTP_HX_REQUEST": "true"}
NL = {"HTTP_ACCEPT_LANGUAGE": "nl", **HTMX}
EN = {"HTTP_ACCEPT_LANGUAGE": "en", **HTMX}
CHECK = "/objects/contacts/mappings/check/"
ADD = "/objects/contacts/mappings/add/"


@pytest.fixture
def picked(live, emulators):
    """HubSpot contact properties (a dropdown select, a text, a number) and Salesforce fields
    on Lead and Contact (a date, a text, and ``Score__c``: a number on Lead, text on Contact),
    read into the cache."""
    properties = hubspot_client(emulators, strict=False).crm.properties.core_api
    for name, label, kind, field_type, options in (
        ("shirt_size", "Shirt Size", "enumeration", "select",
         [Option(label="Small", value="s", display_order=0, hidden=False),
          Option(label="Large", value="l", display_order=1, hidden=False)]),
        ("favourite_colour", "Favourite Colour", "string", "text", None),
        ("score", "Score", "number", "number", None),
    ):  # fmt: skip
        properties.create(
            "contacts",
            PropertyCreate(
                name=name, label=label, type=kind, field_type=field_type,
                group_name="contactinformation", options=options,
            ),
        )  # fmt: skip
    run = emulators.salesforce.app.run_action
    for sobject in ("Lead", "Contact"):
        run("add_field", object=sobject, field="Renewal", type="date")
        run("add_field", object=sobject, field="Colour", type="string", length=80)
    run("add_field", object="Lead", field="Score", type="double")
    run("add_field", object="Contact", field="Score", type="string")
    schema_refresh(integration=live, object_name="contacts")
    return live


def said(response) -> str:
    return unescape(response.content.decode())


def flash(html: str) -> str:
    """The flash messages the response swaps in."""
    start = html.index('<div id="flash"')
    return html[start : html.index("</div>", start)]


def test_an_incompatible_pair_is_refused_in_the_pages_language(admin_client, picked):
    """HubSpot's property editor calls it a Dropdown select (Vervolgkeuzelijst), Salesforce's
    Setup a Date (Datum) field: so does the check, and so does the refused save."""
    data = {"hubspot_property": "shirt_size", "salesforce_field": "Renewal__c", "rule": "two_way"}
    english = "A HubSpot Dropdown select property can't map to a Salesforce Date field"
    dutch = (
        "Een HubSpot-eigenschap van het type Vervolgkeuzelijst kan niet worden toegewezen aan "
        "een Salesforce-veld van het type Datum"
    )
    for headers, shown, not_shown in ((NL, dutch, english), (EN, english, dutch)):
        for url in (CHECK, ADD):
            html = said(admin_client.post(url, data, **headers))
            assert shown in html and not_shown not in html, url
            assert "enumeration" not in html.split('id="hubspot-properties"')[0], url
    assert not FieldMapping.objects.filter(hubspot_property="shirt_size").exists()


def test_the_pickers_name_field_types_as_the_refusals_do(admin_client, picked):
    """The picker that offered the pair names its types in the same words as the refusal."""
    for language, select, date in (("en", "Dropdown select", "Date"),
                                   ("nl", "Vervolgkeuzelijst", "Datum")):  # fmt: skip
        html = said(admin_client.get("/contacts/", HTTP_ACCEPT_LANGUAGE=language))
        assert f'<option value="shirt_size">Shirt Size · {select}</option>' in html, language
        assert f'<option value="Renewal__c">Renewal · {date} · Lead/Contact</option>' in html
        assert "enumeration/select" not in html, language


def test_which_objects_field_does_not_fit_reads_in_dutch(admin_client, picked):
    data = {"hubspot_property": "score", "salesforce_field": "Score__c", "rule": "two_way"}
    html = said(admin_client.post(CHECK, data, **NL))
    assert (
        "Een HubSpot-eigenschap van het type Getal kan niet worden toegewezen aan een "
        "Salesforce-veld van het type Tekst: dat is het veld Score__c van Contact"
    ) in html
    html = said(admin_client.post(CHECK, data, **EN))
    assert (
        "A HubSpot Number property can't map to a Salesforce Text field: Contact's Score__c is one"
    ) in html


def test_the_switcher_turns_the_editors_other_refusals_dutch(admin_client, picked):
    """Chosen at the bottom of the page: Dutch until English is chosen again."""
    admin_client.post("/i18n/setlang/", {"language": "nl", "next": "/contacts/"})
    mistakes = [
        ({"hubspot_property": "email", "salesforce_field": "Colour__c"},
         "'email' heeft al een toewijzing", "'email' is already mapped"),
        ({"hubspot_property": "nope", "salesforce_field": "Colour__c"},
         "HubSpot heeft geen eigenschap 'nope' voor Contactpersonen",
         "HubSpot has no Contacts property 'nope'"),
        ({"hubspot_property": "favourite_colour", "salesforce_field": "Nope__c"},
         "Noch Lead noch Contact heeft een veld 'Nope__c'",
         "Lead or Contact has no field 'Nope__c'"),
        ({"hubspot_property": "favourite_colour", "salesforce_field": "SystemModstamp"},
         "SystemModstamp is een systeemveld van Salesforce: het kan niet worden toegewezen",
         "SystemModstamp is a Salesforce system field: it can't be mapped"),
        ({"hubspot_property": "salesforcecontactid", "salesforce_field": "Colour__c"},
         "salesforcecontactid is de eigen sleutel van de integratie: deze koppelt de records, "
         "dus kan niet worden toegewezen",
         "salesforcecontactid is the integration's own key: it links the records, so it can't "
         "be mapped"),
        ({"hubspot_property": "favourite_colour", "salesforce_field": "Name"},
         "Alleen-lezen in Salesforce: alleen 'Altijd Salesforce gebruiken' of 'Niet "
         "synchroniseren' kan werken, schrijven naar dit veld mislukt",
         "Read-only in Salesforce: only 'Always use Salesforce' or 'Don't sync' can work, "
         "writes to it fail"),
    ]  # fmt: skip
    for data, dutch, english in mistakes:
        html = said(admin_client.post(ADD, {"rule": "two_way", **data}, **HTMX))
        assert dutch in html and english not in html, english
    admin_client.post("/i18n/setlang/", {"language": "en", "next": "/contacts/"})
    for data, dutch, english in mistakes:
        html = said(admin_client.post(ADD, {"rule": "two_way", **data}, **HTMX))
        assert english in html and dutch not in html, english
    assert not FieldMapping.objects.filter(is_default=False).exists()


def test_a_rule_a_mapping_cant_have_is_refused_in_dutch(admin_client, live):
    admin_client.get("/contacts/")  # the defaults, and the schemas read
    email = FieldMapping.objects.get(integration=live, hubspot_property="email")
    owner = FieldMapping.objects.get(integration=live, hubspot_property="hubspot_owner_id")
    refusals = [
        (email, "E-mail synchroniseert alleen met 'Salesforce gebruiken tenzij leeg' of "
                "'Tweerichting', zodat een ongeldig adres niet kan vastlopen",
         "Email syncs only with 'Prefer Salesforce unless blank' or 'Two-way', so an invalid "
         "address can't get stuck"),
        (owner, "De eigenaar synchroniseert altijd in beide richtingen",
         "The owner always syncs both ways"),
    ]  # fmt: skip
    for mapping, dutch, english in refusals:
        url = f"/mappings/{mapping.pk}/rule/"
        html = said(admin_client.post(url, {"rule": "dont_sync"}, **NL))
        assert "row--error" in html and dutch in html and english not in html
        html = said(admin_client.post(url, {"rule": "dont_sync"}, **EN))
        assert english in html and dutch not in html


def test_deletes_say_what_they_did_in_dutch_by_the_propertys_label(admin_client, picked):
    admin_client.post(
        ADD, {"hubspot_property": "favourite_colour", "salesforce_field": "Colour__c",
              "rule": "two_way"},
    )  # fmt: skip
    custom = FieldMapping.objects.get(hubspot_property="favourite_colour")
    html = said(admin_client.post(f"/mappings/{custom.pk}/delete/", **NL))
    assert "De toewijzing van Favourite Colour is verwijderd." in flash(html)
    default = FieldMapping.objects.get(hubspot_property="email")
    html = said(admin_client.post(f"/mappings/{default.pk}/delete/", **NL))
    assert "Standaardtoewijzingen kunnen niet worden verwijderd" in flash(html)
    html = said(admin_client.post(f"/mappings/{default.pk}/delete/", **EN))
    assert "Default mappings can't be deleted" in flash(html)
    assert FieldMapping.objects.filter(pk=default.pk).exists()


def test_locked_mappings_say_so_in_dutch(admin_client, live):
    """Company mappings change only while company sync is on (spec §9): a form left open
    from before it was switched off is told so, naming the tab."""
    admin_client.get("/companies/")
    ObjectSync.objects.filter(integration=live, object="companies").update(enabled=False)
    data = {"hubspot_property": "name", "salesforce_field": "Name", "rule": "two_way"}
    admin_client.post("/objects/companies/mappings/add/", data, HTTP_ACCEPT_LANGUAGE="nl")
    html = said(admin_client.get("/companies/", HTTP_ACCEPT_LANGUAGE="nl"))
    assert "Zet de synchronisatie van Bedrijven aan voordat u de toewijzingen wijzigt" in html


def test_the_api_keeps_the_engines_english(admin_client, picked):
    """The REST API answers in the engine's words, whatever language the request asks."""
    response = admin_client.post(
        "/api/v1/mappings/",
        {"object": "contacts", "hubspot_property": "shirt_size", "salesforce_field": "Renewal__c"},
        content_type="application/json",
        HTTP_ACCEPT_LANGUAGE="nl",
    )
    assert response.status_code == 400
    assert response.json() == {
        "salesforce_field": [
            "A HubSpot enumeration (select) property can't map to a Salesforce date field"
        ]
    }


def test_every_refusal_and_type_has_its_words_for_people():
    from integration_admin.labels import (
        ENGINE_MESSAGE_LABELS,
        SALESFORCE_TYPE_LABELS,
        hubspot_type_label,
    )

    refusals = [
        value
        for name, value in vars(services).items()
        if isinstance(value, str)
        and (name.startswith(("MAPPING", "MAPPINGS_")) or name.endswith("_REFUSED"))
    ]
    refusals.append(services.TICKET_PROPERTY_NEEDED)
    assert len(refusals) >= 19
    assert not [text for text in refusals if text not in ENGINE_MESSAGE_LABELS]
    for key in _compatibility():
        hs_type, field_type = key.split("/")
        label = hubspot_type_label(f"{hs_type} ({field_type})")
        assert label != f"{hs_type} ({field_type})", key
    for types in _compatibility().values():
        assert set(types) <= set(SALESFORCE_TYPE_LABELS)
    assert hubspot_type_label("number (calculation_rollup)") == "Calculation"
    assert hubspot_type_label("number (calculation_score)") == "Score"
    assert hubspot_type_label("string (something_new)") == "string (something_new)"
