"""Deletes, lead conversion and merges on either side (spec §6.2, §6.4)."""

from collections.abc import Callable

import pytest

from emulators.testing import advance_clocks
from sync_engine.models import RecordLink, SyncError, SyncRun
from sync_engine.services import record_resync, sync_errors_request_resync
from sync_engine.sync.cycle import sync_cycle_run, sync_cycles_run

from .helpers import hs_create, hs_emails, hs_get, hs_update, new_lead


def hs_exists(hs, contact_id) -> bool:
    from hubspot.crm.contacts.exceptions import NotFoundException

    try:
        hs.crm.contacts.basic_api.get_by_id(contact_id)
    except NotFoundException:
        return False
    return True


@pytest.mark.parametrize("setting", ["delete", "nothing"])
def test_salesforce_delete(cycle, sf_person, hs_person, setting):
    cycle.settings(salesforce_delete=setting)
    lead = new_lead(sf_person, Email="gone@example.com")
    cycle()
    contact = cycle.link(salesforce_id=lead).hubspot_id
    sf_person.Lead.delete(lead)
    cycle()
    assert hs_exists(hs_person, contact) is (setting == "nothing")
    assert not RecordLink.objects.filter(salesforce_id=lead).exists()


def test_deleting_in_hubspot_never_deletes_in_salesforce(cycle, sf_person, hs_person):
    lead = new_lead(sf_person, Email="stay@example.com")
    cycle()
    hs_person.crm.contacts.basic_api.archive(cycle.link(salesforce_id=lead).hubspot_id)
    cycle()
    assert sf_person.Lead.get(lead)["Email"] == "stay@example.com"


def test_lead_conversion_moves_the_link_to_the_contact(cycle, emulators, sf_person, hs_person):
    lead = new_lead(sf_person, Email="convert@example.com", LastName="Turing")
    cycle()
    contact = cycle.link(salesforce_id=lead).hubspot_id
    result = emulators.salesforce.app.run_action(
        "convert_lead", lead_id=lead, create_opportunity=False
    )
    cycle()
    link = cycle.link(hubspot_id=contact)
    assert link.salesforce_type == "Contact"
    assert link.salesforce_id == result["contact_id"]
    hs_update(hs_person, contact, mobilephone="+44 20 7946 0000")
    cycle()
    assert sf_person.Contact.get(link.salesforce_id)["MobilePhone"] == "+44 20 7946 0000"
    assert hs_emails(hs_person).count("convert@example.com") == 1


def test_salesforce_merge_keeps_the_hubspot_contact_on_the_survivor(
    cycle, emulators, sf_person, hs_person
):
    loser = new_lead(sf_person, Email="dupe@example.com", LastName="Loser")
    cycle()
    contact = cycle.link(salesforce_id=loser).hubspot_id
    master = new_lead(sf_person, Email="master@example.com", LastName="Master")
    emulators.salesforce.app.run_action("merge", object="Lead", master_id=master, loser_ids=[loser])
    cycle()
    # The master had no HubSpot contact of its own: the loser's contact follows it.
    assert cycle.link(hubspot_id=contact).salesforce_id == master
    assert hs_get(hs_person, contact, "lastname")["lastname"] == "Master"
    assert not SyncError.objects.filter(resolved_at__isnull=True).exists()


def test_hubspot_merge_repoints_the_link(cycle, emulators, sf_person, hs_person):
    lead = new_lead(sf_person, Email="merged@example.com")
    cycle()
    contact = cycle.link(salesforce_id=lead).hubspot_id
    survivor = hs_create(
        hs_person, email="survivor@example.com", lastname="Survivor", company="Acme"
    )
    emulators.hubspot.app.run_action(
        "merge", object_type="contacts", primary_id=survivor, merged_id=contact
    )
    cycle()
    assert cycle.link(salesforce_id=lead).hubspot_id == survivor
    assert sf_person.query("SELECT COUNT() FROM Lead")["totalSize"] == 1  # no new lead


def leads_with(sf, email) -> list[str]:
    found = sf.query(f"SELECT Id FROM Lead WHERE Email = '{email}'")["records"]  # noqa: S608
    return [r["Id"] for r in found]


