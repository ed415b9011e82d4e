"""Countries Salesforce's standard State and Country/Territory picklists lack (Iran, Cuba,
Syria, Sudan, North Korea; spec §12): converting can't find Salesforce's value for them, so
they go as the user typed them, and the picklist error on Sync health names the user's own
value, not ISO's name for it ("Iran, Islamic Republic of")."""

import pytest

from sync_engine.models import SyncError
from sync_engine.sync.geo import HubSpotMode, Picklists, place_for_salesforce

from .helpers import hs_create

TYPED = ["Iran", "Cuba", "Syria", "Sudan", "North Korea"]


def test_a_country_salesforce_lacks_is_sent_and_shown_as_typed(cycle, emulators, hs_person):
    emulators.salesforce.app.run_action("enable_state_country_picklists", enabled=True)
    cycle.settings(salesforce_state_country="enabled", hubspot_state_country="convert")
    made = {
        hs_create(
            hs_person, email=f"c{i}@example.com", lastname="C", company="X", country=typed
        ): typed
        for i, typed in enumerate(TYPED)
    }
    cycle()
    for contact, typed in made.items():
        error = SyncError.objects.get(resolved_at__isnull=True, record_key=f"hubspot:{contact}")
        assert error.error_type == "picklist", error.message
        assert error.sent() == [("Country", typed)]  # Sync health's "Sent: Country “Iran”"


@pytest.mark.parametrize(
    "picklists",
    [
        Picklists(),  # the org's list not read: Salesforce's standard one stands in
        Picklists({"NL": "Netherlands", "US": "United States"}),  # the org's own
    ],
)
def test_without_a_salesforce_value_the_country_goes_as_typed(picklists):
    convert = HubSpotMode.CONVERT
    assert place_for_salesforce(" Iran ", None, mode=convert, picklists=picklists).country == "Iran"
    assert place_for_salesforce("IR", None, mode=convert, picklists=picklists).country == "IR"
    # Countries Salesforce has still get its value.
    assert place_for_salesforce("Holland", None, mode=convert).country == "Netherlands"
    assert place_for_salesforce("USA", "CA", mode=convert, picklists=picklists).country == (
        "United States"
    )


def test_a_country_the_org_removed_goes_as_typed():
    """The org's list is known and lacks Russia: not Salesforce's standard "Russian
    Federation" (a value this org doesn't have either), but what the user typed."""
    picklists = Picklists({"NL": "Netherlands"})
    place = place_for_salesforce("Russia", None, mode=HubSpotMode.CONVERT, picklists=picklists)
    assert place.country == "Russia"
