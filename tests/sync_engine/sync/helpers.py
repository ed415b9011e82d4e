"""Small helpers for scenario tests: people editing in HubSpot, reading both sides."""

from django.utils import timezone
from hubspot.crm.contacts import SimplePublicObjectInput, SimplePublicObjectInputForCreate

from sync_engine.models import FieldMapping, SyncError


def hs_create(hs, **properties) -> str:
    return hs.crm.contacts.basic_api.create(
        SimplePublicObjectInputForCreate(properties=properties)
    ).id


def hs_update(hs, contact_id: str, **properties) -> None:
    hs.crm.contacts.basic_api.update(contact_id, SimplePublicObjectInput(properties=properties))


def hs_get(hs, contact_id: str, *props) -> dict:
    return hs.crm.contacts.basic_api.get_by_id(contact_id, properties=list(props)).properties


def hs_emails(hs) -> list[str]:
    emails, after = [], None
    while True:
        page = hs.crm.contacts.basic_api.get_page(limit=100, after=after, properties=["email"])
        emails += [(o.properties.get("email") or "").lower() for o in page.results]
        if not page.paging:
            return emails
        after = page.paging.next.after


def hs_contacts(emulators, count: int, *, start: int = 0, **properties) -> list[str]:
    """``count`` HubSpot contacts made at once in the emulator (``properties`` are formats of
    the contact's number ``i``, from ``start``): their ids."""
    return [
        emulators.hubspot.app.run_action(
            "create",
            object_type="contacts",
            properties={name: value.format(i=i) for name, value in properties.items()},
        )["id"]
        for i in range(start, start + count)
    ]


def hs_list(emulators, name: str, record_ids, object_type: str = "contacts") -> str:
    """A static (MANUAL) HubSpot list of ``record_ids``, made as an admin would in HubSpot."""
    made = emulators.hubspot.app.run_action(
        "create_list",
        list_name=name,
        object_type=object_type,
        record_ids=[str(i) for i in record_ids],
    )
    return str(made["listId"])


def handles_mapped_after_they_synced(integration, emulators) -> None:
    """Quiet minutes (past the cursors' overlap), then HubSpot's Twitter handle mapped to the
    lead's Description, with a contact cycle on each side: the people synced before the
    mapping was made, which sends nothing until they change."""
    from emulators.testing import advance_clocks
    from sync_engine.services import mapping_create
    from sync_engine.sync.cycle import sync_cycle_run

    def cycle() -> None:
        run = sync_cycle_run(integration=integration, object_name="contacts")
        assert run.status == "succeeded", run.message

    advance_clocks(emulators, 600)
    cycle()
    mapping_create(
        integration=integration,
        object_name="contacts",
        hubspot_property="twitterhandle",
        salesforce_field="Description",
    )
    cycle()


def new_lead(sf, **fields) -> str:
    return sf.Lead.create({"LastName": "Doe", "Company": "Acme", **fields})["id"]


def set_rule(integration, prop, rule):
    """The sync rule of the mapping of HubSpot property ``prop``."""
    from sync_engine.models import FieldMapping

    FieldMapping.objects.filter(integration=integration, hubspot_property=prop).update(rule=rule)


def refuse_associations(emulators, from_type: str, to_type: str, *, times: int = 2) -> None:
    """HubSpot refuses association creates as a record at its association limit would: a 400
    for the batch, then for the first input alone once the engine splits it (``times=2``)."""
    emulators.hubspot.app.faults.add(
        path=f"/crm/v4/associations/{from_type}/{to_type}/batch/create",
        status=400,
        body={
            "status": "error",
            "category": "VALIDATION_ERROR",
            "message": "Association limit reached for this record",
        },
        times=times,
    )


def user_and_owner(emulators, first: str, last: str, email: str) -> tuple[str, str]:
    """A Salesforce user and the HubSpot owner that matches it (same name and email), as
    (user id, owner id)."""
    user = emulators.salesforce.app.run_action(
        "create_user", first_name=first, last_name=last, email=email
    )
    owner = emulators.hubspot.app.run_action(
        "create_owner", email=email, first_name=first, last_name=last
    )["id"]
    return user, owner


class Crash(Exception):
    """The worker dies here: nothing after this instant runs."""


def crash_on_creates(monkeypatch):
    """The activities worker dies between a commit's creates and their links; call what this
    returns to revive it."""
    from sync_engine.sync.activities import ActivitySync

    original = ActivitySync.commit_items

    def crash(self, items, origin, cursor, handled):
        if any(i.created_id for i in items):
            raise Crash("worker died before the links were stored")
        return original(self, items, origin, cursor, handled)

    monkeypatch.setattr(ActivitySync, "commit_items", crash)
    return lambda: monkeypatch.setattr(ActivitySync, "commit_items", original)


