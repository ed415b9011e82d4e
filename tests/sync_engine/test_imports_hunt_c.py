"""Import summaries against what landed in HubSpot (spec §16), end to end through the official
clients and the emulators, as ``test_imports.py``."""

from __future__ import annotations

from sync_engine import imports
from sync_engine.imports import import_run
from sync_engine.models import RecordLink, SyncError
from sync_engine.services import object_settings_update
from tests.sync_engine import test_imports as base
from tests.sync_engine.sync.helpers import hs_get

integration = base.integration  # the same connected integration, contacts pair on
seed, leads, run, assert_adds_up = base.seed, base.leads, base.run, base.assert_adds_up


def open_error_types(integration) -> dict[str, str]:
    return dict(
        SyncError.objects.filter(integration=integration, resolved_at__isnull=True).values_list(
            "salesforce_id", "error_type"
        )
    )


def test_leads_made_without_a_status_hubspot_refuses_count_as_created(
    integration, sf_person, hs_person, emulators
):
    """HubSpot won't add the status as an option: the contacts are made without it, with a
    Picklists error each. They are in HubSpot, so the summary says created, not failed."""
    emulators.hubspot.app.faults.add(
        path=r"/crm/v3/properties/contacts/hs_lead_status$",
        method="PATCH",
        status=400,
        body={"status": "error", "category": "VALIDATION_ERROR", "message": "Too many options"},
    )
    ids = seed(sf_person, "Lead", leads(3, Status="Closed - Not Converted"))
    job = run(integration, "leads")
    links = RecordLink.objects.filter(integration=integration, salesforce_id__in=ids)
    assert links.count() == 3
    assert hs_get(hs_person, links[0].hubspot_id, "email")["email"].endswith("@import.example")
    assert (job.created, job.updated, job.failed, job.left_out) == (3, 0, 0, 3)
    assert_adds_up(job)
    assert open_error_types(integration) == dict.fromkeys(ids, "picklist")  # on Sync health


def test_an_account_with_a_website_that_is_no_web_address_counts_as_created(
    integration, sf_person, hs_person
):
    object_settings_update(
        integration=integration, object_name="companies", changes={}, enabled=True
    )
    good, odd = seed(
        sf_person,
        "Account",
        [{"Name": "Plain"}, {"Name": "Intranet", "Website": "http://[intranet"}],
    )
    job = run(integration, "accounts")
    assert RecordLink.objects.filter(object="companies").count() == 2
    assert (job.created, job.updated, job.failed, job.left_out) == (2, 0, 0, 1)
    assert_adds_up(job)
    assert open_error_types(integration) == {odd: "property_value"}


def test_a_changed_lead_whose_update_hubspot_refuses_still_counts_as_failed(
    integration, sf_person, hs_person, emulators
):
    """A value error on a write that didn't land is a failure, not an update."""
    ids = seed(sf_person, "Lead", leads(2))
    assert run(integration, "leads").created == 2
    sf_person.Lead.update(ids[0], {"FirstName": "Changed"})
    emulators.hubspot.app.faults.add(**{**base.REJECTED, "path": r"/batch/(update|upsert)$"})
    job = run(integration, "leads")
    assert (job.created, job.updated, job.failed, job.left_out) == (0, 0, 1, 0)
    assert job.skipped_reasons == {"already_in_sync": 1}
    assert open_error_types(integration) == {ids[0]: "property_value"}


def test_an_import_stopped_by_hubspots_daily_limit_says_it_is_hubspots(
    integration, sf_person, emulators
):
    """HubSpot's daily allowance spent: the import says whose limit stopped it and when it
    frees, not Salesforce's org limit; resumed later, it finishes."""
    seed(sf_person, "Lead", leads(3))
    emulators.hubspot.app.faults.add(path=r"^/crm/", error_code="DAILY")
    job = run(integration, "leads")
    assert job.status == "failed"
    assert job.message.startswith("HubSpot's daily API limit is reached"), job.message
    assert "Salesforce" not in job.message
    emulators.hubspot.app.faults.clear()
    imports.import_resume(job=job)
    import_run(job=job)
    job.refresh_from_db()
    assert (job.status, job.created) == ("succeeded", 3)
