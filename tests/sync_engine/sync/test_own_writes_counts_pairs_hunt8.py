"""Run counts of companies, deals, custom objects and lifecycle stages: the integration's own
writes, read back, are said to be so (spec §9).

Each of these pairs reads Salesforce before HubSpot: its writes to HubSpot come back in the
same cycle, its writes to Salesforce only in the next one (their modified stamp moved). That
read counts them as "Our own writes, read back", not as records that were "Unchanged", and
writes nothing. A person's edit after our write is theirs: it counts (or syncs) as before.
The contact sync reads HubSpot first: the lifecycle stages it writes come back next cycle.
"""

from __future__ import annotations

from hubspot.crm.companies import SimplePublicObjectInput as CompanyInput
from hubspot.crm.deals import SimplePublicObjectInput as DealInput

from emulators.testing import advance_clocks
from sync_engine.models import RecordLink

from .helpers import hs_get
from .test_contacts_lifecycle import linked_contact, opportunity, stage
from .test_custom_objects import projects  # noqa: F401 (fixture)

WRITES = ("created_in_hubspot", "created_in_salesforce", "updated_in_hubspot",
          "updated_in_salesforce", "lifecycle_updates")  # fmt: skip


def writes(run) -> dict:
    return {k: run.counts[k] for k in WRITES if run.counts.get(k)}


def settled(run_cycle, emulators) -> None:
    """Cycles past the cursors' overlap: what the first cycle wrote is read and handled."""
    for _ in range(3):
        advance_clocks(emulators, 600)
        assert not writes(run_cycle()), "settled"
    advance_clocks(emulators, 600)


# --- companies ---------------------------------------------------------------------------
def companies_written_both_ways(companies, sf_person, hs_person) -> dict[str, tuple[str, str]]:
    """Three accounts and their companies, settled; then A's phone edited in Salesforce and
    B's and C's description in HubSpot (their accounts have none), all synced by one cycle:
    one write to HubSpot (read back in that cycle), two to Salesforce (read in the next).
    Returns name -> (account, company)."""
    accounts = {n: sf_person.Account.create({"Name": f"Acme {n}"})["id"] for n in "ABC"}
    companies("contacts")
    companies()
    settled(companies, companies.emulators)
    pairs = {n: (a, companies.link(salesforce_id=a).hubspot_id) for n, a in accounts.items()}
    sf_person.Account.update(pairs["A"][0], {"Phone": "555-0100"})
    for n in "BC":
        hs_person.crm.companies.basic_api.update(
            pairs[n][1], CompanyInput(properties={"description": f"Made by {n}"})
        )
    run = companies()
    assert writes(run) == {"updated_in_hubspot": 1, "updated_in_salesforce": 2}, dict(run.counts)
    assert run.counts.get("own_writes_read_back") == 1, dict(run.counts)
    assert sf_person.Account.get(pairs["C"][0])["Description"] == "Made by C"
    return pairs


def test_companies_written_both_ways_are_read_back_as_our_own(companies, sf_person, hs_person):
    companies_written_both_ways(companies, sf_person, hs_person)
    advance_clocks(companies.emulators, 60)  # inside the overlap
    run = companies()
    # The account read meets the two accounts we wrote after it last cycle; the account and
    # the three companies read again are the versions the last cycle handled.
    assert not writes(run), dict(run.counts)
    assert run.counts.get("own_writes_read_back") == 2, dict(run.counts)
    assert run.counts.get("unchanged") == 4, dict(run.counts)

    # Read back once: the cycle after reads them again in the overlap, handled already.
    advance_clocks(companies.emulators, 60)
    run = companies()
    assert not writes(run) and not run.counts.get("own_writes_read_back"), dict(run.counts)


def test_an_account_a_person_edits_after_our_write_is_theirs(companies, sf_person, hs_person):
    pairs = companies_written_both_ways(companies, sf_person, hs_person)
    advance_clocks(companies.emulators, 30)
    sf_person.Account.update(pairs["C"][0], {"Fax": "555-0199"})  # a field no mapping syncs
    run = companies()
    assert not writes(run), dict(run.counts)
    assert run.counts.get("own_writes_read_back") == 1, dict(run.counts)  # B only
    assert run.counts.get("unchanged") == 5, dict(run.counts)

    # A mapped edit after our write is a real change: it syncs.
    advance_clocks(companies.emulators, 600)
    sf_person.Account.update(pairs["B"][0], {"Phone": "555-0142"})
    run = companies()
    assert writes(run) == {"updated_in_hubspot": 1}, dict(run.counts)
    company = hs_person.crm.companies.basic_api.get_by_id(pairs["B"][1], properties=["phone"])
    assert company.properties["phone"] == "555-0142"


