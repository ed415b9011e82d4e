"""Write validation: real error codes and messages, as simple-salesforce surfaces them."""

from __future__ import annotations

import pytest
from simple_salesforce.exceptions import SalesforceMalformedRequest


def error_of(call) -> dict:
    with pytest.raises(SalesforceMalformedRequest) as caught:
        call()
    assert caught.value.status == 400
    (error,) = caught.value.content
    return error


def test_required_fields(sf):
    error = error_of(lambda: sf.Lead.create({"FirstName": "Jane"}))
    assert error == {
        "message": "Required fields are missing: [LastName, Company]",
        "errorCode": "REQUIRED_FIELD_MISSING",
        "fields": ["LastName", "Company"],
    }
    opportunity = error_of(lambda: sf.Opportunity.create({"Name": "Deal"}))
    assert opportunity["fields"] == ["StageName", "CloseDate"]
    created = sf.Contact.create({"LastName": "Doe"})["id"]
    cleared = error_of(lambda: sf.Contact.update(created, {"LastName": None}))
    assert cleared["errorCode"] == "REQUIRED_FIELD_MISSING"
    assert cleared["fields"] == ["LastName"]


def test_event_accepts_either_form_of_its_required_times(sf):
    error = error_of(lambda: sf.Event.create({"Subject": "Call"}))
    assert error["errorCode"] == "REQUIRED_FIELD_MISSING"
    by_duration = sf.Event.create(
        {"ActivityDateTime": "2030-01-01T10:00:00Z", "DurationInMinutes": 30}
    )["id"]
    by_end = sf.Event.create(
        {"StartDateTime": "2030-01-01T10:00:00Z", "EndDateTime": "2030-01-01T11:30:00Z"}
    )["id"]
    assert sf.Event.get(by_duration)["EndDateTime"] == "2030-01-01T10:30:00.000+0000"
    assert sf.Event.get(by_end)["DurationInMinutes"] == 90


def test_invalid_email(sf):
    error = error_of(lambda: sf.Contact.create({"LastName": "Doe", "Email": "a@@b.com"}))
    assert error == {
        "message": "Email: invalid email address: a@@b.com",
        "errorCode": "INVALID_EMAIL_ADDRESS",
        "fields": ["Email"],
    }


def test_string_too_long_uses_the_label(sf):
    city = "Giugliano in Campania, Metropolitan City of Naples"
    error = error_of(lambda: sf.Account.create({"Name": "A", "BillingCity": city}))
    assert error == {
        "message": f"Billing City: data value too large: {city} (max length=40)",
        "errorCode": "STRING_TOO_LONG",
        "fields": ["BillingCity"],
    }


def test_restricted_picklist(sf):
    error = error_of(lambda: sf.Contact.create({"LastName": "x", "CleanStatus": "Shiny"}))
    assert error == {
        "message": "Clean Status: bad value for restricted picklist field: Shiny",
        "errorCode": "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
        "fields": ["CleanStatus"],
    }
    # an unrestricted picklist takes any value
    created = sf.Lead.create({"LastName": "x", "Company": "y", "LeadSource": "Carrier pigeon"})
    assert sf.Lead.get(created["id"])["LeadSource"] == "Carrier pigeon"


def test_unknown_and_read_only_fields(sf):
    error = error_of(lambda: sf.Lead.create({"LastName": "x", "Company": "y", "Nope__c": 1}))
    assert error == {
        "message": "No such column 'Nope__c' on sobject of type Lead",
        "errorCode": "INVALID_FIELD",
        "fields": [],
    }
    error = error_of(
        lambda: sf.Lead.create({"LastName": "x", "Company": "y", "ConvertedOpportunityId": None})
    )
    assert error["errorCode"] == "INVALID_FIELD_FOR_INSERT_UPDATE"
    assert error["message"].startswith("Unable to create/update fields: ConvertedOpportunityId.")
    assert error["fields"] == ["ConvertedOpportunityId"]
    lead = sf.Lead.create({"LastName": "x", "Company": "y", "IsConverted": False})["id"]
    error = error_of(lambda: sf.Lead.update(lead, {"IsConverted": True}))  # createable only
    assert error["fields"] == ["IsConverted"]
    error = error_of(lambda: sf.Lead.create({"Id": lead, "LastName": "x", "Company": "y"}))
    assert error["message"] == "The Id field should not be specified in the sobject data."