def test_a_contact_deleted_and_made_again_in_hubspot_takes_over_the_link(
    cycle, sf_person, hs_person
):
    """Deleted in HubSpot, then made again with the same email (a form fill): Salesforce's
    lead already has the email, so no second lead is made (§6.2, §20.4); the new contact
    links to it as at a first sync."""
    first = hs_create(hs_person, email="sam@example.com", lastname="Sam", company="Acme")
    hs_update(hs_person, first, jobtitle="Buyer")
    cycle()
    lead = cycle.link(hubspot_id=first).salesforce_id
    hs_person.crm.contacts.basic_api.archive(first)
    again = hs_create(
        hs_person, email="sam@example.com", lastname="Sam", company="Acme", phone="+1 555 0142"
    )
    cycle()
    assert leads_with(sf_person, "sam@example.com") == [lead]
    assert cycle.link(salesforce_id=lead).hubspot_id == again
    assert hs_get(hs_person, again, "jobtitle")["jobtitle"] == "Buyer"
    assert sf_person.Lead.get(lead)["Phone"] == "+1 555 0142"


def test_a_second_hubspot_contact_with_a_synced_email_is_an_error_not_a_second_lead(
    cycle, sf_person, hs_person
):
    """The email's lead syncs with a HubSpot contact that still exists: the new contact with
    that email is an *Email already in use* error, and Salesforce gets no second lead."""
    first = hs_create(hs_person, email="ana@example.com", lastname="Ana", company="Acme")
    cycle()
    lead = cycle.link(hubspot_id=first).salesforce_id
    hs_update(hs_person, first, email="ana.private@example.com")  # frees the email in HubSpot
    second = hs_create(hs_person, email="ana@example.com", lastname="Ana", company="Acme")
    cycle()
    assert leads_with(sf_person, "ana@example.com") == [lead]
    assert cycle.link(salesforce_id=lead).hubspot_id == first
    error = SyncError.objects.get(record_key=f"hubspot:{second}", resolved_at__isnull=True)
    assert (error.error_type, error.salesforce_id) == ("email_in_use", lead)


def two_people_merged_in_hubspot(
    cycle, emulators, sf_person
) -> tuple[str, str, str, Callable[[], None]]:
    """Two synced leads, and what merges their HubSpot contacts, the first one surviving (it
    keeps its link, and takes the second one's email among its merged emails): ``(keep,
    gone, survivor, merge)``."""
    keep = new_lead(sf_person, Email="keep@example.com", LastName="Keep")
    gone = new_lead(sf_person, Email="gone@example.com", LastName="Gone")
    cycle()
    survivor = cycle.link(salesforce_id=keep).hubspot_id
    merged = cycle.link(salesforce_id=gone).hubspot_id

    def merge():
        emulators.hubspot.app.run_action(
            "merge", object_type="contacts", primary_id=survivor, merged_id=merged
        )

    return keep, gone, survivor, merge


def assert_survivor_untouched(cycle, sf_person, hs_person, keep, survivor):
    """The survivor keeps its link and its own values, on both sides."""
    assert cycle.link(salesforce_id=keep).hubspot_id == survivor
    props = hs_get(hs_person, survivor, "email", "firstname", "lastname")
    assert (props["email"], props["firstname"], props["lastname"]) == (
        "keep@example.com",
        None,
        "Keep",
    )
    lead = sf_person.Lead.get(keep)
    assert (lead["Email"], lead["FirstName"], lead["LastName"]) == (
        "keep@example.com",
        None,
        "Keep",
    )


def open_error(cycle, salesforce_id):
    return SyncError.objects.get(
        integration=cycle.integration,
        record_key=f"salesforce:{salesforce_id}",
        resolved_at__isnull=True,
    )


