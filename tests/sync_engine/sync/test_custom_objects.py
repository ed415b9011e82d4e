"""Custom objects (spec §15): Salesforce ``Project__c`` ⇄ a HubSpot custom object created here
through the schemas API, end to end through the official clients and the emulators."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from hubspot.crm.objects import SimplePublicObjectInput, SimplePublicObjectInputForCreate
from hubspot.crm.schemas import ObjectSchemaEgg, ObjectTypeDefinitionLabels

from emulators.testing import advance_clocks
from sync_engine.models import (
    ApiCall,
    FieldMapping,
    ObjectSync,
    RecordLink,
    SchemaCache,
    SyncCursor,
    SyncError,
    System,
)
from sync_engine.object_settings import SettingsError
from sync_engine.services import (
    custom_object_create,
    custom_object_delete,
    custom_object_schema_refresh,
    custom_object_schemas_read,
    custom_object_update,
    object_settings_update,
    object_sync_get_or_create,
    sync_errors_request_resync,
)
from sync_engine.sync.cycle import sync_cycle_run

from .helpers import refuse_associations

KEY = "salesforce_record_id_sync"
PROPERTIES = [
    {"name": "project_name", "label": "Project name", "type": "string", "fieldType": "text"},
    {"name": "budget", "label": "Budget", "type": "number", "fieldType": "number"},
    {
        "name": "status",
        "label": "Status",
        "type": "enumeration",
        "fieldType": "select",
        # No "Done" (added when a project is done); "Cancelled", which Salesforce lacks.
        "options": [
            {"label": label, "value": label, "displayOrder": i}
            for i, label in enumerate(["Planned", "Active", "On Hold", "Cancelled"])
        ],
    },
    {"name": "start_date", "label": "Start date", "type": "date", "fieldType": "date"},
    {"name": "notes", "label": "Notes", "type": "string", "fieldType": "textarea"},
    {"name": "project_code", "label": "Project code", "type": "string", "fieldType": "text"},
]
MAPPINGS = {
    "Name": "project_name",
    "Budget__c": "budget",
    "Status__c": "status",
    "Start_Date__c": "start_date",
    "Description__c": "notes",
}
WRITES = ("create", "update", "upsert", "archive", "delete", "collections")


def create_schema(hs, properties: list[dict] | None = None) -> str:
    egg = ObjectSchemaEgg(
        name="projects",
        labels=ObjectTypeDefinitionLabels(singular="Project", plural="Projects"),
        primary_display_property="project_name",
        required_properties=["project_name"],
        associated_objects=["CONTACT", "COMPANY", "DEAL", "TICKET"],
        properties=properties or PROPERTIES,
    )
    return hs.crm.schemas.core_api.create(egg).object_type_id


class Projects:
    """Run the custom pair's cycles; read and edit HubSpot's project records."""

    def __init__(self, integration, emulators, hs, hs_type: str, object_name: str):
        self.integration = integration
        self.emulators = emulators
        self.hs = hs
        self.type = hs_type
        self.name = object_name

    def __call__(self, *, ok: bool = True):
        before = {
            s: ApiCall.objects.filter(integration=self.integration, system=s).count()
            for s in System.values
        }
        first = ApiCall.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
        run = sync_cycle_run(integration=self.integration, object_name=self.name)
        if ok:
            assert run.status == "succeeded", run.message
        run.calls = {
            s: ApiCall.objects.filter(integration=self.integration, system=s).count() - before[s]
            for s in System.values
        }
        run.operations = list(
            ApiCall.objects.filter(pk__gt=first).values_list("operation", flat=True)
        )
        return run

    def settings(self, **changes):
        object_settings_update(integration=self.integration, object_name=self.name, changes=changes)

    def link(self, **filters):
        return RecordLink.objects.get(integration=self.integration, object=self.name, **filters)

    def links(self):
        return RecordLink.objects.filter(integration=self.integration, object=self.name)

    def create(self, **properties) -> str:
        return self.hs.crm.objects.basic_api.create(
            self.type, SimplePublicObjectInputForCreate(properties=properties)
        ).id

    def update(self, record_id: str, **properties) -> None:
        self.hs.crm.objects.basic_api.update(
            self.type, record_id, SimplePublicObjectInput(properties=properties)
        )

    def get(self, record_id: str) -> dict:
        props = [p["name"] for p in PROPERTIES] + [KEY]
        return self.hs.crm.objects.basic_api.get_by_id(
            self.type, record_id, properties=props
        ).properties

    def ids(self, *, archived: bool = False) -> list[str]:
        page = self.hs.crm.objects.basic_api.get_page(self.type, limit=100, archived=archived)
        return [o.id for o in page.results]

    def associated(self, record_id: str, to: str) -> list[str]:
        page = self.hs.crm.associations.v4.basic_api.get_page(self.type, record_id, to)
        return [str(r.to_object_id) for r in page.results]


def set_up(
    integration, hs, *, associations=None, mappings=None, properties=None, **settings
) -> tuple[str, str]:
    hs_type = create_schema(hs, properties)
    fields, properties = custom_object_schemas_read(
        integration=integration, salesforce_object="Project__c", hubspot_object=hs_type
    )
    row = custom_object_create(
        integration=integration,
        settings={
            "salesforce_object": "Project__c",
            "hubspot_object": hs_type,
            "associations": associations or {},
            **settings,
        },
        mappings=mappings or MAPPINGS,
        salesforce_fields=fields,
        hubspot_properties=properties,
    )
    return hs_type, row.object


@pytest.fixture
def projects(integration, emulators, hs_person):
    emulators.hubspot.app.configure_budget(search_per_second=1000)
    hs_type, name = set_up(integration, hs_person)
    return Projects(integration, emulators, hs_person, hs_type, name)


def coded_projects(integration, emulators, hs_person) -> Projects:
    """Projects whose external id (``External_Id__c``) is mapped to ``project_code``."""
    emulators.hubspot.app.configure_budget(search_per_second=1000)
    hs_type, name = set_up(
        integration, hs_person, mappings={**MAPPINGS, "External_Id__c": "project_code"}
    )
    return Projects(integration, emulators, hs_person, hs_type, name)


def writes(run) -> list[str]:
    return [op for op in run.operations if any(w in op for w in WRITES)]


def test_a_pairing_added_again_finds_its_hubspot_records_and_says_so(
    projects, sf_person, integration
):
    """Removed and added again, the pairing forgot its links: its next read of the projects
    finds their HubSpot records by the key property, and the run counts them as matched,
    not created."""
    project = sf_person.Project__c.create({"Name": "Again"})["id"]
    assert projects().counts["created_in_hubspot"] == 1
    record = projects.link(salesforce_id=project).hubspot_id
    projects.links().delete()
    SyncCursor.objects.filter(integration=integration, stream__startswith="salesforce:").delete()
    run = projects()
    assert run.counts.get("matched") == 1 and not run.counts.get("created_in_hubspot")
    assert projects.ids() == [record] and projects.link(salesforce_id=project).hubspot_id == record


def test_the_mapping_that_fills_a_required_property_stays_while_creates_need_it(
    projects, integration
):
    """HubSpot requires project_name to create a project: while Salesforce records create
    HubSpot records, its only mapping can't be set to Don't sync or deleted (through the
    mapping editor or the API); with creates off, it can."""
    from sync_engine.object_settings import SettingsError
    from sync_engine.services import mapping_delete, mapping_update_rule

    name = FieldMapping.objects.get(
        integration=integration, object=projects.name, hubspot_property="project_name"
    )
    for change in (
        lambda: mapping_update_rule(mapping=name, rule="dont_sync"),
        lambda: mapping_delete(mapping=name),
    ):
        with pytest.raises(SettingsError) as refused:
            change()
        assert "HubSpot requires Project name (project_name) to create a record" in str(
            refused.value.errors
        )
    name.refresh_from_db()
    assert name.rule != "dont_sync"
    projects.settings(salesforce_to_hubspot="nothing")
    mapping_update_rule(mapping=name, rule="dont_sync")
    # Creates can't come back on while nothing fills it.
    with pytest.raises(SettingsError):
        projects.settings(salesforce_to_hubspot="create_or_update")


def test_a_new_project_creates_a_hubspot_record_and_an_idle_cycle_writes_nothing(
    projects, sf_person
):
    project = sf_person.Project__c.create(
        {
            "Name": "Apollo",
            "Budget__c": 12500.0,
            "Status__c": "Active",
            "Start_Date__c": "2026-03-01",
            "Description__c": "Moon",
        }
    )["id"]
    run = projects()
    assert run.counts["created_in_hubspot"] == 1
    link = projects.link(salesforce_id=project)
    assert link.salesforce_type == "Project__c"
    props = projects.get(link.hubspot_id)
    assert props["project_name"] == "Apollo" and props["budget"] == "12500"
    assert props["status"] == "Active" and props["start_date"] == "2026-03-01"
    assert props["notes"] == "Moon" and props[KEY] == project

    # The next cycles read their own writes back and write nothing.
    for _ in range(2):
        run = projects()
        assert writes(run) == [], run.operations
        assert not run.counts.get("failed")
    synced = projects.link(salesforce_id=project).last_synced_at
    run = projects()
    assert run.calls[System.SALESFORCE] <= 1 and run.calls[System.HUBSPOT] == 1
    assert projects.link(salesforce_id=project).last_synced_at == synced


def test_a_hubspot_record_creates_a_project_upserted_by_the_external_id(projects, sf_person):
    record = projects.create(project_name="Gemini", budget="800", status="Planned")
    run = projects()
    assert run.counts["created_in_salesforce"] == 1
    link = projects.link(hubspot_id=record)
    project = sf_person.Project__c.get(link.salesforce_id)
    assert project["Name"] == "Gemini" and project["Budget__c"] == 800
    assert project["Status__c"] == "Planned" and project["External_Id__c"] == record
    assert projects.get(record)[KEY] == link.salesforce_id
    run = projects()
    assert writes(run) == [], run.operations


def test_updates_flow_both_ways(projects, sf_person):
    project = sf_person.Project__c.create({"Name": "Mercury", "Budget__c": 100.0})["id"]
    projects()
    record = projects.link(salesforce_id=project).hubspot_id

    sf_person.Project__c.update(project, {"Budget__c": 250.5, "Status__c": "On Hold"})
    run = projects()
    assert run.counts["updated_in_hubspot"] == 1
    props = projects.get(record)
    assert props["budget"] == "250.5" and props["status"] == "On Hold"

    projects.update(record, notes="From HubSpot", start_date="2026-05-02")
    run = projects()
    assert run.counts["updated_in_salesforce"] == 1
    row = sf_person.Project__c.get(project)
    assert row["Description__c"] == "From HubSpot" and row["Start_Date__c"] == "2026-05-02"
    assert row["Budget__c"] == 250.5
    assert writes(projects()) == []


def test_removing_the_pair_forgets_every_cursor_row_of_its_own(projects, sf_person):
    """Its change streams and the row of its writes no read came back to yet alike."""
    project = sf_person.Project__c.create({"Name": "Apollo"})["id"]
    projects()
    record = projects.link(salesforce_id=project).hubspot_id
    projects.update(record, notes="From HubSpot")
    projects()
    rows = SyncCursor.objects.filter(integration=projects.integration)
    own = [r.stream for r in rows if projects.name in r.stream]
    assert f"{projects.name}:own-writes" in own, own
    custom_object_delete(integration=projects.integration, object_name=projects.name)
    assert [r.stream for r in rows.all() if projects.name in r.stream] == []


def test_when_both_sides_changed_the_configured_app_wins(projects, sf_person):
    project = sf_person.Project__c.create({"Name": "Vostok", "Budget__c": 10.0})["id"]
    projects()
    record = projects.link(salesforce_id=project).hubspot_id

    # Salesforce wins by default.
    sf_person.Project__c.update(project, {"Budget__c": 20.0})
    projects.update(record, budget="30")
    run = projects()
    assert run.counts["conflicts"] == 1
    assert projects.get(record)["budget"] == "20"
    assert sf_person.Project__c.get(project)["Budget__c"] == 20

    projects.settings(conflict_winner="hubspot")
    sf_person.Project__c.update(project, {"Budget__c": 40.0})
    projects.update(record, budget="50")
    projects()
    assert sf_person.Project__c.get(project)["Budget__c"] == 50
    assert projects.get(record)["budget"] == "50"

    # A change on one side only is no conflict: it wins whatever the setting says.
    sf_person.Project__c.update(project, {"Budget__c": 60.0})
    run = projects()
    assert not run.counts.get("conflicts")
    assert projects.get(record)["budget"] == "60"


def test_a_direction_set_to_do_nothing_writes_nothing_that_way(projects, sf_person):
    projects.settings(salesforce_to_hubspot="nothing")
    silent = sf_person.Project__c.create({"Name": "Silent"})["id"]
    run = projects()
    assert run.counts["skipped_create_disabled"] == 1
    assert projects.ids() == [] and not projects.links().exists()

    projects.settings(salesforce_to_hubspot="create_or_update", hubspot_to_salesforce="nothing")
    record = projects.create(project_name="Only here")
    sf_person.Project__c.update(silent, {"Budget__c": 1.0})  # skipped records sync when edited
    run = projects()
    assert run.counts["created_in_hubspot"] == 1
    assert not projects.links().filter(hubspot_id=record).exists()
    names = [r["Name"] for r in sf_person.query("SELECT Name FROM Project__c")["records"]]
    assert names == ["Silent"]


def test_deletes_follow_the_settings(projects, sf_person):
    a = sf_person.Project__c.create({"Name": "Keep in HubSpot"})["id"]
    b = sf_person.Project__c.create({"Name": "Delete in HubSpot"})["id"]
    c = sf_person.Project__c.create({"Name": "Keep in Salesforce"})["id"]
    d = sf_person.Project__c.create({"Name": "Delete in Salesforce"})["id"]
    projects()
    hs = {p: projects.link(salesforce_id=p).hubspot_id for p in (a, b, c, d)}

    # Default: deletes delete nothing on the other side; the link goes.
    sf_person.Project__c.delete(a)
    projects.hs.crm.objects.basic_api.archive(projects.type, hs[c])
    projects()
    assert hs[a] in projects.ids()
    assert not projects.links().filter(salesforce_id=a).exists()
    assert sf_person.Project__c.get(c)["Name"] == "Keep in Salesforce"

    projects.settings(salesforce_delete="delete", hubspot_delete="delete")
    sf_person.Project__c.delete(b)
    projects.hs.crm.objects.basic_api.archive(projects.type, hs[d])
    run = projects()
    assert run.counts["deleted_in_hubspot"] == 1 and run.counts["deleted_in_salesforce"] == 1
    assert hs[b] not in projects.ids() and hs[b] in projects.ids(archived=True)
    live = {r["Id"] for r in sf_person.query("SELECT Id FROM Project__c")["records"]}
    assert d not in live and c in live
    assert not projects.links().filter(salesforce_id__in=[b, d]).exists()
    assert writes(projects()) == []

    # The archived records are listed every ten minutes, not every cycle (HubSpot lists them
    # all at once, for 90 days).
    e = sf_person.Project__c.create({"Name": "Deleted later"})["id"]
    projects()
    projects.hs.crm.objects.basic_api.archive(
        projects.type, projects.link(salesforce_id=e).hubspot_id
    )
    run = projects()
    assert not run.counts.get("deleted_in_salesforce") and len(run.operations) <= 2
    SyncCursor.objects.filter(stream__startswith="hubspot:deletes:").update(
        checked_at=timezone.now() - timedelta(minutes=10)
    )
    run = projects()
    assert run.counts["deleted_in_salesforce"] == 1
    assert e not in {r["Id"] for r in sf_person.query("SELECT Id FROM Project__c")["records"]}


def test_a_hubspot_delete_made_before_the_rule_deletes_never_deletes_in_salesforce(
    projects, sf_person
):
    """A project archived in HubSpot while "a HubSpot delete" did nothing stays, once the rule
    deletes: not deleted by the archived-records listing, nor when it is edited in Salesforce
    later; it is handled as under "do nothing" (created again in HubSpot). A project archived
    since the rule deletes is deleted."""
    before = sf_person.Project__c.create({"Name": "Archived before"})["id"]
    since = sf_person.Project__c.create({"Name": "Archived since"})["id"]
    projects()
    hs = {p: projects.link(salesforce_id=p).hubspot_id for p in (before, since)}
    projects.hs.crm.objects.basic_api.archive(projects.type, hs[before])
    projects()
    projects.settings(hubspot_delete="delete")
    assert not projects().counts.get("deleted_in_salesforce")  # (the listing runs here)

    projects.hs.crm.objects.basic_api.archive(projects.type, hs[since])
    sf_person.Project__c.update(before, {"Budget__c": 5.0})  # a rep edits both projects
    sf_person.Project__c.update(since, {"Budget__c": 6.0})
    run = projects()
    assert run.counts["deleted_in_salesforce"] == 1
    live = {r["Id"] for r in sf_person.query("SELECT Id FROM Project__c")["records"]}
    assert before in live and since not in live
    again = projects.link(salesforce_id=before).hubspot_id
    assert again != hs[before] and projects.get(again)["budget"] == "5"


def test_a_salesforce_delete_made_before_the_rule_deletes_never_deletes_in_hubspot(
    projects, sf_person, emulators
):
    """A project deleted in Salesforce while "a Salesforce delete" did nothing, and read only
    after the rule was set to delete, leaves its HubSpot record: only the link goes, as under
    "do nothing". One deleted since the rule deletes takes its HubSpot record with it."""
    before = sf_person.Project__c.create({"Name": "Deleted before"})["id"]
    since = sf_person.Project__c.create({"Name": "Deleted since"})["id"]
    projects()
    hs = {p: projects.link(salesforce_id=p).hubspot_id for p in (before, since)}
    clock = emulators.salesforce.app.clock
    clock.advance(-5)  # deleted a few seconds before the admin changes the rule
    sf_person.Project__c.delete(before)
    clock.advance(5)
    projects.settings(salesforce_delete="delete")
    sf_person.Project__c.delete(since)
    run = projects()
    assert run.counts["deleted_in_hubspot"] == 1
    assert projects.ids() == [hs[before]] and not projects.links().exists()


def test_lookups_follow_hubspot_associations_both_ways(
    integration, emulators, hs_person, sf_person
):
    emulators.hubspot.app.configure_budget(search_per_second=1000)
    object_sync_get_or_create(integration=integration, object_name="contacts")
    ada = sf_person.Contact.create({"LastName": "Ada", "Email": "ada@example.com"})["id"]
    bob = sf_person.Contact.create({"LastName": "Bob", "Email": "bob@example.com"})["id"]
    assert sync_cycle_run(integration=integration, object_name="contacts").status == "succeeded"
    contact = {
        link.salesforce_id: link.hubspot_id for link in RecordLink.objects.filter(object="contacts")
    }
    hs_type, name = set_up(integration, hs_person, associations={"contacts": "Contact__c"})
    projects = Projects(integration, emulators, hs_person, hs_type, name)

    project = sf_person.Project__c.create({"Name": "Linked", "Contact__c": ada})["id"]
    run = projects()
    record = projects.link(salesforce_id=project).hubspot_id
    assert run.counts["associations_to_hubspot"] == 1
    assert projects.associated(record, "contacts") == [contact[ada]]
    assert writes(projects()) == []

    # Salesforce moves the lookup: the HubSpot association follows.
    sf_person.Project__c.update(project, {"Contact__c": bob})
    projects()
    assert projects.associated(record, "contacts") == [contact[bob]]

    # HubSpot moves the association (and edits the record): the lookup follows.
    hs_person.crm.associations.v4.basic_api.archive(hs_type, record, "contacts", contact[bob])
    hs_person.crm.associations.v4.basic_api.create_default(
        hs_type, record, "contacts", contact[ada]
    )
    projects.update(record, notes="moved to Ada")
    projects()
    assert sf_person.Project__c.get(project)["Contact__c"] == ada

    # A HubSpot record created with an association creates its project with the lookup.
    other = projects.create(project_name="From HubSpot")
    hs_person.crm.associations.v4.basic_api.create_default(hs_type, other, "contacts", contact[bob])
    projects.update(other, notes="go")
    projects()
    created = sf_person.Project__c.get(projects.link(hubspot_id=other).salesforce_id)
    assert created["Contact__c"] == bob


def test_a_refused_association_fails_only_its_record(integration, emulators, hs_person, sf_person):
    emulators.hubspot.app.configure_budget(search_per_second=1000)
    object_sync_get_or_create(integration=integration, object_name="contacts")
    ada = sf_person.Contact.create({"LastName": "Ada", "Email": "ada@example.com"})["id"]
    assert sync_cycle_run(integration=integration, object_name="contacts").status == "succeeded"
    hs_type, name = set_up(integration, hs_person, associations={"contacts": "Contact__c"})
    projects = Projects(integration, emulators, hs_person, hs_type, name)
    made = [sf_person.Project__c.create({"Name": n, "Contact__c": ada})["id"] for n in ("A", "B")]
    # The batch, then the first record alone, are refused (the limit); the other lands.
    refuse_associations(emulators, hs_type, "contacts")
    run = projects()
    assert run.counts["created_in_hubspot"] == 2 and run.counts["associations_to_hubspot"] == 1
    error = SyncError.objects.get(object=name, resolved_at__isnull=True)
    assert error.error_type == "association_limit"
    (landed,) = set(made) - {error.salesforce_id}
    assert len(projects.associated(projects.link(salesforce_id=landed).hubspot_id, "contacts")) == 1
    refused = projects.link(salesforce_id=error.salesforce_id).hubspot_id
    assert projects.associated(refused, "contacts") == []

    sync_errors_request_resync(integration=integration, error_ids=[error.pk])
    projects()
    assert len(projects.associated(refused, "contacts")) == 1
    error.refresh_from_db()
    assert error.resolved_at is not None


def add_opportunity_lookup(emulators) -> None:
    """``Project__c.Opportunity__c``, added through the emulator's control API as an admin
    adds a lookup in Setup."""
    emulators.salesforce.app.run_action(
        "add_field",
        object="Project__c",
        field="Opportunity__c",
        type="reference",
        label="Opportunity",
        reference_to="Opportunity",
    )


def opportunity_lookup_and_deals(integration, emulators) -> None:
    """``Project__c.Opportunity__c`` and deal sync on."""
    add_opportunity_lookup(emulators)
    object_settings_update(integration=integration, object_name="deals", changes={}, enabled=True)


def new_opportunity(sf, name: str) -> str:
    return sf.Opportunity.create(
        {"Name": name, "StageName": "Prospecting", "CloseDate": "2026-12-31"}
    )["id"]


def deals_cycle(integration) -> dict[str, str]:
    """One deal cycle; the deals pair's links, Salesforce id -> HubSpot id."""
    assert sync_cycle_run(integration=integration, object_name="deals").status == "succeeded"
    return dict(
        RecordLink.objects.filter(integration=integration, object="deals").values_list(
            "salesforce_id", "hubspot_id"
        )
    )


