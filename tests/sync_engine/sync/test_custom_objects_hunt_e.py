"""Custom objects as a demanding admin meets them: records merged in HubSpot."""

from __future__ import annotations

from emulators.testing import advance_clocks

from .test_custom_objects import projects, writes  # noqa: F401


def live(sf) -> dict[str, dict]:
    return {r["Id"]: r for r in sf.query("SELECT Id, Name, Budget__c FROM Project__c")["records"]}


def merge(projects, emulators, survivor: str, merged: str) -> None:  # noqa: F811
    advance_clocks(emulators, 5)
    emulators.hubspot.app.run_action(
        "merge", object_type=projects.type, primary_id=survivor, merged_id=merged
    )
    advance_clocks(emulators, 5)


def test_a_project_merged_away_in_hubspot_is_not_deleted_in_salesforce(
    projects,  # noqa: F811
    sf_person,
    emulators,
):
    """Two synced projects merged in HubSpot, while "a HubSpot delete deletes in Salesforce":
    a merge is no delete. The merged-away record's project stays in Salesforce, even when a
    rep edits it before the next cycle (its HubSpot id then reads as the survivor)."""
    projects.settings(hubspot_delete="delete")
    keep = sf_person.Project__c.create({"Name": "Keep"})["id"]
    other = sf_person.Project__c.create({"Name": "Duplicate"})["id"]
    projects()
    survivor = projects.link(salesforce_id=keep).hubspot_id
    merged = projects.link(salesforce_id=other).hubspot_id

    merge(projects, emulators, survivor, merged)
    sf_person.Project__c.update(other, {"Budget__c": 5})
    advance_clocks(emulators, 5)
    run = projects()
    assert not run.counts.get("deleted_in_salesforce"), run.counts
    assert set(live(sf_person)) == {keep, other}
    # The survivor stays the partner of its own project.
    assert projects.link(hubspot_id=survivor).salesforce_id == keep
    assert projects.get(survivor)["project_name"] == "Keep"


def test_a_synced_project_merged_into_a_new_hubspot_record_keeps_syncing_with_it(
    projects,  # noqa: F811
    sf_person,
    emulators,
):
    """A rep makes the project again in HubSpot, and the admin merges the synced record into
    it: the link follows the survivor, so a Salesforce edit reaches it, and neither app gets
    a second record."""
    project = sf_person.Project__c.create({"Name": "Bridge"})["id"]
    projects()
    merged = projects.link(salesforce_id=project).hubspot_id
    survivor = projects.create(project_name="Bridge (HubSpot)")

    merge(projects, emulators, survivor, merged)
    sf_person.Project__c.update(project, {"Budget__c": 75})
    advance_clocks(emulators, 5)
    run = projects()
    assert not run.counts.get("created_in_salesforce") and not run.counts.get(
        "created_in_hubspot"
    ), run.counts
    assert list(live(sf_person)) == [project]
    assert projects.ids() == [survivor]
    assert projects.link(salesforce_id=project).hubspot_id == survivor
    assert projects.get(survivor)["budget"] == "75"
    advance_clocks(emulators, 5)
    assert writes(projects()) == []
