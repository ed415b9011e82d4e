"""Fixtures for the HubSpot emulator's contract suite.

The suite drives the emulator over real HTTP with the unmodified hubspot-api-client in strict
mode (``client_side_validation=True``), through ``emulators.testing.hubspot_client``. It runs
against a HubSpot-only server so it does not depend on the Salesforce emulator; the
``emulators`` fixture keeps the shared contract (fresh state, faults, ledger and clock per test).
"""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest
import requests

from emulators.core.clock import Clock
from emulators.core.server import RunningEmulator
from emulators.hubspot.app import HubSpotApp
from emulators.testing import hubspot_client


@pytest.fixture(scope="session")
def hubspot_server():
    running = RunningEmulator(HubSpotApp(Clock()))
    yield running
    running.stop()


@pytest.fixture
def emulators(hubspot_server):
    app = hubspot_server.app
    with app.lock:
        app.reset()
    app.faults.clear()
    app.ledger.clear()
    app.clock.reset()
    yield SimpleNamespace(hubspot=hubspot_server)


@pytest.fixture
def app(emulators) -> HubSpotApp:
    return emulators.hubspot.app


@pytest.fixture
def hs(emulators):
    """The integration's client (strict response checking)."""
    return hubspot_client(emulators, token="integration-token")


@pytest.fixture
def base_url(emulators) -> str:
    return emulators.hubspot.url


def control(base_url: str, action: str, **kwargs):
    """Run a control-plane action over HTTP, as a test harness in another process would."""
    return requests.post(f"{base_url}/__emulator__/actions/{action}", json=kwargs, timeout=10)


def error_of(exc) -> dict:
    """The parsed JSON body of an ApiException."""
    return json.loads(exc.body)


def validation_results(exc) -> list[dict]:
    """The per-property results embedded in a VALIDATION_ERROR message."""
    message = error_of(exc)["message"]
    prefix = "Property values were not valid: "
    assert message.startswith(prefix), message
    return json.loads(message[len(prefix) :])
