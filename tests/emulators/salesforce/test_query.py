"""SOQL over REST through simple-salesforce: shapes, paging, locators, queryAll, errors."""

# ruff: noqa: S608 - the f-strings here build SOQL for an in-memory emulator, not SQL

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest
from simple_salesforce.exceptions import SalesforceMalformedRequest
from simple_salesforce.format import format_soql

from emulators.salesforce.dml import Ctx


def bulk_contacts(app, count: int, **fields) -> list[str]:
    """Create contacts quickly through the write path (no HTTP)."""
    obj = app.schema.objects["Contact"]
    ctx = Ctx(user_id=app.org.ui_user_id)
    with app.lock:
        return [
            app.writer.create(
                obj, {"LastName": f"C{i:05d}", "Email": f"c{i}@example.com", **fields}, ctx
            )
            for i in range(count)
        ]


def test_relationship_fields_nest_and_keep_canonical_casing(sf):
    account = sf.Account.create({"Name": "Acme"})["id"]
    sf.Contact.create({"LastName": "With", "AccountId": account})
    sf.Contact.create({"LastName": "Without"})
    result = sf.query(
        "select id, lastname, account.name, OWNER.email from contact order by LastName asc"
    )
    assert result["totalSize"] == 2 and result["done"] is True
    with_account, without = result["records"]
    assert list(with_account) == ["attributes", "Id", "LastName", "Account", "Owner"]
    assert with_account["Account"] == {
        "attributes": {
            "type": "Account",
            "url": f"/services/data/v59.0/sobjects/Account/{account}",
        },
        "Name": "Acme",
    }
    assert with_account["Owner"]["Email"] == "integration.token@emulator.example.com"
    assert without["Account"] is None


def test_where_operators(sf):
    for i, (name, amount, stage) in enumerate([
        ("Alpha", 100.0, "Prospecting"), ("Beta", 250.0, "Closed Won"),
        ("gamma", None, "Closed Lost"), ("Delta_x", 900.0, "Prospecting"),
    ]):  # fmt: skip
        sf.Opportunity.create(
            {"Name": name, "StageName": stage, "Amount": amount, "CloseDate": f"2030-01-0{i + 1}"}
        )

    def names(where: str) -> list[str]:
        soql = f"SELECT Name FROM Opportunity WHERE {where} ORDER BY Name"
        return [r["Name"] for r in sf.query(soql)["records"]]

    assert names("Name = 'ALPHA'") == ["Alpha"]  # case-insensitive
    assert names("Amount > 100") == ["Beta", "Delta_x"]
    assert names("Amount >= 100 AND Amount <= 250") == ["Alpha", "Beta"]
    assert names("Amount = null") == ["gamma"]
    assert names("Amount != null") == ["Alpha", "Beta", "Delta_x"]
    assert names("Amount != 100") == ["Beta", "Delta_x", "gamma"]  # SOQL != keeps nulls
    assert names("Name LIKE 'a%'") == ["Alpha"]
    assert names("Name LIKE '%ta\\_%'") == ["Delta_x"]
    assert names("Name LIKE '_eta'") == ["Beta"]
    assert names("StageName IN ('Closed Won', 'closed lost')") == ["Beta", "gamma"]
    assert names("StageName NOT IN ('Prospecting')") == ["Beta", "gamma"]
    assert names("NOT Name = 'Alpha'") == ["Beta", "Delta_x", "gamma"]
    assert names("(Amount < 200 OR Amount > 800) AND StageName = 'Prospecting'") == [
        "Alpha", "Delta_x"]  # fmt: skip
    assert names("IsWon = true") == ["Beta"]
    assert names("CloseDate > 2030-01-02") == ["Delta_x", "gamma"]
    assert names("CreatedDate > 2000-01-01T00:00:00Z") == ["Alpha", "Beta", "Delta_x", "gamma"]
    assert names("CreatedDate < 2000-01-01T00:00:00+02:00") == []
    assert names("CreatedDate = TODAY") == ["Alpha", "Beta", "Delta_x", "gamma"]
    assert names("CreatedDate = LAST_N_DAYS:3") == ["Alpha", "Beta", "Delta_x", "gamma"]
    assert names("CreatedDate < YESTERDAY") == []


