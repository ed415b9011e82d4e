"""The value a record was refused for, shown with its error: Salesforce's picklist message
("There's a problem with this state…") never repeats it."""

from __future__ import annotations

import csv
import io

import pytest

from .conftest import make_error

pytestmark = pytest.mark.django_db


def refused_state(connected):
    return make_error(
        connected,
        error_type="picklist",
        code="FIELD_INTEGRITY_EXCEPTION",
        message="There's a problem with this state, even though it may appear correct.",
        fields=["State"],
        values={"State": "Atlantis <b>"},
    )[0]


def test_the_panel_the_record_page_the_export_and_the_api_show_the_value_sent(
    viewer_client, connected
):
    error = refused_state(connected)
    panel = viewer_client.get("/sync-health/errors/picklist/").content.decode()
    assert "Sent: State “Atlantis &lt;b&gt;”" in panel  # remote text, escaped
    record = viewer_client.get(f"/records/contacts/{error.record_key}/").content.decode()
    assert "Sent: State “Atlantis &lt;b&gt;”" in record
    export = viewer_client.get("/sync-health/errors/export/?type=picklist")
    rows = list(csv.reader(io.StringIO(b"".join(export.streaming_content).decode("utf-8-sig"))))
    assert rows[1][rows[0].index("Values sent")] == "State=Atlantis <b>"
    api = viewer_client.get("/api/v1/errors/?type=picklist").json()
    assert api["results"][0]["values"] == {"State": "Atlantis <b>"}


def test_an_error_without_values_shows_no_sent_line(viewer_client, connected):
    make_error(connected)
    assert (
        "data-sent" not in viewer_client.get("/sync-health/errors/property_value/").content.decode()
    )
