"""Country and state conversion to Salesforce's standard picklist values (spec §12)."""

import pycountry
import pytest
from hypothesis import given
from hypothesis import strategies as st

from sync_engine.sync.geo import (
    COUNTRIES_WITH_STATES,
    HubSpotMode,
    Place,
    country_code,
    country_name,
    place_for_salesforce,
    state_lookup,
)

CONVERT, AS_IS = HubSpotMode.CONVERT, HubSpotMode.AS_IS


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("NL", "NL"),
        ("nld", "NL"),
        ("Netherlands", "NL"),
        ("Kingdom of the Netherlands", "NL"),
        ("  holland ", "NL"),
        ("USA", "US"),
        ("United States of America", "US"),
        ("U.S.", "US"),
        ("UK", "GB"),
        ("England", "GB"),
        ("Deutschland", "DE"),
        ("South Korea", "KR"),
        ("Taiwan", "TW"),
        ("Türkiye", "TR"),
        ("Turkey", "TR"),
        ("Atlantis", None),
        ("", None),
        (None, None),
    ],
)
def test_country_code_from_codes_names_and_aliases(value, code):
    assert country_code(value) == code


def test_salesforce_names():
    assert country_name("US") == "United States"
    assert country_name("GB") == "United Kingdom"
    assert country_name("TW") == "Taiwan"


def test_state_lookup_by_code_or_name():
    assert state_lookup("US", "ca") == ("CA", "California")
    assert state_lookup("US", "California") == ("CA", "California")
    assert state_lookup("CA", "Quebec") == ("QC", "Quebec")
    assert state_lookup("US", "Atlantis") is None


@pytest.mark.parametrize(
    ("country", "state", "expected"),
    [
        ("usa", "ny", Place("United States", "New York")),
        ("Holland", "Utrecht", Place("Netherlands", None)),  # no states configured: dropped
        ("UK", "Yorkshire", Place("United Kingdom", None)),
        ("Canada", "British Columbia", Place("Canada", "British Columbia")),
        ("US", "Atlantis", Place("United States", "Atlantis")),  # Salesforce will say why
        ("Narnia", "North", Place("Narnia", "North")),
        ("", "", Place(None, None)),
    ],
)
def test_convert_mode(country, state, expected):
    assert place_for_salesforce(country, state, mode=CONVERT) == expected


def test_as_is_mode_sends_hubspot_values_unchanged():
    assert place_for_salesforce("Holland", "Utrecht", mode=AS_IS) == Place("Holland", "Utrecht")


@given(st.sampled_from(list(pycountry.countries)))
def test_every_iso_country_round_trips_through_each_spelling(country):
    for spelling in (country.alpha_2, country.alpha_3, country.name, country_name(country.alpha_2)):
        assert country_code(spelling) == country.alpha_2
        assert country_code(spelling.upper()) == country.alpha_2


@given(st.sampled_from(sorted(COUNTRIES_WITH_STATES)), st.data())
def test_every_configured_state_converts_to_its_name(country, data):
    sub = data.draw(st.sampled_from(list(pycountry.subdivisions.get(country_code=country))))
    short = sub.code.split("-", 1)[1]
    place = place_for_salesforce(country, short, mode=CONVERT)
    assert place.country == country_name(country)
    assert state_lookup(country, place.state)[0] == short
