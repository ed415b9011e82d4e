"""Control-plane actions: people working in Salesforce, and org settings an admin changes.

Each is registered with ``register_action`` (``POST /__emulator__/actions/<name>`` with JSON
kwargs, or ``app.run_action(name, **kwargs)``). Record changes are made as the "UI User" (or a
given ``user_id``), stamping ``LastModifiedById`` and ``SystemModstamp`` exactly like API writes,
so the sync engine sees them as human edits.
"""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from ..core.currencies import iso_4217
from . import case_statuses, stages
from . import currencies as currency_types
from .dml import Ctx
from .errors import SfError
from .ids import normalize
from .schema import ObjectDef, currency_field_raw, new_field_raw
from .validation import OPERATORS

if TYPE_CHECKING:
    from .app import SalesforceApp

# Cases too: Lightning's Merge Cases, set to delete the duplicates, soft-deletes them with
# MasterRecordId as the API's merge() does the others (which it doesn't take cases).
MERGEABLE = ("Lead", "Contact", "Account", "Case")
ACCESS_LEVELS = ("edit", "read", "hidden")

# Lead fields copied by conversion (lead field -> contact / account field).
LEAD_TO_CONTACT = {
    "FirstName": "FirstName",
    "LastName": "LastName",
    "Salutation": "Salutation",
    "Title": "Title",
    "Email": "Email",
    "Phone": "Phone",
    "MobilePhone": "MobilePhone",
    "Fax": "Fax",
    "Street": "MailingStreet",
    "City": "MailingCity",
    "State": "MailingState",
    "PostalCode": "MailingPostalCode",
    "Country": "MailingCountry",
    "LeadSource": "LeadSource",
    "HasOptedOutOfEmail": "HasOptedOutOfEmail",
    "DoNotCall": "DoNotCall",
    "Description": "Description",
    "OwnerId": "OwnerId",
}
LEAD_TO_ACCOUNT = {
    "Company": "Name",
    "Street": "BillingStreet",
    "City": "BillingCity",
    "State": "BillingState",
    "PostalCode": "BillingPostalCode",
    "Country": "BillingCountry",
    "Phone": "Phone",
    "Website": "Website",
    "Industry": "Industry",
    "AnnualRevenue": "AnnualRevenue",
    "NumberOfEmployees": "NumberOfEmployees",
    "OwnerId": "OwnerId",
}

# The standard objects a multi-currency org gives ``CurrencyIsoCode`` (custom objects get it too).
CURRENCY_OBJECTS = frozenset(
    {"Lead", "Contact", "Account", "Opportunity", "Case", "Campaign", "Task", "Event"}
)

# What an invitee's child copy of a group event shares with the parent event.
EVENT_SHARED = (
    "Subject",
    "WhoId",
    "WhatId",
    "Description",
    "Location",
    "StartDateTime",
    "DurationInMinutes",
    "IsAllDayEvent",
    "ActivityDate",
    "ShowAs",
    "Type",
)


def register(app: SalesforceApp) -> None:
    """Every public method of :class:`Actions` is an action of the same name."""
    actions = Actions(app)
    for name in dir(Actions):
        if not name.startswith("_") and callable(getattr(Actions, name)):
            app.register_action(name, getattr(actions, name))


