"""Object settings and field mappings: defaults, validation against both schemas, audit."""

import pytest

from sync_engine.models import AuditEvent, FieldMapping
from sync_engine.object_settings import ContactSettings, SettingsError, settings_for
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
