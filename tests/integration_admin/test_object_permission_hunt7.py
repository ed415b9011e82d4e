"""Sync health for a Salesforce object the integration user may not read (spec §4 *Object
permission*), and for a locked row that passes on its retry (no card for a blip)."""

from __future__ import annotations

import pytest

from sync_engine.models import SyncError
from sync_engine.services import object_settings_update, object_sync_get_or_create
from sync_engine.sync.cycle import sync_cycles_run
from tests.sync_engine.conftest import SF_TOKEN

from .conftest import make_error

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def opportunities_hidden(live, emulators):
    """Deal sync on, one cycle run while the integration user has no Read on Opportunity."""
    emulators.hubspot.app.configure_budget(search_per_second=1000)
    object_sync_get_or_create(integration=live, object_name="contacts")
    object_settings_update(
        integration=live, object_name="contacts", changes={"lifecycle_transitions": False}
    )
    object_settings_update(integration=live, object_name="deals", changes={}, enabled=True)
    sync_cycles_run(integration=live)
    emulators.salesforce.app.run_action(
        "set_record_access", access="none", object="Opportunity", token=SF_TOKEN
    )
    sync_cycles_run(integration=live)
    return live


def test_sync_health_shows_the_object_and_what_to_do(admin_client, opportunities_hidden):
    html = admin_client.get("/sync-health/").content.decode()
    assert 'data-error-type="object_permission"' in html and "Object permission" in html
    assert "Integration suspended" not in html
    # The runs say why deal sync stopped, in people's words.
    assert "no access to Opportunity" in html

    panel = admin_client.get("/sync-health/errors/object_permission/", **HTMX).content.decode()
    assert "Opportunity" in panel and "INVALID_TYPE" in panel
    assert "Read, Create and Edit" in panel and "permission set" in panel
    assert "is not supported" in panel  # Salesforce's own words, as it said them

    # Its record page opens, and its Resync asks for the check (no error page).
    error = SyncError.objects.get(error_type="object_permission", resolved_at__isnull=True)
    page = admin_client.get(f"/records/deals/{error.record_key}/")
    assert page.status_code == 200 and "Opportunity" in page.content.decode()
    resync = admin_client.post(f"/records/deals/{error.record_key}/resync/")
    assert resync.status_code == 302


def test_a_temporary_error_shows_only_once_its_retry_failed_too(admin_client, connected):
    (error,) = make_error(
        connected, error_type="transient", code="UNABLE_TO_LOCK_ROW", message="locked"
    )
    html = admin_client.get("/sync-health/").content.decode()
    assert "Temporary error" not in html
    export = admin_client.get("/sync-health/errors/export/")
    assert b"UNABLE_TO_LOCK_ROW" not in b"".join(export.streaming_content)

    make_error(connected, error_type="transient", code="UNABLE_TO_LOCK_ROW", message="locked")
    html = admin_client.get("/sync-health/").content.decode()
    assert "Temporary error" in html
    assert SyncError.objects.get(pk=error.pk).attempts == 2
