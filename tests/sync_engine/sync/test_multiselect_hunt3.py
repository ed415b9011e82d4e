"""A HubSpot "Multiple checkboxes" property mapped to a restricted Salesforce multi-select
picklist (spec §8.1): several options chosen reach Salesforce as several values."""

from __future__ import annotations

from hubspot.crm.properties import Option, PropertyCreate

from sync_engine.models import SyncError
from sync_engine.services import mapping_create

from .helpers import hs_create


def test_two_checked_options_reach_a_restricted_multi_select(
    cycle, integration, emulators, sf_person, hs_person
):
    colours = ["Red", "Blue", "Green"]
    emulators.salesforce.app.run_action(
        "add_field",
        object="Contact",
        field="Colours",
        type="multipicklist",
        values=colours,
        restricted=True,
    )
    hs_person.crm.properties.core_api.create(
        "contacts",
        PropertyCreate(
            name="colours",
            label="Colours",
            type="enumeration",
            field_type="checkbox",
            group_name="contactinformation",
            options=[
                Option(label=c, value=c, display_order=i, hidden=False)
                for i, c in enumerate(colours)
            ],
        ),
    )
    cycle.settings(hubspot_creates="contact")
    mapping_create(
        integration=integration,
        object_name="contacts",
        hubspot_property="colours",
        salesforce_field="Colours__c",
        rule="two_way",
    )
    contact = hs_create(
        hs_person, email="palette@example.com", lastname="Painter", colours="Red;Blue"
    )
    run = cycle()
    assert run.counts.get("created_in_salesforce") == 1, run.counts
    assert not SyncError.objects.filter(resolved_at__isnull=True).exists()
    record = sf_person.Contact.get(cycle.link(hubspot_id=contact).salesforce_id)
    assert sorted(record["Colours__c"].split(";")) == ["Blue", "Red"]
