"""Fixtures: people in both roles, a connected integration (offline, or on the emulators),
sync errors made through the engine's services, and a browser on Debian's Chromium."""

from __future__ import annotations

import os
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.test import Client
from django.utils import translation

from emulators.testing import active_list
from integration_admin.roles import ADMINS, VIEWERS
from sync_engine.models import Integration, ObjectSync, SyncError
from sync_engine.services import sync_error_record
from tests.sync_engine.factories import (
    HubSpotConnectionFactory,
    IntegrationFactory,
    SalesforceConnectionFactory,
)

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-results"


@pytest.fixture(autouse=True)
def fast_passwords(settings):
    """PBKDF2's 1,000,000 rounds cost a quarter second per user; tests don't need them."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def user(db):
    """Someone with a login and no role: reads like a viewer."""
    return get_user_model().objects.create_user("viewer", password="viewer-pass-123")


@pytest.fixture
def logged_in(client, user):
    client.force_login(user)
    return client


def person(username: str, group: str):
    """A user in ``group``; their password is ``<username>-pass-123``."""
    user = get_user_model().objects.create_user(username, password=f"{username}-pass-123")
    user.groups.add(Group.objects.get_or_create(name=group)[0])
    return user


def log_in(page, live_server, username: str, *, next_path: str = "") -> None:
    """Log ``username`` (made by ``person``) in through the browser's login form, then on to
    ``next_path``."""
    from urllib.parse import quote

    from playwright.sync_api import expect

    query = f"?next={quote(next_path)}" if next_path else ""
    page.goto(f"{live_server.url}/login/{query}")
    page.fill("#id_username", username)
    page.fill("#id_password", f"{username}-pass-123")
    page.click("button[type=submit]")
    expect(page.locator(".topbar__user")).to_contain_text(username)


def log_in_as_admin(page, live_server, *, next_path: str = "") -> None:
    """Make "ada", an admin, and log her in through the browser (see ``log_in``)."""
    person("ada", ADMINS)
    log_in(page, live_server, "ada", next_path=next_path)


@pytest.fixture
def admin_user(db):
    return person("ada", ADMINS)


@pytest.fixture
def viewer_user(db):
    return person("vic", VIEWERS)


@pytest.fixture
def admin_client(admin_user):
    client = Client()
    client.force_login(admin_user)
    return client


@pytest.fixture
def viewer_client(viewer_user):
    client = Client()
    client.force_login(viewer_user)
    return client


class _FormReader(HTMLParser):
    """What a browser would post from the form ``form_id`` as the page draws it: hidden
    inputs, checked boxes and radios, typed values, each named select's selected option,
    those of its controls placed outside it (``form="…"``) too."""

    def __init__(self, form_id: str | None) -> None:
        super().__init__()
        self.form_id, self.inside, self.select = form_id, form_id is None, None
        self.data: dict[str, str] = {}

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.inside = self.form_id is None or attrs.get("id") == self.form_id
        if "disabled" in attrs:
            return
        owner = attrs.get("form")  # a control placed elsewhere, posted with form ``owner``
        if (owner is None and not self.inside) or (
            owner is not None and (self.form_id is None or owner != self.form_id)
        ):
            return
        name, kind = attrs.get("name"), attrs.get("type", "text")
        if tag == "input" and name:
            if kind in ("checkbox", "radio"):
                if "checked" in attrs:
                    self.data[name] = attrs.get("value") or "on"
            elif kind not in ("submit", "button"):
                self.data[name] = attrs.get("value") or ""
        elif tag == "select" and name:
            self.select = name
        elif (
            tag == "option"
            and self.select
            and ("selected" in attrs or self.select not in self.data)
        ):
            self.data[self.select] = attrs.get("value") or ""

    def handle_endtag(self, tag):
        if tag == "form" and self.form_id is not None:
            self.inside = False
        elif tag == "select":
            self.select = None


def mapping_row(html: str, mapping) -> str:
    """The mapping table's row of ``mapping`` on a page."""
    row = html[html.find(f'<tr id="mapping-{mapping.pk}"') :]
    return row[: row.find("</tr>")]


def form_on_page(html: bytes | str, form_id: str | None = None) -> dict[str, str]:
    """The form ``form_id`` (or every control on the page: an htmx fragment) as a browser
    would post it, untouched: the hidden ``initial-*`` values included."""
    reader = _FormReader(form_id)
    reader.feed(html.decode() if isinstance(html, bytes) else html)
    return reader.data


def assert_only_change(response, label: str, setting: str) -> None:
    """A settings save's answer names one change, ``label``, and its audit entry only
    ``setting``: what a stale tab saved is what it changed, nothing it merely showed."""
    from sync_engine.models import AuditEvent

    html = response.content.decode()
    assert html.count('class="change__name"') == 1
    assert f"{label}</span>" in html
    event = AuditEvent.objects.filter(action="settings.updated").latest("pk")
    assert list(event.details["changes"]) == [setting]


