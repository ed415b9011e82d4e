"""A HubSpot custom record whose external id value another HubSpot record already syncs by:
Sync health files it as a value already in use (change or merge one of the two), naming the
record that holds the value, not as a value that doesn't fit its field."""

from __future__ import annotations

from integration_admin.labels import error_text

from .test_custom_objects import coded_projects
from .test_custom_objects_failures import open_errors


def test_a_code_another_hubspot_project_syncs_by_is_a_value_in_use(
    integration, emulators, hs_person, sf_person
):
    pairing = coded_projects(integration, emulators, hs_person)
    project = sf_person.Project__c.create({"Name": "Apollo", "External_Id__c": "P-1"})["id"]
    pairing()
    record = pairing.link(salesforce_id=project).hubspot_id
    copy = pairing.create(project_name="Apollo copy", project_code="P-1")
    assert pairing().counts["failed"] == 1

    error = open_errors(pairing.name).get()
    assert error.record_key == f"hubspot:{copy}"
    assert error.error_type == "value_in_use" and error.fields == ["External_Id__c"]
    assert str(error_text(error.error_type).title) == "Value already in use"
    # "the raw message names the record that holds it", as the card's fix says
    assert f"already syncs with another HubSpot record, {record} " in error.message
    assert sf_person.Project__c.get(project)["Name"] == "Apollo"


def test_two_new_projects_with_one_code_are_a_value_in_use(
    integration, emulators, hs_person, sf_person
):
    pairing = coded_projects(integration, emulators, hs_person)
    first = pairing.create(project_name="Apollo", project_code="P-1")
    second = pairing.create(project_name="Apollo copy", project_code="P-1")
    pairing()
    error = open_errors(pairing.name).get()
    assert error.record_key == f"hubspot:{second}"
    assert f"HubSpot record {first} has the same project_code" in error.message
    assert error.error_type == "value_in_use"
