"""Field-by-field merge of one mapped pair of values, by the mapping's sync rule (spec §8.2).

Values are compared in their HubSpot string form ("" or None is blank). ``last_synced`` is the
value both sides held after the previous successful sync of the pair (None when the pair was
never synced). A side has *changed* when its value differs from ``last_synced``; a side that
still holds ``last_synced`` is either untouched or showing our own write coming back (an echo),
and neither is a reason to write anything.

Decisions nobody documents, chosen as an admin would expect:
- On a pair's first sync, *Always use Salesforce* does not wipe a HubSpot value when the
  Salesforce field is blank; it only clears HubSpot when Salesforce is cleared later.
- *Two-way* with both sides changed to different values: the most recent change wins; on a
  tie, or when a time is unknown, Salesforce wins (it is the system of record for most admins).
  A blank that was never a change (first sync) never beats a value.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class SyncRule(StrEnum):
    PREFER_SALESFORCE_UNLESS_BLANK = "prefer_salesforce_unless_blank"
    ALWAYS_USE_SALESFORCE = "always_use_salesforce"
    TWO_WAY = "two_way"
    DONT_SYNC = "dont_sync"

    @property
    def label(self) -> str:
        return _LABELS[self]

    @classmethod
    def choices(cls) -> list[tuple[str, str]]:
        return [(rule.value, rule.label) for rule in cls]


_LABELS = {
    SyncRule.PREFER_SALESFORCE_UNLESS_BLANK: "Prefer Salesforce unless blank",
    SyncRule.ALWAYS_USE_SALESFORCE: "Always use Salesforce",
    SyncRule.TWO_WAY: "Two-way",
    SyncRule.DONT_SYNC: "Don't sync",
}


@dataclass(frozen=True)
class Side:
    value: str | None
    changed_at: datetime | None = None  # when this side's value last changed, if known


@dataclass(frozen=True)
class Decision:
    """What to write, if anything. ``None`` means leave that side alone; "" means clear it."""

    to_hubspot: str | None = None
    to_salesforce: str | None = None

    @property
    def is_noop(self) -> bool:
        return self.to_hubspot is None and self.to_salesforce is None


NOTHING = Decision()


def is_blank(value: str | None) -> bool:
    return value is None or value == ""


def _norm(value: str | None) -> str:
    return "" if value is None else value


def merge_field(
    rule: SyncRule, *, hubspot: Side, salesforce: Side, last_synced: str | None
) -> Decision:
    hs, sf = _norm(hubspot.value), _norm(salesforce.value)
    if rule == SyncRule.DONT_SYNC or hs == sf:
        return NOTHING
    first_sync = last_synced is None
    base = _norm(last_synced)
    hs_changed = first_sync or hs != base
    sf_changed = first_sync or sf != base

    if rule == SyncRule.PREFER_SALESFORCE_UNLESS_BLANK:
        if sf:
            return Decision(to_hubspot=sf)
        if sf_changed and not first_sync:
            return Decision(to_hubspot="")  # cleared in Salesforce: clear HubSpot too
        # Salesforce is blank and was not just cleared: HubSpot may fill it.
        return Decision(to_salesforce=hs) if hs else NOTHING

    if rule == SyncRule.ALWAYS_USE_SALESFORCE:
        if sf:
            return Decision(to_hubspot=sf)
        return Decision(to_hubspot="") if sf_changed and not first_sync else NOTHING

    # Two-way: a change on one side propagates, blanks included; a conflict goes to the latest.
    if first_sync:
        if not sf:
            return Decision(to_salesforce=hs)
        if not hs:
            return Decision(to_hubspot=sf)
        return latest_wins(hs, sf, hubspot, salesforce)
    if hs_changed and not sf_changed:
        return Decision(to_salesforce=hs)
    if sf_changed and not hs_changed:
        return Decision(to_hubspot=sf)
    return latest_wins(hs, sf, hubspot, salesforce)


def two_way_conflict(hs_value: str, sf_value: str, last: str | None) -> bool:
    """Whether a two-way field is decided by which side changed it last, which needs
    HubSpot's per-property change time: both sides changed it since the last sync, or, on a
    first link, both hold different values."""
    hs, sf = _norm(hs_value), _norm(sf_value)
    if hs == sf:
        return False
    if last is None:
        return bool(hs and sf)
    base = _norm(last)
    return hs != base and sf != base


def latest_wins(hs: str, sf: str, hubspot: Side, salesforce: Side) -> Decision:
    """Both sides changed: the later change wins; a tie, or an unknown time, goes to Salesforce."""
    if hubspot.changed_at and salesforce.changed_at and hubspot.changed_at > salesforce.changed_at:
        return Decision(to_salesforce=hs)
    return Decision(to_hubspot=sf)
