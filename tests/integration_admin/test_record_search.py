"""Sync health's *Find a record*: an email address, a HubSpot record id or a Salesforce id (15 or
18 characters) finds the synced records and the records with sync errors; one match opens the
record's page, several are listed, none says so. Read-only, for viewers too, from the database
alone, in a bounded number of queries."""

from __future__ import annotations

import re

import pytest
from django.utils import timezone

from sync_engine.models import RecordLink, SyncError
from sync_engine.selectors import records_find, salesforce_id_forms, salesforce_id_suffix
from sync_engine.services import sync_error_record

from .conftest import make_custom_object, make_error

pytestmark = pytest.mark.django_db

# Salesforce's own example: the 15-character id and its 18-character form.
LEAD_15 = "00Q5g00000AbCdE"
LEAD_18 = LEAD_15 + salesforce_id_suffix(LEAD_15)


def link(integration, hubspot_id: str, salesforce_id: str, *, object_name="contacts", **extra):
    values = {
        "salesforce_type": "Lead" if object_name == "contacts" else "Account",
        "snapshot": {},
    }
    values.update(extra)
    return RecordLink.objects.create(
        integration=integration,
        object=object_name,
        hubspot_id=hubspot_id,
        salesforce_id=salesforce_id,
        **values,
    )


def find(client, query: str):
    return client.get("/records/", {"q": query})


def test_the_18_character_form_is_the_core_and_its_checksum():
    # Salesforce's documented pair.
    assert salesforce_id_suffix("001A0000006Vm9r") == "IAC"
    assert {"001A0000006Vm9r", "001A0000006Vm9rIAC"} <= salesforce_id_forms("001A0000006Vm9r")
    assert {"001A0000006Vm9r", "001A0000006Vm9rIAC"} <= salesforce_id_forms("001A0000006Vm9rIAC")
    # An 18-character id whose case was lost: the suffix restores the core.
    assert "001A0000006Vm9r" in salesforce_id_forms("001a0000006vm9riac")


# --- the search box -------------------------------------------------------------------------
def test_sync_health_has_the_search_box(viewer_client, connected):
    html = viewer_client.get("/sync-health/").content.decode()
    assert 'id="record-find"' in html
    assert 'action="/records/"' in html and 'name="q"' in html
    assert "Find a record" in html


def test_login_required(client, connected, viewer_client):
    response = client.get("/records/", {"q": "ada@example.com"})
    assert response.status_code == 302 and "login" in response["Location"]
    assert find(viewer_client, "ada@example.com").status_code == 200


def test_only_get(viewer_client, connected):
    assert viewer_client.post("/records/", {"q": "1000"}).status_code == 405


def test_no_query_shows_the_box_alone(viewer_client, connected):
    response = viewer_client.get("/records/")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="record-find-q"' in html and "Matching records" not in html


def test_not_connected_says_so(logged_in):
    html = logged_in.get("/records/", {"q": "1000"}).content.decode()
    assert "Not connected yet" in html


# --- Salesforce ids -------------------------------------------------------------------------
def test_an_18_character_id_opens_its_record(viewer_client, connected):
    link(connected, "501", LEAD_18, snapshot={"firstname": "Ada", "lastname": "Lovelace"})
    response = find(viewer_client, LEAD_18)
    assert response.status_code == 302
    assert response["Location"] == "/records/contacts/hubspot:501/"
    assert "Ada Lovelace" in viewer_client.get(response["Location"]).content.decode()


def test_a_15_character_id_finds_its_18_character_link(viewer_client, connected):
    link(connected, "501", LEAD_18)
    response = find(viewer_client, LEAD_15)
    assert response.status_code == 302
    assert response["Location"] == "/records/contacts/hubspot:501/"


def test_an_18_character_id_finds_its_15_character_link(viewer_client, connected):
    link(connected, "501", LEAD_15)
    response = find(viewer_client, LEAD_18)
    assert response.status_code == 302
    assert response["Location"] == "/records/contacts/hubspot:501/"


def test_salesforce_ids_are_case_sensitive(viewer_client, connected):
    other = LEAD_15.swapcase()
    link(connected, "501", LEAD_18)
    link(connected, "502", other + salesforce_id_suffix(other))
    assert find(viewer_client, LEAD_15)["Location"] == "/records/contacts/hubspot:501/"
    assert find(viewer_client, other)["Location"] == "/records/contacts/hubspot:502/"
    # An 18-character id lowercased by a spreadsheet still names the one record.
    assert find(viewer_client, LEAD_18.lower())["Location"] == "/records/contacts/hubspot:501/"


