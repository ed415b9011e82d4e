"""The demo seed, reset, and snapshot/restore of the org state."""

# ruff: noqa: S608 - the f-strings here build SOQL for an in-memory emulator, not SQL

from __future__ import annotations

import pickle
import time

from emulators.demo_data import people
from emulators.salesforce.app import SalesforceApp
from emulators.salesforce.seed import DEMO_OWNERS


def test_demo_seed_is_realistic_and_fast(app, sf):
    started = time.perf_counter()
    result = app.run_seed("demo")
    assert time.perf_counter() - started < 5.0
    created = result["created"]
    assert created["User"] == len(DEMO_OWNERS) == 5
    assert created["Opportunity"] == 150
    assert created["Lead"] > 100 and created["Contact"] > 100 and created["Account"] > 50
    for obj in (
        "OpportunityContactRole",
        "Case",
        "Task",
        "Event",
        "Campaign",
        "CampaignMember",
        "Project__c",
    ):
        assert created[obj] > 0, obj

    crowd = people()
    leads = [p for p in crowd if p.side in ("salesforce_lead", "both_lead")]
    contacts = [p for p in crowd if p.side in ("salesforce_contact", "both_contact")]
    good_leads = [p for p in leads if not p.bad]
    good_contacts = [p for p in contacts if not p.bad]
    assert created["Lead"] == len(good_leads)
    assert created["Contact"] == len(good_contacts)
    assert len(result["skipped"]) == len([p for p in leads + contacts if p.bad])

    emails = {r["Email"] for r in sf.query_all("SELECT Email FROM Contact")["records"]}
    assert emails == {p.email for p in good_contacts}
    won = sf.query("SELECT COUNT() FROM Opportunity WHERE StageName = 'Closed Won'")
    assert won["totalSize"] > 0
    sanne = sf.query("SELECT Id, Name, Email FROM User WHERE Email = 'sanne.visser@example.com'")
    assert sanne["records"][0]["Name"] == "Sanne Visser"
    owned = sf.query(f"SELECT COUNT() FROM Contact WHERE OwnerId = '{sanne['records'][0]['Id']}'")
    assert owned["totalSize"] > 0
    with_roles = sf.query(
        "SELECT Id, (SELECT ContactId FROM OpportunityContactRoles) FROM Opportunity LIMIT 5"
    )["records"]
    assert all(r["OpportunityContactRoles"]["totalSize"] >= 1 for r in with_roles)
    # records look like they were edited by people in the past, not by the integration
    integration = app.user_for_token("integration-token")
    assert (
        sf.query(f"SELECT COUNT() FROM Contact WHERE LastModifiedById = '{integration}'")[
            "totalSize"
        ]
        == 0
    )
    assert "RecordTypeId" in {f["name"] for f in sf.Opportunity.describe()["fields"]}


def test_seed_over_the_control_plane(control, sf):
    response = control("seed", {"name": "demo"})
    assert response.status_code == 200
    assert response.json()["created"]["Opportunity"] == 150
    assert sf.query("SELECT COUNT() FROM Campaign")["totalSize"] == 3


def test_reset_keeps_the_org_and_schema(app, sf):
    org_id = app.org.org_id
    app.run_action("add_field", object="Lead", field="Score", type="double")
    sf.Lead.create({"LastName": "x", "Company": "y", "Score__c": 3})
    app.reset()
    assert app.org.org_id == org_id
    assert sf.query("SELECT COUNT() FROM Lead")["totalSize"] == 0
    assert {f["name"] for f in sf.Lead.describe()["fields"]} >= {"LastName", "HubSpot_Id__c"}
    assert "Score__c" not in {f["name"] for f in sf.Lead.describe()["fields"]}


def test_snapshot_round_trips_through_pickle(app, sf):
    app.run_action("add_field", object="Account", field="Segment", type="string")
    app.run_action("enable_state_country_picklists")
    account = sf.Account.create({"Name": "Acme", "Segment__c": "SMB", "BillingCountry": "Germany"})[
        "id"
    ]
    app.run_action(
        "add_validation_rule",
        object="Account",
        field="Name",
        operator="equals",
        value="Forbidden",
        message="No",
    )
    state = pickle.loads(pickle.dumps(app.snapshot()))  # noqa: S301 - our own bytes

    other = SalesforceApp()
    other.restore(state)
    assert other.org.store.get("Account", account)["Segment__c"] == "SMB"
    assert other.org.store.get("Account", account)["BillingCountryCode"] == "DE"
    assert "segment__c" in other.visible_fields(other.schema.objects["Account"], "x")
    assert other.org.validation_rules[0]["message"] == "No"
    assert other.user_for_token("integration-token") == app.user_for_token("integration-token")


def test_state_survives_a_restart_of_the_app(app, sf, tmp_path):
    """The same path the server uses: pickle to a file, start a new app from it."""
    sf.Contact.create({"LastName": "Persistent"})
    path = tmp_path / "salesforce.pickle"
    path.write_bytes(pickle.dumps(app.snapshot(), protocol=pickle.HIGHEST_PROTOCOL))
    restored = SalesforceApp()
    restored.restore(pickle.loads(path.read_bytes()))  # noqa: S301 - written by this test
    contacts = restored.org.store.table("Contact").values()
    assert [c["LastName"] for c in contacts] == ["Persistent"]
