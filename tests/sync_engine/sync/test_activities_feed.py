"""Activities (spec §13): the engagements change feed tells a cycle which HubSpot engagement
types changed, in one call, so only those are searched; when HubSpot refuses the feed, every
type is searched as before."""

from __future__ import annotations

from datetime import timedelta

from hubspot.crm.objects import SimplePublicObjectInput as EngagementUpdate

from sync_engine.models import ApiCall, SyncCursor, System
from sync_engine.sync import activities as activity_sync
from sync_engine.sync.activities import FEED_STREAM

from . import test_activities
from .test_activities import ALL_HUBSPOT, engagement, tasks_of

# The fixtures of the activities scenarios.
activities = test_activities.activities
linked_person = test_activities.linked_person

FEED = "engagements.modified_after"


def hubspot_reads(run) -> list[str]:
    """The HubSpot reads of changes a run made: the feed and the searches, in order."""
    calls = ApiCall.objects.filter(called_at__gte=run.started_at, system=System.HUBSPOT)
    names = calls.order_by("id").values_list("operation", flat=True)
    return [name for name in names if name == FEED or name.endswith(".search")]


def test_only_the_types_the_feed_shows_changed_are_searched(
    activities, linked_person, hs_person, sf_person
):
    """Every HubSpot type is on. An idle cycle asks HubSpot one thing, the feed. Ada gets a
    note and a call in HubSpot: the next cycle searches notes and calls only, and both reach
    Salesforce as Tasks. The cycle after, still inside the cursors' overlap, finds them
    handled and searches nothing; an edit of the note is searched for, and copied."""
    lead, contact = linked_person
    activities.settings(**ALL_HUBSPOT)
    idle = activities()
    assert hubspot_reads(idle) == [FEED] and idle.calls[System.HUBSPOT] == 1, idle.calls

    note = engagement(hs_person, "notes", contact, hs_note_body="Met at the fair")
    engagement(hs_person, "calls", contact, hs_call_title="Intro call")
    run = activities()
    assert run.counts["created_in_salesforce"] == 2, run.counts
    assert sorted(hubspot_reads(run)) == sorted([FEED, "calls.search", "notes.search"])
    assert sorted(t["Subject"] for t in tasks_of(sf_person, lead)) == [
        "Call: Intro call",
        "Note: Met at the fair",
    ]

    again = activities()
    assert hubspot_reads(again) == [FEED] and again.counts["created_in_salesforce"] == 0

    hs_person.crm.objects.basic_api.update(
        "notes", note, EngagementUpdate(properties={"hs_note_body": "Met at the fair in May"})
    )
    edited = activities()
    assert hubspot_reads(edited) == [FEED, "notes.search"]
    descriptions = {t["Subject"]: t["Description"] for t in tasks_of(sf_person, lead)}
    assert descriptions["Note: Met at the fair in May"] == "Met at the fair in May"


def test_a_refused_feed_leaves_the_searches_to_read_every_type(
    activities, linked_person, hs_person, sf_person, emulators
):
    """HubSpot answers the feed 404 (an account where the legacy endpoint is gone): the cycle
    searches every type, Ada's note still reaches Salesforce, and the feed isn't asked again
    for a day; then it is."""
    lead, contact = linked_person
    activities.settings(**ALL_HUBSPOT)
    emulators.hubspot.app.faults.add(path=r"^/engagements/v1/", error_code="OBJECT_NOT_FOUND")
    engagement(hs_person, "notes", contact, hs_note_body="Call me back")
    run = activities()
    searches = ["calls.search", "emails.search", "meetings.search", "notes.search"]
    assert hubspot_reads(run) == [FEED, *searches, "tasks.search"]
    assert [t["Subject"] for t in tasks_of(sf_person, lead)] == ["Note: Call me back"]
    refusal = SyncCursor.objects.get(integration=activities.integration, stream=FEED_STREAM)
    assert refusal.query["refused"].startswith("hubspot 404 OBJECT_NOT_FOUND during engagements")

    later = activities()
    assert FEED not in hubspot_reads(later) and len(hubspot_reads(later)) == 5

    emulators.hubspot.app.faults.clear()
    refusal.checked_at -= timedelta(days=1, minutes=1)
    refusal.save(update_fields=["checked_at"])
    next_day = activities()
    assert hubspot_reads(next_day) == [FEED], hubspot_reads(next_day)


def test_more_changes_than_the_feed_pages_read_leave_it_to_the_searches(
    activities, linked_person, hs_person, sf_person, monkeypatch
):
    """More engagements changed than the feed's pages the cycle reads (one page of two, here):
    the cycle stops reading the feed and searches every type, and all three notes sync."""
    lead, contact = linked_person
    activities.settings(**ALL_HUBSPOT)
    monkeypatch.setattr(activity_sync, "FEED_PAGE", 2)
    monkeypatch.setattr(activity_sync, "FEED_PAGES", 1)
    for text in ("First note", "Second note", "Third note"):
        engagement(hs_person, "notes", contact, hs_note_body=text)
    run = activities()
    assert hubspot_reads(run) == [FEED] + [
        f"{k}.search" for k in sorted(test_activities.TO_CONTACT)
    ]
    assert sorted(t["Subject"] for t in tasks_of(sf_person, lead)) == [
        "Note: First note",
        "Note: Second note",
        "Note: Third note",
    ]


def test_a_feed_answer_of_another_shape_is_never_taken_for_no_changes(
    activities, linked_person, hs_person, sf_person, emulators
):
    """Should HubSpot answer the feed in a shape this doesn't read (no ``results`` list), the
    cycle doesn't take it for "nothing changed": it searches every type, and the note syncs."""
    lead, contact = linked_person
    activities.settings(**ALL_HUBSPOT)
    emulators.hubspot.app.faults.add(
        path=r"^/engagements/v1/", status=200, body={"engagements": [], "hasMore": False}
    )
    engagement(hs_person, "notes", contact, hs_note_body="Still read")
    run = activities()
    assert hubspot_reads(run) == [FEED] + [
        f"{k}.search" for k in sorted(test_activities.TO_CONTACT)
    ]
    assert [t["Subject"] for t in tasks_of(sf_person, lead)] == ["Note: Still read"]