def test_a_salesforce_id_finds_an_error_without_a_link(viewer_client, connected):
    sync_error_record(
        integration=connected,
        object_name="deals",
        error_type="pipeline_limit",
        direction="to_hubspot",
        record_key=f"salesforce:{LEAD_18}",
        salesforce_id=LEAD_18,
        salesforce_type="Opportunity",
        record_label="Big deal",
    )
    response = find(viewer_client, LEAD_15)
    assert response.status_code == 302
    assert response["Location"] == f"/records/deals/salesforce:{LEAD_18}/"


def test_a_link_and_its_errors_are_one_record(viewer_client, connected):
    link(connected, "1000", LEAD_18)
    make_error(connected, salesforce_id=LEAD_18)  # hubspot:1000, contacts
    make_error(connected, error_type="required_field", record_key=f"salesforce:{LEAD_18}")
    response = find(viewer_client, LEAD_18)
    assert response.status_code == 302
    assert response["Location"] == "/records/contacts/hubspot:1000/"


def results_of(html: str) -> str:
    """The "Matching records" card alone."""
    return html[html.index('id="record-find-results"') :]


# --- HubSpot ids ----------------------------------------------------------------------------
def test_a_hubspot_id_lists_every_object_with_it(viewer_client, connected):
    link(connected, "777", LEAD_18, snapshot={"firstname": "Ada", "lastname": "Lovelace"})
    link(connected, "777", "001A0000006Vm9rIAC", object_name="companies", snapshot={"name": "Acme"})
    response = find(viewer_client, "777")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'href="/records/contacts/hubspot:777/"' in html
    assert 'href="/records/companies/hubspot:777/"' in html
    assert "Ada Lovelace" in html and "Acme" in html
    results = results_of(html)  # the tab labels say "Contacts" on every page
    assert "Contacts" in results and "Companies" in results
    assert LEAD_18 in html and "001A0000006Vm9rIAC" in html


def test_a_hubspot_id_finds_an_error_without_a_link(viewer_client, connected):
    make_error(connected)  # contacts, hubspot:1000, "Person 0"
    response = find(viewer_client, "1000")
    assert response.status_code == 302
    assert response["Location"] == "/records/contacts/hubspot:1000/"


def test_a_hubspot_id_finds_an_engagement(viewer_client, connected):
    link(connected, "calls:77", "00T5g00000AbCdE", object_name="activities")
    response = find(viewer_client, "77")
    assert response.status_code == 302
    assert response["Location"] == "/records/activities/hubspot:calls:77/"


def test_a_custom_object_is_named_as_people_know_it(viewer_client, connected):
    make_custom_object(connected)
    link(connected, "900", "a015g00000AbCdE", object_name="custom:1", salesforce_type="Project__c")
    link(connected, "900", LEAD_18)
    html = find(viewer_client, "900").content.decode()
    assert "Projects" in results_of(html) and "Contacts" in results_of(html)
    assert 'href="/records/custom:1/hubspot:900/"' in html


# --- email addresses ------------------------------------------------------------------------
def test_an_email_opens_its_contact_whatever_the_case(viewer_client, connected):
    link(connected, "501", LEAD_18, snapshot={"email": "Ada@Example.com", "firstname": "Ada"})
    link(connected, "502", "001A0000006Vm9rIAC", object_name="companies",
         snapshot={"email": "ada@example.com"})  # fmt: skip
    response = find(viewer_client, "ada@EXAMPLE.com")
    assert response.status_code == 302
    assert response["Location"] == "/records/contacts/hubspot:501/"


def test_an_email_finds_an_error_by_its_record_name(viewer_client, connected):
    make_error(connected, hubspot_id="1200", record_label="Grace Hopper <grace@example.com>")
    make_error(connected, hubspot_id="1300", record_label="Grace Hopper")  # no email
    response = find(viewer_client, "Grace@Example.com")
    assert response.status_code == 302
    assert response["Location"] == "/records/contacts/hubspot:1200/"


def test_a_broken_email_copied_from_its_error_finds_the_record(viewer_client, connected):
    """The records an admin most needs to find are those whose email is invalid."""
    make_error(connected, hubspot_id="1406", record_label="Mila <mila@@initech.example>")
    response = find(viewer_client, "mila@@initech.example")
    assert response.status_code == 302
    assert response["Location"] == "/records/contacts/hubspot:1406/"


