"""A multi-select mapped two-way on contacts, companies, deals and tickets (a Salesforce
multi-select picklist ⇄ a HubSpot "Multiple checkboxes" property): the same choices in
another order are the same value. Salesforce keeps them in its picklist's order, HubSpot as
written, so a HubSpot value that reached Salesforce reordered reads back as no change: no
echo write, no update counted (as custom objects, test_custom_objects_multiselect.py)."""

from __future__ import annotations

import pytest
from hubspot.crm.contacts import SimplePublicObjectInput
from hubspot.crm.properties import OptionInput, PropertyCreate

from emulators.testing import advance_clocks
from sync_engine.models import ApiCall, RecordLink
from sync_engine.services import mapping_create, object_settings_update
from sync_engine.sync.cycle import sync_cycle_run

from .helpers import ticket_sync_on
from .test_mappings_hunt2 import PAIRS

PAIRS = {
    **PAIRS,
    "tickets": ("Case", "ticketinformation", {"Subject": "Printer", "Status": "New"}, None),
}
PICKLIST = ["Red", "Blue", "Green"]  # Salesforce's order
OPTIONS = ["Green", "Blue", "Red"]  # HubSpot's, another
WRITES = ("create", "update", "upsert", "archive", "delete", "collections")
UPDATES = ("updated_in_hubspot", "updated_in_salesforce")


class Colours:
    """One pair with Salesforce's ``Colours__c`` mapped two-way to HubSpot's ``colours``."""

    def __init__(self, integration, hs, sf, object_name):
        self.integration, self.hs, self.sf, self.object_name = integration, hs, sf, object_name
        self.sobject = PAIRS[object_name][0]

    def __call__(self):
        """One cycle of the pair (contacts first, as the scheduler orders them); returns
        (its counts, the writes either side was sent)."""
        first = ApiCall.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
        for object_name in dict.fromkeys(("contacts", self.object_name)):
            run = sync_cycle_run(integration=self.integration, object_name=object_name)
            assert run.status == "succeeded", run.message
        operations = ApiCall.objects.filter(pk__gt=first).values_list("operation", flat=True)
        return run.counts, [op for op in operations if any(w in op for w in WRITES)]

    def idle(self) -> None:
        """Two cycles that write nothing and count no update."""
        for _ in range(2):
            counts, writes = self()
            assert writes == [], writes
            assert not any(counts.get(k) for k in UPDATES), counts

    def create(self) -> str:
        return getattr(self.sf, self.sobject).create(PAIRS[self.object_name][2])["id"]

    def salesforce(self, record: str) -> str | None:
        return getattr(self.sf, self.sobject).get(record)["Colours__c"]

    def link(self, record: str) -> RecordLink:
        return RecordLink.objects.get(object=self.object_name, salesforce_id=record)

    def hubspot(self, record: str) -> str | None:
        api = getattr(self.hs.crm, self.object_name).basic_api
        found = api.get_by_id(self.link(record).hubspot_id, properties=["colours"])
        return found.properties["colours"]

    def edit_in_hubspot(self, record: str, colours: str) -> None:
        api = getattr(self.hs.crm, self.object_name).basic_api
        props = SimplePublicObjectInput(properties={"colours": colours})
        api.update(self.link(record).hubspot_id, props)


@pytest.fixture
def colours(integration, emulators, hs_person, sf_person):
    def make(object_name: str) -> Colours:
        sobject, group, _, _ = PAIRS[object_name]
        emulators.hubspot.app.configure_budget(search_per_second=1000)
        object_settings_update(
            integration=integration, object_name="contacts", changes={"hubspot_creates": "contact"}
        )
        if object_name == "tickets":
            ticket_sync_on(integration, emulators)
        elif object_name != "contacts":
            object_settings_update(
                integration=integration, object_name=object_name, changes={}, enabled=True
            )
        emulators.salesforce.app.run_action(
            "add_field", object=sobject, field="Colours", type="multipicklist", values=PICKLIST
        )
        hs_person.crm.properties.core_api.create(
            object_name,
            PropertyCreate(
                name="colours", label="Colours", type="enumeration", field_type="checkbox",
                group_name=group,
                options=[
                    OptionInput(label=o, value=o, display_order=i, hidden=False)
                    for i, o in enumerate(OPTIONS)
                ],
            ),
        )  # fmt: skip
        mapping_create(
            integration=integration,
            object_name=object_name,
            hubspot_property="colours",
            salesforce_field="Colours__c",
            rule="two_way",
        )
        return Colours(integration, hs_person, sf_person, object_name)

    return make


@pytest.mark.parametrize("object_name", sorted(PAIRS))
def test_a_multi_select_reordered_by_salesforce_is_no_change(colours, object_name):
    pair = colours(object_name)
    record = pair.create()
    pair()
    pair.idle()

    pair.edit_in_hubspot(record, "Blue;Red")
    counts, _ = pair()
    assert counts.get("updated_in_salesforce") == 1, counts
    assert not counts.get("updated_in_hubspot"), counts
    # Salesforce keeps the picklist's order: the value came back reordered.
    assert pair.salesforce(record) == "Red;Blue"
    pair.idle()
    assert pair.hubspot(record) == "Blue;Red"

    # An edit that only reorders the choices is no change either.
    pair.edit_in_hubspot(record, "Red;Blue")
    pair.idle()

    # A choice added still syncs, and then rests.
    pair.edit_in_hubspot(record, "Green;Red;Blue")
    counts, _ = pair()
    assert counts.get("updated_in_salesforce") == 1, counts
    assert pair.salesforce(record) == "Red;Blue;Green"
    pair.idle()
    getattr(pair.sf, pair.sobject).update(record, {"Colours__c": "Green"})
    counts, _ = pair()
    assert counts.get("updated_in_hubspot") == 1, counts
    assert pair.hubspot(record) == "Green"
    pair.idle()


@pytest.mark.parametrize("object_name", ["companies", "contacts", "deals"])
def test_a_snapshot_kept_in_another_order_takes_no_edit_for_a_conflict(
    colours, emulators, object_name
):
    """A link whose snapshot kept the choices as Salesforce orders them (as synced before
    they compared in one order): HubSpot's same choices are no edit, so a Salesforce edit
    is no conflict with them and reaches HubSpot, although HubSpot saved them later."""
    pair = colours(object_name)
    record = pair.create()
    pair()
    pair.edit_in_hubspot(record, "Blue;Red")
    pair()
    assert pair.salesforce(record) == "Red;Blue"
    link = pair.link(record)
    link.snapshot = {**link.snapshot, "colours": "Red;Blue"}
    link.save(update_fields=["snapshot"])

    advance_clocks(emulators, 60)
    getattr(pair.sf, pair.sobject).update(record, {"Colours__c": "Red;Blue;Green"})
    advance_clocks(emulators, 60)
    pair.edit_in_hubspot(record, "Red;Blue")  # saved again later, the same choices
    pair.edit_in_hubspot(record, "Blue;Red")
    counts, _ = pair()
    assert counts.get("updated_in_hubspot") == 1, counts
    assert not counts.get("updated_in_salesforce"), counts
    assert sorted(pair.hubspot(record).split(";")) == ["Blue", "Green", "Red"]
    assert pair.salesforce(record) == "Red;Blue;Green"
    pair.idle()