def test_a_person_whose_contact_was_merged_into_another_persons_is_an_email_in_use_error(
    cycle, emulators, sf_person, hs_person
):
    """Merged in HubSpot into a contact that syncs with another lead: that contact stays
    the other lead's, and, as it holds this lead's email too (HubSpot finds it by that
    email), an edit of this lead is an *Email already in use* error naming it (§4), never a
    write onto it (nor, through it, onto the other lead), nor a second link to it."""
    keep, gone, survivor, merge = two_people_merged_in_hubspot(cycle, emulators, sf_person)
    merge()
    sf_person.Lead.update(gone, {"FirstName": "Edited"})
    cycle()
    cycle()
    assert_survivor_untouched(cycle, sf_person, hs_person, keep, survivor)
    assert not RecordLink.objects.filter(salesforce_id=gone).exists()
    error = open_error(cycle, gone)
    assert (error.error_type, error.direction, error.hubspot_id) == (
        "email_in_use",
        "to_hubspot",
        survivor,
    )
    assert keep in error.message
    assert "gone@example.com" not in hs_emails(hs_person)


def merged_while_salesforce_is_read(monkeypatch, merge):
    """The merge lands in HubSpot after the cycle read HubSpot's changes, before it reads
    Salesforce's: the lead still links to the contact merged away."""
    from sync_engine.sync.contacts import ContactSync

    original = ContactSync.sync_salesforce_changes

    def merged_first(self):
        merge()
        monkeypatch.setattr(ContactSync, "sync_salesforce_changes", original)
        original(self)

    monkeypatch.setattr(ContactSync, "sync_salesforce_changes", merged_first)


def test_a_linked_person_whose_contact_was_merged_into_another_persons_is_an_error(
    cycle, emulators, sf_person, hs_person, monkeypatch
):
    """As above, with the lead still linked to its merged-away contact when its edit is
    read (the merge came during the cycle): the read answers with the survivor, which is
    the other lead's partner, so the link goes and the edit is the same error."""
    keep, gone, survivor, merge = two_people_merged_in_hubspot(cycle, emulators, sf_person)
    sf_person.Lead.update(gone, {"FirstName": "Edited"})
    merged_while_salesforce_is_read(monkeypatch, merge)
    cycle()
    cycle()
    assert_survivor_untouched(cycle, sf_person, hs_person, keep, survivor)
    assert not RecordLink.objects.filter(salesforce_id=gone).exists()
    error = open_error(cycle, gone)
    assert (error.error_type, error.hubspot_id) == ("email_in_use", survivor)


def test_a_person_whose_merged_contact_no_longer_has_their_email_gets_a_new_contact(
    cycle, emulators, sf_person, hs_person, monkeypatch
):
    """Merged into another lead's contact, while the lead's email changed in Salesforce:
    HubSpot has no contact with the new email, so the lead gets one of its own, as after a
    delete; the survivor stays the other lead's, untouched."""
    keep, gone, survivor, merge = two_people_merged_in_hubspot(cycle, emulators, sf_person)
    sf_person.Lead.update(gone, {"Email": "moved@example.com", "FirstName": "Edited"})
    merged_while_salesforce_is_read(monkeypatch, merge)
    cycle()
    cycle()
    assert_survivor_untouched(cycle, sf_person, hs_person, keep, survivor)
    fresh = cycle.link(salesforce_id=gone).hubspot_id
    assert fresh != survivor
    props = hs_get(hs_person, fresh, "email", "firstname", "lastname")
    assert (props["email"], props["firstname"], props["lastname"]) == (
        "moved@example.com",
        "Edited",
        "Gone",
    )


def test_an_upsert_landing_on_another_persons_contact_is_an_error_not_a_second_link(
    cycle, emulators, sf_person, hs_person, monkeypatch
):
    """Defence in depth: when the lookup by email doesn't show the contact holding the
    email (here: the merged emails left out of what is read), the create is an upsert by
    the email, which lands on the other lead's contact. That contact is never taken as this
    lead's partner: an *Email already in use* error, not a second link (whose unique
    constraint used to stop the whole batch)."""
    from sync_engine.sync import contacts

    keep, gone, survivor, merge = two_people_merged_in_hubspot(cycle, emulators, sf_person)
    merge()
    monkeypatch.setattr(
        contacts,
        "HUBSPOT_SYSTEM",
        [p for p in contacts.HUBSPOT_SYSTEM if p != "hs_additional_emails"],
    )
    sf_person.Lead.update(gone, {"FirstName": "Edited"})
    cycle()
    assert cycle.link(salesforce_id=keep).hubspot_id == survivor
    assert not RecordLink.objects.filter(salesforce_id=gone).exists()
    error = open_error(cycle, gone)
    assert (error.error_type, error.hubspot_id) == ("email_in_use", survivor)


