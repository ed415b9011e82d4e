"""A custom object record made in HubSpot whose Salesforce record is then deleted while a
Salesforce delete keeps the HubSpot record: the kept record stays unlinked, and only a later
edit by a person creates a new Salesforce record; the integration's own write of the sync key
(read back by the next cycles) never does."""

from __future__ import annotations

import pytest

from emulators.testing import advance_clocks

from .test_custom_objects import KEY
from .test_custom_objects_failures import paired

OBJECTS = {
    # Salesforce object: mappings (Project__c upserts by its external id, Campaign can't)
    "Project__c": {"Name": "project_name", "Budget__c": "budget"},
    "Campaign": {"Name": "project_name"},
}


def live(sf, sobject: str) -> list[dict]:
    return sf.query(f"SELECT Id, Name FROM {sobject}")["records"]  # noqa: S608


@pytest.mark.parametrize("sobject", sorted(OBJECTS))
def test_a_kept_record_is_created_again_only_after_a_person_edits_it(
    integration, emulators, hs_person, sf_person, sobject
):
    pairing = paired(integration, emulators, hs_person, sobject, OBJECTS[sobject])
    pairing.settings(salesforce_delete="nothing")
    record = pairing.create(project_name="Kept in HubSpot")
    assert pairing().counts["created_in_salesforce"] == 1
    first = pairing.link(hubspot_id=record).salesforce_id
    assert pairing.get(record)[KEY] == first  # the integration's own write to the record

    advance_clocks(emulators, 5)
    getattr(sf_person, sobject).delete(first)  # a rep deletes it before the next cycle
    advance_clocks(emulators, 5)
    for _ in range(2):  # the next cycles read the own write back: no new Salesforce record
        run = pairing()
        assert not run.counts.get("created_in_salesforce"), run.counts
    assert live(sf_person, sobject) == [] and not pairing.links().exists()
    assert record in pairing.ids()

    # A person edits the kept record: it is created again in Salesforce.
    advance_clocks(emulators, 5)
    pairing.update(record, project_name="Kept and edited")
    assert pairing().counts["created_in_salesforce"] == 1
    rows = live(sf_person, sobject)
    assert [r["Name"] for r in rows] == ["Kept and edited"]
    assert pairing.link(hubspot_id=record).salesforce_id == rows[0]["Id"] != first
    assert pairing.get(record)[KEY] == rows[0]["Id"]
    advance_clocks(emulators, 5)
    pairing()
    assert len(live(sf_person, sobject)) == 1
