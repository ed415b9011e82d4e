"""Chinese provinces, Mexican states and an org's customised Country picklist, end to end
through both emulators (spec §12; unit cases in tests/sync_engine/test_geo_hunt7.py)."""

from __future__ import annotations

import pytest

from emulators.salesforce.schema import Schema
from sync_engine.models import SyncError

from .helpers import hs_create, hs_get, hs_update, new_lead, set_rule


def idle(cycle) -> None:
    cycle()  # Salesforce's defaults for new leads flow back once
    run = cycle()
    assert not run.counts.get("updated_in_salesforce"), run.counts
    assert not run.counts.get("updated_in_hubspot"), run.counts


def open_errors(contact: str) -> list[SyncError]:
    return list(SyncError.objects.filter(resolved_at__isnull=True, record_key=f"hubspot:{contact}"))


def synced_leads(cycle, sf, hs, country: str, typed: dict[str, str], lastname: str):
    """New HubSpot contacts in ``country``, one per email with the state typed for it, synced
    in one cycle: (their ids, their new leads), by email."""
    ids = {
        email: hs_create(
            hs, email=email, lastname=lastname, company="X", country=country, state=state
        )
        for email, state in typed.items()
    }
    run = cycle()
    assert run.counts["created_in_salesforce"] == len(typed), run.counts
    leads = {
        email: sf.Lead.get(cycle.link(hubspot_id=contact).salesforce_id)
        for email, contact in ids.items()
    }
    return ids, leads


@pytest.fixture
def picklists(emulators):
    emulators.salesforce.app.run_action("enable_state_country_picklists", enabled=True)


@pytest.fixture
def org_without(emulators, picklists):
    """The admin deactivates countries in Setup → State and Country/Territory Picklists: the
    org's Country picklists (every object's) no longer have them. Put back afterwards."""
    app = emulators.salesforce.app

    def deactivate(*codes: str) -> None:
        with app.lock:
            geo = app.schema.geo
            for code in codes:
                geo.countries.pop(code)
            geo.country_lookup = {k: c for k, c in geo.country_lookup.items() if c not in codes}
            for obj in app.schema.objects.values():
                for prefix in obj.address_prefixes():
                    field = obj.fields.get(f"{prefix}CountryCode")
                    if field is None:
                        continue
                    field.picklist = field.picklist - set(codes)
                    values = [
                        {**v, "active": False} if v["value"] in codes else v
                        for v in field.raw["picklistValues"]
                    ]  # (copies: the describe JSON is shared by every schema)
                    field.raw = {**field.raw, "picklistValues": values}
            app._caches_changed()

    yield deactivate
    with app.lock:
        app.schema = Schema()
        app._caches_changed()


def test_chinese_provinces_as_iso_writes_them_reach_salesforces_names(
    cycle, picklists, sf_person, hs_person
):
    cycle.settings(salesforce_state_country="enabled", hubspot_state_country="convert")
    typed = {
        "jilin@example.com": "Jilin Sheng",
        "beijing@example.com": "Beijing Shi",
        "urumqi@example.com": "Xinjiang Uygur Zizhiqu",
        "canton@example.com": "CN-GD",
        "hohhot@example.com": "Inner Mongolia",
    }
    ids, leads = synced_leads(cycle, sf_person, hs_person, "China", typed, "Li")
    assert {e: (lead["CountryCode"], lead["State"]) for e, lead in leads.items()} == {
        "jilin@example.com": ("CN", "Jilin"),
        "beijing@example.com": ("CN", "Beijing"),
        "urumqi@example.com": ("CN", "Xinjiang"),
        "canton@example.com": ("CN", "Guangdong"),
        "hohhot@example.com": ("CN", "Nei Mongol"),
    }
    idle(cycle)
    # HubSpot keeps its text: the same province, in step.
    assert hs_get(hs_person, ids["jilin@example.com"], "state")["state"] == "Jilin Sheng"


