"""The Contacts tab: every setting, worded as in the article; saving validates and shows what
changed; the inclusion-list picker reads HubSpot's active lists through the connector; "Sync
a contact" queues one HubSpot contact's sync."""

from __future__ import annotations

import pytest
from django.test import Client

from emulators.testing import active_list, advance_clocks, known_property_branch
from sync_engine.models import ApiCall, AuditEvent, Integration, ObjectSync, ResyncRequest
from sync_engine.object_settings import ContactSettings, settings_as_dict, settings_for
from sync_engine.sync.cycle import sync_cycle_run
from tests.sync_engine.sync.helpers import hs_create

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}

DEFAULT_FORM = {
    "enabled": "on",
    "salesforce_create_update": "create_or_update",
    "hubspot_creates": "lead",
    "salesforce_delete": "nothing",
    "lifecycle_transitions": "update",
    "salesforce_state_country": "disabled",
    "hubspot_state_country": "convert",
    "inclusion_list_id": "",
}


def saved(integration) -> dict:
    row = ObjectSync.objects.get(integration=integration, object="contacts")
    return {"enabled": row.enabled, **settings_as_dict(settings_for("contacts", row.options))}


def test_every_setting_is_on_the_page_in_the_articles_words(admin_client, connected):
    html = admin_client.get("/contacts/").content.decode()
    for text in [
        "Create and update contacts",
        "What happens in HubSpot when a Salesforce lead or contact is created or updated:",
        "Create or update the contact",
        "Do nothing",
        "What happens in Salesforce when a HubSpot contact is created or updated:",
        "Create or update the lead",
        "even if the HubSpot contact isn't in the inclusion list",
        "a duplicate company is created in HubSpot",  # the lead option's warning
        "sync HubSpot contacts to Salesforce as contacts to prevent duplicates",
        "Delete contacts",
        "Delete the contact",
        "contacts and leads in Salesforce are not deleted",
        "Adjust lifecycle stage",
        "Update the contact&#x27;s lifecycle stage in HubSpot",
        "never moves a HubSpot contact's lifecycle stage backwards",
        "associated with the opportunity through contact roles",
        "every other HubSpot contact associated with the same company",
        "Limit what syncs",
        "Only contacts in the inclusion list sync to Salesforce from HubSpot.",
        "+ Create inclusion list",
        "Matching state and country fields",
        "The picklist is disabled in Salesforce.",
        "The picklist is enabled in Salesforce.",
        "The picklist is enabled and customized in Salesforce.",
        "Match default Salesforce state/country values when syncing.",
        "Contact properties",
    ]:
        assert text in html, text
    # Every ContactSettings field has its control, and the defaults are what's checked.
    for name in settings_as_dict(ContactSettings()):
        assert f'name="{name}"' in html or name == "inclusion_list_id", name
    assert 'name="hubspot_creates" value="lead" id="id_hubspot_creates_1" required checked' in html
    assert "https://app.hubspot.com/contacts/4242/objectLists/create" in html
    assert 'hx-get="/objects/contacts/lists/?selected="' in html


def test_save_shows_what_changed(admin_client, admin_user, live, lists):
    admin_client.get("/contacts/")
    form = {
        **DEFAULT_FORM,
        "hubspot_creates": "contact",
        "salesforce_delete": "delete",
        "lifecycle_transitions": "nothing",
        "lifecycle_company_fanout": "on",
        "salesforce_state_country": "customised",
        "hubspot_state_country": "as_is",
        "inclusion_list_id": lists["active"],
    }
    response = admin_client.post("/contacts/", form, **HTMX)
    html = response.content.decode()
    assert html.lstrip().startswith('<form id="contact-settings"')
    assert "Saved. What changed:" in html
    for label, old, new in [
        ("When a HubSpot contact is created or updated", "Create or update the lead",
         "Create or update the contact"),
        ("When a Salesforce contact or lead is deleted", "Do nothing", "Delete the contact"),
        ("When a Salesforce contact&#x27;s opportunity stage is updated",
         "Update the contact&#x27;s lifecycle stage in HubSpot", "Do nothing"),
        ("Also update the other contacts of the same company", "Off", "On"),
        ("Inclusion list", "No list: all contacts sync", "Sync &lt;to&gt; Salesforce"),
    ]:  # fmt: skip
        assert (
            f'<span class="change__name">{label}</span>: <span class="change__before">{old}'
            f'</span> → <span class="change__after">{new}</span>'
        ) in html, label
    assert saved(live) == {
        "enabled": True,
        "salesforce_create_update": "create_or_update",
        "salesforce_delete": "delete",
        "hubspot_creates": "contact",
        "lifecycle_transitions": False,
        "lifecycle_company_fanout": True,
        "inclusion_list_id": lists["active"],
        "salesforce_state_country": "customised",
        "hubspot_state_country": "as_is",
    }
    event = AuditEvent.objects.get(action="settings.updated")
    assert event.actor == admin_user
    assert event.details["changes"]["hubspot_creates"] == {"from": "lead", "to": "contact"}
    # The radios now show the saved values.
    assert 'value="contact" id="id_hubspot_creates_0" required checked' in html


