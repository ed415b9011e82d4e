"""The field-mapping editor against the emulators' real schemas: pickers from HubSpot's
properties and Salesforce's describe, the inline compatibility check, rules, deletes."""

from __future__ import annotations

import pytest
from hubspot.crm.properties import PropertyCreate

from emulators.testing import hubspot_client
from sync_engine.models import AuditEvent, FieldMapping, SchemaCache
from sync_engine.services import schema_refresh

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def schemas(live, emulators):
    """A custom HubSpot number and text property and a Salesforce text field on Lead and
    Contact, in the emulators, read into the cache."""
    properties = hubspot_client(emulators, strict=False).crm.properties.core_api
    for name, kind, field_type in (
        ("loyalty_score", "number", "number"),
        ("favourite_colour", "string", "text"),
    ):
        properties.create(
            "contacts",
            PropertyCreate(
                name=name, label=name.replace("_", " ").title(), type=kind,
                field_type=field_type, group_name="contactinformation",
            ),
        )  # fmt: skip
    for sobject in ("Lead", "Contact"):
        emulators.salesforce.app.run_action(
            "add_field", object=sobject, field="Colour", type="string", length=80
        )
    schema_refresh(integration=live, object_name="contacts")
    return live


def editor(client) -> str:
    return client.get("/contacts/").content.decode()


def mapping_row(html: str, hubspot_property: str) -> str:
    """The editor table's row of one HubSpot property."""
    row = html[html.index(f'data-hubspot="{hubspot_property}"') :]
    return row[: row.index("</tr>")]


def test_defaults_are_listed_and_locked(admin_client, live):
    html = editor(admin_client)
    assert "Contact properties" in html
    assert 'data-hubspot="email"' in html and "<code>Email</code>" in html
    row = mapping_row(html, "email")
    assert "Default" in row and "badge--locked" in row and "Delete" not in row


def test_refresh_fills_the_pickers(admin_client, live, emulators):
    html = editor(admin_client)  # the first visit reads them (test_mapping_pickers.py)
    assert '<option value="firstname">' in html
    # A property made in HubSpot since shows once they are refreshed, not on a reload.
    hubspot_client(emulators, strict=False).crm.properties.core_api.create(
        "contacts",
        PropertyCreate(name="shoe_size", label="Shoe Size", type="number",
                       field_type="number", group_name="contactinformation"),
    )  # fmt: skip
    assert '<option value="shoe_size">' not in editor(admin_client)
    response = admin_client.post("/objects/contacts/mappings/refresh/", **HTMX)
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="mapping-editor"')
    assert "Properties and fields refreshed from HubSpot and Salesforce." in html
    assert '<option value="shoe_size">' in html  # a HubSpot property
    assert '<option value="LastName">' in html and "Lead/Contact" in html  # a Salesforce field
    assert SchemaCache.objects.filter(integration=live).count() == 3  # contacts, Lead, Contact


def test_add_a_compatible_mapping(admin_client, admin_user, schemas):
    response = admin_client.post(
        "/objects/contacts/mappings/add/",
        {"hubspot_property": "favourite_colour", "salesforce_field": "Colour__c",
         "rule": "two_way"},
        **HTMX,
    )  # fmt: skip
    html = response.content.decode()
    assert "Mapped Favourite Colour to Colour." in html  # their labels, as people know them
    mapping = FieldMapping.objects.get(integration=schemas, hubspot_property="favourite_colour")
    assert mapping.rule == "two_way" and not mapping.is_default
    assert mapping.salesforce_fields == {"Lead": "Colour__c", "Contact": "Colour__c"}
    row = mapping_row(html, "favourite_colour")
    assert "Custom" in row and "Delete" in row
    # The table names them as people know them, with the API names beside.
    assert "Favourite Colour<div><code" in row
    assert "Colour <code" in row
    assert AuditEvent.objects.get(action="mapping.created").actor == admin_user


def test_incompatible_pair_is_caught_inline_and_not_saved(admin_client, schemas):
    data = {"hubspot_property": "loyalty_score", "salesforce_field": "Colour__c", "rule": "two_way"}
    # As the pickers change, the check answers without saving.
    check = admin_client.post("/objects/contacts/mappings/check/", data, **HTMX).content.decode()
    assert "A HubSpot Number property can&#x27;t map to a Salesforce Text field" in check
    assert 'data-check="blocked"' in check
    # Saving anyway is refused with the same message next to the field.
    html = admin_client.post("/objects/contacts/mappings/add/", data, **HTMX).content.decode()
    assert "can&#x27;t map to a Salesforce Text field" in html
    assert 'value="loyalty_score"' in html  # what was typed stays
    assert not FieldMapping.objects.filter(hubspot_property="loyalty_score").exists()


