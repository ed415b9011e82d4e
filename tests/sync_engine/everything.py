"""Every object pair switched on, and both CRMs filled with records of every kind: shared by
the all-objects fault and kill tests and ``bench/sync_all.py``. Through the official clients,
in batches."""

from __future__ import annotations

import random
from dataclasses import dataclass

# Run counts that say a cycle wrote something.
WRITE_COUNTS = ("created_in", "updated_in", "deleted_in", "associations_to")


def writes(runs) -> int:
    """What the runs wrote, on either side."""
    return sum(v for run in runs for k, v in run.counts.items() if v and k.startswith(WRITE_COUNTS))


def chunks(items: list, size: int):
    for start in range(0, len(items), size):
        yield items[start : start + size]


PROJECT_MAPPINGS = {
    "Name": "project_name",
    "Budget__c": "budget",
    "Status__c": "project_status",
    "Description__c": "description",
}


def hubspot_projects_schema(hs) -> str:
    body = {
        "name": "projects",
        "labels": {"singular": "Project", "plural": "Projects"},
        "primaryDisplayProperty": "project_name",
        "requiredProperties": ["project_name"],
        "associatedObjects": ["CONTACT", "COMPANY"],
        "properties": [
            {"name": "project_name", "label": "Name", "type": "string", "fieldType": "text"},
            {"name": "budget", "label": "Budget", "type": "number", "fieldType": "number"},
            {"name": "project_status", "label": "Status", "type": "enumeration",
             "fieldType": "select",
             "options": [{"label": v, "value": v} for v in ("Planned", "Active", "On Hold",
                                                             "Done")]},
            {"name": "description", "label": "Description", "type": "string",
             "fieldType": "textarea"},
        ],
    }  # fmt: skip
    return hs.crm.schemas.core_api.create(body).object_type_id


def switch_everything_on(integration, hs) -> str:
    from sync_engine.services import (
        custom_object_create,
        custom_object_schemas_read,
        object_settings_update,
        object_sync_get_or_create,
    )

    object_sync_get_or_create(integration=integration, object_name="contacts")
    object_settings_update(
        integration=integration, object_name="contacts", changes={"hubspot_creates": "contact"}
    )
    for name, changes in (
        ("companies", {}),
        ("deals", {}),
        ("tickets", {"setup_complete": True}),
        (
            "activities",
            {
                k: True
                for k in (
                    "hubspot_calls", "hubspot_emails", "hubspot_meetings", "hubspot_notes",
                    "hubspot_tasks", "salesforce_tasks", "salesforce_calls", "salesforce_emails",
                    "salesforce_meetings",
                )
            },
        ),
    ):  # fmt: skip
        object_settings_update(
            integration=integration, object_name=name, changes=changes, enabled=True
        )
    hs_type = hubspot_projects_schema(hs)
    fields, properties = custom_object_schemas_read(
        integration=integration, salesforce_object="Project__c", hubspot_object=hs_type
    )
    custom_object_create(
        integration=integration,
        settings={"salesforce_object": "Project__c", "hubspot_object": hs_type},
        mappings=PROJECT_MAPPINGS,
        salesforce_fields=fields,
        hubspot_properties=properties,
    )
    return hs_type


def sf_create(sf, records: list[dict]) -> list[str]:
    ids = []
    for batch in chunks(records, 200):
        result = sf.restful(
            "composite/sobjects", method="POST", json={"allOrNone": True, "records": batch}
        )
        ids += [r["id"] for r in result]
    return ids


def hs_create(hs, object_type: str, inputs: list[dict]) -> list[str]:
    ids = []
    for batch in chunks(inputs, 100):
        result = hs.api_request(
            {
                "method": "POST",
                "path": f"/crm/v3/objects/{object_type}/batch/create",
                "body": {"inputs": batch},
            }
        )
        ids += [r["id"] for r in result.json()["results"]]
    return ids


@dataclass
class Filled:
    """What was created on each side (the designed outcome of a sync is checked against it)."""

    hubspot_companies: int  # created in HubSpot, with no contacts: they stay HubSpot-only


