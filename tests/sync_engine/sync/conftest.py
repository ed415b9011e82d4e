"""Scenario fixtures: a connected integration, people editing in both CRMs, and a cycle."""

from __future__ import annotations

import pytest

from sync_engine.models import ApiCall, RecordLink, System
from sync_engine.services import object_settings_update, object_sync_get_or_create
from sync_engine.sync.cycle import sync_cycle_run, sync_cycles_run


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


class Companies:
    """Run company and contact cycles; read both sides."""

    def __init__(self, integration, emulators):
        self.integration = integration
        self.emulators = emulators

    def __call__(self, object_name: str = "companies"):
        before = {
            s: ApiCall.objects.filter(integration=self.integration, system=s).count()
            for s in System.values
        }
        run = sync_cycle_run(integration=self.integration, object_name=object_name)
        assert run.status == "succeeded", run.message
        run.calls = {
            s: ApiCall.objects.filter(integration=self.integration, system=s).count() - before[s]
            for s in System.values
        }
        return run

    def both(self):
        """One cycle of each pair, contacts first (as the scheduler orders them); returns
        (the company run, the contact run)."""
        contacts = self("contacts")
        return self("companies"), contacts

    def cycle(self):
        """One cycle over both pairs as the worker runs it (sharing the probe and reads)."""
        before = ApiCall.objects.filter(integration=self.integration).count()
        runs = {r.object: r for r in sync_cycles_run(integration=self.integration)}
        assert all(r.status == "succeeded" for r in runs.values()), runs
        calls = ApiCall.objects.filter(integration=self.integration).order_by("id")[before:]
        return runs, [c.operation for c in calls]

    def settings(self, **changes):
        object_settings_update(
            integration=self.integration, object_name="companies", changes=changes
        )

    def link(self, **filters):
        return RecordLink.objects.get(integration=self.integration, object="companies", **filters)

    def links(self):
        return RecordLink.objects.filter(integration=self.integration, object="companies")

    def hs_action(self, name, **kwargs):
        return self.emulators.hubspot.app.run_action(name, **kwargs)


@pytest.fixture
def companies(integration, emulators):
    # A company cycle searches twice (companies, contacts' primary company) and the tests run
    # cycles back to back: HubSpot's 5 searches a second would make every test wait 10 s.
    emulators.hubspot.app.configure_budget(search_per_second=1000)
    object_sync_get_or_create(integration=integration, object_name="contacts")
    object_settings_update(
        integration=integration, object_name="companies", changes={}, enabled=True
    )
    object_settings_update(
        integration=integration, object_name="contacts", changes={"hubspot_creates": "contact"}
    )
    return Companies(integration, emulators)
