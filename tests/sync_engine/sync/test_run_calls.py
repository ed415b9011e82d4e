"""A run's call counts are its own calls: another worker's, made while it ran, aren't in them
(PostgreSQL, where workers really run at the same time)."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from sync_engine.budget import budget_reserve
from sync_engine.models import ApiCall, System

from .helpers import new_lead


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_runs_calls_leave_out_another_workers_calls_made_meanwhile(cycle, sf_person):
    for n in range(3):
        new_lead(sf_person, Email=f"p{n}@example.com")
    busy, started = threading.Event(), threading.Event()
    busy.set()

    def other_worker() -> None:  # an import, say, spending calls all along
        try:
            while busy.is_set():
                budget_reserve(
                    integration=cycle.integration, system=System.SALESFORCE, operation="import"
                )
                started.set()
                busy.wait(0.005)
        finally:
            connection.close()

    worker = threading.Thread(target=other_worker)
    worker.start()
    started.wait(5)
    try:
        run = cycle()
    finally:
        busy.clear()
        worker.join()
    meanwhile = ApiCall.objects.filter(
        operation="import", called_at__gte=run.started_at, called_at__lte=run.finished_at
    )
    assert meanwhile.exists()  # the other worker did spend calls while the run went on
    own = ApiCall.objects.filter(run_id=run.pk, system=System.SALESFORCE)
    assert run.salesforce_calls == own.count() > 0
    assert not own.filter(operation="import").exists()
