"""What a cycle over every object pair costs, printed as a table (issue #5, "Speed").

    python bench/sync_all.py [--people 2000] [--changes 500]

Every pair is on: companies, contacts (HubSpot creates Salesforce contacts), deals, tickets,
activities (every type, both ways) and a custom object (Salesforce ``Project__c`` ⇄ a HubSpot
``projects`` object). After a warm-up cycle on empty CRMs (it creates the pipelines and key
properties), both sides are filled through the official clients, in batches:

* Salesforce: ``--people / 10`` accounts, ``--people / 2`` contacts (each on an account) and as
  many leads, ``--people / 10`` opportunities with a contact role each, ``--people / 10`` cases
  and tasks, ``--people / 20`` projects;
* HubSpot: ``--people`` contacts, ``--people / 10`` companies, ``--people / 10`` deals in the
  synced pipeline, ``--people / 10`` notes on contacts, ``--people / 20`` projects.

Phases: the initial sync (cycles until one writes nothing), ten quiet minutes (the emulators'
clocks are moved on; one cycle re-reads the last writes inside the cursors' overlap, then the
measured idle cycle comes a minute later, as scheduled), ``--changes`` edits spread over the
objects of both sides (cycles a minute apart from then on; the row after the changes is the
cycles that follow them, until one costs what the idle cycle did: re-reading our own writes),
and ten quiet minutes again. Targets: at most 6 Salesforce and 20
HubSpot calls per 1,000 records, and an idle cycle of 1 Salesforce call. Records are the links
the initial sync made, and the edits for the changes phase. The emulator process, the engine's
database and connection are set up as in ``bench/sync_contacts.py`` (whose helpers this uses).

Under the table, each measured phase's HubSpot floor: the calls no poller can go below for that
work (one read of changes per HubSpot type polled, the engagement types sharing one, and one
write per type written), and so the smallest
cycle the per-1,000 target can be met at.
"""

from __future__ import annotations

import argparse
import copy
import importlib.util
import math
import random
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field, replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TARGET_SF_PER_1000 = 6
TARGET_HS_PER_1000 = 20
TARGET_IDLE_SF = 1
TARGET_RSS_MB = 300


