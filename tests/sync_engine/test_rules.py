"""The four sync rules of spec §8.2, including blanks, deletions, echoes and conflicts."""

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sync_engine.sync.rules import Decision, Side, SyncRule, merge_field

T0 = datetime(2026, 1, 1, tzinfo=UTC)
EARLY, LATE = T0, T0 + timedelta(minutes=5)
PREFER, ALWAYS = SyncRule.PREFER_SALESFORCE_UNLESS_BLANK, SyncRule.ALWAYS_USE_SALESFORCE
TWO_WAY, NEVER = SyncRule.TWO_WAY, SyncRule.DONT_SYNC


def merge(rule, hs, sf, last, hs_at=None, sf_at=None):
    return merge_field(rule, hubspot=Side(hs, hs_at), salesforce=Side(sf, sf_at), last_synced=last)


@pytest.mark.parametrize(
    ("hs", "sf", "last", "expected"),
    [
        ("a", "b", "a", Decision(to_hubspot="b")),  # Salesforce changed: overwrite HubSpot
        ("b", "a", "a", Decision(to_hubspot="a")),  # HubSpot changed, Salesforce not blank: SF wins
        ("x", "", None, Decision(to_salesforce="x")),  # Salesforce empty: HubSpot fills it
        ("x", "", "", Decision(to_salesforce="x")),
        ("a", "", "a", Decision(to_hubspot="")),  # cleared in Salesforce clears HubSpot
        ("", "a", "a", Decision(to_hubspot="a")),  # cleared in HubSpot does nothing (SF restores)
        ("", "", "a", Decision()),
    ],
)
def test_prefer_salesforce_unless_blank(hs, sf, last, expected):
    assert merge(PREFER, hs, sf, last) == expected


@pytest.mark.parametrize(
    ("hs", "sf", "last", "expected"),
    [
        ("a", "b", "a", Decision(to_hubspot="b")),
        ("b", "a", "a", Decision(to_hubspot="a")),
        ("x", "", None, Decision()),  # never writes to Salesforce, even when it is empty
        ("x", "", "", Decision()),
        ("a", "", "a", Decision(to_hubspot="")),  # cleared in Salesforce clears HubSpot
    ],
)
def test_always_use_salesforce(hs, sf, last, expected):
    assert merge(ALWAYS, hs, sf, last) == expected


@pytest.mark.parametrize(
    ("hs", "sf", "last", "hs_at", "sf_at", "expected"),
    [
        ("b", "a", "a", LATE, EARLY, Decision(to_salesforce="b")),
        ("a", "b", "a", EARLY, LATE, Decision(to_hubspot="b")),
        ("", "a", "a", LATE, None, Decision(to_salesforce="")),  # a delete propagates both ways
        ("a", "", "a", None, LATE, Decision(to_hubspot="")),
        ("h", "s", "a", LATE, EARLY, Decision(to_salesforce="h")),  # conflict: latest wins
        ("h", "s", "a", EARLY, LATE, Decision(to_hubspot="s")),
        ("h", "s", "a", None, None, Decision(to_hubspot="s")),  # unknown times: Salesforce
        ("h", "", None, None, None, Decision(to_salesforce="h")),  # first sync: blank never wins
        ("", "s", None, None, None, Decision(to_hubspot="s")),
    ],
)
def test_two_way(hs, sf, last, hs_at, sf_at, expected):
    assert merge(TWO_WAY, hs, sf, last, hs_at, sf_at) == expected


def test_dont_sync_never_writes():
    assert merge(NEVER, "a", "b", None).is_noop
    assert merge(NEVER, "", "b", "b").is_noop


values = st.sampled_from(["", "a", "b", "c"])


@given(rule=st.sampled_from(list(SyncRule)), value=values, last=st.one_of(st.none(), values))
def test_converged_pairs_and_echoes_write_nothing(rule, value, last):
    # Both sides equal (for instance our own write read back): nothing to do, whatever the rule.
    assert merge(rule, value, value, last).is_noop


@given(
    rule=st.sampled_from(list(SyncRule)), hs=values, sf=values, last=st.one_of(st.none(), values)
)
def test_applying_a_decision_converges_in_one_step(rule, hs, sf, last):
    decision = merge(rule, hs, sf, last, LATE, EARLY)
    new_hs = hs if decision.to_hubspot is None else decision.to_hubspot
    new_sf = sf if decision.to_salesforce is None else decision.to_salesforce
    assert decision.to_hubspot is None or decision.to_salesforce is None  # one direction at most
    if rule is not NEVER and not decision.is_noop:
        assert new_hs == new_sf
        # The next cycle sees a converged pair and writes nothing more.
        assert merge(rule, new_hs, new_sf, new_hs).is_noop
