"""Dates and date/times across the standard pairs (contacts, companies, deals): the mapping
editor pairs a HubSpot date picker with a Salesforce date or date/time (spec §8.1), and
either way round each record syncs, holding the same day on both sides."""

from __future__ import annotations

import pytest
from hubspot.crm.contacts import SimplePublicObjectInput
from hubspot.crm.properties import PropertyCreate

from emulators.testing import advance_clocks
from sync_engine.models import RecordLink, SyncError
from sync_engine.services import mapping_create, object_settings_update
from sync_engine.sync.cycle import sync_cycle_run

# HubSpot object: (Salesforce object, HubSpot property group, the Salesforce record's fields)
PAIRS = {
    "contacts": ("Contact", "contactinformation", {"LastName": "Doe", "Email": "d@x.example"}),
    "companies": ("Account", "companyinformation", {"Name": "Globex"}),
    "deals": (
        "Opportunity",
        "dealinformation",
        {"Name": "Renewal", "StageName": "Prospecting", "CloseDate": "2026-12-31"},
    ),
}
WRITES = ("created_in_hubspot", "updated_in_hubspot", "updated_in_salesforce")


class Pair:
    """One standard pair with a date-ish field mapped: cycles, and both sides' values."""

    def __init__(self, integration, emulators, hs, sf, object_name, field, prop):
        self.integration, self.emulators, self.hs, self.sf = integration, emulators, hs, sf
        self.object_name, self.field, self.prop = object_name, field, prop
        self.sobject = PAIRS[object_name][0]

    def __call__(self):
        """One cycle of the pair (contacts first, as the scheduler orders them)."""
        for object_name in dict.fromkeys(("contacts", self.object_name)):
            run = sync_cycle_run(integration=self.integration, object_name=object_name)
            assert run.status == "succeeded", run.message
        return run

    def errors(self) -> list[str]:
        open_errors = SyncError.objects.filter(object=self.object_name, resolved_at__isnull=True)
        return list(open_errors.values_list("message", flat=True))

    def create(self, value: str) -> str:
        fields = {**PAIRS[self.object_name][2], self.field: value}
        return getattr(self.sf, self.sobject).create(fields)["id"]

    def update(self, record: str, value: str) -> None:
        getattr(self.sf, self.sobject).update(record, {self.field: value})

    def salesforce(self, record: str) -> str | None:
        return getattr(self.sf, self.sobject).get(record)[self.field]

    def hubspot_id(self, record: str) -> str:
        return RecordLink.objects.get(object=self.object_name, salesforce_id=record).hubspot_id

    def hubspot(self, record: str) -> str | None:
        api = getattr(self.hs.crm, self.object_name).basic_api
        return api.get_by_id(self.hubspot_id(record), properties=[self.prop]).properties[self.prop]

    def edit_in_hubspot(self, record: str, value: str) -> None:
        api = getattr(self.hs.crm, self.object_name).basic_api
        api.update(self.hubspot_id(record), SimplePublicObjectInput(properties={self.prop: value}))


def writes(run) -> dict[str, int]:
    return {k: run.counts[k] for k in WRITES if run.counts.get(k)}


def mapped_two_way(
    integration,
    emulators,
    hs,
    object_name: str,
    sobject: str,
    group: str,
    *,
    field: str,
    prop: str,
    label: str,
    sf_type: str,
    hs_type: str,
) -> None:
    """A custom Salesforce field and a HubSpot date-picker property of those types, mapped
    two-way through the mapping editor's service."""
    emulators.salesforce.app.run_action(
        "add_field", object=sobject, field=field, type=sf_type, label=label
    )
    hs.crm.properties.core_api.create(
        object_name,
        PropertyCreate(name=prop, label=label, type=hs_type, field_type="date", group_name=group),
    )
    mapping_create(
        integration=integration,
        object_name=object_name,
        hubspot_property=prop,
        salesforce_field=field,
        rule="two_way",
    )


