"""A mapped Salesforce field that goes away under the sync (deleted, or hidden from the
integration user by field-level security): the pair reads its fields again and syncs the rest,
says so, and the mapping table warns; the pair doesn't stop."""

from __future__ import annotations

from django.test import Client

from sync_engine.models import FieldMapping
from sync_engine.sync.cycle import sync_cycle_run
from tests.integration_admin.conftest import ADMINS, person

from .helpers import hs_update, new_lead
from .test_custom_objects import projects  # noqa: F401  (the fixture)


def hide(emulators, sf_connection, sobject: str, field: str) -> None:
    """The field hidden from the integration user, some time after its fields were read."""
    from datetime import timedelta

    from django.utils import timezone

    from sync_engine.models import SchemaCache

    SchemaCache.objects.update(fetched_at=timezone.now() - timedelta(hours=1))
    emulators.salesforce.app.run_action(
        "set_field_permission", object=sobject, field=field, access="hidden",
        token=sf_connection.access_token,
    )  # fmt: skip


def test_a_field_hidden_right_after_the_fields_were_read_fails_the_run_as_it_says(
    cycle, emulators, sf_connection, sf_person
):
    """A describe read minutes ago that lists the field isn't read again each cycle (a
    refusal it can't explain has another cause): the run fails, saying Salesforce's words."""
    new_lead(sf_person, Email="fresh@example.com", Title="CTO")
    cycle()
    emulators.salesforce.app.run_action(
        "set_field_permission", object="Lead", field="Title", access="hidden",
        token=sf_connection.access_token,
    )  # fmt: skip
    sf_person.Lead.create({"LastName": "New", "Company": "Co", "Email": "n@example.com"})
    run = sync_cycle_run(integration=cycle.integration, object_name="contacts")
    assert run.status == "failed" and "No such column 'Title'" in run.message


def test_a_mapped_field_hidden_in_salesforce_leaves_the_rest_syncing(
    cycle, emulators, sf_connection, sf_person, hs_person
):
    lead = new_lead(sf_person, Email="hidden@example.com", Title="CTO")
    cycle()
    contact = cycle.link(salesforce_id=lead).hubspot_id
    hide(emulators, sf_connection, "Lead", "Title")
    hide(emulators, sf_connection, "Contact", "Title")
    sf_person.Lead.update(lead, {"Company": "Other Co"})
    hs_update(hs_person, contact, city="Utrecht")

    run = sync_cycle_run(integration=cycle.integration, object_name="contacts")
    assert run.status == "succeeded", run.message
    assert "Salesforce no longer shows Lead.Title" in run.message
    assert sf_person.Lead.get(lead)["City"] == "Utrecht"
    company = hs_person.crm.contacts.basic_api.get_by_id(contact, properties=["company"])
    assert company.properties["company"] == "Other Co"
    run = sync_cycle_run(integration=cycle.integration, object_name="contacts")
    assert run.status == "succeeded" and run.message == ""

    # The Contacts tab says why the mapping no longer syncs.
    browser = Client()
    browser.force_login(person("ada", ADMINS))
    page = browser.get("/contacts/").content.decode()
    # Title's row warns (its badge's title and its text), and no other.
    assert page.count("Never syncs: Salesforce no longer has this field") == 2
    title = FieldMapping.objects.get(object="contacts", hubspot_property="jobtitle")
    assert title.salesforce_field == "Title"


def test_a_mapped_field_of_a_custom_object_hidden_in_salesforce_leaves_the_rest_syncing(
    projects,  # noqa: F811
    emulators,
    sf_connection,
    sf_person,
):
    project = sf_person.Project__c.create({"Name": "Mercury", "Budget__c": 100.0})["id"]
    projects()
    record = projects.link(salesforce_id=project).hubspot_id
    hide(emulators, sf_connection, "Project__c", "Description__c")
    sf_person.Project__c.update(project, {"Budget__c": 250.5})
    run = projects()
    assert "Project__c.Description__c" in run.message
    assert projects.get(record)["budget"] == "250.5"
