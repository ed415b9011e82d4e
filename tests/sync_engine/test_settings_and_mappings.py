"""Object settings and field mappings: defaults, validation against both schemas, audit."""

import pytest

from emulators.testing import active_list
from sync_engine.models import ApiCall, AuditEvent, FieldMapping
from sync_engine.object_settings import (
    ContactSettings,
    SettingsError,
    settings_for,
    settings_validate,
)
from sync_engine.services import (
    mapping_create,
    mapping_delete,
    mapping_update_rule,
    object_settings_update,
    object_sync_get_or_create,
)


@pytest.fixture
def connected(sf_connection, hs_connection):
    return sf_connection.integration


def test_contact_settings_start_with_hubspot_defaults(integration):
    row = object_sync_get_or_create(integration=integration, object_name="contacts")
    settings = settings_for("contacts", row.options)
    assert settings == ContactSettings()
    assert settings.hubspot_creates == "lead" and settings.inclusion_list_id is None


def test_settings_update_reports_and_audits_what_changed(integration, admin_user):
    diff = object_settings_update(
        integration=integration,
        object_name="contacts",
        actor=admin_user,
        changes={"hubspot_creates": "contact", "salesforce_delete": "nothing"},
    )
    assert diff == {"hubspot_creates": ("lead", "contact")}  # unchanged values are not news
    event = AuditEvent.objects.get(action="settings.updated")
    assert event.actor == admin_user
    assert event.details["changes"] == {"hubspot_creates": {"from": "lead", "to": "contact"}}


def test_bad_settings_are_rejected_whole(integration):
    with pytest.raises(SettingsError) as error:
        object_settings_update(
            integration=integration,
            object_name="contacts",
            changes={
                "hubspot_creates": "account",
                "lifecycle_transitions": 1,
                "salesforce_delete": "delete",
            },
        )
    assert set(error.value.errors) == {"hubspot_creates", "lifecycle_transitions"}
    row = object_sync_get_or_create(integration=integration, object_name="contacts")
    assert settings_for("contacts", row.options).salesforce_delete == "nothing"


def test_default_mappings_are_created_and_locked(integration):
    object_sync_get_or_create(integration=integration, object_name="contacts")
    email = FieldMapping.objects.get(integration=integration, hubspot_property="email")
    assert email.is_default and email.salesforce_fields == {"Lead": "Email", "Contact": "Email"}
    city = FieldMapping.objects.get(integration=integration, hubspot_property="city")
    assert city.salesforce_fields == {"Lead": "City", "Contact": "MailingCity"}
    with pytest.raises(SettingsError):
        mapping_delete(mapping=email)
    with pytest.raises(SettingsError):
        mapping_update_rule(mapping=email, rule="always_use_salesforce")  # email's special rule
    mapping_update_rule(mapping=email, rule="two_way")
    owner = FieldMapping.objects.get(integration=integration, hubspot_property="hubspot_owner_id")
    with pytest.raises(SettingsError):
        mapping_update_rule(mapping=owner, rule="dont_sync")


def test_the_required_ticket_properties_always_sync(connected):
    """HubSpot needs a subject, a pipeline and a stage on every ticket: their default
    mappings can't be set to Don't sync (tickets would be made without them)."""
    object_sync_get_or_create(integration=connected, object_name="tickets")
    for prop in ("subject", "hs_pipeline_stage"):
        mapping = FieldMapping.objects.get(
            integration=connected, object="tickets", hubspot_property=prop
        )
        with pytest.raises(SettingsError) as refused:
            mapping_update_rule(mapping=mapping, rule="dont_sync")
        assert refused.value.errors == {
            "rule": f"HubSpot needs {prop} on every ticket: it always syncs"
        }
        mapping.refresh_from_db()
        assert mapping.rule != "dont_sync"