# --- deals -------------------------------------------------------------------------------
def deals_written_both_ways(deals, sf_person, hs_person) -> dict[str, tuple[str, str]]:
    """Three opportunities and their deals, settled; then A renamed in Salesforce and B's
    and C's description edited in HubSpot, all synced by one cycle. Returns name ->
    (opportunity, deal)."""
    opportunities = {
        n: sf_person.Opportunity.create(
            {"Name": f"Renewal {n}", "StageName": "Prospecting", "CloseDate": "2026-12-31"}
        )["id"]
        for n in "ABC"
    }
    deals.all()
    deals()
    settled(deals, deals.emulators)
    pairs = {n: (o, deals.link(salesforce_id=o).hubspot_id) for n, o in opportunities.items()}
    sf_person.Opportunity.update(pairs["A"][0], {"Name": "Renewal A 2027"})
    for n in "BC":
        hs_person.crm.deals.basic_api.update(
            pairs[n][1], DealInput(properties={"description": f"Notes of {n}"})
        )
    run = deals()
    assert writes(run) == {"updated_in_hubspot": 1, "updated_in_salesforce": 2}, dict(run.counts)
    assert sf_person.Opportunity.get(pairs["C"][0])["Description"] == "Notes of C"
    return pairs


def test_deals_written_both_ways_are_read_back_as_our_own(deals, sf_person, hs_person):
    deals_written_both_ways(deals, sf_person, hs_person)
    advance_clocks(deals.emulators, 60)
    run = deals()
    assert not writes(run), dict(run.counts)
    assert run.counts.get("own_writes_read_back") == 2, dict(run.counts)
    assert run.counts.get("unchanged") == 4, dict(run.counts)


def test_an_opportunity_a_person_edits_after_our_write_syncs(deals, sf_person, hs_person):
    pairs = deals_written_both_ways(deals, sf_person, hs_person)
    advance_clocks(deals.emulators, 30)
    sf_person.Opportunity.update(pairs["C"][0], {"Name": "Renewal C, signed"})
    run = deals()
    assert writes(run) == {"updated_in_hubspot": 1}, dict(run.counts)
    deal = hs_person.crm.deals.basic_api.get_by_id(pairs["C"][1], properties=["dealname"])
    assert deal.properties["dealname"] == "Renewal C, signed"
    # B is ours; C's edit, written to its deal, is read back by the same cycle.
    assert run.counts.get("own_writes_read_back") == 2, dict(run.counts)


# --- a custom object ---------------------------------------------------------------------
def projects_written_both_ways(pairing, sf_person) -> dict[str, tuple[str, str]]:
    """Three projects and their HubSpot records, settled; then A's budget edited in
    Salesforce and B's and C's notes in HubSpot, all synced by one cycle. Returns name ->
    (project, HubSpot record)."""
    projects_ = {n: sf_person.Project__c.create({"Name": f"Apollo {n}"})["id"] for n in "ABC"}
    pairing()
    settled(pairing, pairing.emulators)
    pairs = {n: (p, pairing.link(salesforce_id=p).hubspot_id) for n, p in projects_.items()}
    sf_person.Project__c.update(pairs["A"][0], {"Budget__c": 900.0})
    for n in "BC":
        pairing.update(pairs[n][1], notes=f"Notes of {n}")
    run = pairing()
    assert writes(run) == {"updated_in_hubspot": 1, "updated_in_salesforce": 2}, dict(run.counts)
    assert sf_person.Project__c.get(pairs["C"][0])["Description__c"] == "Notes of C"
    return pairs


def test_custom_records_written_both_ways_are_read_back_as_our_own(projects, sf_person):  # noqa: F811
    projects_written_both_ways(projects, sf_person)
    advance_clocks(projects.emulators, 60)
    run = projects()
    assert not writes(run), dict(run.counts)
    assert run.counts.get("own_writes_read_back") == 2, dict(run.counts)
    assert run.counts.get("unchanged") == 4, dict(run.counts)


def test_a_project_a_person_edits_after_our_write_syncs(projects, sf_person):  # noqa: F811
    pairs = projects_written_both_ways(projects, sf_person)
    advance_clocks(projects.emulators, 30)
    sf_person.Project__c.update(pairs["C"][0], {"Name": "Apollo C, relaunched"})
    run = projects()
    assert writes(run) == {"updated_in_hubspot": 1}, dict(run.counts)
    assert projects.get(pairs["C"][1])["project_name"] == "Apollo C, relaunched"
    assert run.counts.get("own_writes_read_back") == 2, dict(run.counts)  # B, and C's echo


# --- lifecycle stages --------------------------------------------------------------------
def test_a_lifecycle_stage_written_is_read_back_as_our_own(cycle, emulators, sf_person, hs_person):
    """A role on an open opportunity moves the linked contact to *opportunity*: the next
    cycle's HubSpot read meets that write, ours, and writes nothing."""
    opp, account = opportunity(sf_person)
    contact, hs_contact = linked_contact(cycle, sf_person, "buyer@example.com", account)
    settled(cycle, emulators)
    emulators.salesforce.app.run_action("add_contact_role", opportunity_id=opp, contact_id=contact)
    run = cycle()
    assert writes(run) == {"lifecycle_updates": 1}, dict(run.counts)
    assert stage(hs_person, hs_contact) == "opportunity"

    advance_clocks(emulators, 60)
    run = cycle()
    assert not writes(run), dict(run.counts)
    assert run.counts.get("own_writes_read_back") == 1, dict(run.counts)
    assert not run.counts.get("unchanged"), dict(run.counts)
    assert hs_get(hs_person, hs_contact, "lifecyclestage")["lifecyclestage"] == "opportunity"


