"""Shared by the engine's fault, kill and worker tests and by ``bench/sync_contacts.py``: a
population of people on both sides, seeded through the official clients with the people's own
tokens, and a check that both sides agree after a sync.

The check reads both CRMs as they are (not the engine's link table): every email exists exactly
once on each side (Salesforce counts unconverted leads and contacts together), and the mapped
fields hold the same value on both sides.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field

# HubSpot property -> Salesforce field, for the default mappings the checks compare. Company
# only exists on leads.
COMPARED = {
    "firstname": "FirstName",
    "lastname": "LastName",
    "jobtitle": "Title",
    "phone": "Phone",
}
LEAD_ONLY = {"company": "Company"}
HUBSPOT_PROPERTIES = ["email", *COMPARED, *LEAD_ONLY]
SALESFORCE_FIELDS = ["Id", "Email", *COMPARED.values()]

FIRST = ["Ada", "Grace", "Linus", "Alan", "Edsger", "Barbara", "Ken", "Frances", "Donald", "Radia"]
LAST = ["Lovelace", "Hopper", "Turing", "Dijkstra", "Liskov", "Thompson", "Allen", "Knuth"]
TITLES = ["Engineer", "Buyer", "CTO", "Analyst", "Manager", "Director", "Intern"]


@dataclass
class Population:
    """People to seed: Salesforce records (leads and contacts) and HubSpot contact inputs."""

    salesforce: list[dict] = field(default_factory=list)  # sObject Collections records
    hubspot: list[dict] = field(default_factory=list)  # {"properties": {...}}

    @property
    def emails(self) -> set[str]:
        return {r["Email"] for r in self.salesforce} | {
            i["properties"]["email"] for i in self.hubspot
        }


def _phone(rng: random.Random) -> str:
    return f"+1 555 {rng.randrange(1000, 9999)} {rng.randrange(100, 999)}"


def population(
    *,
    salesforce: int,
    hubspot: int,
    shared: float = 0.3,
    contacts: float = 0.4,
    seed: int = 1,
    domain: str = "people.example",
) -> Population:
    """``salesforce`` people in Salesforce (a ``contacts`` share of them contacts, the rest
    leads) and ``hubspot`` in HubSpot, a ``shared`` share of HubSpot's emails also being in
    Salesforce. Shared people differ on purpose: some fields blank on one side, some set to
    other values, so the first sync writes both ways."""
    rng = random.Random(seed)
    pop = Population()
    for i in range(salesforce):
        is_contact = rng.random() < contacts
        record = {
            "attributes": {"type": "Contact" if is_contact else "Lead"},
            "FirstName": rng.choice(FIRST),
            "LastName": f"{rng.choice(LAST)} S{i}",
            "Email": f"sf{i}@{domain}",
            "Title": rng.choice(TITLES) if rng.random() < 0.7 else None,
            "Phone": _phone(rng) if rng.random() < 0.7 else None,
        }
        if not is_contact:
            record["Company"] = f"Company {rng.randrange(500)}"
        pop.salesforce.append(record)
    n_shared = min(int(hubspot * shared), salesforce)
    shared_idx = sorted(rng.sample(range(salesforce), n_shared))
    for j in range(hubspot):
        email = pop.salesforce[shared_idx[j]]["Email"] if j < n_shared else f"hs{j}@{domain}"
        props = {
            "email": email,
            "firstname": rng.choice(FIRST),
            "lastname": f"{rng.choice(LAST)} H{j}",
            "company": f"HubCo {rng.randrange(500)}",
        }
        if rng.random() < 0.7:
            props["jobtitle"] = rng.choice(TITLES)
        if rng.random() < 0.6:
            props["phone"] = _phone(rng)
        pop.hubspot.append({"properties": props})
    return pop


def chunks(items: list, size: int):
    for start in range(0, len(items), size):
        yield items[start : start + size]


def seed_salesforce(sf, records: list[dict]) -> dict[str, str]:
    """Create the records, 200 per sObject Collections call, one sObject type per call (a
    call may hold at most 10 runs of one type); returns their ids by email."""
    ids: dict[str, str] = {}
    for sobject in sorted({r["attributes"]["type"] for r in records}):
        of_type = [r for r in records if r["attributes"]["type"] == sobject]
        for batch in chunks(of_type, 200):
            body = {"allOrNone": False, "records": batch}
            results = sf.restful("composite/sobjects", method="POST", json=body)
            failed = [r for r in results if not r.get("success")]
            assert not failed, failed[:3]
            ids.update({r["Email"]: res["id"] for r, res in zip(batch, results, strict=True)})
    return ids


def seed_hubspot(hs, inputs: list[dict]) -> list[str]:
    """Create the contacts, 100 per batch call; returns their ids in order."""
    from hubspot.crm.contacts import BatchInputSimplePublicObjectBatchInputForCreate

    ids: list[str] = []
    for batch in chunks(inputs, 100):
        result = hs.crm.contacts.batch_api.create(
            BatchInputSimplePublicObjectBatchInputForCreate(inputs=batch)
        )
        assert not (getattr(result, "errors", None) or []), result.errors[:3]
        ids += [str(r.id) for r in result.results]
    return ids


def read_salesforce(sf) -> list[dict]:
    """Every person in Salesforce: unconverted leads and contacts (with ``Type``)."""
    people = []
    for sobject, extra, where in (
        ("Lead", ", Company", " WHERE IsConverted = false"),
        ("Contact", "", ""),
    ):
        soql = f"SELECT {', '.join(SALESFORCE_FIELDS)}{extra} FROM {sobject}{where}"  # noqa: S608
        for record in sf.query_all(soql)["records"]:
            record["Type"] = sobject
            people.append(record)
    return people


def read_hubspot(hs) -> list[dict]:
    """Every HubSpot contact's compared properties, with ``id``."""
    people = []
    after = None
    while True:
        page = hs.crm.contacts.basic_api.get_page(
            limit=100, after=after, properties=HUBSPOT_PROPERTIES
        )
        people += [{"id": str(o.id), **(o.properties or {})} for o in page.results]
        after = page.paging.next.after if page.paging and page.paging.next else None
        if not after:
            return people


