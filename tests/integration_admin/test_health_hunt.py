"""Sync health: the numbers on the API call use panel agree with the ledger and each other."""

from __future__ import annotations

import re
import time
from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from tests.sync_engine.factories import ApiCallFactory

pytestmark = pytest.mark.django_db


def _window_start_before_the_first_clock_hour() -> datetime:
    """Now, at least ten seconds before the hour ends: the rolling window then starts more
    than ten seconds before the chart's first clock hour."""
    now = timezone.now()
    if now.minute == 59 and now.second >= 50:
        time.sleep(60 - now.second + 1)
        now = timezone.now()
    return now


def test_the_chart_legend_counts_the_calls_of_the_whole_rolling_window(viewer_client, connected):
    # Calls made 24 hours ago less a few seconds are still in the window, before the first of
    # the chart's 24 clock hours (which starts at the top of the hour 23 hours back).
    now = _window_start_before_the_first_clock_hour()
    early = now - timedelta(hours=24) + timedelta(seconds=8)
    ApiCallFactory.create_batch(4, integration=connected, called_at=early)
    ApiCallFactory.create_batch(2, integration=connected, called_at=early, system="hubspot")
    ApiCallFactory.create_batch(3, integration=connected, called_at=now - timedelta(minutes=5))
    html = viewer_client.get("/sync-health/").content.decode()
    assert 'data-stat="used">7<' in html
    assert "HubSpot API calls in the last 24 hours: 2" in html
    # The legend beside the bars says the same, not just the clock hours' 3 and 0.
    legend = re.search(r'<figcaption class="chart__caption">(.*?)</figcaption>', html, re.S)
    assert "Salesforce (7)" in legend.group(1) and "HubSpot (2)" in legend.group(1)
