"""Field mappings end to end on contacts, companies and deals (spec §4, §8.1, §8.2): a value
Salesforce refuses holds back only its own field, and a HubSpot property mapped again to
another Salesforce field keeps its value."""

from __future__ import annotations

import pytest
from hubspot.crm.contacts import SimplePublicObjectInput
from hubspot.crm.properties import OptionInput, PropertyCreate

from emulators.testing import advance_clocks
from sync_engine.models import RecordLink, SyncError
from sync_engine.services import (
    mapping_create,
    mapping_delete,
    object_settings_update,
    object_sync_get_or_create,
    schema_refresh,
)
from sync_engine.sync.cycle import sync_cycle_run

from .helpers import due_now, hs_get, hs_update

# HubSpot object: (Salesforce object, property group, a new record's fields, the default
# mapping "other" edits: (HubSpot property, Salesforce field), blank in Salesforce).
PAIRS = {
    "contacts": (
        "Contact",
        "contactinformation",
        {"LastName": "Doe", "Email": "d@x.example"},
        ("jobtitle", "Title"),
    ),
    "companies": (
        "Account",
        "companyinformation",
        {"Name": "Globex"},
        ("description", "Description"),
    ),
    "deals": (
        "Opportunity",
        "dealinformation",
        {"Name": "Renewal", "StageName": "Prospecting", "CloseDate": "2026-12-31"},
        ("description", "Description"),
    ),
}


class Pair:
    """One standard pair with the custom field ``Probe__c`` mapped to HubSpot's ``probe``."""

    field, prop = "Probe__c", "probe"

    def __init__(self, integration, hs, sf, object_name):
        self.integration, self.hs, self.sf, self.object_name = integration, hs, sf, object_name
        self.sobject = PAIRS[object_name][0]

    def __call__(self) -> None:
        """One cycle of the pair (contacts first, as the scheduler orders them)."""
        for object_name in dict.fromkeys(("contacts", self.object_name)):
            run = sync_cycle_run(integration=self.integration, object_name=object_name)
            assert run.status == "succeeded", run.message

    def errors(self) -> list[tuple[str, str]]:
        open_errors = SyncError.objects.filter(object=self.object_name, resolved_at__isnull=True)
        return list(open_errors.values_list("error_type", "code"))

    def create(self, value) -> str:
        fields = {**PAIRS[self.object_name][2], self.field: value}
        return getattr(self.sf, self.sobject).create(fields)["id"]

    def salesforce(self, record: str, field: str | None = None):
        return getattr(self.sf, self.sobject).get(record)[field or self.field]

    def hubspot_id(self, record: str) -> str:
        return RecordLink.objects.get(object=self.object_name, salesforce_id=record).hubspot_id

    def hubspot(self, record: str) -> str | None:
        api = getattr(self.hs.crm, self.object_name).basic_api
        found = api.get_by_id(self.hubspot_id(record), properties=[self.prop])
        return found.properties[self.prop]

    def edit_in_hubspot(self, record: str, **props) -> None:
        api = getattr(self.hs.crm, self.object_name).basic_api
        api.update(self.hubspot_id(record), SimplePublicObjectInput(properties=props))


@pytest.fixture
def mapped(integration, emulators, hs_person, sf_person):
    """``mapped(object_name, salesforce_type, hubspot_type, field_type, **field)``: a custom
    Salesforce field and HubSpot property of those types, mapped two-way in the editor."""
    emulators.hubspot.app.configure_budget(search_per_second=1000)

    def make(object_name, sf_type, hs_type, field_type, *, options=(), **field) -> Pair:
        sobject, group, _, _ = PAIRS[object_name]
        object_settings_update(
            integration=integration, object_name="contacts", changes={"hubspot_creates": "contact"}
        )
        if object_name != "contacts":
            object_settings_update(
                integration=integration, object_name=object_name, changes={}, enabled=True
            )
        emulators.salesforce.app.run_action(
            "add_field", object=sobject, field="Probe", type=sf_type, label="Probe", **field
        )
        hs_person.crm.properties.core_api.create(
            object_name,
            PropertyCreate(
                name="probe", label="Probe", type=hs_type, field_type=field_type,
                group_name=group,
                options=[
                    OptionInput(label=o, value=o, display_order=i, hidden=False)
                    for i, o in enumerate(options)
                ] or None,
            ),
        )  # fmt: skip
        mapping_create(
            integration=integration,
            object_name=object_name,
            hubspot_property="probe",
            salesforce_field="Probe__c",
            rule="two_way",
        )
        return Pair(integration, hs_person, sf_person, object_name)

    return make