def test_order_by_nulls_and_multiple_keys(sf):
    for name, amount in [("b", 1), ("a", 1), ("c", None), ("d", 5)]:
        sf.Opportunity.create(
            {"Name": name, "StageName": "Prospecting", "Amount": amount, "CloseDate": "2030-01-01"}
        )

    def names(order: str) -> list[str]:
        return [
            r["Name"] for r in sf.query(f"SELECT Name FROM Opportunity ORDER BY {order}")["records"]
        ]

    assert names("Amount, Name") == ["c", "a", "b", "d"]  # ASC: nulls first
    assert names("Amount DESC, Name") == ["d", "a", "b", "c"]  # DESC: nulls last
    assert names("Amount ASC NULLS LAST, Name DESC") == ["b", "a", "d", "c"]
    assert names("Amount DESC NULLS FIRST, Name") == ["c", "d", "a", "b"]
    limited = sf.query("SELECT Name FROM Opportunity ORDER BY Name LIMIT 2 OFFSET 1")
    assert [r["Name"] for r in limited["records"]] == ["b", "c"]
    assert limited["totalSize"] == 2


def test_count(sf):
    for i in range(3):
        sf.Lead.create({"LastName": f"L{i}", "Company": "X"})
    result = sf.query("SELECT COUNT() FROM Lead WHERE LastName != 'L0'")
    assert result == {"totalSize": 2, "done": True, "records": []}


def test_format_soql_datetimes_and_quotes(sf):
    sf.Contact.create({"LastName": "O'Brien"})
    soql = format_soql(
        "SELECT Id, LastName FROM Contact WHERE LastName = {} AND CreatedDate > {}",
        "O'Brien",
        datetime(2000, 1, 1, tzinfo=UTC),
    )
    assert "2000-01-01T00:00:00+00:00" in soql
    assert sf.query(soql)["records"][0]["LastName"] == "O'Brien"


def test_paging_with_locators(sf, app):
    bulk_contacts(app, 4500)
    first = sf.query("SELECT Id, LastName FROM Contact ORDER BY LastName")
    assert first["totalSize"] == 4500 and first["done"] is False
    assert len(first["records"]) == 2000
    assert first["nextRecordsUrl"].startswith("/services/data/v59.0/query/01g")
    assert first["nextRecordsUrl"].endswith("-2000")
    second = sf.query_more(first["nextRecordsUrl"], identifier_is_url=True)
    assert len(second["records"]) == 2000 and second["nextRecordsUrl"].endswith("-4000")
    locator = second["nextRecordsUrl"].rsplit("/", 1)[1]
    third = sf.query_more(locator)
    assert third["done"] is True and "nextRecordsUrl" not in third
    assert len(third["records"]) == 500
    names = [r["LastName"] for page in (first, second, third) for r in page["records"]]
    assert names == sorted(names) and len(set(names)) == 4500
    everything = sf.query_all("SELECT Id FROM Contact")
    assert everything["totalSize"] == 4500 and len(everything["records"]) == 4500


def test_batch_size_header(sf, app):
    bulk_contacts(app, 450)
    page = sf.query("SELECT Id FROM Contact", headers={"Sforce-Query-Options": "batchSize=200"})
    assert len(page["records"]) == 200 and page["nextRecordsUrl"].endswith("-200")
    tiny = sf.query("SELECT Id FROM Contact", headers={"Sforce-Query-Options": "batchSize=5"})
    assert len(tiny["records"]) == 200  # clamped to the minimum of 200


def test_locators_expire(sf, app):
    bulk_contacts(app, 2100)
    first = sf.query("SELECT Id FROM Contact")
    app.clock.advance(16 * 60)
    with pytest.raises(SalesforceMalformedRequest) as caught:
        sf.query_more(first["nextRecordsUrl"], identifier_is_url=True)
    assert caught.value.content == [
        {"message": "invalid query locator", "errorCode": "INVALID_QUERY_LOCATOR"}
    ]
    with pytest.raises(SalesforceMalformedRequest):
        sf.query_more("01g5g0000000000AAA-2000")


def test_query_all_shows_deleted_and_merged_rows(sf, app):
    keep = sf.Contact.create({"LastName": "Keep", "Email": "k@example.com"})["id"]
    lose = sf.Contact.create({"LastName": "Lose", "Email": "l@example.com"})["id"]
    app.run_action("merge", object="Contact", master_id=keep, loser_ids=[lose])
    assert [r["Id"] for r in sf.query("SELECT Id FROM Contact")["records"]] == [keep]
    rows = sf.query_all(
        "SELECT Id, IsDeleted, MasterRecordId FROM Contact ORDER BY LastName",
        include_deleted=True,
    )["records"]
    assert [(r["Id"], r["IsDeleted"], r["MasterRecordId"]) for r in rows] == [
        (keep, False, None), (lose, True, keep)]  # fmt: skip
    page = sf.query("SELECT Id FROM Contact WHERE IsDeleted = true")
    assert page["totalSize"] == 0


