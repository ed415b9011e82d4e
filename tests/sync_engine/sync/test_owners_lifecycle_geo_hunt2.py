"""Hunt: owners (spec §11), lifecycle stages (spec §7), state/country picklists (spec §12)."""

from hubspot.crm.properties import OptionInput, PropertyUpdate

from .helpers import hs_update
from .test_contacts_lifecycle import linked_contact, opportunity, stage


def add_stage_after(hs, after: str, value: str, label: str) -> None:
    """An admin adds a custom lifecycle stage right after ``after`` in HubSpot's order."""
    prop = hs.crm.properties.core_api.get_by_name("contacts", "lifecyclestage")
    options = []
    for o in prop.options:
        options.append(OptionInput(label=o.label, value=o.value, hidden=bool(o.hidden)))
        if o.value == after:
            options.append(OptionInput(label=label, value=value, hidden=False))
    for i, option in enumerate(options):
        option.display_order = i
    hs.crm.properties.core_api.update("contacts", "lifecyclestage", PropertyUpdate(options=options))


def test_a_custom_stage_after_customer_is_never_moved_back(cycle, emulators, sf_person, hs_person):
    """HubSpot's lifecycle stages can be customised: a stage the admin put after Customer
    ("Churned customer") is later than Opportunity, so a new role moves nobody back."""
    opp, account = opportunity(sf_person)
    contact, hs_contact = linked_contact(cycle, sf_person, "churned@example.com", account)
    add_stage_after(hs_person, "customer", "1234567", "Churned customer")
    hs_update(hs_person, hs_contact, lifecyclestage="customer")
    hs_update(hs_person, hs_contact, lifecyclestage="1234567")
    add_stage_after(hs_person, "salesqualifiedlead", "7654321", "Demo booked")
    other, hs_other = linked_contact(cycle, sf_person, "demo@example.com", account)
    hs_update(hs_person, hs_other, lifecyclestage="7654321")
    cycle()
    sf = emulators.salesforce.app
    sf.run_action("add_contact_role", opportunity_id=opp, contact_id=contact)
    sf.run_action("add_contact_role", opportunity_id=opp, contact_id=other)
    cycle()
    assert stage(hs_person, hs_contact) == "1234567"
    assert stage(hs_person, hs_other) == "opportunity"  # a custom stage before it: forward


def test_picklists_switched_on_after_connecting_get_salesforces_standard_values(
    cycle, emulators, sf_person, hs_person
):
    """The admin turns State and Country/Territory Picklists on after the integration read
    Salesforce's fields (no code fields then): the values sent are still Salesforce's own
    standard ones ("Vietnam", "Gujarat"), not ISO's spellings ("Viet Nam", "Gujarāt")."""
    from .helpers import hs_create

    cycle()  # the schema is read while the org has no picklists
    emulators.salesforce.app.run_action("enable_state_country_picklists", enabled=True)
    cycle.settings(salesforce_state_country="enabled", hubspot_state_country="convert")
    people = {
        ("Vietnam", None): ("Vietnam", None),
        ("Czech Republic", None): ("Czechia", None),
        ("Turkey", None): ("Türkiye", None),
        ("Cabo Verde", None): ("Cape Verde", None),
        ("India", "Gujarat"): ("India", "Gujarat"),
        ("IN", "Tamil Nadu"): ("India", "Tamil Nadu"),
        ("Italy", "Roma"): ("Italy", "Rome"),
        ("China", "Beijing"): ("China", "Beijing"),
    }
    made = {
        hs_create(
            hs_person,
            email=f"p{i}@example.com",
            lastname="P",
            company="X",
            country=country,
            **({"state": state} if state else {}),
        ): expected
        for i, ((country, state), expected) in enumerate(people.items())
    }
    run = cycle()
    assert run.counts["created_in_salesforce"] == len(people), run.counts
    for contact, expected in made.items():
        lead = sf_person.Lead.get(cycle.link(hubspot_id=contact).salesforce_id)
        assert (lead["Country"], lead["State"]) == expected