def test_field_names_are_case_insensitive_in_bodies(sf):
    created = sf.Contact.create({"lastname": "Doe", "EMAIL": "doe@example.com"})
    record = sf.Contact.get(created["id"])
    assert record["LastName"] == "Doe" and record["Email"] == "doe@example.com"


def test_type_coercion(sf):
    created = sf.Opportunity.create({
        "Name": "Deal", "StageName": "Prospecting", "CloseDate": "2030-02-15",
        "Amount": "1250.5", "TotalOpportunityQuantity": 3, "IsPrivate": "true",
    })  # fmt: skip
    record = sf.Opportunity.get(created["id"])
    assert record["Amount"] == 1250.5 and record["IsPrivate"] is True
    assert record["CloseDate"] == "2030-02-15"
    assert record["Probability"] == 10.0 and record["IsClosed"] is False
    assert record["FiscalQuarter"] == 1 and record["FiscalYear"] == 2030
    for field, value in (("Amount", "lots"), ("CloseDate", "15/02/2030"), ("IsPrivate", "yes")):
        error = error_of(lambda f=field, v=value: sf.Opportunity.update(created["id"], {f: v}))
        assert error["errorCode"] == "INVALID_TYPE_ON_FIELD_IN_RECORD", field
        assert error["fields"] == [field]
    error = error_of(
        lambda: sf.Lead.create({"LastName": "x", "Company": "y", "NumberOfEmployees": 1.5})
    )
    assert error["message"] == "Employees: value not of required type: 1.5"
    event = sf.Event.create(
        {"ActivityDateTime": "2030-01-01T10:00:00+02:00", "DurationInMinutes": 15}
    )
    assert sf.Event.get(event["id"])["ActivityDateTime"] == "2030-01-01T08:00:00.000+0000"


def test_empty_strings_are_stored_as_null(sf):
    created = sf.Contact.create({"LastName": "Doe", "Title": ""})
    assert sf.Contact.get(created["id"])["Title"] is None


def test_lookups(sf):
    account = sf.Account.create({"Name": "Acme"})["id"]
    lead = sf.Lead.create({"LastName": "x", "Company": "y"})["id"]
    error = error_of(lambda: sf.Contact.create({"LastName": "x", "AccountId": "garbage"}))
    assert error == {
        "message": "Account ID: id value of incorrect type: garbage",
        "errorCode": "MALFORMED_ID",
        "fields": ["AccountId"],
    }
    error = error_of(lambda: sf.Contact.create({"LastName": "x", "AccountId": lead}))
    assert error["errorCode"] == "MALFORMED_ID"
    error = error_of(
        lambda: sf.Contact.create({"LastName": "x", "AccountId": "0015g0000009999AAA"})
    )
    assert error == {
        "message": "invalid cross reference id",
        "errorCode": "INVALID_CROSS_REFERENCE_KEY",
        "fields": [],
    }
    contact = sf.Contact.create({"LastName": "x", "AccountId": account[:15]})["id"]
    assert sf.Contact.get(contact)["AccountId"] == account
    error = error_of(
        lambda: sf.Lead.create({"LastName": "x", "Company": "y", "OwnerId": "0055g0000009999AAA"})
    )
    assert error["errorCode"] == "INVALID_CROSS_REFERENCE_KEY"


def test_unique_external_id(sf):
    first = sf.Account.create({"Name": "A", "HubSpot_Id__c": "co-9"})["id"]
    error = error_of(lambda: sf.Account.create({"Name": "B", "HubSpot_Id__c": "CO-9"}))
    assert error == {
        "message": f"duplicate value found: HubSpot_Id__c duplicates value on record with id: "
        f"{first}",
        "errorCode": "DUPLICATE_VALUE",
        "fields": [],
    }


def test_validation_rule(sf, app):
    app.run_action(
        "add_validation_rule",
        object="Contact",
        field="Phone",
        operator="is_blank",
        message="Phone is required for contacts",
        error_field="Phone",
    )
    error = error_of(lambda: sf.Contact.create({"LastName": "Doe"}))
    assert error == {
        "message": "Phone is required for contacts",
        "errorCode": "FIELD_CUSTOM_VALIDATION_EXCEPTION",
        "fields": ["Phone"],
    }
    created = sf.Contact.create({"LastName": "Doe", "Phone": "123"})["id"]
    error = error_of(lambda: sf.Contact.update(created, {"Phone": None}))
    assert error["errorCode"] == "FIELD_CUSTOM_VALIDATION_EXCEPTION"
    app.run_action("remove_validation_rule", rule_name="Rule_1")
    sf.Contact.update(created, {"Phone": None})


