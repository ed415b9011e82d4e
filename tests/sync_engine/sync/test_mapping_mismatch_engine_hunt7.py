"""A custom mapping whose HubSpot property or Salesforce field changed type since it was made
(spec §4 item 7, §8.1): once the schemas are read again (Refresh properties and fields), the
mapping row says "Mismatched types", and the cycle leaves the mapping out until a type is
changed back. No value of it moves either way (a checkbox made text holding "maybe" no longer
turns Salesforce's checkbox off; text no longer fails on a field made a Number, record after
record), the record's other fields sync on, and the run says so once, naming the mapping.
"""

from __future__ import annotations

import pytest
from hubspot.crm.contacts import SimplePublicObjectInput
from hubspot.crm.properties import PropertyCreate, PropertyUpdate

from emulators.salesforce.schema import new_field_raw
from emulators.testing import advance_clocks
from integration_admin.labels import engine_message, run_details
from sync_engine.models import RecordLink, SyncError
from sync_engine.services import mapping_create, object_sync_get_or_create, schema_refresh
from sync_engine.sync.context import MAPPINGS_MISMATCHED
from sync_engine.sync.cycle import sync_cycle_run

from .helpers import hs_get


def retype_field(emulators, sobject: str, field: str, new_type: str) -> None:
    """Setup's Change Field Type: the field keeps its name and label, with another type."""
    app = emulators.salesforce.app
    old = app.schema.objects[sobject].fields[field]
    app.schema.add_field(sobject, new_field_raw(field, old.label, new_type))
    app._caches_changed()


def probe_mapped(integration, emulators, hs, sf_type: str, hs_type: str, field_type: str):
    """A custom field ``Probe__c`` (``sf_type``) on leads and contacts and a HubSpot property
    ``probe`` (``hs_type``, ``field_type``), read (Refresh) and mapped two-way."""
    for sobject in ("Lead", "Contact"):
        emulators.salesforce.app.run_action(
            "add_field", object=sobject, field="Probe", type=sf_type, label="Probe"
        )
    hs.crm.properties.core_api.create(
        "contacts",
        PropertyCreate(name="probe", label="Probe", type=hs_type, field_type=field_type,
                       group_name="contactinformation"),
    )  # fmt: skip
    schema_refresh(integration=integration, object_name="contacts")
    mapping_create(
        integration=integration, object_name="contacts", hubspot_property="probe",
        salesforce_field="Probe__c", rule="two_way",
    )  # fmt: skip


# HubSpot property (type, fieldType), Salesforce field type, the value both hold, then the
# change of type: ("hubspot", type, fieldType) or ("salesforce", type); and the HubSpot edit
# that, were the mapping kept, would reach Salesforce wrong or fail.
CHANGES = {
    "checkbox made text": (
        ("bool", "booleancheckbox"), "boolean", True, ("hubspot", "string", "text"), "maybe",
    ),
    "text field made a number": (
        ("string", "text"), "string", "Gold", ("salesforce", "double"), "Platinum",
    ),
}  # fmt: skip


@pytest.fixture
def contact(integration, emulators, hs_person, sf_person):
    """A lead with the custom field ``Probe__c`` mapped two-way to HubSpot's ``probe``,
    synced; returns a function making it for one of ``CHANGES``."""
    emulators.hubspot.app.configure_budget(search_per_second=1000)
    object_sync_get_or_create(integration=integration, object_name="contacts")

    def make(change: str) -> tuple[str, str]:
        (hs_type, field_type), sf_type, value, _, _ = CHANGES[change]
        probe_mapped(integration, emulators, hs_person, sf_type, hs_type, field_type)
        lead = sf_person.Lead.create(
            {"LastName": "Doe", "Company": "Acme", "Email": "vip@x.example", "Probe__c": value}
        )["id"]
        run = sync_cycle_run(integration=integration, object_name="contacts")
        assert run.status == "succeeded", run.message
        hubspot_id = RecordLink.objects.get(salesforce_id=lead).hubspot_id
        assert hs_get(hs_person, hubspot_id, "probe")["probe"] == (
            "true" if value is True else value
        )
        return lead, hubspot_id

    return make


