"""A Salesforce date against a HubSpot date/time (the default Opportunity.CloseDate ⇄
closedate, or a date an admin maps to a date/time property): the day is the day in the
HubSpot account's time zone, as HubSpot's UI shows it. A Salesforce date lands in HubSpot at
midnight of that day in the account's zone, and a HubSpot date/time reaches Salesforce as its
day there, without echoes, and without rewriting what already holds the same day."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from emulators.testing import advance_clocks
from sync_engine.models import ApiCall, RecordLink, SchemaCache, SyncError
from sync_engine.sync.changes import parse_time
from sync_engine.sync.cycle import sync_cycle_run

from ..conftest import connect_to_emulators
from .helpers import deal_sync_on, ticket_sync_on
from .test_deals import hs_deal, hs_deal_get, hs_deal_update, hs_stage, new_opportunity
from .test_value_types import WRITES, mapped, mapped_two_way  # noqa: F401 (fixture)

NEW_YORK, AMSTERDAM = ZoneInfo("America/New_York"), ZoneInfo("Europe/Amsterdam")


def shown(value: str | None, zone: ZoneInfo) -> str:
    """The day HubSpot's UI shows for a date/time value: its day in the account's zone."""
    return parse_time(value).astimezone(zone).date().isoformat()


def at(zone: ZoneInfo, *args: int) -> str:
    """A moment in ``zone`` as HubSpot's API takes and returns it (UTC, ms, "Z")."""
    return datetime(*args, tzinfo=zone).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def writes(run) -> dict[str, int]:
    return {k: n for k in (*WRITES, "created_in_salesforce") if (n := run.counts.get(k))}


def account_details_read() -> int:
    return ApiCall.objects.filter(operation="account.details").count()


@pytest.fixture
def account_in(emulators, integration):
    """``account_in("America/New_York")``: the HubSpot account is in that zone, connected
    (connecting keeps its time zone, as for activities)."""

    def connect(zone: str) -> ZoneInfo:
        emulators.hubspot.app.run_action("set_time_zone", time_zone=zone)
        connect_to_emulators(emulators)
        return ZoneInfo(zone)

    return connect


@pytest.fixture
def deals(integration, emulators):
    """One cycle of contacts then deals (the scheduler's order); returns the deals run."""
    deal_sync_on(integration, emulators)

    def cycle():
        for object_name in ("contacts", "deals"):
            run = sync_cycle_run(integration=integration, object_name=object_name)
            assert run.status == "succeeded", run.message
        return run

    return cycle


def deal_of(opportunity: str) -> str:
    return RecordLink.objects.get(object="deals", salesforce_id=opportunity).hubspot_id


def open_errors() -> list[str]:
    errors = SyncError.objects.filter(resolved_at__isnull=True)
    return list(errors.values_list("message", flat=True))


def deal_made_in_hubspot(deals, hs, name: str, closedate: str) -> tuple[str, str]:
    """A deal made in HubSpot, closing at ``closedate``, given its opportunity by the next
    cycle: (the deal, the opportunity)."""
    pipeline, stage = hs_stage(hs, "Needs Analysis")
    made = hs_deal(hs, dealname=name, closedate=closedate, pipeline=pipeline, dealstage=stage.id)
    # (The deal gets its opportunity's id: the one write to HubSpot.)
    assert writes(deals()) == {"created_in_salesforce": 1, "updated_in_hubspot": 1}
    return made, RecordLink.objects.get(object="deals", hubspot_id=str(made)).salesforce_id


