"""When cycles are due: every minute, stretched so the allocation lasts, in dependency order."""

from datetime import timedelta

from django.utils import timezone

from sync_engine.models import ApiCall, Integration, ObjectSync, SyncRun
from sync_engine.sync.schedule import BASE_INTERVAL, cycle_interval, due_cycles


def calls_left(integration, allocation: int, used: int) -> None:
    """An allocation with ``used`` Salesforce calls spent in the window."""
    Integration.objects.filter(pk=integration.pk).update(salesforce_api_allocation=allocation)
    integration.refresh_from_db()
    ApiCall.objects.bulk_create(
        ApiCall(integration=integration, system="salesforce", operation="query", status=200)
        for _ in range(used)
    )


def ran(integration, name: str, *, seconds_ago: float = 0, calls: int = 10) -> None:
    """A finished cycle of ``name`` that spent ``calls`` Salesforce calls."""
    at = timezone.now() - timedelta(seconds=seconds_ago)
    SyncRun.objects.create(
        integration=integration, object=name, started_at=at, finished_at=at, salesforce_calls=calls
    )


def test_due_pairs_come_in_dependency_order(cycle, integration):
    ObjectSync.objects.update_or_create(
        integration=integration, object="companies", defaults={"enabled": True}
    )
    assert due_cycles() == [(integration.pk, "contacts"), (integration.pk, "companies")]
    SyncRun.objects.create(integration=integration, object="contacts")
    assert due_cycles() == [(integration.pk, "companies")]  # contacts ran less than a minute ago


def test_a_pair_that_started_late_in_the_last_cycle_is_due_at_the_next_tick(cycle, integration):
    # The last tick's cycle reached this pair 2 seconds after the tick; the next tick comes
    # 58 seconds after that start, and the pair runs in it rather than a minute later.
    started = timezone.now() - timedelta(seconds=58)
    SyncRun.objects.create(integration=integration, object="contacts", started_at=started)
    assert due_cycles() == [(integration.pk, "contacts")]
    # A cycle that began 20 seconds ago (Sync now, say) isn't run again at this tick.
    recent = timezone.now() - timedelta(seconds=20)
    SyncRun.objects.create(integration=integration, object="contacts", started_at=recent)
    assert due_cycles() == []


def test_the_interval_stretches_when_the_allocation_would_run_out(cycle, integration):
    assert cycle_interval(integration=integration, object_names=["contacts"]) == BASE_INTERVAL
    calls_left(integration, 1_000, used=900)
    for _ in range(3):  # recent cycles spent 10 calls each
        ran(integration, "contacts")
    # 100 calls left at 10 a cycle: one cycle per 8.64 hours keeps within the window, capped
    # at the longest interval.
    interval = cycle_interval(integration=integration, object_names=["contacts"])
    assert interval > timedelta(minutes=30)


def test_a_stretched_interval_is_never_cut_short_by_the_tick_slack(cycle, integration):
    # 2,700 calls left at 10 a cycle: one cycle per 320 seconds. Rounded up to whole ticks
    # (6 minutes), the half-minute slack still leaves more than 320 seconds between cycles.
    calls_left(integration, 3_000, used=300)
    ran(integration, "contacts", seconds_ago=302)
    interval = cycle_interval(integration=integration, object_names=["contacts"])
    assert interval == timedelta(seconds=320)
    assert due_cycles() == []  # 302 s ago: the next tick, 360 s after, is the one
    SyncRun.objects.filter(integration=integration).update(
        started_at=timezone.now() - timedelta(seconds=335)
    )
    assert due_cycles() == [(integration.pk, "contacts")]


def test_pairs_that_share_a_cycle_share_the_allocation(cycle, integration):
    # Contacts and companies each spent 10 calls a cycle; 2,700 calls are left. Paced as if
    # each had the allocation alone, both would run every 320 s and spend it twice over.
    ObjectSync.objects.update_or_create(
        integration=integration, object="companies", defaults={"enabled": True}
    )
    calls_left(integration, 3_000, used=300)
    for name in ("contacts", "companies"):
        ran(integration, name, seconds_ago=400)
    interval = cycle_interval(integration=integration, object_names=["contacts", "companies"])
    assert interval == timedelta(seconds=640)
    assert due_cycles() == []  # 400 s after the last cycle; the next is due at 11 minutes
    SyncRun.objects.filter(integration=integration).update(
        started_at=timezone.now() - timedelta(seconds=635)
    )
    assert due_cycles() == [(integration.pk, "contacts"), (integration.pk, "companies")]


def test_a_backfills_costly_cycles_dont_stretch_the_idle_cycles_after_it(cycle, integration):
    # The first sync took three costly cycles; the idle cycles since cost a call each. 7,000
    # calls are left: the typical cycle (1 call) may run every minute. Paced by the mean of
    # the last 20 (about 12 calls), it would run every 3 minutes, for nothing.
    calls_left(integration, 8_000, used=1_000)
    for seconds_ago, calls in [(1_200, 80), (1_140, 80), (1_080, 80)]:
        ran(integration, "contacts", seconds_ago=seconds_ago, calls=calls)
    for n in range(17):
        ran(integration, "contacts", seconds_ago=1_000 - 60 * n, calls=1)
    assert cycle_interval(integration=integration, object_names=["contacts"]) == BASE_INTERVAL
    # Costly cycles that keep coming (more than half the recent ones) are the pace.
    for n in range(11):
        ran(integration, "contacts", seconds_ago=30 - n, calls=80)
    interval = cycle_interval(integration=integration, object_names=["contacts"])
    assert interval > timedelta(minutes=10)


def test_cycles_older_than_two_days_no_longer_set_the_pace(cycle, integration):
    """The pace reads the recent runs only (each tick, whatever the history holds): a costly
    week-old backfill counts for nothing."""
    calls_left(integration, 8_000, used=1_000)
    for n in range(20):
        ran(integration, "contacts", seconds_ago=3 * 86_400 + n, calls=80)
    assert cycle_interval(integration=integration, object_names=["contacts"]) == BASE_INTERVAL
    ran(integration, "contacts", seconds_ago=60, calls=80)
    assert cycle_interval(integration=integration, object_names=["contacts"]) > BASE_INTERVAL


def test_the_nightly_clean_up_forgets_runs_past_30_days_but_each_pairs_last_success(
    cycle, integration
):
    from sync_engine.tasks import prune_api_calls

    def run(name: str, days_ago: float, status: str) -> int:
        at = timezone.now() - timedelta(days=days_ago)
        return SyncRun.objects.create(
            integration=integration, object=name, status=status, started_at=at, finished_at=at
        ).pk

    ok, failed, running = SyncRun.Status.SUCCEEDED, SyncRun.Status.FAILED, SyncRun.Status.RUNNING
    contacts_last_success = run("contacts", 32, ok)  # kept: the status bar's "synced … ago"
    run("contacts", 31, failed)
    run("companies", 33, ok)
    run("companies", 32, ok)
    companies_last_success = run("companies", 1, ok)
    still_running = run("deals", 40, running)  # its pair's next cycle ends it (as died)
    prune_api_calls()
    assert set(SyncRun.objects.values_list("pk", flat=True)) == {
        contacts_last_success,
        companies_last_success,
        still_running,
    }
