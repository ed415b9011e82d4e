"""The Import page as an admin meets it on a busy day: an integration paused because the
Salesforce API allocation ran out, through the page and the real emulators."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from sync_engine.imports import import_run
from sync_engine.models import ApiCall, ImportJob, Integration


def test_an_import_starts_while_syncing_is_paused_for_the_allocation(
    admin_client, live, sf_person, django_capture_on_commit_callbacks
):
    """Paused (a cycle used the allocation up) is still connected: once the 24-hour window has
    freed calls, the admin's import runs, rather than being refused as "not connected"."""
    from sync_engine.budget import ALLOCATION_USED
    from sync_engine.services import integration_set_state, object_sync_get_or_create

    object_sync_get_or_create(integration=live, object_name="contacts")
    sf_person.Contact.create({"LastName": "One", "Email": "one@paused.example"})
    sf_person.Contact.create({"LastName": "Two", "Email": "two@paused.example"})
    # A cycle used the allocation up and paused syncing; a day later those calls have left
    # the rolling window, but no cycle has run since (sync is off, say): still "paused".
    ApiCall.objects.bulk_create(
        ApiCall(integration=live, system="salesforce", operation="query") for _ in range(3)
    )
    integration_set_state(integration=live, state=Integration.State.PAUSED, reason=ALLOCATION_USED)
    ApiCall.objects.update(called_at=timezone.now() - timedelta(hours=25))
    with django_capture_on_commit_callbacks():
        response = admin_client.post("/import/start/", {"object": "contacts"}, follow=True)
    assert "isn&#x27;t connected" not in response.content.decode()
    job = ImportJob.objects.get()
    import_run(job=job)
    html = admin_client.get(f"/import/?job={job.pk}").content.decode()
    assert 'data-status="succeeded"' in html
    assert 'data-stat="created">2<' in html


def test_an_import_neither_starts_nor_resumes_while_syncing_is_suspended(
    admin_client, live, sf_person, django_capture_on_commit_callbacks
):
    """Suspended (Salesforce refused the integration user, say) says so and what to do, not
    "isn't connected"; a stopped import waits for the suspension to be cleared too."""
    from sync_engine.services import integration_set_state, object_sync_get_or_create

    object_sync_get_or_create(integration=live, object_name="contacts")
    sf_person.Contact.create({"LastName": "One", "Email": "one@suspended.example"})
    stopped = ImportJob.objects.create(
        integration=live, object="contacts", status=ImportJob.Status.FAILED
    )
    integration_set_state(
        integration=live, state=Integration.State.SUSPENDED, reason="Permission revoked."
    )

    with django_capture_on_commit_callbacks():
        started = admin_client.post("/import/start/", {"object": "contacts"}, follow=True)
        resumed = admin_client.post(f"/import/{stopped.pk}/resume/", follow=True)

    for response in (started, resumed):
        html = response.content.decode()
        assert "Syncing is suspended (see the status bar)" in html
        assert "isn&#x27;t connected" not in html
    assert list(ImportJob.objects.values_list("pk", "status")) == [
        (stopped.pk, ImportJob.Status.FAILED)
    ]
