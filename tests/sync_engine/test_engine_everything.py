"""Every pair at once (issue #5, "the fault and kill tests ... extended to a cycle that syncs
every object"): companies, contacts, deals, tickets, activities and a custom object, filled on
both sides, converge through random faults, and a worker SIGKILLed again and again, without a
duplicate or a lost record: afterwards each pair's records exist once on each side, linked,
with equal names, and no sync error is left open.
"""

from __future__ import annotations

import random
import time

import pytest

from sync_engine.models import ApiCall, SyncError, SyncRun
from sync_engine.sync.cycle import sync_cycles_run

from . import engine_processes as processes
from .everything import (
    WRITE_COUNTS,
    fill_both_sides,
    in_step_problems,
    switch_everything_on,
    writes,
)

PEOPLE = 300  # per side; 30 accounts, opportunities, cases, tasks and 15 projects per side
MAX_FAULTY_CYCLES = 25

HUBSPOT_API = r"^/crm/"
HUBSPOT_WRITES = (
    r"^/crm/v(3/objects/[^/]+|4/associations/[^/]+/[^/]+)/batch/(create|update|upsert)$"
)
SALESFORCE_API = r"^/services/data/"
SALESFORCE_WRITES = r"/composite/sobjects(/[^/]+/[^/]+)?$"


def filled_everything(integration, sf_person, hs_person, *, seed: int):
    projects_type = switch_everything_on(integration, hs_person)
    sync_cycles_run(integration=integration, trigger="manual")  # pipelines, key properties
    filled = fill_both_sides(
        sf_person, hs_person, people=PEOPLE, projects_type=projects_type, seed=seed
    )
    return filled, projects_type


def quiet(runs: list[SyncRun]) -> bool:
    return bool(runs) and all(
        run.status == "succeeded" and not run.counts.get("failed") and not writes([run])
        for run in runs
    )


def summary(runs: list[SyncRun]) -> str:
    return "; ".join(
        f"{r.object} {r.status} "
        + " ".join(f"{k}={v}" for k, v in r.counts.items() if v and k.startswith(WRITE_COUNTS))
        + (f" failed={r.counts['failed']}" if r.counts.get("failed") else "")
        + (f" ({r.message[:60]})" if r.message else "")
        for r in runs
    )


def add_faults(emulators, *, rate: float, seed: int) -> None:
    """``rate`` of all calls fail at random (429s, 5xx, dropped connections, locked rows),
    writes twice as often, some after they were applied."""
    hs, sf = emulators.hubspot.app.faults, emulators.salesforce.app.faults
    hs.add(path=HUBSPOT_WRITES, apply_then_fail=True, error_code="BAD_GATEWAY", after=3, times=1)
    sf.add(path=SALESFORCE_WRITES, apply_then_fail=True, drop=True, after=2, times=1)
    share = rate / 4
    hs.add(path=HUBSPOT_API, error_code="RATE_LIMIT", probability=share, seed=seed)
    hs.add(path=HUBSPOT_API, error_code="BAD_GATEWAY", probability=share, seed=seed + 1)
    hs.add(path=HUBSPOT_API, error_code="SERVICE_UNAVAILABLE", probability=share, seed=seed + 2)
    hs.add(path=HUBSPOT_API, drop=True, probability=share, seed=seed + 3)
    hs.add(
        path=HUBSPOT_WRITES,
        apply_then_fail=True,
        error_code="SERVICE_UNAVAILABLE",
        probability=2 * rate,
        seed=seed + 4,
    )
    sf.add(path=SALESFORCE_WRITES, error_code="UNABLE_TO_LOCK_ROW", probability=rate, seed=seed + 5)
    sf.add(
        path=SALESFORCE_WRITES,
        apply_then_fail=True,
        error_code="SERVER_UNAVAILABLE",
        probability=2 * rate,
        seed=seed + 6,
    )
    share = rate / 3
    sf.add(path=SALESFORCE_API, error_code="SERVER_UNAVAILABLE", probability=share, seed=seed + 7)
    sf.add(path=SALESFORCE_API, error_code="UNKNOWN_EXCEPTION", probability=share, seed=seed + 8)
    sf.add(path=SALESFORCE_API, drop=True, probability=share, seed=seed + 9)


