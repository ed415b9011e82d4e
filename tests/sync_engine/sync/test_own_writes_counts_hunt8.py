"""Run counts: the integration's own writes, read back, are said to be so (spec §9).

Contacts read HubSpot before Salesforce, tickets Salesforce before HubSpot: a write to the
side read first comes back only in the next cycle (its modified date moved), a write to the
other side in the same cycle. Either way the run counts it as "Our own writes, read back",
not as a record that was "Unchanged", and writes nothing for it. A person's edit after our
write is theirs: an edit of an unmapped field counts as unchanged, a mapped one syncs.
"""

from __future__ import annotations

from hubspot.crm.tickets import SimplePublicObjectInput as TicketInput

from emulators.testing import advance_clocks
from sync_engine.models import FieldMapping

from .helpers import hs_create, hs_get, hs_update, new_lead

WRITES = ("created_in_hubspot", "created_in_salesforce", "updated_in_hubspot",
          "updated_in_salesforce")  # fmt: skip


def writes(run) -> dict:
    return {k: run.counts[k] for k in WRITES if run.counts.get(k)}


def quiet_people(cycle, emulators, sf_person, hs_person):
    """A lead and a HubSpot contact, each synced to the other side and settled (past the
    cursors' overlap); then the lead's title edited in Salesforce and the contact's (its
    lead has none) in HubSpot: one write each way. Returns (lead, its contact, the contact,
    its lead, the run that wrote)."""
    lead = new_lead(sf_person, LastName="Doe", Email="doe@example.com")
    contact = hs_create(hs_person, email="roe@example.com", lastname="Roe", company="Roe Inc")
    cycle()
    for _ in range(3):
        advance_clocks(emulators, 600)
        assert not writes(cycle())
    advance_clocks(emulators, 600)
    sf_person.Lead.update(lead, {"Title": "Boss"})
    hs_update(hs_person, contact, jobtitle="Chief")
    run = cycle()
    assert writes(run) == {"updated_in_hubspot": 1, "updated_in_salesforce": 1}, dict(run.counts)
    return (
        lead,
        cycle.link(salesforce_id=lead).hubspot_id,
        contact,
        cycle.link(hubspot_id=contact).salesforce_id,
        run,
    )


def test_contacts_written_both_ways_are_read_back_as_our_own(
    cycle, emulators, sf_person, hs_person
):
    lead, lead_contact, contact, contact_lead, run = quiet_people(
        cycle, emulators, sf_person, hs_person
    )
    assert sf_person.Lead.get(contact_lead)["Title"] == "Chief"
    assert hs_get(hs_person, lead_contact, "jobtitle")["jobtitle"] == "Boss"
    # The Salesforce read that follows the HubSpot read meets the lead we just wrote.
    assert run.counts["own_writes_read_back"] == 1, dict(run.counts)
    assert not run.counts.get("unchanged"), dict(run.counts)

    advance_clocks(emulators, 60)  # inside the overlap
    run = cycle()
    # The HubSpot read meets the contact we wrote after it last cycle; the other three are
    # the versions the last cycle handled, read again in the overlap.
    assert not writes(run), dict(run.counts)
    assert run.counts["own_writes_read_back"] == 1, dict(run.counts)
    assert run.counts["unchanged"] == 3, dict(run.counts)

    # Read back once: the cycle after reads it again in the overlap, handled already.
    advance_clocks(emulators, 60)
    run = cycle()
    assert not writes(run) and not run.counts.get("own_writes_read_back"), dict(run.counts)


def test_a_person_editing_after_our_write_is_no_write_of_ours(
    cycle, emulators, sf_person, hs_person
):
    lead, lead_contact, contact, contact_lead, _ = quiet_people(
        cycle, emulators, sf_person, hs_person
    )
    advance_clocks(emulators, 30)
    hs_update(hs_person, lead_contact, lifecyclestage="lead")  # an unmapped property
    run = cycle()
    assert not writes(run), dict(run.counts)
    assert not run.counts.get("own_writes_read_back"), dict(run.counts)
    assert run.counts["unchanged"] == 4, dict(run.counts)

    # A mapped edit after our write is a real change: it syncs.
    advance_clocks(emulators, 600)
    sf_person.Lead.update(contact_lead, {"Title": "Chief of staff"})
    advance_clocks(emulators, 30)
    run = cycle()
    assert writes(run) == {"updated_in_hubspot": 1}, dict(run.counts)
    assert hs_get(hs_person, contact, "jobtitle")["jobtitle"] == "Chief of staff"


def two_way_case(tickets, sf_person, emulators):
    """A case whose ticket's subject is mapped two-way, synced and settled, and an unmapped
    case field; returns (case id, ticket id)."""
    emulators.salesforce.app.run_action("add_field", object="Case", field="Note", length=40)
    FieldMapping.objects.filter(object="tickets", hubspot_property="subject").update(rule="two_way")
    case = sf_person.Case.create({"Subject": "Both ways", "Status": "New"})["id"]
    run = tickets()
    assert writes(run) == {"created_in_hubspot": 1}, dict(run.counts)
    # The ticket search after the case read meets the ticket just created.
    assert run.counts["own_writes_read_back"] == 1, dict(run.counts)
    assert not run.counts.get("unchanged"), dict(run.counts)
    for _ in range(3):
        advance_clocks(emulators, 600)
        assert not writes(tickets())
    return case, tickets.link(salesforce_id=case).hubspot_id


def test_a_ticket_edit_written_to_its_case_is_read_back_as_our_own(
    tickets, emulators, sf_person, hs_person
):
    case, ticket = two_way_case(tickets, sf_person, emulators)
    advance_clocks(emulators, 600)
    hs_person.crm.tickets.basic_api.update(
        ticket, TicketInput(properties={"subject": "Renamed in HubSpot"})
    )
    run = tickets()
    assert writes(run) == {"updated_in_salesforce": 1}, dict(run.counts)
    assert sf_person.Case.get(case)["Subject"] == "Renamed in HubSpot"

    advance_clocks(emulators, 60)  # inside the overlap
    run = tickets()
    # The case read meets the case we wrote after it last cycle; the ticket is the version
    # the last cycle handled, read again.
    assert not writes(run), dict(run.counts)
    assert run.counts["own_writes_read_back"] == 1, dict(run.counts)
    assert run.counts["unchanged"] == 1, dict(run.counts)

    # Edited by a person after our write: an unmapped field is theirs, unchanged for us.
    advance_clocks(emulators, 600)
    hs_person.crm.tickets.basic_api.update(
        ticket, TicketInput(properties={"subject": "Renamed again"})
    )
    run = tickets()
    assert writes(run) == {"updated_in_salesforce": 1}, dict(run.counts)
    advance_clocks(emulators, 30)
    sf_person.Case.update(case, {"Note__c": "called back"})
    run = tickets()
    assert not writes(run), dict(run.counts)
    assert not run.counts.get("own_writes_read_back"), dict(run.counts)
    assert sf_person.Case.get(case)["Subject"] == "Renamed again"
