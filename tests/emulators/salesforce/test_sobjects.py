"""Single-record REST through unmodified simple-salesforce: CRUD, external ids, describe."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import requests
from simple_salesforce.exceptions import (
    SalesforceGeneralError,
    SalesforceMalformedRequest,
    SalesforceMoreThanOneRecord,
    SalesforceResourceNotFound,
)

from emulators.testing import salesforce_client, salesforce_session

DATETIME_FORMAT = "%Y-%m-%dT%H:%M:%S.000+0000"


def test_create_returns_201_and_the_id(sf):
    lead = sf.Lead
    result = lead.create({"LastName": "Doe", "Company": "Acme", "Email": "jane@example.com"})
    assert dict(result) == {"id": result["id"], "success": True, "errors": []}
    assert result["id"].startswith("00Q") and len(result["id"]) == 18


def test_get_returns_every_field_with_attributes_and_system_fields(sf, app):
    created = sf.Contact.create({"FirstName": "Jane", "LastName": "Doe"})
    record = sf.Contact.get(created["id"])
    assert list(record)[0] == "attributes"
    assert record["attributes"] == {
        "type": "Contact",
        "url": f"/services/data/v59.0/sobjects/Contact/{created['id']}",
    }
    assert record["Id"] == created["id"]
    assert record["Name"] == "Jane Doe"
    assert record["Email"] is None  # unset fields are present as null
    assert record["IsDeleted"] is False
    integration_user = app.user_for_token("integration-token")
    assert record["OwnerId"] == record["CreatedById"] == integration_user
    assert record["LastModifiedById"] == integration_user
    for name in ("CreatedDate", "LastModifiedDate", "SystemModstamp"):
        parsed = datetime.strptime(record[name], DATETIME_FORMAT)  # whole seconds, +0000
        assert abs(parsed.replace(tzinfo=UTC) - datetime.now(UTC)) < timedelta(minutes=1)
    visible = {f["name"] for f in sf.Contact.describe()["fields"]}
    assert set(record) - {"attributes"} == visible


def test_get_with_fields_projects(sf):
    created = sf.Account.create({"Name": "Acme", "Industry": "Banking"})
    record = sf.Account.get(created["id"], params={"fields": "name,Industry"})
    assert record["Name"] == "Acme" and record["Industry"] == "Banking"
    assert set(record) == {"attributes", "Name", "Industry", "Id"}
    with pytest.raises(SalesforceMalformedRequest) as caught:
        sf.Account.get(created["id"], params={"fields": "Name,Nope"})
    assert caught.value.content[0]["errorCode"] == "INVALID_FIELD"


def test_fifteen_character_and_wrong_case_ids_are_accepted(sf):
    created = sf.Account.create({"Name": "Acme"})
    assert sf.Account.get(created["id"][:15])["Id"] == created["id"]
    assert sf.Account.get(created["id"].lower())["Id"] == created["id"]


def test_update_returns_204_and_stamps_the_editor(sf, rep_sf, app):
    created = sf.Lead.create({"LastName": "Doe", "Company": "Acme"})
    before = sf.Lead.get(created["id"])
    app.clock.advance(5)
    assert rep_sf.Lead.update(created["id"], {"Title": "CTO"}) == 204
    after = sf.Lead.get(created["id"])
    assert after["Title"] == "CTO"
    assert after["LastModifiedById"] == app.user_for_token("sales-rep-token")
    assert after["LastModifiedById"] != before["LastModifiedById"]
    assert after["CreatedById"] == before["CreatedById"]
    assert after["SystemModstamp"] > before["SystemModstamp"]
    assert after["LastModifiedDate"] == after["SystemModstamp"]


def test_every_token_is_its_own_user(emulators, app):
    salesforce_client(emulators, token="alice-smith").limits()
    salesforce_client(emulators, token="bob").limits()
    alice = app.org.store.get("User", app.user_for_token("alice-smith"))
    bob = app.org.store.get("User", app.user_for_token("bob"))
    assert alice["Name"] == "Alice Smith" and bob["Name"] == "Bob"
    assert alice["Id"] != bob["Id"]
    sf = salesforce_client(emulators, token="bob")
    users = sf.query("SELECT Id, Name, Username FROM User WHERE Name = 'Alice Smith'")
    assert users["records"][0]["Username"] == "alice.smith@emulator.example.com"


def test_delete_goes_to_the_recycle_bin(sf):
    created = sf.Contact.create({"LastName": "Gone"})
    assert sf.Contact.delete(created["id"]) == 204
    for call in (
        lambda: sf.Contact.get(created["id"]),
        lambda: sf.Contact.update(created["id"], {"LastName": "Back"}),
        lambda: sf.Contact.delete(created["id"]),
    ):
        with pytest.raises(SalesforceResourceNotFound) as caught:
            call()
        assert caught.value.content == [
            {"message": "entity is deleted", "errorCode": "ENTITY_IS_DELETED", "fields": []}
        ]
    assert sf.query("SELECT Id FROM Contact")["totalSize"] == 0
    everything = sf.query_all("SELECT Id, IsDeleted FROM Contact", include_deleted=True)
    assert [(r["Id"], r["IsDeleted"]) for r in everything["records"]] == [(created["id"], True)]


def test_unknown_and_malformed_ids(sf):
    missing = "0035g0000009999AAA"
    with pytest.raises(SalesforceResourceNotFound) as caught:
        sf.Contact.get(missing)
    assert caught.value.content[0]["errorCode"] == "NOT_FOUND"
    with pytest.raises(SalesforceResourceNotFound) as caught:
        sf.Contact.update(missing, {"LastName": "x"})
    assert caught.value.content[0]["message"] == (
        f"Provided external ID field does not exist or is not accessible: {missing}"
    )
    with pytest.raises(SalesforceMalformedRequest) as caught:
        sf.Contact.update("not-an-id", {"LastName": "x"})
    assert caught.value.content[0]["errorCode"] == "MALFORMED_ID"


def test_deleting_an_account_cascades_to_contacts_and_opportunities(sf):
    account = sf.Account.create({"Name": "Acme"})["id"]
    contact = sf.Contact.create({"LastName": "Doe", "AccountId": account})["id"]
    opportunity = sf.Opportunity.create(
        {
            "Name": "Deal",
            "StageName": "Prospecting",
            "CloseDate": "2030-01-01",
            "AccountId": account,
        }
    )["id"]
    sf.Account.delete(account)
    deleted = sf.query_all("SELECT Id FROM Contact WHERE IsDeleted = true", include_deleted=True)[
        "records"
    ]
    assert [r["Id"] for r in deleted] == [contact]
    with pytest.raises(SalesforceResourceNotFound):
        sf.Opportunity.get(opportunity)


def test_upsert_by_external_id_creates_then_updates(sf):
    contact = sf.Contact
    assert contact.upsert("HubSpot_Id__c/4711", {"LastName": "First"}) == 201
    assert contact.upsert("HubSpot_Id__c/4711", {"LastName": "Second"}) == 200
    record = sf.Contact.get_by_custom_id("HubSpot_Id__c", "4711")
    assert record["LastName"] == "Second" and record["HubSpot_Id__c"] == "4711"
    raw = contact.upsert("HubSpot_Id__c/4712", {"LastName": "Raw"}, raw_response=True)
    assert raw.status_code == 201
    assert raw.json() == {"id": raw.json()["id"], "success": True, "errors": [], "created": True}
    raw = contact.upsert("HubSpot_Id__c/4712", {"LastName": "Raw2"}, raw_response=True)
    assert raw.status_code == 200 and raw.json()["created"] is False
    assert sf.query("SELECT COUNT() FROM Contact")["totalSize"] == 2


def test_upsert_on_old_api_versions_answers_204(emulators):
    sf = salesforce_client(emulators, token="integration-token", version="45.0")
    sf.Contact.upsert("HubSpot_Id__c/1", {"LastName": "A"})
    assert sf.Contact.upsert("HubSpot_Id__c/1", {"LastName": "B"}) == 204


def test_get_by_custom_id_reads_plus_literally(sf):
    sf.Project__c.create({"Name": "P", "External_Id__c": "A+B"})
    sf.Project__c.create({"Name": "Q", "External_Id__c": "C D"})
    record = sf.Project__c.get_by_custom_id("External_Id__c", "A+B")  # sent as A%2BB
    assert record["External_Id__c"] == "A+B"
    # quote_plus sends "C+D"; Salesforce reads "+" in a path literally, so no match
    with pytest.raises(SalesforceResourceNotFound):
        sf.Project__c.get_by_custom_id("External_Id__c", "C D")
    with pytest.raises(SalesforceResourceNotFound):
        sf.Project__c.get_by_custom_id("External_Id__c", "nope")


def test_external_id_lookup_needs_an_external_id_field(sf):
    with pytest.raises(SalesforceResourceNotFound) as caught:
        sf.Contact.get_by_custom_id("LastName", "Doe")
    assert caught.value.content[0]["message"] == (
        "Provided external ID field does not exist or is not accessible: LastName"
    )


def test_several_matches_on_a_non_unique_external_id_answer_300(sf, app):
    app.run_action("add_field", object="Account", field="Legacy_Key__c", external_id=True)
    first = sf.Account.create({"Name": "A", "Legacy_Key__c": "dup"})["id"]
    second = sf.Account.create({"Name": "B", "Legacy_Key__c": "dup"})["id"]
    with pytest.raises(SalesforceMoreThanOneRecord) as caught:
        sf.Account.upsert("Legacy_Key__c/dup", {"Name": "C"})
    assert sorted(caught.value.content) == sorted(
        f"/services/data/v59.0/sobjects/Account/{i}" for i in (first, second)
    )
    with pytest.raises(SalesforceMoreThanOneRecord):
        sf.Account.get_by_custom_id("Legacy_Key__c", "dup")


def test_reference_by_parent_external_id(sf):
    account = sf.Account.create({"Name": "Acme", "HubSpot_Id__c": "co-1"})["id"]
    contact = sf.Contact.create({"LastName": "Doe", "Account": {"HubSpot_Id__c": "co-1"}})
    assert sf.Contact.get(contact["id"])["AccountId"] == account
    with pytest.raises(SalesforceMalformedRequest) as caught:
        sf.Contact.create({"LastName": "Doe", "Account": {"HubSpot_Id__c": "missing"}})
    assert caught.value.content[0]["errorCode"] == "INVALID_FIELD"


def test_describe_global_and_object(sf):
    everything = sf.describe()
    assert everything["encoding"] == "UTF-8" and everything["maxBatchSize"] == 200
    names = {s["name"]: s for s in everything["sobjects"]}
    expected = {
        "Lead", "Contact", "Account", "Opportunity", "OpportunityContactRole", "Case", "Task",
        "Event", "User", "RecordType", "Campaign", "CampaignMember", "Project__c",
    }  # fmt: skip
    assert expected <= set(names)
    assert names["Lead"]["keyPrefix"] == "00Q"
    assert names["Project__c"]["custom"] is True
    assert names["Lead"]["urls"]["describe"] == "/services/data/v59.0/sobjects/Lead/describe"

    lead = sf.Lead.describe()
    fields = {f["name"]: f for f in lead["fields"]}
    assert fields["LastName"]["nillable"] is False and fields["LastName"]["length"] == 80
    assert fields["Status"]["defaultedOnCreate"] is True
    assert fields["HubSpot_Id__c"]["externalId"] is True and fields["HubSpot_Id__c"]["custom"]
    assert "StateCode" not in fields  # State and Country/Territory Picklists are off
    assert "RecordTypeId" not in fields  # no record types yet
    assert {"name", "label", "keyPrefix", "childRelationships", "recordTypeInfos"} <= set(lead)
    metadata = sf.Lead.metadata()
    assert metadata["objectDescribe"]["name"] == "Lead"
    relationships = {r["relationshipName"] for r in sf.Account.describe()["childRelationships"]}
    assert {"Contacts", "Opportunities"} <= relationships


def test_record_types_add_record_type_id(sf, app):
    rt = app.run_action("add_record_type", object="Opportunity", label="New Business")
    describe = sf.Opportunity.describe()
    assert "RecordTypeId" in {f["name"] for f in describe["fields"]}
    assert any(i["recordTypeId"] == rt for i in describe["recordTypeInfos"])
    opportunity = sf.Opportunity.create(
        {"Name": "D", "StageName": "Prospecting", "CloseDate": "2030-01-01"}
    )
    record = sf.Opportunity.get(opportunity["id"])
    assert record["RecordTypeId"] == rt
    assert sf.query("SELECT Id, Name FROM RecordType")["records"][0]["Name"] == "New Business"
    with pytest.raises(SalesforceMalformedRequest) as caught:
        sf.Contact.create({"LastName": "x", "RecordTypeId": rt})
    assert caught.value.content[0]["message"] == (
        "No such column 'RecordTypeId' on sobject of type Contact"
    )


def test_unknown_object_and_route(sf, emulators):
    with pytest.raises(SalesforceResourceNotFound) as caught:
        sf.Nope__c.describe()
    assert caught.value.content == [
        {"message": "The requested resource does not exist", "errorCode": "NOT_FOUND"}
    ]
    with pytest.raises(SalesforceResourceNotFound):
        sf.restful("no/such/thing")
    with pytest.raises(SalesforceGeneralError) as caught:
        sf.restful("sobjects/Lead", method="PUT", json={})
    assert caught.value.status == 405
    assert caught.value.content[0]["errorCode"] == "METHOD_NOT_ALLOWED"


def test_any_api_version_is_echoed_and_trailing_slash_ignored(emulators):
    sf = salesforce_client(emulators, token="integration-token", version="52.0")
    created = sf.Account.create({"Name": "v52"})
    assert sf.Account.get(created["id"])["attributes"]["url"].startswith("/services/data/v52.0/")
    session = salesforce_session(emulators.ca_path)
    headers = {"Authorization": "Bearer integration-token"}
    base = f"{emulators.salesforce.url}/services/data/v61.0/sobjects/Account/{created['id']}"
    for url in (base, base + "/"):
        response = session.get(url, headers=headers)
        assert response.status_code == 200
        assert response.json()["attributes"]["url"].startswith("/services/data/v61.0/")
    versions = session.get(f"{emulators.salesforce.url}/services/data").json()
    assert {"version": "59.0", "label": "API 59.0", "url": "/services/data/v59.0"} in versions


def test_json_errors(sf, emulators):
    session = salesforce_session(emulators.ca_path)
    response = session.post(
        f"{emulators.salesforce.url}/services/data/v59.0/sobjects/Lead",
        data=b"{not json",
        headers={"Authorization": "Bearer t", "Content-Type": "application/json"},
    )
    assert response.status_code == 400
    assert response.json()[0]["errorCode"] == "JSON_PARSER_ERROR"
    with pytest.raises(SalesforceMalformedRequest) as caught:
        sf.restful("sobjects/Lead", method="POST", json=[1, 2])
    assert caught.value.content[0]["errorCode"] == "JSON_PARSER_ERROR"


def test_updated_and_deleted(sf, app):
    start = app.clock.now() - timedelta(minutes=5)
    kept = sf.Lead.create({"LastName": "Kept", "Company": "X"})["id"]
    gone = sf.Lead.create({"LastName": "Gone", "Company": "X"})["id"]
    sf.Lead.delete(gone)
    app.clock.advance(120)
    end = app.clock.now()
    updated = sf.Lead.updated(start, end)
    assert updated["ids"] == [kept]
    assert updated["latestDateCovered"].endswith(":00.000+0000")
    deleted = sf.Lead.deleted(start, end)
    assert [d["id"] for d in deleted["deletedRecords"]] == [gone]
    assert set(deleted) == {"deletedRecords", "earliestDateAvailable", "latestDateCovered"}
    with pytest.raises(SalesforceMalformedRequest) as caught:
        sf.Lead.updated(end - timedelta(days=31), end)
    assert caught.value.content[0]["errorCode"] == "INVALID_REPLICATION_DATE"


def test_an_open_transaction_holds_latest_date_covered_at_its_start(sf, app):
    """Salesforce's getUpdated covers only up to a long-running transaction's start until it
    completes: a caller starting its next call at latestDateCovered misses none of it."""
    start = app.clock.now() - timedelta(minutes=5)
    app.clock.advance(60 - app.clock.now().second + 10)  # 10 s into a minute
    opened = app.clock.now().replace(second=0, microsecond=0)
    app.run_action("late_commit", seconds=150)
    late = sf.Lead.create({"LastName": "Late", "Company": "X"})["id"]
    app.clock.advance(120)  # two minutes on, the transaction is still open
    open_answer = sf.Lead.updated(start, app.clock.now())
    assert open_answer["ids"] == []
    assert open_answer["latestDateCovered"] == opened.strftime(DATETIME_FORMAT)
    deleted = sf.Lead.deleted(start, app.clock.now())
    assert deleted["latestDateCovered"] == open_answer["latestDateCovered"]
    app.clock.advance(31)  # committed: it shows, from where the last answer stopped
    covered = datetime.fromisoformat(open_answer["latestDateCovered"])
    answer = sf.Lead.updated(covered, app.clock.now())
    assert answer["ids"] == [late]
    minute = app.clock.now().replace(second=0, microsecond=0)
    assert answer["latestDateCovered"] == minute.strftime(DATETIME_FORMAT)


def test_unauthenticated_requests_are_401(emulators):
    session = salesforce_session(emulators.ca_path)
    response = session.get(f"{emulators.salesforce.url}/services/data/v59.0/limits")
    assert response.status_code == 401
    assert response.json() == [
        {"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}
    ]


def test_requests_without_the_emulator_ca_are_refused(emulators):
    session = requests.Session()
    session.trust_env = False
    with pytest.raises(requests.exceptions.SSLError):
        session.get(f"{emulators.salesforce.url}/services/data", timeout=5)