def test_a_company_lifecycle_stage_written_is_read_back_as_our_own(
    cycle, emulators, integration, sf_person, hs_person
):
    """The contact sync moves the primary company along with its contact: the company sync's
    next read meets that write, ours, and counts it so, not as a record left unchanged."""
    from sync_engine.sync.cycle import sync_cycle_run

    from .test_contacts_lifecycle import company_stage, contact_of_a_synced_company

    def companies():
        run = sync_cycle_run(integration=integration, object_name="companies")
        assert run.status == "succeeded", run.message
        return run

    opp, _, contact, _, company = contact_of_a_synced_company(
        cycle, emulators, integration, sf_person, "won@example.com"
    )
    settled(cycle, emulators)
    companies()
    advance_clocks(emulators, 600)
    companies()
    advance_clocks(emulators, 60)
    emulators.salesforce.app.run_action("add_contact_role", opportunity_id=opp, contact_id=contact)
    assert writes(cycle()) == {"lifecycle_updates": 2}  # the contact and its company
    assert company_stage(hs_person, company) == "opportunity"

    advance_clocks(emulators, 60)
    run = companies()
    assert not writes(run), dict(run.counts)
    assert run.counts.get("own_writes_read_back") == 1, dict(run.counts)
    assert not run.counts.get("unchanged"), dict(run.counts)


# --- contacts' account and company, moved by the company sync ----------------------------
def contact_on_first_of_two_accounts_settled(companies, sf_person) -> tuple[str, str, str]:
    """Accounts First and Second, a contact on First, all synced and settled:
    (second, contact, its HubSpot id)."""
    first = sf_person.Account.create({"Name": "First"})["id"]
    second = sf_person.Account.create({"Name": "Second"})["id"]
    contact = sf_person.Contact.create(
        {"LastName": "Mover", "Email": "mover@x.example", "AccountId": first}
    )["id"]
    for _ in range(4):
        companies.cycle()
        advance_clocks(companies.emulators, 600)
    advance_clocks(companies.emulators, 60)
    hs_contact = RecordLink.objects.get(object="contacts", salesforce_id=contact).hubspot_id
    return second, contact, hs_contact


def test_a_contact_the_company_sync_moved_in_hubspot_is_read_back_as_our_own(
    companies, sf_person, hs_person
):
    """A rep moves a contact to another account: the company sync moves its HubSpot contact
    to that account's company, which changes the contact; the contact sync's next read of
    it meets our write."""
    second, contact, hs_contact = contact_on_first_of_two_accounts_settled(companies, sf_person)
    sf_person.Contact.update(contact, {"AccountId": second})
    advance_clocks(companies.emulators, 60)  # the change probe answers whole minutes
    runs, _ = companies.cycle()
    assert runs["companies"].counts["associations_to_hubspot"] == 2  # off First, onto Second

    advance_clocks(companies.emulators, 60)
    runs, _ = companies.cycle()
    contacts = runs["contacts"].counts
    assert contacts.get("read_hubspot") == 1, dict(contacts)
    assert contacts.get("own_writes_read_back") == 1, dict(contacts)
    # The rep's edit of the Salesforce contact, read last cycle, isn't read again: this
    # cycle's probe starts where the last one stopped (not the overlap before its read).
    assert not contacts.get("read_salesforce") and not contacts.get("unchanged"), dict(contacts)
    assert not writes(runs["contacts"]), dict(contacts)


def test_a_contact_the_company_sync_moved_in_salesforce_is_read_back_as_our_own(
    companies, sf_person, hs_person
):
    """Moved to another company in HubSpot, the contact gets that company's account in
    Salesforce from the company sync; the contact sync's next read of it meets our write."""
    second, contact, hs_contact = contact_on_first_of_two_accounts_settled(companies, sf_person)
    second_company = companies.link(salesforce_id=second).hubspot_id
    companies.hs_action("associate", from_type="contacts", from_id=hs_contact,
                        to_type="companies", to_id=second_company, type_id=1)  # fmt: skip
    advance_clocks(companies.emulators, 60)
    runs, _ = companies.cycle()
    assert runs["companies"].counts["associations_to_salesforce"] == 1
    assert sf_person.Contact.get(contact)["AccountId"] == second

    advance_clocks(companies.emulators, 60)
    runs, _ = companies.cycle()
    contacts = runs["contacts"].counts
    assert contacts.get("read_salesforce") == 1, dict(contacts)
    assert contacts.get("own_writes_read_back") == 1, dict(contacts)
    assert not writes(runs["contacts"]), dict(contacts)
