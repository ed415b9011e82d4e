"""The record page says why each past error ended, not only when: the record synced, no longer
syncs by the pair's rules, was deleted, was merged or deleted in HubSpot, was resynced by an
admin... And its Status says *Not syncing* (with the reason) when the latest ended error says
the record stopped syncing and it hasn't synced since. Driven through real cycles against the
emulators."""

from __future__ import annotations

import re
from datetime import timedelta
from html import unescape

import pytest
from django.urls import reverse

from integration_admin.labels import STOPPED_SYNCING_LABELS
from sync_engine.models import RecordLink, SyncError
from sync_engine.selectors import STOPPED_SYNCING
from sync_engine.services import object_settings_update, object_sync_get_or_create
from tests.sync_engine.sync.conftest import Cycle
from tests.sync_engine.sync.helpers import (
    due_now,
    hs_create,
    hs_update,
    lead_refused_for_a_taken_email,
    new_lead,
)
from tests.sync_engine.sync.test_contacts_deletes_merges import (
    merged_in_salesforce,
    merged_into_a_synced_person,
)
from tests.sync_engine.sync.test_custom_objects_hubspot_waits import waiting_project
from tests.sync_engine.sync.test_retries_settle import refuse, refused_list_member

pytestmark = pytest.mark.django_db

RULES_LEAVE_IT_ALONE = "Ended: the record no longer syncs (its rules leave it alone)"


@pytest.fixture
def integration(live, emulators):
    """Connected to the emulators as ``manage.py connect`` leaves it (the integration user's
    id stored), contacts on their defaults."""
    connection = live.salesforce_connection
    token = connection.access_token
    connection.user_id = emulators.salesforce.app.run_action("user_for_token", token=token) or ""
    connection.save()
    emulators.hubspot.app.configure_budget(search_per_second=1000)
    object_sync_get_or_create(integration=live, object_name="contacts")
    return live


@pytest.fixture
def cycle(integration):
    return Cycle(integration)


def text(html: str) -> str:
    """What a reader sees of some HTML: its words, one space apart."""
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


class RecordPage:
    """A record's page as an admin reads it: its Status, current errors and Sync history."""

    def __init__(self, client, object_name: str, record_key: str):
        response = client.get(reverse("record_detail", args=[object_name, record_key]))
        assert response.status_code == 200
        html = response.content.decode()
        self.status = text(re.search(r"<dt>Status</dt>\s*<dd>(.*?)</dd>", html, re.S).group(1))
        current, history = html.split("<h2>Sync history</h2>")
        self.current = text(current.split("<h2>Current errors</h2>")[1])
        self.history = text(history)


def ended(error: SyncError) -> SyncError:
    error.refresh_from_db()
    assert error.resolved_at is not None and error.next_retry_at is None
    return error


# --- the record synced ------------------------------------------------------------------------
def test_an_error_whose_record_then_synced_reads_cleared(
    admin_client, integration, cycle, emulators, hs_person
):
    refuse(emulators, "Lead", "LastName", "Refused")
    contact = hs_create(hs_person, email="fix@example.com", lastname="Refused", company="X")
    cycle()
    error = SyncError.objects.get(record_key=f"hubspot:{contact}", resolved_at__isnull=True)
    hs_update(hs_person, contact, lastname="Fixed")
    cycle()
    assert ended(error).ended_because == ""

    page = RecordPage(admin_client, "contacts", error.record_key)
    assert "No Refused records" in page.history
    assert "Cleared: the record synced" in page.history
    assert page.status == "Syncing"


# --- the pair's rules leave the record alone ------------------------------------------------------
def test_a_contact_that_left_the_inclusion_list_reads_not_syncing_until_it_syncs_again(
    admin_client, integration, cycle, emulators, hs_person, sf_person
):
    """Its refused lead is no longer wanted, so its retry ends the error: the page says the
    contact stopped syncing rather than "Syncing" / "None: the record syncs.". Once it is back
    in the list and synced, it syncs again; the history still says why that error ended."""
    _, contact, error = refused_list_member(cycle, emulators, hs_person)
    hs_update(hs_person, contact, jobtitle="Analyst")  # leaves the active list
    cycle()
    due_now(error)
    assert cycle().counts["retried"] == 1
    assert ended(error).ended_because == "not_syncing"

    page = RecordPage(admin_client, "contacts", error.record_key)
    assert RULES_LEAVE_IT_ALONE in page.history and "Cleared" not in page.history
    assert page.status.startswith("Not syncing")
    assert "the sync's rules now leave this record alone" in page.status
    assert "it left the inclusion list" in page.status
    assert page.current == "None: the record no longer syncs."
    # The API's past errors say so too.
    (listed,) = admin_client.get("/api/v1/errors/?resolved=true").json()["results"]
    assert (listed["id"], listed["ended_because"]) == (error.pk, "not_syncing")

    hs_update(hs_person, contact, jobtitle="sync me", lastname="Accepted")  # back in the list
    cycle()
    assert RecordLink.objects.filter(hubspot_id=contact).exists()
    page = RecordPage(admin_client, "contacts", error.record_key)
    assert page.status == "Syncing"
    assert RULES_LEAVE_IT_ALONE in page.history


# --- the record was deleted ---------------------------------------------------------------------
def lead_deleted(emulators, sf_person, lead: str) -> None:
    sf_person.Lead.delete(lead)


def lead_merged_away(emulators, sf_person, lead: str) -> None:
    master = new_lead(sf_person, Email="master@example.com", LastName="Master")
    emulators.salesforce.app.run_action("merge", object="Lead", master_id=master, loser_ids=[lead])


def lead_converted(emulators, sf_person, lead: str) -> None:
    emulators.salesforce.app.run_action("convert_lead", lead_id=lead, create_opportunity=False)


