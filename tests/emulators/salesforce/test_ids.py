"""Record ids: 15-character cores, the case-safe checksum suffix, and case restoration."""

from __future__ import annotations

import string

from hypothesis import given
from hypothesis import strategies as st

from emulators.salesforce.ids import checksum, make_id, normalize


def test_known_checksums():
    # Salesforce's own documentation example: 001D000000IqhSL -> 001D000000IqhSLIAZ
    assert checksum("001D000000IqhSL") == "IAZ"
    assert checksum("001000000000000") == "AAA"
    assert checksum("0015g00000AbCdE") == "AAV"
    assert checksum("A0000A0000A0000") == "BBB"
    assert checksum("AAAAAAAAAAAAAAA") == "555"


def test_generated_ids_have_prefix_pod_and_suffix():
    record_id = make_id("003", 1)
    assert len(record_id) == 18
    assert record_id.startswith("0035g0")
    assert record_id[15:] == checksum(record_id[:15])


def test_fifteen_characters_become_eighteen():
    record_id = make_id("001", 123456)
    assert normalize(record_id[:15]) == record_id


def test_malformed_ids():
    for bad in ["", "abc", "001", "0015g0000000001AA", "0015g0000000001!", None, 42, "x" * 19]:
        assert normalize(bad) is None


def test_wrong_case_is_restored_from_the_suffix():
    record_id = make_id("00Q", 987654321)
    assert any(ch.isupper() for ch in record_id[:15])
    assert normalize(record_id.lower()) == record_id
    assert normalize(record_id.upper()) == record_id


def test_suffix_that_flags_a_digit_as_upper_case_is_malformed():
    assert normalize("000000000000000" + "BAA") is None


@given(st.sampled_from(["001", "003", "00Q", "006", "a01"]), st.integers(0, 62**9 - 1))
def test_round_trip(prefix, counter):
    record_id = make_id(prefix, counter)
    assert normalize(record_id) == record_id
    assert normalize(record_id[:15]) == record_id
    assert normalize(record_id.swapcase()[:15] + record_id[15:]) == record_id
    assert set(record_id) <= set(string.ascii_letters + string.digits)
