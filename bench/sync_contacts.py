"""How fast and how frugal the contact sync is, printed as a table (issue #3, "Speed").

    python bench/sync_contacts.py [--people 10000] [--changes 500] [--shared 0.3]
                                  [--emulator-rate N] [--profile PHASE]
                                  [--latency SECONDS] [--no-read-ahead]

Phases: an initial two-way sync of ``--people`` Salesforce leads and contacts and ``--people``
HubSpot contacts (``--shared`` of HubSpot's emails also in Salesforce), cycle after cycle until
one writes nothing; then ``--changes`` edits on each side (a sales rep retitles leads and
contacts, a marketer retitles contacts, with their own tokens) synced the same way; then an
idle cycle right away, and another after ten quiet minutes (the emulators' clocks are moved on).
For each: Salesforce and HubSpot calls (the engine's own ledger), wall time, records/s and the
peak RSS of this process, which runs the engine.

The emulators run in their own process (``python -m emulators serve --no-persist``) with their
quotas lifted, as in ``bench/emulators.py``; the engine runs here, on a throwaway SQLite
database in WAL mode (``--sqlite-rollback-journal`` for SQLite's default, an fsync per
commit), connected the way ``manage.py connect`` does it. The records/s target is half of the
emulators' batch-write throughput through the official clients, measured first on a separate
emulator process with ``bench/emulators.py``'s own functions (or given with
``--emulator-rate``).

``--latency`` makes each emulator wait that long before answering every request, as a real
network and CRM would: the change reads send for their next page while the engine handles the
current one (``sync_engine/connectors/ahead.py``), and ``--no-read-ahead`` switches that off to
see what it hides.

"Records synced" is the people linked by the phase (initial sync) or the records edited
(changes); the call targets are per 1,000 of those.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import importlib.util
import os
import pstats
import random
import re
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TARGET_SF_PER_1000 = 6
TARGET_HS_PER_1000 = 20
TARGET_IDLE_SF = 1
TARGET_RSS_MB = 300


def _load_emulator_bench():
    spec = importlib.util.spec_from_file_location(
        "bench_emulators", ROOT / "bench" / "emulators.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


emu_bench = _load_emulator_bench()


# --- the emulators ----------------------------------------------------------------------------
@dataclass
class EmulatorProcess:
    process: subprocess.Popen
    sf_url: str
    hs_url: str
    ca_path: Path
    session: requests.Session

    def control(self, side: str, path: str, payload: dict) -> dict:
        url = (self.sf_url if side == "salesforce" else self.hs_url) + "/__emulator__" + path
        response = self.session.post(url, json=payload, timeout=30)
        response.raise_for_status()
        return response.json()

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)


def start_emulators() -> EmulatorProcess:
    sf_port, hs_port = emu_bench.free_port(), emu_bench.free_port()
    data_dir = Path(tempfile.mkdtemp(prefix="bench-sync-emulators-"))
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "emulators",
            "serve",
            "--salesforce-port",
            str(sf_port),
            "--hubspot-port",
            str(hs_port),
            "--data-dir",
            str(data_dir),
            "--no-persist",
        ],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
    )
    session = requests.Session()
    session.trust_env = False
    session.verify = str(data_dir / "ca.pem")
    emulators = EmulatorProcess(
        process, f"https://127.0.0.1:{sf_port}", f"http://127.0.0.1:{hs_port}", data_dir / "ca.pem",
        session,
    )  # fmt: skip
    emu_bench.wait_until_up(emulators.hs_url, session)
    emu_bench.wait_until_up(emulators.sf_url, session)
    # Only the engine's own behaviour may limit it here, not the emulated quotas.
    emulators.control("salesforce", "/budget", {"max": 100_000_000})
    emulators.control(
        "hubspot",
        "/budget",
        {"daily": 100_000_000, "per_ten_seconds": 10_000_000, "search_per_second": 1_000_000},
    )
    return emulators


def clients(emulators: EmulatorProcess, token: str):
    from hubspot import HubSpot
    from simple_salesforce import Salesforce

    session = requests.Session()
    session.trust_env = False
    session.verify = str(emulators.ca_path)
    sf = Salesforce(instance_url=emulators.sf_url, session_id=token, session=session)
    hs = HubSpot(access_token=token, host=emulators.hs_url, base_url=emulators.hs_url)
    return sf, hs


def emulator_batch_rate(sample: int = 5_000) -> tuple[float, list[tuple[str, str, str]]]:
    """The slowest batch-write rate of either emulator through the official clients
    (``sample`` writes of each kind, ``2 * sample`` records stored)."""
    emulators = start_emulators()
    try:
        sf, hs = clients(emulators, "bench")
        rows = emu_bench.bench_salesforce(sf, 2 * sample, sample)
        rows += emu_bench.bench_hubspot(hs, 2 * sample, sample)
    finally:
        emulators.stop()
    rates = [
        float(re.sub(r"[^\d.]", "", result))
        for _, measure, result in rows
        if result.endswith("records/s") and "raw HTTP" not in measure
    ]
    return min(rates), rows


# --- memory -----------------------------------------------------------------------------------
def rss_peak_reset() -> None:
    """Start a new peak (Linux: writing 5 to clear_refs resets VmHWM)."""
    with contextlib.suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")


def rss_peak_mb() -> float:
    return emu_bench.rss_mb(os.getpid())


def cpu_seconds(pid: int | None = None) -> float:
    """User + system CPU time of a process (this one by default): on a busy machine, wall
    time says little about where the time went."""
    if pid is None:
        return time.process_time()
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# --- the engine -------------------------------------------------------------------------------
def django_setup(workdir: Path, *, rollback_journal: bool = False) -> None:
    os.environ["VAR_DIR"] = str(workdir / "var")
    os.environ["DATABASE_URL"] = f"sqlite:///{workdir / 'engine.sqlite3'}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "integration_admin.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    # The bench's HubSpot emulator admits unlimited searches (``start_emulators``): the
    # engine's pacing to HubSpot's 5 a second follows it, so the bench times the engine.
    os.environ.setdefault("HUBSPOT_SEARCHES_PER_SECOND", "1000000")
    import django
    from django.core.management import call_command
    from django.db.backends.signals import connection_created

    def write_ahead_log(sender, connection, **kwargs) -> None:
        # SQLite's default rollback journal fsyncs every commit (~13 ms on this disk), and
        # the ledger commits twice per API call: the bench would time the disk, not the
        # engine (a PostgreSQL commit, as deployed, costs about a millisecond).
        if connection.vendor == "sqlite":
            with connection.cursor() as cursor:
                cursor.execute("PRAGMA journal_mode=WAL")
                cursor.execute("PRAGMA synchronous=NORMAL")

    if not rollback_journal:
        connection_created.connect(write_ahead_log, weak=False)
    django.setup()
    call_command("migrate", verbosity=0)


def connect(emulators: EmulatorProcess):
    from sync_engine.services import integration_connect

    integration = integration_connect(
        salesforce_url=emulators.sf_url,
        salesforce_token="integration-user-token",
        salesforce_ca=emulators.ca_path.read_text(),
        hubspot_url=emulators.hs_url,
        hubspot_token="integration-app-token",
    )
    # A backfill of this size needs more than the default 10,000-call allocation's 75% retry
    # ceiling would ever matter for; keep the default: the bench shows what it costs.
    return integration


@dataclass
class Cycle:
    status: str
    writes: int
    failed: int
    salesforce_calls: int
    hubspot_calls: int
    seconds: float
    rss_mb: float
    links: int  # links after the cycle
    operations: dict[str, int]  # "system operation" -> calls
    engine_cpu: float = 0.0  # CPU seconds of this process (the engine)
    emulator_cpu: float = 0.0  # CPU seconds of the emulators' process

    @property
    def quiet(self) -> bool:
        return self.status == "succeeded" and not self.writes and not self.failed


@dataclass
class Phase:
    name: str
    cycles: list[Cycle]
    records: int

    @property
    def salesforce_calls(self) -> int:
        return sum(c.salesforce_calls for c in self.cycles)

    @property
    def hubspot_calls(self) -> int:
        return sum(c.hubspot_calls for c in self.cycles)

    @property
    def seconds(self) -> float:
        return sum(c.seconds for c in self.cycles)

    @property
    def rss_mb(self) -> float:
        return max(c.rss_mb for c in self.cycles)

    @property
    def engine_cpu(self) -> float:
        return sum(c.engine_cpu for c in self.cycles)

    @property
    def emulator_cpu(self) -> float:
        return sum(c.emulator_cpu for c in self.cycles)

    @property
    def rate(self) -> float:
        return self.records / self.seconds if self.seconds else 0.0

    def per_1000(self, calls: int) -> float | None:
        return calls * 1000 / self.records if self.records else None

    def operations(self) -> str:
        total: dict[str, int] = {}
        for cycle in self.cycles:
            for name, n in cycle.operations.items():
                total[name] = total.get(name, 0) + n
        return ", ".join(f"{name} {n}" for name, n in sorted(total.items(), key=lambda i: -i[1]))

    def describe(self) -> str:
        return "; ".join(
            f"{c.status}, {c.writes:,} writes, {c.salesforce_calls}+{c.hubspot_calls} calls, "
            f"{c.seconds:.1f} s (CPU: engine {c.engine_cpu:.1f} s, emulators "
            f"{c.emulator_cpu:.1f} s)"
            for c in self.cycles
        )


def calls_so_far(integration) -> tuple[int, int]:
    from sync_engine.models import ApiCall

    calls = ApiCall.objects.filter(integration=integration)
    return calls.filter(system="salesforce").count(), calls.filter(system="hubspot").count()


def last_call_id(integration) -> int:
    from sync_engine.models import ApiCall

    last = ApiCall.objects.filter(integration=integration).order_by("-id").first()
    return last.id if last else 0


def operations_since(integration, call_id: int) -> dict[str, int]:
    from django.db.models import Count

    from sync_engine.models import ApiCall

    rows = (
        ApiCall.objects.filter(integration=integration, id__gt=call_id)
        .values("system", "operation")
        .annotate(n=Count("id"))
    )
    return {
        f"{'SF' if r['system'] == 'salesforce' else 'HS'} {r['operation']}": r["n"] for r in rows
    }


def links_count(integration) -> int:
    from sync_engine.models import RecordLink

    return RecordLink.objects.filter(integration=integration).count()


EMULATOR_PID: int | None = None  # set by main(): the emulators' process, for its CPU time


def run_cycle(integration, profiler: cProfile.Profile | None = None) -> Cycle:
    import gc

    from sync_engine.sync.cycle import sync_cycles_run

    gc.collect()
    rss_peak_reset()
    sf_before, hs_before = calls_so_far(integration)
    last_call = last_call_id(integration)
    emulator_cpu = cpu_seconds(EMULATOR_PID) if EMULATOR_PID else 0.0
    engine_cpu = cpu_seconds()
    started = time.perf_counter()
    if profiler:
        profiler.enable()
    # As the worker runs a cycle: behind the change probe.
    (run,) = sync_cycles_run(integration=integration, object_names=["contacts"], trigger="schedule")
    if profiler:
        profiler.disable()
    seconds = time.perf_counter() - started
    engine_cpu = cpu_seconds() - engine_cpu
    emulator_cpu = (cpu_seconds(EMULATOR_PID) - emulator_cpu) if EMULATOR_PID else 0.0
    sf_after, hs_after = calls_so_far(integration)
    if run.status != "succeeded":
        print(f"  cycle {run.status}: {run.message}", file=sys.stderr)
    counts = run.counts or {}
    return Cycle(
        status=run.status,
        writes=_writes(counts),
        failed=counts.get("failed", 0),
        salesforce_calls=sf_after - sf_before,
        hubspot_calls=hs_after - hs_before,
        seconds=seconds,
        rss_mb=rss_peak_mb(),
        links=links_count(integration),
        operations=operations_since(integration, last_call),
        engine_cpu=engine_cpu,
        emulator_cpu=emulator_cpu,
    )


def sync_until_quiet(
    name: str,
    integration,
    *,
    records: int | None,
    max_cycles: int = 6,
    profile: bool = False,
    profile_out: str | None = None,
) -> tuple[Phase, Cycle | None]:
    """Cycles until one neither writes nor fails anything. The phase is the cycles that did
    the work; the quiet one that confirms it is returned apart (it is an idle cycle). With
    ``records=None`` the phase's records are the people it linked."""
    links_before = links_count(integration)
    # CPU time by default: on a shared machine, wall time mostly measures the neighbours.
    clock = (
        time.perf_counter if os.environ.get("BENCH_PROFILE_CLOCK") == "wall" else time.process_time
    )
    profiler = cProfile.Profile(clock) if profile else None
    cycles: list[Cycle] = []
    while len(cycles) < max_cycles:
        # Only the first cycle is profiled (later ones are usually the confirming idle one).
        cycles.append(run_cycle(integration, None if cycles else profiler))
        if cycles[-1].quiet:
            break
    if profiler:
        if profile_out:
            profiler.dump_stats(profile_out)
            print(f"profile written to {profile_out}", file=sys.stderr)
        stats = pstats.Stats(profiler, stream=sys.stderr)
        stats.sort_stats("cumulative").print_stats(40)
        stats.sort_stats("tottime").print_stats(30)
    quiet = cycles.pop() if len(cycles) > 1 and cycles[-1].quiet else None
    linked = cycles[-1].links - links_before
    return Phase(name, cycles, linked if records is None else records), quiet


