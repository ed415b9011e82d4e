"""Re-importing after records were deleted in HubSpot (spec §16: "An import brings any
object's existing records over at any time"): every Salesforce record of the object exists in
HubSpot afterwards. The linked records nobody changed are looked up in HubSpot (one batch read
per 100, no Salesforce call); those deleted there are created again and counted as created,
the others stay "Already synced and unchanged". End to end through the official clients and
the emulators, as ``test_imports.py``."""

from __future__ import annotations

import math

from sync_engine.models import RecordLink
from sync_engine.services import object_settings_update
from tests.sync_engine import test_imports as base
from tests.sync_engine.sync.helpers import hs_emails

integration = base.integration  # the same connected integration, contacts pair on
seed, leads, run, assert_adds_up = base.seed, base.leads, base.run, base.assert_adds_up
last_call, hubspot_calls_since = base.last_call, base.hubspot_calls_since
fast_search = base.fast_search


def hubspot_of(integration, object_name: str, salesforce_ids: list[str]) -> list[str]:
    return [
        RecordLink.objects.get(
            integration=integration, object=object_name, salesforce_id=i
        ).hubspot_id
        for i in salesforce_ids
    ]


def reimport_brings_back(integration, object_name: str, total: int, deleted: list[str]):
    """Re-import ``object_name`` after ``deleted`` (HubSpot ids) were deleted in HubSpot:
    those are created again, the others stay in sync; the look-up costs one HubSpot read per
    100 linked records, and nothing is updated."""
    mark = last_call(integration)
    job = run(integration, object_name)
    assert job.status == "succeeded", job.message
    assert (job.created, job.updated, job.failed) == (len(deleted), 0, 0)
    assert job.skipped_reasons == {"already_in_sync": total - len(deleted)}
    assert_adds_up(job)
    operations = hubspot_calls_since(integration, mark)
    reads = [o for o in operations if o.endswith("batch.read")]
    assert len(reads) >= math.ceil(total / 100), operations
    # Nothing updated or deleted: only the deleted records' creates (and associations).
    writes = hubspot_calls_since(integration, mark, writes=True)
    assert not [o for o in writes if o.rsplit(".", 1)[-1] in ("update", "archive")], writes
    return job


def test_a_lead_and_a_contact_deleted_in_hubspot_are_created_again_by_a_re_import(
    integration, sf_person, hs_person
):
    lead_ids = seed(sf_person, "Lead", leads(5))
    contact_ids = seed(
        sf_person,
        "Contact",
        [{"LastName": f"C{i}", "Email": f"c{i}@import.example"} for i in range(3)],
    )
    assert run(integration, "leads").created == 5
    assert run(integration, "contacts").created == 3
    gone_lead, gone_contact = hubspot_of(integration, "contacts", [lead_ids[2], contact_ids[0]])
    hs_person.crm.contacts.basic_api.archive(gone_lead)
    hs_person.crm.contacts.basic_api.archive(gone_contact)
    assert len(hs_emails(hs_person)) == 6

    reimport_brings_back(integration, "leads", 5, [gone_lead])
    reimport_brings_back(integration, "contacts", 3, [gone_contact])
    emails = hs_emails(hs_person)
    assert "lead2@import.example" in emails and "c0@import.example" in emails
    assert len(emails) == len(set(emails)) == 8
    (again,) = hubspot_of(integration, "contacts", [lead_ids[2]])
    assert again != gone_lead
    # Now all in step again: a third run finds nothing to do, at one HubSpot read (the look
    # up) and the Salesforce calls any re-import costs (COUNT() and one page).
    third = run(integration, "leads")
    assert third.skipped_reasons == {"already_in_sync": 5}
    assert (third.salesforce_calls, third.hubspot_calls) == (2, 1)


def test_an_account_deleted_in_hubspot_is_created_again_by_a_re_import(
    integration, sf_person, hs_person, fast_search
):
    base.pairs_on(integration, "companies")
    ids = seed(sf_person, "Account", [{"Name": f"Account {i}"} for i in range(4)])
    assert run(integration, "accounts").created == 4
    (gone,) = hubspot_of(integration, "companies", [ids[1]])
    hs_person.crm.companies.basic_api.archive(gone)
    reimport_brings_back(integration, "accounts", 4, [gone])
    (again,) = hubspot_of(integration, "companies", [ids[1]])
    company = hs_person.crm.companies.basic_api.get_by_id(again, properties=["name"])
    assert company.properties["name"] == "Account 1"


def test_an_opportunity_deleted_in_hubspot_is_created_again_by_a_re_import(
    integration, sf_person, hs_person, fast_search
):
    base.pairs_on(integration, "deals")
    ids = base.opportunities(sf_person, 3)
    assert run(integration, "opportunities").created == 3
    (gone,) = hubspot_of(integration, "deals", [ids[0]])
    hs_person.crm.deals.basic_api.archive(gone)
    reimport_brings_back(integration, "opportunities", 3, [gone])
    (again,) = hubspot_of(integration, "deals", [ids[0]])
    deal = hs_person.crm.deals.basic_api.get_by_id(again, properties=["dealname"])
    assert deal.properties["dealname"] == "Deal 0"


