"""The Tickets tab as a demanding admin uses it, against the emulators: statuses Salesforce
no longer lists (or doesn't list yet) that cases still hold, and what the settings tab says
(spec §14)."""

from __future__ import annotations

import re
from html import unescape

import pytest

from emulators.testing import hubspot_client
from sync_engine.models import SyncError
from sync_engine.services import schema_refresh, sync_errors_request_resync
from sync_engine.sync.cycle import sync_cycle_run

from . import test_tickets_wizard
from .test_tickets_wizard import _set_up, _stage_selects, row

sf = test_tickets_wizard.sf  # the fixture: a support agent editing in Salesforce

pytestmark = pytest.mark.django_db

SUPPORT = {"New": "1", "Working": "2", "Escalated": "3", "Closed": "4"}


def support_pipeline(stages: dict) -> dict:
    """The master process mapped to HubSpot's Support Pipeline, as step 4 saves it."""
    return {
        "master": {
            "label": "Master",
            "pipeline": "0",
            "pipeline_label": "Support Pipeline",
            "stages": stages,
            "managed": False,
        }
    }


def cycle(integration, emulators):
    emulators.hubspot.app.configure_budget(search_per_second=1000)
    run = sync_cycle_run(integration=integration, object_name="tickets")
    assert run.status == "succeeded", run.message
    return run


def test_a_status_the_engine_found_without_a_stage_can_be_mapped_on_step_4(
    admin_client, live, sf, emulators, page_form
):
    """A case holds a status the Case describe doesn't list (added in Salesforce since the
    describe was read, or deactivated with cases still in it): its error says to map the
    status on the Tickets tab, so step 4 must offer it, and the ticket then takes the stage."""
    schema_refresh(integration=live, object_name="tickets")
    _set_up(live, pipelines=support_pipeline(dict(SUPPORT)))
    case = sf.Case.create({"Subject": "Parts ordered", "Status": "On Hold"})["id"]
    cycle(live, emulators)
    error = SyncError.objects.get(salesforce_id=case, resolved_at__isnull=True)
    assert error.code == "NO_STAGE" and "Map the status on the Tickets tab" in error.message

    html = unescape(admin_client.get("/tickets/?step=4").content.decode())
    selects = _stage_selects(html)
    assert selects["On Hold"] == ("", "Choose a stage…"), selects
    form = page_form(html.encode(), "ticket-step-form")
    on_hold = next(k for k, v in form.items() if k.startswith("stage_master_") and v == "")
    response = admin_client.post("/tickets/", {**form, "action": "save", on_hold: "2"})
    assert response.status_code == 302, response.content.decode()[:400]
    assert row(live).options["pipelines"]["master"]["stages"]["On Hold"] == "2"

    # The admin's Resync: the ticket moves to the stage picked for the status.
    sync_errors_request_resync(integration=live, error_ids=[error.pk])
    cycle(live, emulators)
    assert not SyncError.objects.filter(salesforce_id=case, resolved_at__isnull=True).exists()
    hs = hubspot_client(emulators, token="agent-token", strict=False)
    ticket = hs.crm.tickets.basic_api.get_page(limit=10, properties=["hs_pipeline_stage"])
    assert [t.properties["hs_pipeline_stage"] for t in ticket.results] == ["2"]


def test_a_stage_kept_for_a_status_salesforce_no_longer_lists_survives_saving_step_4(
    admin_client, live, page_form
):
    """A status deactivated in Salesforce leaves the describe, but its cases keep it: saving
    step 4 again (to change another stage) must not drop its stage, or those cases' tickets
    fail with 'no stage' and the wizard can't show the status any more."""
    schema_refresh(integration=live, object_name="tickets")
    _set_up(live, pipelines=support_pipeline({**SUPPORT, "On Hold": "2"}))
    html = unescape(admin_client.get("/tickets/?step=4").content.decode())
    assert _stage_selects(html).get("On Hold") == ("2", "Waiting on contact")
    form = page_form(html.encode(), "ticket-step-form")
    working = next(k for k, v in form.items() if k.startswith("stage_master_") and v == "2")
    response = admin_client.post("/tickets/", {**form, "action": "save", working: "3"})
    assert response.status_code == 302, response.content.decode()[:400]
    stages = row(live).options["pipelines"]["master"]["stages"]
    assert stages["On Hold"] == "2" and stages["Working"] == "3", stages


def test_the_settings_tab_says_when_company_sync_is_off(admin_client, live):
    """Account associations on, company sync off: the settings tab (which shows the
    association toggles after setup) says why tickets get no company, as step 2 does."""
    _set_up(live, sync_account_association=True)
    html = admin_client.get("/tickets/").content.decode()
    assert 'id="ticket-settings"' in html
    assert 'id="company-sync-off"' in html and 'href="/companies/"' in html
    assert 'id="contact-sync-off"' not in html  # contact sync starts on


def test_a_status_kept_only_by_an_older_table_may_be_left_without_a_stage(
    admin_client, live, page_form
):
    """A status gone from Salesforce (no case holds it, none met it since) is listed while an
    older table has a stage for it, but step 4 saves without one."""
    schema_refresh(integration=live, object_name="tickets")
    _set_up(live, pipelines=support_pipeline({**SUPPORT, "Legacy": "2"}))
    html = unescape(admin_client.get("/tickets/?step=4").content.decode())
    form = page_form(html.encode(), "ticket-step-form")
    index = re.search(r'<label for="stage-master-(\d+)">Legacy</label>', html).group(1)
    assert form[f"stage_master_{index}"] == "2"
    response = admin_client.post(
        "/tickets/", {**form, "action": "save", f"stage_master_{index}": ""}
    )
    assert response.status_code == 302, response.content.decode()[:400]
    assert "Legacy" not in row(live).options["pipelines"]["master"]["stages"]
