"""``OpportunityStage``: the org's stages and what they mean, readable and never writable by API.

The rows follow the ``opportunityStages`` of the shared schema data, the StageName picklist and
an admin's changes to it; Opportunity's derived fields read the same rows.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from simple_salesforce.exceptions import SalesforceMalformedRequest

DATA = Path(__file__).parents[3] / "emulators" / "salesforce" / "data" / "salesforce_schema.json"
ENGINE_SOQL = "SELECT ApiName, IsActive, IsClosed, IsWon, DefaultProbability FROM OpportunityStage"


def data_stages() -> list[dict]:
    return json.loads(DATA.read_text(encoding="utf-8"))["objects"]["Opportunity"][
        "opportunityStages"
    ]


def test_the_engine_query_returns_every_stage_with_its_semantics(sf):
    result = sf.query_all(ENGINE_SOQL)
    rows = {r["ApiName"]: r for r in result["records"]}
    expected = data_stages()
    assert result["totalSize"] == len(expected) == len(rows)
    for stage in expected:
        row = rows[stage["value"]]
        assert row["attributes"]["type"] == "OpportunityStage"
        assert (row["IsActive"], row["IsClosed"], row["IsWon"]) == (
            stage["isActive"],
            stage["isClosed"],
            stage["isWon"],
        )
        assert row["DefaultProbability"] == float(stage["probability"])
    assert rows["Closed Won"]["IsWon"] and rows["Closed Won"]["IsClosed"]
    assert rows["Closed Lost"]["IsClosed"] and not rows["Closed Lost"]["IsWon"]


def test_every_documented_field_is_selectable_filterable_and_retrievable(sf):
    won = sf.query(
        "SELECT Id, ApiName, MasterLabel, IsActive, IsClosed, IsWon, DefaultProbability, "
        "ForecastCategory, ForecastCategoryName, SortOrder, Description, CreatedById, "
        "CreatedDate, LastModifiedById, LastModifiedDate, SystemModstamp "
        "FROM OpportunityStage WHERE IsWon = true"
    )["records"]
    assert len(won) == 1
    row = won[0]
    assert row["Id"].startswith("01J") and len(row["Id"]) == 18
    assert (row["ApiName"], row["MasterLabel"]) == ("Closed Won", "Closed Won")
    assert (row["ForecastCategory"], row["ForecastCategoryName"]) == ("Closed", "Closed")
    assert row["SortOrder"] == 9 and row["Description"] is None
    assert row["CreatedDate"] and row["SystemModstamp"] >= row["CreatedDate"]
    ordered = sf.query("SELECT ApiName FROM OpportunityStage ORDER BY SortOrder")["records"]
    assert [r["ApiName"] for r in ordered] == [s["value"] for s in data_stages()]

    fetched = sf.OpportunityStage.get(row["Id"])
    assert fetched["ApiName"] == "Closed Won" and fetched["IsWon"] is True
    assert "IsDeleted" not in fetched and "OwnerId" not in fetched


def test_api_writes_are_refused_for_the_whole_object(sf):
    stage_id = sf.query("SELECT Id FROM OpportunityStage LIMIT 1")["records"][0]["Id"]
    with pytest.raises(SalesforceMalformedRequest) as created:
        sf.OpportunityStage.create({"ApiName": "Signed", "MasterLabel": "Signed"})
    with pytest.raises(SalesforceMalformedRequest) as updated:
        sf.OpportunityStage.update(stage_id, {"MasterLabel": "Renamed"})
    with pytest.raises(SalesforceMalformedRequest) as deleted:
        sf.OpportunityStage.delete(stage_id)
    for caught, verb in ((created, "inserted"), (updated, "updated"), (deleted, "deleted")):
        assert caught.value.status == 400
        assert caught.value.content == [
            {
                "errorCode": "CANNOT_INSERT_UPDATE_ACTIVATE_ENTITY",
                "message": f"entity type cannot be {verb}: Opportunity Stage",
                "fields": [],
            }
        ]
    # In a collection the refusal is that record's error; the others are still saved.
    results = sf.restful(
        "composite/sobjects",
        method="POST",
        data=json.dumps(
            {
                "allOrNone": False,
                "records": [
                    {"attributes": {"type": "OpportunityStage"}, "ApiName": "Signed"},
                    {"attributes": {"type": "Account"}, "Name": "Acme"},
                ],
            }
        ),
    )
    assert results[0]["success"] is False
    assert results[0]["errors"][0]["statusCode"] == "CANNOT_INSERT_UPDATE_ACTIVATE_ENTITY"
    assert results[1]["success"] is True
    names = [r["ApiName"] for r in sf.query("SELECT ApiName FROM OpportunityStage")["records"]]
    assert "Signed" not in names and "Closed Won" in names


def test_describe_lists_it_as_read_only(sf):
    entry = next(s for s in sf.describe()["sobjects"] if s["name"] == "OpportunityStage")
    assert entry["keyPrefix"] == "01J" and entry["label"] == "Opportunity Stage"
    assert entry["queryable"] and entry["retrieveable"]
    assert not (entry["createable"] or entry["updateable"] or entry["deletable"])
    describe = sf.OpportunityStage.describe()
    fields = {f["name"]: f for f in describe["fields"]}
    assert {
        "Id", "ApiName", "MasterLabel", "IsActive", "IsClosed", "IsWon", "DefaultProbability",
        "ForecastCategory", "ForecastCategoryName", "SortOrder", "Description", "CreatedDate",
        "CreatedById", "LastModifiedDate", "LastModifiedById", "SystemModstamp",
    } == set(fields)  # fmt: skip
    assert not any(f["createable"] or f["updateable"] for f in fields.values())
    assert fields["DefaultProbability"]["type"] == "percent"
    assert fields["ApiName"]["nameField"] is True
    assert {v["value"] for v in fields["ForecastCategory"]["picklistValues"]} >= {
        "Pipeline",
        "Closed",
        "Omitted",
    }


def test_stage_changes_reach_the_rows_the_picklist_and_new_opportunities(sf, app):
    app.run_action("set_opportunity_stage", value="Signed", won=True)
    app.run_action("set_opportunity_stage", value="Qualification", probability=25)
    app.run_action("set_opportunity_stage", value="Perception Analysis", active=False)

    rows = {r["ApiName"]: r for r in sf.query_all(ENGINE_SOQL)["records"]}
    assert (rows["Signed"]["IsClosed"], rows["Signed"]["IsWon"]) == (True, True)
    assert rows["Signed"]["DefaultProbability"] == 100.0
    assert rows["Qualification"]["DefaultProbability"] == 25.0
    assert rows["Perception Analysis"]["IsActive"] is False

    stage_field = next(f for f in sf.Opportunity.describe()["fields"] if f["name"] == "StageName")
    values = {v["value"]: v for v in stage_field["picklistValues"]}
    assert values["Signed"]["active"] is True
    assert values["Perception Analysis"]["active"] is False
    assert list(values)[-1] == "Signed"  # new values are appended

    signed = sf.Opportunity.create(
        {"Name": "Big", "StageName": "Signed", "CloseDate": "2030-01-01", "Amount": 500}
    )["id"]
    opp = sf.Opportunity.get(signed)
    assert (opp["IsClosed"], opp["IsWon"], opp["Probability"]) == (True, True, 100.0)
    assert opp["ForecastCategoryName"] == "Closed" and opp["ExpectedRevenue"] == 500.0
    qualified = sf.Opportunity.create(
        {"Name": "Small", "StageName": "Qualification", "CloseDate": "2030-01-01"}
    )["id"]
    assert sf.Opportunity.get(qualified)["Probability"] == 25.0


def test_admin_stage_changes_are_checked(app):
    with pytest.raises(ValueError, match="probability"):
        app.run_action("set_opportunity_stage", value="Demo")  # a new open stage
    with pytest.raises(ValueError, match="forecast_category"):
        app.run_action("set_opportunity_stage", value="Demo", probability=5, forecast_category="X")
    with pytest.raises(ValueError, match="closed too"):
        app.run_action("set_opportunity_stage", value="Demo", won=True, closed=False)


def test_state_saved_before_stages_existed_gets_them_on_restore(sf, app):
    app.org.store.tables.pop("OpportunityStage")
    app.restore(app.snapshot())
    assert len(sf.query_all(ENGINE_SOQL)["records"]) == len(data_stages())