def test_saving_nothing_new_says_so_and_logs_nothing(admin_client, connected):
    html = admin_client.post("/contacts/", DEFAULT_FORM, **HTMX).content.decode()
    assert "Saved. Nothing changed." in html
    assert not AuditEvent.objects.filter(action="settings.updated").exists()


def test_switching_contact_sync_off(admin_client, connected):
    form = {k: v for k, v in DEFAULT_FORM.items() if k != "enabled"}
    html = admin_client.post("/contacts/", form, **HTMX).content.decode()
    assert 'Sync contacts</span>: <span class="change__before">On' in html
    assert saved(connected)["enabled"] is False


def test_list_untouched_when_the_picker_never_loaded(admin_client, live, lists):
    admin_client.post("/contacts/", {**DEFAULT_FORM, "inclusion_list_id": lists["active"]}, **HTMX)
    form = {k: v for k, v in DEFAULT_FORM.items() if k != "inclusion_list_id"}
    admin_client.post("/contacts/", form, **HTMX)
    assert saved(live)["inclusion_list_id"] == lists["active"]


def test_invalid_values_are_refused_inline(admin_client, connected):
    form = {**DEFAULT_FORM, "hubspot_creates": "opportunity", "salesforce_delete": ""}
    response = admin_client.post("/contacts/", form)
    assert response.status_code == 400
    html = response.content.decode()
    assert html.count('class="field-error"') == 2
    assert "Select a valid choice. opportunity is not one of the available choices." in html
    assert "This field is required." in html
    assert saved(connected)["hubspot_creates"] == "lead"  # nothing saved


def test_viewer_sees_but_cannot_save(viewer_client, connected):
    html = viewer_client.get("/contacts/").content.decode()
    assert '<fieldset class="settings__body" disabled>' in html
    assert ">Save</button>" not in html
    response = viewer_client.post("/contacts/", {**DEFAULT_FORM, "salesforce_delete": "delete"})
    assert response.status_code == 403
    assert "Only integration admins can change settings" in response.content.decode()
    assert not ObjectSync.objects.filter(options__salesforce_delete="delete").exists()


# --- the inclusion-list picker, against the HubSpot emulator ---------------------------------
def test_picker_offers_hubspots_active_lists(admin_client, live, lists):
    before = ApiCall.objects.filter(integration=live, operation="lists.search").count()
    response = admin_client.get(f"/objects/contacts/lists/?selected={lists['other']}", **HTMX)
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="list-picker"')
    assert "Sync &lt;to&gt; Salesforce" in html and "Known emails" in html
    assert "Trade show" not in html  # manual lists can't be inclusion lists
    assert f'<option value="{lists["other"]}" selected>' in html
    assert '<option value="">No inclusion list: all contacts sync</option>' in html
    assert "(1 contact)" in html
    # One HubSpot call, in the ledger like every other.
    assert ApiCall.objects.filter(integration=live, operation="lists.search").count() == before + 1
    html = admin_client.get("/objects/contacts/lists/?q=known", **HTMX).content.decode()
    assert "Known emails" in html and "Salesforce" not in html


def test_picker_keeps_a_saved_list_it_cannot_find(admin_client, live, lists):
    html = admin_client.get("/objects/contacts/lists/?selected=999", **HTMX).content.decode()
    assert '<option value="999" selected>List 999</option>' in html


