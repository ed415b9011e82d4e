"""A sync worker SIGKILLed at random moments neither duplicates nor loses anything (issue #3,
"A kill test").

``manage.py sync_now`` runs in its own process against the emulators of this test (over HTTP)
and this test's PostgreSQL database, and is killed with SIGKILL 20 times at random (seeded)
moments of a 5,000-record two-way sync, restarted each time (taking over the killed run's
lease at once). People keep editing on both sides in between. After a final clean cycle, both
CRMs are read back through the official clients: every person exists exactly once on each
side, the mapped fields agree, and every edit made during the kills arrived on the other side.
"""

from __future__ import annotations

import os
import random
import signal
import time

import pytest
from hubspot.crm.contacts import BatchInputSimplePublicObjectBatchInput

from sync_engine.models import ApiCall, FieldMapping, RecordLink, SyncError, SyncRun
from sync_engine.services import mapping_update_rule, object_sync_get_or_create
from sync_engine.sync.rules import SyncRule

from . import engine_harness as harness
from . import engine_processes as processes

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

PER_SIDE = 2_500
KILLS = 20
SEED = int(os.environ.get("KILL_TEST_SEED", "20"))
MAX_CALLS_BEFORE_KILL = 40  # an uninterrupted first cycle makes about 100


@pytest.fixture
def connected(connected):
    """The shared ``connected`` (tests/sync_engine/conftest.py), on PostgreSQL only."""
    processes.require_postgres()
    return connected


def run_to_end(log, *, timeout: float = 300) -> int:
    process = processes.sync_now(log=log)
    try:
        return process.wait(timeout=timeout)
    finally:
        processes.stop(process)


def kill_after(process, calls, target: int, jitter: float, timeout: float = 300) -> str:
    """SIGKILL ``process`` ``jitter`` seconds after the ledger holds ``target`` calls (a call's
    row is written just before its request goes out, so kills land right after requests were
    sent: mid-write, before the commit that records them), unless it ends first."""
    deadline = time.monotonic() + timeout
    while process.poll() is None and calls.count() < target:
        assert time.monotonic() < deadline, "sync_now neither ended nor made calls"
        time.sleep(0.02)
    if process.poll() is None:
        time.sleep(jitter)
    if process.poll() is not None:
        return "finished"
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    return "killed"


