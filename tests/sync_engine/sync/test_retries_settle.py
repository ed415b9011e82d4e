"""A retry that neither resolves its error nor records it again must not bring the record
round every cycle. Re-read, a record the pair's rules now leave alone (a company that no longer
qualifies for an account, a deal moved to a pipeline that doesn't sync, a contact that left
the inclusion list) has nothing left to fix: its error ends, into the record's history. One
only held until the admin mends a setting (the inclusion list deleted in HubSpot) keeps its
error, retried on the usual backoff instead of every cycle."""

from __future__ import annotations

from datetime import timedelta

from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone

from sync_engine.models import ApiCall, RecordLink, ResyncRequest, SyncError, System
from sync_engine.services import (
    object_settings_update,
    record_resync,
    sync_errors_request_resync,
)
from sync_engine.sync.cycle import sync_cycle_run

from .helpers import due_now, hs_create, hs_update, lead_refused_for_a_taken_email, new_lead
from .test_companies import hs_company
from .test_contacts_inclusion_list import make_list
from .test_deals import hs_deal, hs_deal_update, hs_stage


def pair_cycle(integration, object_name: str):
    """One cycle of a pair, with its API calls per system (``run.calls``)."""
    before = {s: ApiCall.objects.filter(integration=integration, system=s).count() for s in System}
    run = sync_cycle_run(integration=integration, object_name=object_name)
    assert run.status == "succeeded", run.message
    run.calls = {
        s: ApiCall.objects.filter(integration=integration, system=s).count() - before[s]
        for s in System
    }
    return run


def reads(integration, operation: str) -> int:
    """The calls of this operation in the API call ledger so far."""
    return ApiCall.objects.filter(integration=integration, operation=operation).count()


def refuse(emulators, sobject: str, field: str, word: str) -> str:
    """A Salesforce validation rule refusing records whose ``field`` contains ``word``."""
    return emulators.salesforce.app.run_action(
        "add_validation_rule", object=sobject, field=field, operator="contains", value=word,
        message=f"No {word} records", error_field=field,
    )  # fmt: skip


def record_page(client, error: SyncError) -> str:
    """The record's page as someone signed in to the dashboard reads it."""
    client.force_login(get_user_model().objects.create_user("reader", password="reader-pass-1"))
    url = reverse("record_detail", args=[error.object, error.record_key])
    return client.get(url).content.decode()


def current_part(page: str) -> str:
    """The record page up to its "Sync history" (the current errors)."""
    return page.split("Sync history")[0]


# --- companies ---------------------------------------------------------------------------------


def test_a_company_that_no_longer_qualifies_for_an_account_ends_its_error_at_its_retry(
    companies, integration, emulators, sf_person, hs_person, client
):
    """Salesforce refused the company's account; then its only contact left it, so the
    company no longer makes an account (spec §9): its retry skips it. Before, nothing ended
    or re-recorded the error, so it stayed due and every cycle read the company (and its
    contacts) again, for ever."""
    company = hs_company(hs_person, name="Refused Co")
    contact = hs_create(hs_person, email="pat@refused.example", firstname="Pat", lastname="P")
    companies.both()  # the contact syncs as a Salesforce contact without an account
    refuse(emulators, "Account", "Name", "Refused")
    companies.hs_action("associate", from_type="contacts", from_id=contact, to_type="companies",
                        to_id=company)  # fmt: skip
    companies()
    error = SyncError.objects.get(
        object="companies", record_key=f"hubspot:{company}", resolved_at__isnull=True
    )
    assert "No Refused records" in error.message and error.next_retry_at > timezone.now()
    companies.hs_action("disassociate", from_type="contacts", from_id=contact,
                        to_type="companies", to_id=company)  # fmt: skip
    companies.both()

    due_now(error)
    before = reads(integration, "companies.batch.read")
    run = companies()
    assert run.counts["retried"] == 1 and run.counts["skipped_no_contact"] == 1
    # Nothing left to retry: the next cycles read the company no more.
    later = [companies() for _ in range(2)]
    assert reads(integration, "companies.batch.read") == before + 1  # the retry's read only
    assert [r.counts.get("retried") for r in later] == [None, None]
    error.refresh_from_db()
    assert error.resolved_at is not None and error.next_retry_at is None
    assert sf_person.query("SELECT Id FROM Account")["totalSize"] == 0
    # The record page: no current error, the refusal in its history, saying why it ended.
    page = record_page(client, error)
    assert "None: the record no longer syncs." in current_part(page)
    assert "No Refused records" in page.split("Sync history")[1]
    assert "Ended: the record no longer syncs" in page.split("Sync history")[1]


# --- deals -------------------------------------------------------------------------------------