def test_picker_says_when_hubspot_cannot_be_read(admin_client, connected):
    hubspot = connected.hubspot_connection
    hubspot.base_url = "http://127.0.0.1:1"  # nothing listens there
    hubspot.save()
    html = admin_client.get("/objects/contacts/lists/?selected=5", **HTMX).content.decode()
    assert "Couldn't read HubSpot's lists:" in html
    assert '<option value="5" selected>' in html


def test_choosing_a_list_saves_it(admin_client, live, lists):
    admin_client.post("/contacts/", {**DEFAULT_FORM, "inclusion_list_id": lists["active"]})
    assert saved(live)["inclusion_list_id"] == lists["active"]
    html = admin_client.get("/contacts/").content.decode()
    assert f'hx-get="/objects/contacts/lists/?selected={lists["active"]}"' in html


def test_a_list_hubspot_does_not_have_is_refused_inline(admin_client, live, lists):
    # E.g. deleted in HubSpot after the picker showed it: checked with HubSpot when saved.
    response = admin_client.post("/contacts/", {**DEFAULT_FORM, "inclusion_list_id": "999999"})
    assert response.status_code == 400
    html = response.content.decode()
    assert '<div class="alert alert--error" role="alert">HubSpot has no list 999999.' in html
    assert saved(live)["inclusion_list_id"] is None
    assert not AuditEvent.objects.filter(action="settings.updated").exists()
    # Only active contact lists can limit what syncs: not a manual one.
    response = admin_client.post(
        "/contacts/", {**DEFAULT_FORM, "inclusion_list_id": lists["manual"]}
    )
    assert response.status_code == 400
    assert "is a static list" in response.content.decode()
    assert saved(live)["inclusion_list_id"] is None


# --- two tabs: a save sets only what was changed on its page ----------------------------------
def test_a_stale_tab_does_not_undo_another_tabs_change(
    admin_client, admin_user, connected, page_form
):
    # Both tabs draw the page; each form carries, per setting, the value it was drawn with.
    tab_a = page_form(admin_client.get("/contacts/").content, "contact-settings")
    tab_b = dict(tab_a)
    assert tab_a["initial-salesforce_delete"] == "nothing"
    assert tab_a["initial-enabled"] == "True"
    # Tab A deletes contacts with Salesforce's; tab B, still drawn before that, only changes
    # the state/country picklist setting.
    admin_client.post("/contacts/", {**tab_a, "salesforce_delete": "delete"}, **HTMX)
    response = admin_client.post(
        "/contacts/", {**tab_b, "salesforce_state_country": "enabled"}, **HTMX
    )
    html = response.content.decode()
    assert saved(connected)["salesforce_delete"] == "delete"  # A's change stands
    assert saved(connected)["salesforce_state_country"] == "enabled"
    # B's summary and audit entry name only what B changed.
    assert html.count('class="change__name"') == 1
    assert "Salesforce state and country picklists</span>" in html
    assert "When a Salesforce contact or lead is deleted" not in html
    events = AuditEvent.objects.filter(action="settings.updated").order_by("pk")
    assert [list(e.details["changes"]) for e in events] == [
        ["salesforce_delete"],
        ["salesforce_state_country"],
    ]
    assert all(e.actor == admin_user for e in events)
    # The card B gets back shows (and carries as drawn) both saves.
    assert 'value="delete" id="id_salesforce_delete_0" required checked' in html
    after = page_form(html, "contact-settings")
    assert after["initial-salesforce_delete"] == after["salesforce_delete"] == "delete"
    assert after["initial-salesforce_state_country"] == "enabled"


