"""What importing Salesforce records into HubSpot costs, printed as a table (issue #5, "Import").

    python bench/import_salesforce.py [--records 100000] [--rest-records 5000]

Phases, each an ``import_run`` in this process (as a worker runs it) against the emulators in
their own process (``python -m emulators serve --no-persist``, quotas lifted):

1. ``--records`` leads imported into an empty HubSpot: the Bulk API 2.0 read (COUNT(), create,
   poll, one results page per 50,000 rows), HubSpot batch reads by email and upserts of 100;
2. the same import again: everything is linked and unchanged, so nothing is written;
3. ``--rest-records`` contacts: the REST read (SOQL pages of 2,000), for comparison.

For each: Salesforce and HubSpot calls (the import's own count, checked against the engine's
ledger), wall time, records/s and the peak RSS of this process (the worker). Targets: a
100,000-record import costs at most 20 Salesforce calls, and the worker stays under 300 MB.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TARGET_SF_CALLS_100K = 20
TARGET_RSS_MB = 300
PROFILE = False


def _load(name: str):
    spec = importlib.util.spec_from_file_location(f"bench_{name}", ROOT / "bench" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


sync_bench = _load("sync_contacts")  # emulator process, clients, Django setup, RSS helpers


@dataclass
class Row:
    phase: str
    records: int
    method: str
    salesforce_calls: int
    hubspot_calls: int
    ledger_salesforce: int
    ledger_hubspot: int
    seconds: float
    rss_mb: float
    created: int
    updated: int
    skipped: int
    failed: int

    @property
    def rate(self) -> float:
        return self.records / self.seconds if self.seconds else 0.0


def seed(sf, sobject: str, count: int, prefix: str) -> None:
    """``count`` records through sObject Collections (200 per call), generated as they go."""
    batch: list[dict] = []
    for i in range(count):
        record = {
            "attributes": {"type": sobject},
            "FirstName": f"First{i % 97}",
            "LastName": f"{prefix} {i}",
            "Email": f"{prefix.lower()}{i}@import-bench.example",
            "Title": ("Engineer", "Buyer", "CTO", None)[i % 4],
        }
        if sobject == "Lead":
            record["Company"] = f"Company {i % 500}"
        batch.append(record)
        if len(batch) == 200:
            _send(sf, batch)
            batch = []
    if batch:
        _send(sf, batch)


def _send(sf, batch: list[dict]) -> None:
    results = sf.restful(
        "composite/sobjects", method="POST", json={"allOrNone": False, "records": batch}
    )
    failed = [r for r in results if not r.get("success")]
    assert not failed, failed[:2]


def run_import(integration, object_name: str, phase: str) -> Row:
    from sync_engine.imports import import_run, import_start
    from sync_engine.models import ApiCall, System

    def ledger(system: str) -> int:
        return ApiCall.objects.filter(integration=integration, system=system).count()

    before = ledger(System.SALESFORCE), ledger(System.HUBSPOT)
    job = import_start(integration=integration, object_name=object_name, enqueue=False)
    sync_bench.rss_peak_reset()
    started = time.perf_counter()
    last = [0.0]

    def progress(current) -> None:
        now = time.perf_counter()
        if now - last[0] >= 2 or current.status != "running":
            last[0] = now
            total = current.total or 0
            print(
                f"\r  {phase}: {current.processed:,}/{total:,}  SF {current.salesforce_calls}  "
                f"HS {current.hubspot_calls}",
                end="" if sys.stdout.isatty() else "\n",
                flush=True,
            )

    if PROFILE:
        import cProfile
        import pstats

        profiler = cProfile.Profile()
        profiler.runcall(import_run, job=job, progress=progress)
        pstats.Stats(profiler, stream=sys.stderr).sort_stats("cumulative").print_stats(40)
    else:
        import_run(job=job, progress=progress)
    seconds = time.perf_counter() - started
    print()
    job.refresh_from_db()
    assert job.status == "succeeded", job.message
    return Row(
        phase=phase,
        records=job.processed,
        method=job.method,
        salesforce_calls=job.salesforce_calls,
        hubspot_calls=job.hubspot_calls,
        ledger_salesforce=ledger(System.SALESFORCE) - before[0],
        ledger_hubspot=ledger(System.HUBSPOT) - before[1],
        seconds=seconds,
        rss_mb=sync_bench.rss_peak_mb(),
        created=job.created,
        updated=job.updated,
        skipped=job.skipped,
        failed=job.failed,
    )


def _calls(counted: int, ledger: int) -> str:
    return f"{counted:,}" if counted == ledger else f"{counted:,} (ledger {ledger:,})"


def print_table(rows: list[Row], records: int) -> None:
    header = (
        "phase", "records", "read", "SF calls", "HS calls", "seconds", "records/s",
        "peak RSS MB", "created", "updated", "skipped", "failed",
    )  # fmt: skip
    table = [header] + [
        (
            r.phase,
            f"{r.records:,}",
            r.method,
            _calls(r.salesforce_calls, r.ledger_salesforce),
            _calls(r.hubspot_calls, r.ledger_hubspot),
            f"{r.seconds:,.1f}",
            f"{r.rate:,.0f}",
            f"{r.rss_mb:,.0f}",
            f"{r.created:,}",
            f"{r.updated:,}",
            f"{r.skipped:,}",
            f"{r.failed:,}",
        )
        for r in rows
    ]  # fmt: skip
    widths = [max(len(row[i]) for row in table) for i in range(len(header))]
    print()
    for row in table:
        print(
            "  ".join(
                c.ljust(w) if i == 0 else c.rjust(w)
                for i, (c, w) in enumerate(zip(row, widths, strict=True))
            )
        )
    print()
    first = rows[0]
    verdicts = [
        (
            f"{first.phase}: Salesforce calls <= {TARGET_SF_CALLS_100K}",
            first.salesforce_calls <= TARGET_SF_CALLS_100K if first.records >= 100_000 else None,
        ),
        *((f"{r.phase}: peak RSS <= {TARGET_RSS_MB} MB", r.rss_mb <= TARGET_RSS_MB) for r in rows),
        (f"{rows[1].phase}: writes nothing", rows[1].created == rows[1].updated == 0),
    ]
    for what, ok in verdicts:
        verdict = "n/a (needs --records 100000)" if ok is None else "meets" if ok else "MISSES"
        print(f"  {verdict}  {what}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=100_000, help="leads (Bulk read)")
    parser.add_argument("--rest-records", type=int, default=5_000, help="contacts (REST read)")
    parser.add_argument("--profile", action="store_true", help="cProfile each import (stderr)")
    args = parser.parse_args()
    global PROFILE
    PROFILE = args.profile

    workdir = Path(tempfile.mkdtemp(prefix="bench-import-"))
    sync_bench.django_setup(workdir)
    emulators = sync_bench.start_emulators()
    try:
        integration = sync_bench.connect(emulators)
        integration.salesforce_api_allocation = 1_000_000  # the bench measures, it doesn't cap
        integration.save()
        from sync_engine.services import object_sync_get_or_create

        object_sync_get_or_create(integration=integration, object_name="contacts")
        rep, _ = sync_bench.clients(emulators, "sales-rep-token")
        started = time.perf_counter()
        seed(rep, "Lead", args.records, "Lead")
        seed(rep, "Contact", args.rest_records, "Contact")
        print(
            f"seeded {args.records:,} leads and {args.rest_records:,} contacts in "
            f"{time.perf_counter() - started:,.0f} s"
        )
        rows = [
            run_import(integration, "leads", f"{args.records:,} leads"),
            run_import(integration, "leads", "same leads again"),
            run_import(integration, "contacts", f"{args.rest_records:,} contacts"),
        ]
        print_table(rows, args.records)
    finally:
        emulators.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