def test_validation_rule_on_a_value(sf, app):
    app.run_action(
        "add_validation_rule",
        object="Opportunity",
        field="Amount",
        operator="gt",
        value=1_000_000,
        message="Deals above 1M need approval",
    )
    base = {"Name": "Deal", "StageName": "Prospecting", "CloseDate": "2030-01-01"}
    sf.Opportunity.create({**base, "Amount": 999})
    error = error_of(lambda: sf.Opportunity.create({**base, "Amount": 2_000_000}))
    assert error == {
        "message": "Deals above 1M need approval",
        "errorCode": "FIELD_CUSTOM_VALIDATION_EXCEPTION",
        "fields": [],
    }


def test_duplicate_rule_blocks_and_allow_save_header(sf, app):
    first = sf.Lead.create({"LastName": "A", "Company": "X", "Email": "dup@example.com"})["id"]
    app.run_action("add_duplicate_rule", object="Lead", field="Email", allow_save=True)
    with pytest.raises(SalesforceMalformedRequest) as caught:
        sf.Lead.create({"LastName": "B", "Company": "X", "Email": "DUP@example.com"})
    (error,) = caught.value.content
    assert error["errorCode"] == "DUPLICATES_DETECTED"
    assert error["message"] == (
        "You're creating a duplicate record. We recommend you use an existing record instead."
    )
    result = error["duplicateResult"]
    assert result["allowSave"] is True
    assert result["duplicateRuleEntityType"] == "Lead"
    (match,) = result["matchResults"]
    assert match["matchRecords"][0]["record"]["Id"] == first
    headers = {"Sforce-Duplicate-Rule-Header": "allowSave=true"}
    created = sf.restful(
        "sobjects/Lead",
        method="POST",
        headers=headers,
        json={"LastName": "B", "Company": "X", "Email": "dup@example.com"},
    )
    assert created["success"] is True


def test_blocking_duplicate_rule_ignores_allow_save(sf, app):
    sf.Contact.create({"LastName": "A", "Email": "same@example.com"})
    app.run_action("add_duplicate_rule", object="Contact", allow_save=False)
    headers = {"Sforce-Duplicate-Rule-Header": "allowSave=true"}
    with pytest.raises(SalesforceMalformedRequest) as caught:
        sf.restful(
            "sobjects/Contact",
            method="POST",
            headers=headers,
            json={"LastName": "B", "Email": "same@example.com"},
        )
    assert caught.value.content[0]["duplicateResult"]["allowSave"] is False


def test_field_level_security_per_user(sf, rep_sf, app):
    created = sf.Contact.create({"LastName": "Doe", "Title": "CTO"})["id"]
    app.run_action(
        "set_field_permission",
        token="sales-rep-token",
        object="Contact",
        field="Title",
        access="read",
    )
    app.run_action(
        "set_field_permission",
        token="sales-rep-token",
        object="Contact",
        field="Department",
        access="hidden",
    )
    error = error_of(lambda: rep_sf.Contact.update(created, {"Title": "CEO"}))
    assert error["errorCode"] == "INVALID_FIELD_FOR_INSERT_UPDATE"
    assert error["fields"] == ["Title"]
    error = error_of(lambda: rep_sf.Contact.update(created, {"Department": "Sales"}))
    assert error["errorCode"] == "INVALID_FIELD_FOR_INSERT_UPDATE"
    fields = {f["name"]: f for f in rep_sf.Contact.describe()["fields"]}
    assert fields["Title"]["updateable"] is False and "Department" not in fields
    assert "Department" not in rep_sf.Contact.get(created)
    error = error_of(lambda: rep_sf.query("SELECT Department FROM Contact"))
    assert error["errorCode"] == "INVALID_FIELD"
    sf.Contact.update(created, {"Title": "CEO", "Department": "Sales"})  # others unaffected


def test_record_level_read_only_access(sf, rep_sf, app):
    created = sf.Account.create({"Name": "Acme"})["id"]
    app.run_action("set_record_access", token="sales-rep-token", id=created, access="read")
    error = error_of(lambda: rep_sf.Account.update(created, {"Name": "Mine"}))
    assert error == {
        "message": "insufficient access rights on object id",
        "errorCode": "INSUFFICIENT_ACCESS_OR_READONLY",
        "fields": [],
    }
    assert rep_sf.Account.get(created)["Name"] == "Acme"


