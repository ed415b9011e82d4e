"""A Salesforce record deleted by a rep in the moment between a cycle's read and its write:
the write Salesforce refuses (``ENTITY_IS_DELETED``) leaves no error once the next cycle reads
the delete, and its retry never makes the deleted record again from the edit older than the
delete, just as when the delete lands before the cycle reads anything."""

from __future__ import annotations

import threading
import time

from django.utils import timezone

from sync_engine.models import SyncError

from .helpers import hs_update, new_lead
from .test_custom_objects import projects  # noqa: F401  (the fixture)

UPDATE = r"/composite/sobjects$"


def deleted_while_written(emulators, delete) -> threading.Thread:
    """The sync's next Salesforce update is held a moment, during which ``delete()`` runs
    (a rep deleting the record in Salesforce)."""
    held = emulators.salesforce.app.faults.add(path=UPDATE, method="PATCH", delay=1.0, times=1)

    def rep():
        deadline = time.monotonic() + 30
        while not held.seen and time.monotonic() < deadline:
            time.sleep(0.02)
        delete()

    thread = threading.Thread(target=rep, daemon=True)
    thread.start()
    return thread


def open_errors(integration):
    return SyncError.objects.filter(integration=integration, resolved_at__isnull=True)


def test_a_lead_deleted_while_a_hubspot_edit_is_written_is_not_made_again(
    cycle, integration, emulators, sf_person, hs_person
):
    lead = new_lead(sf_person, Email="gone@example.com", LastName="Gone")
    cycle()
    contact = cycle.link(salesforce_id=lead).hubspot_id
    hs_update(hs_person, contact, jobtitle="Edited before the delete")
    rep = deleted_while_written(emulators, lambda: sf_person.Lead.delete(lead))
    run = cycle()
    rep.join(30)
    assert run.counts.get("failed") == 1, run.counts  # Salesforce: entity is deleted

    cycle()  # reads the delete: the link goes, the HubSpot contact stays (Do nothing)
    assert not open_errors(integration).exists(), list(open_errors(integration).values())
    open_errors(integration).update(next_retry_at=timezone.now())  # 20 minutes on
    cycle()
    people = sf_person.query("SELECT Id FROM Lead WHERE Email = 'gone@example.com'")
    assert people["totalSize"] == 0, "the lead the rep deleted was made again"


def test_a_project_deleted_while_a_hubspot_edit_is_written_is_not_made_again(
    projects,  # noqa: F811
    integration,
    emulators,
    sf_person,
):
    project = sf_person.Project__c.create({"Name": "Gone project"})["id"]
    projects()
    record = projects.link(salesforce_id=project).hubspot_id
    time.sleep(1.1)  # the edit is stamped after the sync's own write
    projects.update(record, project_name="Edited before the delete")
    rep = deleted_while_written(emulators, lambda: sf_person.Project__c.delete(project))
    run = projects()
    rep.join(30)
    assert run.counts.get("failed") == 1, run.counts  # Salesforce: entity is deleted

    projects()  # reads the delete: the link goes, the HubSpot project stays (Do nothing)
    assert not open_errors(integration).exists(), list(open_errors(integration).values())
    open_errors(integration).update(next_retry_at=timezone.now())  # 20 minutes on
    projects()
    made = sf_person.query("SELECT Id FROM Project__c WHERE Name = 'Edited before the delete'")
    assert made["totalSize"] == 0, "the project the rep deleted was made again"
