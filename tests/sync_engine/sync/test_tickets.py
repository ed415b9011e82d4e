"""Tickets ⇄ cases (spec §14): Salesforce cases create and update HubSpot tickets, statuses
move through the process's pipeline, accounts and contacts become associations, end to end
through the official clients and the emulators."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from sync_engine.models import (
    ApiCall,
    FieldMapping,
    SchemaCache,
    SyncCursor,
    SyncError,
    SyncRun,
)
from sync_engine.services import (
    object_settings_update,
    schema_refresh,
    sync_errors_request_resync,
)
from sync_engine.sync.cycle import sync_cycle_run
from sync_engine.sync.tickets import KEY_PROPERTY

from .conftest import Tickets
from .helpers import refuse_associations


def ticket(hs, ticket_id, *props) -> dict:
    return hs.crm.tickets.basic_api.get_by_id(ticket_id, properties=list(props)).properties


def ticket_ids(hs) -> list[str]:
    return [t.id for t in hs.crm.tickets.basic_api.get_page(limit=100).results]


def associated(hs, ticket_id: str, to_type: str) -> list[str]:
    page = hs.crm.associations.v4.basic_api.get_page("tickets", ticket_id, to_type)
    return sorted(str(r.to_object_id) for r in page.results)


def stage_labels(hs, pipeline_id: str) -> dict[str, str]:
    pipeline = hs.crm.pipelines.pipelines_api.get_by_id("tickets", pipeline_id)
    return {s.id: s.label for s in pipeline.stages}


WAITING_ON_CONTACT = "2"  # Support Pipeline stages no case status maps to (see below)
WAITING_ON_US = "3"


def support_pipeline_new_and_closed_only(tickets: Tickets) -> None:
    """The wizard mapped the master process to HubSpot's Support Pipeline: "New" to stage 1,
    "Closed" to stage 4, nothing to the stages between."""
    tickets.settings(
        pipelines={
            "master": {
                "label": "Master",
                "pipeline": "0",
                "stages": {"New": "1", "Closed": "4"},
                "managed": False,
            }
        }
    )


def unknown_stage_error(ticket_id: str) -> SyncError:
    return SyncError.objects.get(
        object="tickets", record_key=f"hubspot:{ticket_id}", code="UNKNOWN_STAGE"
    )


def stuck_in_an_unmapped_stage(tickets: Tickets, sf_person, hs_person) -> tuple[str, str, SyncRun]:
    """A case whose ticket an agent moved to a stage no case status maps to (the stage is
    two-way): the ticket's *Picklists* error is open. (case id, ticket id, the run that
    found it)."""
    from hubspot.crm.tickets import SimplePublicObjectInput

    support_pipeline_new_and_closed_only(tickets)
    FieldMapping.objects.filter(object="tickets", hubspot_property="hs_pipeline_stage").update(
        rule="two_way"
    )
    case = sf_person.Case.create({"Subject": "Stuck", "Status": "New"})["id"]
    tickets()
    ticket_id = tickets.link(salesforce_id=case).hubspot_id
    hs_person.crm.tickets.basic_api.update(
        ticket_id, SimplePublicObjectInput(properties={"hs_pipeline_stage": WAITING_ON_CONTACT})
    )
    run = tickets()
    assert unknown_stage_error(ticket_id).resolved_at is None
    return case, ticket_id, run


def ticket_edit_refused(
    tickets: Tickets, sf_person, hs_person, emulators
) -> tuple[str, str, SyncError, str]:
    """A case "Original" whose ticket's two-way subject an agent changed to "Blocked by rule",
    which a validation rule refuses: the ticket's error is open and the case unchanged.
    (case id, ticket id, the error, the rule's name)."""
    from hubspot.crm.tickets import SimplePublicObjectInput

    FieldMapping.objects.filter(object="tickets", hubspot_property="subject").update(rule="two_way")
    case = sf_person.Case.create({"Subject": "Original", "Status": "New"})["id"]
    tickets()
    ticket_id = tickets.link(salesforce_id=case).hubspot_id
    rule = emulators.salesforce.app.run_action(
        "add_validation_rule", object="Case", field="Subject", operator="contains",
        value="Blocked", message="Subject may not say Blocked", error_field="Subject",
    )  # fmt: skip
    hs_person.crm.tickets.basic_api.update(
        ticket_id, SimplePublicObjectInput(properties={"subject": "Blocked by rule"})
    )
    tickets()
    error = SyncError.objects.get(object="tickets", resolved_at__isnull=True)
    assert (error.record_key, error.error_type) == (
        f"hubspot:{ticket_id}",
        "salesforce_custom_code",
    )
    assert "Subject may not say Blocked" in error.message
    assert sf_person.Case.get(case)["Subject"] == "Original"
    return case, ticket_id, error, rule


def test_a_case_creates_a_ticket_in_its_pipeline_and_an_idle_cycle_writes_nothing(
    tickets, sf_person, hs_person
):
    case = sf_person.Case.create(
        {"Subject": "Printer on fire", "Status": "New", "Priority": "High", "Origin": "Phone"}
    )["id"]
    run = tickets()
    assert run.counts.get("created_in_hubspot") == 1, run.counts
    # A first pipeline create has nothing to look for first (only a lost answer has).
    assert not ApiCall.objects.filter(operation="tickets.pipelines.list").exists()
    link = tickets.link(salesforce_id=case)
    props = ticket(
        hs_person,
        link.hubspot_id,
        "subject",
        "hs_pipeline",
        "hs_pipeline_stage",
        "hs_ticket_priority",
        "source_type",
        KEY_PROPERTY,
    )
    assert props["subject"] == "Printer on fire"
    assert props[KEY_PROPERTY] == case
    assert props["hs_ticket_priority"] == "HIGH" and props["source_type"] == "PHONE"
    entry = tickets.options["pipelines"]["master"]
    assert props["hs_pipeline"] == entry["pipeline"] and entry["managed"] is True
    labels = stage_labels(hs_person, entry["pipeline"])
    assert labels[props["hs_pipeline_stage"]] == "New"
    assert set(labels.values()) >= {"New", "Working", "Escalated", "Closed"}

    sf_person.Case.update(case, {"Status": "Closed", "Subject": "Printer was on fire"})
    run = tickets()
    assert run.counts["updated_in_hubspot"] == 1, run.counts
    props = ticket(hs_person, link.hubspot_id, "subject", "hs_pipeline_stage")
    assert props["subject"] == "Printer was on fire"
    assert labels[props["hs_pipeline_stage"]] == "Closed"
    tickets()
    idle = tickets()
    assert not any(
        idle.counts.get(k) for k in ("created_in_hubspot", "updated_in_hubspot", "failed")
    )
    assert idle.calls == {"salesforce": 1, "hubspot": 0}
    assert ticket_ids(hs_person) == [link.hubspot_id]


def test_a_crash_after_the_write_creates_no_duplicate(tickets, sf_person, hs_person, monkeypatch):
    from sync_engine.sync.tickets import TicketSync

    case = sf_person.Case.create({"Subject": "Lost answer", "Status": "New"})["id"]
    real_commit = TicketSync.commit

    def crash(self, pairs, cursor, handled):
        raise RuntimeError("worker killed after the HubSpot write")

    monkeypatch.setattr(TicketSync, "commit", crash)
    with pytest.raises(RuntimeError):
        sync_cycle_run(integration=tickets.integration, object_name="tickets")
    assert len(ticket_ids(hs_person)) == 1 and not tickets.links().exists()
    monkeypatch.setattr(TicketSync, "commit", real_commit)
    run = tickets()
    assert run.counts["created_in_hubspot"] == 1  # the upsert found the same ticket
    assert ticket_ids(hs_person) == [tickets.link(salesforce_id=case).hubspot_id]


@pytest.mark.parametrize("setting", ["nothing", "delete"])
def test_a_deleted_case_follows_the_delete_setting(tickets, sf_person, hs_person, setting):
    tickets.settings(salesforce_delete=setting)
    case = sf_person.Case.create({"Subject": "Short-lived", "Status": "New"})["id"]
    tickets()
    ticket_id = tickets.link(salesforce_id=case).hubspot_id
    sf_person.Case.delete(case)
    run = tickets()
    assert not tickets.links().exists()
    if setting == "delete":
        assert run.counts["deleted_in_hubspot"] == 1 and ticket_ids(hs_person) == []
    else:
        assert ticket_ids(hs_person) == [ticket_id]


def test_a_deleted_case_s_wait_ends_saying_it_was_deleted(tickets, sf_person):
    contact = sf_person.Contact.create({"LastName": "Unsynced", "Email": "u@example.com"})["id"]
    case = sf_person.Case.create({"Subject": "Waits", "Status": "New", "ContactId": contact})
    assert tickets().counts["waiting_for_contact"] == 1
    sf_person.Case.delete(case["id"])
    tickets()
    error = SyncError.objects.get(object="tickets", error_type="waiting_for_contact")
    assert error.resolved_at is not None
    assert error.ended_because == "deleted"  # not "the record synced"


def test_a_case_delete_whose_archive_fails_still_archives_the_ticket_later(
    tickets, sf_person, hs_person, emulators
):
    """The link outlives a failed archive: the next cycle reads the delete again and still
    knows which ticket goes with it."""
    tickets.settings(salesforce_delete="delete")
    case = sf_person.Case.create({"Subject": "Short-lived", "Status": "New"})["id"]
    tickets()
    sf_person.Case.delete(case)
    down = emulators.hubspot.app.faults.add(path=r"/tickets/batch/archive", status=503, times=10)
    failed = sync_cycle_run(integration=tickets.integration, object_name="tickets")
    assert failed.status == "failed" and len(ticket_ids(hs_person)) == 1
    emulators.hubspot.app.faults.remove(down.id)
    run = tickets()
    assert run.counts["deleted_in_hubspot"] == 1 and ticket_ids(hs_person) == []
    assert not tickets.links().exists()


def test_a_ticket_deleted_in_hubspot_is_created_again_with_every_value(
    tickets, sf_person, hs_person
):
    case = sf_person.Case.create({"Subject": "Phoenix", "Status": "Working"})["id"]
    tickets()
    old = tickets.link(salesforce_id=case).hubspot_id
    hs_person.crm.tickets.basic_api.archive(old)
    sf_person.Case.update(case, {"Priority": "Low"})
    run = tickets()
    assert run.counts.get("created_in_hubspot") == 1, run.counts
    new = tickets.link(salesforce_id=case).hubspot_id
    assert new != old
    props = ticket(hs_person, new, "subject", "hs_ticket_priority")
    assert props == {**props, "subject": "Phoenix", "hs_ticket_priority": "LOW"}


def test_accounts_and_contacts_become_associations_and_waits_resolve(tickets, sf_person, hs_person):
    account = sf_person.Account.create({"Name": "Initrode"})["id"]
    contact = sf_person.Contact.create(
        {"LastName": "Gibbons", "Email": "peter@initrode.example", "AccountId": account}
    )["id"]
    case = sf_person.Case.create(
        {"Subject": "TPS reports", "Status": "New", "AccountId": account, "ContactId": contact}
    )["id"]
    # Neither the account nor the contact has synced yet: the ticket is made, and waits for
    # its contact (company sync is off: the account association is skipped, no error).
    run = tickets()
    assert run.counts["created_in_hubspot"] == 1
    assert run.counts["associations_skipped_company_sync_off"] == 1
    assert run.counts["waiting_for_contact"] == 1 and not run.counts.get("waiting_for_account")
    waiting = SyncError.objects.filter(object="tickets", resolved_at__isnull=True)
    assert set(waiting.values_list("error_type", flat=True)) == {"waiting_for_contact"}
    ticket_id = tickets.link(salesforce_id=case).hubspot_id
    assert associated(hs_person, ticket_id, "companies") == []

    tickets("contacts")
    run = tickets()  # the contact is linked now: associated without touching the case
    assert associated(hs_person, ticket_id, "contacts") == [
        tickets.links("contacts").get(salesforce_id=contact).hubspot_id
    ]
    assert not waiting.exists()

    object_settings_update(
        integration=tickets.integration, object_name="companies", changes={}, enabled=True
    )
    tickets("companies")
    tickets()
    company = tickets.links("companies").get(salesforce_id=account).hubspot_id
    assert associated(hs_person, ticket_id, "companies") == [company]
    assert not waiting.exists()

    # The case moves to another account: the association follows.
    other = sf_person.Account.create({"Name": "Initech"})["id"]
    tickets("companies")
    sf_person.Case.update(case, {"AccountId": other})
    run = tickets()
    assert associated(hs_person, ticket_id, "companies") == [
        tickets.links("companies").get(salesforce_id=other).hubspot_id
    ]
    idle = tickets()
    assert idle.counts.get("associations_to_hubspot", 0) == 0


def test_a_refused_association_fails_only_its_ticket(tickets, sf_person, hs_person, emulators):
    contacts = [
        sf_person.Contact.create({"LastName": name, "Email": f"{name}@cases.example"})["id"]
        for name in ("first", "second")
    ]
    tickets("contacts")
    cases = [
        sf_person.Case.create({"Subject": f"Case {i}", "Status": "New", "ContactId": c})["id"]
        for i, c in enumerate(contacts)
    ]
    # HubSpot refuses the batch, then the first ticket's association alone (its contact is
    # at the association limit); the second ticket's association lands.
    refuse_associations(emulators, "tickets", "contacts")
    run = tickets()
    assert run.counts["created_in_hubspot"] == 2
    error = SyncError.objects.get(object="tickets", resolved_at__isnull=True)
    assert error.error_type == "association_limit"
    (landed,) = set(cases) - {error.salesforce_id}
    landed_contact = contacts[cases.index(landed)]
    assert associated(hs_person, tickets.link(salesforce_id=landed).hubspot_id, "contacts") == [
        tickets.links("contacts").get(salesforce_id=landed_contact).hubspot_id
    ]
    assert (
        associated(
            hs_person, tickets.link(salesforce_id=error.salesforce_id).hubspot_id, "contacts"
        )
        == []
    )

    # Resynced once there is room: the association lands and the error clears.
    sync_errors_request_resync(integration=tickets.integration, error_ids=[error.pk])
    tickets()
    refused_ticket = tickets.link(salesforce_id=error.salesforce_id).hubspot_id
    assert len(associated(hs_person, refused_ticket, "contacts")) == 1
    error.refresh_from_db()
    assert error.resolved_at is not None


def test_association_toggles_off_leave_associations_alone(tickets, sf_person, hs_person):
    tickets.settings(sync_account_association=False, sync_contact_association=False)
    account = sf_person.Account.create({"Name": "Hooli"})["id"]
    case = sf_person.Case.create({"Subject": "X", "Status": "New", "AccountId": account})["id"]
    run = tickets()
    assert run.counts["created_in_hubspot"] == 1 and not run.counts.get("waiting_for_account")
    assert not SyncError.objects.filter(object="tickets").exists()
    assert associated(hs_person, tickets.link(salesforce_id=case).hubspot_id, "companies") == []


def test_an_existing_pipeline_maps_statuses_by_label_and_reports_unmapped_ones(
    tickets, sf_person, hs_person
):
    support_pipeline_new_and_closed_only(tickets)
    new = sf_person.Case.create({"Subject": "A", "Status": "New"})["id"]
    odd = sf_person.Case.create({"Subject": "B", "Status": "Escalated"})["id"]
    run = tickets()
    assert run.counts["created_in_hubspot"] == 2
    assert (
        ticket(hs_person, tickets.link(salesforce_id=new).hubspot_id, "hs_pipeline_stage")[
            "hs_pipeline_stage"
        ]
        == "1"
    )
    # No "Escalated" stage in Support Pipeline: created in its first stage, with a card.
    error = SyncError.objects.get(object="tickets", salesforce_id=odd, resolved_at__isnull=True)
    assert error.error_type == "picklist" and "Escalated" in error.message
    assert "first stage" in error.message  # where the new ticket went meanwhile
    assert tickets.options["pipelines"]["master"]["pipeline"] == "0"


def test_a_new_status_becomes_a_stage_of_our_pipeline(tickets, sf_person, hs_person):
    case = sf_person.Case.create({"Subject": "Staged", "Status": "New"})["id"]
    tickets()
    entry = tickets.options["pipelines"]["master"]
    # A status added in Salesforce after the pipeline was made.
    sf_person.Case.update(case, {"Status": "On Hold"})
    run = tickets()
    assert run.counts["stages_created"] == 1 and run.counts["updated_in_hubspot"] == 1
    stage = tickets.options["pipelines"]["master"]["stages"]["On Hold"]
    assert stage_labels(hs_person, entry["pipeline"])[stage] == "On Hold"
    props = ticket(hs_person, tickets.link(salesforce_id=case).hubspot_id, "hs_pipeline_stage")
    assert props["hs_pipeline_stage"] == stage
    # A table entry lost (or edited away) finds the stage again by its label.
    del entry["stages"]["Escalated"]
    tickets.settings(pipelines={"master": {**entry, "stages": {**entry["stages"]}}})
    sf_person.Case.update(case, {"Status": "Escalated"})
    run = tickets()
    assert not run.counts.get("stages_created") and run.counts["updated_in_hubspot"] == 1
    assert "Escalated" in tickets.options["pipelines"]["master"]["stages"]


STAGE_CREATE = r"/crm/v3/pipelines/tickets/[^/]+/stages$"


@pytest.mark.parametrize(
    ("status", "error_type", "code"), [(503, "transient", ""), (400, "picklist", "STAGE_REFUSED")]
)
def test_a_stage_that_fails_to_be_added_holds_its_cases_back_never_in_another_stage(
    tickets, sf_person, hs_person, emulators, status, error_type, code
):
    """A status our pipeline lacks whose stage HubSpot fails to add (a blip, or a refusal
    such as its stage limit): its new cases wait unsent and a linked ticket keeps its stage
    (its other values sync), each with a typed error naming the status, the create asked
    once a cycle; the retry adds the stage and puts the tickets in it."""
    linked = sf_person.Case.create({"Subject": "Linked", "Status": "New"})["id"]
    tickets()
    entry = tickets.options["pipelines"]["master"]
    linked_ticket = tickets.link(salesforce_id=linked).hubspot_id
    first_stage = ticket(hs_person, linked_ticket, "hs_pipeline_stage")["hs_pipeline_stage"]
    message = "You have reached the maximum number of stages for this pipeline"
    refusal = {"status": "error", "category": "VALIDATION_ERROR", "message": message}
    fault = emulators.hubspot.app.faults.add(
        path=STAGE_CREATE, method="POST", status=status, body=refusal if status == 400 else None
    )
    new = [
        sf_person.Case.create({"Subject": f"Waiting {n}", "Status": "On Hold"})["id"]
        for n in range(2)
    ]
    sf_person.Case.update(linked, {"Status": "On Hold", "Subject": "Linked, edited"})
    run = tickets()
    assert fault.fired == 1  # once a cycle, not once per case
    assert not run.counts.get("created_in_hubspot") and ticket_ids(hs_person) == [linked_ticket]
    props = ticket(hs_person, linked_ticket, "subject", "hs_pipeline_stage")
    assert props == {**props, "subject": "Linked, edited", "hs_pipeline_stage": first_stage}
    errors = SyncError.objects.filter(object="tickets", resolved_at__isnull=True)
    assert sorted(errors.values_list("salesforce_id", flat=True)) == sorted([*new, linked])
    for error in errors:
        assert error.error_type == error_type and "On Hold" in error.message
        assert error.fields == ["Status"] and (error.code == code or not code)
        assert (message in error.message) == (status == 400)  # HubSpot's reason, if any
    assert "On Hold" not in tickets.options["pipelines"]["master"]["stages"]

    emulators.hubspot.app.faults.remove(fault.id)
    if status == 400:  # HubSpot has room again; the admin asks for the cases to sync
        sync_errors_request_resync(
            integration=tickets.integration, error_ids=list(errors.values_list("pk", flat=True))
        )
    run = tickets()
    assert run.counts["stages_created"] == 1 and run.counts["created_in_hubspot"] == 2
    stage = tickets.options["pipelines"]["master"]["stages"]["On Hold"]
    assert stage_labels(hs_person, entry["pipeline"])[stage] == "On Hold"
    for case in [*new, linked]:
        hubspot_id = tickets.link(salesforce_id=case).hubspot_id
        assert ticket(hs_person, hubspot_id, "hs_pipeline_stage")["hs_pipeline_stage"] == stage
    assert not errors.all().exists()


def test_one_bad_case_never_blocks_its_batch(tickets, sf_person, hs_person):
    # A custom mapping of a text field onto a HubSpot date: HubSpot refuses one ticket.
    FieldMapping.objects.create(
        integration=tickets.integration,
        object="tickets",
        hubspot_property="closed_date",
        salesforce_field="SuppliedPhone",
        salesforce_fields={"Case": "SuppliedPhone"},
        rule="always_use_salesforce",
        salesforce_type="string",
    )
    good = sf_person.Case.create(
        {"Subject": "Fine", "Status": "New", "SuppliedPhone": "1700000000000"}
    )
    bad = sf_person.Case.create({"Subject": "Bad", "Status": "New", "SuppliedPhone": "call me"})
    run = tickets()
    assert run.counts["created_in_hubspot"] == 1 and run.counts["failed"] == 1
    assert tickets.links().filter(salesforce_id=good["id"]).exists()
    error = SyncError.objects.get(object="tickets", resolved_at__isnull=True)
    assert error.record_key == f"salesforce:{bad['id']}"
    assert error.error_type == "property_value"
    # Fixed in Salesforce: the next cycle creates it and the error resolves.
    sf_person.Case.update(bad["id"], {"SuppliedPhone": "1700000000000"})
    run = tickets()
    assert run.counts["created_in_hubspot"] == 1
    assert not SyncError.objects.filter(object="tickets", resolved_at__isnull=True).exists()


def test_each_case_record_type_gets_its_own_pipeline(tickets, sf_person, hs_person, emulators):
    master = sf_person.Case.create({"Subject": "Old", "Status": "New", "Origin": "Web"})["id"]
    hardware = emulators.salesforce.app.run_action(
        "add_record_type", object="Case", label="Hardware"
    )
    typed = sf_person.Case.create({"Subject": "Disk", "Status": "Working"})["id"]
    assert sf_person.Case.get(typed)["RecordTypeId"] == hardware
    run = tickets()
    assert run.counts["created_in_hubspot"] == 2 and run.counts["pipelines_created"] == 2
    pipelines = tickets.options["pipelines"]
    assert set(pipelines) == {"master", hardware}
    assert pipelines[hardware]["label"] == "Hardware"
    labels = {
        p.id: p.label for p in hs_person.crm.pipelines.pipelines_api.get_all("tickets").results
    }
    assert labels[pipelines[hardware]["pipeline"]] == "Salesforce cases: Hardware"
    typed_props = ticket(
        hs_person, tickets.link(salesforce_id=typed).hubspot_id, "hs_pipeline", "hs_pipeline_stage"
    )
    assert typed_props["hs_pipeline"] == pipelines[hardware]["pipeline"]
    assert typed_props["hs_pipeline_stage"] == pipelines[hardware]["stages"]["Working"]
    master_props = ticket(hs_person, tickets.link(salesforce_id=master).hubspot_id, "source_type")
    assert master_props["source_type"] == "FORM"  # Web


def test_a_resync_request_pushes_a_case_again(tickets, sf_person, hs_person):
    from hubspot.crm.tickets import SimplePublicObjectInput

    from sync_engine.services import record_resync

    case = sf_person.Case.create({"Subject": "Keep me", "Status": "New"})["id"]
    tickets()
    ticket_id = tickets.link(salesforce_id=case).hubspot_id
    hs_person.crm.tickets.basic_api.update(
        ticket_id, SimplePublicObjectInput(properties={"subject": "Edited in HubSpot"})
    )
    assert tickets().counts.get("updated_in_hubspot", 0) == 0  # HubSpot edits aren't read
    record_resync(
        integration=tickets.integration, object_name="tickets", record_key=f"salesforce:{case}"
    )
    run = tickets()
    assert run.counts["updated_in_hubspot"] == 1
    assert ticket(hs_person, ticket_id, "subject")["subject"] == "Keep me"


def test_two_way_mappings_carry_hubspot_edits_to_the_case(tickets, sf_person, hs_person):
    from hubspot.crm.tickets import SimplePublicObjectInput

    FieldMapping.objects.filter(
        object="tickets", hubspot_property__in=["subject", "hs_pipeline_stage"]
    ).update(rule="two_way")
    case = sf_person.Case.create({"Subject": "Both ways", "Status": "New"})["id"]
    tickets()
    ticket_id = tickets.link(salesforce_id=case).hubspot_id
    stages = tickets.options["pipelines"]["master"]["stages"]
    hs_person.crm.tickets.basic_api.update(
        ticket_id,
        SimplePublicObjectInput(
            properties={"subject": "Renamed in HubSpot", "hs_pipeline_stage": stages["Escalated"]}
        ),
    )
    run = tickets()
    assert run.counts["updated_in_salesforce"] == 1, run.counts
    record = sf_person.Case.get(case)
    assert record["Subject"] == "Renamed in HubSpot" and record["Status"] == "Escalated"
    tickets()  # the case's change comes back: nothing to write
    idle = tickets()
    assert not any(idle.counts.get(k) for k in ("updated_in_hubspot", "updated_in_salesforce"))
    assert idle.calls == {"salesforce": 1, "hubspot": 1}  # the ticket search
    assert ticket(hs_person, ticket_id, "subject")["subject"] == "Renamed in HubSpot"


def test_a_two_way_edit_of_a_waiting_ticket_keeps_the_wait_until_its_contact_syncs(
    tickets, sf_person, hs_person
):
    from hubspot.crm.tickets import SimplePublicObjectInput

    FieldMapping.objects.filter(object="tickets", hubspot_property="subject").update(rule="two_way")
    contact = sf_person.Contact.create({"LastName": "Waits", "Email": "w@x.example"})["id"]
    case = sf_person.Case.create({"Subject": "Hold", "Status": "New", "ContactId": contact})["id"]
    tickets()
    ticket_id = tickets.link(salesforce_id=case).hubspot_id
    hs_person.crm.tickets.basic_api.update(
        ticket_id, SimplePublicObjectInput(properties={"subject": "Hold on"})
    )
    assert tickets().counts["updated_in_salesforce"] == 1
    waiting = SyncError.objects.filter(object="tickets", error_type="waiting_for_contact")
    assert waiting.get().resolved_at is None  # the edit landed; the ticket still waits
    tickets("contacts")
    tickets()
    assert associated(hs_person, ticket_id, "contacts") == [
        tickets.links("contacts").get(salesforce_id=contact).hubspot_id
    ]
    assert waiting.get().resolved_at is not None


def test_an_edit_of_a_case_sends_what_changed_without_looking_owners_up(
    tickets, sf_person, hs_person
):
    case = sf_person.Case.create({"Subject": "Jammed", "Status": "New"})["id"]
    assert tickets().counts.get("created_in_hubspot") == 1
    last = ApiCall.objects.filter(integration=tickets.integration).order_by("-id")[0].id

    sf_person.Case.update(case, {"Subject": "Unjammed"})
    run = tickets()

    assert run.counts["updated_in_hubspot"] == 1, run.counts
    hubspot_id = tickets.link(salesforce_id=case).hubspot_id
    assert ticket(hs_person, hubspot_id, "subject")["subject"] == "Unjammed"
    operations = list(
        ApiCall.objects.filter(integration=tickets.integration, id__gt=last).values_list(
            "operation", flat=True
        )
    )
    # Blank values left out of the create are known to be blank: no owner directory read
    # (Salesforce users, HubSpot owners) for an edit that doesn't touch the owner.
    assert "owners.list" not in operations and "query" not in operations, operations


def test_a_new_case_waits_for_its_pipeline_instead_of_failing_without_a_stage(
    tickets, sf_person, hs_person, emulators
):
    """HubSpot requires a stage on a new ticket: while the pipeline can't be created (a blip
    here), the case waits with an error that is tried again next cycle."""
    emulators.hubspot.app.faults.add(
        path=r"/crm/v3/pipelines/tickets$", method="POST", status=503, times=20
    )
    case = sf_person.Case.create({"Subject": "Waits for its pipeline", "Status": "New"})["id"]
    run = tickets()
    assert not run.counts.get("created_in_hubspot"), run.counts
    (error,) = SyncError.objects.filter(integration=tickets.integration, resolved_at__isnull=True)
    assert (error.error_type, error.salesforce_id) == ("transient", case)
    assert "pipeline" in error.message
    assert ticket_ids(hs_person) == []

    emulators.hubspot.app.faults.clear()
    run = tickets()
    assert run.counts.get("created_in_hubspot") == 1, run.counts
    link = tickets.link(salesforce_id=case)
    props = ticket(hs_person, link.hubspot_id, "subject", "hs_pipeline", "hs_pipeline_stage")
    assert props["subject"] == "Waits for its pipeline" and props["hs_pipeline_stage"]
    assert not SyncError.objects.filter(
        integration=tickets.integration, resolved_at__isnull=True
    ).exists()


def test_with_company_sync_off_the_account_association_waits_quietly_until_it_is_on(
    tickets, sf_person, hs_person
):
    """Company sync starts off, so a case's account can't sync: the ticket is made without
    its company and without a sync error; once company sync is on and the account has
    synced, the association lands without the case changing."""
    account = sf_person.Account.create({"Name": "Vandelay Industries"})["id"]
    sf_person.Contact.create(
        {"LastName": "Costanza", "Email": "george@vandelay.example", "AccountId": account}
    )
    case = sf_person.Case.create({"Subject": "Latex", "Status": "New", "AccountId": account})["id"]
    run = tickets()
    assert run.counts["created_in_hubspot"] == 1, run.counts
    assert run.counts["associations_skipped_company_sync_off"] == 1, run.counts
    assert not run.counts.get("waiting_for_account")
    assert not SyncError.objects.filter(object="tickets").exists()
    ticket_id = tickets.link(salesforce_id=case).hubspot_id
    assert associated(hs_person, ticket_id, "companies") == []
    paused = SyncCursor.objects.filter(stream="tickets:paused:account")
    assert paused.exists()  # once company sync is on, one look finds the case again
    idle = tickets()  # nothing to retry while company sync stays off
    assert not idle.counts.get("associations_to_hubspot")
    assert idle.calls == {"salesforce": 1, "hubspot": 0}

    object_settings_update(
        integration=tickets.integration, object_name="companies", changes={}, enabled=True
    )
    tickets("companies")
    run = tickets()
    company = tickets.links("companies").get(salesforce_id=account).hubspot_id
    assert associated(hs_person, ticket_id, "companies") == [company]
    assert run.counts["associations_to_hubspot"] == 1, run.counts
    assert not SyncError.objects.filter(object="tickets").exists()
    assert not paused.exists()
    with CaptureQueriesContext(connection) as queries:
        idle = tickets()
    assert not idle.counts.get("associations_to_hubspot")
    assert idle.calls == {"salesforce": 1, "hubspot": 0}
    assert not [q for q in queries if "__paused_" in q["sql"]]  # no scan of the links


def test_an_account_that_still_has_to_sync_waits_with_an_error_once_company_sync_is_on(
    tickets, sf_person, hs_person
):
    """Skipped while company sync was off; once it's on, a case whose account hasn't synced
    (yet) waits as usual; turned off again, that wait (which could never end) is dropped."""
    account = sf_person.Account.create({"Name": "Kramerica"})["id"]
    case = sf_person.Case.create({"Subject": "Oil tank", "Status": "New", "AccountId": account})
    tickets()
    object_settings_update(
        integration=tickets.integration,
        object_name="companies",
        changes={"salesforce_creates": False},  # the account doesn't become a company
        enabled=True,
    )
    tickets("companies")
    run = tickets()
    assert run.counts["waiting_for_account"] == 1, run.counts
    error = SyncError.objects.get(object="tickets", resolved_at__isnull=True)
    assert (error.error_type, error.salesforce_id) == ("waiting_for_account", case["id"])
    # Resync: the cycle's own look at waiting cases serves it; nothing stays "queued".
    sync_errors_request_resync(integration=tickets.integration, error_ids=[error.pk])
    tickets()
    error.refresh_from_db()
    assert error.resolved_at is None and error.next_retry_at is None

    object_settings_update(
        integration=tickets.integration, object_name="companies", changes={}, enabled=False
    )
    run = tickets()
    assert run.counts["associations_skipped_company_sync_off"] == 1, run.counts
    assert not SyncError.objects.filter(object="tickets", resolved_at__isnull=True).exists()


def test_with_contact_sync_off_the_contact_association_is_skipped_without_an_error(
    tickets, sf_person, hs_person
):
    contact = sf_person.Contact.create({"LastName": "Benes", "Email": "elaine@pendant.example"})
    object_settings_update(
        integration=tickets.integration, object_name="contacts", changes={}, enabled=False
    )
    case = sf_person.Case.create({"Subject": "Pens", "Status": "New", "ContactId": contact["id"]})
    run = tickets()
    assert run.counts["created_in_hubspot"] == 1, run.counts
    assert run.counts["associations_skipped_contact_sync_off"] == 1, run.counts
    assert not SyncError.objects.filter(object="tickets").exists()

    object_settings_update(
        integration=tickets.integration, object_name="contacts", changes={}, enabled=True
    )
    tickets("contacts")
    tickets()
    ticket_id = tickets.link(salesforce_id=case["id"]).hubspot_id
    assert associated(hs_person, ticket_id, "contacts") == [
        tickets.links("contacts").get(salesforce_id=contact["id"]).hubspot_id
    ]


# --- remote failures: typed, isolated, retried without losing or duplicating anything ------
PIPELINE_CREATE = r"/crm/v3/pipelines/tickets$"


@pytest.mark.parametrize("retry", ["ticket_error_due", "case_resync"])
def test_a_hubspot_edit_salesforce_rejects_reaches_the_case_when_retried(
    tickets, sf_person, hs_person, emulators, retry
):
    """A retry of a ticket's error carries the HubSpot edit again; it must not push the case's
    old value over it and call the error resolved. Nor may an admin's Resync of the case."""
    from sync_engine.services import record_resync

    case, ticket_id, error, rule = ticket_edit_refused(tickets, sf_person, hs_person, emulators)

    # The admin fixes the rule; the retry falls due (or the admin resyncs the case).
    emulators.salesforce.app.run_action("remove_validation_rule", rule_name=rule)
    if retry == "ticket_error_due":
        SyncError.objects.filter(pk=error.pk).update(next_retry_at=timezone.now())
    else:
        record_resync(
            integration=tickets.integration, object_name="tickets", record_key=f"salesforce:{case}"
        )
    run = tickets()
    assert run.counts["updated_in_salesforce"] == 1, run.counts
    assert sf_person.Case.get(case)["Subject"] == "Blocked by rule"
    assert ticket(hs_person, ticket_id, "subject")["subject"] == "Blocked by rule"
    error.refresh_from_db()
    assert error.resolved_at is not None
    tickets()  # the case's change comes back: nothing to write either way
    idle = tickets()
    assert not any(idle.counts.get(k) for k in ("updated_in_hubspot", "updated_in_salesforce"))
    assert ticket(hs_person, ticket_id, "subject")["subject"] == "Blocked by rule"


def test_a_lost_pipeline_create_answer_makes_no_second_pipeline(
    tickets, sf_person, hs_person, emulators
):
    """HubSpot made the pipeline but its answer was lost: the pipeline of that label is
    adopted instead of created again (two cases, so the cycle needs it twice)."""
    emulators.hubspot.app.faults.add(
        path=PIPELINE_CREATE, method="POST", status=500, apply_then_fail=True, times=1
    )
    cases = [
        sf_person.Case.create({"Subject": f"Case {n}", "Status": "New"})["id"] for n in range(2)
    ]
    tickets()
    tickets()  # the cases' errors (if any) are retried
    assert len(ticket_ids(hs_person)) == 2
    ours = [
        p
        for p in hs_person.crm.pipelines.pipelines_api.get_all("tickets").results
        if p.label == "Salesforce cases: Master"
    ]
    assert len(ours) == 1
    entry = tickets.options["pipelines"]["master"]
    assert entry["pipeline"] == ours[0].id
    labels = stage_labels(hs_person, ours[0].id)
    for case in cases:
        ticket_id = tickets.link(salesforce_id=case).hubspot_id
        props = ticket(hs_person, ticket_id, "hs_pipeline", "hs_pipeline_stage")
        assert props["hs_pipeline"] == ours[0].id
        assert labels[props["hs_pipeline_stage"]] == "New"
    assert not SyncError.objects.filter(object="tickets", resolved_at__isnull=True).exists()


def test_a_pipeline_hubspot_refuses_fails_its_cases_alone_and_is_tried_again_hourly(
    tickets, sf_person, hs_person, emulators
):
    """HubSpot's tier caps ticket pipelines: the cases of the refused process get a *pipeline
    limit* error each with HubSpot's message, the other processes' cases sync, and the
    pipeline is asked for once a cycle at most, then hourly (as deals do)."""
    master = sf_person.Case.create({"Subject": "Master", "Status": "New"})["id"]
    tickets()
    message = "You have reached the maximum number of ticket pipelines for your subscription"
    refusal = emulators.hubspot.app.faults.add(
        path=PIPELINE_CREATE, method="POST", status=400,
        body={"status": "error", "category": "VALIDATION_ERROR", "message": message},
    )  # fmt: skip
    hardware = emulators.salesforce.app.run_action(
        "add_record_type", object="Case", label="Hardware"
    )
    schema_refresh(integration=tickets.integration, object_name="tickets")  # RecordTypeId
    refused = [
        sf_person.Case.create({"Subject": f"Disk {n}", "Status": "New"})["id"] for n in range(2)
    ]
    assert sf_person.Case.get(refused[0])["RecordTypeId"] == hardware
    sf_person.Case.update(master, {"Subject": "Master, edited"})
    creates = ApiCall.objects.filter(operation="tickets.pipelines.create")
    before = creates.count()
    run = tickets()
    errors = SyncError.objects.filter(object="tickets", resolved_at__isnull=True)
    assert sorted(errors.values_list("salesforce_id", flat=True)) == sorted(refused)
    for error in errors:
        assert error.error_type == "pipeline_limit"
        assert message in error.message and "Hardware" in error.message
    assert creates.count() == before + 1  # once, not once per case
    assert run.counts["updated_in_hubspot"] == 1, run.counts
    master_ticket = tickets.link(salesforce_id=master).hubspot_id
    assert ticket(hs_person, master_ticket, "subject")["subject"] == "Master, edited"

    # The retry within the hour records the refusal again without asking HubSpot.
    errors.update(next_retry_at=timezone.now())
    run = tickets()
    assert creates.count() == before + 1
    assert not run.counts.get("created_in_hubspot"), run.counts
    assert set(errors.values_list("error_type", flat=True)) == {"pipeline_limit"}
    assert set(errors.values_list("attempts", flat=True)) == {2}

    # An hour later HubSpot has room: the retry creates the pipeline and the cases sync.
    emulators.hubspot.app.faults.remove(refusal.id)
    state = SchemaCache.objects.get(integration=tickets.integration, object="tickets:pipelines")
    for entry in state.data["refused"].values():
        entry["at"] = "2020-01-01T00:00:00+00:00"
    state.save()
    errors.update(next_retry_at=timezone.now())
    run = tickets()
    assert run.counts["created_in_hubspot"] == 2, run.counts
    assert not errors.exists()
    pipeline = tickets.options["pipelines"][hardware]["pipeline"]
    for case in refused:
        props = ticket(hs_person, tickets.link(salesforce_id=case).hubspot_id, "hs_pipeline")
        assert props["hs_pipeline"] == pipeline


def test_a_two_way_owner_salesforce_cannot_match_is_reset_on_the_ticket(
    tickets, sf_person, hs_person, emulators
):
    """As for contacts, companies and deals (spec §11): a HubSpot owner without an active
    Salesforce user of the same name and email goes back to the case's owner."""
    from hubspot.crm.tickets import SimplePublicObjectInput

    from .helpers import user_and_owner

    FieldMapping.objects.filter(object="tickets", hubspot_property="hubspot_owner_id").update(
        rule="two_way"
    )
    user, owner = user_and_owner(emulators, "Sanne", "Visser", "sanne@example.com")
    stranger = emulators.hubspot.app.run_action(
        "create_owner", email="stranger@example.com", first_name="No", last_name="Match"
    )["id"]
    case = sf_person.Case.create({"Subject": "Owned", "Status": "New", "OwnerId": user})["id"]
    tickets()
    ticket_id = tickets.link(salesforce_id=case).hubspot_id
    assert ticket(hs_person, ticket_id, "hubspot_owner_id")["hubspot_owner_id"] == owner
    hs_person.crm.tickets.basic_api.update(
        ticket_id, SimplePublicObjectInput(properties={"hubspot_owner_id": stranger})
    )
    run = tickets()
    assert run.counts["owner_resets"] == 1, run.counts
    assert ticket(hs_person, ticket_id, "hubspot_owner_id")["hubspot_owner_id"] == owner
    assert sf_person.Case.get(case)["OwnerId"] == user
    tickets()  # our reset comes back: nothing to do
    idle = tickets()
    assert not any(idle.counts.get(k) for k in ("updated_in_hubspot", "owner_resets"))


def test_a_failed_resend_to_a_recreated_ticket_is_sent_again_with_the_next_edit(
    tickets, sf_person, hs_person, emulators
):
    """A ticket deleted in HubSpot is made again by the update's upsert, and every value is
    sent in a second upsert; when that one fails, the snapshot mustn't claim the values
    landed (the next edit of the case would send only itself)."""
    case = sf_person.Case.create({"Subject": "Phoenix", "Status": "Working"})["id"]
    tickets()
    hs_person.crm.tickets.basic_api.archive(tickets.link(salesforce_id=case).hubspot_id)
    emulators.hubspot.app.faults.add(
        path=r"/crm/v3/objects/tickets/batch/upsert$", method="POST", after=1, times=1,
        status=400, body={"status": "error", "category": "VALIDATION_ERROR",
                          "message": "Property values were not valid"},
    )  # fmt: skip
    sf_person.Case.update(case, {"Priority": "Low"})
    run = tickets()
    assert run.counts["failed"] == 1, run.counts
    assert SyncError.objects.filter(object="tickets", resolved_at__isnull=True).exists()

    sf_person.Case.update(case, {"Origin": "Phone"})  # before the error's retry is due
    tickets()
    props = ticket(
        hs_person,
        tickets.link(salesforce_id=case).hubspot_id,
        "subject",
        "hs_ticket_priority",
        "source_type",
    )
    assert (props["subject"], props["hs_ticket_priority"], props["source_type"]) == (
        "Phoenix",
        "LOW",
        "PHONE",
    )
    assert not SyncError.objects.filter(object="tickets", resolved_at__isnull=True).exists()


def test_a_crash_between_recreating_a_ticket_and_resending_its_values_loses_none(
    tickets, sf_person, hs_person, monkeypatch
):
    """The update's upsert made the ticket again (deleted in HubSpot), and the worker died
    before every value was sent: the next cycle's upsert finds that new ticket, which isn't
    the linked one, and sends every value."""
    from sync_engine.sync.tickets import TicketSync

    case = sf_person.Case.create({"Subject": "Phoenix", "Status": "Working"})["id"]
    tickets()
    hs_person.crm.tickets.basic_api.archive(tickets.link(salesforce_id=case).hubspot_id)
    sf_person.Case.update(case, {"Priority": "Low"})
    real_upsert = TicketSync.upsert
    calls = []

    def crash_on_the_resend(self, pairs):
        calls.append(len(pairs))
        if len(calls) == 2:
            raise RuntimeError("worker killed before the values were sent again")
        return real_upsert(self, pairs)

    monkeypatch.setattr(TicketSync, "upsert", crash_on_the_resend)
    with pytest.raises(RuntimeError):
        sync_cycle_run(integration=tickets.integration, object_name="tickets")
    monkeypatch.setattr(TicketSync, "upsert", real_upsert)
    tickets()
    (ticket_id,) = ticket_ids(hs_person)
    assert tickets.link(salesforce_id=case).hubspot_id == ticket_id
    props = ticket(hs_person, ticket_id, "subject", "hs_ticket_priority")
    assert (props["subject"], props["hs_ticket_priority"]) == ("Phoenix", "LOW")


def test_two_way_fields_changed_on_both_sides_go_to_the_later_change(tickets, sf_person, hs_person):
    import time

    from hubspot.crm.tickets import SimplePublicObjectInput

    FieldMapping.objects.filter(object="tickets", hubspot_property="subject").update(rule="two_way")
    case = sf_person.Case.create({"Subject": "Both ways", "Status": "New"})["id"]
    tickets()
    ticket_id = tickets.link(salesforce_id=case).hubspot_id

    def rename_ticket(subject):
        hs_person.crm.tickets.basic_api.update(
            ticket_id, SimplePublicObjectInput(properties={"subject": subject})
        )

    # The ticket is edited after the case: the ticket's value reaches the case.
    sf_person.Case.update(case, {"Subject": "Case first"})
    time.sleep(1.1)  # Salesforce stamps whole seconds
    rename_ticket("Ticket later")
    run = tickets()
    assert run.counts["updated_in_salesforce"] == 1, run.counts
    assert sf_person.Case.get(case)["Subject"] == "Ticket later"
    assert ticket(hs_person, ticket_id, "subject")["subject"] == "Ticket later"

    tickets()  # the case's change comes back: nothing to write
    # The case is edited after the ticket: the case's value reaches the ticket.
    rename_ticket("Ticket first")
    time.sleep(1.1)
    sf_person.Case.update(case, {"Subject": "Case later"})
    tickets()
    assert ticket(hs_person, ticket_id, "subject")["subject"] == "Case later"
    assert sf_person.Case.get(case)["Subject"] == "Case later"
    idle = tickets()
    assert not any(idle.counts.get(k) for k in ("updated_in_hubspot", "updated_in_salesforce"))


def test_two_way_dropdowns_reach_the_case_as_its_picklist_values(tickets, sf_person, hs_person):
    """HubSpot names its priority and source options otherwise than Salesforce ("HIGH" for
    "High", "FORM" for the origin "Web"): with two-way mappings, the ticket's own values read
    back are no edit (nothing is written either way), and a ticket edit reaches the case as
    the picklist value, never as HubSpot's internal option name."""
    from hubspot.crm.tickets import SimplePublicObjectInput

    FieldMapping.objects.filter(
        object="tickets", hubspot_property__in=["hs_ticket_priority", "source_type"]
    ).update(rule="two_way")
    case = sf_person.Case.create(
        {"Subject": "Options", "Status": "New", "Priority": "High", "Origin": "Phone"}
    )["id"]
    tickets()
    ticket_id = tickets.link(salesforce_id=case).hubspot_id
    props = ticket(hs_person, ticket_id, "hs_ticket_priority", "source_type")
    assert (props["hs_ticket_priority"], props["source_type"]) == ("HIGH", "PHONE")
    for _ in range(2):  # the ticket's values read back, then nothing
        run = tickets()
        assert not run.counts.get("updated_in_salesforce"), run.counts
        assert not run.counts.get("updated_in_hubspot"), run.counts
    record = sf_person.Case.get(case)
    assert (record["Priority"], record["Origin"]) == ("High", "Phone")

    hs_person.crm.tickets.basic_api.update(
        ticket_id,
        SimplePublicObjectInput(properties={"hs_ticket_priority": "LOW", "source_type": "FORM"}),
    )
    assert tickets().counts["updated_in_salesforce"] == 1
    record = sf_person.Case.get(case)
    assert (record["Priority"], record["Origin"]) == ("Low", "Web")

    sf_person.Case.update(case, {"Priority": "Medium", "Origin": "Email"})
    assert tickets().counts["updated_in_hubspot"] == 1
    props = ticket(hs_person, ticket_id, "hs_ticket_priority", "source_type")
    assert (props["hs_ticket_priority"], props["source_type"]) == ("MEDIUM", "EMAIL")
    for _ in range(2):
        run = tickets()
        assert not run.counts.get("updated_in_salesforce"), run.counts
        assert not run.counts.get("updated_in_hubspot"), run.counts
    record = sf_person.Case.get(case)
    assert (record["Priority"], record["Origin"]) == ("Medium", "Email")