@pytest.mark.parametrize("change", sorted(CHANGES))
def test_a_mapping_whose_type_changed_moves_no_value_and_the_run_says_so(
    integration, emulators, hs_person, sf_person, contact, change
):
    lead, hubspot_id = contact(change)
    _, _, value, (side, *new_type), edit = CHANGES[change]
    if side == "hubspot":
        hs_person.crm.properties.core_api.update(
            "contacts", "probe", PropertyUpdate(type=new_type[0], field_type=new_type[1])
        )
    else:
        for sobject in ("Lead", "Contact"):
            retype_field(emulators, sobject, "Probe__c", new_type[0])
    schema_refresh(integration=integration, object_name="contacts")  # the page's Refresh
    stored = sf_person.Lead.get(lead)["Probe__c"]

    advance_clocks(emulators, 60)
    hs_person.crm.contacts.basic_api.update(
        hubspot_id, SimplePublicObjectInput(properties={"probe": edit, "jobtitle": "Poet"})
    )
    run = sync_cycle_run(integration=integration, object_name="contacts")

    assert run.status == "succeeded"
    assert sf_person.Lead.get(lead)["Title"] == "Poet"  # the other fields sync on
    assert sf_person.Lead.get(lead)["Probe__c"] == stored  # the mapping's moves nothing
    assert not SyncError.objects.filter(resolved_at__isnull=True).exists()
    assert run.counts["mappings_mismatched"] == 1
    assert run.message == MAPPINGS_MISMATCHED.format(mappings="probe (Probe__c)")
    assert "Mappings left out, types mismatched: 1" in run_details(run.counts)
    assert "probe (Probe__c)" in engine_message(run.message)

    # A newer Salesforce value doesn't reach HubSpot either, nor fails there.
    advance_clocks(emulators, 60)
    sf_person.Lead.update(lead, {"Title": "Bard"})
    run = sync_cycle_run(integration=integration, object_name="contacts")
    assert hs_get(hs_person, hubspot_id, "jobtitle")["jobtitle"] == "Bard"
    assert hs_get(hs_person, hubspot_id, "probe")["probe"] == edit
    assert not SyncError.objects.filter(resolved_at__isnull=True).exists()
    assert run.counts["mappings_mismatched"] == 1


def test_a_salesforce_value_of_a_mismatched_mapping_stays_in_salesforce(
    integration, emulators, hs_person, sf_person, contact
):
    """The checkbox made text: Salesforce's newer value would fail to compare with HubSpot's
    "maybe" and never arrive; left out, neither side changes and nothing fails."""
    lead, hubspot_id = contact("checkbox made text")
    hs_person.crm.properties.core_api.update(
        "contacts", "probe", PropertyUpdate(type="string", field_type="text")
    )
    advance_clocks(emulators, 60)
    hs_person.crm.contacts.basic_api.update(
        hubspot_id, SimplePublicObjectInput(properties={"probe": "maybe"})
    )
    schema_refresh(integration=integration, object_name="contacts")
    advance_clocks(emulators, 60)
    sf_person.Lead.update(lead, {"Probe__c": False, "Title": "Bard"})
    run = sync_cycle_run(integration=integration, object_name="contacts")
    shown = hs_get(hs_person, hubspot_id, "probe", "jobtitle")
    assert (shown["probe"], shown["jobtitle"]) == ("maybe", "Bard")
    assert sf_person.Lead.get(lead)["Probe__c"] is False
    assert not SyncError.objects.filter(resolved_at__isnull=True).exists()
    assert run.counts["mappings_mismatched"] == 1


def test_a_mapping_whose_type_still_fits_syncs(integration, emulators, hs_person, sf_person):
    """Text made a Text Area is no mismatch: the mapping syncs, the run says nothing of it."""
    object_sync_get_or_create(integration=integration, object_name="contacts")
    probe_mapped(integration, emulators, hs_person, "string", "string", "text")
    for sobject in ("Lead", "Contact"):
        retype_field(emulators, sobject, "Probe__c", "textarea")
    schema_refresh(integration=integration, object_name="contacts")
    lead = sf_person.Lead.create(
        {"LastName": "Doe", "Company": "Acme", "Email": "a@x.example", "Probe__c": "Long"}
    )["id"]
    run = sync_cycle_run(integration=integration, object_name="contacts")
    hubspot_id = RecordLink.objects.get(salesforce_id=lead).hubspot_id
    assert hs_get(hs_person, hubspot_id, "probe")["probe"] == "Long"
    assert "mappings_mismatched" not in run.counts and not run.message
