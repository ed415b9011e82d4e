"""Control-plane actions: a person working in Salesforce, over HTTP and in Python."""

# ruff: noqa: S608 - the f-strings here build SOQL for an in-memory emulator, not SQL

from __future__ import annotations

import pytest
from simple_salesforce.exceptions import SalesforceMalformedRequest

from emulators.salesforce.errors import SfError


def ui_user(app) -> str:
    return app.org.ui_user_id


def test_actions_are_listed_over_http(control):
    names = control("actions", method="GET").json()
    for expected in (
        "edit",
        "create",
        "delete",
        "undelete",
        "merge",
        "convert_lead",
        "add_contact_role",
        "set_stage",
        "enable_state_country_picklists",
        "add_validation_rule",
        "add_duplicate_rule",
        "lock_row",
        "set_field_permission",
        "expire_token",
        "late_commit",
    ):
        assert expected in names


def test_edit_over_http_looks_like_a_person(sf, app, control):
    created = sf.Contact.create({"LastName": "Doe"})["id"]
    before = sf.Contact.get(created)
    app.clock.advance(3)
    response = control(
        "actions/edit", {"object": "Contact", "id": created, "fields": {"Title": "Head of Sales"}}
    )
    assert response.status_code == 200 and response.json() == {"result": created}
    after = sf.Contact.get(created)
    assert after["Title"] == "Head of Sales"
    assert after["LastModifiedById"] == ui_user(app) != before["LastModifiedById"]
    assert after["SystemModstamp"] > before["SystemModstamp"]
    changed = sf.query(
        f"SELECT Id, LastModifiedBy.Name FROM Contact WHERE SystemModstamp > "
        f"{before['SystemModstamp'].replace('.000+0000', 'Z')}"
    )["records"]
    assert [(r["Id"], r["LastModifiedBy"]["Name"]) for r in changed] == [(created, "UI User")]


def test_invalid_action_calls_answer_400_with_the_reason(sf, control):
    created = sf.Contact.create({"LastName": "Doe"})["id"]
    response = control("actions/edit", {"id": created, "fields": {"Email": "nope"}})
    assert response.status_code == 400
    assert "INVALID_EMAIL_ADDRESS" in response.json()["error"]
    assert control("actions/no_such_action", {}).status_code == 404
    assert control("actions/edit", {"bogus": 1}).status_code == 400


def test_create_delete_undelete(sf, app, control):
    created = control(
        "actions/create", {"object": "Account", "fields": {"Name": "Made by hand"}}
    ).json()["result"]
    assert sf.Account.get(created)["CreatedById"] == ui_user(app)
    contact = sf.Contact.create({"LastName": "Child", "AccountId": created})["id"]
    control("actions/delete", {"id": created})
    assert sf.query("SELECT COUNT() FROM Contact")["totalSize"] == 0
    deleted = sf.query_all("SELECT Id FROM Account WHERE IsDeleted = true", include_deleted=True)
    assert deleted["totalSize"] == 1
    control("actions/undelete", {"id": created})
    assert sf.Account.get(created)["IsDeleted"] is False
    assert sf.Contact.get(contact)["IsDeleted"] is False  # cascaded children come back too


def test_merge_reparents_children_and_marks_losers(sf, app):
    keep = sf.Account.create({"Name": "Acme"})["id"]
    lose = sf.Account.create({"Name": "ACME Inc"})["id"]
    contact = sf.Contact.create({"LastName": "Doe", "AccountId": lose})["id"]
    result = app.run_action(
        "merge",
        object="Account",
        master_id=keep,
        loser_ids=[lose],
        fields={"Website": "https://acme.example.com"},
    )
    assert result["merged_ids"] == [lose] and result["reparented"] == 1
    assert sf.Contact.get(contact)["AccountId"] == keep
    assert sf.Account.get(keep)["Website"] == "https://acme.example.com"
    loser = sf.query_all(
        f"SELECT Id, IsDeleted, MasterRecordId FROM Account WHERE Id = '{lose}'",
        include_deleted=True,
    )["records"][0]
    assert loser["IsDeleted"] is True and loser["MasterRecordId"] == keep
    with pytest.raises(ValueError):
        app.run_action("merge", object="Opportunity", master_id=keep, loser_ids=[lose])


