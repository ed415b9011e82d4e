"""Sync health: the numbers on the API call use panel agree with the ledger and each other."""

from __future__ import annotations

import re
import time
from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from tests.sync_engine.factories import ApiCallFactory

pytestmark = pytest.mark.django_db


def _in_the_windows_first_sliver() -> tuple[datetime, datetime]:
    """(now, a moment in the rolling window before the chart's first clock hour), that moment
    half-way through that sliver, so it stays in the window for the page read after. The
    sliver is what is left of this hour: under a minute of it, the next hour is waited for."""
    now = timezone.now()
    left = timedelta(hours=1) - timedelta(minutes=now.minute, seconds=now.second)
    if left < timedelta(minutes=1):
        time.sleep(left.total_seconds() + 1)
        now = timezone.now()
        left = timedelta(hours=1) - timedelta(minutes=now.minute, seconds=now.second)
    return now, now - timedelta(hours=24) + left / 2


def test_the_chart_legend_counts_the_calls_of_the_whole_rolling_window(viewer_client, connected):
    # Calls made a little less than 24 hours ago are still in the window, before the first of
    # the chart's 24 clock hours (which starts at the top of the hour 23 hours back).
    now, early = _in_the_windows_first_sliver()
    ApiCallFactory.create_batch(4, integration=connected, called_at=early)
    ApiCallFactory.create_batch(2, integration=connected, called_at=early, system="hubspot")
    ApiCallFactory.create_batch(3, integration=connected, called_at=now - timedelta(minutes=5))
    html = viewer_client.get("/sync-health/").content.decode()
    assert 'data-stat="used">7<' in html
    assert "HubSpot API calls in the last 24 hours: 2" in html
    # The legend beside the bars says the same, not just the clock hours' 3 and 0.
    legend = re.search(r'<figcaption class="chart__caption">(.*?)</figcaption>', html, re.S)
    assert "Salesforce (7)" in legend.group(1) and "HubSpot (2)" in legend.group(1)