def test_an_opportunity_lookup_follows_hubspot_deal_associations_both_ways(
    integration, emulators, hs_person, sf_person
):
    emulators.hubspot.app.configure_budget(search_per_second=1000)
    opportunity_lookup_and_deals(integration, emulators)
    big, small = (new_opportunity(sf_person, n) for n in ("Big", "Small"))
    deal = deals_cycle(integration)
    hs_type, name = set_up(integration, hs_person, associations={"deals": "Opportunity__c"})
    projects = Projects(integration, emulators, hs_person, hs_type, name)

    project = sf_person.Project__c.create({"Name": "Rollout", "Opportunity__c": big})["id"]
    run = projects()
    record = projects.link(salesforce_id=project).hubspot_id
    assert run.counts["associations_to_hubspot"] == 1
    assert projects.associated(record, "deals") == [deal[big]]
    assert writes(projects()) == []

    # Salesforce moves the lookup: the HubSpot association follows.
    sf_person.Project__c.update(project, {"Opportunity__c": small})
    projects()
    assert projects.associated(record, "deals") == [deal[small]]

    # HubSpot moves the association (and edits the record): the lookup follows.
    hs_person.crm.associations.v4.basic_api.archive(hs_type, record, "deals", deal[small])
    hs_person.crm.associations.v4.basic_api.create_default(hs_type, record, "deals", deal[big])
    projects.update(record, notes="back to Big")
    projects()
    assert sf_person.Project__c.get(project)["Opportunity__c"] == big
    assert writes(projects()) == []


