"""Pages that show what Salesforce or HubSpot holds read it live, and every Salesforce call
spends "Allocated to HubSpot": a read is kept a few minutes
(``sync_engine.selectors.cached_remote_read``), so anyone reloading a page (a viewer too)
spends each read once, and a change made through the dashboard reads afresh. The mapping
check of someone who isn't an admin never reads the schemas."""

from __future__ import annotations

import time

import pytest

from emulators.testing import hubspot_client, salesforce_client
from sync_engine.errors import ConnectorError
from sync_engine.models import ApiCall, Integration, SchemaCache
from sync_engine.selectors import cached_remote_read, remote_read_forget

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}


def calls(integration, system: str | None = None, operation: str | None = None) -> int:
    found = ApiCall.objects.filter(integration=integration)
    if system:
        found = found.filter(system=system)
    if operation:
        found = found.filter(operation=operation)
    return found.count()


# --- the helper ------------------------------------------------------------------------------
class Reads:
    """A stand-in for a remote read: counts how often it is asked."""

    def __init__(self, *answers):
        self.answers = list(answers)
        self.asked = 0

    def __call__(self):
        self.asked += 1
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        if isinstance(answer, Exception):
            raise answer
        return answer


def test_a_read_is_kept_per_integration_and_key(live, connected):
    read = Reads(["a"])
    assert cached_remote_read(live, "campaigns", read) == ["a"]
    assert cached_remote_read(live, "campaigns", read) == ["a"]
    assert read.asked == 1
    cached_remote_read(live, "lists:q", read)  # other arguments: another read
    cached_remote_read(connected, "campaigns", read)  # another integration
    assert read.asked == 3
    remote_read_forget(live, "campaigns")
    cached_remote_read(live, "campaigns", read)
    cached_remote_read(live, "lists:q", read)  # still kept
    assert read.asked == 4


def test_a_reconnect_reads_afresh(live):
    read = Reads(["org one"], ["org two"])
    cached_remote_read(live, "campaigns", read)
    assert cached_remote_read(live, "campaigns", read) == ["org one"]
    live.salesforce_connection.connected_at = live.salesforce_connection.connected_at.replace(
        year=live.salesforce_connection.connected_at.year + 1
    )
    live.salesforce_connection.save()
    again = Integration.objects.select_related("salesforce_connection", "hubspot_connection").get(
        pk=live.pk
    )
    assert cached_remote_read(again, "campaigns", read) == ["org two"]


def test_a_failed_read_is_not_kept(live):
    read = Reads(ConnectorError("down", system="salesforce"), ["back"])
    with pytest.raises(ConnectorError):
        cached_remote_read(live, "campaigns", read)
    assert cached_remote_read(live, "campaigns", read) == ["back"]
    assert cached_remote_read(live, "campaigns", read) == ["back"]
    assert read.asked == 2


def test_a_read_is_kept_for_its_ttl_only(live):
    read = Reads(["a"])
    cached_remote_read(live, "campaigns", read, ttl=1)
    cached_remote_read(live, "campaigns", read, ttl=1)
    assert read.asked == 1
    time.sleep(1.1)
    cached_remote_read(live, "campaigns", read, ttl=1)
    assert read.asked == 2


# --- Import: the active campaigns --------------------------------------------------------------
def test_a_viewer_reloading_the_campaigns_spends_one_salesforce_call(
    viewer_client, live, sf_person
):
    sf_person.Campaign.create({"Name": "Partner Summit", "IsActive": True})
    Integration.objects.filter(pk=live.pk).update(salesforce_api_allocation=5)
    for _ in range(8):  # more loads than the allocation has calls
        html = viewer_client.get("/import/?campaigns=1", **HTMX).content.decode()
        assert "Partner Summit" in html and "campaigns-failure" not in html
    assert calls(live, "salesforce") == 1


