"""State and country values between HubSpot's free text and Salesforce's picklists (spec §12).

ISO 3166 (pycountry) is the reference: a value may arrive as a code (``NL``, ``NLD``), a name
(``Netherlands``), an official or common name, or a common alias (``Holland``, ``USA``, ``UK``).
Salesforce's standard picklists (``geo_standard``) mostly use the ISO short names ("integration
values"), with spellings of their own ("Vietnam", "Gujarat", "Rome"), and configure states only for
a few countries; a state for any other country is dropped instead of failing.
The org's own configuration (:class:`Picklists`, from the stored describe of its ``…CountryCode``
and dependent ``…StateCode`` fields) says which countries have states and what they are called;
the standard configuration stands in when the describe doesn't say.
"""

from __future__ import annotations

import base64
import unicodedata
from dataclasses import dataclass
from enum import StrEnum
from functools import cache

import pycountry

from .geo_standard import COUNTRIES as STANDARD_COUNTRIES
from .geo_standard import STATES as STANDARD_STATES

# Countries whose states/provinces Salesforce configures out of the box: used when the stored
# describe doesn't say which countries the org configures states for.
COUNTRIES_WITH_STATES = frozenset(STANDARD_STATES)

# Salesforce's standard names (its default integration values), which are not always ISO's.
SALESFORCE_COUNTRY_NAMES = STANDARD_COUNTRIES

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
    # Former or everyday names ISO doesn't list (Salesforce has the current ones).
    "swaziland": "SZ",
    "burma": "MM",
    "republic of korea": "KR",
    "vatican": "VA",
    "vatican city": "VA",
    "holy see": "VA",
    "brunei": "BN",
    "east timor": "TL",
    "macau": "MO",
    "dr congo": "CD",
    "drc": "CD",
    "democratic republic of the congo": "CD",
    "falkland islands": "FK",
    "bosnia": "BA",
    "republic of ireland": "IE",
}

# States typed otherwise than ISO or Salesforce spell them, as the Salesforce standard code
# (keys as ``_loose_key`` makes them): the org's value is then found by that state's name.
STATE_ALIASES = {
    "US": {"washington dc": "DC", "dc": "DC", "washington district of columbia": "DC"},
    "MX": {
        "ciudad de mexico": "DF",  # ISO's name; Salesforce still calls it Federal District
        "mexico city": "DF",
        "cdmx": "DF",
        "distrito federal": "DF",
        "mexico": "ME",  # ISO's name for the state of México
        "estado de mexico": "ME",
        "state of mexico": "ME",
        "edomex": "ME",
        "coahuila de zaragoza": "CO",
        "michoacan de ocampo": "MI",
        "veracruz de ignacio de la llave": "VE",
        "dif": "DF",  # ISO's code for it until 2016 (MX-DIF)
    },
    "CN": {
        "inner mongolia": "15",
        "nei menggu": "15",
        "tibet": "54",
        "macau": "92",
        "peking": "11",
    },
}
# Words written before a state's name: "Co. Dublin", "County Cork".
STATE_PREFIXES = {"IE": ("county ", "co ")}
# Words written after a state's name that only say what kind of place it is: ISO's "Jilin
# Sheng", "Beijing Shi", "Xinjiang Uygur Zizhiqu" (its people, then "autonomous region"), and
# in English "Jilin Province", "Hong Kong SAR". Salesforce's names and most people's go
# without them ("Jilin"), so names compare without them too, whichever side has them.
STATE_SUFFIXES = {
    "CN": (
        "sheng",
        "shi",
        "zizhiqu",
        "sar",
        "province",
        "municipality",
        "city",
        "autonomous region",
        "special administrative region",
        "uygur",
        "uyghur",
        "zhuangzu",
        "zhuang",
        "huizu",
        "hui",
    )
}


def _key(value: str) -> str:
    # Without accents: an org's "Cote d'Ivoire" or "Aland Islands" is ISO's "Côte d'Ivoire".
    text = "".join(c for c in unicodedata.normalize("NFKD", value) if not unicodedata.combining(c))
    return " ".join(text.strip().casefold().split())


def _loose_key(value: str) -> str:
    # Without dots and commas: "Washington, D.C." is "washington dc", "U.A.E." is "uae".
    return " ".join(_key(value).replace(".", "").replace(",", " ").split())