def test_check_accepts_a_compatible_pair(admin_client, schemas):
    data = {"hubspot_property": "favourite_colour", "salesforce_field": "Colour__c",
            "rule": "prefer_salesforce_unless_blank"}  # fmt: skip
    html = admin_client.post("/objects/contacts/mappings/check/", data, **HTMX).content.decode()
    assert "Compatible: this pair can be mapped." in html
    assert not FieldMapping.objects.filter(hubspot_property="favourite_colour").exists()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"hubspot_property": "email", "salesforce_field": "Colour__c"}, "is already mapped"),
        ({"hubspot_property": "nope", "salesforce_field": "Colour__c"}, "has no Contacts property"),
        ({"hubspot_property": "favourite_colour", "salesforce_field": "Nope__c"}, "has no field"),
        ({"hubspot_property": "", "salesforce_field": "Colour__c"}, "Pick a HubSpot property."),
    ],
)
def test_other_mistakes_are_inline_too(admin_client, schemas, data, message):
    data = {"rule": "two_way", **data}
    html = admin_client.post("/objects/contacts/mappings/add/", data, **HTMX).content.decode()
    assert message in html
    assert FieldMapping.objects.filter(is_default=False).count() == 0


def test_picker_text_label_and_name_is_accepted(admin_client, schemas):
    admin_client.post(
        "/objects/contacts/mappings/add/",
        {"hubspot_property": "Favourite Colour (favourite_colour)",
         "salesforce_field": "Colour (Colour__c)", "rule": "two_way"},
        **HTMX,
    )  # fmt: skip
    assert FieldMapping.objects.filter(hubspot_property="favourite_colour").exists()


def test_change_a_rule(admin_client, live):
    admin_client.get("/contacts/")
    mapping = FieldMapping.objects.get(integration=live, hubspot_property="jobtitle")
    response = admin_client.post(
        f"/mappings/{mapping.pk}/rule/", {"rule": "always_use_salesforce"}, **HTMX
    )
    html = response.content.decode()
    assert html.lstrip().startswith(f'<tr id="mapping-{mapping.pk}"')
    assert "row--saved" in html
    mapping.refresh_from_db()
    assert mapping.rule == "always_use_salesforce"
    event = AuditEvent.objects.get(action="mapping.rule_changed")
    assert event.details["from"] == "prefer_salesforce_unless_blank"


def test_email_keeps_its_two_rules(admin_client, live):
    html = admin_client.get("/contacts/").content.decode()
    row = mapping_row(html, "email")
    assert 'value="prefer_salesforce_unless_blank"' in row and 'value="two_way"' in row
    assert 'value="dont_sync"' not in row and 'value="always_use_salesforce"' not in row
    owner = mapping_row(html, "hubspot_owner_id")
    assert 'value="two_way"' in owner and 'value="dont_sync"' not in owner
    mapping = FieldMapping.objects.get(integration=live, hubspot_property="email")
    html = admin_client.post(
        f"/mappings/{mapping.pk}/rule/", {"rule": "dont_sync"}, **HTMX
    ).content.decode()
    assert "row--error" in html and "Email syncs only with" in html
    mapping.refresh_from_db()
    assert mapping.rule == "prefer_salesforce_unless_blank"


def test_a_read_only_salesforce_field_takes_only_salesforces_value(admin_client, schemas):
    """Spec §8.2: a formula or read-only Salesforce field takes no writes; its mapping may
    only use Salesforce's value (or not sync), wherever the rule is set."""
    data = {"hubspot_property": "favourite_colour", "salesforce_field": "Name"}  # a compound
    html = admin_client.post(
        "/objects/contacts/mappings/add/", {**data, "rule": "two_way"}, **HTMX
    ).content.decode()
    assert "Read-only in Salesforce" in html
    assert not FieldMapping.objects.filter(salesforce_field="Name").exists()
    admin_client.post(
        "/objects/contacts/mappings/add/", {**data, "rule": "always_use_salesforce"}, **HTMX
    )
    mapping = FieldMapping.objects.get(integration=schemas, salesforce_field="Name")
    row = mapping_row(editor(admin_client), "favourite_colour")
    assert 'value="always_use_salesforce"' in row and 'value="dont_sync"' in row
    assert 'value="two_way"' not in row and 'value="prefer_salesforce_unless_blank"' not in row
    html = admin_client.post(
        f"/mappings/{mapping.pk}/rule/", {"rule": "two_way"}, **HTMX
    ).content.decode()
    assert "row--error" in html and "Read-only in Salesforce" in html
    mapping.refresh_from_db()
    assert mapping.rule == "always_use_salesforce"