def _text(value) -> str:
    return "" if value is None else str(value).strip()


def _email(value) -> str:
    return _text(value).lower()


@dataclass
class Comparison:
    """What differs between the two sides; empty lists mean they agree."""

    salesforce_count: int
    hubspot_count: int
    duplicates_salesforce: dict[str, int]
    duplicates_hubspot: dict[str, int]
    only_salesforce: list[str]
    only_hubspot: list[str]
    missing: list[str]  # expected people on neither or one side
    mismatches: list[str]

    @property
    def problems(self) -> list[str]:
        out = []
        if self.duplicates_salesforce:
            out.append(f"duplicates in Salesforce: {_head(self.duplicates_salesforce)}")
        if self.duplicates_hubspot:
            out.append(f"duplicates in HubSpot: {_head(self.duplicates_hubspot)}")
        if self.only_salesforce:
            out.append(
                f"{len(self.only_salesforce)} only in Salesforce: {_head(self.only_salesforce)}"
            )
        if self.only_hubspot:
            out.append(f"{len(self.only_hubspot)} only in HubSpot: {_head(self.only_hubspot)}")
        if self.missing:
            out.append(f"{len(self.missing)} expected people missing: {_head(self.missing)}")
        if self.mismatches:
            out.append(f"{len(self.mismatches)} field mismatches: {_head(self.mismatches)}")
        return out


def _head(items, n: int = 5) -> str:
    items = list(items.items() if isinstance(items, dict) else items)
    more = f" … (+{len(items) - n})" if len(items) > n else ""
    return ", ".join(str(i) for i in items[:n]) + more


def compare(
    salesforce_people: list[dict], hubspot_people: list[dict], *, expected: set[str] = frozenset()
) -> Comparison:
    sf_counts = Counter(_email(r["Email"]) for r in salesforce_people if _email(r["Email"]))
    hs_counts = Counter(_email(p.get("email")) for p in hubspot_people if _email(p.get("email")))
    sf_by = {_email(r["Email"]): r for r in salesforce_people}
    hs_by = {_email(p.get("email")): p for p in hubspot_people}
    mismatches = []
    for email in sorted(set(sf_by) & set(hs_by)):
        sf, hs = sf_by[email], hs_by[email]
        pairs = dict(COMPARED)
        if sf["Type"] == "Lead":
            pairs.update(LEAD_ONLY)
        for prop, name in pairs.items():
            if _text(hs.get(prop)) != _text(sf.get(name)):
                mismatches.append(
                    f"{email} {prop}: HubSpot {hs.get(prop)!r} ≠ {name} {sf.get(name)!r}"
                )
    expected = {_email(e) for e in expected}
    return Comparison(
        salesforce_count=len(salesforce_people),
        hubspot_count=len(hubspot_people),
        duplicates_salesforce={e: n for e, n in sf_counts.items() if n > 1},
        duplicates_hubspot={e: n for e, n in hs_counts.items() if n > 1},
        only_salesforce=sorted(set(sf_counts) - set(hs_counts)),
        only_hubspot=sorted(set(hs_counts) - set(sf_counts)),
        missing=sorted(e for e in expected if not (e in sf_counts and e in hs_counts)),
        mismatches=mismatches,
    )


def unthrottle_hubspot() -> dict:
    """Budget settings so only injected faults throttle: HubSpot's own limits lifted, and an
    injected 429 says ``Retry-After: 0``."""
    return {
        "daily": 100_000_000,
        "per_ten_seconds": 10_000_000,
        "search_per_second": 1_000_000,
        "retry_after": 0,
    }


def unthrottle(emulators) -> None:
    """Lift both emulators' quotas (in-process emulators)."""
    emulators.salesforce.app.configure_budget(max=100_000_000)
    emulators.hubspot.app.configure_budget(**unthrottle_hubspot())


WRITES = (
    "created_in_hubspot",
    "updated_in_hubspot",
    "created_in_salesforce",
    "updated_in_salesforce",
)


def writes(counts: dict) -> int:
    return sum((counts or {}).get(k, 0) for k in WRITES)
