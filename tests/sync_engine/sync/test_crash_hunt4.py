"""Crash windows of the deal–contact associations, and a cycle that stalled past its lease.

A deal cycle that dies after writing an association (or a contact role) and before its
commit must not read its own write back as a user's edit: an edit made meanwhile on either
side wins. A cycle whose lease another worker took over stops before it commits again."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from emulators.testing import advance_clocks
from sync_engine.models import ApiCall, ObjectSync, RecordLink, SyncError, SyncRun
from sync_engine.sync.cycle import sync_cycle_run

from .helpers import Crash, hs_create
from .test_deals import deal_contacts, deal_with_two_roles, role_delete, roles


def dies_once(monkeypatch, name: str) -> None:
    """The deal worker dies the first time ``DealSync.name`` is called with pairs (after
    what came before it in the batch landed); later calls run as usual."""
    from sync_engine.sync.deals import DealSync

    original = getattr(DealSync, name)
    calls = []

    def dying(self, pairs, *args, **kwargs):
        if pairs and not calls:
            calls.append(1)
            raise Crash(f"worker died at {name}")
        return original(self, pairs, *args, **kwargs)

    monkeypatch.setattr(DealSync, name, dying)


def hs_contact_of(salesforce_id: str) -> str:
    return RecordLink.objects.get(object="contacts", salesforce_id=salesforce_id).hubspot_id


def linked_contact(deals, sf_person, name: str, email: str) -> tuple[str, str]:
    """A Salesforce contact, synced to HubSpot: (contact, HubSpot contact)."""
    contact = sf_person.Contact.create({"LastName": name, "Email": email})["id"]
    deals("contacts")
    return contact, hs_contact_of(contact)


def no_open_errors() -> bool:
    return not SyncError.objects.filter(resolved_at__isnull=True).exists()


# --- deal–contact associations after a crash ----------------------------------------------
def test_a_marketers_removal_after_an_unrecorded_association_wins(
    deals, sf_person, hs_person, emulators, monkeypatch
):
    """A rep gives Carl a role; the cycle puts Carl on the deal and dies before its commit.
    Meanwhile a marketer takes Carl off the deal: the later edit wins (Carl's role goes), the
    role isn't read as "Salesforce has him" and put back on the deal."""
    opportunity, deal, ann, bob = deal_with_two_roles(deals, sf_person, "Crash One")
    carl, hs_carl = linked_contact(deals, sf_person, "Carl", "carl@crash-one.example")

    deals.sf_action("add_contact_role", opportunity_id=opportunity, contact_id=carl)
    dies_once(monkeypatch, "commit")
    with pytest.raises(Crash):
        deals()
    assert hs_carl in deal_contacts(hs_person, deal)  # it landed
    monkeypatch.undo()
    advance_clocks(emulators, 61)
    hs_person.crm.associations.v4.basic_api.archive("deals", deal, "contacts", hs_carl)
    advance_clocks(emulators, 61)
    deals()
    deals()

    assert deal_contacts(hs_person, deal) == sorted([hs_contact_of(ann), hs_contact_of(bob)])
    assert roles(sf_person, opportunity) == sorted([ann, bob])
    assert no_open_errors()


def test_a_reps_role_delete_after_an_unrecorded_role_create_wins(
    deals, sf_person, hs_person, emulators, monkeypatch
):
    """A marketer puts Carl on the deal; the cycle gives him a role and dies before its
    commit. Meanwhile a rep deletes that role: Carl comes off the deal, and his role isn't
    made again."""
    opportunity, deal, ann, bob = deal_with_two_roles(deals, sf_person, "Crash Two")
    carl, hs_carl = linked_contact(deals, sf_person, "Carl", "carl@crash-two.example")

    deals.hs_action("associate", from_type="deals", from_id=deal, to_type="contacts",
                    to_id=hs_carl)  # fmt: skip
    dies_once(monkeypatch, "commit")
    with pytest.raises(Crash):
        deals()
    assert carl in roles(sf_person, opportunity)  # it landed
    monkeypatch.undo()
    advance_clocks(emulators, 61)
    role_delete(sf_person, carl)
    advance_clocks(emulators, 61)
    deals()
    deals()

    assert roles(sf_person, opportunity) == sorted([ann, bob])
    assert deal_contacts(hs_person, deal) == sorted([hs_contact_of(ann), hs_contact_of(bob)])
    assert no_open_errors()


def test_a_cycle_dying_between_the_deal_and_its_roles_finishes_both_and_keeps_later_edits(
    deals, sf_person, hs_person, emulators, monkeypatch
):
    """In one cycle a rep gives Carl a role and a marketer puts Dan on the deal. The cycle
    puts Carl on the deal, then dies before Dan's role is made. Meanwhile the marketer takes
    Carl off the deal again: Carl's role goes, and Dan still gets his."""
    opportunity, deal, ann, bob = deal_with_two_roles(deals, sf_person, "Crash Three")
    carl, hs_carl = linked_contact(deals, sf_person, "Carl", "carl@crash-three.example")
    dan, hs_dan = linked_contact(deals, sf_person, "Dan", "dan@crash-three.example")

    deals.sf_action("add_contact_role", opportunity_id=opportunity, contact_id=carl)
    deals.hs_action("associate", from_type="deals", from_id=deal, to_type="contacts",
                    to_id=hs_dan)  # fmt: skip
    dies_once(monkeypatch, "write_roles")
    with pytest.raises(Crash):
        deals()
    assert hs_carl in deal_contacts(hs_person, deal)  # the HubSpot half landed
    assert dan not in roles(sf_person, opportunity)  # the Salesforce half didn't
    monkeypatch.undo()
    advance_clocks(emulators, 61)
    hs_person.crm.associations.v4.basic_api.archive("deals", deal, "contacts", hs_carl)
    advance_clocks(emulators, 61)
    deals()
    deals()

    assert roles(sf_person, opportunity) == sorted([ann, bob, dan])
    assert deal_contacts(hs_person, deal) == sorted(
        [hs_contact_of(ann), hs_contact_of(bob), hs_dan]
    )
    assert no_open_errors()


def test_a_crash_after_the_writes_leaves_one_role_and_one_association_each(
    deals, sf_person, hs_person, emulators, monkeypatch
):
    """With nobody editing meanwhile, the cycle after a crash (at either point) ends with
    each contact once on the deal and once as a role, and idles afterwards."""
    opportunity, deal, ann, bob = deal_with_two_roles(deals, sf_person, "Crash Four")
    carl, hs_carl = linked_contact(deals, sf_person, "Carl", "carl@crash-four.example")
    dan, hs_dan = linked_contact(deals, sf_person, "Dan", "dan@crash-four.example")

    for dies_at in ("write_roles", "commit"):
        deals.sf_action("add_contact_role", opportunity_id=opportunity, contact_id=carl)
        deals.hs_action("associate", from_type="deals", from_id=deal, to_type="contacts",
                        to_id=hs_dan)  # fmt: skip
        dies_once(monkeypatch, dies_at)
        with pytest.raises(Crash):
            deals()
        monkeypatch.undo()
        advance_clocks(emulators, 61)
        deals()
        deals()
        assert roles(sf_person, opportunity) == sorted([ann, bob, carl, dan])
        assert deal_contacts(hs_person, deal) == sorted(
            [hs_contact_of(ann), hs_contact_of(bob), hs_carl, hs_dan]
        )
        idle = deals()
        assert not any(
            k.startswith(("roles_", "associations_")) and v for k, v in idle.counts.items()
        )
        # Back to Ann and Bob for the second round.
        role_delete(sf_person, carl)
        hs_person.crm.associations.v4.basic_api.archive("deals", deal, "contacts", hs_dan)
        advance_clocks(emulators, 61)
        deals()
        deals()
        assert roles(sf_person, opportunity) == sorted([ann, bob])
    assert no_open_errors()


# --- a cycle that stalled past its lease ------------------------------------------------------
@pytest.fixture
def contacts(cycle):
    """The contact pair, HubSpot contacts creating Salesforce contacts."""
    cycle.settings(hubspot_creates="contact")
    return cycle


def test_a_cycle_whose_lease_was_taken_over_stops_before_it_commits_again(
    contacts, integration, sf_person, hs_person, monkeypatch
):
    """Cycle A writes a rep's edit to HubSpot and stalls before its commit for longer than
    its lease. Another worker finds the lease expired, takes the pair over and syncs what is
    due (a marketer's new contact among it). When A wakes up it stops: it commits nothing,
    calls neither system again, and its run says another worker took over. Each person is
    one record per side, with the latest values."""
    from sync_engine.sync.pair import PairSync

    contact = sf_person.Contact.create({"LastName": "Stall", "Email": "stall@lease.example"})["id"]
    contacts()
    hs_contact = RecordLink.objects.get(object="contacts", salesforce_id=contact).hubspot_id
    sf_person.Contact.update(contact, {"Title": "Head of Leases"})
    new = hs_create(hs_person, email="new@lease.example", firstname="Nina", lastname="New")

    row = ObjectSync.objects.filter(integration=integration, object="contacts")
    original = PairSync.commit
    taken_over = {}

    def stalls(self, pairs, *args, **kwargs):
        if pairs and not taken_over:
            # Stalled past the lease: another worker finds it expired and runs the pair.
            taken_over["at"] = True
            row.update(lock_expires_at=timezone.now() - timedelta(seconds=1))
            taken_over["run"] = sync_cycle_run(integration=integration, object_name="contacts")
            taken_over["calls"] = ApiCall.objects.count()
            taken_over["link"] = RecordLink.objects.get(salesforce_id=contact).last_synced_at
        return original(self, pairs, *args, **kwargs)

    monkeypatch.setattr(PairSync, "commit", stalls)
    stale = sync_cycle_run(integration=integration, object_name="contacts")
    monkeypatch.undo()

    assert taken_over["run"].status == SyncRun.Status.SUCCEEDED
    assert stale.status == SyncRun.Status.FAILED
    assert stale.message.startswith("Stopped: another worker took over"), stale.message
    assert ApiCall.objects.count() == taken_over["calls"]  # nothing after it woke up
    # Its commit didn't land over the other worker's.
    assert RecordLink.objects.get(salesforce_id=contact).last_synced_at == taken_over["link"]
    assert row.get().lock_holder == ""  # the other worker released it; A took nothing back

    contacts()
    emails = [c["Email"] for c in sf_person.query("SELECT Email FROM Contact")["records"]]
    assert sorted(emails) == ["new@lease.example", "stall@lease.example"]
    found = hs_person.crm.contacts.basic_api.get_page(limit=100, properties=["email", "jobtitle"])
    assert sorted(o.properties["email"] for o in found.results) == sorted(emails)
    assert (
        hs_person.crm.contacts.basic_api.get_by_id(hs_contact, properties=["jobtitle"]).properties[
            "jobtitle"
        ]
        == "Head of Leases"
    )
    assert str(new) in {o.id for o in found.results}