def test_a_failed_campaign_read_is_asked_again_then_kept(viewer_client, live, emulators, sf_person):
    sf_person.Campaign.create({"Name": "Partner Summit", "IsActive": True})
    rule = emulators.salesforce.app.faults.add(path=r"/query", error_code="SERVER_UNAVAILABLE")
    html = viewer_client.get("/import/?campaigns=1", **HTMX).content.decode()
    emulators.salesforce.app.faults.remove(rule.id)
    assert 'data-field="campaigns-failure"' in html
    before = calls(live, "salesforce")
    for _ in range(3):
        html = viewer_client.get("/import/?campaigns=1", **HTMX).content.decode()
        assert "Partner Summit" in html and "campaigns-failure" not in html
    assert calls(live, "salesforce") == before + 1


# --- Tickets: the wizard's pipelines step, its preview and the stage table --------------------
TICKET_PAGES = (
    ("/tickets/?step=4", {}),
    ("/tickets/?step=5", {}),
    ("/tickets/stages/?process=master&pipeline_master=0", HTMX),
)


def test_a_viewer_reloading_the_ticket_wizard_spends_each_read_once(viewer_client, live, emulators):
    salesforce_client(emulators, token="support-agent-token").Case.create(
        {"Subject": "Leak", "Status": "New"}
    )
    for url, headers in TICKET_PAGES:
        assert viewer_client.get(url, **headers).status_code == 200
    # Read once: the case processes, the case describe (nothing cached yet) and the preview's
    # count (Salesforce); the pipelines, the ticket properties and the ticket total (HubSpot).
    first = {system: calls(live, system) for system in ("salesforce", "hubspot")}
    assert first == {"salesforce": 3, "hubspot": 3}, first
    for _ in range(4):
        for url, headers in TICKET_PAGES:
            html = viewer_client.get(url, **headers).content.decode()
            assert "Couldn" not in html
    assert {system: calls(live, system) for system in first} == first
    assert "Support Pipeline" in viewer_client.get("/tickets/?step=4").content.decode()


def _create_ticket_pipeline(emulators, label: str) -> str:
    hubspot = hubspot_client(emulators, strict=False)
    created = hubspot.crm.pipelines.pipelines_api.create(
        "tickets",
        {
            "label": label,
            "displayOrder": 5,
            "stages": [{"label": "Open", "displayOrder": 0, "metadata": {"ticketState": "OPEN"}}],
        },
    )
    return str(created.id)


def test_saving_the_pipelines_reads_hubspots_afresh(admin_client, viewer_client, live, emulators):
    html = viewer_client.get("/tickets/?step=4").content.decode()
    assert "Support Pipeline" in html
    _create_ticket_pipeline(emulators, "Escalations desk")  # made in HubSpot meanwhile
    hubspot_before = calls(live, "hubspot")
    assert "Escalations desk" not in viewer_client.get("/tickets/?step=4").content.decode()
    assert calls(live, "hubspot") == hubspot_before  # kept
    response = admin_client.post(
        "/tickets/", {"step": 4, "action": "next", "pipeline_master": "new"}
    )
    assert response.status_code == 302
    assert "Escalations desk" in viewer_client.get("/tickets/?step=4").content.decode()
    assert calls(live, "hubspot") == hubspot_before + 1  # the pipelines, read again once


def test_a_pipeline_the_engine_stores_is_read_afresh(admin_client, live, emulators):
    from sync_engine.sync.tickets import pipelines_store

    admin_client.post("/tickets/", {"step": 4, "action": "next", "pipeline_master": "new"})
    assert "Salesforce cases: Master" not in admin_client.get("/tickets/?step=4").content.decode()
    # The first cycle creates the pipeline in HubSpot and stores it (in the worker).
    made = _create_ticket_pipeline(emulators, "Salesforce cases: Master")
    html = admin_client.get("/tickets/?step=4").content.decode()
    assert "Salesforce cases: Master" not in html  # kept: not stored yet
    pipelines_store(
        live,
        {"master": {"label": "Master", "pipeline": made, "pipeline_label": "", "stages": {},
                    "managed": True}},
    )  # fmt: skip
    html = admin_client.get("/tickets/?step=4").content.decode()
    assert f'<option value="{made}" selected>' in html