def minutes_of_idle(emulators: EmulatorProcess, integration, minutes: int = 5) -> list[Cycle]:
    """A cycle a minute, as scheduled, with the emulators' clocks moved on a minute each time
    (the engine's cursors follow the CRMs' clocks)."""
    cycles = []
    for _ in range(minutes):
        for side in ("salesforce", "hubspot"):
            emulators.control(side, "/clock", {"advance": 60})
        cycles.append(run_cycle(integration))
    return cycles


def _writes(counts: dict) -> int:
    return sum(
        counts.get(k, 0)
        for k in (
            "created_in_hubspot",
            "updated_in_hubspot",
            "created_in_salesforce",
            "updated_in_salesforce",
        )
    )


def edit_both_sides(sf, hs, *, changes: int, seed: int) -> None:
    """A sales rep retitles ``changes`` Salesforce people; a marketer ``changes`` other HubSpot
    contacts (their own tokens, so the edits look like people's)."""
    from hubspot.crm.contacts import BatchInputSimplePublicObjectBatchInput

    from tests.sync_engine.engine_harness import chunks

    rng = random.Random(seed)
    people = [
        (r["Id"], r["Email"])
        for sobject in ("Lead", "Contact")
        for r in sf.query_all(
            f"SELECT Id, Email FROM {sobject}"  # noqa: S608
            + (" WHERE IsConverted = false" if sobject == "Lead" else "")
        )["records"]
    ]
    picked = rng.sample(people, changes)
    taken = {email.lower() for _, email in picked}
    for prefix in ("00Q", "003"):
        records = [
            {"attributes": {"type": "Lead" if prefix == "00Q" else "Contact"}, "Id": i,
             "Title": f"Rep edit {n}"}
            for n, (i, _) in enumerate(picked) if i.startswith(prefix)
        ]  # fmt: skip
        for batch in chunks(records, 200):
            sf.restful(
                "composite/sobjects", method="PATCH", json={"allOrNone": True, "records": batch}
            )
    contacts = []
    after = None
    while True:
        page = hs.crm.contacts.basic_api.get_page(limit=100, after=after, properties=["email"])
        contacts += [str(o.id) for o in page.results if o.properties["email"] not in taken]
        after = page.paging.next.after if page.paging and page.paging.next else None
        if not after:
            break
    inputs = [
        {"id": i, "properties": {"jobtitle": f"Marketer edit {n}"}}
        for n, i in enumerate(rng.sample(contacts, changes))
    ]
    for batch in chunks(inputs, 100):
        hs.crm.contacts.batch_api.update(BatchInputSimplePublicObjectBatchInput(inputs=batch))