def _state_key(country: str, value: str) -> str:
    """A state as typed loosely: without ISO's country prefix ("MX-DIF") or the words that
    only say what kind of place it is ("Jilin Sheng", "Tibet Autonomous Region")."""
    key = _loose_key(value).removeprefix(f"{country.casefold()}-")
    suffixes = STATE_SUFFIXES.get(country, ())
    while True:  # "Xinjiang Uygur Zizhiqu": the kind, then its people
        suffix = next((s for s in suffixes if key.endswith(f" {s}")), None)
        if suffix is None:
            return key
        key = key.removesuffix(f" {suffix}")


def _country_variant(value: str) -> str:
    """A country as typed loosely: "The Gambia", "Trinidad & Tobago", "St. Lucia"."""
    words = _loose_key(value).replace("&", " and ").split()
    if words[:1] == ["the"]:
        words = words[1:]
    return " ".join("saint" if w == "st" else w for w in words)


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
    index.update({_key(alias): code for alias, code in COUNTRY_ALIASES.items()})
    return index


def country_code(value: str | None) -> str | None:
    """The ISO alpha-2 code for any spelling of a country, or None if unknown."""
    if not value or not value.strip():
        return None
    index = _country_index()
    return index.get(_key(value)) or index.get(_country_variant(value))


def country_name(code: str) -> str:
    """Salesforce's standard name (its default integration value) for an ISO alpha-2 code."""
    if code in SALESFORCE_COUNTRY_NAMES:
        return SALESFORCE_COUNTRY_NAMES[code]
    country = pycountry.countries.get(alpha_2=code)
    return country.name if country else code


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


class Picklists:
    """The org's State and Country/Territory picklists: each country's integration value
    (``countries``: ISO code -> name) and each country's states (``states``: country code ->
    {state code: name}). ``states`` is None when the describe doesn't say which country a
    state belongs to: Salesforce's standard configuration (``geo_standard``) then stands in."""

    def __init__(
        self,
        countries: dict[str, str] | None = None,
        states: dict[str, dict[str, str]] | None = None,
    ) -> None:
        self.countries = countries or {}
        self.states = states
        self._country_keys = {_key(name): code for code, name in self.countries.items()}
        self._country_keys.update({_key(code): code for code in self.countries})
        self._state_keys: dict[str, dict[str, tuple[str, str]]] = {}

    @classmethod
    def from_describe(cls, country: dict | None, state: dict | None) -> Picklists:
        """From the stored describe of a country code field and its state code field (as
        :func:`address_picklist_describe` keeps them); either may be missing."""
        countries = dict((country or {}).get("labels") or {})
        valid_for = (state or {}).get("validFor")
        if not valid_for:
            return cls(countries, None)
        states: dict[str, dict[str, str]] = {}
        for code, name, controlling in valid_for:
            for country_code in controlling:
                states.setdefault(country_code, {})[code] = name
        return cls(countries, states)

    def country_code(self, value: str | None) -> str | None:
        """The ISO code of a country's name in this org, or of any other spelling of it."""
        if not value or not value.strip():
            return None
        return self._country_keys.get(_key(value)) or country_code(value)

    def country_name(self, code: str, typed: str | None = None) -> str:
        """The org's name (integration value) for a country, else Salesforce's standard one.
        A country Salesforce has no value for (its standard list lacks Iran, Cuba, Syria,
        Sudan, North Korea) goes as ``typed``, the user's spelling of it: the picklist error
        then names their value, not ISO's "Iran, Islamic Republic of"."""
        if code in self.countries:
            return self.countries[code]
        return self._as_typed(code, typed) or country_name(code)

    def country_value(self, code: str, typed: str | None = None, *, codes: bool = False) -> str:
        """What a country is written to Salesforce as: its name (:meth:`country_name`), or
        with ``codes`` (customised picklists: the code field) its code, when the org has it.
        A country the org's list lacks goes as ``typed`` either way, so Salesforce's refusal
        names the user's value ("Russia"), not a code they never wrote ("RU")."""
        if not codes:
            return self.country_name(code, typed)
        return self._as_typed(code, typed) or code

    def _as_typed(self, code: str, typed: str | None) -> str | None:
        """``typed``, trimmed, when it is a spelling of a country the org (or, its list
        unread, Salesforce's standard one) has no value for; else None."""
        if code in self.countries or (code in SALESFORCE_COUNTRY_NAMES and not self.countries):
            return None
        return typed.strip() if typed and self.country_code(typed) == code else None

    def has_states(self, country: str) -> bool:
        if self.states is None:
            return country in COUNTRIES_WITH_STATES
        return bool(self.states.get(country))

    def state(self, country: str, value: str | None) -> tuple[str, str] | None:
        """(code, name) of a state of ``country`` as the org configures it, from its code, its
        name or any ISO spelling of it; None when the org doesn't have it for that country."""
        if not value or not value.strip():
            return None
        index = self._state_keys.get(country)
        if index is None:
            index = self._state_keys[country] = {}
            states = (STANDARD_STATES if self.states is None else self.states).get(country, {})
            for code, name in states.items():
                index.setdefault(_key(name), (code, name))
            for code, name in states.items():
                index.setdefault(_key(code), (code, name))
            for code, name in states.items():  # "Jilin" finds an org's "Jilin Sheng"
                index.setdefault(_state_key(country, name), (code, name))
        found = index.get(_key(value))
        iso = None if found else state_lookup(country, value)
        if iso:  # an ISO spelling: matched by name first (the org's codes may differ from ISO's)
            found = index.get(_key(iso[1])) or index.get(_key(iso[0]))
        # Else as typed loosely, or as ISO names it ("CN-JL": "Jilin Sheng"), without the
        # words saying what kind of place it is; or by a common alias, found by Salesforce's
        # standard name for it.
        for spelling in (value, iso[1]) if iso else (value,):
            if found:
                break
            key = _state_key(country, spelling)
            alias = STATE_ALIASES.get(country, {}).get(key)
            if alias:
                name = STANDARD_STATES[country][alias]
                found = index.get(_key(name)) or index.get(_key(alias))
            else:
                found = index.get(key)
        loose = _loose_key(value)
        for prefix in STATE_PREFIXES.get(country, ()):
            if not found and loose.startswith(prefix):
                found = self.state(country, loose.removeprefix(prefix))
        return found


