"""The ``demo`` seed: a realistic small org built from the shared demo people and companies.

People whose side is ``salesforce_lead``/``both_lead`` become Leads, ``salesforce_contact``/
``both_contact`` become Contacts under one Account per company. Every record goes through the
normal write path, so demo people with values Salesforce rejects (``bad``) are simply not
created here: they live on the HubSpot side and fail when synced, as intended.
Sales reps (``DEMO_OWNERS``) own the records; the HubSpot seed uses the same people as owners.
"""

from __future__ import annotations

import random
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from ..demo_data import DemoPerson, people
from .dml import Ctx
from .errors import SfError
from .values import stamp

if TYPE_CHECKING:
    from .app import SalesforceApp

DEMO_OWNERS = [
    ("Sanne", "Visser", "sanne.visser@example.com", "Account Executive"),
    ("Mark", "de Jong", "mark.dejong@example.com", "Account Executive"),
    ("Priya", "Shah", "priya.shah@example.com", "Sales Development Rep"),
    ("Tom", "Becker", "tom.becker@example.com", "Sales Manager"),
    ("Lucia", "Romero", "lucia.romero@example.com", "Customer Success Manager"),
]

OPEN_STAGES = [
    "Prospecting",
    "Qualification",
    "Needs Analysis",
    "Value Proposition",
    "Id. Decision Makers",
    "Perception Analysis",
    "Proposal/Price Quote",
    "Negotiation/Review",
]
DEAL_KINDS = ["Platform", "Expansion", "Pilot", "Support", "Licences"]
ROLES = [
    "Decision Maker",
    "Economic Buyer",
    "Technical Buyer",
    "Evaluator",
    "Influencer",
    "Business User",
]
LEAD_SOURCES = ["Web", "Phone Inquiry", "Partner Referral", "Purchased List", "Other"]
CASE_SUBJECTS = [
    "Cannot log in",
    "Invoice question",
    "Feature request: export",
    "Integration error",
    "Password reset",
    "Onboarding help",
]
TASK_SUBJECTS = ["Call", "Send Letter", "Send Quote", "Other"]


