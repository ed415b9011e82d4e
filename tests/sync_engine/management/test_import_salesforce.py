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


class CtrlC(StringIO):
    """A terminal where the admin presses Ctrl-C once the bar shows ``at`` records read."""

    def __init__(self, at: str) -> None:
        super().__init__()
        self.at = at
        self.pressed = False

    def write(self, text: str) -> int:
        if not self.pressed and self.at in text:
            self.pressed = True
            raise KeyboardInterrupt
        return super().write(text)


def interrupted(*args: str, at: str) -> CommandError:
    """The command's error when Ctrl-C is pressed at ``at`` (a KeyboardInterrupt that got
    out, a traceback on the admin's terminal, fails the test instead of ending the run)."""
    try:
        call_command("import_salesforce", *args, stdout=CtrlC(at))
    except CommandError as error:
        return error
    except KeyboardInterrupt:
        pytest.fail("Ctrl-C ended the command with a traceback")
    pytest.fail("the command went on after Ctrl-C")


def test_ctrl_c_stops_an_import_here_so_it_can_be_resumed_or_started_again(
    connected, sf_person, hs_person, monkeypatch
):
    from sync_engine import imports

    monkeypatch.setattr(imports, "BATCH", 2)
    seed(sf_person, "Lead", leads(6))
    stopped = interrupted("leads", "--here", at=" 2/6 ")
    job = ImportJob.objects.get()
    assert stopped.returncode == 130
    assert str(stopped) == (
        f"Import #{job.pk} of Leads stopped after 2 records; resume it with "
        f"`manage.py import_salesforce --resume {job.pk} --here`."
    )
    assert (job.status, job.processed) == ("cancelled", 2)
    assert AuditEvent.objects.filter(action="import.cancelled", details__import=job.pk).exists()
    again = StringIO()
    call_command("import_salesforce", "--resume", str(job.pk), "--here", stdout=again)
    job.refresh_from_db()
    assert (job.status, job.processed, job.created) == ("succeeded", 6, 6)
    emails = hs_emails(hs_person)
    assert len(emails) == len(set(emails)) == 6


def test_ctrl_c_while_watching_leaves_the_import_to_its_worker(connected, sf_person):
    job = ImportJob.objects.create(integration=connected, object="leads")
    stopped = interrupted("--resume", str(job.pk), "--wait", at="0/0")
    assert stopped.returncode == 130
    assert str(stopped) == (
        f"Stopped watching import #{job.pk}; a worker goes on with it (watch it again with "
        f"`manage.py import_salesforce --resume {job.pk} --wait`)."
    )
    job.refresh_from_db()
    assert job.status == "queued"


def test_an_import_cancelled_meanwhile_ends_the_command_with_an_error(connected, sf_person):
    from sync_engine.imports import import_cancel

    seed(sf_person, "Lead", leads(3))

    class CancelOnDashboard(StringIO):  # an admin cancels it on the Import page meanwhile
        def write(self, text: str) -> int:
            if "0/3" in text:
                import_cancel(job=ImportJob.objects.get())
            return super().write(text)

    out = CancelOnDashboard()
    with pytest.raises(CommandError) as cancelled:
        call_command("import_salesforce", "leads", "--here", stdout=out)
    job = ImportJob.objects.get()
    assert job.status == "cancelled"
    assert str(cancelled.value).startswith(f"Import #{job.pk} of Leads was cancelled after ")
    assert "leads: Cancelled" in out.getvalue()  # the summary first


def test_the_summary_names_the_records_written_without_a_value(connected, sf_person, emulators):
    """HubSpot won't add the leads' status as an option: they are created without it, and
    the summary says so under created, pointing at Sync health."""
    emulators.hubspot.app.faults.add(
        path=r"/crm/v3/properties/contacts/hs_lead_status$",
        method="PATCH",
        status=400,
        body={"status": "error", "category": "VALIDATION_ERROR", "message": "Too many options"},
    )
    seed(sf_person, "Lead", [{**lead, "Status": "Closed - Not Converted"} for lead in leads(2)])
    out = StringIO()
    call_command("import_salesforce", "leads", "--here", stdout=out)
    lines = {line.rsplit(None, 1)[0].strip(): line.rsplit(None, 1)[1] for line in
             out.getvalue().splitlines() if line.startswith("  ") and line.strip()}  # fmt: skip
    assert lines["created in HubSpot"] == "2"
    assert lines["written without a value (see Sync health)"] == "2"
    assert lines["failed (see Sync health)"] == "0"