def fired(emulators) -> int:
    rules = [*emulators.hubspot.app.faults.rules(), *emulators.salesforce.app.faults.rules()]
    return sum(rule.fired for rule in rules)


def assert_in_step(integration, sf_person, hs_person, filled, projects_type) -> None:
    problems = in_step_problems(
        integration, sf_person, hs_person, filled=filled, projects_type=projects_type
    )
    still_open = list(
        SyncError.objects.filter(integration=integration, resolved_at__isnull=True).values_list(
            "object", "error_type", "code", "record_key", "message"
        )[:5]
    )
    assert not problems and not still_open, "\n".join(map(str, [*problems, *still_open]))


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_every_pair_converges_through_10_percent_faults(connected, emulators, sf_person, hs_person):
    filled, projects_type = filled_everything(connected, sf_person, hs_person, seed=11)
    add_faults(emulators, rate=0.10, seed=500)
    outcomes = []
    for _ in range(MAX_FAULTY_CYCLES):
        runs = sync_cycles_run(integration=connected, trigger="manual")
        outcomes.append(summary(runs))
        if quiet(runs):
            break
    print("\n".join(outcomes))
    assert fired(emulators) >= 15, "the faults should really have fired"
    assert quiet(runs), outcomes[-3:]

    emulators.hubspot.app.faults.clear()
    emulators.salesforce.app.faults.clear()
    clean = sync_cycles_run(integration=connected, trigger="manual")
    assert quiet(clean), summary(clean)
    assert_in_step(connected, sf_person, hs_person, filled, projects_type)


def rename_some(sf, rng, round_: int) -> None:
    """A sales rep renames a few opportunities, cases and projects."""
    for sobject, field_name in (
        ("Opportunity", "Name"),
        ("Case", "Subject"),
        ("Project__c", "Name"),
    ):
        ids = [r["Id"] for r in sf.query(f"SELECT Id FROM {sobject} LIMIT 200")["records"]]  # noqa: S608
        records = [
            {"attributes": {"type": sobject}, "Id": i, field_name: f"Renamed {round_}.{n}"}
            for n, i in enumerate(rng.sample(ids, min(5, len(ids))))
        ]
        sf.restful(
            "composite/sobjects", method="PATCH", json={"allOrNone": True, "records": records}
        )


@pytest.mark.slow
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.timeout(900)
def test_every_pair_survives_a_worker_killed_10_times(connected, emulators, sf_person, hs_person):
    """``manage.py sync_now`` (every pair on) in its own process, SIGKILLed at random moments
    right after requests went out, and restarted; then clean cycles until quiet."""
    processes.require_postgres()
    filled, projects_type = filled_everything(connected, sf_person, hs_person, seed=12)
    rng = random.Random(12)
    calls = ApiCall.objects.filter(integration=connected)
    kills = 0
    span = 12  # calls a run may make before the kill: less than a whole cycle costs
    for round_ in range(10):
        if round_:
            rename_some(sf_person, rng, round_)  # people keep working between the kills
        process = processes.sync_now(log=None)
        try:
            start = calls.count()
            target = start + rng.randint(1, span)
            deadline = time.monotonic() + 300
            while process.poll() is None and calls.count() < target:
                assert time.monotonic() < deadline, "sync_now neither ended nor made calls"
                time.sleep(0.02)
            if process.poll() is None:
                time.sleep(rng.random() * 0.2)
                process.kill()
                kills += 1
            else:  # the whole cycle fit: the next kill comes before its last call
                span = max(1, calls.count() - start - 1)
            process.wait(timeout=30)
        finally:
            processes.stop(process)
    assert kills >= 6, "most runs should have been killed mid-cycle"
    for _ in range(8):
        runs = sync_cycles_run(integration=connected, trigger="manual")
        if quiet(runs):
            break
    assert quiet(runs), summary(runs)
    assert_in_step(connected, sf_person, hs_person, filled, projects_type)
