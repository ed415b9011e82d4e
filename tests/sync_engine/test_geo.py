"""Country and state conversion to Salesforce's standard picklist values (spec §12)."""

import base64
import unicodedata

import pycountry
import pytest
from hypothesis import given
from hypothesis import strategies as st

from sync_engine.sync.geo import (
    COUNTRIES_WITH_STATES,
    STANDARD_STATES,
    HubSpotMode,
    Picklists,
    Place,
    address_picklist_describe,
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
def test_every_configured_state_converts_to_salesforces_name(country, data):
    """Salesforce's standard names, not ISO's: "Gujarat" (ISO: Gujarāt), "Rome" (Roma)."""
    code, name = data.draw(st.sampled_from(sorted(STANDARD_STATES[country].items())))
    plain = "".join(c for c in unicodedata.normalize("NFKD", name) if c.isascii())
    for spelling in (code, code.lower(), name, name.upper(), plain):
        place = place_for_salesforce(country, spelling, mode=CONVERT)
        assert place == Place(country_name(country), name), spelling


@given(st.sampled_from(sorted(COUNTRIES_WITH_STATES)), st.data())
def test_iso_states_convert_to_salesforces_name_when_salesforce_has_them(country, data):
    sub = data.draw(st.sampled_from(list(pycountry.subdivisions.get(country_code=country))))
    place = place_for_salesforce(country, sub.code, mode=CONVERT)
    assert place.state in {*STANDARD_STATES[country].values(), sub.code}


def _bitmap(*indexes: int) -> str:
    bits = bytearray(3)
    for i in indexes:
        bits[i >> 3] |= 0x80 >> (i & 7)
    return base64.b64encode(bytes(bits)).decode()


def _org() -> Picklists:
    """An org's describe, as Salesforce sends it: states depend on the country code through
    ``validFor`` bitmaps over the country picklist's values (CN, CZ, JP, NL, US, MX); one
    code may stand for states of several countries."""
    countries = ["CN", "CZ", "JP", "NL", "US", "MX"]
    country = {
        "name": "BillingCountryCode",
        "type": "picklist",
        "picklistValues": [
            {"value": c, "label": label, "active": True, "validFor": None}
            for c, label in zip(
                countries,
                ["China", "Czechia", "Japan", "Netherlands", "United States", "Mexico"],
                strict=True,
            )
        ],
    }
    state = {
        "name": "BillingStateCode",
        "type": "picklist",
        "dependentPicklist": True,
        "controllerName": "BillingCountryCode",
        "picklistValues": [
            {"value": "34", "label": "Anhui", "active": True, "validFor": _bitmap(0)},
            {"value": "13", "label": "Tokyo", "active": True, "validFor": _bitmap(2)},
            {"value": "27", "label": "Osaka", "active": True, "validFor": _bitmap(2)},
            {"value": "NY", "label": "New York", "active": True, "validFor": _bitmap(4)},
            {"value": "JA", "label": "Jiangsu", "active": True, "validFor": _bitmap(0)},
            {"value": "JA", "label": "Jalisco", "active": True, "validFor": _bitmap(5)},
            {"value": "XX", "label": "Retired", "active": False, "validFor": _bitmap(4)},
        ],
    }
    fields = {f["name"]: f for f in (country, state)}
    kept = {name: address_picklist_describe(f, fields) for name, f in fields.items()}
    return Picklists.from_describe(kept["BillingCountryCode"], kept["BillingStateCode"])


def test_the_describe_keeps_each_states_countries_and_nothing_for_other_fields():
    org = _org()
    assert org.states == {
        "CN": {"34": "Anhui", "JA": "Jiangsu"},
        "JP": {"13": "Tokyo", "27": "Osaka"},
        "US": {"NY": "New York"},
        "MX": {"JA": "Jalisco"},
    }
    assert address_picklist_describe({"name": "Industry", "type": "picklist"}, {}) == {}


def test_the_orgs_configuration_says_which_countries_have_states():
    """Japan has prefectures in this org (not in the standard nine); the Netherlands none."""
    org = _org()
    assert "JP" not in COUNTRIES_WITH_STATES
    assert place_for_salesforce("Japan", "Tokyo", mode=CONVERT, picklists=org) == Place(
        "Japan", "Tokyo"
    )
    assert place_for_salesforce("Holland", "Utrecht", mode=CONVERT, picklists=org) == Place(
        "Netherlands", None
    )
    # Without the org's configuration, the standard one: Japan's state is dropped.
    assert place_for_salesforce("Japan", "Tokyo", mode=CONVERT) == Place("Japan", None)


def test_states_are_the_orgs_codes_and_names_found_from_any_spelling():
    org = _org()
    assert org.state("JP", "tokyo") == ("13", "Tokyo")
    assert org.state("JP", "27") == ("27", "Osaka")
    assert org.state("JP", "JP-27") == ("27", "Osaka")  # ISO's code, matched by its name
    assert org.state("CN", "Anhui") == ("34", "Anhui")  # ISO says "AH", "Anhui Sheng"
    assert org.state("CN", "ja") == ("JA", "Jiangsu")
    assert org.state("MX", "JA") == ("JA", "Jalisco")
    assert org.state("US", "Tokyo") is None  # not a state of that country
    assert org.state("US", "Retired") is None  # inactive


def test_countries_are_the_orgs_names():
    org = _org()
    assert org.country_name("CZ") == "Czechia"
    assert org.country_code("czechia") == "CZ"
    assert org.country_code("Czech Republic") == "CZ"
    assert org.country_code("Côte d'Ivoire") == country_code("Cote d'Ivoire") == "CI"


def test_a_describe_without_dependencies_falls_back_to_the_standard_states():
    fallback = Picklists.from_describe({"labels": {"JP": "Japan"}}, {"labels": {"13": "Tokyo"}})
    assert fallback.states is None
    assert not fallback.has_states("JP") and fallback.has_states("US")
    assert fallback.state("US", "ny") == ("NY", "New York")