class Actions:
    def __init__(self, app: SalesforceApp) -> None:
        self.app = app

    # --- helpers -------------------------------------------------------------------------
    def _obj(self, name: str | None, record_id: str | None = None) -> ObjectDef:
        if name:
            obj = self.app.schema.get(name)
            if obj is None:
                raise ValueError(f"unknown object {name!r}")
            return obj
        norm = normalize(record_id) if record_id else None
        obj = self.app.schema.for_id(norm) if norm else None
        if obj is None:
            raise ValueError(f"cannot tell the object of id {record_id!r}")
        return obj

    def _ctx(self, user_id: str | None = None, token: str | None = None) -> Ctx:
        if token:
            user_id = self.app.user_for_token(token)
        return self.app.ui_ctx(user_id)

    def _user(self, user_id: str | None, token: str | None) -> str:
        if token:
            found = self.app.user_for_token(token)
            if found is None:
                raise ValueError("that token is expired")
            return found
        if user_id:
            norm = normalize(user_id)
            if norm is None or self.app.org.store.get("User", norm) is None:
                raise ValueError(f"unknown user {user_id!r}")
            return norm
        raise ValueError("give token or user_id")

    # --- records -------------------------------------------------------------------------
    def get(self, id: str, object: str | None = None) -> dict[str, Any] | None:  # noqa: A002
        obj = self._obj(object, id)
        rec = self.app.org.store.get(obj.name, normalize(id) or "")
        return {k: v for k, v in rec.items() if not k.startswith("_")} if rec else None

    def create(
        self,
        object: str,
        fields: dict[str, Any],
        user_id: str | None = None,  # noqa: A002
        token: str | None = None,
    ) -> str:
        return self.app.writer.create(self._obj(object), fields, self._ctx(user_id, token))

    def edit(
        self,
        id: str,
        fields: dict[str, Any],
        object: str | None = None,  # noqa: A002
        user_id: str | None = None,
        token: str | None = None,
    ) -> str:
        return self.app.writer.update(self._obj(object, id), id, fields, self._ctx(user_id, token))

    def delete(self, id: str, object: str | None = None, user_id: str | None = None) -> str:  # noqa: A002
        return self.app.writer.delete(self._obj(object, id), id, self._ctx(user_id))

    def undelete(self, id: str, object: str | None = None, user_id: str | None = None) -> str:  # noqa: A002
        return self.app.writer.undelete(self._obj(object, id), id, self._ctx(user_id))

    def change_owner(self, id: str, owner_id: str, object: str | None = None) -> str:  # noqa: A002
        return self.edit(id, {"OwnerId": owner_id}, object)

    def merge(
        self,
        object: str,
        master_id: str,
        loser_ids: list[str],  # noqa: A002
        fields: dict[str, Any] | None = None,
        user_id: str | None = None,
    ) -> dict:
        """Merge up to two records into a master (Lead, Contact, Account, Case).

        Children of the losers move to the master; the losers go to the recycle bin with
        ``MasterRecordId`` set, which queryAll and getDeleted show.
        """
        obj = self._obj(object)
        if obj.name not in MERGEABLE:
            raise ValueError(f"{obj.name} records cannot be merged")
        if isinstance(loser_ids, str):
            loser_ids = [loser_ids]
        if not 1 <= len(loser_ids) <= 2:
            raise ValueError("merge takes one or two losing records")
        ctx = self._ctx(user_id)
        writer = self.app.writer
        master = writer.live(obj, master_id, ctx, action="update")
        losers = [writer.live(obj, loser, ctx, action="update")["Id"] for loser in loser_ids]
        if master["Id"] in losers:
            raise ValueError("the master cannot also be a losing record")
        store = self.app.org.store
        moved = 0
        with store.transaction():
            if fields:
                writer.update(obj, master["Id"], fields, ctx)
            else:
                writer.apply(obj, master["Id"], {}, ctx.user_id)
            for rel in obj.child_relationships:
                if rel["field"] == "MasterRecordId":
                    continue
                child = self.app.schema.objects[rel["childSObject"]]
                for loser in losers:
                    for child_id in sorted(store.lookup(child.name, rel["field"], loser, True)):
                        writer.apply(child, child_id, {rel["field"]: master["Id"]}, ctx.user_id)
                        moved += 1
            for loser in losers:
                writer._soft_delete(
                    obj, loser, ctx.user_id, cascade_of=None, master_id=master["Id"]
                )
        return {"master_id": master["Id"], "merged_ids": losers, "reparented": moved}

    def convert_lead(
        self,
        lead_id: str,
        account_id: str | None = None,
        contact_id: str | None = None,
        create_opportunity: bool = True,
        opportunity_name: str | None = None,
        converted_status: str | None = None,
        user_id: str | None = None,
    ) -> dict[str, Any]:
        """What ``convertLead()`` does: Account + Contact (new or given), optional Opportunity
        with the contact as primary contact role, and the lead marked converted."""
        app = self.app
        schema = app.schema
        ctx = self._ctx(user_id)
        writer = app.writer
        lead = writer.live(schema.objects["Lead"], lead_id, ctx, action="update")
        if lead.get("IsConverted"):
            raise SfError("CANNOT_UPDATE_CONVERTED_LEAD", "cannot reference converted lead", [])
        today = app.clock.now().date()
        with app.org.store.transaction():
            if account_id:
                account = writer.live(schema.objects["Account"], account_id, ctx, action="update")
                account_id = account["Id"]
                writer.apply(schema.objects["Account"], account_id, {}, ctx.user_id)
            else:
                fields = {
                    dst: lead.get(src)
                    for src, dst in LEAD_TO_ACCOUNT.items()
                    if lead.get(src) is not None
                }
                account_id = writer.create(schema.objects["Account"], fields, ctx)
            if contact_id:
                contact = writer.live(schema.objects["Contact"], contact_id, ctx, action="update")
                contact_id = contact["Id"]
                writer.apply(schema.objects["Contact"], contact_id, {}, ctx.user_id)
            else:
                fields = {
                    dst: lead.get(src)
                    for src, dst in LEAD_TO_CONTACT.items()
                    if lead.get(src) is not None
                }
                fields["AccountId"] = account_id
                contact_id = writer.create(schema.objects["Contact"], fields, ctx)
            opportunity_id = None
            if create_opportunity:
                first_stage = stages.first_open(app)
                opportunity_id = writer.create(
                    schema.objects["Opportunity"],
                    {
                        "Name": opportunity_name or f"{lead.get('Company')}-",
                        "AccountId": account_id,
                        "StageName": first_stage,
                        "CloseDate": (today + timedelta(days=30)).isoformat(),
                        "LeadSource": lead.get("LeadSource"),
                        "OwnerId": lead.get("OwnerId"),
                    },
                    ctx,
                )
                writer.create(
                    schema.objects["OpportunityContactRole"],
                    {
                        "OpportunityId": opportunity_id,
                        "ContactId": contact_id,
                        "IsPrimary": True,
                    },
                    ctx,
                )
            # The lead's open and closed activities move to the contact, related to the new
            # opportunity when there is one (their LastModified* are stamped as well).
            store = app.org.store
            for name in ("Task", "Event"):
                if name not in schema.objects:
                    continue
                for activity_id in sorted(store.lookup(name, "WhoId", lead["Id"], True)):
                    if store.table(name)[activity_id].get("IsDeleted"):
                        continue
                    moved = {"WhoId": contact_id}
                    if opportunity_id:
                        moved["WhatId"] = opportunity_id
                    writer.apply(schema.objects[name], activity_id, moved, ctx.user_id)
            writer.update(
                schema.objects["Lead"],
                lead["Id"],
                {
                    "IsConverted": True,
                    "ConvertedDate": today.isoformat(),
                    "ConvertedAccountId": account_id,
                    "ConvertedContactId": contact_id,
                    "ConvertedOpportunityId": opportunity_id,
                    "Status": converted_status or schema.lead_converted_status,
                },
                Ctx(user_id=ctx.user_id, allow_save=True, system=True),
            )
        return {
            "lead_id": lead["Id"],
            "account_id": account_id,
            "contact_id": contact_id,
            "opportunity_id": opportunity_id,
        }

    def add_contact_role(
        self,
        opportunity_id: str,
        contact_id: str,
        role: str | None = None,
        is_primary: bool = False,
        user_id: str | None = None,
    ) -> str:
        app = self.app
        ctx = self._ctx(user_id)
        ocr = app.schema.objects["OpportunityContactRole"]
        with app.org.store.transaction():
            if is_primary:
                # only one primary contact role per opportunity
                norm = normalize(opportunity_id) or opportunity_id
                table = app.org.store.table(ocr.name)
                for other in sorted(app.org.store.lookup(ocr.name, "OpportunityId", norm, True)):
                    rec = table[other]
                    if rec.get("IsPrimary") and not rec.get("IsDeleted"):
                        app.writer.update(ocr, other, {"IsPrimary": False}, ctx)
            return app.writer.create(
                ocr,
                {
                    "OpportunityId": opportunity_id,
                    "ContactId": contact_id,
                    "Role": role,
                    "IsPrimary": bool(is_primary),
                },
                ctx,
            )

    def invite_to_event(self, event_id: str, invitee_id: str, user_id: str | None = None) -> str:
        """Someone adds a user as an invitee of an Event: it becomes a group event and the
        invitee gets a child copy of it (``IsChild`` true, owned by them) with the same
        subject, time and people. ``IsChild`` isn't writable through the API, as in
        Salesforce; this is how a child event comes about. Returns the child's id."""
        app = self.app
        ctx = self._ctx(user_id)
        event = app.schema.objects["Event"]
        parent = app.writer.live(event, event_id, ctx, action="update")
        if parent.get("IsChild"):
            raise ValueError("invitees are added to the parent event, not to a child")
        invitee = self._user(invitee_id, None)
        group = {"IsGroupEvent": True, "GroupEventType": "1"}
        copied = {k: parent[k] for k in EVENT_SHARED if parent.get(k) is not None}
        with app.org.store.transaction():
            app.writer.apply(event, parent["Id"], group, ctx.user_id)
            return app.writer.create(
                event,
                {**copied, **group, "OwnerId": invitee, "IsChild": True},
                Ctx(user_id=ctx.user_id, system=True, auto_assign=False),
            )

    def set_stage(self, opportunity_id: str, stage: str, user_id: str | None = None) -> str:
        return self.app.writer.update(
            self.app.schema.objects["Opportunity"],
            opportunity_id,
            {"StageName": stage},
            self._ctx(user_id),
        )

    # --- org configuration ---------------------------------------------------------------
    def set_opportunity_stage(self, value: str, **changes: Any) -> str:
        """Add or change a ``StageName`` value as in Setup; see ``stages.set_stage``."""
        return stages.set_stage(self.app, value, **changes)

    def set_case_status(self, value: str, **changes: Any) -> str:
        """Add or change a ``Case.Status`` value as in Setup; see ``case_statuses.set_status``."""
        return case_statuses.set_status(self.app, value, **changes)

    def enable_state_country_picklists(self, enabled: bool = True) -> bool:
        """Turn State and Country/Territory Picklists on: ``*Code`` fields appear and text
        values are validated; existing text values get their codes where they match."""
        app = self.app
        org = app.org
        if enabled and not org.state_country:
            geo = app.schema.geo
            for obj in app.schema.objects.values():
                for prefix in obj.address_prefixes():
                    if prefix + "CountryCode" not in obj.fields:
                        continue
                    for record_id, rec in org.store.table(obj.name).items():
                        country = rec.get(prefix + "Country")
                        code = geo.country_code(country) if country else None
                        changes: dict[str, Any] = {}
                        if code:
                            changes[prefix + "CountryCode"] = code
                            state = rec.get(prefix + "State")
                            state_code = geo.state_code(code, state) if state else None
                            if state_code:
                                changes[prefix + "StateCode"] = state_code
                        if changes:
                            org.store.update(obj.name, record_id, changes)
        org.state_country = bool(enabled)
        app._caches_changed()
        return org.state_country

    def enable_multi_currency(
        self,
        corporate: str = "USD",
        currencies: list[str] | None = None,
        rates: dict[str, float] | None = None,
    ) -> list[str]:
        """Turn on multiple currencies (for good, as in Salesforce): every object that can hold
        amounts gets ``CurrencyIsoCode``, a restricted picklist of the active ``currencies``
        (``corporate`` among them, and the default); existing records are in the corporate
        currency. ``CurrencyType`` gets a row per currency at its rate in ``rates`` (units per
        corporate unit; 1 when not given). Called again, it activates the currencies given
        (none is deactivated) and sets the rates given."""
        app = self.app
        codes = iso_4217([corporate, *(currencies or [])])
        iso_4217(list(rates or {}))
        # Already on: the corporate currency stays, and the currencies active stay active.
        corporate = next(
            (c for c, row in currency_types.by_code(app).items() if row.get("IsCorporate")),
            corporate,
        )
        codes = list(dict.fromkeys([corporate, *currency_types.by_code(app), *codes]))
        kept = [(o, raw) for o, raw in app.org.runtime_fields if raw["name"] != "CurrencyIsoCode"]
        before = {o for o, raw in app.org.runtime_fields if raw["name"] == "CurrencyIsoCode"}
        for obj in app.schema.objects.values():
            if obj.name not in CURRENCY_OBJECTS and not obj.custom:
                continue
            raw = currency_field_raw(obj, corporate, codes)
            if obj.name not in before:  # existing records are in the corporate currency
                for record_id in list(app.org.store.table(obj.name)):
                    app.org.store.update(obj.name, record_id, {"CurrencyIsoCode": corporate})
            app.schema.add_field(obj.name, raw)
            kept.append((obj.name, raw))
        app.org.runtime_fields = kept
        currency_types.ensure_rows(app, corporate, codes, dict(rates or {}))
        app._caches_changed()
        return codes

    def set_conversion_rate(self, currency: str, rate: float) -> dict[str, Any]:
        """An admin's new conversion rate for one of the org's currencies (units of it per
        unit of the corporate currency), as Setup > Manage Currencies sets it."""
        return currency_types.set_rate(self.app, currency, rate)

    def set_assignment_rule(self, object: str, owner_id: str = "") -> str:  # noqa: A002
        """Activate an assignment rule that gives ``object``'s records to ``owner_id`` (empty
        deactivates it). API creates and updates run it unless they send ``Sforce-Auto-Assign:
        FALSE``; the people of these actions don't."""
        obj = self._obj(object)
        if owner_id:
            self.app.org.assignment_rules[obj.name] = owner_id
        else:
            self.app.org.assignment_rules.pop(obj.name, None)
        return owner_id

    def add_validation_rule(
        self,
        object: str,
        field: str,
        operator: str,
        message: str,  # noqa: A002
        value: Any = None,
        error_field: str | None = None,
        rule_name: str | None = None,
        active: bool = True,
    ) -> str:
        """Reject writes where ``<field> <operator> <value>`` holds (like a rule formula)."""
        obj = self._obj(object)
        f = obj.field(field)
        if f is None:
            raise ValueError(f"{obj.name} has no field {field!r}")
        if operator not in OPERATORS:
            raise ValueError(f"operator must be one of {', '.join(OPERATORS)}")
        name = rule_name or f"Rule_{len(self.app.org.validation_rules) + 1}"
        self.app.org.validation_rules.append(
            {
                "name": name,
                "object": obj.name,
                "field": f.name,
                "operator": operator,
                "value": value,
                "message": message,
                "active": bool(active),
                "error_field": (
                    obj.field(error_field).name
                    if error_field and obj.field(error_field)
                    else error_field
                ),
            }
        )
        return name

    def remove_validation_rule(self, rule_name: str) -> bool:
        before = len(self.app.org.validation_rules)
        self.app.org.validation_rules = [
            r for r in self.app.org.validation_rules if r["name"] != rule_name
        ]
        return len(self.app.org.validation_rules) < before

    def add_duplicate_rule(
        self,
        object: str,
        field: str = "Email",
        allow_save: bool = False,  # noqa: A002
        rule_name: str | None = None,
        message: str | None = None,
        match_objects: list[str] | None = None,
        active: bool = True,
    ) -> str:
        """Block (or alert, with ``allow_save``) saves matching an existing record's field."""
        obj = self._obj(object)
        f = obj.field(field)
        if f is None:
            raise ValueError(f"{obj.name} has no field {field!r}")
        targets = [self._obj(n).name for n in (match_objects or [obj.name])]
        name = rule_name or f"Standard_{obj.name}_Duplicate_Rule"
        self.app.org.duplicate_rules.append(
            {
                "name": name,
                "object": obj.name,
                "field": f.name,
                "allow_save": bool(allow_save),
                "message": message,
                "match_objects": targets,
                "active": bool(active),
                "match_rule": f"Standard_{obj.name}_Match_Rule_v1_0",
            }
        )
        return name

    def remove_duplicate_rule(self, rule_name: str) -> bool:
        before = len(self.app.org.duplicate_rules)
        self.app.org.duplicate_rules = [
            r for r in self.app.org.duplicate_rules if r["name"] != rule_name
        ]
        return len(self.app.org.duplicate_rules) < before

    def lock_row(self, id: str, seconds: float = 60) -> str:  # noqa: A002
        norm = normalize(id)
        if norm is None:
            raise ValueError(f"malformed id {id!r}")
        until = self.app.clock.now() + timedelta(seconds=float(seconds))
        self.app.org.locks[norm] = until
        return until.isoformat()

    def unlock_row(self, id: str) -> bool:  # noqa: A002
        return self.app.org.locks.pop(normalize(id) or id, None) is not None

    def set_field_permission(
        self,
        object: str,
        field: str,
        access: str,  # noqa: A002
        token: str | None = None,
        user_id: str | None = None,
    ) -> str:
        """Field-level security for one user: ``edit`` (default), ``read`` or ``hidden``."""
        obj = self._obj(object)
        f = obj.field(field)
        if f is None:
            raise ValueError(f"{obj.name} has no field {field!r}")
        if access not in ACCESS_LEVELS:
            raise ValueError(f"access must be one of {', '.join(ACCESS_LEVELS)}")
        user = self._user(user_id, token)
        perms = self.app.org.field_perms.setdefault(user, {}).setdefault(obj.name, {})
        if access == "edit":
            perms.pop(f.lower, None)
        else:
            perms[f.lower] = access
        self.app._caches_changed()
        return user

    def set_record_access(
        self,
        access: str,
        id: str | None = None,  # noqa: A002
        object: str | None = None,
        token: str | None = None,  # noqa: A002
        user_id: str | None = None,
    ) -> str:
        """Sharing for one user on one record (``id``) or a whole object: ``read`` makes writes
        fail with INSUFFICIENT_ACCESS_OR_READONLY, ``edit`` allows edits but not deletes,
        ``all`` restores full access."""
        if access not in ("read", "edit", "none", "all"):
            raise ValueError("access must be read, edit, none or all")
        key = normalize(id) if id else (self._obj(object).name if object else None)
        if not key:
            raise ValueError("give id or object")
        user = self._user(user_id, token)
        grants = self.app.org.record_access.setdefault(user, {})
        if access == "all":
            grants.pop(key, None)
        else:
            grants[key] = access
        return user

    def issue_token(self, client_id: str = "emulator-client", client_secret: str = "") -> dict:
        """The token response of a completed OAuth web-server flow, without the browser."""
        from .oauth import integration_user, issue

        user = integration_user(self.app, client_id)
        return issue(self.app, client_id, user, client_secret, None)

    def configure_bulk(self, in_progress_polls: int | None = None) -> dict[str, Any]:
        """Bulk 2.0 jobs report ``InProgress`` for this many status polls before completing."""
        if in_progress_polls is not None:
            self.app.org.bulk_settings["in_progress_polls"] = int(in_progress_polls)
        return dict(self.app.org.bulk_settings)

    def fail_next_bulk_job(self, message: str = "InvalidBatch : Failed to process query") -> str:
        """The next Bulk 2.0 job ends ``Failed`` with this ``errorMessage``."""
        self.app.org.bulk_settings["fail_next_job"] = message
        return message

    def expire_token(self, token: str) -> bool:
        """That access token (only that one) now answers 401 INVALID_SESSION_ID."""
        self.app.org.expired.add(token)
        return True

    def late_commit(self, seconds: float, count: int = 1) -> dict[str, Any]:
        """The next ``count`` writes become visible ``seconds`` after their SystemModstamp."""
        entry = {"seconds": float(seconds), "remaining": int(count)}
        self.app.org.late_commits.append(entry)
        return entry

    def add_field(
        self,
        object: str,
        field: str,
        type: str = "string",  # noqa: A002
        label: str | None = None,
        length: int | None = None,
        external_id: bool = False,
        unique: bool = False,
        values: list[str] | None = None,
        restricted: bool = False,
        reference_to: str | None = None,
        case_sensitive: bool = False,
    ) -> str:
        """Add a custom field at runtime (describe, validation and SOQL all see it).

        ``external_id`` fields are not unique unless ``unique`` is true; several records with
        the same value then make upserts answer 300 Multiple Choices. A unique field matches
        values ignoring case unless ``case_sensitive`` ("Treat 'ABC' and 'abc' as different
        values")."""
        obj = self._obj(object)
        name = field if field.endswith("__c") else field + "__c"
        if obj.field(name) is not None:
            raise ValueError(f"{obj.name}.{name} already exists")
        extra: dict[str, Any] = {}
        if length is not None:
            extra["length"] = int(length)
        if external_id:
            extra.update(externalId=True, idLookup=True)
        if unique:  # external ids may be non-unique, as in Salesforce
            extra["unique"] = True
            extra["caseSensitive"] = bool(case_sensitive)
        if values:
            extra["values"] = list(values)
            extra["restrictedPicklist"] = bool(restricted)
        if reference_to:
            target = self._obj(reference_to)
            extra.update(referenceTo=[target.name], relationshipName=name[:-3] + "__r")
        raw = new_field_raw(name, label or name[:-3].replace("_", " "), type, **extra)
        self.app.schema.add_field(obj.name, raw)
        self.app.org.runtime_fields.append((obj.name, raw))
        if type == "boolean":  # existing records read false, as for a new checkbox in Salesforce
            for rec in self.app.org.store.table(obj.name).values():
                rec.setdefault(name, False)
        self.app._caches_changed()
        return name

    def add_record_type(
        self,
        object: str,
        label: str,
        developer_name: str | None = None,  # noqa: A002
        active: bool = True,
    ) -> str:
        obj = self._obj(object)
        record_type = self.app.schema.objects["RecordType"]
        record_id = self.app.writer.insert_raw(
            record_type,
            {
                "Name": label,
                "DeveloperName": developer_name or label.replace(" ", "_"),
                "SobjectType": obj.name,
                "IsActive": bool(active),
            },
            self.app.org.ui_user_id,
        )
        self.app.refresh_record_types()
        return record_id

    def create_user(
        self, last_name: str, email: str, first_name: str | None = None, title: str | None = None
    ) -> str:
        return self.app.create_user(first_name, last_name, email, title=title)

    def user_for_token(self, token: str) -> str | None:
        return self.app.user_for_token(token)

    def set_oauth_user(self, user_id: str, client_id: str = "hubspot-salesforce-sync") -> str:
        """The user the OAuth sign-ins of ``client_id`` authorize as from now on (someone
        signing in as another user); tokens issued before keep their user."""
        user = self._user(user_id, None)
        self.app.org.oauth_clients[client_id] = user
        return user

    def new_org_id(self) -> str:
        """A new org id, as a refreshed (or another) sandbox has; records and users stay."""
        from .ids import make_id

        self.app.org.org_id = make_id("00D", secrets.randbelow(62**6) + 62**5)
        return self.app.org.org_id

    def expire_query_locators(self) -> int:
        return self.app.queries.expire_all()
