"""Chinese provinces and Mexican states as people and ISO 3166-2 write them (spec §12), and
countries an org's customised Country picklist lacks.

pycountry names China's provinces with their administrative suffix ("Jilin Sheng", "Beijing
Shi", "Xinjiang Uygur Zizhiqu"), Salesforce's standard list and most people without it
("Jilin"); Mexico's ISO codes have three letters ("MX-CMX", "JAL"), Salesforce's two."""

import pycountry
import pytest

from sync_engine.sync.geo import HubSpotMode, Picklists, Place, place_for_salesforce
from sync_engine.sync.geo_standard import STATES

CONVERT = HubSpotMode.CONVERT


@pytest.mark.parametrize(
    ("typed", "salesforce"),
    [
        ("Jilin Sheng", "Jilin"),
        ("Guangdong Sheng", "Guangdong"),
        ("Beijing Shi", "Beijing"),
        ("Xinjiang Uygur Zizhiqu", "Xinjiang"),
        ("Guangxi Zhuangzu Zizhiqu", "Guangxi"),
        ("Nei Mongol Zizhiqu", "Nei Mongol"),
        ("Hong Kong SAR", "Hong Kong"),
        ("CN-JL", "Jilin"),
        ("JL", "Jilin"),
        ("cn-bj", "Beijing"),
        # As English speakers write them.
        ("Jilin Province", "Jilin"),
        ("Beijing Municipality", "Beijing"),
        ("Shanghai City", "Shanghai"),
        ("Xinjiang Uyghur Autonomous Region", "Xinjiang"),
        ("Ningxia Hui Autonomous Region", "Ningxia"),
        ("Guangxi Zhuang Autonomous Region", "Guangxi"),
        ("Inner Mongolia", "Nei Mongol"),
        ("Tibet", "Xizang"),
        ("Tibet Autonomous Region", "Xizang"),
        ("Macau", "Macao"),
        ("Hong Kong S.A.R.", "Hong Kong"),
        # Salesforce's own names and codes still.
        ("Jilin", "Jilin"),
        ("22", "Jilin"),
    ],
)
def test_chinese_provinces_in_isos_and_everyday_spellings(typed, salesforce):
    assert place_for_salesforce("China", typed, mode=CONVERT) == Place("China", salesforce)


def test_an_org_that_names_provinces_as_iso_does_takes_them_plain():
    """The other way round: an org whose list says "Jilin Sheng" gets a HubSpot "Jilin"."""
    org = Picklists(
        {"CN": "China"},
        {"CN": {"22": "Jilin Sheng", "11": "Beijing Shi", "65": "Xinjiang Uygur Zizhiqu"}},
    )
    for typed, name in [
        ("Jilin", "Jilin Sheng"),
        ("jilin province", "Jilin Sheng"),
        ("Beijing", "Beijing Shi"),
        ("CN-BJ", "Beijing Shi"),
        ("Xinjiang", "Xinjiang Uygur Zizhiqu"),
        ("Xinjiang Uyghur Autonomous Region", "Xinjiang Uygur Zizhiqu"),
    ]:
        assert org.state("CN", typed)[1] == name, typed
    assert org.state("CN", "Shi") is None  # a suffix alone is no province


@pytest.mark.parametrize(
    ("typed", "salesforce"),
    [
        ("MX-CMX", "Federal District"),
        ("CMX", "Federal District"),
        ("MX-DIF", "Federal District"),  # ISO's code before 2016
        ("DIF", "Federal District"),
        ("MX-JAL", "Jalisco"),
        ("JAL", "Jalisco"),
        ("MX-NLE", "Nuevo León"),
        ("NLE", "Nuevo León"),
        ("MX-MEX", "Mexico State"),
        ("MEX", "Mexico State"),
        ("MX-VER", "Veracruz"),
        ("mx-mic", "Michoacán"),
        ("MX-COA", "Coahuila"),
        ("JA", "Jalisco"),  # Salesforce's own code
    ],
)
def test_mexican_states_by_isos_three_letter_codes(typed, salesforce):
    assert place_for_salesforce("Mexico", typed, mode=CONVERT) == Place("Mexico", salesforce)


@pytest.mark.parametrize(("country", "code"), [("China", "CN"), ("Mexico", "MX")])
def test_every_iso_spelling_of_a_province_or_state_is_salesforces(country, code):
    for sub in pycountry.subdivisions.get(country_code=code):
        for spelling in (sub.name, sub.code, sub.code.split("-")[1]):
            place = place_for_salesforce(country, spelling, mode=CONVERT)
            assert place.state in STATES[code].values(), spelling


def test_a_country_a_customised_org_lacks_goes_as_typed_not_as_its_code():
    """Customised picklists get codes, but only codes the org has: Salesforce's refusal then
    names the user's value ("Russia"), not one they never wrote ("RU")."""
    org = Picklists({"NL": "Netherlands", "US": "United States"})
    assert org.country_value("RU", " Russia ", codes=True) == "Russia"
    assert org.country_value("NL", "Holland", codes=True) == "NL"
    assert org.country_value("NL", "Holland") == "Netherlands"
    assert org.country_value("RU", "Russia") == "Russia"
    # The org's list not read: Salesforce's standard one stands in.
    assert Picklists().country_value("RU", "Russia", codes=True) == "RU"
    assert Picklists().country_value("RU", "Russia") == "Russian Federation"