def test_an_email_on_two_contacts_lists_both(viewer_client, connected):
    other = LEAD_15.swapcase()
    link(connected, "501", LEAD_18, snapshot={"email": "twin@example.com", "firstname": "Ann"})
    link(connected, "502", other, snapshot={"email": "twin@example.com", "firstname": "Bob"})
    make_error(connected, hubspot_id="502", record_label="Bob <twin@example.com>")
    response = find(viewer_client, "twin@example.com")
    assert response.status_code == 200
    html = response.content.decode()
    assert html.count('class="record-name"') == 2
    assert 'href="/records/contacts/hubspot:501/"' in html
    assert 'href="/records/contacts/hubspot:502/"' in html
    assert "1 current error" in html and "Syncing" in html


# --- none, nonsense, escaping ---------------------------------------------------------------
def test_no_match_says_so_and_keeps_the_query(viewer_client, connected):
    link(connected, "501", LEAD_18, snapshot={"email": "ada@example.com"})
    response = find(viewer_client, "nobody@example.com")
    assert response.status_code == 200
    html = response.content.decode()
    assert "No synced record and no sync error matches “nobody@example.com”." in html
    assert 'value="nobody@example.com"' in html
    assert 'class="record-name"' not in html


def test_a_query_that_is_no_email_or_id_says_what_to_enter(viewer_client, connected):
    html = find(viewer_client, "Ada Lovelace").content.decode()
    assert "Enter an email address, a HubSpot record id or a Salesforce id" in html
    assert 'value="Ada Lovelace"' in html and 'aria-invalid="true"' in html


def test_a_long_query_is_capped(viewer_client, connected):
    html = find(viewer_client, "1" * 5000).content.decode()
    assert "Enter an email address" in html
    box = re.search(r'<input type="text" id="record-find-q"[^>]*>', html).group(0)
    assert 'value="' + "1" * 254 + '"' in box


def test_the_query_is_escaped(viewer_client, connected):
    html = find(viewer_client, "<script>x</script>@example.com").content.decode()
    assert "<script>x</script>" not in html
    assert "&lt;script&gt;x&lt;/script&gt;@example.com" in html


# --- bounded reads --------------------------------------------------------------------------
def test_the_search_reads_the_database_twice(connected, django_assert_num_queries):
    link(connected, "501", LEAD_18, snapshot={"email": "ada@example.com"})
    make_error(connected, 3)
    for query in ("ada@example.com", "1000", LEAD_15, "123456789012345"):
        with django_assert_num_queries(2):
            records_find(integration=connected, query=query)
    with django_assert_num_queries(0):
        assert not records_find(integration=connected, query="not an id").understood


def test_many_matches_are_capped(connected):
    for i in range(5):
        link(connected, str(600 + i), f"00Q5g00000AbC{i:02d}", snapshot={"email": "x@example.com"})
    found = records_find(integration=connected, query="x@example.com", limit=3)
    assert len(found.matches) == 3 and found.more
    found = records_find(integration=connected, query="x@example.com", limit=5)
    assert len(found.matches) == 5 and not found.more


def test_the_pages_run_a_bounded_number_of_queries(
    viewer_client, connected, django_assert_max_num_queries
):
    def grow(n: int, start: int) -> None:
        for i in range(start, start + n):
            link(connected, str(i), f"00Q5g0000{i:06d}", snapshot={"email": "many@example.com"})
            make_error(connected, hubspot_id=str(i), record_label=f"P{i} <many@example.com>")
            SyncError.objects.filter(record_key=f"hubspot:{i}").update(resolved_at=timezone.now())
            make_error(connected, hubspot_id=str(i), record_label=f"P{i} <many@example.com>")

    grow(2, 5000)
    # Session, user, integration, the links and the errors (the record's page is next); the
    # list adds the header's last syncs and the role.
    with django_assert_max_num_queries(8):
        assert find(viewer_client, "many@example.com").status_code == 200
    with django_assert_max_num_queries(5):
        assert find(viewer_client, "5000").status_code == 302
    grow(30, 6000)
    with django_assert_max_num_queries(8):
        html = find(viewer_client, "many@example.com").content.decode()
    assert html.count('class="record-name"') == 20
    assert "Only the first 20 matches are shown" in html
    with django_assert_max_num_queries(5):
        assert find(viewer_client, "6029").status_code == 302
