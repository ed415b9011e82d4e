"""What a new admin does from the shell: ``connect``, people created on both sides by their
own users, ``sync_now``: everyone once on each side, and the next ``sync_now`` writes nothing."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from hubspot.crm.contacts import SimplePublicObjectInputForCreate

from emulators.testing import hubspot_client, salesforce_client

from .test_connect import connect

pytestmark = pytest.mark.django_db


def sync_now() -> str:
    out = StringIO()
    call_command("sync_now", stdout=out)
    return out.getvalue()


def test_people_exist_once_on_each_side_after_connect_and_sync_now(emulators):
    connect(emulators)
    rep = salesforce_client(emulators, token="sales-rep")
    marketer = hubspot_client(emulators, token="marketer")
    rep.Lead.create({"LastName": "Lead", "Company": "Acme", "Email": "lead@example.com"})
    rep.Contact.create({"LastName": "Contact", "Email": "both@example.com", "Title": "Rep"})
    for email in ("both@example.com", "marketer@example.com"):
        marketer.crm.contacts.basic_api.create(
            SimplePublicObjectInputForCreate(
                properties={
                    "email": email,
                    "lastname": "Market",
                    "company": "Acme",
                    "jobtitle": "Marketer",
                }
            )
        )

    output = sync_now()

    assert output.startswith("contacts: Succeeded")
    assert "newly linked" in output and "Salesforce API calls" in output
    emails = sorted(
        c.properties["email"]
        for c in marketer.crm.contacts.basic_api.get_page(limit=100, properties=["email"]).results
    )
    assert emails == ["both@example.com", "lead@example.com", "marketer@example.com"]
    people = [
        (r["attributes"]["type"], r["Email"], r.get("Title"))
        for sobject in ("Lead", "Contact")
        for r in rep.query_all(f"SELECT Email, Title FROM {sobject}")["records"]  # noqa: S608
    ]
    # HubSpot's new contact became a lead (the default); the shared one kept Salesforce's
    # title (Prefer Salesforce unless blank).
    assert sorted(people) == [
        ("Contact", "both@example.com", "Rep"),
        ("Lead", "lead@example.com", None),
        ("Lead", "marketer@example.com", "Marketer"),
    ]

    sync_now()  # reads back its own writes
    again = sync_now()
    assert "created in" not in again and "updated in" not in again


# --- what sync_now refuses, as the dashboard's Sync now does, before any run is recorded -----
def runs():
    from sync_engine.models import SyncRun

    return list(SyncRun.objects.values_list("object", "status"))


def test_a_pair_that_is_off_is_refused_and_no_run_is_recorded(emulators):
    from sync_engine.models import Integration
    from sync_engine.selectors import object_last_synced

    connect(emulators)
    with pytest.raises(CommandError) as refused:
        call_command("sync_now", "--object", "deals", stdout=StringIO())
    assert str(refused.value) == (
        "Deal sync is off: turn it on on the Deals tab (or the settings API) first."
    )
    assert runs() == []
    assert "deals" not in object_last_synced(integration=Integration.objects.get())
    # One pair off among several: nothing runs, not even the pair that is on.
    with pytest.raises(CommandError, match="Company sync is off"):
        call_command("sync_now", "--object", "contacts", "--object", "companies")
    assert runs() == []


def test_with_the_whole_sync_off_nothing_runs_and_no_failed_run_is_recorded(emulators):
    from sync_engine.models import Integration
    from sync_engine.services import integration_sync_set

    connect(emulators)
    integration_sync_set(integration=Integration.objects.get(), enabled=False)
    message = "Sync is off for this integration: turn it on on the Connection page."
    for args in ([], ["--object", "contacts"]):
        with pytest.raises(CommandError) as refused:
            call_command("sync_now", *args, stdout=StringIO())
        assert str(refused.value) == message
    assert runs() == []


def test_a_suspended_or_disconnected_integration_is_refused_without_failed_runs(emulators):
    from sync_engine.models import Integration
    from sync_engine.services import integration_disconnect, integration_set_state

    connect(emulators)
    integration = Integration.objects.get()
    reason = "salesforce: the credentials were rejected. Reconnect on the Connection tab."
    integration_set_state(integration=integration, state=Integration.State.SUSPENDED, reason=reason)
    with pytest.raises(CommandError, match=f"^Syncing is suspended: {reason}"):
        call_command("sync_now", stdout=StringIO())
    integration_disconnect(integration=integration)
    with pytest.raises(CommandError, match=r"^Disconnected: connect again \(manage.py connect"):
        call_command("sync_now", stdout=StringIO())
    assert runs() == []


def test_an_unknown_custom_pair_is_refused_without_creating_it(emulators):
    from sync_engine.models import ObjectSync

    connect(emulators)
    with pytest.raises(CommandError, match=r"^Unknown object pair: custom:9 \(custom objects: "):
        call_command("sync_now", "--object", "custom:9", stdout=StringIO())
    assert not ObjectSync.objects.filter(object="custom:9").exists()
    assert runs() == []