def test_a_case_lookup_associates_the_record_with_the_case_s_ticket(
    integration, emulators, hs_person, sf_person
):
    emulators.hubspot.app.configure_budget(search_per_second=1000)
    emulators.salesforce.app.run_action(
        "add_field", object="Project__c", field="Case__c", type="reference", label="Case",
        reference_to="Case",
    )  # fmt: skip
    object_settings_update(integration=integration, object_name="tickets",
                           changes={"setup_complete": True}, enabled=True)  # fmt: skip
    case = sf_person.Case.create({"Subject": "Broken rollout", "Status": "New"})["id"]
    assert sync_cycle_run(integration=integration, object_name="tickets").status == "succeeded"
    ticket = RecordLink.objects.get(object="tickets", salesforce_id=case).hubspot_id
    hs_type, name = set_up(integration, hs_person, associations={"tickets": "Case__c"})
    projects = Projects(integration, emulators, hs_person, hs_type, name)
    project = sf_person.Project__c.create({"Name": "Fix it", "Case__c": case})["id"]
    run = projects()
    assert run.counts["associations_to_hubspot"] == 1
    assert projects.associated(projects.link(salesforce_id=project).hubspot_id, "tickets") == [
        ticket
    ]
    assert writes(projects()) == []


def test_a_project_waits_for_its_opportunitys_deal_then_is_associated(
    integration, emulators, hs_person, sf_person
):
    emulators.hubspot.app.configure_budget(search_per_second=1000)
    opportunity_lookup_and_deals(integration, emulators)
    hs_type, name = set_up(integration, hs_person, associations={"deals": "Opportunity__c"})
    projects = Projects(integration, emulators, hs_person, hs_type, name)
    opportunity = new_opportunity(sf_person, "Not synced yet")
    project = sf_person.Project__c.create({"Name": "Early", "Opportunity__c": opportunity})["id"]

    # The deal doesn't exist yet: the project syncs, and waits for it.
    run = projects()
    assert run.counts["created_in_hubspot"] == 1 and run.counts["waiting_for_opportunity"] == 1
    record = projects.link(salesforce_id=project).hubspot_id
    assert projects.associated(record, "deals") == []
    error = SyncError.objects.get(object=name, resolved_at__isnull=True)
    assert error.error_type == "waiting_for_opportunity"
    assert error.record_key == f"salesforce:{project}"
    assert error.fields == ["Opportunity__c"] and opportunity in error.message
    # Still waiting: a cycle looks at the links only.
    run = projects()
    assert writes(run) == [] and run.calls[System.SALESFORCE] <= 1

    # The opportunity syncs: the next cycle associates the project with its deal.
    deal = deals_cycle(integration)
    run = projects()
    assert run.counts["associations_to_hubspot"] == 1
    assert projects.associated(record, "deals") == [deal[opportunity]]
    error.refresh_from_db()
    assert error.resolved_at is not None
    assert writes(projects()) == []

    # With deal sync off, a wait could never end: the lookup is left alone, no error.
    object_settings_update(integration=integration, object_name="deals", changes={}, enabled=False)
    later = new_opportunity(sf_person, "Deal sync off")
    sf_person.Project__c.create({"Name": "Off", "Opportunity__c": later})
    run = projects()
    assert run.counts["created_in_hubspot"] == 1 and not run.counts.get("waiting_for_opportunity")
    assert not SyncError.objects.filter(object=name, resolved_at__isnull=True).exists()