def test_a_stale_tab_does_not_flip_the_switch_back(admin_client, connected, page_form):
    tab_a = page_form(admin_client.get("/contacts/").content, "contact-settings")
    tab_b = dict(tab_a)
    switched_off = {k: v for k, v in tab_a.items() if k != "enabled"}
    admin_client.post("/contacts/", switched_off)  # no JavaScript: the whole page answers
    assert saved(connected)["enabled"] is False
    html = admin_client.post("/contacts/", {**tab_b, "hubspot_creates": "contact"}).content
    assert saved(connected)["enabled"] is False  # B's page still showed it on: untouched
    assert saved(connected)["hubspot_creates"] == "contact"
    assert "Sync contacts</span>" not in html.decode()
    # And the other way round: B turns it back on, a stale A changes something else.
    tab_a = tab_b = page_form(html, "contact-settings")
    assert "enabled" not in tab_a and tab_a["initial-enabled"] == "False"
    admin_client.post("/contacts/", {**tab_b, "enabled": "on"})
    admin_client.post("/contacts/", {**tab_a, "lifecycle_transitions": "nothing"})
    assert saved(connected)["enabled"] is True
    assert saved(connected)["lifecycle_transitions"] is False


def test_a_stale_tab_keeps_the_list_another_tab_chose(admin_client, live, lists, page_form):
    page = admin_client.get("/contacts/").content
    picker = admin_client.get("/objects/contacts/lists/?selected=", **HTMX).content
    # The picker, drawn by htmx into the form after the page loads, posts with it.
    tab_a = {**page_form(page, "contact-settings"), **page_form(picker)}
    tab_b = dict(tab_a)
    assert tab_a["inclusion_list_id"] == tab_a["initial-inclusion_list_id"] == ""
    admin_client.post("/contacts/", {**tab_a, "inclusion_list_id": lists["active"]}, **HTMX)
    html = admin_client.post("/contacts/", {**tab_b, "salesforce_delete": "delete"}, **HTMX)
    assert saved(live)["inclusion_list_id"] == lists["active"]
    assert saved(live)["salesforce_delete"] == "delete"
    assert "Inclusion list</span>" not in html.content.decode()
    # A stale tab that does change the list sets it.
    admin_client.post("/contacts/", {**tab_b, "inclusion_list_id": lists["other"]}, **HTMX)
    assert saved(live)["inclusion_list_id"] == lists["other"]


def test_a_refused_save_keeps_the_values_its_page_was_drawn_with(
    admin_client, connected, page_form
):
    tab_a = page_form(admin_client.get("/contacts/").content, "contact-settings")
    tab_b = dict(tab_a)
    admin_client.post("/contacts/", {**tab_a, "salesforce_delete": "delete"}, **HTMX)
    response = admin_client.post(
        "/contacts/", {**tab_b, "hubspot_creates": "contact", "salesforce_create_update": ""}
    )
    assert response.status_code == 400
    # Drawn again with B's values, and still with what B's page showed first: B fixes the
    # error and saves, and A's change still stands.
    again = page_form(response.content, "contact-settings")
    assert again["initial-salesforce_delete"] == "nothing"
    assert again["hubspot_creates"] == "contact"
    admin_client.post("/contacts/", {**again, "salesforce_create_update": "nothing"}, **HTMX)
    assert saved(connected)["salesforce_delete"] == "delete"
    assert saved(connected)["hubspot_creates"] == "contact"
    assert saved(connected)["salesforce_create_update"] == "nothing"


def test_a_post_without_the_drawn_values_sets_everything_it_posts(admin_client, connected):
    # A script posting the whole form (no ``initial-*``) sets every setting, as before.
    admin_client.post("/contacts/", {**DEFAULT_FORM, "salesforce_delete": "delete"})
    response = admin_client.post("/contacts/", {**DEFAULT_FORM, "hubspot_creates": "contact"})
    assert saved(connected)["salesforce_delete"] == "nothing"
    assert saved(connected)["hubspot_creates"] == "contact"
    assert 'name="initial-salesforce_delete" value="nothing"' in response.content.decode()


