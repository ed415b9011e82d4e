"""Review of *Resync a list* and its neighbours: a company list's confirmation speaks of the
company inclusion list and of what it really costs, the API's schema describes each pair's
inclusion list, *Disconnect* stops a list resync (the card says so), and a refused htmx
settings save still shows its errors inline."""

from __future__ import annotations

import pytest
from django.urls import reverse

from emulators.testing import active_list
from sync_engine.models import ListResyncJob
from sync_engine.services import (
    integration_disconnect_and_stop_imports,
    list_resync_request,
    list_resync_run,
    object_settings_update,
    object_sync_get_or_create,
)
from tests.sync_engine.sync.helpers import hs_contacts, hs_list

from .test_companies_inclusion_list_hunt7 import company_list, new_company
from .test_list_resync_hunt7 import job_line

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "list-resync"}


def test_a_company_lists_confirmation_names_the_company_inclusion_list(
    admin_client, live, emulators
):
    """Companies have their own inclusion list: the confirmation says companies outside it
    are skipped (not contacts), and only when the companies' own setting has one."""
    object_sync_get_or_create(integration=live, object_name="companies")
    object_settings_update(integration=live, object_name="companies", changes={}, enabled=True)
    ids = [new_company(emulators, name=f"Co {i}", description="listed") for i in range(2)]
    list_id = hs_list(emulators, "Accounts <to backfill>", ids, object_type="companies")
    url = "/companies/list-resync/"

    html = admin_client.post(url, {"list_id": list_id}, **HTMX).content.decode()
    assert "2 companies in Accounts &lt;to backfill&gt; will be synced again" in html
    assert "This costs up to 5 Salesforce calls, over 1 sync cycle." in html
    assert "outside the inclusion list" not in html

    # A contact inclusion list says nothing of companies.
    contacts_list = active_list(emulators, "People")
    object_settings_update(
        integration=live, object_name="contacts", changes={"inclusion_list_id": contacts_list}
    )
    html = admin_client.post(url, {"list_id": list_id}, **HTMX).content.decode()
    assert "outside the inclusion list" not in html

    object_settings_update(
        integration=live,
        object_name="companies",
        changes={"inclusion_list_id": company_list(emulators)},
    )
    html = admin_client.post(url, {"list_id": list_id}, **HTMX).content.decode()
    assert "Companies outside the inclusion list are skipped." in html
    assert "Contacts outside" not in html


def test_the_schema_describes_each_pairs_inclusion_list(admin_client):
    schema = admin_client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    components = schema["components"]["schemas"]
    contacts = components["ContactsSettings"]["properties"]["inclusion_list_id"]["description"]
    companies = components["CompaniesSettings"]["properties"]["inclusion_list_id"]["description"]
    assert "an active contact list" in contacts and "only its contacts sync" in contacts
    assert "an active company list" in companies and "only its companies sync" in companies
    assert "contact" not in companies.replace("contacts", "")


def test_disconnect_stops_a_running_list_resync_and_the_card_says_so(admin_client, live, emulators):
    """A worker half-way through a list when the admin disconnects queues no further page;
    the card says why it stopped and that what it queued still syncs."""
    object_sync_get_or_create(integration=live, object_name="contacts")
    ids = hs_contacts(emulators, 600, email="d{i}@stop.example")
    list_id = hs_list(emulators, "Big list", ids)
    outcome = list_resync_request(
        integration=live, object_name="contacts", list_id=list_id, enqueue=False
    )
    job = list_resync_run(job=outcome.job, stop_after_pages=1)  # its worker, mid-list
    assert (job.status, job.queued) == ("running", 250)

    disconnected = integration_disconnect_and_stop_imports(integration=live)
    assert disconnected.list_resyncs_stopped == 1
    job.refresh_from_db()
    assert (job.status, job.refused, job.worker) == ("failed", "list_resync_disconnected", "")
    assert list_resync_run(job=job).queued == 250  # a worker picking it up reads no more

    line = job_line(
        admin_client.get(
            reverse("list_resync_job", args=["contacts", job.pk]), **HTMX
        ).content.decode(),
        job,
    )
    assert (
        "The integration was disconnected, so the resync of Big list stopped. Once connected "
        "again, resync the list to go on. The 250 records queued before it stopped still "
        "sync." in line
    )
    assert not ListResyncJob.objects.filter(status__in=["queued", "running"]).exists()


def test_a_refused_htmx_settings_save_shows_its_errors_in_the_card(admin_client, connected):
    """htmx swaps in no 4xx answer (base.html's responseHandling): a refused save answers the
    card, with its errors inline, as a 2xx; without htmx the tab answers 400."""
    from .test_contacts import DEFAULT_FORM

    form = {**DEFAULT_FORM, "hubspot_creates": "opportunity"}
    response = admin_client.post("/contacts/", form, HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith('<form id="contact-settings"')
    assert "Select a valid choice" in html
    assert admin_client.post("/contacts/", form).status_code == 400