@pytest.fixture
def mapped(integration, emulators, hs_person, sf_person):
    """``mapped(object_name, salesforce_type, hubspot_type)``: a custom Salesforce field and
    a HubSpot property of those types, mapped two-way through the mapping editor's service."""
    emulators.hubspot.app.configure_budget(search_per_second=1000)

    def make(object_name: str, sf_type: str, hs_type: str) -> Pair:
        sobject, group, _ = PAIRS[object_name]
        field, prop = "Last_Demo__c", "last_demo"
        object_settings_update(
            integration=integration, object_name="contacts", changes={"hubspot_creates": "contact"}
        )
        if object_name != "contacts":
            object_settings_update(
                integration=integration, object_name=object_name, changes={}, enabled=True
            )
        mapped_two_way(
            integration,
            emulators,
            hs_person,
            object_name,
            sobject,
            group,
            field=field,
            prop=prop,
            label="Last demo",
            sf_type=sf_type,
            hs_type=hs_type,
        )
        return Pair(integration, emulators, hs_person, sf_person, object_name, field, prop)

    return make


@pytest.mark.parametrize("object_name", sorted(PAIRS))
def test_a_salesforce_date_time_syncs_with_a_hubspot_date_picker(mapped, emulators, object_name):
    """A HubSpot date picker holds a day (at midnight UTC, or HubSpot refuses it): it gets
    the date/time's day (UTC), another time that day changes nothing, and a day picked in
    HubSpot lands in Salesforce at midnight UTC."""
    pair = mapped(object_name, "datetime", "date")
    record = pair.create("2026-03-05T22:30:00.000+0000")
    pair()
    assert pair.errors() == []
    assert pair.hubspot(record) == "2026-03-05"
    assert writes(pair()) == {}

    # Another time the same day: nothing to write, either way.
    pair.update(record, "2026-03-05T09:00:00.000+0000")
    assert writes(pair()) == {}
    assert pair.salesforce(record) == "2026-03-05T09:00:00.000+0000"

    # A day picked in HubSpot (two-way: the later edit wins).
    advance_clocks(emulators, 60)
    pair.edit_in_hubspot(record, "2026-04-01")
    assert writes(pair()) == {"updated_in_salesforce": 1}
    assert pair.salesforce(record) == "2026-04-01T00:00:00.000+0000"
    assert pair.hubspot(record) == "2026-04-01"
    assert pair.errors() == []
    assert writes(pair()) == {}

    # A new day in Salesforce reaches HubSpot.
    advance_clocks(emulators, 60)
    pair.update(record, "2026-05-02T23:59:00.000+0000")
    assert writes(pair()) == {"updated_in_hubspot": 1}
    assert pair.hubspot(record) == "2026-05-02"


@pytest.mark.parametrize("object_name", sorted(PAIRS))
def test_a_salesforce_date_syncs_with_a_hubspot_date_time(mapped, emulators, object_name):
    """The other way round: a Salesforce date is midnight of its day in the HubSpot account's
    time zone (UTC here; see test_dates_time_zone.py), and a HubSpot date/time is its day
    there in Salesforce; another time that day changes nothing."""
    pair = mapped(object_name, "date", "datetime")
    record = pair.create("2026-03-05")
    pair()
    assert pair.errors() == []
    assert pair.hubspot(record) == "2026-03-05T00:00:00.000Z"
    assert writes(pair()) == {}

    advance_clocks(emulators, 60)
    pair.edit_in_hubspot(record, "2026-04-01T15:45:00.000Z")
    assert writes(pair()) == {"updated_in_salesforce": 1}
    assert pair.salesforce(record) == "2026-04-01"
    assert pair.errors() == []
    assert writes(pair()) == {}

    advance_clocks(emulators, 60)
    pair.edit_in_hubspot(record, "2026-04-01T08:00:00.000Z")
    assert writes(pair()) == {}
    assert pair.salesforce(record) == "2026-04-01"


def test_a_date_keeps_its_day_whatever_the_account_s_time_zone(mapped, emulators):
    """A HubSpot date picker and a Salesforce date both hold a day: in an account in New
    York (or Tokyo) the day is the same on both sides, whichever way it was written."""
    emulators.hubspot.app.run_action("set_time_zone", time_zone="America/New_York")
    pair = mapped("contacts", "date", "date")
    record = pair.create("2026-03-05")
    pair()
    assert pair.hubspot(record) == "2026-03-05"

    advance_clocks(emulators, 60)
    pair.edit_in_hubspot(record, "1775001600000")  # 1 April 2026, midnight UTC, as ms
    assert writes(pair()) == {"updated_in_salesforce": 1}
    assert pair.salesforce(record) == "2026-04-01"
    assert pair.hubspot(record) == "2026-04-01"
    assert pair.errors() == []
    assert writes(pair()) == {}