@pytest.fixture
def back_to_english():
    """A Dutch page leaves Dutch active in this thread: later tests read English."""
    yield
    translation.activate("en")


@pytest.fixture
def page_form():
    """``form_on_page``: what a page's form posts, as drawn."""
    return form_on_page


@pytest.fixture
def connected(db) -> Integration:
    """An integration with stored connections to hosts nobody listens on (pages that don't
    call out)."""
    integration = IntegrationFactory(
        name="Acme ⇄ Acme", salesforce_api_allocation=5000, salesforce_api_limit=15000
    )
    SalesforceConnectionFactory(
        integration=integration,
        instance_url="https://acme.my.salesforce.com",
        user_name="Integration User",
        username="integration@acme.example",
        access_token="sf-secret-never-shown",
    )
    HubSpotConnectionFactory(
        integration=integration,
        base_url="https://api.hubapi.com",
        portal_id="4242",
        access_token="hs-secret-never-shown",
    )
    return Integration.objects.select_related("salesforce_connection", "hubspot_connection").get(
        pk=integration.pk
    )


def make_custom_object(integration) -> ObjectSync:
    """``custom:1``, Salesforce ``Project__c`` ⇄ HubSpot "Projects", as the wizard saves it."""
    return ObjectSync.objects.create(
        integration=integration, object="custom:1", enabled=True,
        options={"salesforce_object": "Project__c", "hubspot_object": "2-1",
                 "salesforce_label": "Project", "hubspot_label": "Projects"},
    )  # fmt: skip


# --- what a refused change must leave as it was ----------------------------------------------
def everything_stored() -> tuple:
    """What a change on the object tabs, the custom objects and imports would write (to
    check that a refused or read-only request wrote nothing)."""
    from sync_engine.models import AuditEvent, FieldMapping, ImportJob, ResyncRequest

    return (
        list(AuditEvent.objects.values_list("pk", flat=True)),
        list(ObjectSync.objects.order_by("object").values_list("object", "enabled", "options")),
        list(FieldMapping.objects.order_by("pk").values_list("pk", "rule")),
        list(ImportJob.objects.order_by("pk").values_list("pk", "status")),
        list(ResyncRequest.objects.values_list("pk", flat=True)),
    )


@pytest.fixture
def every_pair(connected):
    """Every pair's row, companies and deals on (so their mappings could be edited), the
    Tickets wizard finished, a custom object, a stopped import and a company link. Nothing
    listens at the stored addresses: a read of Salesforce or HubSpot fails at once."""
    from sync_engine.models import FieldMapping, ImportJob
    from sync_engine.services import object_sync_get_or_create

    for connection, url in (
        (connected.salesforce_connection, "instance_url"),
        (connected.hubspot_connection, "base_url"),
    ):
        setattr(connection, url, "http://127.0.0.1:1")
        connection.save()
    for name in ("contacts", "companies", "deals", "tickets", "activities"):
        object_sync_get_or_create(integration=connected, object_name=name)
    ObjectSync.objects.filter(object__in=["companies", "deals"]).update(enabled=True)
    tickets = ObjectSync.objects.get(object="tickets")
    tickets.options = {**tickets.options, "setup_complete": True, "pipelines": {"master": {}}}
    tickets.save()
    make_custom_object(connected)
    job = ImportJob.objects.create(
        integration=connected, object="accounts", status=ImportJob.Status.CANCELLED
    )
    make_link(connected, "1", "001000000000001AAA", "Account", object="companies")
    company_mapping = FieldMapping.objects.filter(object="companies").first()
    return {"job": job.pk, "mapping": company_mapping.pk}


def deal_pipelines_stored(integration, stages: dict[str, dict[str, str]], **extra) -> None:
    """The synced deal pipelines as the deal sync stores them: one per Salesforce record type
    id in ``stages`` (its stages, each to its HubSpot stage id), labelled "Salesforce – <id>";
    ``extra`` are the state's other keys (``record_type_names``, ``refused``)."""
    from sync_engine.models import SchemaCache, System

    pipelines = [
        {"key": key, "id": str(1000001 + i), "label": f"Salesforce – {key}", "stages": ids}
        for i, (key, ids) in enumerate(stages.items())
    ]
    SchemaCache.objects.create(
        integration=integration,
        system=System.HUBSPOT,
        object="deals:pipelines",
        data={"pipelines": pipelines, **extra},
    )


def deal_pipeline_synced(integration) -> None:
    """Deal sync on, with one synced pipeline ("Enterprise renewals") in the stored schema."""
    from sync_engine.services import object_sync_get_or_create

    object_sync_get_or_create(integration=integration, object_name="deals")
    deal_pipelines_stored(
        integration,
        {"012000000000001AAA": {"Prospecting": "10000011"}},
        record_type_names={"012000000000001AAA": "Enterprise renewals"},
    )


