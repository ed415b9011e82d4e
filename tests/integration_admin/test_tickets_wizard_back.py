"""The Tickets wizard walked back and forth by an admin (spec §14): what a step asked for is
still there when the admin comes back to it, against the emulators."""

from __future__ import annotations

import re
from html import unescape

import pytest

from .test_tickets_wizard import _stage_selects, row

pytestmark = pytest.mark.django_db


def picked_pipeline(html: str) -> str:
    select = re.search(r'<select name="pipeline_master"[^>]*>(.*?)</select>', html, re.S).group(1)
    return re.search(r'<option value="([^"]*)" selected>', select).group(1)


def test_going_back_from_the_pipelines_step_keeps_the_pipeline_and_stages_picked(
    admin_client, live
):
    """The admin maps the cases to HubSpot's Support Pipeline and picks a stage for each
    status, then goes Back to check the field mappings: coming back to step 4 they find
    their picks, not "Create a new pipeline" and an empty table."""
    picks = {
        "pipeline_master": "0",
        "stage_master_0": "1",  # New → New
        "stage_master_1": "3",  # Working → Waiting on us
        "stage_master_2": "2",  # Escalated → Waiting on contact
        "stage_master_3": "4",  # Closed → Closed
    }
    response = admin_client.post("/tickets/", {"step": 4, "action": "back", **picks})
    assert response.status_code == 302 and response["Location"].endswith("?step=3")
    html = unescape(admin_client.get("/tickets/?step=4").content.decode())
    assert picked_pipeline(html) == "0"
    assert _stage_selects(html) == {
        "New": ("1", "New"),
        "Working": ("3", "Waiting on us"),
        "Escalated": ("2", "Waiting on contact"),
        "Closed": ("4", "Closed"),
    }
    assert not row(live).enabled  # going back turns nothing on


def test_going_back_with_a_status_left_without_a_stage_keeps_the_others(admin_client, live):
    """Back isn't refused for a stage still to pick (Next and Finish ask for it): the stages
    picked are kept, the one left out is still to choose."""
    picks = {"pipeline_master": "0", "stage_master_1": "3"}  # Escalated not picked yet
    response = admin_client.post("/tickets/", {"step": 4, "action": "back", **picks})
    assert response.status_code == 302 and response["Location"].endswith("?step=3")
    html = unescape(admin_client.get("/tickets/?step=4").content.decode())
    assert picked_pipeline(html) == "0"
    assert _stage_selects(html)["Working"] == ("3", "Waiting on us")
    assert _stage_selects(html)["Escalated"] == ("", "Choose a stage…")
    response = admin_client.post("/tickets/", {"step": 4, "action": "next", **picks})
    assert response.status_code == 400  # still refused going on


def test_going_back_from_an_untouched_pipelines_step_saves_nothing(admin_client, live):
    """Left on "Create a new pipeline", step 4 has nothing to keep: Finish still sends the
    admin to it (the step wasn't saved)."""
    response = admin_client.post(
        "/tickets/", {"step": 4, "action": "back", "pipeline_master": "new"}
    )
    assert response.status_code == 302
    assert not row(live).options.get("pipelines")
