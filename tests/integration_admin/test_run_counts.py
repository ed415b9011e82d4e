"""Every count a run keeps is shown in people's words on Sync health, unless it is the
engine's own bookkeeping: a count without a label would vanish from the run's details."""

import re
from pathlib import Path

from integration_admin.labels import RUN_COUNT_LABELS, RUN_COUNTS_BOOKKEEPING, run_details

ENGINE = Path(__file__).resolve().parents[2] / "sync_engine"
COUNTED = re.compile(r'counts\["([a-z_]+)"\]')
SKIPPED = re.compile(r'\.skipped\(\s*"([a-z_]+)"')


def engine_count_keys() -> set[str]:
    keys: set[str] = set()
    for path in ENGINE.rglob("*.py"):
        text = path.read_text()
        keys |= set(COUNTED.findall(text))
        keys |= {f"skipped_{reason}" for reason in SKIPPED.findall(text)}
    return keys


def test_every_count_the_engine_keeps_has_a_label_or_is_bookkeeping():
    keys = engine_count_keys()
    assert "links_removed" in keys and "skipped_outside_list" in keys  # the scan finds them
    unlabelled = keys - set(RUN_COUNT_LABELS) - RUN_COUNTS_BOOKKEEPING
    assert not unlabelled, f"counts a run keeps but never shows: {sorted(unlabelled)}"


def test_a_run_that_removed_links_says_so():
    details = run_details({"read_hubspot": 2, "links_removed": 1, "streams_unchanged": 3})
    assert details == "Read from HubSpot: 2 · Links ended: a record was deleted: 1"