def test_query_all_pages_keep_using_query_all(sf, app):
    ids = bulk_contacts(app, 2100)
    with app.lock:
        app.writer.delete(app.schema.objects["Contact"], ids[0], Ctx(app.org.ui_user_id))
    first = sf.query("SELECT Id FROM Contact", include_deleted=True)
    assert first["nextRecordsUrl"].startswith("/services/data/v59.0/queryAll/")
    assert first["totalSize"] == 2100


def test_child_subquery_and_semi_join(sf):
    account = sf.Account.create({"Name": "Acme"})["id"]
    buyer = sf.Contact.create({"LastName": "Buyer", "AccountId": account})["id"]
    sf.Contact.create({"LastName": "Bystander", "AccountId": account})
    deal = sf.Opportunity.create(
        {
            "Name": "Deal",
            "StageName": "Prospecting",
            "CloseDate": "2030-01-01",
            "AccountId": account,
        }
    )["id"]
    empty = sf.Opportunity.create(
        {"Name": "Empty", "StageName": "Prospecting", "CloseDate": "2030-01-01"}
    )["id"]
    sf.OpportunityContactRole.create(
        {"OpportunityId": deal, "ContactId": buyer, "Role": "Economic Buyer", "IsPrimary": True}
    )
    result = sf.query(
        "SELECT Id, (SELECT ContactId, Role, Contact.LastName FROM OpportunityContactRoles) "
        "FROM Opportunity ORDER BY Name"
    )
    by_id = {r["Id"]: r for r in result["records"]}
    roles = by_id[deal]["OpportunityContactRoles"]
    assert roles["totalSize"] == 1 and roles["done"] is True
    assert roles["records"][0]["Role"] == "Economic Buyer"
    assert roles["records"][0]["Contact"]["LastName"] == "Buyer"
    assert by_id[empty]["OpportunityContactRoles"] is None
    semi = sf.query(
        "SELECT LastName FROM Contact WHERE Id IN "
        "(SELECT ContactId FROM OpportunityContactRole WHERE IsPrimary = true)"
    )
    assert [r["LastName"] for r in semi["records"]] == ["Buyer"]
    anti = sf.query(
        "SELECT LastName FROM Contact WHERE Id NOT IN "
        "(SELECT ContactId FROM OpportunityContactRole)"
    )
    assert [r["LastName"] for r in anti["records"]] == ["Bystander"]


def test_fields_function(sf):
    sf.Project__c.create({"Name": "P", "External_Id__c": "X-1"})
    record = sf.query("SELECT FIELDS(CUSTOM) FROM Project__c LIMIT 10")["records"][0]
    assert "External_Id__c" in record and "CreatedDate" not in record
    with pytest.raises(SalesforceMalformedRequest) as caught:
        sf.query("SELECT FIELDS(ALL) FROM Project__c")
    assert caught.value.content[0]["errorCode"] == "MALFORMED_QUERY"


@pytest.mark.parametrize(
    ("soql", "code", "fragment"),
    [
        ("SELECT Id FROM Lead WHERE", "MALFORMED_QUERY", "unexpected token: <EOF>"),
        ("SELEKT Id FROM Lead", "MALFORMED_QUERY", "unexpected token: 'SELEKT'"),
        (
            "SELECT Id FROM Lead WHERE Name = 'a' AND Name = 'b' OR Name = 'c'",
            "MALFORMED_QUERY",
            "unexpected token: 'OR'",
        ),
        (
            "SELECT Foo FROM Lead",
            "INVALID_FIELD",
            "No such column 'Foo' on entity 'Lead'. If you are attempting to use a custom field, "
            "be "
            "sure to append the '__c' after the custom field name. Please reference your WSDL or "
            "the describe call for the appropriate names.",
        ),
        ("SELECT Id FROM Foo", "INVALID_TYPE", "sObject type 'Foo' is not supported."),
        ("SELECT Id FROM Contact WHERE Amount__c > 1", "INVALID_FIELD", "No such column"),
        ("SELECT Id, Nope.Name FROM Contact", "INVALID_FIELD", "Didn't understand relationship"),
        (
            "SELECT Id FROM Contact WHERE CreatedDate > 2024-01-01",
            "INVALID_FIELD",
            "must be of type dateTime",
        ),
        ("SELECT Id FROM Contact WHERE LastName = 5", "INVALID_FIELD", "must be of type string"),
        (
            "SELECT Id FROM Contact WHERE Id = 'abc'",
            "INVALID_QUERY_FILTER_OPERATOR",
            "invalid ID field: abc",
        ),
        (
            "SELECT Id FROM Contact LIMIT 10 OFFSET 2001",
            "NUMBER_OUTSIDE_VALID_RANGE",
            "Maximum SOQL offset allowed is 2000",
        ),
    ],
)
def test_query_errors(sf, soql, code, fragment):
    with pytest.raises(SalesforceMalformedRequest) as caught:
        sf.query(soql)
    (error,) = caught.value.content
    assert error["errorCode"] == code
    assert fragment in error["message"]