def test_locked_rows(sf, app):
    created = sf.Contact.create({"LastName": "Doe"})["id"]
    app.run_action("lock_row", id=created, seconds=30)
    error = error_of(lambda: sf.Contact.update(created, {"LastName": "x"}))
    assert error == {
        "message": f"unable to obtain exclusive access to this record or 1 records: {created}",
        "errorCode": "UNABLE_TO_LOCK_ROW",
        "fields": [],
    }
    app.clock.advance(31)
    assert sf.Contact.update(created, {"LastName": "x"}) == 204


def test_converted_leads_cannot_be_updated(sf, app):
    lead = sf.Lead.create({"LastName": "Doe", "Company": "Acme"})["id"]
    app.run_action("convert_lead", lead_id=lead)
    error = error_of(lambda: sf.Lead.update(lead, {"Title": "x"}))
    assert error == {
        "message": "cannot reference converted lead",
        "errorCode": "CANNOT_UPDATE_CONVERTED_LEAD",
        "fields": [],
    }


class TestStateAndCountryPicklists:
    def test_describe_and_records_gain_code_fields(self, sf, app):
        app.run_action("enable_state_country_picklists", enabled=True)
        fields = {f["name"]: f for f in sf.Account.describe()["fields"]}
        assert fields["BillingCountryCode"]["restrictedPicklist"] is True
        assert fields["BillingStateCode"]["controllerName"] == "BillingCountryCode"
        created = sf.Account.create(
            {"Name": "A", "BillingCountry": "united states", "BillingState": "CA"}
        )["id"]
        record = sf.Account.get(created)
        assert (record["BillingCountry"], record["BillingCountryCode"]) == ("United States", "US")
        assert (record["BillingState"], record["BillingStateCode"]) == ("California", "CA")
        assert record["BillingAddress"]["stateCode"] == "CA"

    def test_codes_or_names_are_accepted(self, sf, app):
        app.run_action("enable_state_country_picklists")
        by_code = sf.Contact.create(
            {"LastName": "x", "MailingCountryCode": "CA", "MailingStateCode": "ON"}
        )["id"]
        assert sf.Contact.get(by_code)["MailingState"] == "Ontario"
        by_iso_name = sf.Lead.create(
            {"LastName": "x", "Company": "y", "Country": "United States of America"}
        )["id"]
        assert sf.Lead.get(by_iso_name)["CountryCode"] == "US"
        no_states = sf.Lead.create({"LastName": "x", "Company": "y", "Country": "NL"})["id"]
        assert sf.Lead.get(no_states)["Country"] == "Netherlands"

    def test_bad_values(self, sf, app):
        app.run_action("enable_state_country_picklists")
        error = error_of(lambda: sf.Account.create({"Name": "A", "BillingCountry": "Atlantis"}))
        assert error["errorCode"] == "FIELD_INTEGRITY_EXCEPTION"
        assert error["message"].startswith("There's a problem with this country")
        assert error["fields"] == ["BillingCountry"]
        error = error_of(
            lambda: sf.Account.create(
                {"Name": "A", "BillingCountry": "United States", "BillingState": "Atlantis"}
            )
        )
        assert error == {
            "message": "There's a problem with this state, even though it may appear correct. "
            "Please select a state from the list of valid states.: "
            "Billing State/Province",
            "errorCode": "FIELD_INTEGRITY_EXCEPTION",
            "fields": ["BillingState"],
        }
        error = error_of(lambda: sf.Account.create({"Name": "A", "BillingCountryCode": "XX"}))
        assert error["errorCode"] == "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST"
        assert error["message"] == (
            "Billing Country Code: bad value for restricted picklist field: XX"
        )
        error = error_of(
            lambda: sf.Account.create(
                {"Name": "A", "BillingCountryCode": "US", "BillingStateCode": "ON"}
            )
        )
        assert error["message"] == (
            "The existing country/territory doesn't recognize the state value for field: "
            "Billing State/Province Code"
        )

    def test_disabled_means_free_text(self, sf):
        created = sf.Account.create({"Name": "A", "BillingCountry": "Atlantis"})["id"]
        assert sf.Account.get(created)["BillingCountry"] == "Atlantis"
        error = error_of(lambda: sf.Account.create({"Name": "A", "BillingCountryCode": "US"}))
        assert error["errorCode"] == "INVALID_FIELD"
