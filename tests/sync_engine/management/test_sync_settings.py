"""``manage.py sync_settings`` from the shell: a pair switched on (and its next cycle syncing),
settings changed and audit-logged, and what only a wizard sets refused as the API refuses it."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from emulators.testing import hubspot_client, salesforce_client
from sync_engine.models import AuditEvent

from .test_connect import connect

pytestmark = pytest.mark.django_db


def sync_settings(*args: str) -> str:
    out = StringIO()
    call_command("sync_settings", *args, stdout=out)
    return out.getvalue()


def test_companies_switched_on_from_the_shell_sync_in_the_next_cycle(emulators):
    connect(emulators)
    assert "  enabled = false" in sync_settings("companies")
    salesforce_client(emulators, token="sales-rep").Account.create({"Name": "Shell Co"})

    output = sync_settings("companies", "enabled=true", "salesforce_delete=delete")

    assert "enabled: False → True" in output
    assert "salesforce_delete: 'nothing' → 'delete'" in output
    assert "  enabled = true" in output
    event = AuditEvent.objects.get(action="settings.updated")
    assert "enabled" in str(event.details)
    call_command("sync_now", stdout=StringIO())
    companies = hubspot_client(emulators, token="marketer").crm.companies.basic_api.get_page(
        properties=["name"]
    )
    assert [c.properties["name"] for c in companies.results] == ["Shell Co"]
    assert "  enabled = false" in sync_settings("companies", "enabled=false")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("companies", "enabled=yes"), "enabled: expected true or false, got 'yes'"),
        (("tickets", "enabled=true"), "enabled: Finish the Tickets wizard first."),
        (("tickets", "setup_complete=true"), "setup_complete: Set in the Tickets wizard."),
        (("custom:1",), "No object pair 'custom:1'"),
        (("leads",), "No object pair 'leads'"),
    ],
)
def test_what_the_shell_can_t_change_is_refused_and_nothing_is_saved(emulators, args, message):
    connect(emulators)
    with pytest.raises(CommandError, match=message):
        sync_settings(*args)
    assert not AuditEvent.objects.filter(action="settings.updated").exists()
    pair = args[0] if args[0] in ("companies", "tickets") else "companies"
    assert "  enabled = false" in sync_settings(pair)
