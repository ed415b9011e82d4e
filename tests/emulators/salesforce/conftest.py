"""Fixtures for the Salesforce emulator contract tests: real simple-salesforce clients over TLS."""

from __future__ import annotations

import pytest

from emulators.testing import salesforce_client, salesforce_session


@pytest.fixture
def app(emulators):
    return emulators.salesforce.app


@pytest.fixture
def sf(emulators):
    """The integration's client (its own user, created on first use of the token)."""
    return salesforce_client(emulators, token="integration-token")


@pytest.fixture
def rep_sf(emulators):
    """Another API user: a sales rep with their own token."""
    return salesforce_client(emulators, token="sales-rep-token")


@pytest.fixture
def control(emulators):
    """POST to the control plane over HTTP: ``control("actions/edit", {...})``."""
    session = salesforce_session(emulators.ca_path)
    base = emulators.salesforce.url + "/__emulator__/"

    def call(path: str, payload: dict | None = None, method: str = "POST"):
        response = session.request(method, base + path, json=payload)
        return response

    yield call
    session.close()