# --- the inclusion list by its name ------------------------------------------------------------
def test_the_inclusion_list_is_named_in_what_changed_and_in_the_audit_log(
    admin_client, live, lists
):
    """The list's name, as HubSpot gave it when the change was saved: not "List 2"."""
    change = (
        '<span class="change__name">Inclusion list</span>: <span class="change__before">{}'
        '</span> → <span class="change__after">{}</span>'
    )
    everyone, chosen = "No list: all contacts sync", "Sync &lt;to&gt; Salesforce"
    html = admin_client.post(
        "/contacts/", {**DEFAULT_FORM, "inclusion_list_id": lists["active"]}, **HTMX
    ).content.decode()
    assert change.format(everyone, chosen) in html
    html = admin_client.post("/contacts/", DEFAULT_FORM, **HTMX).content.decode()
    assert change.format(chosen, everyone) in html
    admin_client.post("/contacts/", {**DEFAULT_FORM, "inclusion_list_id": lists["active"]})
    html = admin_client.post(
        "/contacts/", {**DEFAULT_FORM, "inclusion_list_id": lists["other"]}, **HTMX
    ).content.decode()
    assert change.format(chosen, "Known emails") in html
    # The audit log names them too, without asking HubSpot on the way.
    calls = ApiCall.objects.filter(integration=live).count()
    audit = admin_client.get("/audit/").content.decode()
    assert ApiCall.objects.filter(integration=live).count() == calls
    for before, after in [(everyone, chosen), (chosen, everyone), (chosen, "Known emails")]:
        assert change.format(before, after) in audit, (before, after)
    assert f"List {lists['active']}" not in audit and f"List {lists['other']}" not in audit


def test_a_list_chosen_before_names_were_noted_is_named_when_it_is_left(admin_client, live, lists):
    """A list saved with no name noted (e.g. before this was kept) is asked for once, when a
    change leaves it."""
    row = ObjectSync.objects.get_or_create(integration=live, object="contacts")[0]
    row.options = {**row.options, "inclusion_list_id": lists["other"]}
    row.save()
    html = admin_client.post("/contacts/", DEFAULT_FORM, **HTMX).content.decode()
    assert '<span class="change__before">Known emails</span>' in html
    audit = admin_client.get("/audit/").content.decode()
    assert '<span class="change__before">Known emails</span>' in audit


# --- Sync a contact ------------------------------------------------------------------------------
def sync_list(emulators) -> str:
    """An active list of the contacts that have a job title: "Sync to Salesforce"."""
    return active_list(
        emulators, "Sync to Salesforce", filter_branch=known_property_branch("jobtitle")
    )


def salesforce_leads(sf, email: str) -> list[dict]:
    return sf.query(f"SELECT Id, Email FROM Lead WHERE Email = '{email}'")["records"]  # noqa: S608


def test_a_contact_skipped_by_the_inclusion_list_can_be_synced_from_the_tab(
    admin_client,
    admin_user,
    live,
    emulators,
    sf_person,
    hs_person,
    celery_eager,
    django_capture_on_commit_callbacks,
):
    """The walkthrough: a contact made while a list kept it out, the list then removed. No
    change query sees it again; "Sync a contact" does, and the next cycle creates its lead."""
    admin_client.post("/contacts/", {**DEFAULT_FORM, "inclusion_list_id": sync_list(emulators)})
    contact = hs_create(
        hs_person, email="outside@example.com", firstname="Olive", lastname="Out", company="Acme"
    )
    run = sync_cycle_run(integration=live, object_name="contacts")
    assert run.counts["skipped_outside_list"] == 1
    admin_client.post("/contacts/", DEFAULT_FORM)  # no inclusion list: everyone syncs
    advance_clocks(emulators, 600)  # quiet minutes: the contact is past the cursors' overlap
    sync_cycle_run(integration=live, object_name="contacts")
    assert salesforce_leads(sf_person, "outside@example.com") == []

    # Find a record knows nothing of it (no CRM calls there), and points to the action.
    html = admin_client.get("/records/?q=outside@example.com").content.decode()
    assert 'href="/contacts/?contact=outside%40example.com#contact-sync">Sync a contact</a>' in html
    html = admin_client.get("/contacts/?contact=outside%40example.com").content.decode()
    assert 'id="contact-sync"' in html and 'value="outside@example.com"' in html

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = admin_client.post(
            "/contacts/sync/", {"contact": "Outside@Example.com "}, follow=True
        )
    assert "Contact Olive Out &lt;outside@example.com&gt; syncs now" in response.content.decode()
    assert len(callbacks) == 1  # the cycle it starts, here run at once
    event = AuditEvent.objects.get(action="record.resync_requested")
    assert event.actor == admin_user
    assert event.details == {"object": "contacts", "record": f"hubspot:{contact}"}
    [lead] = salesforce_leads(sf_person, "outside@example.com")
    assert not ResyncRequest.objects.exists()
    html = admin_client.get(f"/records/?q={contact}", follow=True).content.decode()
    assert lead["Id"] in html


