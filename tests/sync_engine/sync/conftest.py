"""Scenario fixtures: a connected integration, people editing in both CRMs, and a cycle."""

from __future__ import annotations

import pytest

from sync_engine.models import ApiCall, ObjectSync, RecordLink, System
from sync_engine.services import object_settings_update, object_sync_get_or_create
from sync_engine.sync.cycle import sync_cycle_run, sync_cycles_run
from sync_engine.sync.pipelines import DEFAULT_LABEL, synced_pipelines

from .helpers import company_sync_on, deal_sync_on, ticket_sync_on


@pytest.fixture
def integration(sf_connection, hs_connection, emulators):
    integration = sf_connection.integration
    # The integration user's id, as `connect` stores it from userinfo.
    user = emulators.salesforce.app.run_action("user_for_token", token=sf_connection.access_token)
    sf_connection.user_id = user or ""
    sf_connection.save()
    return integration


def counted_run(integration, object_name: str, **kwargs):
    """One cycle of the pair, which must succeed; the run carries the calls it made per
    system (``run.calls``)."""
    before = {
        s: ApiCall.objects.filter(integration=integration, system=s).count() for s in System.values
    }
    run = sync_cycle_run(integration=integration, object_name=object_name, **kwargs)
    assert run.status == "succeeded", run.message
    run.calls = {
        s: ApiCall.objects.filter(integration=integration, system=s).count() - before[s]
        for s in System.values
    }
    return run


class Cycle:
    def __init__(self, integration):
        self.integration = integration

    def __call__(self, trigger: str = "manual"):
        return counted_run(self.integration, "contacts", trigger=trigger)

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


class PairCycles:
    """Run one pair's cycles (or another pair's, by name) and read its links; each run
    carries the calls it made per system."""

    object_name = ""

    def __init__(self, integration, emulators):
        self.integration = integration
        self.emulators = emulators

    def __call__(self, object_name: str = ""):
        return counted_run(self.integration, object_name or self.object_name)

    def settings(self, **changes):
        object_settings_update(
            integration=self.integration, object_name=self.object_name, changes=changes
        )

    @property
    def options(self) -> dict:
        return ObjectSync.objects.get(integration=self.integration, object=self.object_name).options

    def link(self, **filters):
        return RecordLink.objects.get(
            integration=self.integration, object=self.object_name, **filters
        )

    def links(self, object_name: str = ""):
        return RecordLink.objects.filter(
            integration=self.integration, object=object_name or self.object_name
        )

    def hs_action(self, name, **kwargs):
        return self.emulators.hubspot.app.run_action(name, **kwargs)

    def sf_action(self, name, **kwargs):
        return self.emulators.salesforce.app.run_action(name, **kwargs)


class Companies(PairCycles):
    """Company and contact cycles."""

    object_name = "companies"

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


class Deals(PairCycles):
    """The pairs' cycles (contacts, companies, deals, in the scheduler's order)."""

    object_name = "deals"

    def all(self):
        """One cycle of every pair, in order; returns the deals run."""
        self("contacts")
        self("companies")
        return self("deals")

    def pipeline(self, label: str = DEFAULT_LABEL) -> dict:
        return next(p for p in synced_pipelines(self.integration) if p["label"] == label)


class Tickets(PairCycles):
    object_name = "tickets"


@pytest.fixture
def companies(integration, emulators):
    company_sync_on(integration, emulators)
    return Companies(integration, emulators)


@pytest.fixture
def deals(integration, emulators):
    deal_sync_on(integration, emulators)
    return Deals(integration, emulators)


@pytest.fixture
def tickets(integration, emulators):
    ticket_sync_on(integration, emulators)
    return Tickets(integration, emulators)
