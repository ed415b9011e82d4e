"""Activities ⇄ tasks (spec §13) when HubSpot pages a record's associations: a contact with
more activities (or an activity with more contacts) than one association batch-read answer
holds (500 per record in HubSpot, crm-apis.md §3.5) has them all handled, not only the first
page. The emulator answers 2 per record here, so a few records show it."""

from __future__ import annotations

from hubspot.crm.objects import SimplePublicObjectInput as EngagementUpdate

from sync_engine.models import RecordLink, SyncError

from . import test_activities
from .helpers import hs_create, hs_update
from .test_activities import assert_idle, engagement
from .test_activities_hunt2 import inclusion_list, subjects

# The fixtures of the activities scenarios.
activities = test_activities.activities
linked_person = test_activities.linked_person


def small_association_pages(emulators) -> None:
    emulators.hubspot.app.run_action("set_association_page_size", size=2)


def test_every_call_edited_while_outside_the_list_syncs_when_the_contact_enters_it(
    activities, linked_person, hs_person, sf_person, emulators
):
    """Ada has five calls synced to her lead before the admin chose a list she isn't in.
    While she is outside, each call is retitled in HubSpot: nothing goes across. When she
    enters the list, all five edits reach Salesforce, also those of the calls HubSpot
    answers on a later page of her associations."""
    lead, contact = linked_person
    small_association_pages(emulators)
    activities.settings(hubspot_calls=True)
    calls = [engagement(hs_person, "calls", contact, hs_call_title=f"Call {n}") for n in range(5)]
    activities()
    assert subjects(sf_person, lead) == [f"Call: Call {n}" for n in range(5)]
    inclusion_list(activities, emulators)
    for n, call in enumerate(calls):
        hs_person.crm.objects.basic_api.update(
            "calls", call, EngagementUpdate(properties={"hs_call_title": f"Call {n} (done)"})
        )
    activities()
    assert subjects(sf_person, lead) == [f"Call: Call {n}" for n in range(5)]

    hs_update(hs_person, contact, jobtitle="please sync")  # Ada enters the list
    run = activities()
    assert subjects(sf_person, lead) == [f"Call: Call {n} (done)" for n in range(5)]
    assert run.counts["updated_in_salesforce"] == 5, run.counts
    assert_idle(activities)


def test_a_call_whose_synced_contact_is_on_a_later_page_goes_on_that_contact(
    activities, hs_person, sf_person, emulators
):
    """A call logged with four HubSpot contacts: three guests outside the inclusion list
    (never synced) and Ada, who syncs to a lead. HubSpot answers Ada on the second page of
    the call's contacts. The call still becomes a Task on her lead instead of waiting for a
    contact to sync forever."""
    small_association_pages(emulators)
    inclusion_list(activities, emulators)
    guests = [
        hs_create(hs_person, email=f"guest{n}@example.com", lastname=f"Guest {n}", company="X")
        for n in range(3)
    ]
    ada = hs_create(
        hs_person, email="ada@example.com", lastname="Lovelace", company="X", jobtitle="please sync"
    )
    activities("contacts")
    lead = RecordLink.objects.get(object="contacts", hubspot_id=ada).salesforce_id
    assert not RecordLink.objects.filter(object="contacts", hubspot_id__in=guests).exists()
    activities.settings(hubspot_calls=True)
    call = engagement(hs_person, "calls", ada, hs_call_title="Board call")
    for guest in guests:
        hs_person.crm.associations.v4.basic_api.create_default("calls", call, "contacts", guest)
    run = activities()
    assert subjects(sf_person, lead) == ["Call: Board call"], run.counts
    assert not SyncError.objects.filter(integration=activities.integration).exists()