def test_a_case_deleted_in_hubspot_is_created_again_by_a_re_import(
    integration, sf_person, hs_person, fast_search
):
    ids = seed(sf_person, "Case", [{"Subject": f"Case {i}", "Status": "New"} for i in range(3)])
    object_settings_update(
        integration=integration,
        object_name="tickets",
        changes={"setup_complete": True},
        enabled=True,
    )
    assert run(integration, "cases").created == 3
    (gone,) = hubspot_of(integration, "tickets", [ids[2]])
    hs_person.crm.tickets.basic_api.archive(gone)
    reimport_brings_back(integration, "cases", 3, [gone])
    (again,) = hubspot_of(integration, "tickets", [ids[2]])
    ticket = hs_person.crm.tickets.basic_api.get_by_id(again, properties=["subject"])
    assert ticket.properties["subject"] == "Case 2"


def test_a_task_deleted_in_hubspot_is_created_again_by_a_re_import(
    integration, sf_person, hs_person, fast_search
):
    lead = seed(sf_person, "Lead", leads(1))[0]
    ids = seed(
        sf_person,
        "Task",
        [{"WhoId": lead, "Subject": f"Call back {i}", "Status": "Completed"} for i in range(2)],
    )
    base.lead_imported_and_task_sync_on(integration)
    assert run(integration, "tasks").created == 2
    (gone,) = hubspot_of(integration, "activities", [ids[1]])
    hs_person.crm.objects.basic_api.archive("tasks", gone.split(":", 1)[1])
    reimport_brings_back(integration, "tasks", 2, [gone])
    tasks = hs_person.crm.objects.basic_api.get_page(
        "tasks", limit=10, properties=["hs_task_subject"]
    )
    assert sorted(t.properties["hs_task_subject"] for t in tasks.results) == [
        "Call back 0",
        "Call back 1",
    ]


def test_a_custom_record_deleted_in_hubspot_is_created_again_by_a_re_import(
    integration, sf_person, hs_person, fast_search
):
    from tests.sync_engine.sync.test_custom_objects import set_up

    hs_type, name = set_up(integration, hs_person)
    object_settings_update(integration=integration, object_name=name, changes={}, enabled=True)
    ids = seed(sf_person, "Project__c", [{"Name": f"Apollo {i}"} for i in range(3)])
    assert run(integration, name).created == 3
    (gone,) = hubspot_of(integration, name, [ids[0]])
    hs_person.crm.objects.basic_api.archive(hs_type, gone)
    reimport_brings_back(integration, name, 3, [gone])
    (again,) = hubspot_of(integration, name, [ids[0]])
    project = hs_person.crm.objects.basic_api.get_by_id(hs_type, again, properties=["project_name"])
    assert project.properties["project_name"] == "Apollo 0"


def test_a_re_import_of_a_record_changed_and_deleted_in_hubspot_creates_it_once(
    integration, sf_person, hs_person
):
    """Changed in Salesforce too: the pair reads it itself; still created, once."""
    ids = seed(sf_person, "Lead", leads(3))
    assert run(integration, "leads").created == 3
    (gone,) = hubspot_of(integration, "contacts", [ids[0]])
    hs_person.crm.contacts.basic_api.archive(gone)
    sf_person.Lead.update(ids[0], {"FirstName": "Renamed"})
    job = run(integration, "leads")
    assert (job.created, job.updated, job.failed) == (1, 0, 0)
    assert job.skipped_reasons == {"already_in_sync": 2}
    emails = hs_emails(hs_person)
    assert len(emails) == len(set(emails)) == 3


def test_a_re_import_leaves_a_contact_merged_in_hubspot_to_its_survivor(
    integration, sf_person, hs_person, emulators
):
    """Merged into another contact in HubSpot, not deleted: the person has its contact (the
    survivor), so a re-import makes no second one."""
    from tests.sync_engine.sync.helpers import hs_create

    ids = seed(sf_person, "Lead", leads(2))
    assert run(integration, "leads").created == 2
    (contact,) = hubspot_of(integration, "contacts", [ids[0]])
    survivor = hs_create(hs_person, email="survivor@import.example", lastname="Survivor")
    emulators.hubspot.app.run_action(
        "merge", object_type="contacts", primary_id=survivor, merged_id=contact
    )
    job = run(integration, "leads")
    assert (job.created, job.failed) == (0, 0)
    assert_adds_up(job)
    assert sorted(hs_emails(hs_person)) == ["lead1@import.example", "survivor@import.example"]
