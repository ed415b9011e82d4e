"""An import beside the regular sync (spec §16): Salesforce edits made while the import pages
through its records, cycles that want the pair meanwhile, a worker that dies between HubSpot's
answer and the commit, and a re-import of what the regular sync already linked. End to end
through the official clients and the emulators, as ``test_imports.py``."""

from __future__ import annotations

import pytest

from emulators.testing import advance_clocks
from sync_engine import imports
from sync_engine.imports import import_run, import_start
from sync_engine.models import RecordLink
from sync_engine.sync.cycle import SyncAlreadyRunning, sync_cycle_run
from tests.sync_engine import test_imports as base
from tests.sync_engine.sync.helpers import hs_emails, hs_get

integration = base.integration  # the same connected integration, contacts pair on
seed, leads, run, assert_adds_up = base.seed, base.leads, base.run, base.assert_adds_up


def contact_of(salesforce_id: str) -> str:
    return RecordLink.objects.get(salesforce_id=salesforce_id).hubspot_id


def test_salesforce_edits_made_while_an_import_pages_are_not_lost(
    integration, sf_person, hs_person, emulators, monkeypatch
):
    """A rep edits two leads while the import runs: one it already wrote, one it has read but
    not yet written. The cycle can't run beside the import; the one after it carries both
    edits to HubSpot and sends nothing old back to Salesforce."""
    monkeypatch.setattr(imports, "BATCH", 10)
    first = sync_cycle_run(integration=integration, object_name="contacts")  # cursors set
    assert first.status == "succeeded", first.message
    advance_clocks(emulators, 120)
    ids = sorted(seed(sf_person, "Lead", leads(30)))
    written, read_not_written = ids[3], ids[25]
    job = import_start(integration=integration, object_name="leads", enqueue=False)
    refused = []

    def rep_edits_while_the_import_runs(current):
        if current.processed != 10 or refused:
            return
        advance_clocks(emulators, 5)
        sf_person.Lead.update(written, {"FirstName": "Edited early"})
        sf_person.Lead.update(read_not_written, {"FirstName": "Edited late"})
        with pytest.raises(SyncAlreadyRunning):
            sync_cycle_run(integration=integration, object_name="contacts")
        refused.append(True)

    import_run(job=job, progress=rep_edits_while_the_import_runs)
    job.refresh_from_db()
    assert refused and job.status == "succeeded", job.message
    assert (job.processed, job.created, job.failed) == (30, 30, 0)
    assert_adds_up(job)
    advance_clocks(emulators, 120)
    after = sync_cycle_run(integration=integration, object_name="contacts")
    assert after.status == "succeeded", after.message
    assert hs_get(hs_person, contact_of(written), "firstname")["firstname"] == "Edited early"
    assert hs_get(hs_person, contact_of(read_not_written), "firstname")["firstname"] == (
        "Edited late"
    )
    assert sf_person.Lead.get(written)["FirstName"] == "Edited early"
    assert sf_person.Lead.get(read_not_written)["FirstName"] == "Edited late"
    assert not after.counts.get("updated_in_salesforce"), after.counts
    assert not after.counts.get("created_in_hubspot"), after.counts
    emails = hs_emails(hs_person)
    assert len(emails) == len(set(emails)) == 30


def test_a_re_import_of_people_the_sync_linked_says_in_sync_or_updated_honestly(
    integration, sf_person, hs_person, emulators
):
    """People the regular sync already linked: a re-import creates nothing, counts the one
    edited since as updated (its edit reaches HubSpot) and the others as in sync."""
    ids = sorted(seed(sf_person, "Lead", leads(5)))
    cycle = sync_cycle_run(integration=integration, object_name="contacts")
    assert cycle.counts.get("created_in_hubspot") == 5, cycle.counts
    advance_clocks(emulators, 120)
    sync_cycle_run(integration=integration, object_name="contacts")  # reads its writes back
    advance_clocks(emulators, 120)
    sf_person.Lead.update(ids[2], {"LastName": "Changed"})
    job = run(integration, "leads")
    assert (job.created, job.updated, job.failed) == (0, 1, 0)
    assert job.skipped_reasons == {"already_in_sync": 4}
    assert_adds_up(job)
    assert hs_get(hs_person, contact_of(ids[2]), "lastname")["lastname"] == "Changed"
    emails = hs_emails(hs_person)
    assert len(emails) == len(set(emails)) == 5
    advance_clocks(emulators, 120)
    idle = sync_cycle_run(integration=integration, object_name="contacts")
    assert not idle.counts.get("updated_in_hubspot") and not idle.counts.get(
        "updated_in_salesforce"
    ), idle.counts