def test_custom_mapping_is_checked_against_both_schemas(connected, admin_user):
    object_sync_get_or_create(integration=connected, object_name="contacts")
    mapping = mapping_create(
        integration=connected,
        object_name="contacts",
        hubspot_property="twitterhandle",
        salesforce_field="Department",
        rule="two_way",
        actor=admin_user,
    )
    assert mapping.salesforce_fields == {"Contact": "Department"}  # leads have no Department
    assert mapping.hubspot_type == "string" and mapping.salesforce_type == "string"
    assert AuditEvent.objects.filter(action="mapping.created", actor=admin_user).exists()

    cases = [
        ("nonexistent_prop", "Department", "hubspot_property"),
        ("firstname", "NoSuchField__c", "salesforce_field"),
        ("hs_email_optout", "Department", "salesforce_field"),  # checkbox → text: incompatible
        ("twitterhandle", "AssistantName", "hubspot_property"),  # already mapped
        ("hs_linkedin_url", "Department", "salesforce_field"),  # Department is taken
    ]
    for prop, field, where in cases:
        with pytest.raises(SettingsError) as error:
            mapping_create(
                integration=connected,
                object_name="contacts",
                hubspot_property=prop,
                salesforce_field=field,
            )
        assert where in error.value.errors, (prop, field, error.value.errors)

    mapping_delete(mapping=mapping, actor=admin_user)
    assert not FieldMapping.objects.filter(pk=mapping.pk).exists()


# --- the inclusion list: an id HubSpot has --------------------------------------------------
@pytest.mark.parametrize(
    ("given", "stored"),
    [(7, "7"), ("7", "7"), (" 007 ", "7"), ("", None), ("  ", None), (None, None)],
)
def test_a_list_id_is_a_number_given_as_a_number_or_as_digits(given, stored):
    assert settings_validate("contacts", {"inclusion_list_id": given}) == {
        "inclusion_list_id": stored
    }


@pytest.mark.parametrize(
    "given", ["abc", "<script>", "12abc", "-5", "1.5", "0", "١٢", "9" * 19, 0, -5, 1.5, True, []]
)
def test_anything_else_is_no_list_id(given):
    with pytest.raises(SettingsError) as error:
        settings_validate("contacts", {"inclusion_list_id": given})
    assert error.value.errors == {
        "inclusion_list_id": "must be a HubSpot list id (a number), or empty for no list"
    }


def test_the_inclusion_list_is_checked_with_hubspot_when_it_changes(connected, emulators):
    def reads() -> int:
        return ApiCall.objects.filter(integration=connected, operation="lists.get").count()

    def update(list_id):
        return object_settings_update(
            integration=connected, object_name="contacts", changes={"inclusion_list_id": list_id}
        )

    def saved():
        row = object_sync_get_or_create(integration=connected, object_name="contacts")
        return settings_for("contacts", row.options).inclusion_list_id

    # A list HubSpot doesn't have (as every cycle would find out): refused, nothing saved.
    with pytest.raises(SettingsError) as error:
        update("424242")
    assert error.value.errors["inclusion_list_id"].startswith("HubSpot has no list 424242.")
    assert saved() is None and reads() == 1
    # Another object's list, or a static list: not an active contact list.
    with pytest.raises(SettingsError) as error:
        update(active_list(emulators, "Companies", object_type="companies"))
    assert error.value.errors["inclusion_list_id"].endswith("isn't a contact list.")
    manual = emulators.hubspot.app.run_action("create_list", list_name="Trade show")
    with pytest.raises(SettingsError) as error:
        update(manual["listId"])
    assert "is a static list" in error.value.errors["inclusion_list_id"]
    assert saved() is None and reads() == 3
    assert not AuditEvent.objects.filter(action="settings.updated").exists()

    # An active contact list, its id given as a number: one read, stored as text.
    list_id = active_list(emulators, "Sync me")
    assert update(int(list_id)) == {"inclusion_list_id": (None, list_id)}
    assert saved() == list_id and reads() == 4
    # Unchanged: HubSpot isn't asked again. Cleared: no call either.
    assert update(list_id) == {}
    assert update(None) == {"inclusion_list_id": (list_id, None)}
    assert saved() is None and reads() == 4
    # Other settings saved alongside don't ask HubSpot about the list.
    object_settings_update(
        integration=connected, object_name="contacts", changes={"hubspot_creates": "contact"}
    )
    assert reads() == 4


def test_an_inclusion_list_hubspot_cannot_be_asked_about_is_refused(connected, emulators):
    emulators.hubspot.app.faults.add(path=r"/crm/v3/lists/\d+$", status=503, times=10)
    with pytest.raises(SettingsError) as error:
        object_settings_update(
            integration=connected, object_name="contacts", changes={"inclusion_list_id": "5"}
        )
    assert error.value.errors["inclusion_list_id"].startswith(
        "HubSpot couldn't be asked whether list 5 exists, so nothing was saved."
    )
    row = object_sync_get_or_create(integration=connected, object_name="contacts")
    assert settings_for("contacts", row.options).inclusion_list_id is None