def company_sync_on(integration, emulators) -> None:
    """Company sync on, with contacts (a HubSpot contact creates a Salesforce contact), and
    HubSpot's search limit lifted: a company cycle searches twice (companies, contacts'
    primary company), and back-to-back cycles at 5 searches a second would wait 10 s."""
    from sync_engine.services import object_settings_update, object_sync_get_or_create

    emulators.hubspot.app.configure_budget(search_per_second=1000)
    object_sync_get_or_create(integration=integration, object_name="contacts")
    object_settings_update(
        integration=integration, object_name="companies", changes={}, enabled=True
    )
    object_settings_update(
        integration=integration, object_name="contacts", changes={"hubspot_creates": "contact"}
    )


def deal_sync_on(integration, emulators) -> None:
    """Deal sync on, after contacts (HubSpot contacts create Salesforce contacts, so deals'
    contacts get roles), with HubSpot's search limit lifted."""
    from sync_engine.services import object_settings_update, object_sync_get_or_create

    emulators.hubspot.app.configure_budget(search_per_second=1000)
    object_sync_get_or_create(integration=integration, object_name="contacts")
    object_settings_update(
        integration=integration, object_name="contacts", changes={"hubspot_creates": "contact"}
    )
    object_settings_update(integration=integration, object_name="deals", changes={}, enabled=True)


def ticket_sync_on(integration, emulators) -> None:
    """Ticket sync set up (as its wizard's Finish leaves it) and on, after contacts, with
    HubSpot's search limit lifted."""
    from sync_engine.services import object_settings_update, object_sync_get_or_create

    emulators.hubspot.app.configure_budget(search_per_second=1000)
    object_sync_get_or_create(integration=integration, object_name="contacts")
    object_settings_update(
        integration=integration,
        object_name="tickets",
        changes={"setup_complete": True},
        enabled=True,
    )


def due_now(error) -> None:
    """Its retry is due (20 minutes went by)."""
    from django.utils import timezone

    from sync_engine.models import SyncError

    SyncError.objects.filter(pk=error.pk).update(next_retry_at=timezone.now())


def lead_refused_for_a_taken_email(cycle, sf_person, hs_person) -> tuple[str, object]:
    """A synced lead whose new email belongs to another HubSpot contact: HubSpot can't take
    it, so the lead has an open *Email already in use* error. (lead id, the error)."""
    from sync_engine.models import SyncError

    hs_create(hs_person, email="taken@example.com", lastname="Holder", company="X")
    lead = new_lead(sf_person, Email="mover@example.com")
    cycle()
    sf_person.Lead.update(lead, {"Email": "taken@example.com"})
    cycle()
    error = SyncError.objects.get(record_key=f"salesforce:{lead}", resolved_at__isnull=True)
    assert error.error_type == "email_in_use"
    return lead, error


def open_errors() -> list[tuple]:
    """The open errors as (object, record key, type, message): what Sync health would list."""
    return list(
        SyncError.objects.filter(resolved_at__isnull=True).values_list(
            "object", "record_key", "error_type", "message"
        )
    )


def all_due() -> None:
    """Every open error due for its retry now."""
    SyncError.objects.filter(resolved_at__isnull=True).update(next_retry_at=timezone.now())


def two_way(object_name: str, *props: str) -> None:
    """The pair's mappings of these HubSpot properties made two-way."""
    FieldMapping.objects.filter(object=object_name, hubspot_property__in=props).update(
        rule="two_way"
    )


def mapped_new_property(
    hs, integration, object_name: str, prop: str, field: str, *, hs_type: str, field_type: str,
    group: str, salesforce_type: str, rule: str = "two_way", **mapping,
) -> None:  # fmt: skip
    """A HubSpot property made now (through the properties API) and mapped to ``field``, as
    an admin's mapping made before the pair's schemas are read again (``mapping``: more of
    the mapping's columns)."""
    from hubspot.crm.properties import PropertyCreate

    hs.crm.properties.core_api.create(
        object_name,
        PropertyCreate(name=prop, label=prop.replace("_", " ").capitalize(), type=hs_type,
                       field_type=field_type, group_name=group),
    )  # fmt: skip
    FieldMapping.objects.create(
        integration=integration, object=object_name, hubspot_property=prop,
        salesforce_field=field, rule=rule, hubspot_type=hs_type, hubspot_field_type=field_type,
        salesforce_type=salesforce_type, **mapping,
    )  # fmt: skip
