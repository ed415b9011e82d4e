"""The dashboard's reads in sync_engine.selectors: hourly calls, the forecast, the chart, error
cards, error pages with their record links, one record's history, cached schemas, runs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from integration_admin.charts import calls_chart, nice_ceiling
from sync_engine.models import SchemaCache, SyncError, SyncRun
from sync_engine.selectors import (
    HourBucket,
    HourlyCalls,
    api_calls_hourly,
    api_usage_forecast,
    object_last_synced,
    record_history,
    schema_options,
    sync_error_cards,
    sync_errors_page,
)
from tests.sync_engine.factories import ApiCallFactory

from .conftest import make_error, make_link

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 3, 10, 14, 30, tzinfo=UTC)


def test_hourly_calls_per_clock_hour_and_system(connected):
    def calls(n, at, system="salesforce"):
        ApiCallFactory.create_batch(n, integration=connected, system=system, called_at=at)

    calls(2, NOW - timedelta(minutes=1))  # 14:29, current hour
    calls(1, datetime(2026, 3, 10, 14, 0, tzinfo=UTC))  # exactly on the hour
    calls(3, datetime(2026, 3, 10, 13, 59, 59, tzinfo=UTC), "hubspot")
    calls(4, datetime(2026, 3, 9, 15, 0, tzinfo=UTC))  # first bucket
    calls(5, datetime(2026, 3, 9, 14, 45, tzinfo=UTC))  # in the window, before the buckets
    calls(6, datetime(2026, 3, 9, 14, 15, tzinfo=UTC))  # outside the 24 hours
    hourly = api_calls_hourly(integration=connected, now=NOW)
    assert len(hourly.buckets) == 24
    assert hourly.buckets[0].start == datetime(2026, 3, 9, 15, 0, tzinfo=UTC)
    assert hourly.buckets[-1].start == datetime(2026, 3, 10, 14, 0, tzinfo=UTC)
    assert hourly.buckets[-1].end == NOW
    assert (hourly.buckets[-1].salesforce, hourly.buckets[-1].hubspot) == (3, 0)
    assert (hourly.buckets[-2].salesforce, hourly.buckets[-2].hubspot) == (0, 3)
    assert hourly.buckets[0].salesforce == 4
    assert hourly.tail == 5
    assert sum(b.salesforce for b in hourly.buckets) + hourly.tail == 12
    assert hourly.salesforce_last_hour == 3  # 14:29 ×2 and 14:00 are within 60 minutes


def _hourly(per_hour: list[int], last_hour: int, tail: int = 0) -> HourlyCalls:
    start = NOW.replace(minute=0) - timedelta(hours=23)
    buckets = [
        HourBucket(start + timedelta(hours=i), start + timedelta(hours=i + 1), n, 0)
        for i, n in enumerate(per_hour)
    ]
    return HourlyCalls(buckets, tail, NOW - timedelta(hours=24), last_hour, NOW)


def test_forecast_states():
    idle = _hourly([10] * 24, last_hour=0)
    assert api_usage_forecast(allocation=1000, used=240, hourly=idle).state == "idle"
    assert api_usage_forecast(allocation=240, used=240, hourly=idle).state == "reached"
    steady = _hourly([10] * 24, last_hour=10)
    assert api_usage_forecast(allocation=1000, used=240, hourly=steady).state == "enough"


def test_forecast_finds_when_the_pace_fills_the_window():
    # Quiet day, then 100 calls in the last hour: 100 more an hour fills 1,000 in 9 hours.
    burst = _hourly([0] * 23 + [100], last_hour=100)
    forecast = api_usage_forecast(allocation=1000, used=100, hourly=burst)
    assert forecast.state == "runs_out" and forecast.pace_per_hour == 100
    assert forecast.at == NOW + timedelta(hours=9)


def test_forecast_counts_calls_leaving_the_window():
    # 900 calls made yesterday between 15:00 and 16:00 leave the window from 15:00 today; at
    # 30 an hour the window peaks at 965 just before they go, and 30 × 24 stays under 1,000.
    old = _hourly([900] + [0] * 22 + [30], last_hour=30)
    assert api_usage_forecast(allocation=1000, used=930, hourly=old).state == "enough"
    # With 945 allowed the pace tips it over (930 + 15) before the old calls expire.
    tight = api_usage_forecast(allocation=945, used=930, hourly=old)
    assert tight.state == "runs_out" and tight.at == NOW + timedelta(minutes=30)
    # Without expiry the same pace would have been judged by the steady 24-hour total only.
    assert api_usage_forecast(allocation=700, used=0, hourly=_hourly([0] * 24, 30)).state == (
        "runs_out"
    )


def test_chart_geometry():
    chart = calls_chart(_hourly([0] * 23 + [26], last_hour=26), totals=(26, 0), allocation=480)
    assert len(chart.bars) == 48 and chart.peak == 26
    assert [label for _, label in chart.gridlines] == ["0", "10", "20", "30", "40"]
    tallest = max(chart.bars, key=lambda b: b.height)
    assert tallest.css == "bar--salesforce" and tallest.y + tallest.height == chart.baseline
    assert chart.pace_y is not None and "20 calls/hour" in chart.pace_label
    assert [nice_ceiling(v) for v in (0, 3, 26, 41, 1234)] == [4, 4, 40, 80, 2000]


def test_error_cards_and_pages(connected):
    make_error(connected, 30)
    make_error(connected, 2, error_type="picklist")
    cards = sync_error_cards(integration=connected)
    assert [(c.error_type, c.errors, c.records) for c in cards] == [
        ("property_value", 30, 30),
        ("picklist", 2, 2),
    ]
    assert cards[0].title == "Invalid property value"
    page = sync_errors_page(integration=connected, error_type="property_value", page=2)
    assert (page.total, page.pages, page.first_index, page.last_index) == (30, 2, 26, 30)
    assert page.has_previous and not page.has_next
    assert sync_errors_page(integration=connected, page=99).page == 2  # clamped


def test_error_rows_borrow_the_missing_id_from_the_link(connected):
    error = make_error(connected, 1, hubspot_id="55")[0]
    other = make_error(connected, 1, hubspot_id="", salesforce_id="003000000000009AAA")[0]
    make_link(connected, "55", "00Q000000000055AAA", "Lead")
    make_link(connected, "99", "003000000000009AAA", "Contact")
    rows = {r.error.pk: r for r in sync_errors_page(integration=connected).rows}
    assert rows[error.pk].salesforce_id == "00Q000000000055AAA"
    assert rows[other.pk].hubspot_id == "99" and rows[other.pk].salesforce_type == "Lead"
    # (the error's own Salesforce type wins over the link's)


def test_record_history_joins_both_keys(connected):
    make_link(connected, "7", "003000000000007AAA", "Contact")
    make_error(connected, 1, hubspot_id="7")
    make_error(connected, 1, hubspot_id="", salesforce_id="003000000000007AAA", error_type="owner")
    gone = make_error(connected, 1, hubspot_id="7", error_type="picklist")[0]
    SyncError.objects.filter(pk=gone.pk).update(resolved_at=timezone.now())
    history = record_history(integration=connected, object_name="contacts", record_key="hubspot:7")
    assert history.link.salesforce_id == "003000000000007AAA"
    assert {e.error_type for e in history.current} == {"property_value", "owner"}
    assert [e.error_type for e in history.resolved] == ["picklist"]
    same = record_history(
        integration=connected, object_name="contacts", record_key="salesforce:003000000000007AAA"
    )
    assert len(same.current) == 2


def test_last_successful_sync_per_object(connected):
    SyncRun.objects.create(
        integration=connected,
        object="contacts",
        status="succeeded",
        finished_at=NOW - timedelta(hours=1),
    )
    SyncRun.objects.create(
        integration=connected, object="contacts", status="succeeded", finished_at=NOW
    )
    SyncRun.objects.create(integration=connected, object="deals", status="failed", finished_at=NOW)
    assert object_last_synced(integration=connected) == {"contacts": NOW}


def test_schema_options_merge_lead_and_contact_fields(connected):
    SchemaCache.objects.create(
        integration=connected,
        system="hubspot",
        object="contacts",
        data=[{"name": "zip", "label": "Zip"}, {"name": "city", "label": "City"}],
    )
    for sobject in ("Lead", "Contact"):
        SchemaCache.objects.create(
            integration=connected,
            system="salesforce",
            object=sobject,
            data=[
                {"name": "Email", "label": "Email", "type": "email"},
                {"name": "Id", "label": f"{sobject} ID", "type": "id"},
            ],
        )
    options = schema_options(
        integration=connected, object_name="contacts", salesforce_objects=("Lead", "Contact")
    )
    assert [p["name"] for p in options.hubspot] == ["city", "zip"]
    email, record_id = options.salesforce
    assert sorted(email["objects"]) == ["Contact", "Lead"] and email["label"] == "Email"
    assert record_id["label"] == "Lead ID / Contact ID"  # not the lead's label alone
    assert options.fetched_at is not None and not options.is_empty