def test_convert_lead(sf, app):
    lead = sf.Lead.create(
        {
            "FirstName": "Jane",
            "LastName": "Doe",
            "Company": "Acme",
            "Email": "jane@acme.example.com",
            "City": "Utrecht",
        }
    )["id"]
    result = app.run_action("convert_lead", lead_id=lead)
    record = sf.Lead.get(lead)
    assert record["IsConverted"] is True
    assert record["Status"] == "Closed - Converted"
    assert record["ConvertedDate"] == app.clock.now().date().isoformat()
    assert record["ConvertedContactId"] == result["contact_id"]
    assert record["ConvertedAccountId"] == result["account_id"]
    assert record["ConvertedOpportunityId"] == result["opportunity_id"]
    contact = sf.Contact.get(result["contact_id"])
    assert (contact["Email"], contact["AccountId"]) == (
        "jane@acme.example.com",
        result["account_id"],
    )
    assert contact["MailingCity"] == "Utrecht"
    assert sf.Account.get(result["account_id"])["Name"] == "Acme"
    roles = sf.query(
        "SELECT ContactId, IsPrimary FROM OpportunityContactRole WHERE "
        f"OpportunityId = '{result['opportunity_id']}'"
    )["records"]
    assert [(r["ContactId"], r["IsPrimary"]) for r in roles] == [(result["contact_id"], True)]
    assert sf.query("SELECT Id FROM Lead WHERE IsConverted = false")["totalSize"] == 0
    assert sf.query("SELECT Id FROM Lead")["totalSize"] == 1  # still queryable
    with pytest.raises(SfError) as caught:
        app.run_action("convert_lead", lead_id=lead)
    assert caught.value.code == "CANNOT_UPDATE_CONVERTED_LEAD"


def test_convert_lead_moves_its_activities_to_the_contact_and_opportunity(sf, app):
    lead = sf.Lead.create({"LastName": "Doe", "Company": "Acme"})["id"]
    task = sf.Task.create({"WhoId": lead, "Subject": "Call back", "Status": "Completed"})["id"]
    event = sf.Event.create(
        {
            "WhoId": lead,
            "Subject": "Demo",
            "StartDateTime": "2026-03-04T10:00:00.000+0000",
            "EndDateTime": "2026-03-04T11:00:00.000+0000",
        }
    )["id"]
    before = sf.Task.get(task)["SystemModstamp"]
    app.clock.advance(60)
    result = app.run_action("convert_lead", lead_id=lead)
    for moved in (sf.Task.get(task), sf.Event.get(event)):
        assert (moved["WhoId"], moved["WhatId"]) == (
            result["contact_id"],
            result["opportunity_id"],
        )
    assert sf.Task.get(task)["SystemModstamp"] > before  # change readers see the move


def test_convert_lead_into_existing_records_without_opportunity(sf, app):
    account = sf.Account.create({"Name": "Existing"})["id"]
    contact = sf.Contact.create({"LastName": "Known", "AccountId": account})["id"]
    lead = sf.Lead.create({"LastName": "Known", "Company": "Existing"})["id"]
    result = app.run_action(
        "convert_lead",
        lead_id=lead,
        account_id=account,
        contact_id=contact,
        create_opportunity=False,
    )
    assert (result["account_id"], result["contact_id"], result["opportunity_id"]) == (
        account,
        contact,
        None,
    )
    assert sf.query("SELECT COUNT() FROM Contact")["totalSize"] == 1


