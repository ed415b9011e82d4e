"""``CaseStatus``: the org's case statuses and whether each closes a case, readable and never
writable by API; the Case describe's ``Status`` picklist and a Case's ``IsClosed`` follow the
same rows, and ``set_case_status`` changes them as an admin does in Setup."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from simple_salesforce.exceptions import SalesforceMalformedRequest

DATA = Path(__file__).parents[3] / "emulators" / "salesforce" / "data" / "salesforce_schema.json"


def data_statuses() -> list[dict]:
    return json.loads(DATA.read_text(encoding="utf-8"))["picklist_semantics"]["Case.Status"][
        "values"
    ]


def test_the_standard_statuses_are_rows_and_only_closed_closes_a_case(sf):
    result = sf.query_all(
        "SELECT Id, ApiName, MasterLabel, IsClosed, IsDefault, SortOrder FROM CaseStatus "
        "ORDER BY SortOrder"
    )
    rows = result["records"]
    assert [r["ApiName"] for r in rows] == [v["value"] for v in data_statuses()]
    assert [r["ApiName"] for r in rows if r["IsClosed"]] == ["Closed"]
    assert [r["ApiName"] for r in rows if r["IsDefault"]] == ["New"]
    assert all(r["Id"].startswith("01J") and r["MasterLabel"] == r["ApiName"] for r in rows)
    # Sharing 01J with OpportunityStage, each is still retrieved as itself.
    assert sf.CaseStatus.get(rows[0]["Id"])["ApiName"] == "New"
    stage = sf.query("SELECT Id FROM OpportunityStage LIMIT 1")["records"][0]["Id"]
    assert sf.OpportunityStage.get(stage)["attributes"]["type"] == "OpportunityStage"


def test_api_writes_are_refused(sf):
    status = sf.query("SELECT Id FROM CaseStatus LIMIT 1")["records"][0]["Id"]
    with pytest.raises(SalesforceMalformedRequest) as created:
        sf.CaseStatus.create({"ApiName": "Resolved", "MasterLabel": "Resolved"})
    with pytest.raises(SalesforceMalformedRequest) as updated:
        sf.CaseStatus.update(status, {"MasterLabel": "Renamed"})
    for caught in (created, updated):
        assert caught.value.content[0]["errorCode"] == "CANNOT_INSERT_UPDATE_ACTIVATE_ENTITY"


def test_a_closed_status_added_in_setup_closes_cases_and_joins_the_picklist(sf, app):
    app.run_action("set_case_status", value="Resolved", closed=True)
    app.run_action("set_case_status", value="On Hold")
    rows = sf.query_all("SELECT ApiName, IsClosed FROM CaseStatus ORDER BY SortOrder")["records"]
    assert [(r["ApiName"], r["IsClosed"]) for r in rows][-2:] == [
        ("Resolved", True),
        ("On Hold", False),
    ]
    status = next(f for f in sf.Case.describe()["fields"] if f["name"] == "Status")
    assert [v["value"] for v in status["picklistValues"]] == [
        "New",
        "Working",
        "Escalated",
        "Closed",
        "Resolved",
        "On Hold",
    ]
    case = sf.Case.create({"Subject": "Printer", "Status": "Resolved"})["id"]
    record = sf.Case.get(case)
    assert record["IsClosed"] is True and record["ClosedDate"]
    sf.Case.update(case, {"Status": "On Hold"})
    record = sf.Case.get(case)
    assert record["IsClosed"] is False and record["ClosedDate"] is None


def test_without_read_access_soql_does_not_know_the_object(sf, app):
    app.run_action(
        "set_record_access", access="none", object="CaseStatus", token="integration-token"
    )
    with pytest.raises(SalesforceMalformedRequest) as caught:
        sf.query("SELECT ApiName, IsClosed FROM CaseStatus")
    assert caught.value.content[0]["errorCode"] == "INVALID_TYPE"