def test_a_refused_deal_association_fails_only_its_record(
    integration, emulators, hs_person, sf_person
):
    emulators.hubspot.app.configure_budget(search_per_second=1000)
    opportunity_lookup_and_deals(integration, emulators)
    opportunity = new_opportunity(sf_person, "Shared")
    deal = deals_cycle(integration)[opportunity]
    hs_type, name = set_up(integration, hs_person, associations={"deals": "Opportunity__c"})
    projects = Projects(integration, emulators, hs_person, hs_type, name)
    made = [
        sf_person.Project__c.create({"Name": n, "Opportunity__c": opportunity})["id"]
        for n in ("A", "B")
    ]
    refuse_associations(emulators, hs_type, "deals")
    run = projects()
    assert run.counts["created_in_hubspot"] == 2 and run.counts["associations_to_hubspot"] == 1
    error = SyncError.objects.get(object=name, resolved_at__isnull=True)
    assert error.error_type == "association_limit"
    (landed,) = set(made) - {error.salesforce_id}
    assert projects.associated(projects.link(salesforce_id=landed).hubspot_id, "deals") == [deal]
    refused = projects.link(salesforce_id=error.salesforce_id).hubspot_id
    assert projects.associated(refused, "deals") == []

    sync_errors_request_resync(integration=integration, error_ids=[error.pk])
    projects()
    assert projects.associated(refused, "deals") == [deal]
    error.refresh_from_db()
    assert error.resolved_at is not None


