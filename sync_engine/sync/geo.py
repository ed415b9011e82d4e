"""State and country values between HubSpot's free text and Salesforce's picklists (spec §12).

ISO 3166 (pycountry) is the reference: a value may arrive as a code (``NL``, ``NLD``), a name
(``Netherlands``), an official or common name, or a common alias (``Holland``, ``USA``, ``UK``).
Salesforce's standard picklists use the ISO short names ("integration values") and configure
states only for a few countries; a state for any other country is dropped instead of failing.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from enum import StrEnum
from functools import cache

import pycountry

# Countries whose states/provinces Salesforce configures out of the box.
COUNTRIES_WITH_STATES = frozenset({"US", "CA", "AU", "BR", "CN", "IN", "IE", "IT", "MX"})

# Salesforce's standard names where they differ from pycountry's ISO short name.
SALESFORCE_COUNTRY_NAMES = {"TW": "Taiwan", "TR": "Turkey", "CZ": "Czech Republic"}

COUNTRY_ALIASES = {
    "usa": "US",
    "u.s.": "US",
    "u.s.a.": "US",
    "us of a": "US",
    "america": "US",
    "united states of america": "US",
    "the united states": "US",
    "uk": "GB",
    "u.k.": "GB",
    "great britain": "GB",
    "britain": "GB",
    "england": "GB",
    "scotland": "GB",
    "wales": "GB",
    "northern ireland": "GB",
    "holland": "NL",
    "the netherlands": "NL",
    "nederland": "NL",
    "deutschland": "DE",
    "allemagne": "DE",
    "españa": "ES",
    "espana": "ES",
    "south korea": "KR",
    "korea": "KR",
    "north korea": "KP",
    "russia": "RU",
    "vietnam": "VN",
    "uae": "AE",
    "czech republic": "CZ",
    "ivory coast": "CI",
    "turkey": "TR",
    "iran": "IR",
    "syria": "SY",
    "laos": "LA",
    "bolivia": "BO",
    "venezuela": "VE",
    "tanzania": "TZ",
    "moldova": "MD",
    "macedonia": "MK",
    "brasil": "BR",
    "méxico": "MX",
    "mexico": "MX",
    "schweiz": "CH",
    "suisse": "CH",
    "österreich": "AT",
    "belgië": "BE",
    "belgique": "BE",
}


def _key(value: str) -> str:
    return " ".join(unicodedata.normalize("NFC", value).strip().casefold().split())


@cache
def _country_index() -> dict[str, str]:
    index: dict[str, str] = {}
    for country in pycountry.countries:
        for name in ("alpha_2", "alpha_3", "name", "official_name", "common_name"):
            value = getattr(country, name, None)
            if value:
                index.setdefault(_key(value), country.alpha_2)
    for code, name in SALESFORCE_COUNTRY_NAMES.items():
        index[_key(name)] = code
    index.update(COUNTRY_ALIASES)
    return index


def country_code(value: str | None) -> str | None:
    """The ISO alpha-2 code for any spelling of a country, or None if unknown."""
    if not value or not value.strip():
        return None
    return _country_index().get(_key(value))


def country_name(code: str) -> str:
    """Salesforce's standard name (its default integration value) for an ISO alpha-2 code."""
    if code in SALESFORCE_COUNTRY_NAMES:
        return SALESFORCE_COUNTRY_NAMES[code]
    return pycountry.countries.get(alpha_2=code).name


@cache
def _state_index(country: str) -> dict[str, tuple[str, str]]:
    index: dict[str, tuple[str, str]] = {}
    for sub in pycountry.subdivisions.get(country_code=country) or []:
        short = sub.code.split("-", 1)[1]
        entry = (short, sub.name)
        for value in (short, sub.code, sub.name):
            index.setdefault(_key(value), entry)
    return index


def state_lookup(country: str, value: str | None) -> tuple[str, str] | None:
    """(code, name) of a state of ``country`` from its code or name, or None."""
    if not value or not value.strip():
        return None
    return _state_index(country).get(_key(value))


class HubSpotMode(StrEnum):
    CONVERT = "convert"  # convert HubSpot values to Salesforce's standard values
    AS_IS = "as_is"  # send HubSpot's values as they are


@dataclass(frozen=True)
class Place:
    country: str | None
    state: str | None


def place_for_salesforce(country: str | None, state: str | None, *, mode: HubSpotMode) -> Place:
    """What to write into Salesforce's Country and State fields.

    In ``CONVERT`` mode a recognised country becomes Salesforce's standard name and a recognised
    state its name; a state is dropped when its country has no configured states (instead of
    failing the whole record). Values we cannot recognise pass through unchanged, so Salesforce
    reports them and the admin sees a picklist error with the value that needs fixing.
    """
    if mode == HubSpotMode.AS_IS:
        return Place(country or None, state or None)
    code = country_code(country)
    if code is None:
        return Place(country or None, state or None)
    if code not in COUNTRIES_WITH_STATES:
        return Place(country_name(code), None)
    found = state_lookup(code, state)
    return Place(country_name(code), found[1] if found else (state or None))
