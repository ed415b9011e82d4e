"""Turning on "Salesforce state and country picklists" after the fields were first read
(spec §12): the setting reads the org's describe again, so the engine knows its code fields
and which countries have states without the admin pressing Refresh properties and fields."""

from sync_engine.models import ApiCall, System
from sync_engine.services import object_settings_update

from .helpers import hs_create


def _salesforce_calls(integration) -> int:
    return ApiCall.objects.filter(integration=integration, system=System.SALESFORCE).count()


def test_choosing_customised_picklists_reads_the_orgs_fields_again(
    cycle, emulators, sf_person, hs_person
):
    cycle()  # the fields are read while the org has no State and Country picklists yet
    emulators.salesforce.app.run_action("enable_state_country_picklists", enabled=True)

    before = _salesforce_calls(cycle.integration)
    cycle.settings(salesforce_state_country="customised", hubspot_state_country="convert")
    # Lead and Contact described again, counted like the Refresh button's reads.
    assert _salesforce_calls(cycle.integration) - before == 2

    contact = hs_create(
        hs_person,
        email="tokyo@example.com",
        lastname="Ito",
        company="X",
        country="Japan",
        state="Tokyo",
    )
    run = cycle()
    assert run.counts["created_in_salesforce"] == 1, run.counts
    lead = sf_person.Lead.get(cycle.link(hubspot_id=contact).salesforce_id)
    # The org configures Japan's prefectures: Tokyo is kept, written by its code.
    assert (lead["CountryCode"], lead["StateCode"], lead["State"]) == ("JP", "13", "Tokyo")


def test_other_setting_changes_read_nothing(cycle):
    cycle()
    before = _salesforce_calls(cycle.integration)
    object_settings_update(
        integration=cycle.integration, object_name="contacts", changes={"hubspot_creates": "lead"}
    )
    cycle.settings(hubspot_state_country="as_is")
    assert _salesforce_calls(cycle.integration) == before


def test_common_spellings_reach_salesforce_as_its_values(cycle, emulators, sf_person, hs_person):
    emulators.salesforce.app.run_action("enable_state_country_picklists", enabled=True)
    cycle.settings(salesforce_state_country="enabled", hubspot_state_country="convert")
    typed = {
        "dc@example.com": ("USA", "Washington D.C."),
        "cdmx@example.com": ("Mexico", "Ciudad de México"),
        "dublin@example.com": ("Ireland", "Co. Dublin"),
        "mbabane@example.com": ("Swaziland", ""),
        "yangon@example.com": ("Burma", ""),
    }
    ids = {
        email: hs_create(
            hs_person, email=email, lastname="P", company="X", country=country, state=state
        )
        for email, (country, state) in typed.items()
    }
    run = cycle()
    assert run.counts["created_in_salesforce"] == len(typed), run.counts
    leads = {
        email: sf_person.Lead.get(cycle.link(hubspot_id=hubspot_id).salesforce_id)
        for email, hubspot_id in ids.items()
    }
    assert {e: (lead["Country"], lead["State"]) for e, lead in leads.items()} == {
        "dc@example.com": ("United States", "District of Columbia"),
        "cdmx@example.com": ("Mexico", "Federal District"),
        "dublin@example.com": ("Ireland", "Dublin"),
        "mbabane@example.com": ("Eswatini", None),
        "yangon@example.com": ("Myanmar", None),
    }
    cycle()  # Salesforce's defaults for the new leads flow back once
    idle = cycle()
    assert not idle.counts.get("updated_in_salesforce") and not idle.counts.get(
        "updated_in_hubspot"
    )


def test_when_salesforce_cant_be_read_the_next_cycle_reads_the_fields(
    cycle, emulators, sf_person, hs_person
):
    cycle()
    emulators.salesforce.app.run_action("enable_state_country_picklists", enabled=True)
    emulators.salesforce.app.faults.add(path=r"/sobjects/Lead/describe", status=503)
    # The setting is saved all the same.
    cycle.settings(salesforce_state_country="enabled", hubspot_state_country="convert")
    emulators.salesforce.app.faults.clear()
    contact = hs_create(
        hs_person,
        email="osaka@example.com",
        lastname="Sato",
        company="X",
        country="Japan",
        state="Osaka",
    )
    run = cycle()
    assert run.counts["created_in_salesforce"] == 1, run.counts
    lead = sf_person.Lead.get(cycle.link(hubspot_id=contact).salesforce_id)
    assert (lead["Country"], lead["State"], lead["StateCode"]) == ("Japan", "Osaka", "27")
