"""The engine's own messages (a sync run's, an import's, why an import can't start or resume)
read in the reader's language wherever the dashboard shows them: Sync health's run rows, the
import progress card (the page and its polls) and the flash of a refused start or resume. Rows
stored by older versions hold the same English words and read translated too; a remote system's
words inside a message, and a message that isn't the engine's, show as stored (escaped).

Each check compares the page with gettext of the message's template, its parts filled in, and
with its English (``test_i18n`` sees that every one has its Dutch).
"""

from __future__ import annotations

import re
import string

import pytest
from django.utils import translation
from django.utils.html import escape
from django.utils.text import Truncator
from django.utils.translation import gettext

from integration_admin.labels import ENGINE_MESSAGE_LABELS, engine_message
from sync_engine import imports as engine_imports
from sync_engine.errors import NotConnected
from sync_engine.imports import import_run
from sync_engine.models import ImportJob, Integration, ObjectSync, SyncRun
from sync_engine.services import integration_set_state
from sync_engine.sync import changes, cycle

from .conftest import make_custom_object

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("back_to_english")]


def said(language: str, msgid: str, **parts) -> str:
    """``msgid`` in ``language``, its parts filled in (the parts already in that language)."""
    with translation.override(language):
        return gettext(msgid) % parts if parts else gettext(msgid)


def both(msgid: str, **parts) -> tuple[str, str]:
    """(Dutch, English) of ``msgid``; each part is a string, or a ``both`` pair."""
    nl = {k: v[0] if isinstance(v, tuple) else v for k, v in parts.items()}
    en = {k: v[1] if isinstance(v, tuple) else v for k, v in parts.items()}
    return said("nl", msgid, **nl), said("en", msgid, **en)


def word(msgid: str) -> tuple[str, str]:
    return said("nl", msgid), said("en", msgid)


# --- the table -------------------------------------------------------------------------------
# Every message template the engine stores text with (a state's or a Bulk job's end spelled out).
CYCLE_MESSAGES = """SYNC_OFF OBJECT_SYNC_OFF INTERRUPTED STOPPED_UNEXPECTEDLY STOPPED_BY
    TEMPORARY_FAILURE CREDENTIALS_REJECTED ACCESS_DENIED"""
IMPORT_MESSAGES = """PREPARING WAITING_FOR_CYCLE WAITING_FOR_IMPORT CYCLE_TOO_LONG NOTHING_TO_IMPORT
    PAIR_UNSUPPORTED PAIR_SWITCHED_OFF DEALS_WITHOUT_COMPANIES NO_REASON_GIVEN STOPPED_BY_BUDGET
    STOPPED_BY_ORG_LIMIT STOPPED_BY_HUBSPOT_LIMIT STOPPED_BY_CREDENTIALS STOPPED_BY_ERROR
    STOPPED_BY_DEFECT CAMPAIGN_MEMBERS NOT_CONNECTED UNKNOWN_OBJECT ALREADY_RUNNING ANOTHER_RUNNING
    ONLY_STOPPED_RESUME CAMPAIGN_UNREADABLE NO_SUCH_CAMPAIGN CAMPAIGN_INACTIVE"""
ENGINE_TEMPLATES = [
    *(getattr(cycle, name) for name in CYCLE_MESSAGES.split()),
    changes.LIST_MISSING,
    *(cycle.NOT_SYNCING.format(state=s, reason="{reason}") for s in ("suspended", "disconnected")),
    *(getattr(engine_imports, name) for name in IMPORT_MESSAGES.split()),
    *(
        engine_imports.BULK_JOB_ENDED.format(job="{job}", state=s, reason="{reason}")
        for s in ("failed", "aborted")
    ),
]
FIELD = re.compile(r"\{(\w+)[^}]*\}")


def test_every_engine_message_has_its_translation_in_the_same_english_words():
    assert set(ENGINE_TEMPLATES) <= set(ENGINE_MESSAGE_LABELS)
    with translation.override(None):
        for template, text in ENGINE_MESSAGE_LABELS.items():
            assert str(text) == FIELD.sub(r"%(\1)s", template), template