def test_editing_the_salesforce_partner_of_a_contact_merged_away_in_hubspot_does_not_crash(
    integration, sf_person, hs_person
):
    """Two linked people; in HubSpot, contact B is merged into contact A (A survives, still
    linked to its own Salesforce record); then a rep edits B's Salesforce record. The cycle
    doesn't stop (it once wrote B's values over A's contact, then crashed on a second link
    to it): A keeps its link and its own values on both sides."""
    keep = sf_person.Contact.create({"LastName": "Keep", "Email": "keep@people.example"})["id"]
    gone = sf_person.Contact.create({"LastName": "Gone", "Email": "gone@people.example"})["id"]
    sync_cycle_run(integration=integration, object_name="contacts", trigger="manual")
    survivor = RecordLink.objects.get(integration=integration, salesforce_id=keep).hubspot_id
    merged = RecordLink.objects.get(integration=integration, salesforce_id=gone).hubspot_id
    hs_person.api_request(
        {
            "method": "POST",
            "path": "/crm/v3/objects/contacts/merge",
            "body": {"primaryObjectId": survivor, "objectIdToMerge": merged},
        }
    )
    sf_person.Contact.update(gone, {"FirstName": "Edited"})

    for _ in range(2):
        sync_cycles_run(integration=integration, object_names=["contacts"], trigger="manual")
        run = SyncRun.objects.filter(integration=integration, object="contacts").order_by("-id")[0]
        assert "stopped unexpectedly" not in run.message, run.message
        assert run.status == SyncRun.Status.SUCCEEDED, run.message
    assert (
        RecordLink.objects.get(integration=integration, salesforce_id=keep).hubspot_id == survivor
    )
    # B's values never land on A: not in HubSpot, and (through A's blank first name, which
    # Salesforce lets HubSpot fill) not in A's Salesforce record either.
    kept = sf_person.Contact.get(keep)
    assert (kept["FirstName"], kept["Email"]) == (None, "keep@people.example")


@pytest.mark.parametrize("end", ["merge", "delete"])
def test_a_duplicate_the_sync_made_is_an_error_until_merged_or_deleted_in_salesforce(
    cycle, emulators, sf_person, hs_person, end
):
    """A rep's lead commits late, so the sync creates a lead of its own for the HubSpot
    contact with the same email; once the rep's lead shows, the contact follows it (§6.2).
    The lead the sync made is an open *Duplicate created by the sync* error, which no cycle
    retries back into the link, until it is merged into the rep's lead or deleted."""
    cycle.settings(hubspot_creates="lead")
    cycle()
    emulators.salesforce.app.run_action("late_commit", seconds=30, count=1)
    rep = new_lead(sf_person, Email="twin@example.com", LastName="Twin")
    contact = hs_create(hs_person, email="twin@example.com", lastname="Twin", company="Acme")
    cycle()
    made = cycle.link(hubspot_id=contact).salesforce_id
    assert made != rep  # the rep's lead wasn't visible yet
    for _ in range(2):  # the rep's lead shows; the error stays, and nothing moves back
        advance_clocks(emulators, 61)
        cycle()
        assert cycle.link(hubspot_id=contact).salesforce_id == rep
        error = SyncError.objects.get(
            integration=cycle.integration, error_type="duplicate_created", resolved_at=None
        )
        assert (error.record_key, error.hubspot_id) == (f"salesforce:{made}", contact)
        assert rep in error.message and contact in error.message
    if end == "merge":
        emulators.salesforce.app.run_action("merge", object="Lead", master_id=rep, loser_ids=[made])
    else:
        sf_person.Lead.delete(made)
    advance_clocks(emulators, 61)
    cycle()
    error.refresh_from_db()
    assert error.resolved_at is not None
    assert cycle.link(hubspot_id=contact).salesforce_id == rep
    assert not RecordLink.objects.filter(salesforce_id=made).exists()


