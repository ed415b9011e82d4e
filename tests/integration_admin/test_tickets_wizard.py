"""The Tickets tab: the six-step setup wizard walked by an admin (against the emulators),
what a viewer can't do, and the settings the tab shows once ticket sync is on (spec §14)."""

from __future__ import annotations

from html import unescape

import pytest

from emulators.testing import hubspot_client, salesforce_client
from sync_engine.models import AuditEvent, FieldMapping, ObjectSync
from sync_engine.services import object_settings_update
from sync_engine.sync.cycle import sync_cycle_run

pytestmark = pytest.mark.django_db


def row(integration) -> ObjectSync:
    return ObjectSync.objects.get(integration=integration, object="tickets")


def step(client, number: int, **data):
    response = client.post("/tickets/", {"step": number, "action": "next", **data})
    assert response.status_code == 302, response.content.decode()[:500]
    return response["Location"]


@pytest.fixture
def sf(emulators):
    return salesforce_client(emulators, token="support-agent-token")


def test_an_admin_walks_the_wizard_and_finishing_turns_ticket_sync_on(
    admin_client, live, sf, emulators
):
    account = sf.Account.create({"Name": "Umbrella"})["id"]
    sf.Case.create({"Subject": "Leak", "Status": "New", "AccountId": account})
    sf.Case.create({"Subject": "Noise", "Status": "Working"})

    html = admin_client.get("/tickets/").content.decode()
    assert 'data-step="1"' in html and 'name="salesforce_delete"' in html
    assert "Delete the ticket" in html
    assert step(admin_client, 1, salesforce_delete="delete").endswith("?step=2")
    assert row(live).options["salesforce_delete"] == "delete"
    assert AuditEvent.objects.filter(action="settings.updated").exists()

    html = admin_client.get("/tickets/?step=2").content.decode()
    assert 'name="sync_account_association"' in html
    assert step(admin_client, 2, sync_account_association="on").endswith("?step=3")
    options = row(live).options
    assert options["sync_account_association"] is True
    assert options["sync_contact_association"] is False

    # Step 3: the required ticket properties are pre-mapped; others can be added.
    html = admin_client.get("/tickets/?step=3").content.decode()
    for prop in ("subject", "hs_pipeline_stage", "hs_ticket_priority"):
        assert f'data-hubspot="{prop}"' in html, prop
    assert "Add a mapping" in html
    response = admin_client.post(
        "/objects/tickets/mappings/add/",
        {
            "hubspot_property": "hs_resolution",
            "salesforce_field": "Reason",
            "rule": "always_use_salesforce",
        },
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200, response.content.decode()[:300]
    assert FieldMapping.objects.filter(object="tickets", hubspot_property="hs_resolution").exists()
    assert step(admin_client, 3).endswith("?step=4")

    # Step 4: one pipeline per case process, with its status → stage table.
    html = admin_client.get("/tickets/?step=4").content.decode()
    assert 'name="pipeline_master"' in html and "Support Pipeline" in html
    assert "Create a new pipeline from the case statuses" in html
    stages = admin_client.get(
        "/tickets/stages/", {"process": "master", "pipeline_master": "0"}, HTTP_HX_REQUEST="true"
    ).content.decode()
    assert 'name="stage_master_0"' in stages and "Waiting on us" in stages
    assert step(admin_client, 4, pipeline_master="new").endswith("?step=5")
    assert row(live).options["pipelines"]["master"] == {
        "label": "Master",
        "pipeline": "",
        "pipeline_label": "",
        "stages": {},
        "managed": True,
    }

    # Step 5: what the first sync will do.
    html = admin_client.get("/tickets/?step=5").content.decode()
    assert "2 cases will create tickets." in html
    assert "0 will associate with companies." in html
    assert "1 will associate with its company once company sync is on." in html
    assert "associate with a contact" not in html  # contact associations are off
    assert step(admin_client, 5).endswith("?step=6")

    assert row(live).enabled is False
    response = admin_client.post("/tickets/", {"step": 6, "action": "finish"})
    assert response.status_code == 302 and response["Location"] == "/tickets/"
    saved = row(live)
    assert saved.enabled is True and saved.options["setup_complete"] is True
    event = AuditEvent.objects.filter(action="settings.updated").latest("pk")
    assert event.details["changes"]["enabled"] == {"from": False, "to": True}

    # The tab now shows the settings, editable, and the pair syncs.
    html = admin_client.get("/tickets/").content.decode()
    assert 'id="ticket-settings"' in html and "data-step" not in html
    assert 'name="enabled" value="on" checked' in html
    assert "Change pipelines" in html and 'id="mappings-locked"' not in html
    emulators.hubspot.app.configure_budget(search_per_second=1000)
    run = sync_cycle_run(integration=live, object_name="tickets")
    assert run.status == "succeeded" and run.counts["created_in_hubspot"] == 2, run.counts
    html = admin_client.get("/tickets/").content.decode()
    assert "Salesforce cases: Master" in html and "Escalated" in html

    response = admin_client.post(
        "/tickets/",
        {
            "action": "settings",
            "enabled": "on",
            "salesforce_delete": "nothing",
            "sync_account_association": "on",
            "sync_contact_association": "on",
        },
    )
    html = response.content.decode()
    assert response.status_code == 200 and "Saved. What changed:" in html
    assert row(live).options["sync_contact_association"] is True
    assert row(live).options["salesforce_delete"] == "nothing"


def test_the_association_steps_say_when_company_sync_is_off(admin_client, live, sf):
    """Company sync starts off: steps 2 and 5 say the account association waits until it's
    on (with the Companies tab), instead of promising a 'waiting to sync' that never ends."""
    account = sf.Account.create({"Name": "Pendant Publishing"})["id"]
    sf.Case.create({"Subject": "Proofs", "Status": "New", "AccountId": account})
    for number in (2, 5):
        html = admin_client.get(f"/tickets/?step={number}").content.decode()
        assert 'id="company-sync-off"' in html, number
        assert "Company sync is off" in html and 'href="/companies/"' in html, number
        assert 'id="contact-sync-off"' not in html, number  # contact sync starts on
    html = admin_client.get("/tickets/?step=5").content.decode()
    assert "1 will associate with its company once company sync is on." in html
    assert "as soon as its account syncs" not in html
    html = admin_client.get("/tickets/?step=5", HTTP_ACCEPT_LANGUAGE="nl").content.decode()
    assert "Bedrijfssynchronisatie staat uit" in html
    assert "1 wordt gekoppeld aan zijn bedrijf zodra bedrijfssynchronisatie aan staat." in html

    ObjectSync.objects.update_or_create(
        integration=live, object="companies", defaults={"enabled": True}
    )
    html = admin_client.get("/tickets/?step=5").content.decode()
    assert 'id="company-sync-off"' not in html
    assert "1 will associate with its company as soon as its account syncs." in html


def test_mapping_an_existing_pipeline_stores_the_stage_table(admin_client, live):
    step(admin_client, 4, pipeline_master="0", stage_master_1="3", stage_master_2="2")
    entry = row(live).options["pipelines"]["master"]
    assert entry["pipeline"] == "0" and entry["managed"] is False
    # New → New and Closed → Closed by label; Working and Escalated as picked.
    assert entry["stages"] == {"New": "1", "Working": "3", "Escalated": "2", "Closed": "4"}
    html = admin_client.get("/tickets/?step=4").content.decode()
    assert '<option value="0" selected>' in html
    assert "Choose a stage…" not in html  # every status has its stage


def _stage_selects(html: str) -> dict[str, tuple[str, str]]:
    """``{status: (selected value, selected text)}`` of the stage table of ``master``."""
    import re

    out = {}
    for status, body in re.findall(
        r'<label for="stage-master-\d+">([^<]+)</label>\s*<select[^>]*>(.*?)</select>', html, re.S
    ):
        chosen = re.search(r'<option value="([^"]*)" selected>([^<]*)</option>', body)
        out[status] = (chosen.group(1), chosen.group(2)) if chosen else ("", "")
    return out


def test_an_existing_pipeline_matches_stages_by_label_and_guesses_no_others(admin_client, live):
    """Support Pipeline (New, Waiting on contact, Waiting on us, Closed): New and Closed match
    by label; Working and Escalated get no stage until the admin picks one (no 'New' guess
    that would show worked cases as New)."""
    html = admin_client.get(
        "/tickets/stages/", {"process": "master", "pipeline_master": "0"}, HTTP_HX_REQUEST="true"
    ).content.decode()
    assert _stage_selects(unescape(html)) == {
        "New": ("1", "New"),
        "Working": ("", "Choose a stage…"),
        "Escalated": ("", "Choose a stage…"),
        "Closed": ("4", "Closed"),
    }


def test_the_pipelines_step_is_refused_until_every_status_has_a_stage(admin_client, live):
    response = admin_client.post(
        "/tickets/", {"step": 4, "action": "next", "pipeline_master": "0", "stage_master_1": "3"}
    )
    html = unescape(response.content.decode())
    assert response.status_code == 400 and 'data-step="4"' in html
    assert 'id="pipelines-error"' in html
    assert "Choose a ticket stage for case status “Escalated” (Master)." in html
    assert "“Working”" not in html  # picked: no message for it
    # The admin's pick stays; the status without a stage is marked and still unselected.
    assert _stage_selects(html)["Working"] == ("3", "Waiting on us")
    assert _stage_selects(html)["Escalated"] == ("", "Choose a stage…")
    assert 'name="stage_master_2" aria-invalid="true"' in html
    assert not (row(live).options.get("pipelines") or {})  # nothing saved
    assert not AuditEvent.objects.filter(action="settings.updated").exists()


def test_our_own_pipeline_may_leave_a_status_to_the_engine(admin_client, live):
    """A pipeline the engine made for the process (``managed``) gets a stage added for a
    status it lacks when a case needs it: step 4 says so and doesn't ask for one."""
    master = {"label": "Master", "pipeline": "0", "pipeline_label": "Support Pipeline"}
    object_settings_update(
        integration=live,
        object_name="tickets",
        changes={"pipelines": {"master": {**master, "stages": {"New": "1"}, "managed": True}}},
    )
    html = unescape(admin_client.get("/tickets/?step=4").content.decode())
    assert _stage_selects(html)["Working"] == ("", "Add it as a new stage")
    assert "Choose a stage…" not in html
    step(admin_client, 4, pipeline_master="0")
    entry = row(live).options["pipelines"]["master"]
    assert entry["managed"] is True and entry["stages"] == {"New": "1", "Closed": "4"}


def test_a_viewer_sees_the_wizard_but_cannot_change_anything(viewer_client, live):
    html = viewer_client.get("/tickets/").content.decode()
    assert 'data-step="1"' in html and "disabled" in html
    assert "Finish and turn ticket sync on" not in html and 'value="next"' not in html
    response = viewer_client.post("/tickets/", {"step": 1, "salesforce_delete": "delete"})
    assert response.status_code == 403
    response = viewer_client.post("/tickets/", {"step": 6, "action": "finish"})
    assert response.status_code == 403
    assert ObjectSync.objects.get(integration=live, object="tickets").enabled is False
    assert not AuditEvent.objects.filter(action="settings.updated").exists()


def test_finishing_with_the_pipelines_step_skipped_goes_back_to_it(admin_client, live):
    response = admin_client.post("/tickets/", {"step": 6, "action": "finish"})
    assert response.status_code == 302 and response["Location"].endswith("?step=4")
    row = ObjectSync.objects.get(integration=live, object="tickets")
    assert row.enabled is False and not row.options.get("setup_complete")
    html = admin_client.get(response["Location"]).content.decode()
    assert "Choose a ticket pipeline for each case process (step 4) first." in html


def test_the_settings_switch_cannot_turn_ticket_sync_on_before_the_wizard_is_done(
    admin_client, live
):
    response = admin_client.post(
        "/tickets/", {"action": "settings", "enabled": "on", "salesforce_delete": "nothing"}
    )
    assert response.status_code == 302
    html = admin_client.get(response["Location"]).content.decode()
    assert "Finish the Tickets wizard first." in html and 'data-step="1"' in html
    assert ObjectSync.objects.get(integration=live, object="tickets").enabled is False


def test_a_failed_stage_read_keeps_the_table_and_shows_the_message_escaped(
    admin_client, live, emulators
):
    emulators.hubspot.app.faults.add(
        path="/crm/v3/pipelines/tickets",
        status=400,
        body={"status": "error", "message": "<b>Portal</b> locked", "category": "VALIDATION_ERROR"},
    )
    response = admin_client.get(
        "/tickets/stages/", {"process": "master", "pipeline_master": "0"}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200 and response["HX-Reswap"] == "none"
    html = response.content.decode()
    assert "Couldn&#x27;t reach Salesforce or HubSpot" in html and "&lt;b&gt;Portal" in html
    assert "<b>Portal" not in html and 'hx-swap-oob="innerHTML"' in html


def test_login_is_required(client, live):
    assert client.get("/tickets/").status_code == 302
    assert client.post("/tickets/", {"step": 1}).status_code == 302
    assert client.get("/tickets/stages/").status_code == 302


def test_forms_carry_a_csrf_token(admin_client, live):
    for number in (1, 2, 4, 6):
        html = admin_client.get(f"/tickets/?step={number}").content.decode()
        assert 'name="csrfmiddlewaretoken"' in html, number


def test_the_wizard_speaks_dutch(admin_client, live, sf):
    sf.Case.create({"Subject": "Lek", "Status": "New"})
    html = admin_client.get("/tickets/?step=1", HTTP_ACCEPT_LANGUAGE="nl").content.decode()
    for text in ("Synchronisatieregels", "Het ticket verwijderen", "Voorbeeld", "Afronden"):
        assert text in html, text
    html = admin_client.get("/tickets/?step=5", HTTP_ACCEPT_LANGUAGE="nl").content.decode()
    assert "1 case maakt een ticket." in html
    assert "HubSpot heeft nu 0 tickets." in html


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_picking_a_pipeline_shows_its_stage_table_in_the_browser(page, live_server, live):
    from playwright.sync_api import expect

    from .conftest import htmx_ready, log_in_as_admin, screenshot

    log_in_as_admin(page, live_server, next_path="/tickets/?step=4")
    expect(page.locator("#ticket-wizard")).to_have_attribute("data-step", "4")
    htmx_ready(page)  # a pipeline picked before htmx is loaded asks for no stage table
    stages = page.locator("#stages-master")
    expect(stages).to_contain_text("One stage per case status")
    page.select_option("select[name=pipeline_master]", "0")  # Support Pipeline (htmx)
    expect(page.locator("select[name=stage_master_1]")).to_have_count(1)
    expect(page.locator("select[name=stage_master_2]")).to_have_value("")  # not guessed
    page.select_option("select[name=stage_master_1]", "3")  # Working → Waiting on us
    page.select_option("select[name=stage_master_2]", "3")  # Escalated → Waiting on us
    screenshot(page, "tickets-wizard-pipelines")
    page.click("button[value=next]")
    expect(page.locator("#ticket-wizard")).to_have_attribute("data-step", "5")
    entry = row(live).options["pipelines"]["master"]
    assert entry["pipeline"] == "0" and entry["stages"]["Working"] == "3"


def test_two_case_processes_cannot_share_a_pipeline(admin_client, live, emulators):
    hardware = emulators.salesforce.app.run_action(
        "add_record_type", object="Case", label="Hardware"
    )
    html = admin_client.get("/tickets/?step=4").content.decode()
    assert f'name="pipeline_{hardware}"' in html and "Hardware" in html
    picks = {"stage_master_1": "3", "stage_master_2": "3"}
    response = admin_client.post(
        "/tickets/",
        {
            "step": 4,
            "action": "next",
            "pipeline_master": "0",
            f"pipeline_{hardware}": "0",
            f"stage_{hardware}_1": "3",
            f"stage_{hardware}_2": "3",
            **picks,
        },
        follow=True,
    )
    assert "share a ticket pipeline" in response.content.decode()
    assert "pipelines" not in row(live).options or not row(live).options["pipelines"]
    step(admin_client, 4, pipeline_master="0", **{f"pipeline_{hardware}": "new"}, **picks)
    pipelines = row(live).options["pipelines"]
    assert pipelines["master"]["pipeline"] == "0" and pipelines[hardware]["pipeline"] == ""


def test_the_wizard_reopened_after_setup_doesnt_say_nothing_syncs(admin_client, live):
    object_settings_update(
        integration=live, object_name="tickets", changes={"setup_complete": True}, enabled=True
    )
    html = admin_client.get("/tickets/?step=4").content.decode()
    assert "Ticket sync is set up. Each step you save here changes it at once." in html
    assert "nothing syncs until you finish" not in html


def _set_up(integration, **changes) -> None:
    """Ticket sync set up (the wizard finished) and on, with ``changes`` to its settings."""
    object_settings_update(
        integration=integration,
        object_name="tickets",
        changes={"setup_complete": True, **changes},
        enabled=True,
    )


def test_the_settings_tab_says_which_associations_tickets_get(admin_client, live):
    """The sentence under the heading follows the association settings (step 2), not always
    'account and contact'."""
    import re

    def lead() -> str:
        html = unescape(admin_client.get("/tickets/").content.decode())
        return re.search(r'<p class="lead muted"[^>]*>(.*?)</p>', html, re.S).group(1).strip()

    start = "Salesforce cases sync to HubSpot tickets, "
    for account, contact, sentence in (
        (True, False, "with the case's account as an association."),
        (False, True, "with the case's contact as an association."),
        (False, False, "without associations."),
        (True, True, "with the case's account and contact as associations."),
    ):
        _set_up(live, sync_account_association=account, sync_contact_association=contact)
        assert lead() == start + sentence, (account, contact)
    # Saving the settings form redraws the sentence with what was saved.
    form = {"action": "settings", "enabled": "on", "salesforce_delete": "nothing"}
    html = unescape(
        admin_client.post("/tickets/", {**form, "sync_contact_association": "on"}).content.decode()
    )
    assert start + "with the case's contact as an association." in html


def test_the_settings_tab_lists_case_statuses_in_the_process_order(admin_client, live):
    """The wizard shows the statuses as Salesforce orders them (New, Working, Escalated,
    Closed); the tab listed them alphabetically."""
    import re

    from sync_engine.services import schema_refresh

    schema_refresh(integration=live, object_name="tickets")  # the Case describe, as step 4 reads
    stages = {"Closed": "4", "Escalated": "3", "New": "1", "Working": "2"}
    _set_up(live, pipelines={"master": {"label": "Master", "pipeline": "0",
                                        "pipeline_label": "Support Pipeline", "stages": stages,
                                        "managed": False}})  # fmt: skip
    html = admin_client.get("/tickets/").content.decode()
    row = re.search(r'<tr data-process="master">(.*?)</tr>', html, re.S).group(1)
    assert ">New, Working, Escalated, Closed</td>" in row, row


def test_step_6_reopened_after_setup_does_not_offer_to_turn_sync_on_again(admin_client, live):
    _set_up(live)
    html = admin_client.get("/tickets/?step=6").content.decode()
    assert "Finish and turn ticket sync on" not in html and 'value="finish"' not in html
    assert "Finishing turns ticket sync on" not in html
    assert "Ticket sync is set up and on: there is nothing left to finish." in html
    assert '<a class="button" href="/tickets/">Back to the ticket settings</a>' in html

    # Switched off on the settings; a Finish posted from a page left open doesn't switch it on.
    ObjectSync.objects.filter(integration=live, object="tickets").update(enabled=False)
    html = admin_client.get("/tickets/?step=6").content.decode()
    assert "Ticket sync is set up and off. Switch it on with Sync tickets in the settings." in html
    events = AuditEvent.objects.count()
    response = admin_client.post("/tickets/", {"step": 6, "action": "finish"})
    assert response.status_code == 302 and response["Location"] == "/tickets/"
    assert row(live).enabled is False and AuditEvent.objects.count() == events


def test_steps_reopened_after_setup_save_instead_of_going_on(admin_client, live):
    """After setup each step is changed on its own: Save (and back to the settings) or
    Cancel, not Next/Back through the wizard; the steps with nothing to save link back."""
    _set_up(live)
    for number in (1, 2, 4):
        html = admin_client.get(f"/tickets/?step={number}").content.decode()
        assert 'value="save"' in html and ">Save</button>" in html, number
        assert 'value="next"' not in html and 'value="back"' not in html, number
        assert '<a class="button" href="/tickets/">Cancel</a>' in html, number
    for number in (3, 5):
        html = admin_client.get(f"/tickets/?step={number}").content.decode()
        assert 'value="next"' not in html and 'value="save"' not in html, number
        assert "Back to the ticket settings" in html, number
    response = admin_client.post(
        "/tickets/", {"step": 1, "action": "save", "salesforce_delete": "delete"}, follow=True
    )
    assert response.redirect_chain == [("/tickets/", 302)]
    assert (
        "Saved." in response.content.decode()
        and 'id="ticket-settings"' in response.content.decode()
    )
    assert row(live).options["salesforce_delete"] == "delete"


# --- step 4 refused: the admin's choices stay, the reason in their language -------------------
def _share_support_pipeline(client, emulators, **headers):
    support = emulators.salesforce.app.run_action(
        "add_record_type", object="Case", label="Technical Support"
    )
    choices = {
        "pipeline_master": "0",
        "stage_master_1": "3",  # Working → Waiting on us
        "stage_master_2": "3",  # Escalated → Waiting on us
        f"pipeline_{support}": "0",
        f"stage_{support}_1": "2",  # Working → Waiting on contact
        f"stage_{support}_2": "3",  # Escalated → Waiting on us
    }
    response = client.post("/tickets/", {"step": 4, "action": "next", **choices}, **headers)
    return response, choices


def test_a_refused_pipelines_step_keeps_the_admins_choices(admin_client, live, emulators):
    from .conftest import form_on_page

    response, choices = _share_support_pipeline(admin_client, emulators)
    html = unescape(response.content.decode())
    assert response.status_code == 400
    assert 'data-step="4"' in html and 'id="pipelines-error"' in html
    assert "Technical Support and Master can't share a ticket pipeline" in html
    drawn = form_on_page(html, "ticket-step-form")
    for name, value in choices.items():
        assert drawn.get(name) == value, (name, drawn.get(name))
    assert not (row(live).options.get("pipelines") or {})  # nothing saved
    assert html.count("Technical Support and Master") == 1  # said once, not also as a flash


def test_a_refused_pipelines_step_says_why_in_dutch(admin_client, live, emulators):
    response, _choices = _share_support_pipeline(admin_client, emulators, HTTP_ACCEPT_LANGUAGE="nl")
    html = unescape(response.content.decode())
    assert "Technical Support en Master kunnen geen ticketpijplijn delen" in html
    assert "can't share" not in html


# --- the audit log says which pipeline or stage changed ----------------------------------------
def _audit_changes(client, **headers) -> list[str]:
    """The audit page's before → after lines, as read, newest first."""
    import re

    html = client.get("/audit/", **headers).content.decode()
    lines = re.findall(r'<div class="change">(.*?)</div>', html, re.S)
    return [unescape(re.sub(r"<[^>]+>", "", line)) for line in lines]


def _change_support_pipeline_thrice(client, emulators) -> None:
    """Technical Support: Support Pipeline; then its Working stage; then another pipeline."""
    from .test_live_reads import _create_ticket_pipeline

    desk = _create_ticket_pipeline(emulators, "Escalations desk")
    support = emulators.salesforce.app.run_action(
        "add_record_type", object="Case", label="Technical Support"
    )
    picks = {f"stage_{support}_1": "2", f"stage_{support}_2": "3"}  # Working, Escalated
    step(client, 4, pipeline_master="new", **{f"pipeline_{support}": "0"}, **picks)
    picks[f"stage_{support}_1"] = "3"
    step(client, 4, pipeline_master="new", **{f"pipeline_{support}": "0"}, **picks)
    # Its only stage is Open: every status is put in it (a choice, Closed too).
    hubspot = hubspot_client(emulators, strict=False)
    open_stage = hubspot.crm.pipelines.pipelines_api.get_by_id("tickets", desk).stages[0].id
    opened = {f"stage_{support}_{i}": open_stage for i in range(4)}
    step(client, 4, pipeline_master="new", **{f"pipeline_{support}": desk}, **opened)


def test_the_audit_log_says_which_pipeline_and_stage_changed(admin_client, live, emulators):
    _change_support_pipeline_thrice(admin_client, emulators)
    assert _audit_changes(admin_client) == [
        # Another pipeline for the process: from which to which, with its stages.
        "Pipeline for Technical Support: Support Pipeline → Escalations desk "
        "(New → Open, Working → Open, Escalated → Open, Closed → Open)",
        # A status's stage in the same pipeline: that status, its stage before and after.
        "Stage for Working in Technical Support (Support Pipeline): "
        "Waiting on contact → Waiting on us",
        # The first choice: a pipeline to be made, and an existing one with its stages.
        "Pipeline for Master: — → A new pipeline, created at the first sync",
        "Pipeline for Technical Support: — → Support Pipeline "
        "(New → New, Working → Waiting on contact, Escalated → Waiting on us, Closed → Closed)",
    ]
    audit = admin_client.get("/audit/").content.decode()
    assert "Master, Technical Support" not in audit  # not the processes, listed twice


def test_the_audit_log_says_which_pipeline_and_stage_changed_in_dutch(
    admin_client, live, emulators
):
    _change_support_pipeline_thrice(admin_client, emulators)
    assert _audit_changes(admin_client, HTTP_ACCEPT_LANGUAGE="nl") == [
        "Pijplijn voor Technical Support: Support Pipeline → Escalations desk "
        "(New → Open, Working → Open, Escalated → Open, Closed → Open)",
        "Fase voor Working in Technical Support (Support Pipeline): "
        "Waiting on contact → Waiting on us",
        "Pijplijn voor Master: — → Een nieuwe pijplijn, gemaakt bij de eerste synchronisatie",
        "Pijplijn voor Technical Support: — → Support Pipeline "
        "(New → New, Working → Waiting on contact, Escalated → Waiting on us, Closed → Closed)",
    ]


def test_a_stale_settings_tab_does_not_undo_another_tabs_change(admin_client, live, page_form):
    """Two tabs show the ticket settings; one turns account associations off, the other,
    still showing them on, changes only the delete rule: the first change stays."""
    object_settings_update(
        integration=live, object_name="tickets", changes={"setup_complete": True}, enabled=True
    )
    tab_a = page_form(admin_client.get("/tickets/").content, "ticket-settings")
    tab_b = dict(tab_a)
    assert tab_a["sync_account_association"] == "on"
    admin_client.post(
        "/tickets/", {k: v for k, v in tab_a.items() if k != "sync_account_association"}
    )
    assert row(live).options["sync_account_association"] is False
    admin_client.post("/tickets/", {**tab_b, "salesforce_delete": "delete"})
    options = row(live).options
    assert options["salesforce_delete"] == "delete"
    assert options["sync_account_association"] is False
    assert row(live).enabled is True
    event = AuditEvent.objects.filter(action="settings.updated").latest("pk")
    assert list(event.details["changes"]) == ["salesforce_delete"]


def test_finish_sends_the_admin_back_to_a_status_left_without_a_stage(admin_client, live):
    """A table saved with a status missing (a status added in Salesforce since step 4, say)
    doesn't pass Finish: new tickets of that status would land in the first stage."""
    from sync_engine.models import ObjectSync
    from sync_engine.services import object_settings_update

    object_settings_update(
        integration=live,
        object_name="tickets",
        changes={
            "pipelines": {
                "master": {
                    "label": "Master",
                    "pipeline": "0",
                    "pipeline_label": "Support Pipeline",
                    "stages": {"New": "1"},
                    "managed": False,
                }
            }
        },
    )
    response = admin_client.post("/tickets/", {"step": 6, "action": "finish"})
    assert response["Location"] == "/tickets/?step=4"
    row = ObjectSync.objects.get(integration=live, object="tickets")
    assert not row.enabled and not row.options.get("setup_complete")
    html = admin_client.get("/tickets/?step=4").content.decode()
    assert "Choose a ticket stage for case status “Working”" in html


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_pipeline_picked_while_the_page_loads_still_gets_its_stage_table(page, live_server, live):
    """On a slow connection the admin picks the pipeline before htmx has loaded: once it
    has, the stage table of the picked pipeline is asked for all the same."""
    from playwright.sync_api import expect

    from integration_admin.roles import ADMINS

    from .conftest import person

    person("ada", ADMINS)
    page.goto(f"{live_server.url}/login/?next=/tickets/%3Fstep%3D4")
    page.fill("#id_username", "ada")
    page.fill("#id_password", "ada-pass-123")
    held = []  # htmx (and app.js after it: deferred scripts run in order) held back
    page.route("**/js/htmx.min.js", lambda route: held.append(route))
    page.click("button[type=submit]")
    page.wait_for_url("**/tickets/?step=4", wait_until="commit")
    select = page.locator("select[name=pipeline_master]")
    select.select_option("0")  # Support Pipeline, picked with no htmx to ask for its stages
    assert page.evaluate("typeof window.htmx") == "undefined"
    assert len(held) == 1
    held[0].continue_()
    expect(page.locator("select[name=stage_master_1]")).to_have_count(1)
    expect(page.locator("#stages-master")).not_to_contain_text("One stage per case status")
