"""A custom object's multi-select (a Salesforce multi-select picklist ⇄ a HubSpot "Multiple
checkboxes" property): the same choices in another order are the same value. Salesforce
keeps them in its picklist's order, HubSpot as written, so a value that reached the other
side reordered must read back as no change: no echo write, no update counted."""

from __future__ import annotations

from emulators.testing import salesforce_client

from ..conftest import SF_TOKEN
from .test_custom_objects import MAPPINGS, PROPERTIES, Projects, set_up, writes
from .test_custom_objects_failures import paired

COLOURS = {
    "name": "colours",
    "label": "Colours",
    "type": "enumeration",
    "fieldType": "checkbox",
    # In another order than Salesforce's picklist (Red, Blue, Green).
    "options": [
        {"label": c, "value": c, "displayOrder": i} for i, c in enumerate(["Green", "Blue", "Red"])
    ],
}


def colours(pairing: Projects, record: str) -> str:
    obj = pairing.hs.crm.objects.basic_api.get_by_id(pairing.type, record, properties=["colours"])
    return obj.properties["colours"]


def idle(pairing: Projects) -> None:
    """Two cycles that write nothing and count no update."""
    for _ in range(2):
        run = pairing()
        assert writes(run) == [], run.operations
        assert not any(run.counts.get(k) for k in ("updated_in_hubspot", "updated_in_salesforce"))


def colour_projects(integration, emulators, hs_person) -> Projects:
    """Projects with ``Colours__c`` (Red, Blue, Green) mapped to ``colours``."""
    emulators.salesforce.app.run_action(
        "add_field",
        object="Project__c",
        field="Colours",
        type="multipicklist",
        values=["Red", "Blue", "Green"],
    )
    emulators.hubspot.app.configure_budget(search_per_second=1000)
    hs_type, name = set_up(
        integration,
        hs_person,
        mappings={**MAPPINGS, "Colours__c": "colours"},
        properties=[*PROPERTIES, COLOURS],
    )
    return Projects(integration, emulators, hs_person, hs_type, name)


def test_a_multi_select_reordered_on_the_other_side_is_no_change(
    integration, emulators, hs_person, sf_person
):
    pairing = colour_projects(integration, emulators, hs_person)
    record = pairing.create(project_name="Apollo", colours="Blue;Red")
    assert pairing().counts["created_in_salesforce"] == 1
    project = pairing.link(hubspot_id=record).salesforce_id
    # Salesforce keeps the picklist's order: the value came back reordered.
    assert sf_person.Project__c.get(project)["Colours__c"] == "Red;Blue"
    idle(pairing)
    assert colours(pairing, record) == "Blue;Red"
    assert sf_person.Project__c.get(project)["Colours__c"] == "Red;Blue"

    # An edit that only reorders the choices is no change either.
    pairing.update(record, colours="Red;Blue")
    idle(pairing)
    assert sf_person.Project__c.get(project)["Colours__c"] == "Red;Blue"

    # A choice added still syncs, and then rests.
    pairing.update(record, colours="Green;Red;Blue")
    run = pairing()
    assert run.counts.get("updated_in_salesforce") == 1, run.counts
    assert sf_person.Project__c.get(project)["Colours__c"] == "Red;Blue;Green"
    idle(pairing)
    sf_person.Project__c.update(project, {"Colours__c": "Green"})
    run = pairing()
    assert run.counts.get("updated_in_hubspot") == 1, run.counts
    assert colours(pairing, record) == "Green"
    idle(pairing)


def test_a_snapshot_kept_in_another_order_takes_no_edit_for_a_conflict(
    integration, emulators, hs_person, sf_person
):
    """A link whose snapshot kept the choices as Salesforce orders them (as synced before
    they compared in one order): HubSpot's same choices are no edit, so Salesforce's edit
    wins although HubSpot wins conflicts."""
    pairing = colour_projects(integration, emulators, hs_person)
    pairing.settings(conflict_winner="hubspot")
    record = pairing.create(project_name="Gemini", colours="Blue;Red")
    pairing()
    link = pairing.link(hubspot_id=record)
    link.snapshot = {**link.snapshot, "colours": "Red;Blue"}
    link.save(update_fields=["snapshot"])

    sf_person.Project__c.update(link.salesforce_id, {"Colours__c": "Red;Blue;Green"})
    run = pairing()
    assert not run.counts.get("conflicts"), run.counts
    assert run.counts.get("updated_in_hubspot") == 1, run.counts
    assert sorted(colours(pairing, record).split(";")) == ["Blue", "Green", "Red"]
    assert sf_person.Project__c.get(link.salesforce_id)["Colours__c"] == "Red;Blue;Green"
    idle(pairing)


def test_a_lost_create_answer_is_found_although_salesforce_reordered_its_choices(
    integration, emulators, hs_person, sf_person
):
    """An invoice (no name the sync chooses, no external id) whose create answer is lost is
    found by the values sent, a multi-select among them that Salesforce keeps in another
    order: found, not created again."""
    colour_field = {"object": "Invoice__c", "field": "Colours", "type": "multipicklist"}
    emulators.salesforce.app.run_action("add_field", **colour_field, values=["Red", "Blue"])
    mappings = {"Name": "project_name", "Notes__c": "notes", "Colours__c": "colours"}
    invoices = paired(
        integration, emulators, hs_person, "Invoice__c", mappings, [*PROPERTIES, COLOURS]
    )
    invoices()
    # An earlier invoice of the integration user's with other colours is left alone.
    as_integration_user = salesforce_client(emulators, token=SF_TOKEN)
    as_integration_user.Invoice__c.create({"Notes__c": "Lost", "Colours__c": "Red"})
    record = invoices.create(project_name="March", notes="Lost", colours="Blue;Red")
    emulators.salesforce.app.faults.add(
        path=r"/composite/sobjects$", method="POST", status=500, apply_then_fail=True, times=1
    )
    assert invoices(ok=False).status == "failed"

    run = invoices()
    assert not run.counts.get("created_in_salesforce"), run.counts
    rows = sf_person.query("SELECT Id, Colours__c FROM Invoice__c")["records"]
    assert sorted(r["Colours__c"] for r in rows) == ["Red", "Red;Blue"]
    lost = next(r for r in rows if r["Colours__c"] == "Red;Blue")
    assert invoices.link(hubspot_id=record).salesforce_id == lost["Id"]
    idle(invoices)