def test_error_messages_point_at_the_column(sf):
    with pytest.raises(SalesforceMalformedRequest) as caught:
        sf.query("SELECT Id, Bogus FROM Lead")
    message = caught.value.content[0]["message"]
    assert message.startswith(
        "\nSELECT Id, Bogus FROM Lead\n           ^\nERROR at Row:1:Column:12\n"
    )


def test_late_commit_hides_a_write_until_it_commits(sf, app):
    before = sf.Contact.create({"LastName": "Early"})["id"]
    app.run_action("late_commit", seconds=30)
    late = sf.Contact.create({"LastName": "Late"})["id"]
    stamp = app.org.store.get("Contact", late)["SystemModstamp"]
    assert [r["Id"] for r in sf.query("SELECT Id FROM Contact")["records"]] == [before]
    app.clock.advance(31)
    rows = sf.query("SELECT Id, SystemModstamp FROM Contact ORDER BY CreatedDate, Id")["records"]
    assert [r["Id"] for r in rows] == [before, late]
    assert rows[1]["SystemModstamp"] == stamp  # visible now, with its earlier stamp


def test_late_committed_update_shows_the_old_version_meanwhile(sf, app):
    created = sf.Contact.create({"LastName": "Old"})["id"]
    app.run_action("late_commit", seconds=10)
    sf.Contact.update(created, {"LastName": "New"})
    assert sf.query("SELECT LastName FROM Contact")["records"][0]["LastName"] == "Old"
    app.clock.advance(11)
    assert sf.query("SELECT LastName FROM Contact")["records"][0]["LastName"] == "New"


def test_cursor_query_over_many_records_is_fast(sf, app):
    """The incremental-sync query: a 2,000-row page over 30k records (100k are measured by hand)."""
    obj = app.schema.objects["Contact"]
    with app.lock:  # insert directly: this test is about reading
        for i in range(30_000):
            app.writer.insert_raw(
                obj, {"LastName": f"P{i}", "Email": f"p{i}@example.com"}, app.org.ui_user_id
            )
    soql = (
        "SELECT Id, Email, SystemModstamp FROM Contact WHERE SystemModstamp > "
        "2020-01-01T00:00:00Z ORDER BY SystemModstamp, Id"
    )
    started = time.perf_counter()
    page = sf.query(soql)
    elapsed = time.perf_counter() - started
    assert page["totalSize"] == 30_000 and len(page["records"]) == 2000
    assert elapsed < 1.0, elapsed  # a floor against a scan per row; bench/emulators.py measures


def test_sosl_search(sf):
    sf.Contact.create({"FirstName": "Jane", "LastName": "Doe", "Email": "jane@acme.example.com"})
    sf.Lead.create({"LastName": "Janssen", "Company": "Globex"})
    sf.Account.create({"Name": "Acme Corp"})
    found = sf.search("FIND {jan*} IN NAME FIELDS RETURNING Contact(Id, Email), Lead(LastName)")
    records = found["searchRecords"]
    assert [r["attributes"]["type"] for r in records] == ["Contact", "Lead"]
    assert records[0]["Email"] == "jane@acme.example.com"
    assert records[1]["LastName"] == "Janssen"
    quick = sf.quick_search("acme")["searchRecords"]
    assert {r["attributes"]["type"] for r in quick} == {"Account", "Contact"}
    limited = sf.search("FIND {acme} RETURNING Account(Name WHERE Name LIKE 'Nope%'), Contact")
    assert [r["attributes"]["type"] for r in limited["searchRecords"]] == ["Contact"]
    with pytest.raises(SalesforceMalformedRequest):
        sf.search("FIND {a}")