# --- the table --------------------------------------------------------------------------------
def print_table(phases: list[Phase], target_rate: float | None, reference: str) -> None:
    def fmt(value, spec=",.0f"):
        return "–" if value is None else format(value, spec)

    header = (
        "phase", "cycles", "records", "SF calls", "SF/1k", "HS calls", "HS/1k", "wall s",
        "records/s", "peak RSS MB",
    )  # fmt: skip
    rows = [header]
    for p in phases:
        rows.append(
            (
                p.name, str(len(p.cycles)), f"{p.records:,}", f"{p.salesforce_calls:,}",
                fmt(p.per_1000(p.salesforce_calls), ".1f"), f"{p.hubspot_calls:,}",
                fmt(p.per_1000(p.hubspot_calls), ".1f"), f"{p.seconds:.1f}",
                fmt(p.rate if p.records else None), f"{p.rss_mb:.0f}",
            )
        )  # fmt: skip
    rows.append(
        (
            "target", "", "", "", f"≤ {TARGET_SF_PER_1000}", "", f"≤ {TARGET_HS_PER_1000}", "",
            f"≥ {target_rate:,.0f}" if target_rate else "?", f"≤ {TARGET_RSS_MB}",
        )
    )  # fmt: skip
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    line = "  ".join("-" * w for w in widths)
    print()
    for n, row in enumerate(rows):
        if n in (1, len(rows) - 1):
            print(line)
        print(
            "  ".join(
                c.ljust(w) if i == 0 else c.rjust(w)
                for i, (c, w) in enumerate(zip(row, widths, strict=True))
            )
        )
    print()
    print(f"records/s target: half of {reference}.")
    print(
        f"idle cycle target: {TARGET_IDLE_SF} Salesforce call (and at most 1 HubSpot call), "
        "once cycles a minute apart have passed the 2-minute overlap that covers late commits."
    )
    print("records: people linked (initial sync), records edited (changes).")
    print()
    verdicts = []
    for p in phases:
        if p.records:
            verdicts.append(
                (
                    f"{p.name}: Salesforce calls per 1,000",
                    p.per_1000(p.salesforce_calls) <= TARGET_SF_PER_1000,
                )
            )
            verdicts.append(
                (
                    f"{p.name}: HubSpot calls per 1,000",
                    p.per_1000(p.hubspot_calls) <= TARGET_HS_PER_1000,
                )
            )
            if target_rate:
                verdicts.append((f"{p.name}: records/s", p.rate >= target_rate))
        elif "right after" in p.name:
            continue  # re-reads the overlap window (late commits): no target
        else:
            verdicts.append((f"{p.name}: Salesforce calls", p.salesforce_calls <= TARGET_IDLE_SF))
            verdicts.append((f"{p.name}: HubSpot calls", p.hubspot_calls <= 1))
        verdicts.append((f"{p.name}: peak RSS", p.rss_mb <= TARGET_RSS_MB))
    for what, ok in verdicts:
        print(f"  {'meets' if ok else 'MISSES'}  {what}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=10_000, help="per side")
    parser.add_argument("--changes", type=int, default=500, help="edits per side")
    parser.add_argument("--shared", type=float, default=0.3)
    parser.add_argument("--emulator-rate", type=float, help="skip measuring it (records/s)")
    parser.add_argument(
        "--profile", choices=["initial", "changes"], help="cProfile one phase (to stderr)"
    )
    parser.add_argument("--profile-out", help="also write that profile's stats to this file")
    parser.add_argument(
        "--sqlite-rollback-journal",
        action="store_true",
        help="keep SQLite's default journal (an fsync per commit) instead of WAL",
    )
    parser.add_argument(
        "--latency", type=float, default=0.0, help="seconds each emulator answer waits"
    )
    parser.add_argument(
        "--no-read-ahead", action="store_true", help="read each next page only when asked"
    )
    args = parser.parse_args()

    reference = "the emulators' slowest batch write through the official clients"
    if args.emulator_rate:
        rate = args.emulator_rate
        reference += f" ({rate:,.0f} records/s, given)"
    else:
        rate, rows = emulator_batch_rate()
        print("emulator batch endpoints (bench/emulators.py):")
        for system, measure, result in rows:
            if result.endswith("records/s"):
                print(f"  {system:<10} {measure:<50} {result}")
        reference += f" ({rate:,.0f} records/s)"

    workdir = Path(tempfile.mkdtemp(prefix="bench-sync-contacts-"))
    django_setup(workdir, rollback_journal=args.sqlite_rollback_journal)
    from tests.sync_engine import engine_harness as harness

    emulators = start_emulators()
    global EMULATOR_PID
    EMULATOR_PID = emulators.process.pid
    try:
        integration = connect(emulators)
        sf_rep, hs_rep = clients(emulators, "sales-rep-token")
        _, hs_marketer = clients(emulators, "marketer-token")
        people = harness.population(
            salesforce=args.people, hubspot=args.people, shared=args.shared, seed=1
        )
        started = time.perf_counter()
        harness.seed_salesforce(sf_rep, people.salesforce)
        harness.seed_hubspot(hs_marketer, people.hubspot)
        if args.latency:
            for side in ("salesforce", "hubspot"):
                emulators.control(side, "/faults", {"delay": args.latency})
        if args.no_read_ahead:
            from sync_engine.connectors import ahead

            ahead.ENABLED = False
        print(
            f"seeded {len(people.salesforce):,} Salesforce leads and contacts and "
            f"{len(people.hubspot):,} HubSpot contacts ({len(people.emails):,} people) in "
            f"{time.perf_counter() - started:.1f} s"
        )

        initial, confirm = sync_until_quiet(
            "initial sync",
            integration,
            records=None,
            profile=args.profile == "initial",
            profile_out=args.profile_out,
        )
        phases = [initial, Phase("idle, right after it", [confirm], 0)] if confirm else [initial]
        settle = minutes_of_idle(emulators, integration)
        phases.append(Phase("idle, 5 min later", [settle[-1]], 0))

        edit_both_sides(sf_rep, hs_marketer, changes=args.changes, seed=2)
        changes, confirm = sync_until_quiet(
            f"{args.changes:,} changes per side",
            integration,
            records=2 * args.changes,
            profile=args.profile == "changes",
            profile_out=args.profile_out,
        )
        phases += [changes, Phase("idle, right after it", [confirm], 0)] if confirm else [changes]
        steady = minutes_of_idle(emulators, integration)
        phases.append(Phase("idle, 5 min later", [steady[-1]], 0))

        print("cycles (SF+HS calls):")
        for p in phases:
            if "5 min" not in p.name:
                print(f"  {p.name}: {p.describe()}")
                print(f"    calls: {p.operations()}")
        for label, cycles in (("initial sync", settle), ("changes", steady)):
            print(
                f"  idle cycles a minute apart after the {label}: "
                + ", ".join(f"{c.salesforce_calls}+{c.hubspot_calls}" for c in cycles)
            )
        result = harness.compare(
            harness.read_salesforce(sf_rep), harness.read_hubspot(hs_rep), expected=people.emails
        )
        print("both sides agree" if not result.problems else "\n".join(result.problems))
    finally:
        emulators.stop()
    print_table(phases, rate / 2, reference)
    return 0


if __name__ == "__main__":
    sys.exit(main())
