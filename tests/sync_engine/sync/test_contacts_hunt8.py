"""Contacts hunt 8: two synced HubSpot contacts merged, as an admin first meets it."""

from sync_engine.models import RecordLink, SyncError

from .helpers import hs_emails, hs_get, hs_update, new_lead


def test_merging_two_synced_contacts_says_at_once_which_lead_syncs_with_nothing_now(
    cycle, emulators, sf_person, hs_person
):
    """Two synced leads' HubSpot contacts merged in HubSpot: the survivor keeps its own lead
    (one Salesforce partner), and the other lead, whose email the survivor now holds, syncs
    with nothing. The cycle that sees the merge says so on that lead (*Email already in
    use*, naming the survivor), not only once someone happens to edit the lead; no second
    contact is made and neither lead is written."""
    keep = new_lead(sf_person, Email="keep@example.com", LastName="Keep")
    gone = new_lead(sf_person, Email="gone@example.com", LastName="Gone")
    cycle()
    survivor = cycle.link(salesforce_id=keep).hubspot_id
    merged = cycle.link(salesforce_id=gone).hubspot_id
    emulators.hubspot.app.run_action(
        "merge", object_type="contacts", primary_id=survivor, merged_id=merged
    )
    cycle()
    error = SyncError.objects.get(
        integration=cycle.integration, record_key=f"salesforce:{gone}", resolved_at__isnull=True
    )
    assert (error.error_type, error.hubspot_id) == ("email_in_use", survivor)
    assert keep in error.message
    assert cycle.link(salesforce_id=keep).hubspot_id == survivor
    assert not RecordLink.objects.filter(salesforce_id=gone).exists()
    assert hs_emails(hs_person) == ["keep@example.com"]
    assert sf_person.Lead.get(gone)["LastName"] == "Gone"
    # The survivor goes on syncing with its own lead, both ways.
    hs_update(hs_person, survivor, jobtitle="Buyer")
    sf_person.Lead.update(keep, {"Phone": "+1 555 0100"})
    cycle()
    assert sf_person.Lead.get(keep)["Title"] == "Buyer"
    assert hs_get(hs_person, survivor, "phone")["phone"] == "+1 555 0100"
    assert sf_person.query("SELECT COUNT() FROM Lead")["totalSize"] == 2


def test_the_merged_contacts_error_ends_once_the_leads_are_merged_in_salesforce(
    cycle, emulators, sf_person, hs_person
):
    """Doing what the error says (merge the two leads, the survivor's partner kept) ends
    it: one lead, one contact, linked, and no error left."""
    from .helpers import due_now

    keep = new_lead(sf_person, Email="keep@example.com", LastName="Keep")
    gone = new_lead(sf_person, Email="gone@example.com", LastName="Gone")
    cycle()
    survivor = cycle.link(salesforce_id=keep).hubspot_id
    emulators.hubspot.app.run_action(
        "merge",
        object_type="contacts",
        primary_id=survivor,
        merged_id=cycle.link(salesforce_id=gone).hubspot_id,
    )
    cycle()
    error = SyncError.objects.get(record_key=f"salesforce:{gone}", resolved_at__isnull=True)
    emulators.salesforce.app.run_action("merge", object="Lead", master_id=keep, loser_ids=[gone])
    due_now(error)
    cycle()
    assert not SyncError.objects.filter(resolved_at__isnull=True).exists()
    assert cycle.link(salesforce_id=keep).hubspot_id == survivor
    assert hs_emails(hs_person) == ["keep@example.com"]