def test_one_bad_record_never_blocks_its_batch(projects, sf_person):
    good = projects.create(project_name="Fine", status="Active")
    bad = projects.create(project_name="Called off", status="Cancelled")  # not in Salesforce
    run = projects()
    assert run.counts["created_in_salesforce"] == 1 and run.counts["failed"] == 1
    assert projects.links().filter(hubspot_id=good).exists()
    assert not projects.links().filter(hubspot_id=bad).exists()
    error = SyncError.objects.get(object=projects.name, resolved_at__isnull=True)
    assert error.record_key == f"hubspot:{bad}" and error.direction == "to_salesforce"
    assert error.salesforce_type == "Project__c" and "Cancelled" in error.message

    # Fixed in HubSpot: the next cycle creates it and resolves the error.
    projects.update(bad, status="On Hold")
    projects()
    assert projects.links().filter(hubspot_id=bad).exists()
    assert not SyncError.objects.filter(object=projects.name, resolved_at__isnull=True).exists()


def test_an_error_names_the_record_even_when_its_name_is_not_mapped(
    integration, emulators, hs_person, sf_person
):
    # Without a mapping to Project name, HubSpot refuses the create: the error card shows
    # the project's name, not only its id. (The wizard refuses such a pair now; one saved
    # before it did, or whose property HubSpot made required later, still syncs like this.)
    emulators.hubspot.app.configure_budget(search_per_second=1000)
    hs_type, name = set_up(
        integration, hs_person, mappings={"Name": "project_name", "Budget__c": "budget"}
    )
    FieldMapping.objects.filter(object=name, hubspot_property="project_name").delete()
    project = sf_person.Project__c.create({"Name": "Gemini", "Budget__c": 10.0})["id"]
    run = Projects(integration, emulators, hs_person, hs_type, name)()
    assert run.counts["failed"] == 1
    error = SyncError.objects.get(object=name, resolved_at__isnull=True)
    assert error.record_key == f"salesforce:{project}" and error.record_label == "Gemini"
    assert "project_name" in error.message


