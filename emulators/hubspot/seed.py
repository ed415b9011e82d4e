"""The ``demo`` seed: the HubSpot side of the shared demo people and companies.

Contacts come from ``emulators.demo_data`` (people on the ``hubspot``, ``both_lead`` and
``both_contact`` sides), imported "a month ago": they keep their deliberately bad values (an
``x@@y`` email that HubSpot would refuse today, a too-long job title, a state that does not
exist), so the seed writes them directly instead of through validation. Their companies are
created with domains and associated as primary companies. Five owners match the Salesforce
seed's users; one DYNAMIC and one MANUAL list and a few deals complete the picture.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .. import demo_data
from .store import Actor
from .timeutil import DAY_MS, iso

if TYPE_CHECKING:
    from .app import HubSpotApp

OWNERS = [
    ("Sanne", "Visser", "sanne.visser@example.com"),
    ("Mark", "de Jong", "mark.dejong@example.com"),
    ("Priya", "Shah", "priya.shah@example.com"),
    ("Tom", "Becker", "tom.becker@example.com"),
    ("Lucia", "Romero", "lucia.romero@example.com"),
]
HUBSPOT_SIDES = {"hubspot", "both_lead", "both_contact"}
INDUSTRIES = {
    "Technology": "COMPUTER_SOFTWARE",
    "Banking": "BANKING",
    "Retail": "RETAIL",
    "Healthcare": "HOSPITAL_HEALTH_CARE",
    "Manufacturing": "MACHINERY",
    "Education": "EDUCATION_MANAGEMENT",
}
STAGES_BY_SIDE = {
    "both_contact": ["customer", "opportunity", "salesqualifiedlead"],
    "both_lead": ["lead", "marketingqualifiedlead"],
    "hubspot": ["subscriber", "lead", "marketingqualifiedlead", "", "customer"],
}
LEAD_STATUS = ["NEW", "OPEN", "IN_PROGRESS", "ATTEMPTED_TO_CONTACT", "CONNECTED"]
IMPORT = Actor("IMPORT", "demo-import-1", None, "Demo import")
SYNC_LIST_FILTER = {
    "filterBranchType": "OR",
    "filterBranches": [
        {
            "filterBranchType": "AND",
            "filterBranches": [],
            "filters": [
                {
                    "filterType": "PROPERTY",
                    "property": "lifecyclestage",
                    "operation": {
                        "operationType": "ALL_PROPERTY",
                        "operator": "IS_KNOWN",
                        "includeObjectsWithNoValueSet": False,
                    },
                }
            ],
        }
    ],
    "filters": [],
}
DEALS = [
    ("Acme renewal 2027", "12000", "contractsent"),
    ("Globex platform rollout", "48000", "presentationscheduled"),
    ("Initech support upgrade", "7500", "qualifiedtobuy"),
    ("Umbrella data migration", "23000", "decisionmakerboughtin"),
    ("Stark pilot", "3000", "appointmentscheduled"),
    ("Wayne expansion", "61000", "closedwon"),
    ("Hooli consulting", "15500", "closedlost"),
    ("Vandelay import tooling", "9900", "qualifiedtobuy"),
]


def seed_demo(app: HubSpotApp) -> dict:
    crm, state = app.crm, app.state
    registry = state.registry
    now = app.now_ms()
    base = now - 30 * DAY_MS  # the "import" happened a month ago
    contacts_t, companies_t = registry.types["0-1"], registry.types["0-2"]
    deals_t = registry.types["0-3"]
    industry_options = companies_t.properties["industry"].option_values

    owners = [
        app.run_action("create_owner", email=email, first_name=first, last_name=last)
        for first, last, email in OWNERS
    ]
    owner_ids = [o["id"] for o in owners]

    people = [p for p in demo_data.people() if p.side in HUBSPOT_SIDES]
    company_ids: dict[str, int] = {}
    clock = base
    for company in dict.fromkeys(p.company for p in people):
        values = {
            "name": company.name,
            "domain": company.domain,
            "city": company.city,
            "country": company.country,
        }
        industry = INDUSTRIES.get(company.industry)
        if industry in industry_options:
            values["industry"] = industry
        record = crm.create(companies_t, values, IMPORT, clock)
        company_ids[company.domain] = record.id
        clock += 30_000

    primary = registry.primary_type("0-1", "0-2")
    assert primary is not None
    contact_ids = []
    for i, person in enumerate(people):
        stages = STAGES_BY_SIDE[person.side]
        values = {
            "firstname": person.first_name,
            "lastname": person.last_name,
            "email": person.email,
            "phone": person.phone,
            "jobtitle": person.title,
            "company": person.company.name,
            "country": person.country,
            "state": person.state,
            "lifecyclestage": stages[i % len(stages)],
        }
        if i % 6 != 5:
            values["hubspot_owner_id"] = owner_ids[i % len(owner_ids)]
        if values["lifecyclestage"] in ("lead", "marketingqualifiedlead"):
            values["hs_lead_status"] = LEAD_STATUS[i % len(LEAD_STATUS)]
        record = crm.create(contacts_t, {k: v for k, v in values.items() if v}, IMPORT, clock)
        crm.associate(primary, record.id, company_ids[person.company.domain], IMPORT, clock)
        contact_ids.append(record.id)
        clock += 60_000

    deal_stage = registry.primary_type("0-3", "0-2")
    contact_deal = registry.default_type("0-3", "0-1")
    assert deal_stage and contact_deal
    for i, (name, amount, stage) in enumerate(DEALS):
        closedate = (now // DAY_MS + 14 + 7 * i) * DAY_MS
        record = crm.create(
            deals_t,
            {
                "dealname": name,
                "amount": amount,
                "dealstage": stage,
                "pipeline": "default",
                "closedate": iso(closedate),
                "hubspot_owner_id": owner_ids[i % len(owner_ids)],
            },
            IMPORT,
            clock,
        )
        contact_id = contact_ids[(i * 37) % len(contact_ids)]
        company_id = int(state.stores["0-1"].records[contact_id].props["associatedcompanyid"])
        crm.associate(deal_stage, record.id, company_id, IMPORT, clock)
        crm.associate(contact_deal, record.id, contact_id, IMPORT, clock)
        clock += 60_000

    # A custom object, created in HubSpot first as the custom-object sync requires (spec
    # §15), so the demo can pair it with Salesforce's Project__c.
    projects = registry.add_custom_type(
        {
            "name": "projects",
            "labels": {"singular": "Project", "plural": "Projects"},
            "primaryDisplayProperty": "project_name",
            "requiredProperties": ["project_name"],
            "associatedObjects": ["CONTACT", "COMPANY"],
            "properties": [
                {"name": "project_name", "label": "Project name", "type": "string",
                 "fieldType": "text"},
                {"name": "project_status", "label": "Status", "type": "enumeration",
                 "fieldType": "select", "options": [
                     {"label": v, "value": v} for v in ("Planned", "Active", "On Hold", "Done")
                 ]},
                {"name": "budget", "label": "Budget", "type": "number", "fieldType": "number"},
                {"name": "start_date", "label": "Start date", "type": "date",
                 "fieldType": "date"},
                {"name": "description", "label": "Description", "type": "string",
                 "fieldType": "textarea"},
            ],
        },
        now,
    )  # fmt: skip

    dynamic = crm.lists.create(
        name="Sync to Salesforce",
        object_type=contacts_t,
        processing_type="DYNAMIC",
        filter_branch=SYNC_LIST_FILTER,
        ts=now,
        created_by=str(owners[0]["userId"]),
    )
    manual = crm.lists.create(
        name="Trade show 2026 leads",
        object_type=contacts_t,
        processing_type="MANUAL",
        filter_branch=None,
        ts=now,
        created_by=str(owners[1]["userId"]),
    )
    crm.lists.add(manual, [str(i) for i in contact_ids[::15]], now)
    return {
        "owners": len(owners),
        "companies": len(company_ids),
        "contacts": len(contact_ids),
        "deals": len(DEALS),
        "lists": {"dynamic": dynamic.id, "manual": manual.id},
        "custom_objects": [projects.id],
    }