REFUSALS = {
    # a picklist value Salesforce's restricted picklist lacks
    "picklist": (
        ("picklist", "enumeration", "select"),
        {"values": ["Red", "Green"], "restricted": True, "options": ("Red", "Green", "Zed")},
        "Red", "Zed", "Green",
        ("picklist", "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST"),
    ),
    # text longer than the Salesforce field: an error, not cut short (spec §4)
    "too long": (
        ("string", "string", "text"),
        {"length": 10},
        "Short", "x" * 30, "Fits",
        ("property_value", "STRING_TOO_LONG"),
    ),
}  # fmt: skip


@pytest.mark.parametrize("refusal", sorted(REFUSALS))
@pytest.mark.parametrize("object_name", sorted(PAIRS))
def test_a_value_salesforce_refuses_holds_back_only_its_own_field(
    mapped, emulators, object_name, refusal
):
    """A HubSpot edit Salesforce refuses for one field's value is that field's typed error;
    the record's other edits still land. HubSpot keeps the refused value (nothing overwrites
    it), its retry tries it again, and once it is fixed in HubSpot it lands and the error
    ends."""
    types, field, first, refused, fixed, error = REFUSALS[refusal]
    pair = mapped(object_name, *types, **field)
    other_prop, other_field = PAIRS[object_name][3]
    record = pair.create(first)
    pair()
    assert pair.hubspot(record) == first

    advance_clocks(emulators, 60)
    pair.edit_in_hubspot(record, **{pair.prop: refused, other_prop: "Edited in HubSpot"})
    pair()
    assert pair.salesforce(record, other_field) == "Edited in HubSpot"
    assert pair.salesforce(record) == first
    assert pair.errors() == [error]

    advance_clocks(emulators, 60)
    pair()
    due_now(SyncError.objects.get(resolved_at__isnull=True))
    pair()  # its retry: refused again
    assert pair.hubspot(record) == refused
    assert pair.salesforce(record) == first
    assert pair.errors() == [error]

    advance_clocks(emulators, 60)
    pair.edit_in_hubspot(record, **{pair.prop: fixed})
    pair()
    assert pair.salesforce(record) == fixed
    assert pair.errors() == []


def test_a_property_mapped_again_to_another_field_keeps_its_value(
    integration, emulators, hs_person, sf_person
):
    """A mapping deleted and its HubSpot property mapped to another Salesforce field: what
    the old field last synced is no baseline for the new one, so the new field's blank is no
    "cleared in Salesforce" wiping HubSpot's value at the contact's next sync; the new
    mapping is not retroactive, and on the next change HubSpot fills the blank (§8.2)."""
    object_sync_get_or_create(integration=integration, object_name="contacts")
    for sobject in ("Lead", "Contact"):
        for name in ("Motto", "Slogan"):
            emulators.salesforce.app.run_action("add_field", object=sobject, field=name)
    hs_person.crm.properties.core_api.create(
        "contacts",
        PropertyCreate(
            name="motto", label="Motto", type="string", field_type="text",
            group_name="contactinformation",
        ),
    )  # fmt: skip
    schema_refresh(integration=integration, object_name="contacts")
    mapping = mapping_create(
        integration=integration,
        object_name="contacts",
        hubspot_property="motto",
        salesforce_field="Motto__c",
    )
    lead = sf_person.Lead.create(
        {"LastName": "Doe", "Company": "Acme", "Email": "m@x.example", "Motto__c": "Carpe diem"}
    )["id"]
    sync_cycle_run(integration=integration, object_name="contacts")
    contact = RecordLink.objects.get(salesforce_id=lead).hubspot_id
    assert hs_get(hs_person, contact, "motto")["motto"] == "Carpe diem"

    mapping_delete(mapping=mapping)
    mapping_create(
        integration=integration,
        object_name="contacts",
        hubspot_property="motto",
        salesforce_field="Slogan__c",
    )
    advance_clocks(emulators, 600)  # past the cursors' overlap
    sync_cycle_run(integration=integration, object_name="contacts")
    assert hs_get(hs_person, contact, "motto")["motto"] == "Carpe diem"  # not retroactive

    hs_update(hs_person, contact, jobtitle="Poet")  # the contact's next change
    sync_cycle_run(integration=integration, object_name="contacts")
    assert hs_get(hs_person, contact, "motto")["motto"] == "Carpe diem"
    assert sf_person.Lead.get(lead)["Slogan__c"] == "Carpe diem"
