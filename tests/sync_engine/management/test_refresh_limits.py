from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from sync_engine.models import Integration
from sync_engine.tasks import refresh_api_limits

pytestmark = pytest.mark.django_db


def test_needs_a_connection():
    with pytest.raises(CommandError, match="connect"):
        call_command("refresh_limits")


def test_reads_limited_by_salesforce(sf_connection, emulators):
    out = StringIO()
    call_command("refresh_limits", stdout=out)
    integration = Integration.objects.get(pk=sf_connection.integration_id)
    assert integration.salesforce_api_limit
    assert f"{integration.salesforce_api_limit} calls/24 h" in out.getvalue()


def test_task_refreshes_limits(sf_connection, emulators):
    refresh_api_limits()
    assert Integration.objects.get(pk=sf_connection.integration_id).limits_checked_at


def test_task_skips_a_paused_integration(sf_connection, emulators):
    Integration.objects.update(state=Integration.State.PAUSED)
    refresh_api_limits()
    assert len(emulators.salesforce.app.ledger.entries()) == 0


def test_after_disconnect_says_to_connect_again(emulators):
    from sync_engine.services import integration_disconnect

    from .test_connect import closed_port, connect

    # A first connect whose check failed leaves an integration that was never connected.
    with pytest.raises(CommandError):
        connect(emulators, salesforce_url=f"https://127.0.0.1:{closed_port()}")
    assert Integration.objects.get().state == Integration.State.DISCONNECTED
    with pytest.raises(CommandError, match=r"^Not connected yet: run `manage.py connect`"):
        call_command("refresh_limits", stdout=StringIO())
    connect(emulators)
    integration_disconnect(integration=Integration.objects.get())
    emulators.salesforce.app.ledger.clear()
    with pytest.raises(CommandError) as refused:
        call_command("refresh_limits", stdout=StringIO())
    assert str(refused.value) == (
        "Disconnected: connect again (manage.py connect … or the Connection page) to read the "
        "limits."
    )
    assert len(emulators.salesforce.app.ledger.entries()) == 0