def refused_deal_moved_out(deals, emulators, hs_person) -> SyncError:
    """A deal whose opportunity Salesforce refused, then moved to a pipeline that doesn't
    sync (it opts out, spec §10): its error, not due yet."""
    deals()  # the pipelines exist
    refuse(emulators, "Opportunity", "Name", "Refused")
    pipeline_id, stage = hs_stage(hs_person, "Prospecting")
    deal = hs_deal(hs_person, dealname="Refused deal", closedate="2026-10-01",
                   pipeline=pipeline_id, dealstage=stage.id)  # fmt: skip
    deals()
    error = SyncError.objects.get(
        object="deals", record_key=f"hubspot:{deal}", resolved_at__isnull=True
    )
    assert "No Refused records" in error.message
    hs_deal_update(hs_person, deal, pipeline="default", dealstage="appointmentscheduled")
    deals()
    error.refresh_from_db()
    assert error.resolved_at is None and error.next_retry_at > timezone.now()
    return error


def test_a_deal_moved_to_a_pipeline_that_does_not_sync_ends_its_error_at_its_retry(
    deals, integration, emulators, sf_person, hs_person
):
    """Its retry skips the deal, and the error ends instead of the deal being read every
    cycle."""
    error = refused_deal_moved_out(deals, emulators, hs_person)

    due_now(error)
    before = reads(integration, "deals.batch.read")
    run = deals()
    assert run.counts["retried"] == 1 and run.counts["skipped_unsynced_pipeline"] == 1
    later = [deals() for _ in range(2)]
    assert reads(integration, "deals.batch.read") == before + 1
    assert [r.counts.get("retried") for r in later] == [None, None]
    error.refresh_from_db()
    assert error.resolved_at is not None and error.next_retry_at is None
    assert sf_person.query("SELECT Id FROM Opportunity")["totalSize"] == 0


def test_a_resync_of_a_deal_that_no_longer_syncs_ends_its_error_at_once(
    deals, integration, emulators, hs_person
):
    """An admin's Resync of the record (its page's button) is served in the next cycle even
    though the error's own retry isn't due: the deal is read, skipped, and its error ends."""
    error = refused_deal_moved_out(deals, emulators, hs_person)
    record_resync(integration=integration, object_name="deals", record_key=error.record_key)
    before = reads(integration, "deals.batch.read")
    run = deals()
    assert run.counts["retried"] == 1 and not ResyncRequest.objects.exists()
    assert reads(integration, "deals.batch.read") == before + 1
    error.refresh_from_db()
    assert error.resolved_at is not None and error.next_retry_at is None


# --- contacts ----------------------------------------------------------------------------------
def refused_list_member(cycle, emulators, hs_person) -> tuple[str, str, SyncError]:
    """A contact in the inclusion list whose lead Salesforce refused: (the list, the contact,
    its error)."""
    list_id = make_list(emulators)
    cycle.settings(inclusion_list_id=list_id)
    refuse(emulators, "Lead", "LastName", "Refused")
    contact = hs_create(hs_person, email="ref@example.com", lastname="Refused", company="X",
                        jobtitle="sync me")  # fmt: skip
    cycle()
    error = SyncError.objects.get(record_key=f"hubspot:{contact}", resolved_at__isnull=True)
    assert "No Refused records" in error.message
    return list_id, contact, error


def test_a_contact_that_left_the_inclusion_list_ends_its_error_at_its_retry(
    cycle, integration, emulators, sf_person, hs_person
):
    """Outside the list the contact doesn't sync (spec §6.5): the lead Salesforce refused is
    no longer wanted, so its error ends rather than the contact being read every cycle."""
    _, contact, error = refused_list_member(cycle, emulators, hs_person)
    hs_update(hs_person, contact, jobtitle="Analyst")  # leaves the active list
    cycle()

    due_now(error)
    before = reads(integration, "contacts.batch.read")
    run = cycle()
    assert run.counts["retried"] == 1 and run.counts["skipped_outside_list"] >= 1
    later = [cycle() for _ in range(2)]
    assert reads(integration, "contacts.batch.read") == before + 1
    assert [r.counts.get("retried") for r in later] == [None, None]
    error.refresh_from_db()
    assert error.resolved_at is not None and error.next_retry_at is None
    assert not RecordLink.objects.filter(hubspot_id=contact).exists()


def test_a_contact_held_by_a_deleted_inclusion_list_keeps_its_error_on_the_usual_backoff(
    cycle, integration, emulators, sf_person, hs_person, client
):
    """The chosen list deleted in HubSpot holds every contact until the admin chooses
    another one: the refusal is still true, so the error stays, but its retry counts as an
    attempt and waits 20 minutes for the next one instead of reading the contact every
    cycle. An admin's Resync is still served at once."""
    list_id, contact, error = refused_list_member(cycle, emulators, hs_person)
    hs_person.crm.lists.lists_api.remove(list_id)

    due_now(error)
    before = reads(integration, "contacts.batch.read")
    run = cycle()
    assert run.counts["retried"] == 1
    later = [cycle() for _ in range(2)]
    assert reads(integration, "contacts.batch.read") == before + 1
    assert [r.counts.get("retried") for r in later] == [None, None]
    error.refresh_from_db()
    assert error.resolved_at is None and error.attempts == 2
    assert error.next_retry_at > timezone.now() + timedelta(minutes=19)
    # Still on the record page, with its next retry.
    page = record_page(client, error)
    assert "No Refused records" in current_part(page)
    assert "1 current error" in page

    sync_errors_request_resync(integration=integration, error_ids=[error.pk])
    run = cycle()
    assert run.counts["retried"] == 1
    assert reads(integration, "contacts.batch.read") == before + 2
    error.refresh_from_db()
    assert error.resolved_at is None and error.attempts == 3
    assert error.next_retry_at > timezone.now() + timedelta(minutes=19)