def fill_both_sides(sf, hs, *, people: int, projects_type: str, seed: int) -> Filled:
    rng = random.Random(seed)
    n = max(people // 10, 1)

    def rec(sobject, **values):
        return {"attributes": {"type": sobject}, **values}

    accounts = sf_create(sf, [rec("Account", Name=f"Account {i}") for i in range(n)])
    contacts = sf_create(
        sf,
        [
            rec("Contact", LastName=f"Contact {i}", Email=f"sf-contact-{i}@bench.example",
                AccountId=accounts[i % n])
            for i in range(people // 2)
        ],
    )  # fmt: skip
    leads = sf_create(
        sf,
        [
            rec("Lead", LastName=f"Lead {i}", Company=f"Lead Co {i}",
                Email=f"sf-lead-{i}@bench.example")
            for i in range(people // 2)
        ],
    )  # fmt: skip
    opportunities = sf_create(
        sf,
        [
            rec("Opportunity", Name=f"Opportunity {i}", StageName="Prospecting",
                CloseDate="2027-01-31", Amount=1000 + i, AccountId=accounts[i % n])
            for i in range(n)
        ],
    )  # fmt: skip
    sf_create(
        sf,
        [
            rec("OpportunityContactRole", OpportunityId=o, ContactId=contacts[i], Role="Buyer")
            for i, o in enumerate(opportunities)
        ],
    )  # fmt: skip
    sf_create(
        sf,
        [
            rec("Case", Subject=f"Case {i}", Status="New", Origin="Web",
                AccountId=accounts[i % n], ContactId=contacts[i])
            for i in range(n)
        ],
    )  # fmt: skip
    sf_create(
        sf,
        [
            rec("Task", Subject=f"Follow up {i}", Status="Not Started",
                ActivityDate="2027-01-15", WhoId=(contacts + leads)[rng.randrange(people)])
            for i in range(n)
        ],
    )  # fmt: skip
    sf_create(
        sf,
        [rec("Project__c", Name=f"Project {i}", Budget__c=500.0 * i) for i in range(n // 2)],
    )

    hs_contacts = hs_create(
        hs,
        "contacts",
        [
            {"properties": {"email": f"hs-{i}@bench.example", "firstname": "H",
                            "lastname": f"Contact {i}"}}
            for i in range(people)
        ],
    )  # fmt: skip
    hs_create(hs, "companies", [{"properties": {"name": f"Company {i}"}} for i in range(n)])
    pipeline = next(
        p
        for p in hs.crm.pipelines.pipelines_api.get_all("deals").results
        if p.label.startswith("Salesforce")
    )
    stage = pipeline.stages[0].id
    hs_create(
        hs,
        "deals",
        [
            {"properties": {"dealname": f"Deal {i}", "amount": str(100 * i),
                            "pipeline": pipeline.id, "dealstage": stage,
                            "closedate": "2027-02-01T00:00:00Z"}}
            for i in range(n)
        ],
    )  # fmt: skip
    hs_create(
        hs,
        "notes",
        [
            {
                "properties": {"hs_note_body": f"Note {i}", "hs_timestamp": "2026-11-01T10:00:00Z"},
                "associations": [
                    {"to": {"id": hs_contacts[i]},
                     "types": [{"associationCategory": "HUBSPOT_DEFINED",
                                "associationTypeId": 202}]}
                ],
            }
            for i in range(n)
        ],
    )  # fmt: skip
    hs_create(
        hs,
        projects_type,
        [{"properties": {"project_name": f"HS project {i}"}} for i in range(n // 2)],
    )
    return Filled(hubspot_companies=n)


# --- the outcome ------------------------------------------------------------------------------
def salesforce_count(sf, sobject: str) -> int:
    return sf.query(f"SELECT COUNT() FROM {sobject}")["totalSize"]  # noqa: S608


def hubspot_count(hs, object_type: str) -> int:
    response = hs.api_request(
        {
            "method": "POST",
            "path": f"/crm/v3/objects/{object_type}/search",
            "body": {"limit": 1, "filterGroups": []},
        }
    )
    return response.json()["total"]


def hubspot_values(hs, object_type: str, ids: list[str], prop: str) -> dict[str, str]:
    values = {}
    for batch in chunks(ids, 100):
        response = hs.api_request(
            {
                "method": "POST",
                "path": f"/crm/v3/objects/{object_type}/batch/read",
                "body": {"inputs": [{"id": i} for i in batch], "properties": [prop]},
            }
        )
        for record in response.json()["results"]:
            values[str(record["id"])] = record["properties"].get(prop)
    return values


def in_step_problems(integration, sf, hs, *, filled: Filled, projects_type: str) -> list[str]:
    """Every pair's records exist once on each side, linked, with their names equal: what a
    sync that neither duplicated nor lost anything leaves. Returns the problems found."""
    from sync_engine.models import RecordLink

    links = RecordLink.objects.filter(integration=integration)
    problems = []

    def check(label, salesforce: int, hubspot: int, linked: int) -> None:
        if not salesforce == hubspot == linked:
            problems.append(f"{label}: Salesforce {salesforce}, HubSpot {hubspot}, links {linked}")

    people = salesforce_count(sf, "Lead") + salesforce_count(sf, "Contact")
    check("people", people, hubspot_count(hs, "contacts"), links.filter(object="contacts").count())
    check(
        "accounts",
        salesforce_count(sf, "Account"),
        hubspot_count(hs, "companies") - filled.hubspot_companies,
        links.filter(object="companies").count(),
    )
    check(
        "opportunities",
        salesforce_count(sf, "Opportunity"),
        hubspot_count(hs, "deals"),
        links.filter(object="deals").count(),
    )
    check(
        "cases",
        salesforce_count(sf, "Case"),
        hubspot_count(hs, "tickets"),
        links.filter(object="tickets").count(),
    )
    check(
        "activities",
        salesforce_count(sf, "Task"),
        hubspot_count(hs, "notes") + hubspot_count(hs, "tasks"),
        links.filter(object="activities").count(),
    )
    check(
        "projects",
        salesforce_count(sf, "Project__c"),
        hubspot_count(hs, projects_type),
        links.filter(object__startswith="custom:").count(),
    )
    for pair, sobject, field_name, object_type, prop in (
        ("companies", "Account", "Name", "companies", "name"),
        ("deals", "Opportunity", "Name", "deals", "dealname"),
        ("tickets", "Case", "Subject", "tickets", "subject"),
        ("custom:", "Project__c", "Name", projects_type, "project_name"),
    ):
        pairs = dict(
            links.filter(object__startswith=pair).values_list("salesforce_id", "hubspot_id")
        )
        names = {
            r["Id"]: r[field_name]
            for r in sf.query_all(f"SELECT Id, {field_name} FROM {sobject}")["records"]  # noqa: S608
        }
        hubspot = hubspot_values(hs, object_type, list(pairs.values()), prop)
        differ = [s for s, h in pairs.items() if names.get(s) != hubspot.get(h)]
        if differ:
            problems.append(f"{pair} names differ for {len(differ)}, e.g. {differ[:3]}")
    return problems