def _load(name: str):
    spec = importlib.util.spec_from_file_location(f"bench_{name}", ROOT / "bench" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while it loads
    spec.loader.exec_module(module)
    return module


base = _load("sync_contacts")  # emulator process, Django set-up, connect, RSS helpers


# --- set-up: tests/sync_engine/everything.py ----------------------------------------------
from tests.sync_engine.everything import (  # noqa: E402
    fill_both_sides,
    switch_everything_on,
)


def edit_both_sides(sf, hs, *, changes: int, seed: int) -> None:
    """Half the edits in Salesforce (accounts, contacts, opportunities, cases, projects), half
    in HubSpot (contacts, companies, deals, projects)."""
    rng = random.Random(seed)
    per_side = changes // 2
    edits = {
        "Account": ("Description", "Rep edit"),
        "Contact": ("Title", "Rep edit"),
        "Opportunity": ("Description", "Rep edit"),
        "Case": ("Subject", "Rep edit"),
        "Project__c": ("Description__c", "Rep edit"),
    }
    share = per_side // len(edits)
    for sobject, (field_name, text) in edits.items():
        ids = [r["Id"] for r in sf.query_all(f"SELECT Id FROM {sobject}")["records"]]  # noqa: S608
        picked = rng.sample(ids, min(share, len(ids)))
        for start in range(0, len(picked), 200):  # a collection holds 200 records
            sf.restful(
                "composite/sobjects",
                method="PATCH",
                json={
                    "allOrNone": True,
                    "records": [
                        {"attributes": {"type": sobject}, "Id": i, field_name: f"{text} {n}"}
                        for n, i in enumerate(picked[start : start + 200], start)
                    ],
                },
            )
    hs_edits = {"contacts": ("jobtitle",), "companies": ("description",), "deals": ("description",)}
    share = per_side // len(hs_edits)
    for object_type, (prop,) in hs_edits.items():
        ids: list[str] = []
        after = None
        while len(ids) < 10 * share:  # enough to pick from, a page of 100 at a time
            qs = {"limit": 100, **({"after": after} if after else {})}
            answer = hs.api_request(
                {"method": "GET", "path": f"/crm/v3/objects/{object_type}", "qs": qs}
            ).json()
            ids += [r["id"] for r in answer["results"]]
            after = ((answer.get("paging") or {}).get("next") or {}).get("after")
            if not after:
                break
        picked = rng.sample(ids, min(share, len(ids)))
        for start in range(0, len(picked), 100):  # a batch holds 100 inputs
            hs.api_request(
                {
                    "method": "POST",
                    "path": f"/crm/v3/objects/{object_type}/batch/update",
                    "body": {
                        "inputs": [{"id": i, "properties": {prop: f"Marketer edit {n}"}}
                                   for n, i in enumerate(picked[start : start + 100], start)]
                    },
                }
            )  # fmt: skip


# --- cycles -----------------------------------------------------------------------------------
@dataclass
class Phase:
    name: str
    records: int = 0
    salesforce_calls: int = 0
    hubspot_calls: int = 0
    seconds: float = 0.0
    rss_mb: float = 0.0
    cycles: int = 0
    notes: list[str] = field(default_factory=list)
    operations: Counter = field(default_factory=Counter)  # HubSpot operation -> calls

    def hubspot_floor(self) -> int:
        """The fewest HubSpot calls any poller needs for these cycles' work: one read of
        changes per HubSpot type it polls (a search; the engagement types share one, the
        engagements change feed) and one write per type written (no batch spans types)."""
        engagements = ("calls.", "emails.", "meetings.", "notes.", "tasks.", "engagements.")
        searched = {op for op in self.operations if op.endswith(".search")}
        searched |= {"engagements.modified_after"} & set(self.operations)
        if any(op.startswith(engagements) for op in searched):  # the feed reads them all
            searched = {op for op in searched if not op.startswith(engagements)} | {"feed"}
        written = {op.split(".")[0] for op in self.operations
                   if op.split(".", 1)[-1].startswith("batch.")
                   and op.split(".")[-1] in ("create", "update", "upsert", "archive")
                   and not op.startswith("associations")}  # fmt: skip
        return len(searched) + len(written)

    def per_1000(self, calls: int) -> float | None:
        return calls * 1000 / self.records if self.records else None


VERBOSE = False
WRITES = ("created_in_hubspot", "updated_in_hubspot", "created_in_salesforce",
          "updated_in_salesforce", "deleted_in_hubspot")  # fmt: skip


def cycle_over_every_pair(integration, phase: Phase) -> bool:
    """One cycle of every pair; True when it wrote and failed nothing."""
    from sync_engine.sync.cycle import sync_cycles_run

    sf_before, hs_before = base.calls_so_far(integration)
    last_call = base.last_call_id(integration)
    base.rss_peak_reset()
    started = time.perf_counter()
    runs = sync_cycles_run(integration=integration, trigger="schedule")
    phase.seconds += time.perf_counter() - started
    sf_after, hs_after = base.calls_so_far(integration)
    phase.salesforce_calls += sf_after - sf_before
    phase.hubspot_calls += hs_after - hs_before
    phase.rss_mb = max(phase.rss_mb, base.rss_peak_mb())
    phase.cycles += 1
    ops = base.operations_since(integration, last_call)
    phase.operations.update({k[3:]: v for k, v in ops.items() if k.startswith("HS ")})
    if VERBOSE:
        print(f"  {phase.name} #{phase.cycles} calls: "
              + ", ".join(f"{k} {v}" for k, v in sorted(ops.items(), key=lambda i: -i[1])),
              file=sys.stderr)  # fmt: skip
    quiet = True
    for run in runs:
        counts = run.counts or {}
        writes = sum(v for k, v in counts.items() if k in WRITES or k.startswith("associations"))
        if run.status != "succeeded":
            print(f"  {run.object}: {run.status} {run.message}", file=sys.stderr)
        if VERBOSE:
            print(f"  {phase.name} #{phase.cycles} {run.object}: {dict(counts)}", file=sys.stderr)
            print(f"    calls: {run_calls(run)}", file=sys.stderr)
        quiet = quiet and run.status == "succeeded" and not writes and not counts.get("failed")
    return quiet


def run_calls(run) -> str:
    """The calls one run made, by system and operation (``--verbose``)."""
    from django.db.models import Count

    from sync_engine.models import ApiCall

    rows = ApiCall.objects.filter(run=run).values("system", "operation").annotate(n=Count("id"))
    return ", ".join(f"{r['system'][:2].upper()} {r['operation']} {r['n']}" for r in rows) or "none"


COUNTED = ("salesforce_calls", "hubspot_calls", "seconds", "cycles", "operations")


def until_quiet(
    integration, name: str, *, records: int | None, max_cycles: int = 8, emulators=None
) -> tuple[Phase, Phase]:
    """Cycles until one neither writes nor fails anything: back to back, or with ``emulators``
    a minute apart, as scheduled. The phase is the cycles that did the work; the quiet one
    that confirms it (which re-reads the cycles' own writes) is returned apart, as in
    ``bench/sync_contacts.py``."""
    phase, quiet = Phase(name), Phase("quiet")
    links_before = base.links_count(integration)
    for n in range(max_cycles):
        if emulators is not None and n:
            a_minute_passes(emulators)
        before = Phase("before")
        for key in COUNTED:
            setattr(before, key, copy.copy(getattr(phase, key)))
        if cycle_over_every_pair(integration, phase):
            if before.cycles:
                for key in ("salesforce_calls", "hubspot_calls", "seconds", "cycles"):
                    setattr(quiet, key, getattr(phase, key) - getattr(before, key))
                quiet.rss_mb = phase.rss_mb
                for key in COUNTED:
                    setattr(phase, key, getattr(before, key))
            break
    phase.records = base.links_count(integration) - links_before if records is None else records
    return phase, quiet


def a_minute_passes(emulators) -> None:
    for side in ("salesforce", "hubspot"):
        emulators.control(side, "/clock", {"advance": 60})


def minutes_after(emulators, integration, name: str, quiet: Phase, idle: Phase) -> Phase:
    """The cycles after a burst of changes, a minute apart as scheduled, from the quiet one
    that confirmed the burst until one costs what an idle cycle does: what re-reading our
    own writes (they are newer than the reads before them) costs on top of the burst."""
    after = replace(quiet, name=name, operations=Counter(quiet.operations))
    last = (quiet.salesforce_calls, quiet.hubspot_calls)
    while last > (idle.salesforce_calls, idle.hubspot_calls) and after.cycles < 8:
        a_minute_passes(emulators)
        before = (after.salesforce_calls, after.hubspot_calls)
        cycle_over_every_pair(integration, after)
        last = (after.salesforce_calls - before[0], after.hubspot_calls - before[1])
    return after


def settle(emulators, integration, name: str) -> Phase:
    """Ten quiet minutes: one cycle re-reads the last writes (they are inside the cursors'
    overlap), then the measured idle cycle a minute later, as the schedule runs them."""
    for side in ("salesforce", "hubspot"):
        emulators.control(side, "/clock", {"advance": 600})
    cycle_over_every_pair(integration, Phase("(re-reads the overlap once)"))
    for side in ("salesforce", "hubspot"):
        emulators.control(side, "/clock", {"advance": 60})
    idle = Phase(name)
    cycle_over_every_pair(integration, idle)
    return idle


def print_state(integration) -> None:
    """Links per pair and open sync errors per type: what the table's records are made of."""
    from django.db.models import Count

    from sync_engine.models import RecordLink, SyncError

    links = RecordLink.objects.filter(integration=integration).values("object", "salesforce_type")
    print("links:", ", ".join(f"{r['object']}/{r['salesforce_type']} {r['n']}" for r in
                              links.annotate(n=Count("id")).order_by("object")))  # fmt: skip
    errors = SyncError.objects.filter(integration=integration, resolved_at__isnull=True)
    by_type = errors.values("object", "error_type").annotate(n=Count("id"))
    print("open errors:", ", ".join(f"{r['object']} {r['error_type']} {r['n']}" for r in by_type)
          or "none")  # fmt: skip
    for error in errors[:5]:
        print(f"  e.g. {error.object} {error.error_type} {error.record_key}: {error.message[:120]}")


def print_table(phases: list[Phase]) -> bool:
    header = ("phase", "cycles", "records", "SF calls", "SF/1k", "HS calls", "HS/1k", "wall s",
              "records/s", "peak RSS MB")  # fmt: skip
    rows = [header]

    def per_1000(p: Phase, calls: int) -> str:
        value = p.per_1000(calls)
        return "–" if value is None else f"{value:.1f}"

    for p in phases:
        rate = p.records / p.seconds if p.records and p.seconds else None
        rows.append(
            (p.name, str(p.cycles), f"{p.records:,}", f"{p.salesforce_calls:,}",
             per_1000(p, p.salesforce_calls),
             f"{p.hubspot_calls:,}",
             per_1000(p, p.hubspot_calls),
             f"{p.seconds:.1f}", "–" if rate is None else f"{rate:,.0f}", f"{p.rss_mb:.0f}")
        )  # fmt: skip
    rows.append(("target", "", "", "", f"≤ {TARGET_SF_PER_1000}", "", f"≤ {TARGET_HS_PER_1000}",
                 "", "", f"≤ {TARGET_RSS_MB}"))  # fmt: skip
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    print()
    for n, row in enumerate(rows):
        if n in (1, len(rows) - 1):
            print("  ".join("-" * w for w in widths))
        print("  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in
                        enumerate(zip(row, widths, strict=True))))  # fmt: skip
    print()
    verdicts = []
    for p in phases:
        if p.records:
            verdicts.append(
                (f"{p.name}: SF/1k", p.per_1000(p.salesforce_calls) <= TARGET_SF_PER_1000)
            )
            verdicts.append((f"{p.name}: HS/1k", p.per_1000(p.hubspot_calls) <= TARGET_HS_PER_1000))
        elif "idle" in p.name:
            verdicts.append((f"{p.name}: SF calls", p.salesforce_calls <= TARGET_IDLE_SF))
        verdicts.append((f"{p.name}: peak RSS", p.rss_mb <= TARGET_RSS_MB))
    for label, ok in verdicts:
        print(f"  {'met ' if ok else 'MISSED'}  {label}")
    print()
    for p in phases:
        if p.records and p.cycles:
            floor = p.hubspot_floor()
            print(f"  {p.name}: HubSpot floor {floor} calls ({floor * 1000 / p.records:.1f}/1k):"
                  f" one read of changes per type polled (one for all engagement types) and"
                  f" one write per type written, per cycle;"
                  f" {TARGET_HS_PER_1000}/1k needs at least"
                  f" {math.ceil(floor * 1000 / TARGET_HS_PER_1000):,} records a cycle")  # fmt: skip
    return all(ok for _, ok in verdicts)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--people", type=int, default=2_000)
    parser.add_argument("--changes", type=int, default=500)
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--verbose", action="store_true", help="print every run's counts")
    args = parser.parse_args()
    global VERBOSE
    VERBOSE = args.verbose

    emulators = base.start_emulators()
    try:
        workdir = Path(tempfile.mkdtemp(prefix="bench-sync-all-"))
        base.django_setup(workdir)
        integration = base.connect(emulators)
        sf, hs = base.clients(emulators, "bench-person")
        projects_type = switch_everything_on(integration, hs)
        warm_up = Phase("warm-up (empty CRMs)")
        cycle_over_every_pair(integration, warm_up)
        print(f"filling both CRMs ({args.people:,} people each side and the rest)...")
        fill_both_sides(sf, hs, people=args.people, projects_type=projects_type, seed=args.seed)
        initial, _ = until_quiet(integration, "initial sync", records=None)
        idle_after_initial = settle(emulators, integration, "idle, 10 quiet minutes later")
        edit_both_sides(sf, hs, changes=args.changes, seed=args.seed + 1)
        a_minute_passes(emulators)  # the next scheduled cycle
        changes, quiet = until_quiet(
            integration, f"{args.changes} changes", records=args.changes, emulators=emulators
        )
        after = minutes_after(
            emulators, integration, "then a cycle a minute, until one costs as little",
            quiet, idle_after_initial,
        )  # fmt: skip
        idle = settle(emulators, integration, "idle, 10 quiet minutes after the changes")
        print_state(integration)
        ok = print_table([warm_up, initial, idle_after_initial, changes, after, idle])
    finally:
        emulators.stop()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