@pytest.mark.parametrize("language", ["en", "nl"])
def test_each_template_reads_as_its_own_translation(language):
    """A text each template writes is recognised as that template (never another one), its
    parts kept in their places."""
    for template, text in ENGINE_MESSAGE_LABELS.items():
        fields = [f for _, f, _, _ in string.Formatter().parse(template) if f is not None]
        sample = FIELD.sub(lambda m: f"«{m[1]}»", template)
        with translation.override(language):
            assert engine_message(sample) == str(text) % {f: f"«{f}»" for f in fields}, template


def test_the_engines_not_connected_error_is_recognised():
    for system, name in (("salesforce", "Salesforce"), ("hubspot", "HubSpot")):
        nl, en = both("Not connected to %(system)s: connect it again on the Connection tab.",
                      system=name)  # fmt: skip
        with translation.override("nl"):
            assert engine_message(str(NotConnected(system=system))) == nl != en


# --- Sync health: the run rows ---------------------------------------------------------------
def _runs_card(html: str) -> str:
    return html[html.index('id="sync-runs"') :]


def shown(text: str) -> str:
    """``text`` as a run row's Details cell draws it (at most 200 characters, escaped)."""
    return escape(Truncator(text).chars(200))


def test_the_engines_run_messages_read_in_dutch(admin_client, connected):
    """Runs the engine itself ended: an interrupted one, an object switched off, the whole
    sync off, the integration suspended (no call is made for any of them)."""
    ObjectSync.objects.create(integration=connected, object="contacts", enabled=False)
    dead = SyncRun.objects.create(integration=connected, object="contacts")  # its worker died
    cycle.sync_cycle_run(integration=connected, object_name="contacts")
    ObjectSync.objects.filter(integration=connected).update(enabled=True)
    Integration.objects.filter(pk=connected.pk).update(sync_enabled=False)
    cycle.sync_cycle_run(integration=connected, object_name="contacts")
    Integration.objects.filter(pk=connected.pk).update(
        sync_enabled=True,
        state=Integration.State.SUSPENDED,
        state_reason=cycle.CREDENTIALS_REJECTED.format(system="salesforce"),
    )
    cycle.sync_cycle_run(integration=connected, object_name="contacts")
    dead.refresh_from_db()
    assert dead.message == cycle.INTERRUPTED
    assert list(SyncRun.objects.order_by("pk").values_list("message", flat=True))[1:] == [
        cycle.OBJECT_SYNC_OFF,
        cycle.SYNC_OFF,
        "Integration suspended: salesforce: the credentials were rejected. Reconnect on the "
        "Connection tab.",
    ]
    expected = [
        word("Interrupted: the worker stopped before the cycle finished; this cycle picked up "
             "where it left off."),
        word("Sync is off for this object."),
        word("Sync is off for the whole integration: turn it back on on the Connection page."),
        both("Integration suspended: %(reason)s", reason=both(
            "%(system)s: the credentials were rejected. Reconnect on the Connection tab.",
            system="Salesforce")),
    ]  # fmt: skip
    nl_page = _runs_card(
        admin_client.get("/sync-health/", HTTP_ACCEPT_LANGUAGE="nl").content.decode()
    )
    en_page = _runs_card(
        admin_client.get("/sync-health/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    )
    for nl, en in expected:
        assert nl != en
        assert shown(nl) in nl_page and shown(en) not in nl_page, en
        assert shown(en) in en_page, en


def _stored_runs() -> list[tuple[str, tuple[str, str]]]:
    """(a run's message as the engine stores it, and stored before this version; its Dutch
    and English on the page)."""
    remote = "hubspot 503 during search: <b>Service & Co</b> unavailable"
    return [
        ("The cycle stopped unexpectedly: 'NoneType' object has no attribute 'get'",
         both("The cycle stopped unexpectedly: %(error)s",
              error="'NoneType' object has no attribute 'get'")),
        ("The cycle stopped unexpectedly.", word("The cycle stopped unexpectedly.")),
        (f"Temporary failure, retried on the next cycle: {remote}",
         both("Temporary failure, retried on the next cycle: %(error)s", error=remote)),
        ("Integration suspended: hubspot: access denied (403). Give the integration user API "
         "access and the object permissions, then reconnect.",
         both("Integration suspended: %(reason)s", reason=both(
             "%(system)s: access denied (%(code)s). Give the integration user API access and "
             "the object permissions, then reconnect.", system="HubSpot", code="403"))),
        ("Integration disconnected: Disconnected on the Connection page; the stored tokens were "
         "deleted.",
         both("Integration disconnected: %(reason)s", reason=word(
             "Disconnected on the Connection page; the stored tokens were deleted."))),
        ("Integration disconnected: ", both("Integration disconnected: %(reason)s", reason="")),
        ("Integration suspended: Salesforce flagged <this> org", both(
            "Integration suspended: %(reason)s", reason="Salesforce flagged <this> org")),
    ]  # fmt: skip


def test_stored_run_messages_read_in_dutch_and_remote_words_stay(admin_client, connected):
    cases = _stored_runs()
    for message, _ in cases:
        SyncRun.objects.create(integration=connected, object="contacts", status="failed",
                               message=message)  # fmt: skip
    SyncRun.objects.create(integration=connected, object="contacts", status="failed",
                           message="salesforce 500: <script>x</script> went wrong")  # fmt: skip
    nl_page = _runs_card(
        admin_client.get("/sync-health/", HTTP_ACCEPT_LANGUAGE="nl").content.decode()
    )
    en_page = _runs_card(
        admin_client.get("/sync-health/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    )
    for message, (nl, en) in cases:
        assert nl != en
        assert shown(nl) in nl_page and shown(en) not in nl_page, message
        assert shown(en) in en_page, message
    # Not the engine's: as stored, in both languages, escaped.
    for page in (nl_page, en_page):
        assert "salesforce 500: &lt;script&gt;x&lt;/script&gt; went wrong" in page
        assert "<script>x" not in page and "<b>Service" not in page


def test_the_rest_api_keeps_the_stored_english(admin_client, connected):
    """Clients of the API read the engine's words as stored, whatever their language."""
    SyncRun.objects.create(integration=connected, object="contacts", message=cycle.OBJECT_SYNC_OFF)
    body = admin_client.get("/api/v1/runs/", HTTP_ACCEPT_LANGUAGE="nl").json()
    assert [run["message"] for run in body["results"]] == [cycle.OBJECT_SYNC_OFF]


# --- the import progress card ----------------------------------------------------------------
def _stored_imports() -> list[tuple[str, str, tuple[str, str]]]:
    """(the import's object, its message as the engine stores it, its Dutch and English)."""
    budget = "salesforce API allocation used up: 5000 of 5000 calls in the last 24 hours"
    session = "salesforce 401 INVALID_SESSION_ID: Session expired or <invalid>"
    accounts, contacts, companies = word("Salesforce accounts"), word("Contacts"), word("Companies")
    return [
        ("leads", engine_imports.PREPARING,
         word("Salesforce is preparing the Bulk query; the records follow when it's ready.")),
        ("leads", "Waiting for the running contacts sync cycle to finish…",
         both("Waiting for the running %(pair)s sync cycle to finish…", pair=contacts)),
        ("accounts", "The companies sync is switched off, so no record was imported. Turn it on "
                     "on its tab, then import Accounts again.",
         both("The %(pair)s sync is switched off, so no record was imported. Turn it on on its "
              "tab, then import %(label)s again.", pair=companies, label=accounts)),
        ("accounts", "Importing Accounts needs the companies sync, which isn't available in this "
                     "version yet.",
         both("Importing %(label)s needs the %(pair)s sync, which isn't available in this "
              "version yet.", label=accounts, pair=companies)),
        ("opportunities", engine_imports.DEALS_WITHOUT_COMPANIES,
         word("Company sync is off, so the imported deals have no company association: turn "
              "company sync on and import accounts first.")),
        ("leads", f"{budget} The import stopped after 12,345 records; resume it once the 24-hour "
                  "window frees calls (or raise 'Allocated to HubSpot').",
         both("%(error)s The import stopped after %(records)s records; resume it once the "
              "24-hour window frees calls (or raise 'Allocated to HubSpot').",
              error=word("The Salesforce API allocation is used up."),
              records=("12.345", "12,345"))),
        ("leads", "Salesforce's org-wide API limit is reached (salesforce 403 REQUEST_LIMIT_"
                  "EXCEEDED: TotalRequests Limit exceeded.); resume it later.",
         both("Salesforce's org-wide API limit is reached (%(error)s); resume it later.",
              error="salesforce 403 REQUEST_LIMIT_EXCEEDED: TotalRequests Limit exceeded.")),
        ("leads", f"salesforce: {session} Reconnect, then resume the import.",
         both("%(system)s: %(error)s Reconnect, then resume the import.",
              system="Salesforce", error=session)),
        ("leads", "The contacts sync has been running for over ten minutes; resume the import "
                  "when it finishes.",
         both("The %(pair)s sync has been running for over ten minutes; resume the import when "
              "it finishes.", pair=contacts)),
        ("leads", "Salesforce's Bulk query job 750x0001 failed: no reason given Resume the "
                  "import to continue where it stopped.",
         both("%(error)s Resume the import to continue where it stopped.", error=both(
             "Salesforce's Bulk query job %(job)s failed: %(reason)s", job="750x0001",
             reason=word("no reason given")))),
        ("leads", "Salesforce's Bulk query job 750x0002 aborted: InvalidBatch <x> Resume the "
                  "import to continue where it stopped.",
         both("%(error)s Resume the import to continue where it stopped.", error=both(
             "Salesforce's Bulk query job %(job)s aborted: %(reason)s", job="750x0002",
             reason="InvalidBatch <x>"))),
        ("leads", "Not connected to HubSpot: connect it again on the Connection tab. Resume the "
                  "import to continue where it stopped.",
         both("%(error)s Resume the import to continue where it stopped.", error=both(
             "Not connected to %(system)s: connect it again on the Connection tab.",
             system="HubSpot"))),
        ("leads", "Unexpected error: KeyError: 'Id'",
         both("Unexpected error: %(kind)s: %(error)s", kind="KeyError", error="'Id'")),
        ("custom:9", "Nothing to import for 'custom:9'.",
         both("Nothing to import for %(object)s.", object="'custom:9'")),
    ]  # fmt: skip


def _card(html: str) -> str:
    start = html.index('id="import-progress"')
    return html[start : html.index("</section>", start)]


def _message(card: str) -> str:
    match = re.search(r'data-field="message">(.*?)</p>', card, re.S)
    assert match, "no message on the card"
    return match.group(1)


@pytest.mark.parametrize("status", ["running", "failed"])
def test_stored_import_messages_read_in_dutch_on_the_page_and_its_polls(
    admin_client, connected, status
):
    for object_name, message, (nl, en) in _stored_imports():
        job = ImportJob.objects.create(integration=connected, object=object_name, status=status,
                                       message=message)  # fmt: skip
        assert nl != en
        for address in (f"/import/?job={job.pk}", f"/import/{job.pk}/"):  # the page, a poll
            for language, text in (("nl", nl), ("en", en)):
                html = admin_client.get(address, HTTP_ACCEPT_LANGUAGE=language).content.decode()
                assert _message(_card(html)) == escape(text), (address, language, message)
        job.delete()


def test_an_import_of_a_custom_object_names_its_pair(admin_client, connected):
    make_custom_object(connected)
    job = ImportJob.objects.create(
        integration=connected, object="custom:1", status="running",
        message="Waiting for the running custom:1 sync cycle to finish…",
    )  # fmt: skip
    html = admin_client.get(f"/import/{job.pk}/", HTTP_ACCEPT_LANGUAGE="nl").content.decode()
    nl = said("nl", "Waiting for the running %(pair)s sync cycle to finish…", pair="Projects")
    assert _message(_card(html)) == escape(nl)


def test_a_message_that_isnt_the_engines_shows_as_stored(admin_client, connected):
    job = ImportJob.objects.create(
        integration=connected, object="leads", status="failed",
        message="Salesforce said <b>no</b> & left",
    )  # fmt: skip
    html = admin_client.get(f"/import/{job.pk}/", HTTP_ACCEPT_LANGUAGE="nl").content.decode()
    assert _message(_card(html)) == "Salesforce said &lt;b&gt;no&lt;/b&gt; &amp; left"


def test_a_failed_import_says_why_in_dutch(admin_client, connected):
    """An import the engine itself stopped: no allocation left, so no call was sent."""
    Integration.objects.filter(pk=connected.pk).update(salesforce_api_allocation=0)
    job = ImportJob.objects.create(integration=connected, object="leads", status="queued")
    import_run(job=job)
    job.refresh_from_db()
    assert job.status == "failed"
    assert job.message.startswith("salesforce API allocation used up: 0 of 0 calls")
    nl, en = both(
        "%(error)s The import stopped after %(records)s records; resume it once the 24-hour "
        "window frees calls (or raise 'Allocated to HubSpot').",
        error=word("The Salesforce API allocation is used up."), records="0",
    )  # fmt: skip
    html = admin_client.get(f"/import/?job={job.pk}", HTTP_ACCEPT_LANGUAGE="nl").content.decode()
    assert _message(_card(html)) == escape(nl) != escape(en)


def test_an_import_whose_pair_went_off_says_so_in_dutch(admin_client, live, emulators):
    """Started while contact sync was on, run after it was turned off: the engine skips every
    record and says why, by the pair's and the import's names."""
    from sync_engine.services import object_sync_get_or_create

    object_sync_get_or_create(integration=live, object_name="contacts")
    job = engine_imports.import_start(integration=live, object_name="leads", enqueue=False)
    ObjectSync.objects.filter(integration=live, object="contacts").update(enabled=False)
    import_run(job=job)
    job.refresh_from_db()
    assert job.message == engine_imports.PAIR_SWITCHED_OFF.format(pair="contacts", label="Leads")
    nl, en = both(
        "The %(pair)s sync is switched off, so no record was imported. Turn it on on its tab, "
        "then import %(label)s again.",
        pair=word("Contacts"), label=word("Salesforce leads"),
    )  # fmt: skip
    for language, text in (("nl", nl), ("en", en)):
        html = admin_client.get(f"/import/{job.pk}/", HTTP_ACCEPT_LANGUAGE=language)
        assert _message(_card(html.content.decode())) == escape(text)


# --- refusals --------------------------------------------------------------------------------
def test_a_refused_start_says_why_in_dutch(
    admin_client, connected, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks():
        admin_client.post("/import/start/", {"object": "leads"})
    again = admin_client.post(
        "/import/start/", {"object": "leads"}, HTTP_HX_REQUEST="true", HTTP_ACCEPT_LANGUAGE="nl"
    ).content.decode()
    nl, en = both("The import can't start: %(reason)s", reason=both(
        "An import of %(label)s is already running.",
        label=word("Salesforce leads")))  # fmt: skip
    assert escape(nl) in again and escape(en) not in again


def test_a_refused_resume_says_why_in_dutch(admin_client, connected):
    job = ImportJob.objects.create(integration=connected, object="leads", status="succeeded")
    response = admin_client.post(
        f"/import/{job.pk}/resume/", HTTP_HX_REQUEST="true", HTTP_ACCEPT_LANGUAGE="nl"
    )
    nl, en = word("Only a failed, cancelled or stalled import can be resumed.")
    html = response.content.decode()
    assert escape(nl) in html and escape(en) not in html


def test_the_state_header_and_the_audit_log_say_why_in_dutch(admin_client, connected):
    """Why the engine suspended the integration reads translated in every page's state
    header and in the audit log's state change."""
    reason = cycle.ACCESS_DENIED.format(system="salesforce", code="403")
    integration_set_state(integration=connected, state=Integration.State.SUSPENDED, reason=reason)
    nl, en = both(
        "%(system)s: access denied (%(code)s). Give the integration user API access and the "
        "object permissions, then reconnect.", system="Salesforce", code="403",
    )  # fmt: skip
    assert nl != en
    for path in ("/connection/", "/audit/"):
        nl_page = admin_client.get(path, HTTP_ACCEPT_LANGUAGE="nl").content.decode()
        assert escape(nl) in nl_page, path
        assert escape(en) not in nl_page and escape(reason) not in nl_page, path
        assert escape(en) in admin_client.get(path, HTTP_ACCEPT_LANGUAGE="en").content.decode()