class WorkerDied(BaseException):
    """Not caught by the import: the process is gone (``kill -9``), its job left running."""


def commit_dies_once(monkeypatch, cls, *, at_call: int) -> None:
    """The worker dies in ``cls.commit`` the ``at_call``-th time it has pairs to commit: the
    batch's HubSpot writes landed, its links and the import's position didn't."""
    original = cls.commit
    seen = []

    def dying(self, pairs, *args, **kwargs):
        if pairs:
            seen.append(1)
            if len(seen) == at_call:
                raise WorkerDied("worker died before its commit")
        return original(self, pairs, *args, **kwargs)

    monkeypatch.setattr(cls, "commit", dying)


def test_a_lead_import_whose_worker_died_before_a_commit_resumes_without_duplicates(
    integration, sf_person, hs_person, monkeypatch
):
    """The worker dies after HubSpot made the second batch's contacts, before their links
    and the import's position were stored. Resumed, the import links those contacts (no
    second contact) and its summary says what happened in HubSpot: 30 contacts created."""
    from sync_engine.sync.contacts import ContactSync

    monkeypatch.setattr(imports, "BATCH", 10)
    seed(sf_person, "Lead", leads(30))
    job = import_start(integration=integration, object_name="leads", enqueue=False)
    commit_dies_once(monkeypatch, ContactSync, at_call=2)
    with pytest.raises(WorkerDied):
        import_run(job=job)
    job.refresh_from_db()
    assert (job.status, job.processed, job.created) == ("running", 10, 10)
    assert len(hs_emails(hs_person)) == 20
    import_run(job=job)  # a new worker takes the import over
    job.refresh_from_db()
    assert job.status == "succeeded", job.message
    emails = hs_emails(hs_person)
    assert len(emails) == len(set(emails)) == 30
    assert RecordLink.objects.filter(object="contacts").count() == 30
    assert_adds_up(job)
    assert (job.created, job.updated, job.failed) == (30, 0, 0)


def ledger_since(integration, first_id: int) -> dict[str, int]:
    from sync_engine.models import ApiCall

    rows = ApiCall.objects.filter(integration=integration, pk__gt=first_id)
    return {s: rows.filter(system=s).count() for s in ("salesforce", "hubspot")}


def last_ledger_id(integration) -> int:
    from sync_engine.models import ApiCall

    return (
        ApiCall.objects.filter(integration=integration)
        .order_by("-pk")
        .values_list("pk", flat=True)
        .first()
        or 0
    )


def counted_run(integration, object_name: str):
    before = last_ledger_id(integration)
    job = run(integration, object_name)
    spent = ledger_since(integration, before)
    assert (job.salesforce_calls, job.hubspot_calls) == (spent["salesforce"], spent["hubspot"]), (
        object_name
    )
    return job


