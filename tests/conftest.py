import os

import pytest

# pytest-django's live_server and sync Playwright share a thread with the ORM.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
# The emulators admit as many searches as a test configures (most: 1,000 a second), so the
# engine's search pacing follows suit; tests of the pacing itself set HubSpot's 5.
os.environ.setdefault("HUBSPOT_SEARCHES_PER_SECOND", "1000000")  # for worker processes

pytest_plugins = ["emulators.testing"]


@pytest.fixture(autouse=True, scope="session")
def _searches_paced_as_the_emulators_admit():
    from django.conf import settings

    settings.HUBSPOT_SEARCHES_PER_SECOND = int(os.environ["HUBSPOT_SEARCHES_PER_SECOND"])


@pytest.fixture(autouse=True)
def _hubspot_pacing_starts_afresh():
    """Integration ids repeat from test to test, and each test's emulator is a new account."""
    from sync_engine.connectors.hubspot.connector import pacing_forget

    pacing_forget()


@pytest.fixture(autouse=True)
def _cache_starts_empty():
    """Integration ids repeat from test to test, and each test's emulator is a new account:
    no test sees the live reads (or anything else) another one kept in Django's cache."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def sf_person(emulators):
    """A sales rep editing in Salesforce with their own token."""
    from emulators.testing import salesforce_client

    return salesforce_client(emulators, token="sales-rep-token")


@pytest.fixture
def hs_person(emulators):
    """A marketer editing in HubSpot with their own token."""
    from emulators.testing import hubspot_client

    return hubspot_client(emulators, token="marketer-token", strict=False)
