"""A refused allocation without htmx answers the whole Sync health tab: its API call use panel
is read once (it was read twice, the second time for the posted form)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from sync_engine.models import AuditEvent

pytestmark = pytest.mark.django_db


def test_a_refused_allocation_reads_the_page_once(admin_client, connected):
    with CaptureQueriesContext(connection) as page:
        assert admin_client.get("/sync-health/").status_code == 200
    with CaptureQueriesContext(connection) as refused:
        response = admin_client.post("/sync-health/allocation/", {"allocation": "0"})
    html = response.content.decode()
    # The tab, with the posted value and why it was refused in the allocation form.
    assert response.status_code == 400
    assert 'class="field-error" id="allocation-error"' in html
    assert 'aria-invalid="true"' in html and 'value="0"' in html
    assert 'id="sync-errors"' in html and 'id="sync-runs"' in html
    connected.refresh_from_db()
    assert connected.salesforce_api_allocation == 5000
    assert not AuditEvent.objects.filter(action="integration.allocation_changed").exists()
    # No more queries than the tab itself: the usage panel (calls, hours, cadence) isn't read
    # a second time.
    assert len(refused) <= len(page), [q["sql"] for q in refused.captured_queries]