def test_each_objects_import_counts_the_calls_it_made(integration, sf_person, hs_person, emulators):
    """What the summary says an import cost is what the ledger holds for it, for each object:
    people, accounts, opportunities (one on an account not synced yet), cases and tasks (one
    on a contact not synced yet)."""
    from sync_engine.services import object_settings_update

    emulators.hubspot.app.configure_budget(search_per_second=1000)
    lead = seed(sf_person, "Lead", leads(3))[0]
    account = seed(sf_person, "Account", [{"Name": "Globex"}])[0]
    contact = seed(sf_person, "Contact", [{"LastName": "Later", "Email": "later@x.example"}])[0]
    opportunity = {"StageName": "Prospecting", "CloseDate": "2026-12-31"}
    seed(sf_person, "Opportunity", [{"Name": "On Globex", "AccountId": account, **opportunity}])
    seed(sf_person, "Case", [{"Subject": f"Case {i}", "Status": "New"} for i in range(2)])
    seed(
        sf_person,
        "Task",
        [
            {"WhoId": lead, "Subject": "Call back", "Status": "Completed"},
            {"WhoId": contact, "Subject": "Write", "Status": "Completed"},
        ],
    )
    for name, changes in (
        ("companies", {}),
        ("deals", {}),
        ("tickets", {"setup_complete": True}),
        ("activities", {"salesforce_tasks": True}),
    ):
        object_settings_update(
            integration=integration, object_name=name, changes=changes, enabled=True
        )
    assert counted_run(integration, "leads").created == 3
    assert counted_run(integration, "accounts").created == 1
    solo = seed(sf_person, "Account", [{"Name": "Solo"}])[0]  # made after the accounts import
    seed(sf_person, "Opportunity", [{"Name": "On Solo", "AccountId": solo, **opportunity}])
    deals = counted_run(integration, "opportunities")
    assert (deals.created, deals.failed) == (1, 1)  # one waits for its account's company
    assert counted_run(integration, "cases").created == 2
    tasks = counted_run(integration, "tasks")
    assert (tasks.created, tasks.failed) == (1, 1)  # one waits for its contact
    assert counted_run(integration, "contacts").created == 1
    again = counted_run(integration, "tasks")
    assert (again.created, again.failed, again.skipped_reasons) == (1, 0, {"already_in_sync": 1})


def test_an_import_started_while_a_cycle_runs_waits_and_then_counts_what_the_cycle_did(
    integration, sf_person, hs_person, emulators, monkeypatch
):
    """The admin starts a leads import while a contact cycle (on another host) runs: the
    import says it waits for the cycle, then goes on. The cycle made the contacts meanwhile,
    so the import creates none and says they are in sync."""
    from sync_engine.models import ObjectSync
    from sync_engine.sync.cycle import lock_acquire, lock_release

    monkeypatch.setattr(imports.time, "sleep", lambda seconds: None)
    seed(sf_person, "Lead", leads(10))
    row = ObjectSync.objects.get(integration=integration, object="contacts")
    elsewhere = "another-host:1:-:cafe0001"
    assert lock_acquire(row, elsewhere)
    job = import_start(integration=integration, object_name="leads", enqueue=False)
    said, cycles = [], []

    def the_cycle_finishes_meanwhile(current):
        said.append(current.message)
        if current.message.startswith("Waiting for the running contacts") and not cycles:
            lock_release(row, elsewhere)
            cycle = sync_cycle_run(integration=integration, object_name="contacts")
            assert cycle.counts.get("created_in_hubspot") == 10, cycle.counts
            cycles.append(cycle)

    import_run(job=job, progress=the_cycle_finishes_meanwhile)
    job.refresh_from_db()
    assert "Waiting for the running contacts sync cycle to finish…" in said
    assert job.status == "succeeded" and job.message == "", job.message
    assert (job.created, job.updated, job.failed) == (0, 0, 0)
    assert job.skipped_reasons == {"already_in_sync": 10}
    assert_adds_up(job)
    emails = hs_emails(hs_person)
    assert len(emails) == len(set(emails)) == 10


def test_an_accounts_import_whose_worker_died_before_a_commit_counts_its_companies_created(
    integration, sf_person, hs_person, monkeypatch
):
    """As for leads: the companies the dead worker made are upserted again by their key, one
    each, and the summary counts them as created, not as existing companies updated."""
    from sync_engine.services import object_settings_update
    from sync_engine.sync.companies import CompanySync

    monkeypatch.setattr(imports, "BATCH", 5)
    object_settings_update(
        integration=integration, object_name="companies", changes={}, enabled=True
    )
    seed(sf_person, "Account", [{"Name": f"Account {i}"} for i in range(12)])
    job = import_start(integration=integration, object_name="accounts", enqueue=False)
    commit_dies_once(monkeypatch, CompanySync, at_call=2)
    with pytest.raises(WorkerDied):
        import_run(job=job)
    job.refresh_from_db()
    assert (job.processed, job.created) == (5, 5)
    import_run(job=job)
    job.refresh_from_db()
    assert job.status == "succeeded", job.message
    names = [
        c.properties["name"]
        for c in hs_person.crm.companies.basic_api.get_page(limit=100, properties=["name"]).results
    ]
    assert len(names) == len(set(names)) == 12
    assert_adds_up(job)
    assert (job.created, job.updated, job.failed) == (12, 0, 0)