def make_link(integration, hubspot_id: str, salesforce_id: str, salesforce_type: str, **extra):
    """A synced pair of records (contacts unless ``object`` says otherwise)."""
    from sync_engine.models import RecordLink

    values = {"object": "contacts", **extra}
    return RecordLink.objects.create(
        integration=integration,
        hubspot_id=hubspot_id,
        salesforce_id=salesforce_id,
        salesforce_type=salesforce_type,
        **values,
    )


def make_error(integration, n: int = 1, *, error_type: str = "property_value", **extra):
    """Current sync errors, recorded the way the engine records them."""
    made = []
    for i in range(n):
        values = {
            "integration": integration,
            "object_name": "contacts",
            "error_type": error_type,
            "direction": SyncError.Direction.TO_SALESFORCE,
            "hubspot_id": str(1000 + i),
            "salesforce_type": "Lead",
            "record_label": f"Person {i}",
            "code": "INVALID_EMAIL_ADDRESS",
            "message": f"Email: invalid email address: bad{i}@",
            "fields": ["Email"],
        }
        values.update(extra)
        made.append(sync_error_record(**values))
    return made


@pytest.fixture
def live(db, emulators):
    """An integration connected to the running emulators (the HubSpot demo account has a
    portal id, lists and properties; Salesforce has its describe)."""
    from tests.sync_engine.conftest import HS_TOKEN, SF_TOKEN

    integration = IntegrationFactory(salesforce_api_allocation=5000, salesforce_api_limit=15000)
    SalesforceConnectionFactory(
        integration=integration,
        instance_url=emulators.salesforce.url,
        ca_bundle=emulators.ca_path.read_text(),
        access_token=SF_TOKEN,
    )
    HubSpotConnectionFactory(
        integration=integration,
        base_url=emulators.hubspot.url,
        access_token=HS_TOKEN,
        portal_id="62515",
    )
    return Integration.objects.select_related("salesforce_connection", "hubspot_connection").get(
        pk=integration.pk
    )


@pytest.fixture
def celery_eager():
    """Tasks run in the caller (here: the test or the live server's thread), not on a broker."""
    from integration_admin.celery import app

    saved = app.conf.task_always_eager, app.conf.task_eager_propagates
    app.conf.task_always_eager = app.conf.task_eager_propagates = True
    yield app
    app.conf.task_always_eager, app.conf.task_eager_propagates = saved


# --- browser ---------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {
        **browser_type_launch_args,
        "executable_path": os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"),
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
        ],
    }


@pytest.fixture(scope="session", autouse=True)
def patient_expectations():
    """Playwright's expectations wait 15 s instead of 5. A page may wait on a read from a stored
    host nobody listens on (``connected``), and a resolver that times out rather than refusing
    takes seconds to fail it. Passing checks end as soon as they hold, so this costs nothing."""
    from playwright.sync_api import expect

    expect.set_options(timeout=15_000)
    yield
    expect.set_options(timeout=5_000)


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    return {**browser_context_args, "locale": "en-US", "viewport": {"width": 1400, "height": 1000}}


@pytest.fixture
def page(page):
    """Playwright's page, left only once no htmx request is in flight. A card loaded on sight
    may still wait on a stored host nobody listens on (``connected``) when the test's checks
    hold: the live server would then answer it while the database is flushed under it, and
    the flush fails, leaving this test's rows to the next."""
    from playwright.sync_api import Error
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    yield page
    try:
        page.wait_for_function("() => !document.querySelector('.htmx-request')", timeout=30_000)
        page.goto("about:blank")  # no poll starts a new one meanwhile
    except PlaywrightTimeout:
        raise  # still in flight after 30 s: said here, not as the next test's failure
    except Error:
        pass  # the page is closed or navigating away: nothing of it is in flight


def screenshot(page, name: str) -> Path:
    """Save a full-page screenshot as a test artifact under test-results/."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def htmx_settled(page) -> None:
    """Wait until htmx has swapped and settled: it wires up the new content's triggers only
    when it settles, so typing into a just-swapped search box before then is never sent."""
    from playwright.sync_api import expect

    expect(page.locator(".htmx-request, .htmx-settling, .htmx-added")).to_have_count(0)


def htmx_ready(page) -> None:
    """Wait until a page reached through a click (a form's submit, a link) has loaded and htmx
    has settled: htmx, a deferred script, wires the page's hx-* attributes only once the page
    is parsed, so a select changed on a page still loading asks the server for nothing."""
    page.wait_for_load_state()
    htmx_settled(page)


@pytest.fixture
def lists(emulators):
    """Two active (DYNAMIC) HubSpot contact lists and a manual one, by role: their ids."""
    hubspot = emulators.hubspot.app
    contact = hubspot.run_action("create", object_type="contacts", properties={"email": "a@x.io"})
    manual = hubspot.run_action("create_list", list_name="Trade show", record_ids=[contact["id"]])
    return {
        "active": active_list(emulators, "Sync <to> Salesforce"),
        "other": active_list(emulators, "Known emails"),
        "manual": str(manual["listId"]),
    }
