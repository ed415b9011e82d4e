"""Deterministic demo people and companies shared by both emulators' ``demo`` seeds.

Both seeds draw from the same list so that some people exist on both sides with the same
email (the first sync must match them, not duplicate them), and a few carry values that the
other side will reject (they become sync errors the dashboard shows).
"""

from __future__ import annotations

import random
from dataclasses import dataclass

FIRST = [
    "Ada",
    "Bram",
    "Chloé",
    "Daan",
    "Emma",
    "Finn",
    "Greta",
    "Hugo",
    "Iris",
    "Jasper",
    "Kiki",
    "Lars",
    "Mila",
    "Noah",
    "Olivia",
    "Pieter",
    "Quinn",
    "Rosa",
    "Sem",
    "Tess",
    "Umar",
    "Vera",
    "Wout",
    "Xena",
    "Yara",
    "Zoë",
    "Liam",
    "Sophie",
    "Lucas",
    "Julia",
]
LAST = [
    "de Vries",
    "Jansen",
    "Bakker",
    "Visser",
    "Smit",
    "Meijer",
    "de Boer",
    "Mulder",
    "de Groot",
    "Bos",
    "Vos",
    "Peters",
    "Hendriks",
    "van Leeuwen",
    "Dekker",
    "Brouwer",
    "de Wit",
    "Dijkstra",
    "Smits",
    "de Graaf",
    "O'Brien",
    "García",
    "Nguyen",
    "Müller",
]
COMPANY_WORDS = [
    "Acme",
    "Globex",
    "Initech",
    "Umbrella",
    "Stark",
    "Wayne",
    "Hooli",
    "Vandelay",
    "Tyrell",
    "Soylent",
    "Cyberdyne",
    "Wonka",
    "Oscorp",
    "Gringotts",
    "Monarch",
    "Aperture",
    "Massive",
    "Pied Piper",
    "Duff",
    "Nakatomi",
]
COMPANY_SUFFIX = ["BV", "Inc.", "Ltd", "GmbH", "Group", "Labs", "Holding", "Systems"]
COUNTRIES = [
    ("United States", "US", ["California", "New York", "Texas", "Washington"]),
    ("Netherlands", "NL", []),
    ("Germany", "DE", []),
    ("Canada", "CA", ["Ontario", "Quebec", "British Columbia"]),
    ("United Kingdom", "GB", []),
    ("Australia", "AU", ["Victoria", "Queensland"]),
]
INDUSTRIES = ["Technology", "Banking", "Retail", "Healthcare", "Manufacturing", "Education"]


@dataclass(frozen=True)
class DemoCompany:
    name: str
    domain: str
    industry: str
    country: str
    city: str


@dataclass(frozen=True)
class DemoPerson:
    first_name: str
    last_name: str
    email: str
    phone: str
    title: str
    company: DemoCompany
    country: str
    state: str
    side: str  # "salesforce_lead", "salesforce_contact", "hubspot", "both_lead", "both_contact"
    bad: str | None = None  # which value is deliberately invalid for the other side


def companies(count: int = 120, seed: int = 7) -> list[DemoCompany]:
    rng = random.Random(seed)
    out, seen = [], set()
    while len(out) < count:
        name = (
            f"{rng.choice(COMPANY_WORDS)} {rng.choice(COMPANY_WORDS)} {rng.choice(COMPANY_SUFFIX)}"
        )
        if name in seen:
            continue
        seen.add(name)
        slug = "".join(ch for ch in name.lower() if ch.isalnum())[:20]
        country = rng.choice(COUNTRIES)
        out.append(
            DemoCompany(
                name,
                f"{slug}.example.com",
                rng.choice(INDUSTRIES),
                country[0],
                rng.choice(["Amsterdam", "Utrecht", "Austin", "Berlin", "Leeds"]),
            )
        )
    return out


def people(count: int = 600, seed: int = 42) -> list[DemoPerson]:
    """600 people: 40% Salesforce only, 30% HubSpot only, 30% on both sides by email."""
    rng = random.Random(seed)
    orgs = companies()
    sides = (
        ["salesforce_lead"] * 25
        + ["salesforce_contact"] * 15
        + ["hubspot"] * 30
        + ["both_lead"] * 10
        + ["both_contact"] * 20
    )
    out = []
    for i in range(count):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        company = rng.choice(orgs)
        country, _code, states = rng.choice(COUNTRIES)
        local = "".join(ch for ch in f"{first}.{last}".lower() if ch.isalnum() or ch == ".")
        bad = None
        email = f"{local}.{i}@{company.domain}"
        state = rng.choice(states) if states else ""
        if i % 97 == 13:
            bad = "email"  # HubSpot accepts it as typed, Salesforce rejects it
            email = f"{local}.{i}@@{company.domain}"
        elif i % 89 == 21:
            bad = "state"  # a state that is not a real subdivision of the country
            country, state = "United States", "Atlantis"
        elif i % 83 == 5:
            bad = "title_too_long"
        title = rng.choice(["CEO", "CTO", "VP Sales", "Marketing Manager", "Engineer", "Buyer"])
        if bad == "title_too_long":
            title = "Senior " * 20 + "Principal Strategic Partnerships Director"
        out.append(
            DemoPerson(
                first_name=first,
                last_name=last,
                email=email,
                phone=f"+31 6 {rng.randint(10000000, 99999999)}",
                title=title,
                company=company,
                country=country,
                state=state,
                side=rng.choice(sides),
                bad=bad,
            )
        )
    return out