def test_contact_roles_and_stages(sf, app):
    opp = sf.Opportunity.create(
        {"Name": "D", "StageName": "Prospecting", "CloseDate": "2030-01-01", "Amount": 1000}
    )["id"]
    first = sf.Contact.create({"LastName": "First"})["id"]
    second = sf.Contact.create({"LastName": "Second"})["id"]
    app.run_action(
        "add_contact_role",
        opportunity_id=opp,
        contact_id=first,
        role="Decision Maker",
        is_primary=True,
    )
    app.run_action("add_contact_role", opportunity_id=opp, contact_id=second, is_primary=True)
    roles = sf.query(
        "SELECT Contact.LastName, Role, IsPrimary FROM OpportunityContactRole "
        "ORDER BY Contact.LastName"
    )["records"]
    assert [(r["Contact"]["LastName"], r["Role"], r["IsPrimary"]) for r in roles] == [
        ("First", "Decision Maker", False),
        ("Second", None, True),
    ]
    app.run_action("set_stage", opportunity_id=opp, stage="Closed Won")
    won = sf.Opportunity.get(opp)
    assert (won["IsClosed"], won["IsWon"], won["Probability"]) == (True, True, 100.0)
    assert won["ForecastCategoryName"] == "Closed" and won["ExpectedRevenue"] == 1000.0
    assert won["LastModifiedById"] == ui_user(app)


def test_add_field_at_runtime(sf, app):
    app.run_action(
        "add_field",
        object="Contact",
        field="Tier",
        type="picklist",
        values=["Gold", "Silver"],
        restricted=True,
    )
    fields = {f["name"]: f for f in sf.Contact.describe()["fields"]}
    assert fields["Tier__c"]["custom"] is True and fields["Tier__c"]["restrictedPicklist"]
    created = sf.Contact.create({"LastName": "x", "Tier__c": "Gold"})["id"]
    assert sf.query("SELECT Tier__c FROM Contact")["records"][0]["Tier__c"] == "Gold"
    with pytest.raises(SalesforceMalformedRequest):
        sf.Contact.update(created, {"Tier__c": "Bronze"})


def test_users_and_change_owner(sf, app):
    rep = app.run_action("create_user", first_name="Sam", last_name="Rep", email="sam@example.com")
    created = sf.Account.create({"Name": "Acme"})["id"]
    app.run_action("change_owner", id=created, owner_id=rep)
    record = sf.query(f"SELECT Owner.Name FROM Account WHERE Id = '{created}'")["records"][0]
    assert record["Owner"]["Name"] == "Sam Rep"
    assert app.run_action("get", id=created)["OwnerId"] == rep


def test_lock_over_http_then_unlock(sf, control):
    created = sf.Contact.create({"LastName": "x"})["id"]
    control("actions/lock_row", {"id": created, "seconds": 600})
    with pytest.raises(SalesforceMalformedRequest) as caught:
        sf.Contact.delete(created)
    assert caught.value.content[0]["errorCode"] == "UNABLE_TO_LOCK_ROW"
    control("actions/unlock_row", {"id": created})
    assert sf.Contact.delete(created) == 204


def test_reset_clock_and_faults_over_http(sf, app, control):
    sf.Contact.create({"LastName": "x"})
    clock = control("clock", {"advance": 3600}).json()
    assert clock["offsetSeconds"] >= 3600
    rule = control("faults", {"path": "/query", "error_code": "QUERY_TIMEOUT", "times": 1})
    assert rule.status_code == 201
    with pytest.raises(SalesforceMalformedRequest) as caught:
        sf.query("SELECT Id FROM Contact")
    assert caught.value.content[0]["errorCode"] == "QUERY_TIMEOUT"
    assert control("reset").json() == {"reset": True}
    assert sf.query("SELECT COUNT() FROM Contact")["totalSize"] == 0
    ledger = control("ledger", method="GET").json()
    assert ledger["count"] == 1 and ledger["entries"][0]["charged"] == 1


def test_new_checkbox_fields_read_false_on_existing_records(sf, app):
    sf.Lead.create({"LastName": "Old", "Company": "X"})
    app.run_action("add_field", object="Lead", field="Is_Hot", type="boolean")
    assert sf.query("SELECT COUNT() FROM Lead WHERE Is_Hot__c = false")["totalSize"] == 1