def test_what_hubspot_requires_to_create_a_record_is_read_and_cached(projects, integration):
    def cached() -> dict[str, bool]:
        row = SchemaCache.objects.get(object=projects.name, system=System.HUBSPOT)
        return {p["name"]: p["required"] for p in row.data}

    # The custom object's schema names project_name in its requiredProperties.
    assert cached()["project_name"] is True
    assert cached()["budget"] is False and cached()["notes"] is False
    SchemaCache.objects.filter(object=projects.name).delete()
    custom_object_schema_refresh(integration=integration, object_name=projects.name)
    assert cached()["project_name"] is True


def test_a_pairing_that_cannot_fill_a_required_property_is_refused(
    integration, emulators, hs_person
):
    hs_type = create_schema(hs_person)
    fields, properties = custom_object_schemas_read(
        integration=integration, salesforce_object="Project__c", hubspot_object=hs_type
    )
    schemas = {"salesforce_fields": fields, "hubspot_properties": properties}
    settings = {"salesforce_object": "Project__c", "hubspot_object": hs_type}
    no_name = {"Name": "", "Budget__c": "budget"}  # Name set to "Don't sync"

    # Salesforce records create HubSpot records (the default): each create would fail.
    with pytest.raises(SettingsError) as error:
        custom_object_create(
            integration=integration, settings=settings, mappings=no_name, **schemas
        )
    assert set(error.value.errors) == {"required"}
    assert error.value.errors["required"].startswith(
        "HubSpot requires Project name (project_name) to create a record"
    )
    assert not ObjectSync.objects.filter(object__startswith="custom:").exists()
    assert not FieldMapping.objects.filter(object__startswith="custom:").exists()

    # When they don't create HubSpot records, nothing needs it.
    row = custom_object_create(
        integration=integration,
        settings={**settings, "salesforce_to_hubspot": "nothing"},
        mappings=no_name,
        **schemas,
    )
    # Turning creates on needs the mapping: in the wizard, and through the settings (API).
    creating = {**row.options, "salesforce_to_hubspot": "create_or_update"}
    with pytest.raises(SettingsError) as error:
        custom_object_update(
            integration=integration,
            object_name=row.object,
            settings=creating,
            mappings=no_name,
            **schemas,
        )
    assert "project_name" in error.value.errors["required"]
    with pytest.raises(SettingsError) as error:
        object_settings_update(
            integration=integration,
            object_name=row.object,
            changes={"salesforce_to_hubspot": "create_or_update"},
        )
    assert "project_name" in error.value.errors["salesforce_to_hubspot"]
    row.refresh_from_db()
    assert row.options["salesforce_to_hubspot"] == "nothing"

    custom_object_update(
        integration=integration,
        object_name=row.object,
        settings=creating,
        mappings={"Name": "project_name", "Budget__c": "budget"},
        **schemas,
    )
    row.refresh_from_db()
    assert row.options["salesforce_to_hubspot"] == "create_or_update"
    # Mapped now: switching creates off and on again through the settings is fine.
    for direction in ("nothing", "create_or_update"):
        object_settings_update(
            integration=integration,
            object_name=row.object,
            changes={"salesforce_to_hubspot": direction},
        )


