"""The whole sync's on/off switch and Disconnect (spec §2): while off, or disconnected, no cycle
runs and nothing is read or written; turned back on (or connected again), the next cycle picks
up every change made meanwhile, from where the cursors stood."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.db.models import F

from emulators.testing import advance_clocks
from sync_engine.models import (
    ApiCall,
    AuditEvent,
    FieldMapping,
    HubSpotConnection,
    Integration,
    ObjectSync,
    RecordLink,
    ResyncRequest,
    SalesforceConnection,
    SyncCursor,
    SyncRun,
)
from sync_engine.services import (
    integration_disconnect,
    integration_sync_set,
    object_sync_get_or_create,
    record_resync,
)
from sync_engine.sync.cycle import SYNC_OFF, sync_cycle_run, sync_cycles_run
from sync_engine.sync.schedule import due_cycles
from sync_engine.tasks import sync_object, sync_pairs

from .conftest import HS_TOKEN, SF_TOKEN, connect_to_emulators
from .factories import IntegrationFactory
from .sync.helpers import hs_create, hs_get, new_lead

DAY = 86_400


@pytest.fixture
def admin(db):
    return get_user_model().objects.create_user("ops", password="x")


@pytest.fixture
def contacts(connected):
    """The connected integration with the contact sync on (its default mappings)."""
    object_sync_get_or_create(integration=connected, object_name="contacts")
    return connected


def scheduled_cycle() -> list[SyncRun]:
    """What the beat does at a tick: a cycle of every pair that is due, as its worker runs it."""
    due: dict[int, list[str]] = {}
    for integration_id, name in due_cycles():
        due.setdefault(integration_id, []).append(name)
    runs = []
    for integration_id, names in due.items():
        integration = Integration.objects.get(pk=integration_id)
        runs += sync_cycles_run(integration=integration, object_names=names)
    return runs


def quiet(emulators, seconds: float) -> None:
    """Time passes, in both CRMs and for the schedule (the cycles ran that much earlier)."""
    advance_clocks(emulators, seconds)
    earlier = timedelta(seconds=seconds)
    SyncRun.objects.update(
        started_at=F("started_at") - earlier, finished_at=F("finished_at") - earlier
    )


def cursors(integration) -> dict[str, tuple]:
    return {
        row.stream: (row.position, row.checked_at)
        for row in SyncCursor.objects.filter(integration=integration)
    }


# --- the switch ---------------------------------------------------------------------------
@pytest.mark.django_db
def test_turning_sync_off_and_on_is_audited_with_who_and_when(admin):
    integration = IntegrationFactory()
    assert integration.sync_enabled  # on by default
    integration_sync_set(integration=integration, enabled=False, actor=admin)
    integration.refresh_from_db()
    assert not integration.sync_enabled
    assert integration.sync_changed_by == "ops" and integration.sync_changed_at is not None
    assert integration.state == Integration.State.CONNECTED  # not a pause: its own switch
    event = AuditEvent.objects.get(action="integration.sync_turned_off")
    assert event.actor == admin and event.integration == integration
    integration_sync_set(integration=integration, enabled=False, actor=admin)  # already off
    assert AuditEvent.objects.filter(action__startswith="integration.sync_").count() == 1
    integration_sync_set(integration=integration, enabled=True)  # the system, say a command
    integration.refresh_from_db()
    assert integration.sync_enabled and integration.sync_changed_by == ""
    assert AuditEvent.objects.get(action="integration.sync_turned_on").actor is None


def test_the_schedule_skips_an_integration_with_sync_off(contacts):
    assert due_cycles() == [(contacts.pk, "contacts")]
    integration_sync_set(integration=contacts, enabled=False)
    assert due_cycles() == []
    assert scheduled_cycle() == [] and not SyncRun.objects.exists()
    integration_sync_set(integration=contacts, enabled=True)
    assert due_cycles() == [(contacts.pk, "contacts")]


def test_a_cycle_asked_for_while_sync_is_off_reads_and_writes_nothing(contacts):
    integration_sync_set(integration=contacts, enabled=False)
    # The workers' tasks (Sync now, a resync) start nothing.
    sync_pairs(integration_id=contacts.pk, object_names=["contacts"], trigger="manual")
    sync_object(integration_id=contacts.pk, object_name="contacts", trigger="resync")
    assert not SyncRun.objects.exists()
    # A cycle run by hand in this process (manage.py sync_now) says why it did nothing.
    run = sync_cycle_run(integration=contacts, object_name="contacts", trigger="manual")
    assert run.status == SyncRun.Status.FAILED and run.message == SYNC_OFF
    assert not ApiCall.objects.exists()
    assert not SyncCursor.objects.exists()


def test_changes_made_while_sync_is_off_sync_when_it_is_back_on(
    contacts, emulators, sf_person, hs_person, admin
):
    lead = new_lead(sf_person, Email="ada@example.com", Title="Countess")
    assert [run.status for run in scheduled_cycle()] == ["succeeded"]
    contact = RecordLink.objects.get(integration=contacts, salesforce_id=lead).hubspot_id
    quiet(emulators, 600)
    scheduled_cycle()  # reads its own writes back; the cursors move past them

    integration_sync_set(integration=contacts, enabled=False, actor=admin)
    before = cursors(contacts)
    quiet(emulators, 2 * DAY)
    # Two days of edits on both sides while sync is off.
    sf_person.Lead.update(lead, {"Title": "Analyst"})
    later_lead = new_lead(sf_person, LastName="Hopper", Email="grace@example.com")
    hs_contact = hs_create(
        hs_person, email="katherine@example.com", lastname="Johnson", company="NASA"
    )
    # An admin's Resync of a record: its worker starts no cycle; the request waits.
    record_resync(
        integration=contacts, object_name="contacts", record_key=f"salesforce:{lead}", actor=admin
    )
    sync_object(integration_id=contacts.pk, object_name="contacts", trigger="resync")
    quiet(emulators, DAY)
    assert scheduled_cycle() == []
    sync_pairs(integration_id=contacts.pk, object_names=["contacts"], trigger="manual")
    assert ResyncRequest.objects.filter(integration=contacts).exists()
    assert hs_get(hs_person, contact, "jobtitle")["jobtitle"] == "Countess"  # untouched
    assert not RecordLink.objects.filter(hubspot_id=hs_contact).exists()
    assert cursors(contacts) == before  # nothing moved them while off

    integration_sync_set(integration=contacts, enabled=True, actor=admin)
    [run] = scheduled_cycle()
    assert run.status == "succeeded", run.message
    assert run.counts["created_in_hubspot"] == 1 and run.counts["created_in_salesforce"] == 1
    assert hs_get(hs_person, contact, "jobtitle")["jobtitle"] == "Analyst"
    assert not ResyncRequest.objects.filter(integration=contacts).exists()  # done now
    assert RecordLink.objects.filter(integration=contacts, salesforce_id=later_lead).exists()
    created = RecordLink.objects.get(integration=contacts, hubspot_id=hs_contact).salesforce_id
    assert sf_person.Lead.get(created)["Email"] == "katherine@example.com"


# --- disconnect ---------------------------------------------------------------------------
def test_disconnect_deletes_the_tokens_keeps_the_rest_and_stops_the_cycles(
    contacts, emulators, sf_person, admin
):
    lead = new_lead(sf_person, Email="ada@example.com")
    scheduled_cycle()
    mappings = FieldMapping.objects.filter(integration=contacts).count()
    assert mappings and RecordLink.objects.filter(salesforce_id=lead).exists()
    organization = SalesforceConnection.objects.get(integration=contacts).instance_url

    integration_disconnect(integration=contacts, actor=admin)
    contacts.refresh_from_db()
    assert contacts.state == Integration.State.DISCONNECTED
    # The tokens are gone from the database, not hidden.
    assert not SalesforceConnection.objects.exists() and not HubSpotConnection.objects.exists()
    # Settings, mappings, links, cursors and the audit log stay.
    assert FieldMapping.objects.filter(integration=contacts).count() == mappings
    assert ObjectSync.objects.get(integration=contacts, object="contacts").enabled
    assert RecordLink.objects.filter(salesforce_id=lead).exists()
    assert SyncCursor.objects.filter(integration=contacts).exists()
    event = AuditEvent.objects.get(action="integration.disconnected")
    assert event.actor == admin
    assert event.details["salesforce_url"] == organization
    assert event.details["previous_state"] == "connected"
    assert SF_TOKEN not in str(event.details) and HS_TOKEN not in str(event.details)
    assert due_cycles() == []
    run = sync_cycle_run(integration=contacts, object_name="contacts", trigger="manual")
    assert run.status == SyncRun.Status.FAILED and "disconnected" in run.message


def test_connecting_again_after_a_disconnect_continues_where_it_left_off(
    contacts, emulators, sf_person, hs_person, admin
):
    lead = new_lead(sf_person, Email="ada@example.com", Title="Countess")
    scheduled_cycle()
    contact = RecordLink.objects.get(integration=contacts, salesforce_id=lead).hubspot_id
    quiet(emulators, 600)
    scheduled_cycle()
    integration_disconnect(integration=contacts, actor=admin)
    quiet(emulators, DAY)
    sf_person.Lead.update(lead, {"Title": "Analyst"})  # edited while disconnected

    # What `manage.py connect` does, with the same org and account.
    connect_to_emulators(emulators, actor=admin)
    integration = Integration.objects.get()
    assert integration.pk == contacts.pk and integration.state == Integration.State.CONNECTED
    assert due_cycles() == [(integration.pk, "contacts")]
    [run] = scheduled_cycle()
    assert run.status == "succeeded", run.message
    # The kept link: updated, not created a second time.
    assert run.counts["updated_in_hubspot"] == 1 and not run.counts.get("created_in_hubspot")
    assert hs_get(hs_person, contact, "jobtitle")["jobtitle"] == "Analyst"
    assert RecordLink.objects.filter(integration=integration).count() == 1


@pytest.mark.django_db
def test_a_disconnect_while_a_paused_cycle_runs_is_not_undone_by_its_end(
    contacts, admin, monkeypatch
):
    """A cycle that started while paused (and had room again) ends the pause when it
    succeeds, but not a disconnect made while it ran."""
    from sync_engine.sync.contacts import ContactSync

    Integration.objects.filter(pk=contacts.pk).update(
        state=Integration.State.PAUSED, state_reason="The Salesforce API allocation is used up."
    )

    run = ContactSync.run

    def disconnected_meanwhile(self):
        # The real cycle runs; an admin disconnects before it ends.
        run(self)
        integration_disconnect(integration=contacts, actor=admin)

    monkeypatch.setattr(ContactSync, "run", disconnected_meanwhile)
    finished = sync_cycle_run(integration=contacts, object_name="contacts", trigger="manual")
    assert finished.status == SyncRun.Status.SUCCEEDED, finished.message
    contacts.refresh_from_db()
    assert contacts.state == Integration.State.DISCONNECTED