@pytest.mark.parametrize(
    ("gone", "reason", "history", "status"),
    [
        (lead_deleted, "deleted", "Ended: the record was deleted",
         "The record was deleted, so nothing is left to sync."),
        (lead_merged_away, "merged_in_salesforce", "Ended: its Salesforce record was merged away",
         "It was merged into another record in Salesforce, which syncs in its place."),
        (lead_converted, "converted", "Ended: its Salesforce lead was converted",
         "The lead was converted in Salesforce: its contact syncs in its place."),
    ],
)  # fmt: skip
def test_a_lead_gone_before_its_retry_says_how(
    admin_client, integration, cycle, emulators, hs_person, sf_person, gone, reason, history, status
):
    """A lead HubSpot can't take (its new email belongs to another contact), deleted, merged
    into another lead or converted in Salesforce before its retry: its error ends saying
    which, in the cycle that reads that (the change stream says so), and its page says it no
    longer syncs, and why."""
    lead, error = lead_refused_for_a_taken_email(cycle, sf_person, hs_person)
    gone(emulators, sf_person, lead)
    cycle()
    assert ended(error).ended_because == reason

    page = RecordPage(admin_client, "contacts", error.record_key)
    assert history in page.history
    assert page.status == f"Not syncing {status}"
    assert page.current == "None: the record no longer syncs."


def test_every_reason_a_record_stops_syncing_has_its_words():
    assert set(STOPPED_SYNCING) == set(STOPPED_SYNCING_LABELS)


# --- merged in Salesforce, then merged or deleted in HubSpot, or resynced -------------------------
def test_a_contact_kept_after_a_salesforce_merge_then_deleted_in_hubspot_says_both(
    admin_client, integration, cycle, emulators, hs_person, sf_person
):
    """Its older error ends when the Merged in Salesforce error replaces it; that one ends
    when the contact is deleted in HubSpot. Each says why; the contact syncs no more."""
    loser = new_lead(sf_person, Email="dupe@example.com", LastName="Loser")
    master = new_lead(sf_person, Email="master@example.com", LastName="Master")
    cycle()
    kept = cycle.link(salesforce_id=loser).hubspot_id
    hs_update(hs_person, kept, jobtitle="Senior " * 40)  # too long for the lead's Title
    cycle()
    older = SyncError.objects.get(record_key=f"hubspot:{kept}", resolved_at__isnull=True)
    emulators.salesforce.app.run_action("merge", object="Lead", master_id=master, loser_ids=[loser])
    cycle()
    assert ended(older).ended_because == "merged_in_salesforce"
    error = merged_in_salesforce(cycle, kept)

    page = RecordPage(admin_client, "contacts", f"hubspot:{kept}")
    assert "Ended: its Salesforce record was merged away" in page.history
    assert "Merged in Salesforce" in page.current and page.status == "1 current error"

    hs_person.crm.contacts.basic_api.archive(kept)
    cycle()
    assert ended(error).ended_because == "gone_from_hubspot"
    page = RecordPage(admin_client, "contacts", f"hubspot:{kept}")
    assert "Ended: merged or deleted in HubSpot" in page.history
    assert page.status == (
        "Not syncing It was merged or deleted in HubSpot, so nothing is left to sync."
    )


def test_a_resync_from_the_record_page_ends_a_merged_in_salesforce_error_as_resynced(
    admin_client, integration, cycle, emulators, sf_person
):
    """The admin says it is another person after all: the error ends, saying an admin
    resynced it, and the contact syncs (as a new lead)."""
    kept, *_ = merged_into_a_synced_person(cycle, emulators, sf_person)
    error = merged_in_salesforce(cycle, kept)
    admin_client.post(reverse("record_resync", args=["contacts", f"hubspot:{kept}"]))
    cycle(trigger="resync")
    assert ended(error).ended_because == "resynced"

    page = RecordPage(admin_client, "contacts", f"hubspot:{kept}")
    assert "Ended: an admin resynced it" in page.history
    assert page.status == "Syncing"


# --- what it waited for no longer syncs -----------------------------------------------------------
def test_a_wait_whose_partner_sync_was_switched_off_says_so(
    admin_client, integration, emulators, hs_person
):
    """A project waiting for its contact to sync: contact sync switched off, the wait could
    never end and ends. The project itself still syncs."""
    projects, record, _ = waiting_project(integration, emulators, hs_person, "contacts")
    projects()
    error = SyncError.objects.get(object=projects.name, resolved_at__isnull=True)
    object_settings_update(
        integration=integration, object_name="contacts", changes={}, enabled=False
    )
    projects()
    assert ended(error).ended_because == "partner_not_syncing"

    page = RecordPage(admin_client, projects.name, error.record_key)
    assert "Ended: what it waited for no longer syncs" in page.history
    assert page.status == "Syncing"


def test_an_ended_error_older_than_the_records_last_sync_leaves_it_syncing(
    admin_client, integration
):
    """Status reads only what the page loads: a record that synced after its error ended
    (rules leaving it alone) is syncing again."""
    link = RecordLink.objects.create(
        integration=integration, object="contacts", hubspot_id="7", salesforce_id="00Q7",
        salesforce_type="Lead",
    )  # fmt: skip
    SyncError.objects.create(
        integration=integration, object="contacts", error_type="property_value",
        direction="to_salesforce", record_key="hubspot:7", hubspot_id="7",
        resolved_at=link.last_synced_at - timedelta(minutes=5), ended_because="not_syncing",
    )  # fmt: skip
    page = RecordPage(admin_client, "contacts", "hubspot:7")
    assert page.status == "Syncing" and RULES_LEAVE_IT_ALONE in page.history
