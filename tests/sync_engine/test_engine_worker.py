"""The engine under a real Celery worker (issue #3, "Running it").

Real worker processes (``celery -A integration_admin worker --pool=solo``) consume a queue of
their own on the Redis broker of the PostgreSQL phase (``scripts/run_tests.py``) and share this
test's database; the emulators run in this process and are reached over HTTP.
"""

from __future__ import annotations

import os

import pytest

from sync_engine.models import RecordLink, SyncRun
from sync_engine.tasks import sync_object

from . import engine_harness as harness
from . import engine_processes as processes

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.redis,
    pytest.mark.django_db(transaction=True),
    pytest.mark.timeout(300),
]


@pytest.fixture
def connected(connected):
    """The shared ``connected`` (tests/sync_engine/conftest.py), with PostgreSQL and Redis."""
    processes.require_postgres()
    if not os.environ.get("CELERY_BROKER_URL", "").startswith("redis://"):
        pytest.skip("needs CELERY_BROKER_URL=redis://… (the PostgreSQL phase sets it)")
    return connected


@pytest.fixture
def workers(tmp_path):
    pool = processes.Workers(tmp_path)
    yield pool
    pool.stop()


def enqueue(integration, queue: str):
    return sync_object.apply_async(
        kwargs={"integration_id": integration.pk, "object_name": "contacts", "trigger": "manual"},
        queue=queue,
    )


def test_a_worker_runs_the_enqueued_cycle(connected, workers, sf_person, hs_person):
    people = harness.population(salesforce=150, hubspot=150, seed=31)
    harness.seed_salesforce(sf_person, people.salesforce)
    harness.seed_hubspot(hs_person, people.hubspot)
    workers.start(1)

    enqueue(connected, workers.queue)
    workers.wait_for(lambda: workers.tasks_done() == 1)

    run = SyncRun.objects.get(integration=connected)
    assert run.status == "succeeded", run.message
    assert run.finished_at is not None and run.trigger == "manual"
    assert run.counts["created_in_salesforce"] == run.counts["created_in_hubspot"] == 105
    assert run.salesforce_calls > 0 and run.hubspot_calls > 0
    assert RecordLink.objects.filter(integration=connected).count() == len(people.emails)
    result = harness.compare(
        harness.read_salesforce(sf_person), harness.read_hubspot(hs_person), expected=people.emails
    )
    assert not result.problems, "\n".join(result.problems)


def test_two_tasks_for_the_same_pair_at_once_run_one_cycle(
    connected, workers, emulators, sf_person, hs_person
):
    people = harness.population(salesforce=150, hubspot=150, seed=32)
    harness.seed_salesforce(sf_person, people.salesforce)
    harness.seed_hubspot(hs_person, people.hubspot)
    # The first cycle's first Salesforce read takes 3 s, so the second task surely arrives
    # while the first holds the pair.
    emulators.salesforce.app.faults.add(path=r"/composite$", delay=3.0, times=1)
    workers.start(2)

    enqueue(connected, workers.queue)
    enqueue(connected, workers.queue)
    workers.wait_for(lambda: workers.tasks_done() == 2)

    output = workers.output()
    assert output.count("contacts of integration") == 1, output[-3000:]
    assert "is already syncing" in output
    runs = list(SyncRun.objects.filter(integration=connected))
    assert len(runs) == 1 and runs[0].status == "succeeded", [(r.status, r.message) for r in runs]
    assert RecordLink.objects.filter(integration=connected).count() == len(people.emails)
    # Each worker took one of the two tasks.
    assert all("] succeeded in " in log.read_text() for log in workers.logs), output[-3000:]
