"""The Django admin only shows the engine's records: changes go through the audited paths."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from sync_engine.models import AuditEvent, SalesforceConnection
from sync_engine.services import audit_event_record

from .factories import IntegrationFactory, SalesforceConnectionFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def superuser_client():
    client = Client()
    client.force_login(get_user_model().objects.create_superuser("root", password="x"))
    return client


def test_a_connection_can_be_looked_at_but_not_changed(superuser_client):
    integration = IntegrationFactory()
    connection = SalesforceConnectionFactory(
        integration=integration, instance_url="https://acme.my.salesforce.com"
    )
    url = f"/admin/sync_engine/salesforceconnection/{connection.pk}/change/"
    page = superuser_client.get(url)
    assert page.status_code == 200
    assert "acme.my.salesforce.com" in page.content.decode()
    assert connection.access_token not in page.content.decode()
    changed = superuser_client.post(url, {"instance_url": "https://attacker.example"})
    assert changed.status_code == 403
    assert SalesforceConnection.objects.get().instance_url == "https://acme.my.salesforce.com"
    assert superuser_client.get("/admin/sync_engine/integration/add/").status_code == 403


def test_the_audit_log_cannot_be_deleted_from_the_admin(superuser_client):
    event = audit_event_record(action="settings.updated", integration=IntegrationFactory())
    url = f"/admin/sync_engine/auditevent/{event.pk}/delete/"
    assert superuser_client.post(url, {"post": "yes"}).status_code == 403
    assert AuditEvent.objects.filter(pk=event.pk).exists()