def _add_case_status(integration, status: str) -> None:
    """Change the kept Case describe without Salesforce (as a worker's refresh would)."""
    row = SchemaCache.objects.get(integration=integration, system="salesforce", object="Case")
    for field in row.data:
        if field["name"] == "Status":
            field["picklistValues"].append(status)
    row.save()


def test_the_case_statuses_are_the_stored_describes_wherever_it_was_refreshed(
    admin_client, viewer_client, live
):
    """The statuses are read from the stored describe, not kept apart: a refresh by a worker
    (another process, whose cache this one can't see) shows at once, as the admin's does."""
    admin_client.post("/objects/tickets/mappings/refresh/", **HTMX)
    assert "Working" in viewer_client.get("/tickets/?step=4").content.decode()
    _add_case_status(live, "Parked")
    assert "Parked" in viewer_client.get("/tickets/?step=4").content.decode()
    admin_client.post("/objects/tickets/mappings/refresh/", **HTMX)  # the admin's refresh
    _add_case_status(live, "On hold")
    assert "On hold" in viewer_client.get("/tickets/?step=4").content.decode()


# --- Contacts: the inclusion-list picker ------------------------------------------------------
def test_a_viewer_reloading_the_list_picker_spends_one_hubspot_call(
    viewer_client, admin_client, live, lists
):
    for _ in range(5):
        html = viewer_client.get("/objects/contacts/lists/", **HTMX).content.decode()
        assert "Known emails" in html and "Sync &lt;to&gt; Salesforce" in html
    assert calls(live, "hubspot", "lists.search") == 1
    # A viewer can't pick a list: their search filters the kept read, asking HubSpot nothing.
    for query in ("known", "sync", "k"):
        html = viewer_client.get(f"/objects/contacts/lists/?q={query}", **HTMX).content.decode()
    html = viewer_client.get("/objects/contacts/lists/?q=known", **HTMX).content.decode()
    assert "Known emails" in html and "Sync &lt;to&gt; Salesforce" not in html
    assert calls(live, "hubspot", "lists.search") == 1
    # An admin's search asks HubSpot, once per search.
    for _ in range(3):
        html = admin_client.get("/objects/contacts/lists/?q=known", **HTMX).content.decode()
        assert "Known emails" in html and "Sync &lt;to&gt; Salesforce" not in html
    assert calls(live, "hubspot", "lists.search") == 2


# --- the mapping editor's inline check ---------------------------------------------------------
CHECK = {"hubspot_property": "firstname", "salesforce_field": "FirstName", "rule": "two_way"}


def test_a_viewers_mapping_check_reads_no_schema(viewer_client, admin_client, live):
    assert not SchemaCache.objects.filter(integration=live).exists()
    response = viewer_client.post("/objects/contacts/mappings/check/", CHECK, **HTMX)
    html = response.content.decode()
    assert response.status_code == 200
    assert "Properties and fields not read yet" in html and 'data-check="blocked"' in html
    assert calls(live) == 0
    assert not SchemaCache.objects.filter(integration=live).exists()
    # An admin's check reads them, as adding a mapping does; then anyone's check uses them.
    html = admin_client.post("/objects/contacts/mappings/check/", CHECK, **HTMX).content.decode()
    assert "not read yet" not in html
    spent = calls(live)
    assert spent == 3  # the contact properties, and the Lead and Contact describes
    for _ in range(3):
        html = viewer_client.post("/objects/contacts/mappings/check/", CHECK, **HTMX)
        assert "not read yet" not in html.content.decode()
    assert calls(live) == spent