def test_a_salesforce_picklist_value_hubspot_lacks_becomes_an_option(
    projects, sf_person, emulators
):
    # HubSpot refuses to add the option: the record syncs without it and says why.
    emulators.hubspot.app.faults.add(
        path=r"/crm/v3/properties/.+/status$", method="PATCH", status=400, times=10
    )
    done = sf_person.Project__c.create({"Name": "Finished", "Status__c": "Done"})["id"]
    run = projects()
    record = projects.link(salesforce_id=done).hubspot_id
    assert run.counts["created_in_hubspot"] == 1 and not projects.get(record)["status"]
    error = SyncError.objects.get(object=projects.name, resolved_at__isnull=True)
    assert error.error_type == "picklist" and error.record_key == f"salesforce:{done}"

    # Once HubSpot accepts, "Done" is added to the dropdown and the project syncs whole.
    emulators.hubspot.app.faults.clear()
    sf_person.Project__c.update(done, {"Budget__c": 9.0})
    projects()
    assert projects.get(record)["status"] == "Done"
    assert not SyncError.objects.filter(object=projects.name, resolved_at__isnull=True).exists()
    assert writes(projects()) == []


def test_a_blip_while_adding_an_option_is_retried_next_cycle_not_shown_as_a_picklist(
    projects, sf_person, emulators
):
    emulators.hubspot.app.faults.add(
        path=r"/crm/v3/properties/.+/status$", method="PATCH", status=503, times=10
    )
    done = sf_person.Project__c.create({"Name": "Finished", "Status__c": "Done"})["id"]
    projects()
    error = SyncError.objects.get(object=projects.name, resolved_at__isnull=True)
    assert error.error_type == "transient" and "'Done'" in error.message

    emulators.hubspot.app.faults.clear()
    projects()  # the retry comes with the next cycle, with no edit needed
    record = projects.link(salesforce_id=done).hubspot_id
    assert projects.get(record)["status"] == "Done"
    assert not SyncError.objects.filter(object=projects.name, resolved_at__isnull=True).exists()


def test_a_create_whose_answer_is_lost_is_retried_without_a_duplicate(
    projects, sf_person, emulators
):
    sf_person.Project__c.create({"Name": "Lost answer"})
    # HubSpot applies the upsert but every answer is a 500 (retries included): the run fails.
    emulators.hubspot.app.faults.add(
        path=r"/batch/upsert$", status=500, apply_then_fail=True, times=4
    )
    run = projects(ok=False)
    assert run.status == "failed"
    assert len(projects.ids()) == 1 and not projects.links().exists()
    projects()
    assert len(projects.ids()) == 1
    assert projects.links().count() == 1

    # The same on the Salesforce side: the upsert by external id finds the first write.
    record = projects.create(project_name="Lost in Salesforce")
    emulators.salesforce.app.faults.add(
        path=r"/composite/sobjects/Project__c/External_Id__c$",
        status=500,
        apply_then_fail=True,
        times=4,
    )
    assert projects(ok=False).status == "failed"
    projects()
    rows = sf_person.query("SELECT Id FROM Project__c WHERE Name = 'Lost in Salesforce'")
    assert rows["totalSize"] == 1
    assert projects.link(hubspot_id=record).salesforce_id == rows["records"][0]["Id"]


def test_a_pair_that_is_off_reads_nothing(projects, sf_person, integration):
    ObjectSync.objects.filter(object=projects.name).update(enabled=False)
    sf_person.Project__c.create({"Name": "Off"})
    run = sync_cycle_run(integration=integration, object_name=projects.name)
    assert run.message == "Sync is off for this object."
    assert projects.ids() == []


def test_a_mapped_external_id_matches_records_on_both_sides(
    integration, emulators, hs_person, sf_person
):
    projects = coded_projects(integration, emulators, hs_person)
    both_hs = projects.create(project_name="Alpha in HubSpot", project_code="PRJ-1")
    both_sf = sf_person.Project__c.create({"Name": "Alpha", "External_Id__c": "PRJ-1"})["id"]
    only_hs = projects.create(project_name="Beta", project_code="PRJ-2")
    no_code = projects.create(project_name="Gamma")
    only_sf = sf_person.Project__c.create({"Name": "Delta", "External_Id__c": "PRJ-3"})["id"]

    run = projects()
    assert run.counts["matched"] == 1
    assert run.counts["created_in_hubspot"] == 1 and run.counts["created_in_salesforce"] == 2
    assert projects.link(salesforce_id=both_sf).hubspot_id == both_hs
    assert projects.get(both_hs)["project_name"] == "Alpha"  # Salesforce wins by default
    rows = sf_person.query("SELECT Id, Name, External_Id__c FROM Project__c")["records"]
    codes = sorted(r["External_Id__c"] for r in rows)
    assert codes == sorted(["PRJ-1", "PRJ-2", "PRJ-3", no_code])
    assert projects.get(no_code)["project_code"] == no_code
    assert projects.get(projects.link(salesforce_id=only_sf).hubspot_id)["project_code"] == "PRJ-3"
    assert projects.links().count() == 4 and len(projects.ids()) == 4
    assert projects.link(hubspot_id=only_hs)
    assert writes(projects()) == []