def test_a_close_date_is_that_day_in_a_new_york_account_both_ways(
    account_in, deals, emulators, sf_person, hs_person
):
    zone = account_in("America/New_York")
    opportunity = new_opportunity(sf_person, Name="Renewal", CloseDate="2026-03-05")
    assert deals().counts["created_in_hubspot"] == 1
    deal = deal_of(opportunity)
    close = hs_deal_get(hs_person, deal, "closedate")["closedate"]
    # Midnight in New York (05:00 UTC), so HubSpot shows 5 March, not 4 March.
    assert close == at(zone, 2026, 3, 5) and shown(close, zone) == "2026-03-05"
    assert writes(deals()) == {}

    # A later close date, in summer time: midnight in New York again (04:00 UTC).
    sf_person.Opportunity.update(opportunity, {"CloseDate": "2026-07-01"})
    assert writes(deals()) == {"updated_in_hubspot": 1}
    assert hs_deal_get(hs_person, deal, "closedate")["closedate"] == at(zone, 2026, 7, 1)
    # Nothing echoes, and an idle cycle doesn't ask HubSpot for the time zone, even when
    # the kept one is a day old.
    assert writes(deals()) == {}
    SchemaCache.objects.filter(object="account-info").update(
        fetched_at=timezone.now() - timedelta(days=2)
    )
    before = account_details_read()
    assert writes(deals()) == {}
    assert account_details_read() == before

    # A deal made in HubSpot that closes on a New York evening (02:30 UTC the next day):
    # the opportunity closes that day, and nothing goes back.
    evening = at(zone, 2026, 4, 10, 22, 30)
    made, created = deal_made_in_hubspot(deals, hs_person, "Evening", evening)
    assert sf_person.Opportunity.get(created)["CloseDate"] == "2026-04-10"
    assert hs_deal_get(hs_person, made, "closedate")["closedate"] == evening
    assert writes(deals()) == {}
    assert open_errors() == []


def test_a_close_date_is_that_day_in_an_amsterdam_account_both_ways(
    account_in, deals, emulators, sf_person, hs_person
):
    zone = account_in("Europe/Amsterdam")
    opportunity = new_opportunity(sf_person, Name="Renewal", CloseDate="2026-03-05")
    deals()
    deal = deal_of(opportunity)
    close = hs_deal_get(hs_person, deal, "closedate")["closedate"]
    assert close == "2026-03-04T23:00:00.000Z" and shown(close, zone) == "2026-03-05"
    assert writes(deals()) == {}

    # A close date picked in HubSpot's UI is midnight in Amsterdam (23:00 UTC the day
    # before): the opportunity made from that deal closes on the day picked.
    picked = at(zone, 2026, 3, 5)
    assert picked == "2026-03-04T23:00:00.000Z"
    made, created = deal_made_in_hubspot(deals, hs_person, "Picked", picked)
    assert sf_person.Opportunity.get(created)["CloseDate"] == "2026-03-05"
    assert writes(deals()) == {}

    # Moved to another day in Salesforce (Salesforce's value wins): midnight in Amsterdam.
    sf_person.Opportunity.update(created, {"CloseDate": "2026-08-20"})
    assert writes(deals()) == {"updated_in_hubspot": 1}
    assert hs_deal_get(hs_person, made, "closedate")["closedate"] == "2026-08-19T22:00:00.000Z"
    assert writes(deals()) == {}
    assert open_errors() == []


def test_a_deal_synced_before_keeps_its_close_date(account_in, deals, sf_person, hs_person):
    """A close date the integration wrote as midnight UTC before (or one imported as a bare
    date) is still the day it was written for: a New York account's deals aren't rewritten
    for it, nor is another day sent to Salesforce."""
    account_in("America/New_York")
    opportunity = new_opportunity(sf_person, Name="Renewal", CloseDate="2026-03-05")
    deals()
    deal = deal_of(opportunity)
    hs_deal_update(hs_person, deal, closedate="2026-03-05T00:00:00.000Z")
    assert writes(deals()) == {}
    assert sf_person.Opportunity.get(opportunity)["CloseDate"] == "2026-03-05"


@pytest.fixture
def contact_date(mapped):  # noqa: F811 (the fixture)
    """A custom Salesforce date on contacts mapped two-way to a HubSpot date/time property
    (through the mapping editor's service)."""
    return mapped("contacts", "date", "datetime")


