"""Tokens and secrets are encrypted at rest."""

import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured
from django.db import connection

from sync_engine.models import HubSpotConnection, SalesforceConnection
from sync_engine.services import connections_reencrypt

from .factories import HubSpotConnectionFactory, SalesforceConnectionFactory


def raw_row(model, pk, *columns):
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {', '.join(columns)} FROM {model._meta.db_table} WHERE id = %s",  # noqa: S608
            [pk],
        )
        return cursor.fetchone()


@pytest.mark.django_db
def test_salesforce_secrets_are_not_stored_in_clear():
    conn = SalesforceConnectionFactory(
        access_token="00Dxx!secret-access",
        refresh_token="5Aep-secret-refresh",
        client_id="3MVG-client",
        client_secret="shh-client-secret",
    )
    access, refresh, secret, client_id = raw_row(
        SalesforceConnection, conn.pk, "access_token", "refresh_token", "client_secret", "client_id"
    )
    assert "secret-access" not in access
    assert "secret-refresh" not in refresh
    assert "shh-client-secret" not in secret
    assert access.startswith("gAAAA")  # a Fernet token
    assert client_id == "3MVG-client"  # not a secret

    loaded = SalesforceConnection.objects.get(pk=conn.pk)
    assert loaded.access_token == "00Dxx!secret-access"
    assert loaded.refresh_token == "5Aep-secret-refresh"
    assert loaded.client_secret == "shh-client-secret"


@pytest.mark.django_db
def test_hubspot_token_is_not_stored_in_clear():
    conn = HubSpotConnectionFactory(access_token="pat-na1-very-secret")
    (access,) = raw_row(HubSpotConnection, conn.pk, "access_token")
    assert "very-secret" not in access
    assert HubSpotConnection.objects.get(pk=conn.pk).access_token == "pat-na1-very-secret"


@pytest.mark.django_db
def test_empty_secret_stays_empty():
    conn = SalesforceConnectionFactory(refresh_token="")
    (refresh,) = raw_row(SalesforceConnection, conn.pk, "refresh_token")
    assert refresh == ""
    assert SalesforceConnection.objects.get(pk=conn.pk).can_refresh is False


@pytest.mark.django_db
def test_key_rotation(settings):
    old_key = settings.FIELD_ENCRYPTION_KEY.split(",")[0]
    conn = SalesforceConnectionFactory(access_token="rotate-me")
    (before,) = raw_row(SalesforceConnection, conn.pk, "access_token")

    new_key = Fernet.generate_key().decode()
    settings.FIELD_ENCRYPTION_KEY = f"{new_key},{old_key}"
    assert SalesforceConnection.objects.get(pk=conn.pk).access_token == "rotate-me"
    assert connections_reencrypt() >= 1
    (after,) = raw_row(SalesforceConnection, conn.pk, "access_token")
    assert after != before

    settings.FIELD_ENCRYPTION_KEY = new_key  # the old key can go now
    assert SalesforceConnection.objects.get(pk=conn.pk).access_token == "rotate-me"


@pytest.mark.django_db
def test_wrong_key_fails_loudly(settings):
    conn = SalesforceConnectionFactory(access_token="locked")
    settings.FIELD_ENCRYPTION_KEY = Fernet.generate_key().decode()
    with pytest.raises(ImproperlyConfigured, match="FIELD_ENCRYPTION_KEY"):
        SalesforceConnection.objects.get(pk=conn.pk)
