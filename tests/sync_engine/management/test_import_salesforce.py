"""``manage.py import_salesforce``: what it refuses up front (a pair switched off, an import
that already finished) and how it resumes one that stopped, against the emulators."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from sync_engine.models import ApiCall, AuditEvent, ImportJob, System
from sync_engine.services import object_settings_update
from tests.sync_engine.sync.helpers import hs_emails

pytestmark = pytest.mark.django_db


def seed(sf, sobject: str, records: list[dict]) -> None:
    for record in records:
        sf.restful(f"sobjects/{sobject}", method="POST", json=record)


def leads(n: int) -> list[dict]:
    return [
        {"LastName": f"Last{i}", "Company": f"Co {i}", "Email": f"lead{i}@cli.example"}
        for i in range(n)
    ]


def salesforce_calls(integration) -> int:
    return ApiCall.objects.filter(integration=integration, system=System.SALESFORCE).count()


def hs_companies(hs_person) -> set[str]:
    page = hs_person.crm.companies.basic_api.get_page(limit=100, properties=["name"])
    return {c.properties["name"] for c in page.results}


def test_an_import_of_a_pair_switched_off_is_refused_up_front(connected, sf_person, hs_person):
    seed(sf_person, "Account", [{"Name": f"Account {i}"} for i in range(3)])
    out = StringIO()
    with pytest.raises(CommandError) as refused:
        call_command("import_salesforce", "accounts", "--here", stdout=out)
    # The Import page's words for the same import.
    assert str(refused.value) == "Company sync is off: turn it on first on the Companies tab."
    assert "Succeeded" not in out.getvalue() and "started" not in out.getvalue()
    assert not ImportJob.objects.exists()
    assert salesforce_calls(connected) == 0
    object_settings_update(integration=connected, object_name="companies", changes={}, enabled=True)
    call_command("import_salesforce", "accounts", "--here", stdout=StringIO())
    assert {f"Account {i}" for i in range(3)} <= hs_companies(hs_person)


def test_resuming_a_finished_import_says_it_finished_and_fails(connected, sf_person):
    seed(sf_person, "Lead", leads(2))
    call_command("import_salesforce", "leads", "--here", stdout=StringIO())
    job = ImportJob.objects.get()
    assert (job.status, job.created) == ("succeeded", 2)
    out = StringIO()
    with pytest.raises(CommandError) as refused:
        call_command("import_salesforce", "--resume", str(job.pk), stdout=out)
    message = str(refused.value)
    assert message.startswith(f"Import #{job.pk} of Leads already finished (succeeded on ")
    assert "2 created" in message
    assert message.endswith("Start a new one with `manage.py import_salesforce leads`.")
    assert "started" not in out.getvalue() and "--wait" not in out.getvalue()
    job.refresh_from_db()
    assert job.status == "succeeded" and ImportJob.objects.count() == 1
    assert not AuditEvent.objects.filter(action="import.resumed").exists()


def test_a_failed_import_resumes_here_where_it_stopped(connected, sf_person, hs_person):
    seed(sf_person, "Lead", leads(5))
    connected.salesforce_api_allocation = 2  # the COUNT() and one more: the import stops
    connected.save()
    with pytest.raises(CommandError, match="The import failed"):
        call_command("import_salesforce", "leads", "--here", stdout=StringIO())
    job = ImportJob.objects.get()
    assert job.status == "failed"
    connected.salesforce_api_allocation = 10_000
    connected.save()
    out = StringIO()
    call_command("import_salesforce", "--resume", str(job.pk), "--here", stdout=out)
    assert f"Import #{job.pk} of Leads resumed." in out.getvalue()
    job.refresh_from_db()
    assert (job.status, job.created) == ("succeeded", 5)
    assert AuditEvent.objects.filter(action="import.resumed", details__import=job.pk).exists()
    assert {f"lead{i}@cli.example" for i in range(5)} <= set(hs_emails(hs_person))


def test_resuming_a_queued_import_says_it_is_queued_and_how_to_watch_it(connected):
    job = ImportJob.objects.create(integration=connected, object="leads")
    out = StringIO()
    call_command("import_salesforce", "--resume", str(job.pk), stdout=out)
    assert out.getvalue().splitlines() == [
        f"Import #{job.pk} of Leads is already queued.",
        f"A worker runs it; watch it with `manage.py import_salesforce --resume {job.pk} --wait` "
        "or on the dashboard's Import page.",
    ]


def test_misuse_says_what_to_do(connected):
    with pytest.raises(CommandError, match=r"^No import #42\.$"):
        call_command("import_salesforce", "--resume", "42", stdout=StringIO())
    with pytest.raises(CommandError, match="not both"):
        call_command("import_salesforce", "leads", "--resume", "42", stdout=StringIO())
    with pytest.raises(CommandError, match="^Name the object to import, or --resume ID"):
        call_command("import_salesforce", stdout=StringIO())
    with pytest.raises(CommandError, match="^Unknown object to import: planets"):
        call_command("import_salesforce", "planets", stdout=StringIO())
    assert not ImportJob.objects.exists()