def test_a_custom_date_mapped_to_a_contact_date_time_follows_the_account_s_zone(
    account_in, contact_date, emulators
):
    """A Salesforce date an admin maps two-way to a HubSpot date/time property on contacts,
    in a New York account."""
    zone = account_in("America/New_York")
    pair = contact_date
    record = pair.create("2026-03-05")
    pair()
    assert pair.errors() == []
    assert pair.hubspot(record) == at(zone, 2026, 3, 5)  # 05:00 UTC: 5 March in New York
    assert writes(pair()) == {}

    # Set in HubSpot to an evening in New York (02:30 UTC on 1 April): 31 March.
    advance_clocks(emulators, 60)
    pair.edit_in_hubspot(record, at(zone, 2026, 3, 31, 22, 30))
    assert writes(pair()) == {"updated_in_salesforce": 1}
    assert pair.salesforce(record) == "2026-03-31"
    assert writes(pair()) == {}

    # Another time that day in New York changes nothing; the day as HubSpot takes a bare
    # date (midnight UTC, as written before) neither.
    advance_clocks(emulators, 60)
    pair.edit_in_hubspot(record, at(zone, 2026, 3, 31, 9, 0))
    assert writes(pair()) == {}
    advance_clocks(emulators, 60)
    pair.edit_in_hubspot(record, "2026-03-31")
    assert writes(pair()) == {}
    assert pair.salesforce(record) == "2026-03-31"

    # A new day in Salesforce: midnight in New York.
    advance_clocks(emulators, 60)
    pair.update(record, "2026-11-02")
    assert writes(pair()) == {"updated_in_hubspot": 1}
    assert pair.hubspot(record) == at(zone, 2026, 11, 2)
    assert shown(pair.hubspot(record), zone) == "2026-11-02"
    assert writes(pair()) == {}
    assert pair.errors() == []


def test_a_case_date_mapped_two_way_to_a_ticket_date_time_follows_the_account_s_zone(
    account_in, integration, emulators, sf_person, hs_person
):
    """Tickets too: a case's date is midnight in New York on the ticket, and a HubSpot edit
    reaches the case as its New York day, once."""
    from hubspot.crm.tickets import SimplePublicObjectInput as TicketInput

    zone = account_in("America/New_York")
    ticket_sync_on(integration, emulators)
    mapped_two_way(
        integration,
        emulators,
        hs_person,
        "tickets",
        "Case",
        "ticketinformation",
        field="Follow_Up__c",
        prop="follow_up",
        label="Follow up",
        sf_type="date",
        hs_type="datetime",
    )

    def cycle():
        run = sync_cycle_run(integration=integration, object_name="tickets")
        assert run.status == "succeeded", run.message
        return run

    def follow_up(ticket_id: str) -> str:
        api = hs_person.crm.tickets.basic_api
        return api.get_by_id(ticket_id, properties=["follow_up"]).properties["follow_up"]

    case = sf_person.Case.create(
        {"Subject": "Call back", "Status": "New", "Follow_Up__c": "2026-03-05"}
    )["id"]
    assert writes(cycle()) == {"created_in_hubspot": 1}
    ticket_id = RecordLink.objects.get(object="tickets", salesforce_id=case).hubspot_id
    assert follow_up(ticket_id) == at(zone, 2026, 3, 5)
    assert writes(cycle()) == {}

    advance_clocks(emulators, 60)
    hs_person.crm.tickets.basic_api.update(
        ticket_id, TicketInput(properties={"follow_up": at(zone, 2026, 3, 9, 21, 0)})
    )
    assert writes(cycle()) == {"updated_in_salesforce": 1}
    assert sf_person.Case.get(case)["Follow_Up__c"] == "2026-03-09"
    cycle()  # the case's change comes back: nothing to write
    assert writes(cycle()) == {}
    assert follow_up(ticket_id) == at(zone, 2026, 3, 9, 21, 0)
    assert open_errors() == []