def test_a_converted_leads_error_ends_with_the_conversion_and_its_contact_carries_on(
    cycle, emulators, sf_person, hs_person
):
    """A lead converted while it had an error syncs no more (its contact does): the lead's
    error ends in the cycle that reads the conversion, not at its retry, and the contact,
    failing the same way, has its own."""
    lead, error = lead_refused_for_a_taken_email(cycle, sf_person, hs_person)
    contact = emulators.salesforce.app.run_action(
        "convert_lead", lead_id=lead, create_opportunity=False
    )["contact_id"]
    run = cycle()
    assert run.counts["leads_converted"] == 1
    assert not run.counts.get("retried")
    error.refresh_from_db()
    assert error.resolved_at is not None and error.next_retry_at is None
    assert error.ended_because == "converted"
    still = SyncError.objects.get(record_key=f"salesforce:{contact}", resolved_at__isnull=True)
    assert still.error_type == "email_in_use"


# --- activities --------------------------------------------------------------------------------
def test_a_task_taken_off_its_person_ends_its_wait_at_its_retry(integration, emulators, sf_person):
    """A Salesforce task waits for its lead to sync; then the task is taken off the lead (no
    WhoId, nothing related): with no person it never syncs, so its error ends at its retry
    instead of the task being read every cycle."""
    emulators.hubspot.app.configure_budget(search_per_second=1000)
    object_settings_update(
        integration=integration, object_name="contacts", changes={}, enabled=False
    )
    object_settings_update(
        integration=integration,
        object_name="activities",
        changes={"salesforce_tasks": True},
        enabled=True,
    )
    lead = new_lead(sf_person, Email="unsynced@example.com")
    task = sf_person.Task.create({"WhoId": lead, "Subject": "Call them", "Status": "Completed"})
    pair_cycle(integration, "activities")
    error = SyncError.objects.get(object="activities", resolved_at__isnull=True)
    assert (error.error_type, error.record_key) == (
        "waiting_for_contact",
        f"salesforce:{task['id']}",
    )
    sf_person.Task.update(task["id"], {"WhoId": None})
    pair_cycle(integration, "activities")

    due_now(error)
    runs = [pair_cycle(integration, "activities") for _ in range(3)]
    assert [r.counts.get("retried") for r in runs] == [1, None, None]
    assert runs[0].counts["skipped_no_contact"] == 1
    assert runs[1].calls["salesforce"] == runs[2].calls["salesforce"] < runs[0].calls["salesforce"]
    error.refresh_from_db()
    assert error.resolved_at is not None and error.next_retry_at is None


def test_a_resync_of_a_contact_waiting_for_its_companys_account_keeps_it_waiting(
    companies, integration, sf_person, hs_person, client, admin_client
):
    """The company sync keeps a HubSpot contact's *Waiting for account to sync* under the
    contact's key. Its record page's Resync (the record has no company link, so the request
    names no Salesforce type) must retry it as a contact, not read it as a company: that read
    finds no such company and ended the wait as "merged or deleted in HubSpot"."""
    companies.settings(hubspot_creates=False)  # the company never gets an account
    contact = sf_person.Contact.create({"LastName": "Waits", "Email": "waits@none.example"})["id"]
    companies("contacts")
    hs_contact = RecordLink.objects.get(object="contacts", salesforce_id=contact).hubspot_id
    company = hs_company(hs_person, name="No Account Co")
    companies.hs_action("associate", from_type="contacts", from_id=hs_contact,
                        to_type="companies", to_id=company, type_id=1)  # fmt: skip
    companies()
    error = SyncError.objects.get(object="companies", resolved_at__isnull=True)
    assert (error.error_type, error.record_key) == ("waiting_for_account", f"hubspot:{hs_contact}")

    admin_client.post(reverse("record_resync", args=["companies", error.record_key]))
    companies()

    error.refresh_from_db()
    assert error.resolved_at is None  # still waiting: the company has no account
    assert error.attempts == 2  # the retry found it still waiting
    assert not SyncError.objects.filter(
        ended_because=SyncError.EndedBecause.GONE_FROM_HUBSPOT
    ).exists()
    page = record_page(client, error)
    assert "merged or deleted in HubSpot" not in page
