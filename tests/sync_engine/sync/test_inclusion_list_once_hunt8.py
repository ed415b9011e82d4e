"""The contacts' inclusion list is read from HubSpot once a cycle over every pair: the contact
sync, the company sync (which contacts make an account, whose association syncs) and the
activity sync (whose activities sync) share the members and the joins read (spec §6.5; a list
read costs one HubSpot call per 250 members)."""

from __future__ import annotations

import pytest

from sync_engine.models import ApiCall, RecordLink, SyncCursor
from sync_engine.services import object_settings_update
from sync_engine.sync.activities import ENTRANTS_STREAM
from sync_engine.sync.cycle import sync_cycles_run

from ..everything import switch_everything_on
from .helpers import hs_create, hs_update
from .test_activities import engagement
from .test_companies import hs_company
from .test_contacts_inclusion_list import make_list

MEMBERS = "lists.memberships.list"
JOINS = "lists.memberships.join_order"


def cycle(integration) -> tuple[dict, list[str]]:
    """One cycle over every pair that is on, as the worker runs it: its runs by pair (all
    succeeded) and the operations of the API calls it made, in order."""
    last = ApiCall.objects.filter(integration=integration).order_by("-id").first()
    runs = {r.object: r for r in sync_cycles_run(integration=integration)}
    assert all(r.status == "succeeded" for r in runs.values()), {
        n: r.message for n, r in runs.items()
    }
    calls = ApiCall.objects.filter(integration=integration, id__gt=last.id if last else 0)
    return runs, list(calls.order_by("id").values_list("operation", flat=True))


@pytest.fixture
def everything(integration, emulators, hs_person):
    """Every pair on (contacts, companies, deals, tickets, activities, a custom object), set
    up by a first cycle (pipelines, key properties), and the contacts' inclusion list: the
    demo's contacts whose job title says "sync"."""
    emulators.hubspot.app.configure_budget(search_per_second=1000)
    switch_everything_on(integration, hs_person)
    cycle(integration)
    list_id = make_list(emulators)
    object_settings_update(
        integration=integration, object_name="contacts", changes={"inclusion_list_id": list_id}
    )
    return list_id


def member_with_company_and_call(emulators, hs, name: str) -> tuple[str, str]:
    """A new HubSpot contact in the list, on a new company, with a call logged: the contact
    sync, the company sync (does the company make an account?) and the activity sync (does
    the call go to Salesforce?) all ask the list about her."""
    contact = hs_create(hs, email=f"{name.lower()}@list.example", lastname=name,
                        company=f"{name} Co", jobtitle="please sync")  # fmt: skip
    company = hs_company(hs, name=f"{name} Co")
    emulators.hubspot.app.run_action("associate", from_type="contacts", from_id=contact,
                                     to_type="companies", to_id=company)  # fmt: skip
    engagement(hs, "calls", contact, hs_call_title=f"Intro {name}")
    return contact, company


def test_a_cycle_over_every_pair_reads_the_contact_list_once(
    everything, integration, emulators, hs_person
):
    for name in ("Ada", "Grace"):
        contact, company = member_with_company_and_call(emulators, hs_person, name)
        runs, operations = cycle(integration)
        # Each pair needed the list: she synced, her company made an account, her call a Task.
        assert RecordLink.objects.filter(object="contacts", hubspot_id=contact).exists()
        assert RecordLink.objects.filter(object="companies", hubspot_id=company).exists()
        assert runs["activities"].counts.get("created_in_salesforce") == 1, runs["activities"]
        assert not runs["activities"].counts.get("skipped_outside_list")
        assert operations.count(MEMBERS) == 1, operations
        # The joins too: the contact and activity syncs keep their own state of what they
        # saw, equal here, so one read answers both.
        assert operations.count(JOINS) == 1, operations
    contact_state = SyncCursor.objects.get(stream="contacts:list-entrants").seen
    assert SyncCursor.objects.get(stream=ENTRANTS_STREAM).seen == contact_state


def test_each_pair_reads_the_joins_it_has_not_seen(everything, integration, emulators, hs_person):
    """Activities with no state of the list yet (as if just switched on) reads it for itself
    (whole, nobody joining); from then on the two pairs' states agree and one read a cycle
    answers both, each pair still catching up whoever joined."""
    member_with_company_and_call(emulators, hs_person, "Ada")
    cycle(integration)
    SyncCursor.objects.filter(stream=ENTRANTS_STREAM).delete()
    outsider = hs_create(hs_person, email="out@list.example", lastname="Out", jobtitle="Analyst")
    _, operations = cycle(integration)
    assert operations.count(JOINS) == 2, operations
    hs_update(hs_person, outsider, jobtitle="sync now")  # joins the list
    runs, operations = cycle(integration)
    assert operations.count(JOINS) == 1, operations
    assert runs["activities"].counts.get("list_entrants") == 1, runs["activities"].counts
    assert RecordLink.objects.filter(object="contacts", hubspot_id=outsider).exists()
    contact_state = SyncCursor.objects.get(stream="contacts:list-entrants").seen
    assert SyncCursor.objects.get(stream=ENTRANTS_STREAM).seen == contact_state


def test_a_list_deleted_in_hubspot_still_holds_each_pair_and_each_run_says_why(
    everything, integration, emulators, hs_person
):
    """Gone from HubSpot, the list has no members for any pair: Ada's edit, her new company
    and her new call are all held (no account, no Task), each pair's run says why, and the
    404 is asked once."""
    list_id = everything
    ada, _ = member_with_company_and_call(emulators, hs_person, "Ada")
    cycle(integration)
    hs_person.crm.lists.lists_api.remove(list_id)  # deleted in HubSpot; the sync wasn't told
    hs_update(hs_person, ada, lastname="Lovelace")
    company = hs_company(hs_person, name="Segment Gone")
    emulators.hubspot.app.run_action("associate", from_type="contacts", from_id=ada,
                                     to_type="companies", to_id=company)  # fmt: skip
    engagement(hs_person, "calls", ada, hs_call_title="Held call")
    runs, operations = cycle(integration)
    said = f"(HubSpot list {list_id}) no longer exists in HubSpot"
    for name in ("contacts", "companies", "activities"):
        assert said in runs[name].message, (name, runs[name].message)
    assert runs["contacts"].counts.get("skipped_outside_list"), runs["contacts"].counts
    assert not RecordLink.objects.filter(object="companies", hubspot_id=company).exists()
    assert runs["companies"].counts.get("skipped_no_contact"), runs["companies"].counts
    assert runs["activities"].counts.get("skipped_outside_list") == 1, runs["activities"].counts
    assert not runs["activities"].counts.get("created_in_salesforce")
    assert operations.count(MEMBERS) + operations.count(JOINS) == 1, operations
