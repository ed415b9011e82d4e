"""The legacy engagements change feed, ``GET /engagements/v1/engagements/modified/after``, read
through the client's ``api_request``: every engagement type in one paged answer, in v1 shape."""

from __future__ import annotations

from emulators.testing import hubspot_client

from .test_fidelity_hunt7 import token_with_scopes

FEED = "/engagements/v1/engagements/modified/after"


def feed(hs, after, limit=None):
    qs = {"after": after, **({"limit": limit} if limit else {})}
    return hs.api_request({"method": "GET", "path": FEED, "qs": qs})


def test_every_type_changed_after_a_time_in_one_answer(app, hs):
    contact = hs.crm.contacts.basic_api.create({"properties": {"email": "a@example.com"}}).id
    app.clock.advance(1)
    start = app.now_ms()
    app.clock.advance(1)
    note = app.run_action(
        "create", object_type="notes", properties={"hs_note_body": "Hi", "hs_timestamp": "0"}
    )["id"]
    app.run_action("associate", from_type="notes", from_id=note, to_type="contacts", to_id=contact)
    app.clock.advance(1)
    call = app.run_action(
        "create", object_type="calls", properties={"hs_call_title": "Ring", "hs_timestamp": "0"}
    )["id"]

    body = feed(hs, start).json()

    assert body["hasMore"] is False
    by_id = {str(r["engagement"]["id"]): r for r in body["results"]}
    assert set(by_id) == {note, call}
    assert by_id[note]["engagement"]["type"] == "NOTE"
    assert by_id[note]["associations"]["contactIds"] == [int(contact)]
    assert by_id[note]["metadata"] == {"body": "Hi"}
    assert by_id[call]["engagement"]["type"] == "CALL"
    assert by_id[call]["engagement"]["lastUpdated"] > start
    # Nothing changed after the later time: an empty answer.
    assert feed(hs, app.now_ms()).json() == {"results": [], "hasMore": False}


def test_pages_follow_the_cursor_and_archived_engagements_leave(app, hs):
    start = app.now_ms() - 1
    ids = []
    for n in range(6):
        app.clock.advance(0.01)
        ids.append(
            app.run_action(
                "create",
                object_type="tasks",
                properties={"hs_task_subject": f"T{n}", "hs_timestamp": "0"},
            )["id"]
        )
    app.run_action("archive", object_type="tasks", id=ids[0])

    first = feed(hs, start, limit=2).json()
    assert first["hasMore"] is True and len(first["results"]) == 2
    second = feed(hs, first["after"], limit=2).json()
    rest = feed(hs, second["after"], limit=2).json()
    assert rest["hasMore"] is False
    read = [str(r["engagement"]["id"]) for r in first["results"] + second["results"]]
    read += [str(r["engagement"]["id"]) for r in rest["results"]]
    assert read == ids[1:]


def test_limits_scope_and_search_lag(app, hs, base_url, emulators):
    assert feed(hs, 0, limit=1001).status_code == 400
    assert hs.api_request({"method": "GET", "path": FEED}).status_code == 400
    narrow = hubspot_client(
        emulators, token=token_with_scopes(hs, base_url, "oauth crm.objects.deals.read")
    )
    refused = feed(narrow, 0)
    assert refused.status_code == 403 and refused.json()["category"] == "MISSING_SCOPES"
    # An engagement written within the search lag shows late, as HubSpot's indexing does.
    app.run_action("set_search_lag", ms=5000)
    app.run_action("create", object_type="notes", properties={"hs_timestamp": "0"})
    assert feed(hs, 0).json()["results"] == []
    app.clock.advance(6)
    assert len(feed(hs, 0).json()["results"]) == 1