def test_sync_a_contact_says_why_it_queues_nothing(admin_client, live, emulators, hs_person):
    htmx = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "contact-sync"}

    def answer(typed: str) -> str:
        html = admin_client.post("/contacts/sync/", {"contact": typed}, **htmx).content.decode()
        assert html.lstrip().startswith('<section class="card" id="contact-sync"')
        return html

    for typed in ("abc", "a b@c", f"https://app.hubspot.com/contacts/1/record/0-2/{'5'}"):
        html = answer(typed)
        assert "Enter the HubSpot contact&#x27;s email address or record id" in html, typed
        assert 'aria-invalid="true"' in html
    html = answer("99999999")
    assert 'role="alert">HubSpot has no contact 99999999.</div>' in html
    assert 'value="99999999"' in html  # kept, to fix the typo
    assert "HubSpot has no contact nobody@example.com." in answer("nobody@example.com")
    nameless = hs_create(hs_person, firstname="No", lastname="Email")
    assert "Contact No Email has no email address" in answer(nameless)

    # An inclusion list keeps out the contacts not in it: said, with the list's name.
    admin_client.post("/contacts/", {**DEFAULT_FORM, "inclusion_list_id": sync_list(emulators)})
    outside = hs_create(hs_person, email="out@example.com", lastname="Out")
    inside = hs_create(hs_person, email="in@example.com", lastname="In", jobtitle="Buyer")
    html = answer(outside)
    assert (
        "Contact Out &lt;out@example.com&gt; isn&#x27;t in the inclusion list "
        "(Sync to Salesforce), so it doesn&#x27;t sync to Salesforce." in html
    )
    assert not ResyncRequest.objects.exists()
    # Its HubSpot address, pasted, names it too.
    html = answer(f" https://app.hubspot.com/contacts/62515/record/0-1/{inside}?tab=x ")
    assert 'role="status">Contact In &lt;in@example.com&gt; syncs now' in html
    assert 'value=""' in html
    request = ResyncRequest.objects.get()
    assert (request.object, request.record_key) == ("contacts", f"hubspot:{inside}")

    # With contact sync off the card is gone, and a post says why.
    admin_client.post("/contacts/", {k: v for k, v in DEFAULT_FORM.items() if k != "enabled"})
    assert 'id="contact-sync"' not in admin_client.get("/contacts/").content.decode()
    assert "Turn contact sync on first." in answer(inside)


def test_sync_a_contact_says_it_waits_while_syncing_cannot_run(admin_client, live, hs_person):
    """Queued while sync is off (or on hold), the card says it waits and why, not that it
    syncs now."""
    contact = hs_create(hs_person, email="later@example.com", lastname="Later")
    htmx = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "contact-sync"}
    live.sync_enabled = False
    live.save()
    html = admin_client.post("/contacts/sync/", {"contact": contact}, **htmx).content.decode()
    assert 'role="status">Queued. Sync is off: it runs once sync is turned back on.' in html
    assert "syncs now" not in html
    assert ResyncRequest.objects.get().record_key == f"hubspot:{contact}"

    live.sync_enabled, live.state = True, Integration.State.PAUSED
    live.save()
    response = admin_client.post("/contacts/sync/", {"contact": contact}, follow=True)
    html = response.content.decode()
    assert "Queued. Syncing is on hold (see the status bar): it runs once syncing resumes." in html
    assert "syncs now" not in html


def test_only_an_admin_can_sync_a_contact(viewer_client, admin_user, live):
    assert 'id="contact-sync"' not in viewer_client.get("/contacts/").content.decode()
    assert viewer_client.post("/contacts/sync/", {"contact": "a@b.example"}).status_code == 403
    # And never without the form's CSRF token.
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(admin_user)
    assert strict.post("/contacts/sync/", {"contact": "a@b.example"}).status_code == 403
    assert not ResyncRequest.objects.exists()
    assert not AuditEvent.objects.filter(action="record.resync_requested").exists()
