"""Common spellings of countries and states HubSpot users type (spec §12): each becomes the
value Salesforce's standard State and Country/Territory picklists have, instead of being sent
as typed and failing as a picklist error."""

import pytest

from sync_engine.sync.geo import HubSpotMode, Place, country_code, place_for_salesforce

CONVERT = HubSpotMode.CONVERT


@pytest.mark.parametrize(
    ("typed", "salesforce"),
    [
        ("Swaziland", "Eswatini"),
        ("Burma", "Myanmar"),
        ("Republic of Korea", "Korea, Republic of"),
        ("South Korea", "Korea, Republic of"),
        ("Vatican", "Holy See (Vatican City State)"),
        ("Vatican City", "Holy See (Vatican City State)"),
        ("Holy See", "Holy See (Vatican City State)"),
        ("Holland", "Netherlands"),
        ("Great Britain", "United Kingdom"),
        ("Scotland", "United Kingdom"),
        ("Russia", "Russian Federation"),
        ("Czech Republic", "Czechia"),
        ("Ivory Coast", "Cote d'Ivoire"),
        ("Côte d'Ivoire", "Cote d'Ivoire"),
        ("Macedonia", "North Macedonia"),
        ("Turkey", "Türkiye"),
        ("Cabo Verde", "Cape Verde"),
        ("UAE", "United Arab Emirates"),
        ("U.A.E.", "United Arab Emirates"),
        ("Brunei", "Brunei Darussalam"),
        ("East Timor", "Timor-Leste"),
        ("Macau", "Macao"),
        ("DR Congo", "Congo, the Democratic Republic of the"),
        ("Democratic Republic of the Congo", "Congo, the Democratic Republic of the"),
        ("Falkland Islands", "Falkland Islands (Malvinas)"),
        ("Bosnia", "Bosnia and Herzegovina"),
        ("The Gambia", "Gambia"),
        ("The Bahamas", "Bahamas"),
        ("Trinidad & Tobago", "Trinidad and Tobago"),
        ("St. Lucia", "Saint Lucia"),
        ("St Kitts and Nevis", "Saint Kitts and Nevis"),
        ("Republic of Ireland", "Ireland"),
    ],
)
def test_common_country_spellings_become_salesforces_value(typed, salesforce):
    assert place_for_salesforce(typed, None, mode=CONVERT).country == salesforce


@pytest.mark.parametrize(
    ("country", "typed", "salesforce"),
    [
        ("USA", "Washington DC", "District of Columbia"),
        ("United States", "Washington D.C.", "District of Columbia"),
        ("US", "Washington, D.C.", "District of Columbia"),
        ("US", "D.C.", "District of Columbia"),
        ("US", "Washington", "Washington"),  # the state, not the city
        ("Ireland", "Co. Dublin", "Dublin"),
        ("Ireland", "County Dublin", "Dublin"),
        ("Ireland", "Co Cork", "Cork"),
        ("Mexico", "Ciudad de México", "Federal District"),
        ("Mexico", "Mexico City", "Federal District"),
        ("Mexico", "CDMX", "Federal District"),
        ("Mexico", "Distrito Federal", "Federal District"),
        ("Mexico", "Estado de México", "Mexico State"),
        ("Mexico", "México", "Mexico State"),
        ("Mexico", "Veracruz de Ignacio de la Llave", "Veracruz"),
        ("Mexico", "Coahuila de Zaragoza", "Coahuila"),
        ("Mexico", "Michoacán de Ocampo", "Michoacán"),
        ("Mexico", "Jalisco", "Jalisco"),
    ],
)
def test_common_state_spellings_become_salesforces_value(country, typed, salesforce):
    assert place_for_salesforce(country, typed, mode=CONVERT).state == salesforce


def test_aliases_dont_invent_matches():
    """Unknown text still goes as typed, so Salesforce names the value to fix."""
    assert country_code("Atlantis") is None
    assert country_code("Saint") is None
    assert country_code("The") is None
    assert place_for_salesforce("Mexico", "Gotham", mode=CONVERT) == Place("Mexico", "Gotham")
    assert place_for_salesforce("Ireland", "County Gotham", mode=CONVERT) == Place(
        "Ireland", "County Gotham"
    )
