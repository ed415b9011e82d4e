"""Scenario fixtures: a connected integration, people editing in both CRMs, and a cycle."""

from __future__ import annotations

import pytest

from sync_engine.models import ApiCall, RecordLink, System
from sync_engine.services import object_settings_update, object_sync_get_or_create
from sync_engine.sync.cycle import sync_cycle_run


@pytest.fixture
def integration(sf_connection, hs_connection, emulators):
    integration = sf_connection.integration
    # The integration user's id, as `connect` stores it from userinfo.
    user = emulators.salesforce.app.run_action("user_for_token", token=sf_connection.access_token)
    sf_connection.user_id = user or ""
    sf_connection.save()
    return integration


class Cycle:
    def __init__(self, integration):
        self.integration = integration

    def __call__(self, trigger: str = "manual"):
        before = {
            s: ApiCall.objects.filter(integration=self.integration, system=s).count()
            for s in System.values
        }
        run = sync_cycle_run(integration=self.integration, object_name="contacts", trigger=trigger)
        assert run.status == "succeeded", run.message
        run.calls = {
            s: ApiCall.objects.filter(integration=self.integration, system=s).count() - before[s]
            for s in System.values
        }
        return run

    def settings(self, **changes):
        object_settings_update(
            integration=self.integration, object_name="contacts", changes=changes
        )

    def link(self, **filters):
        return RecordLink.objects.get(integration=self.integration, **filters)


@pytest.fixture
def cycle(integration):
    object_sync_get_or_create(integration=integration, object_name="contacts")  # defaults
    return Cycle(integration)