def test_a_salesforce_province_comes_to_hubspot_as_written_and_stays_in_step(
    cycle, picklists, sf_person, hs_person
):
    cycle.settings(salesforce_state_country="enabled", hubspot_state_country="convert")
    set_rule(cycle.integration, "state", "two_way")  # HubSpot's edits count too
    lead = new_lead(sf_person, Email="changchun@example.com", CountryCode="CN", StateCode="22")
    cycle()
    contact = cycle.link(salesforce_id=lead).hubspot_id
    props = hs_get(hs_person, contact, "country", "state")
    assert (props["country"], props["state"]) == ("China", "Jilin")
    idle(cycle)
    # The marketer writes it as ISO does: the same province, nothing to send.
    hs_update(hs_person, contact, state="Jilin Sheng")
    run = cycle()
    assert not run.counts.get("updated_in_salesforce"), run.counts
    assert sf_person.Lead.get(lead)["StateCode"] == "22"


def test_mexican_states_by_isos_three_letter_codes_reach_salesforce(
    cycle, picklists, sf_person, hs_person
):
    cycle.settings(salesforce_state_country="enabled", hubspot_state_country="convert")
    typed = {
        "cdmx@example.com": "MX-CMX",
        "gdl@example.com": "JAL",
        "mty@example.com": "MX-NLE",
        "toluca@example.com": "MEX",
    }
    _, leads = synced_leads(cycle, sf_person, hs_person, "Mexico", typed, "G")
    states = {email: lead["StateCode"] for email, lead in leads.items()}
    assert states == {
        "cdmx@example.com": "DF",
        "gdl@example.com": "JA",
        "mty@example.com": "NL",
        "toluca@example.com": "ME",
    }
    idle(cycle)


def test_a_country_the_customised_org_lacks_is_refused_as_the_user_typed_it(
    cycle, org_without, sf_person, hs_person
):
    """The org's Country picklist has no Russia: the new contact's error names "Russia" (what
    the marketer wrote), not "RU"; the contacts whose country the org has sync."""
    org_without("RU")
    cycle.settings(salesforce_state_country="customised", hubspot_state_country="convert")
    moscow = hs_create(
        hs_person, email="moscow@example.com", lastname="I", company="X", country="Russia"
    )
    utrecht = hs_create(
        hs_person, email="utrecht@example.com", lastname="J", company="X", country="Holland"
    )
    run = cycle()
    assert run.counts["created_in_salesforce"] == 1, run.counts
    lead = sf_person.Lead.get(cycle.link(hubspot_id=utrecht).salesforce_id)
    assert (lead["CountryCode"], lead["Country"]) == ("NL", "Netherlands")
    [error] = open_errors(moscow)
    assert error.error_type == "picklist", error.message
    assert "Russia" in error.message and "RU" not in error.message.split(":")[-1]
    assert error.sent() == [("CountryCode", "Russia")]  # "Sent: Country Code “Russia”"


def test_moving_to_a_country_the_org_lacks_holds_back_only_the_country(
    cycle, org_without, sf_person, hs_person
):
    org_without("RU")
    cycle.settings(salesforce_state_country="customised", hubspot_state_country="convert")
    for prop in ("country", "lastname"):  # HubSpot's edits go to Salesforce
        set_rule(cycle.integration, prop, "two_way")
    contact = hs_create(
        hs_person, email="ivan@example.com", lastname="Ivanov", company="X", country="NL"
    )
    cycle()
    lead = cycle.link(hubspot_id=contact).salesforce_id
    idle(cycle)

    hs_update(hs_person, contact, country="Russia", lastname="Ivanova")
    cycle()
    record = sf_person.Lead.get(lead)
    assert (record["LastName"], record["CountryCode"]) == ("Ivanova", "NL")  # the rest synced
    [error] = open_errors(contact)
    assert error.error_type == "picklist", error.message
    assert error.sent() == [("CountryCode", "Russia")]

    # The admin fixes the value in HubSpot: the error ends and the country goes.
    hs_update(hs_person, contact, country="Germany")
    cycle()
    assert sf_person.Lead.get(lead)["CountryCode"] == "DE"
    assert not open_errors(contact)