def people_with(sf, email) -> list[str]:
    """The Salesforce leads and contacts with this email (what a rep would search for)."""
    return [
        r["Id"]
        for sobject in ("Lead", "Contact")
        for r in sf.query(f"SELECT Id FROM {sobject} WHERE Email = '{email}'")["records"]  # noqa: S608
    ]


def merged_into_a_synced_person(cycle, emulators, sf_person, sobject="Lead"):
    """Two synced people; in Salesforce the first is merged into the second, which keeps its
    own email: ``(kept contact, loser, master, the master's contact)``."""
    create = getattr(sf_person, sobject).create
    extra = {"Company": "Acme"} if sobject == "Lead" else {}
    loser = create({"LastName": "Loser", "Email": "dupe@example.com", **extra})["id"]
    master = create({"LastName": "Master", "Email": "master@example.com", **extra})["id"]
    cycle()
    kept = cycle.link(salesforce_id=loser).hubspot_id
    holder = cycle.link(salesforce_id=master).hubspot_id
    emulators.salesforce.app.run_action(
        "merge", object=sobject, master_id=master, loser_ids=[loser]
    )
    cycle()
    return kept, loser, master, holder


def merged_in_salesforce(cycle, kept) -> SyncError:
    return SyncError.objects.get(
        integration=cycle.integration,
        error_type="merged_in_salesforce",
        record_key=f"hubspot:{kept}",
        resolved_at__isnull=True,
    )


@pytest.mark.parametrize("sobject", ["Lead", "Contact"])
def test_a_contact_kept_after_a_merge_into_a_synced_person_is_an_error_not_a_new_person(
    cycle, emulators, sf_person, hs_person, sobject
):
    """The rep merges a duplicate away in Salesforce; its HubSpot contact stays (delete
    setting *Do nothing*) while the survivor syncs with another contact. The kept contact
    gets a *Merged in Salesforce* error naming the survivor and its contact (spec §4 item 8),
    with no retry of its own, and its edits never bring the duplicate back in Salesforce."""
    cycle.settings(hubspot_creates=sobject.lower())
    kept, loser, master, holder = merged_into_a_synced_person(cycle, emulators, sf_person, sobject)
    error = merged_in_salesforce(cycle, kept)
    assert (error.direction, error.hubspot_id, error.salesforce_id) == (
        "to_salesforce",
        kept,
        loser,
    )
    assert master in error.message and f"HubSpot contact {holder}" in error.message
    assert error.next_retry_at is None  # the record page shows no next retry
    for _ in range(2):
        hs_update(hs_person, kept, jobtitle="Buyer", phone="+1 555 0100")
        cycle()
    assert people_with(sf_person, "dupe@example.com") == []
    assert not RecordLink.objects.filter(hubspot_id=kept).exists()
    assert cycle.link(salesforce_id=master).hubspot_id == holder
    assert merged_in_salesforce(cycle, kept).pk == error.pk  # still open


def test_the_merged_in_salesforce_error_replaces_the_kept_contacts_older_errors(
    cycle, emulators, sf_person, hs_person
):
    """An error the contact had while it synced with the loser (a title too long for the
    lead) is moot once the loser is merged away: Sync health shows only why the contact syncs
    with nothing now, and no retry of the older error comes round for it."""
    loser = new_lead(sf_person, Email="dupe@example.com", LastName="Loser")
    master = new_lead(sf_person, Email="master@example.com", LastName="Master")
    cycle()
    kept = cycle.link(salesforce_id=loser).hubspot_id
    hs_update(hs_person, kept, jobtitle="Senior " * 40)
    cycle()
    older = SyncError.objects.get(record_key=f"hubspot:{kept}", resolved_at__isnull=True)
    assert older.error_type == "property_value"
    emulators.salesforce.app.run_action("merge", object="Lead", master_id=master, loser_ids=[loser])
    cycle()
    open_errors = SyncError.objects.filter(record_key=f"hubspot:{kept}", resolved_at__isnull=True)
    assert [e.error_type for e in open_errors] == ["merged_in_salesforce"]
    assert people_with(sf_person, "dupe@example.com") == []


