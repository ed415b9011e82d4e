"""The mapping editor's compatibility check (spec §8.1) where a contact mapping covers two
Salesforce objects: the lead's field and the contact's field of the same name."""

from __future__ import annotations

import pytest
from hubspot.crm.properties import PropertyCreate

from emulators.testing import hubspot_client
from sync_engine.models import FieldMapping
from sync_engine.services import schema_refresh

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def score(live, emulators):
    """A HubSpot number property, and a ``Score__c`` that is a number on Lead but text on
    Contact, read into the cache."""
    hubspot_client(emulators, strict=False).crm.properties.core_api.create(
        "contacts",
        PropertyCreate(
            name="score", label="Score", type="number", field_type="number",
            group_name="contactinformation",
        ),
    )  # fmt: skip
    emulators.salesforce.app.run_action("add_field", object="Lead", field="Score", type="double")
    emulators.salesforce.app.run_action("add_field", object="Contact", field="Score")
    schema_refresh(integration=live, object_name="contacts")
    return live


def test_a_field_incompatible_on_contacts_is_refused_though_leads_fit(admin_client, score):
    """A number property can't map to Contact's text field, whatever Lead's is: the check
    says which object's field doesn't fit, and nothing is saved (a contact's text would
    never fit HubSpot's number)."""
    data = {"hubspot_property": "score", "salesforce_field": "Score__c", "rule": "two_way"}
    check = admin_client.post("/objects/contacts/mappings/check/", data, **HTMX).content.decode()
    assert (
        "A HubSpot Number property can&#x27;t map to a Salesforce Text field: "
        "Contact&#x27;s Score__c is one"
    ) in check
    assert 'data-check="blocked"' in check
    html = admin_client.post("/objects/contacts/mappings/add/", data, **HTMX).content.decode()
    assert "Contact&#x27;s Score__c is one" in html
    assert not FieldMapping.objects.filter(hubspot_property="score").exists()
