"""Restricted multi-select picklists: each ";"-separated value is checked on its own. A
user's Name follows their locale."""

from __future__ import annotations

from .test_validation import error_of


def colours_field(app, *, restricted: bool = False) -> None:
    """A Contact multi-select ``Colours__c`` listing Red, Blue, Green."""
    app.run_action(
        "add_field",
        object="Contact",
        field="Colours",
        type="multipicklist",
        values=["Red", "Blue", "Green"],
        restricted=restricted,
    )


def test_a_restricted_multi_select_takes_several_of_its_values(sf, app):
    colours_field(app, restricted=True)
    created = sf.Contact.create({"LastName": "x", "Colours__c": "Red;Blue"})
    assert sf.Contact.get(created["id"])["Colours__c"] == "Red;Blue"
    sf.Contact.update(created["id"], {"Colours__c": "Green"})
    assert sf.Contact.get(created["id"])["Colours__c"] == "Green"
    # One value not in the list refuses the whole value, naming the bad one.
    error = error_of(lambda: sf.Contact.update(created["id"], {"Colours__c": "Red;Purple"}))
    assert error == {
        "message": "Colours: bad value for restricted picklist field: Purple",
        "errorCode": "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
        "fields": ["Colours__c"],
    }
    assert sf.Contact.get(created["id"])["Colours__c"] == "Green"


def test_a_restricted_single_picklist_still_takes_one_value_only(sf, app):
    app.run_action(
        "add_field",
        object="Contact",
        field="Size",
        type="picklist",
        values=["S", "M"],
        restricted=True,
    )
    error = error_of(lambda: sf.Contact.create({"LastName": "x", "Size__c": "S;M"}))
    assert error["errorCode"] == "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST"
    assert error["message"] == "Size: bad value for restricted picklist field: S;M"


def test_a_users_name_follows_their_locale(sf, app):
    """Salesforce writes the family name first for Japanese, Chinese, Korean and Hungarian
    locales; FirstName and LastName stay as they are."""
    user = app.run_action(
        "create_user", first_name="Taro", last_name="Yamada", email="taro@example.com"
    )
    assert sf.User.get(user)["Name"] == "Taro Yamada"  # en_US
    sf.User.update(user, {"LocaleSidKey": "ja_JP"})
    got = sf.User.get(user)
    assert (got["Name"], got["FirstName"], got["LastName"]) == ("Yamada Taro", "Taro", "Yamada")
    sf.User.update(user, {"FirstName": "Hanako"})
    assert sf.User.get(user)["Name"] == "Yamada Hanako"
    sf.User.update(user, {"LocaleSidKey": "nl_NL"})
    assert sf.User.get(user)["Name"] == "Hanako Yamada"


def test_a_multi_select_keeps_its_values_in_the_picklists_order(sf, app):
    """Salesforce keeps a multi-select's values in the order its picklist lists them, not in
    the order they were written (its API reads them back so)."""
    colours_field(app)
    created = sf.Contact.create({"LastName": "x", "Colours__c": "Green;Red"})
    assert sf.Contact.get(created["id"])["Colours__c"] == "Red;Green"
    sf.Contact.update(created["id"], {"Colours__c": "Purple;Blue;Red"})  # unrestricted
    assert sf.Contact.get(created["id"])["Colours__c"] == "Red;Blue;Purple"
