"""Pytest fixtures and client factories for tests that drive the emulators.

``crm_emulators`` starts both emulators once per test session on free ports; ``emulators``
hands the same pair to a test after resetting their state, clock, faults and ledgers.
The client factories configure the official clients exactly as production does, changing
only the base URL and the CA.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests

from .runner import Emulators, start_emulators


def salesforce_session(ca_path) -> requests.Session:
    session = requests.Session()
    session.trust_env = False  # REQUESTS_CA_BUNDLE would otherwise override ``verify``
    session.verify = str(ca_path)
    return session


DEFAULT_TOKEN = "integration-token"  # noqa: S105 - the emulators accept any token


def salesforce_client(emulators: Emulators, token: str = DEFAULT_TOKEN, **kwargs):
    from simple_salesforce import Salesforce

    return Salesforce(
        instance_url=emulators.salesforce.url,
        session_id=token,
        session=salesforce_session(emulators.ca_path),
        **kwargs,
    )


def hubspot_client(emulators: Emulators, token: str = DEFAULT_TOKEN, strict: bool = True):
    from hubspot import HubSpot

    return HubSpot(
        access_token=token,
        host=emulators.hubspot.url,
        base_url=emulators.hubspot.url,
        client_side_validation=strict,
    )


def known_property_branch(prop: str = "email") -> dict:
    """A HubSpot list filter (``filterBranch``) of records whose ``prop`` is known: what an
    active list the tests make filters on."""
    known = {
        "filterType": "PROPERTY",
        "property": prop,
        "operation": {"operationType": "ALL_PROPERTY", "operator": "IS_KNOWN"},
    }
    return {
        "filterBranchType": "OR",
        "filters": [],
        "filterBranches": [{"filterBranchType": "AND", "filterBranches": [], "filters": [known]}],
    }


def active_list(
    emulators: Emulators,
    name: str,
    *,
    object_type: str = "contacts",
    filter_branch: dict | None = None,
) -> str:
    """A new active (DYNAMIC) HubSpot list, made as an admin would in HubSpot: its id. By
    default of the records whose email (companies: name) is known."""
    branch = filter_branch or known_property_branch(
        "name" if object_type == "companies" else "email"
    )
    made = emulators.hubspot.app.run_action(
        "create_list",
        list_name=name,
        object_type=object_type,
        processing_type="DYNAMIC",
        filter_branch=branch,
    )
    return str(made["listId"])


def advance_clocks(emulators: Emulators, seconds: float) -> None:
    """Time passes in both CRMs alike."""
    for running in (emulators.salesforce, emulators.hubspot):
        running.app.clock.advance(seconds)


def reset_emulators(emulators: Emulators) -> None:
    for running in (emulators.salesforce, emulators.hubspot):
        app = running.app
        with app.lock:
            app.reset()
        app.faults.clear()
        app.ledger.clear()
        app.clock.reset()


@pytest.fixture(scope="session")
def crm_emulators(tmp_path_factory) -> Iterator[Emulators]:
    emulators = start_emulators(data_dir=tmp_path_factory.mktemp("emulators"), persist=False)
    yield emulators
    emulators.stop()


@pytest.fixture
def emulators(crm_emulators: Emulators) -> Iterator[Emulators]:
    reset_emulators(crm_emulators)
    yield crm_emulators