def test_with_delete_on_a_contact_merged_away_in_salesforce_goes_without_an_error(
    cycle, emulators, sf_person, hs_person
):
    cycle.settings(salesforce_delete="delete")
    kept, _, master, holder = merged_into_a_synced_person(cycle, emulators, sf_person)
    assert not hs_exists(hs_person, kept)
    assert cycle.link(salesforce_id=master).hubspot_id == holder
    assert not SyncError.objects.filter(resolved_at__isnull=True).exists()


@pytest.mark.parametrize("end", ["merge", "delete"])
def test_the_merged_in_salesforce_error_ends_once_the_contact_is_merged_or_deleted_in_hubspot(
    cycle, emulators, sf_person, hs_person, end
):
    """The fix the error names, done in HubSpot: the kept contact merged into the survivor's
    contact, or deleted. The next cycle ends the error, and nothing is made in Salesforce."""
    kept, _, master, holder = merged_into_a_synced_person(cycle, emulators, sf_person)
    error = merged_in_salesforce(cycle, kept)
    if end == "merge":
        emulators.hubspot.app.run_action(
            "merge", object_type="contacts", primary_id=holder, merged_id=kept
        )
    else:
        hs_person.crm.contacts.basic_api.archive(kept)
    cycle()
    error.refresh_from_db()
    assert error.resolved_at is not None
    assert cycle.link(salesforce_id=master).hubspot_id == holder
    assert people_with(sf_person, "dupe@example.com") == []
    assert not SyncError.objects.filter(resolved_at__isnull=True).exists()


@pytest.mark.parametrize("asked", ["error", "record"])
def test_a_resync_of_a_contact_merged_in_salesforce_syncs_it_as_a_new_one(
    cycle, emulators, sf_person, hs_person, asked
):
    """An admin's Resync, of the error on Sync health or of the contact on its record page,
    says it is another person after all: the error ends and the contact syncs under the
    normal creation rules, here as a new lead."""
    kept, _, master, holder = merged_into_a_synced_person(cycle, emulators, sf_person)
    error = merged_in_salesforce(cycle, kept)
    if asked == "error":
        sync_errors_request_resync(integration=cycle.integration, error_ids=[error.pk])
    else:
        record_resync(
            integration=cycle.integration, object_name="contacts", record_key=f"hubspot:{kept}"
        )
    cycle(trigger="resync")
    (made,) = people_with(sf_person, "dupe@example.com")
    assert cycle.link(hubspot_id=kept).salesforce_id == made
    assert sf_person.Lead.get(made)["LastName"] == "Loser"
    error.refresh_from_db()
    assert error.resolved_at is not None
    assert cycle.link(salesforce_id=master).hubspot_id == holder
    assert not SyncError.objects.filter(resolved_at__isnull=True).exists()


def test_resyncing_every_error_keeps_a_merged_in_salesforce_hold(
    cycle, emulators, sf_person, hs_person
):
    """A *Resync all* across types (after an outage, say) is no admin saying the kept contact is
    another person: its hold stays, and the merged-away duplicate isn't made again. Naming
    the type, or the error, still does."""
    kept, _, master, holder = merged_into_a_synced_person(cycle, emulators, sf_person)
    error = merged_in_salesforce(cycle, kept)
    sync_errors_request_resync(integration=cycle.integration)
    cycle(trigger="resync")
    error.refresh_from_db()
    assert error.resolved_at is None
    assert people_with(sf_person, "dupe@example.com") == []
    sync_errors_request_resync(integration=cycle.integration, error_type="merged_in_salesforce")
    cycle(trigger="resync")
    error.refresh_from_db()
    assert error.resolved_at is not None
    assert len(people_with(sf_person, "dupe@example.com")) == 1
