"""Lifecycle stages from opportunities (spec §7).

A synced contact with a contact role on an open opportunity becomes an *opportunity*; once one
of its opportunities is Closed Won it becomes a *customer*, also when the role is added after
the win. Stages only move forward, and optionally fan out to every contact of the company.
When the company pair is switched on, each moved contact's primary company follows, also
forward-only.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from django.db import transaction

from ..models import RecordLink
from ..selectors import pairs_switched_on
from .changes import (
    COMPANY_PROPERTY,
    Cursor,
    SoqlStream,
    Version,
    parse_time,
    salesforce_by_ids,
    soql_string,
    with_retries,
)
from .pair import hubspot_associations_read, hubspot_batch_read

if TYPE_CHECKING:
    from .contacts import ContactSync

ORDER = [
    "subscriber",
    "lead",
    "marketingqualifiedlead",
    "salesqualifiedlead",
    "opportunity",
    "customer",
    "evangelist",
    "other",
]
RANK = {stage: i for i, stage in enumerate(ORDER)}
ROLE_FIELDS = ["Id", "IsDeleted", "SystemModstamp", "ContactId", "OpportunityId"]
OPPORTUNITY_FIELDS = ["Id", "IsDeleted", "SystemModstamp", "IsClosed", "IsWon"]
CONTACT_TO_COMPANY = "companies"

log = logging.getLogger(__name__)


def later(stage: str, than: str | None) -> bool:
    return RANK.get(stage, -1) > RANK.get(than or "", -1)


LIFECYCLE_STREAMS = ("salesforce:OpportunityContactRole", "salesforce:Opportunity")


class LifecycleTransitions:
    def __init__(self, contacts: ContactSync) -> None:
        self.contacts = contacts
        self.ctx = contacts.ctx

    def streams(self) -> list[SoqlStream]:
        integration = self.ctx.integration
        role_stream, opportunity_stream = LIFECYCLE_STREAMS
        return [
            SoqlStream(
                "OpportunityContactRole", ROLE_FIELDS, Cursor.load(integration, role_stream)
            ),
            SoqlStream(
                "Opportunity", OPPORTUNITY_FIELDS, Cursor.load(integration, opportunity_stream)
            ),
        ]

    def handle(self, stream: SoqlStream, records: list[dict]) -> None:
        versions = [Version.of(r["Id"], parse_time(r.get("SystemModstamp")), r) for r in records]
        fresh = [
            r
            for r, version in zip(records, versions, strict=True)
            if not r.get("IsDeleted") and not stream.cursor.seen(version)
        ]
        if stream.sobject == "OpportunityContactRole":
            roles = [(r["ContactId"], r["OpportunityId"]) for r in fresh if r.get("ContactId")]
            states = {
                o["Id"]: o
                for o in salesforce_by_ids(
                    self.ctx.salesforce,
                    "Opportunity",
                    OPPORTUNITY_FIELDS,
                    sorted({opp for _, opp in roles}),
                )
            }
        else:
            won = [r["Id"] for r in fresh if r.get("IsWon")]
            states = {r["Id"]: r for r in fresh}
            roles = [(r["ContactId"], r["OpportunityId"]) for r in self._roles_of(won)]
        targets: dict[str, str] = {}
        for contact_id, opportunity_id in roles:
            opportunity = states.get(opportunity_id)
            if not opportunity:
                continue
            stage = (
                "customer"
                if opportunity.get("IsWon")
                else ("opportunity" if not opportunity.get("IsClosed") else None)
            )
            if stage and later(stage, targets.get(contact_id)):
                targets[contact_id] = stage
        if targets:
            self.apply(targets)
        with transaction.atomic():
            stream.cursor.advance(versions)

    def _roles_of(self, opportunity_ids: list[str]) -> list[dict]:
        if not opportunity_ids:
            return []
        soql = (
            "SELECT ContactId, OpportunityId FROM OpportunityContactRole "  # noqa: S608
            f"WHERE OpportunityId IN ({', '.join(soql_string(i) for i in opportunity_ids)})"
        )
        return with_retries(lambda: self.ctx.salesforce.query_all(soql))

    def apply(self, targets: dict[str, str]) -> None:
        """Move linked HubSpot contacts forward (and their companies' contacts, if asked),
        then their primary companies when the company pair is on."""
        links = RecordLink.objects.filter(
            integration=self.ctx.integration, object="contacts", salesforce_id__in=list(targets)
        )
        stages = {link.hubspot_id: targets[link.salesforce_id] for link in links}
        if not stages:
            return
        transitioned = stages  # the contacts the opportunities moved, before any fan-out
        if self.ctx.settings.lifecycle_company_fanout:
            stages = self._fan_out(stages)
        companies_on = "companies" in pairs_switched_on(integration=self.ctx.integration)
        properties = ["lifecyclestage"]
        if companies_on:
            # The primary company comes with the same read: no extra call to find it.
            properties.append(COMPANY_PROPERTY)
        hubspot = self.ctx.hubspot
        current = hubspot_batch_read(
            hubspot, object_type="contacts", ids=list(stages), properties=properties
        )
        updates = [
            {"id": str(o.id), "properties": {"lifecyclestage": stages[str(o.id)]}}
            for o in current.results
            if str(o.id) in stages and later(stages[str(o.id)], o.properties.get("lifecyclestage"))
        ]
        if updates:
            _, failed = self.contacts.hubspot_batch("update", updates, key=lambda i: i["id"])
            self.contacts.counts["lifecycle_updates"] += len(updates) - len(failed)
        if companies_on:
            self._move_companies(transitioned, current.results)

    def _move_companies(self, transitioned: dict[str, str], contacts: list[Any]) -> None:
        """Each transitioned contact's primary company takes its stage, forward-only (spec §7,
        "when companies sync"). Fanned-out colleagues don't count: their primary company may
        be another one, which no opportunity of theirs moved."""
        stage_of_company: dict[str, str] = {}
        for contact in contacts:
            stage = transitioned.get(str(contact.id))
            company = (contact.properties or {}).get(COMPANY_PROPERTY)
            if stage and company and later(stage, stage_of_company.get(company)):
                stage_of_company[company] = stage
        if not stage_of_company:
            return
        hubspot = self.ctx.hubspot
        current = hubspot_batch_read(
            hubspot,
            object_type="companies",
            ids=sorted(stage_of_company),
            properties=["lifecyclestage"],
        )
        updates = [
            {"id": str(o.id), "properties": {"lifecyclestage": stage_of_company[str(o.id)]}}
            for o in current.results
            if str(o.id) in stage_of_company
            and later(stage_of_company[str(o.id)], (o.properties or {}).get("lifecyclestage"))
        ]
        if not updates:
            return
        # Forward-only and idempotent: a refused company is tried again at the contacts' next
        # transition, and never fails the contact cycle or holds its cursor back.
        _, failed = self.contacts.hubspot_batch(
            "update", updates, key=lambda i: i["id"], object_type="companies"
        )
        if failed:
            log.warning("Company lifecycle stages refused: %s", failed)
        self.contacts.counts["lifecycle_updates"] += len(updates) - len(failed)

    def _fan_out(self, stages: dict[str, str]) -> dict[str, str]:
        hubspot = self.ctx.hubspot
        companies = hubspot_associations_read(hubspot, "contacts", CONTACT_TO_COMPANY, list(stages))
        stage_of_company: dict[str, str] = {}
        for row in companies.results or []:
            for to in row.to or []:
                company = str(to.to_object_id)
                stage = stages[str(row._from.id)]
                if later(stage, stage_of_company.get(company)):
                    stage_of_company[company] = stage
        if not stage_of_company:
            return stages
        people = hubspot_associations_read(
            hubspot, CONTACT_TO_COMPANY, "contacts", list(stage_of_company)
        )
        result = dict(stages)
        for row in people.results or []:
            stage = stage_of_company[str(row._from.id)]
            for to in row.to or []:
                contact = str(to.to_object_id)
                if later(stage, result.get(contact)):
                    result[contact] = stage
        return result