def seed_demo(
    app: SalesforceApp,
    *,
    opportunities: int = 150,
    state_country_picklists: bool = True,
    seed: int = 11,
) -> dict[str, Any]:
    rng = random.Random(seed)
    schema = app.schema
    objects = schema.objects
    writer = app.writer
    now = app.clock.now()
    counts: dict[str, int] = {}
    skipped: list[dict[str, str]] = []

    if state_country_picklists:
        app.run_action("enable_state_country_picklists", enabled=True)

    owners = []
    for first, last, email, title in DEMO_OWNERS:
        owners.append(app.create_user(first, last, email, title=title))
    counts["User"] = len(owners)

    record_types = {
        name: app.run_action("add_record_type", object="Opportunity", label=name)
        for name in ("New Business", "Renewal")
    }

    def create(obj_name: str, fields: dict[str, Any], owner: str, days_ago: float) -> str | None:
        """Create through the validating write path, backdating the stamps."""
        ctx = Ctx(user_id=owner, allow_save=True)
        try:
            record_id = writer.create(objects[obj_name], fields, ctx)
        except SfError as error:
            skipped.append({"object": obj_name, "code": error.code, "message": error.message})
            return None
        when = stamp(now - timedelta(days=days_ago))
        app.org.store.update(
            obj_name,
            record_id,
            {
                "CreatedDate": when,
                "LastModifiedDate": when,
                "SystemModstamp": when,
                "CreatedById": owner,
                "LastModifiedById": owner,
            },
        )
        counts[obj_name] = counts.get(obj_name, 0) + 1
        return record_id

    def age() -> float:
        return rng.uniform(1, 120)

    crowd = people()
    accounts: dict[str, str] = {}
    contacts_by_account: dict[str, list[str]] = {}
    leads: list[str] = []
    for person in crowd:
        owner = rng.choice(owners)
        if person.side in ("salesforce_contact", "both_contact"):
            company = person.company
            account_id = accounts.get(company.name)
            if account_id is None:
                account_id = create(
                    "Account",
                    {
                        "Name": company.name,
                        "Website": f"https://{company.domain}",
                        "Industry": company.industry,
                        "BillingCity": company.city,
                        "BillingCountry": company.country,
                        "Type": "Customer - Direct",
                        "NumberOfEmployees": rng.choice([12, 45, 150, 800, 2500]),
                    },
                    owner,
                    age() + 30,
                )
                if account_id is None:
                    continue
                accounts[company.name] = account_id
            contact_id = create(
                "Contact",
                _person(
                    person, "Mailing", AccountId=account_id, LeadSource=rng.choice(LEAD_SOURCES)
                ),
                owner,
                age(),
            )
            if contact_id:
                contacts_by_account.setdefault(account_id, []).append(contact_id)
        elif person.side in ("salesforce_lead", "both_lead"):
            lead_id = create(
                "Lead",
                _person(
                    person,
                    "",
                    Company=person.company.name,
                    LeadSource=rng.choice(LEAD_SOURCES),
                    Status=rng.choice(["Open - Not Contacted", "Working - Contacted"]),
                    Industry=person.company.industry,
                ),
                owner,
                age(),
            )
            if lead_id:
                leads.append(lead_id)

    account_ids = [a for a in accounts.values() if contacts_by_account.get(a)]
    opportunity_ids = []
    today = now.date()
    for i in range(opportunities if account_ids else 0):
        account_id = account_ids[i % len(account_ids)]
        owner = rng.choice(owners)
        if i % 12 == 0:
            stage = "Closed Won"
        elif i % 17 == 0:
            stage = "Closed Lost"
        else:
            stage = rng.choice(OPEN_STAGES)
        close = today + timedelta(days=rng.randint(-60, 120))
        account_name = app.org.store.get("Account", account_id)["Name"]
        opportunity_id = create(
            "Opportunity",
            {
                "Name": f"{account_name} - {rng.choice(DEAL_KINDS)} {i + 1}",
                "AccountId": account_id,
                "StageName": stage,
                "CloseDate": close.isoformat(),
                "Amount": float(rng.randint(5, 400) * 250),
                "Type": rng.choice(["New Customer", "Existing Customer - Upgrade"]),
                "LeadSource": rng.choice(LEAD_SOURCES),
                "RecordTypeId": record_types["Renewal" if i % 5 == 0 else "New Business"],
            },
            owner,
            age(),
        )
        if opportunity_id is None:
            continue
        opportunity_ids.append(opportunity_id)
        contacts = contacts_by_account[account_id]
        for n, contact_id in enumerate(
            rng.sample(contacts, k=min(len(contacts), rng.randint(1, 2)))
        ):
            create(
                "OpportunityContactRole",
                {
                    "OpportunityId": opportunity_id,
                    "ContactId": contact_id,
                    "Role": rng.choice(ROLES),
                    "IsPrimary": n == 0,
                },
                owner,
                age(),
            )

    contact_ids = [c for ids in contacts_by_account.values() for c in ids]
    for i in range(8 if contact_ids else 0):
        contact_id = contact_ids[(i * 7) % len(contact_ids)]
        contact = app.org.store.get("Contact", contact_id)
        create(
            "Case",
            {
                "Subject": CASE_SUBJECTS[i % len(CASE_SUBJECTS)],
                "ContactId": contact_id,
                "AccountId": contact.get("AccountId"),
                "Origin": rng.choice(["Phone", "Email", "Web"]),
                "Priority": rng.choice(["High", "Medium", "Low"]),
                "Status": rng.choice(["New", "Working", "Closed"]),
            },
            rng.choice(owners),
            age(),
        )
    for i in range(24 if contact_ids else 0):
        who = (
            contact_ids[(i * 5) % len(contact_ids)]
            if i % 3
            else (leads[i % len(leads)] if leads else contact_ids[0])
        )
        create(
            "Task",
            {
                "Subject": TASK_SUBJECTS[i % len(TASK_SUBJECTS)],
                "WhoId": who,
                "ActivityDate": (today + timedelta(days=rng.randint(-20, 20))).isoformat(),
                "Status": rng.choice(["Not Started", "In Progress", "Completed"]),
                "Priority": rng.choice(["High", "Normal", "Low"]),
            },
            rng.choice(owners),
            age(),
        )
    for i in range(10 if contact_ids else 0):
        start = now.replace(minute=0, second=0, microsecond=0) + timedelta(
            days=rng.randint(-10, 20)
        )
        create(
            "Event",
            {
                "Subject": "Meeting",
                "WhoId": contact_ids[(i * 11) % len(contact_ids)],
                "ActivityDateTime": stamp(start),
                "DurationInMinutes": rng.choice([30, 45, 60]),
                "Location": rng.choice(["Teams", "Office Amsterdam", "Customer site"]),
            },
            rng.choice(owners),
            age(),
        )
    campaigns = []
    for i, name in enumerate(["Spring Webinar", "Partner Summit", "Product Newsletter"]):
        campaign_id = create(
            "Campaign",
            {
                "Name": name,
                "Status": ["Completed", "In Progress", "Planned"][i],
                "Type": ["Webinar", "Conference", "Email"][i],
                "IsActive": i > 0,
                "StartDate": (today - timedelta(days=60 - 30 * i)).isoformat(),
            },
            owners[3],
            age(),
        )
        if campaign_id:
            campaigns.append(campaign_id)
    for i, campaign_id in enumerate(campaigns):
        members = (leads[i::7] + contact_ids[i::9])[:15]
        for person_id in members:
            key = "LeadId" if person_id.startswith("00Q") else "ContactId"
            create(
                "CampaignMember",
                {
                    "CampaignId": campaign_id,
                    key: person_id,
                    "Status": rng.choice(["Sent", "Responded"]),
                },
                owners[3],
                age(),
            )
    for i, account_id in enumerate(account_ids[:6]):
        create(
            "Project__c",
            {
                "Name": f"Implementation {i + 1}",
                "External_Id__c": f"PRJ-{1000 + i}",
                "Status__c": ["Planned", "Active", "Active", "On Hold", "Done", "Active"][i],
                "Budget__c": float(10000 + 2500 * i),
                "Account__c": account_id,
                "Start_Date__c": (today - timedelta(days=10 * i)).isoformat(),
            },
            rng.choice(owners),
            age(),
        )
    return {
        "seed": "demo",
        "created": counts,
        "skipped": skipped,
        "owners": [
            {"id": owner_id, "name": f"{f} {last}", "email": email}
            for owner_id, (f, last, email, _t) in zip(owners, DEMO_OWNERS, strict=True)
        ],
    }


def _person(person: DemoPerson, prefix: str, **extra: Any) -> dict[str, Any]:
    fields = {
        "FirstName": person.first_name,
        "LastName": person.last_name,
        "Email": person.email,
        "Phone": person.phone,
        "Title": person.title,
        f"{prefix}Country": person.country,
        f"{prefix}State": person.state or None,
        f"{prefix}City": person.company.city,
    }
    fields.update(extra)
    return fields