def test_the_add_form_offers_a_read_only_field_only_the_rules_it_may_have(admin_client, schemas):
    """Spec §8.2 before submit: once a read-only Salesforce field is picked, the inline check
    names the rules the form may offer (app.js narrows the picker to them) and checks the pair
    with the first of them; a refused submit renders the picker narrowed."""
    url = "/objects/contacts/mappings/check/"
    data = {"hubspot_property": "favourite_colour", "salesforce_field": "Name", "rule": "two_way"}
    html = admin_client.post(url, data, **HTMX).content.decode()
    assert 'data-rules="always_use_salesforce dont_sync"' in html
    assert "This Salesforce field is read-only" in html
    assert "Compatible: this pair can be mapped." in html and "Read-only in Salesforce" not in html
    # A field that takes writes offers every rule again.
    html = admin_client.post(url, {**data, "salesforce_field": "Colour__c"}, **HTMX)
    html = html.content.decode()
    every = "prefer_salesforce_unless_blank always_use_salesforce two_way dont_sync"
    assert f'data-rules="{every}"' in html and "read-only" not in html
    # Submitting a rule it may not have is still refused; the form comes back narrowed.
    html = admin_client.post("/objects/contacts/mappings/add/", data, **HTMX).content.decode()
    assert "Read-only in Salesforce" in html
    assert not FieldMapping.objects.filter(salesforce_field="Name").exists()
    picker = html[html.index('<select id="id_rule"') :]
    picker = picker[: picker.index("</select>")]
    assert '<option value="always_use_salesforce" selected>' in picker
    assert '<option value="dont_sync">' in picker
    assert '<option value="two_way" disabled hidden>' in picker
    assert '<option value="prefer_salesforce_unless_blank" disabled hidden>' in picker


def test_delete_a_custom_mapping_but_never_a_default(admin_client, schemas):
    admin_client.post(
        "/objects/contacts/mappings/add/",
        {"hubspot_property": "favourite_colour", "salesforce_field": "Colour__c",
         "rule": "two_way"},
    )  # fmt: skip
    custom = FieldMapping.objects.get(hubspot_property="favourite_colour")
    html = admin_client.post(f"/mappings/{custom.pk}/delete/", **HTMX).content.decode()
    assert "Deleted the mapping of Favourite Colour." in html  # its label, as when added
    assert not FieldMapping.objects.filter(pk=custom.pk).exists()
    default = FieldMapping.objects.get(hubspot_property="email")
    html = admin_client.post(f"/mappings/{default.pk}/delete/", **HTMX).content.decode()
    assert "Default mappings can&#x27;t be deleted" in html
    assert FieldMapping.objects.filter(pk=default.pk).exists()


def test_viewers_see_the_mappings_but_cannot_change_them(viewer_client, admin_client, live):
    admin_client.get("/contacts/")
    html = viewer_client.get("/contacts/").content.decode()
    assert 'data-hubspot="email"' in html
    assert "Add a mapping" not in html and "Refresh properties and fields" not in html
    mapping = FieldMapping.objects.get(hubspot_property="jobtitle")
    for path, data in [
        (f"/mappings/{mapping.pk}/rule/", {"rule": "two_way"}),
        (f"/mappings/{mapping.pk}/delete/", {}),
        ("/objects/contacts/mappings/add/", {"hubspot_property": "x", "salesforce_field": "y"}),
        ("/objects/contacts/mappings/refresh/", {}),
    ]:
        assert viewer_client.post(path, data, **HTMX).status_code == 403, path
    mapping.refresh_from_db()
    assert mapping.rule == "prefer_salesforce_unless_blank"


def test_unknown_mapping_and_object_are_404(admin_client, live):
    assert admin_client.post("/mappings/999999/rule/", {"rule": "two_way"}).status_code == 404
    assert admin_client.get("/objects/planets/mappings/", **HTMX).status_code == 404