STANDARD = Picklists()


def address_picklist_describe(field: dict, fields: dict[str, dict]) -> dict:
    """What the engine keeps of an address code picklist's describe besides its values: a
    country picklist's names (``labels``: code -> label, the integration values by default);
    a state picklist's ``validFor``: ``[code, label, [country codes]]`` per state, decoded
    from the bitmap over its controlling field's values (codes repeat across countries: "AL"
    is Alabama and Alagoas). Nothing for any other field."""
    if field.get("type") != "picklist" or not field["name"].endswith(("CountryCode", "StateCode")):
        return {}
    values = [v for v in field.get("picklistValues") or [] if v.get("active", True)]
    controller = fields.get(field.get("controllerName") or "")
    if not (field.get("dependentPicklist") and controller):
        return {"labels": {v["value"]: v.get("label") or v["value"] for v in values}}
    order = [v["value"] for v in controller.get("picklistValues") or []]
    return {
        "controllerName": controller["name"],
        "validFor": [
            [v["value"], v.get("label") or v["value"], _valid_for(v.get("validFor"), order)]
            for v in values
        ],
    }


def _valid_for(bitmap: str | None, order: list[str]) -> list[str]:
    """The controlling values a dependent value is valid for: bit i (most significant bit of
    each byte first) stands for the controller's i-th value."""
    bits = base64.b64decode(bitmap or "")
    return [
        value
        for i, value in enumerate(order)
        if i >> 3 < len(bits) and bits[i >> 3] & (0x80 >> (i & 7))
    ]


def place_for_salesforce(
    country: str | None,
    state: str | None,
    *,
    mode: HubSpotMode,
    picklists: Picklists = STANDARD,
) -> Place:
    """What to write into Salesforce's Country and State fields.

    In ``CONVERT`` mode a recognised country becomes the org's name for it and a recognised
    state its name; a state is dropped when its country has no configured states (instead of
    failing the whole record). Values we cannot recognise pass through unchanged, so Salesforce
    reports them and the admin sees a picklist error with the value that needs fixing.
    """
    if mode == HubSpotMode.AS_IS:
        return Place(country or None, state or None)
    code = picklists.country_code(country)
    if code is None:
        return Place(country or None, state or None)
    name = picklists.country_name(code, typed=country)
    if not picklists.has_states(code):
        return Place(name, None)
    found = picklists.state(code, state)
    return Place(name, found[1] if found else (state or None))