def title_edits(rng, sf_person, hs_person, sf_ids, hs_ids, used: set[str], n: int) -> dict:
    """A sales rep retitles ``n`` Salesforce people and a marketer ``n`` HubSpot contacts
    (each person at most once over the whole test); returns {email: new title}."""
    stamp = f"{time.monotonic():.0f}"
    edits = {}
    sf_pick = rng.sample(sorted(set(sf_ids) - used), n)
    used.update(sf_pick)
    hs_pick = rng.sample(sorted(set(hs_ids) - used), n)
    used.update(hs_pick)
    for sobject in ("Lead", "Contact"):
        records = [
            {"attributes": {"type": sobject}, "Id": sf_ids[e], "Title": f"SF edit {stamp} {i}"}
            for i, e in enumerate(sf_pick)
            if sf_ids[e][:3] == ("00Q" if sobject == "Lead" else "003")
        ]
        if records:
            results = sf_person.restful(
                "composite/sobjects",
                method="PATCH",
                json={"allOrNone": True, "records": records},
            )
            assert all(r["success"] for r in results), results[:2]
    for i, email in enumerate(sf_pick):
        edits[email] = f"SF edit {stamp} {i}"
    inputs = [
        {"id": hs_ids[e], "properties": {"jobtitle": f"HS edit {stamp} {i}"}}
        for i, e in enumerate(hs_pick)
    ]
    hs_person.crm.contacts.batch_api.update(BatchInputSimplePublicObjectBatchInput(inputs=inputs))
    for i, email in enumerate(hs_pick):
        edits[email] = f"HS edit {stamp} {i}"
    return edits


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_a_sync_killed_20_times_neither_duplicates_nor_loses_anything(
    connected, sf_person, hs_person, tmp_path
):
    rng = random.Random(SEED)
    people = harness.population(salesforce=PER_SIDE, hubspot=PER_SIDE, seed=SEED)
    sf_ids = harness.seed_salesforce(sf_person, people.salesforce)
    hs_ids = dict(
        zip(
            [i["properties"]["email"] for i in people.hubspot],
            harness.seed_hubspot(hs_person, people.hubspot),
            strict=True,
        )
    )
    # Job title syncs both ways here, so an edit on either side must reach the other.
    object_sync_get_or_create(integration=connected, object_name="contacts")
    mapping_update_rule(
        mapping=FieldMapping.objects.get(
            integration=connected, object="contacts", hubspot_property="jobtitle"
        ),
        rule=SyncRule.TWO_WAY,
    )

    log = tmp_path / "sync_now.log"
    edits: dict[str, str] = {}
    used: set[str] = set()
    history = []
    kills = attempts = 0
    span = MAX_CALLS_BEFORE_KILL  # calls a run may make before its kill
    started = time.monotonic()
    while kills < KILLS:
        attempts += 1
        assert attempts <= KILLS + 10, f"the runs keep ending before the kill: {history}"
        if kills and kills % 5 == 0 and history[-1][0] == "killed":
            edits.update(title_edits(rng, sf_person, hs_person, sf_ids, hs_ids, used, 20))
            span = MAX_CALLS_BEFORE_KILL  # work to do again
        calls = ApiCall.objects.filter(integration=connected)
        before = calls.count()
        target = before + rng.randint(1, span)
        jitter = rng.uniform(0, 0.3)
        process = processes.sync_now(log=log)
        outcome = kill_after(process, calls, target, jitter)
        if outcome == "killed":
            kills += 1
        else:  # ended by itself: it must have run (not found the pair still held), and cleanly
            assert process.returncode == 0, log.read_text()[-3000:]
            # The whole run fit (a converged cycle is short): the next kill comes earlier.
            span = max(1, calls.count() - before - 1)
        history.append((outcome, target, RecordLink.objects.count()))
    killing = time.monotonic() - started
    print(f"\n{kills} kills in {attempts} runs, {killing:.0f} s:", history)

    finals = []
    for _ in range(4):
        assert run_to_end(log) == 0, log.read_text()[-3000:]
        finals.append(SyncRun.objects.order_by("-started_at").first())
        if not harness.writes(finals[-1].counts) and not finals[-1].counts.get("failed"):
            break
    print("final cycles:", [dict(r.counts) for r in finals], "edits:", len(edits))
    assert not harness.writes(finals[-1].counts), "no idle cycle after the kills"

    sf_people, hs_people = harness.read_salesforce(sf_person), harness.read_hubspot(hs_person)
    result = harness.compare(sf_people, hs_people, expected=people.emails)
    assert not result.problems, "\n".join(result.problems)
    assert result.salesforce_count == result.hubspot_count == len(people.emails)
    titles = {p["Email"].lower(): p.get("Title") for p in sf_people}
    lost = {e: (v, titles.get(e)) for e, v in edits.items() if titles.get(e) != v}
    assert not lost, f"{len(lost)} of {len(edits)} edits lost: {list(lost.items())[:5]}"
    assert RecordLink.objects.filter(integration=connected).count() == len(people.emails)
    assert not SyncError.objects.filter(integration=connected, resolved_at__isnull=True).exists()


def kill_a_run(connected, sf_person, log) -> None:
    """Seed a little, start ``sync_now`` and SIGKILL it once it has made a few calls."""
    harness.seed_salesforce(
        sf_person, harness.population(salesforce=300, hubspot=0, seed=SEED).salesforce
    )
    calls = ApiCall.objects.filter(integration=connected)
    process = processes.sync_now(log=log)
    assert kill_after(process, calls, calls.count() + 5, 0.0) == "killed", log.read_text()


def test_the_cycle_after_a_killed_one_can_run(connected, sf_person, tmp_path):
    """The killed cycle's lease doesn't make the next one wait for it to expire."""
    log = tmp_path / "sync_now.log"
    kill_a_run(connected, sf_person, log)
    assert run_to_end(log) == 0, log.read_text()[-2000:]


def test_a_killed_cycle_is_not_shown_as_running_forever(connected, sf_person, tmp_path):
    log = tmp_path / "sync_now.log"
    kill_a_run(connected, sf_person, log)
    assert run_to_end(log) == 0, log.read_text()[-2000:]
    assert list(SyncRun.objects.values_list("status", flat=True)) == ["succeeded", "failed"]