def test_a_cycle_reads_a_missing_schema_itself(projects, sf_person):
    SchemaCache.objects.filter(object=projects.name).delete()
    project = sf_person.Project__c.create({"Name": "Cached again", "Budget__c": 5.0})["id"]
    run = projects()
    assert run.counts["created_in_hubspot"] == 1
    assert SchemaCache.objects.filter(object=projects.name, system=System.HUBSPOT).exists()
    assert projects.get(projects.link(salesforce_id=project).hubspot_id)["budget"] == "5"


def test_a_cycle_over_every_pair_answers_an_idle_custom_object_from_the_probe(
    projects, sf_person, integration, emulators
):
    from sync_engine.services import object_settings_update
    from sync_engine.sync.cycle import sync_cycles_run

    # With the contact and company pairs in the cycle there are more streams than one
    # composite call can query, so the probe speaks for the idle ones.
    object_settings_update(
        integration=integration, object_name="companies", changes={}, enabled=True
    )
    names = ["companies", "contacts", projects.name]

    def cycle():
        runs = sync_cycles_run(integration=integration, object_names=names)
        assert all(run.status == "succeeded" for run in runs)
        return runs[-1], sum(run.salesforce_calls for run in runs)

    project = sf_person.Project__c.create({"Name": "Probed"})["id"]
    run, _ = cycle()
    assert run.counts["created_in_hubspot"] == 1
    # Ten quiet minutes: the create is past the cursors' overlap; then a minute between
    # cycles (the probe answers in whole minutes).
    for seconds in (600, 60):
        advance_clocks(emulators, seconds)
        run, calls = cycle()
    assert calls == 1
    assert run.counts["streams_unchanged"] == 1
    sf_person.Project__c.update(project, {"Budget__c": 7.0})
    # The probe answers to the whole minute: a change is read once its minute has passed.
    advance_clocks(emulators, 60)
    cycle()
    link = projects.link(salesforce_id=project)
    assert projects.get(link.hubspot_id)["budget"] == "7"


def test_a_project_whose_hubspot_record_is_gone_creates_it_again_when_it_changes(
    projects, sf_person
):
    project = sf_person.Project__c.create({"Name": "Phoenix"})["id"]
    projects()
    first = projects.link(salesforce_id=project).hubspot_id
    projects.hs.crm.objects.basic_api.archive(projects.type, first)
    sf_person.Project__c.update(project, {"Budget__c": 3.0})
    run = projects()
    assert run.counts["links_removed"] == 1 and run.counts["created_in_hubspot"] == 1
    second = projects.link(salesforce_id=project).hubspot_id
    assert second != first and projects.get(second)["budget"] == "3"
    assert sf_person.Project__c.get(project)["Name"] == "Phoenix"


def test_one_way_sync_never_reverts_the_other_sides_edits(projects, sf_person):
    project = sf_person.Project__c.create({"Name": "One way", "Budget__c": 1.0})["id"]
    projects()
    record = projects.link(salesforce_id=project).hubspot_id

    # HubSpot → Salesforce only: a Salesforce edit stays, and isn't sent to HubSpot.
    projects.settings(salesforce_to_hubspot="nothing")
    sf_person.Project__c.update(project, {"Budget__c": 2.0})
    assert writes(projects()) == []
    assert sf_person.Project__c.get(project)["Budget__c"] == 2
    assert projects.get(record)["budget"] == "1"
    # A later HubSpot edit of the field is the one that syncs.
    projects.update(record, budget="3")
    projects()
    assert sf_person.Project__c.get(project)["Budget__c"] == 3

    # Salesforce → HubSpot only: the mirror image.
    projects.settings(salesforce_to_hubspot="create_or_update", hubspot_to_salesforce="nothing")
    projects.update(record, budget="4")
    assert writes(projects()) == []
    assert sf_person.Project__c.get(project)["Budget__c"] == 3
    sf_person.Project__c.update(project, {"Budget__c": 5.0})
    projects()
    assert projects.get(record)["budget"] == "5"


def test_dropdown_options_named_otherwise_than_labelled_stay_in_step(
    projects, sf_person, integration
):
    """HubSpot's status options named otherwise than labelled ("ON_HOLD", labelled "On
    Hold"): a project's status is written as that option, reading it back is no change (an
    idle cycle writes nothing), and a HubSpot edit reaches Salesforce as the picklist value,
    never as HubSpot's internal name."""
    from hubspot.crm.properties import OptionInput, PropertyUpdate

    labels = ["Planned", "Active", "On Hold", "Cancelled"]
    projects.hs.crm.properties.core_api.update(
        projects.type,
        "status",
        PropertyUpdate(
            options=[
                OptionInput(label=label, value=label.upper().replace(" ", "_"), display_order=i)
                for i, label in enumerate(labels)
            ]
        ),
    )
    custom_object_schema_refresh(integration=integration, object_name=projects.name)
    project = sf_person.Project__c.create({"Name": "Skylab", "Status__c": "Active"})["id"]
    projects()
    record = projects.link(salesforce_id=project).hubspot_id
    assert projects.get(record)["status"] == "ACTIVE"
    for _ in range(2):  # our own write read back, then nothing
        assert writes(projects()) == []
    assert sf_person.Project__c.get(project)["Status__c"] == "Active"

    projects.update(record, status="ON_HOLD")
    assert projects().counts["updated_in_salesforce"] == 1
    assert sf_person.Project__c.get(project)["Status__c"] == "On Hold"
    assert projects.get(record)["status"] == "ON_HOLD"

    sf_person.Project__c.update(project, {"Status__c": "Planned"})
    assert projects().counts["updated_in_hubspot"] == 1
    assert projects.get(record)["status"] == "PLANNED"
    for _ in range(2):
        assert writes(projects()) == []
    assert sf_person.Project__c.get(project)["Status__c"] == "Planned"
