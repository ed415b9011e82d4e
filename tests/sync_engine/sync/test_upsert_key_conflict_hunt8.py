"""A new Salesforce record whose id a HubSpot record linked to another Salesforce record holds in
its sync key (typed there by hand, brought by an import or a merge in HubSpot): the create's
upsert by that key finds the linked record. It keeps its link and its values (a person's edit
not synced yet too), the new record gets a *Value already in use* error naming it and what to
do, the rest of the batch syncs, and the cycle never crashes; once the key is emptied (the
linked record's next sync puts its own id back), a retry creates the record's own."""

from __future__ import annotations

from hubspot.crm.companies import SimplePublicObjectInput as CompanyInput

from emulators.testing import advance_clocks
from sync_engine.models import FieldMapping, SyncError

from .helpers import due_now
from .test_companies import hs_company_get, hs_company_ids
from .test_custom_objects import KEY

COMPANY_KEY = "salesforce_account_id_sync"


def open_errors(object_name: str):
    return SyncError.objects.filter(object=object_name, resolved_at__isnull=True)


def test_a_new_account_whose_id_a_linked_company_holds_never_takes_that_company(
    companies, sf_person, hs_person
):
    FieldMapping.objects.filter(object="companies", hubspot_property="phone").update(rule="two_way")
    held = sf_person.Account.create({"Name": "Initech", "Phone": "111"})["id"]
    companies()
    holder = companies.link(salesforce_id=held).hubspot_id
    advance_clocks(companies.emulators, 5)

    claimed = sf_person.Account.create({"Name": "Globex", "Phone": "222"})["id"]
    other = sf_person.Account.create({"Name": "Umbrella"})["id"]
    # Someone types the new account's id into the company's key, and edits its phone.
    hs_person.crm.companies.basic_api.update(
        holder, CompanyInput(properties={COMPANY_KEY: claimed, "phone": "333"})
    )
    run = companies()
    assert run.counts["created_in_hubspot"] == 1  # Umbrella, beside it
    assert companies.link(salesforce_id=held).hubspot_id == holder
    assert not companies.links().filter(salesforce_id=claimed).exists()
    props = hs_company_get(hs_person, holder, "name", "phone", COMPANY_KEY)
    assert props["name"] == "Initech" and props["phone"] == "333"
    assert sf_person.Account.get(held)["Name"] == "Initech"
    assert sf_person.Account.get(held)["Phone"] == "333"  # the person's edit still syncs
    error = open_errors("companies").get()
    assert error.record_key == f"salesforce:{claimed}" and error.error_type == "value_in_use"
    assert error.hubspot_id == holder
    assert holder in error.message and held in error.message and COMPANY_KEY in error.message
    umbrella = companies.link(salesforce_id=other).hubspot_id
    assert umbrella != holder

    # The company's own sync gave its key back its account's id: a retry creates Globex's.
    assert props[COMPANY_KEY] == held
    advance_clocks(companies.emulators, 5)
    due_now(error)
    companies()
    made = companies.link(salesforce_id=claimed).hubspot_id
    assert made not in (holder, umbrella)
    assert hs_company_get(hs_person, made, "name")["name"] == "Globex"
    assert hs_company_get(hs_person, holder, "name")["name"] == "Initech"
    assert companies.link(salesforce_id=held).hubspot_id == holder
    assert len(hs_company_ids(hs_person)) == 3
    assert not open_errors("companies").exists()


def test_a_new_project_whose_id_a_linked_record_holds_never_takes_that_record(
    integration, emulators, hs_person, sf_person
):
    from .test_custom_objects import Projects, set_up

    emulators.hubspot.app.configure_budget(search_per_second=1000)
    hs_type, name = set_up(integration, hs_person)
    pairing = Projects(integration, emulators, hs_person, hs_type, name)
    held = sf_person.Project__c.create({"Name": "Apollo", "Budget__c": 100})["id"]
    pairing()
    holder = pairing.link(salesforce_id=held).hubspot_id
    advance_clocks(emulators, 5)

    claimed = sf_person.Project__c.create({"Name": "Gemini", "Budget__c": 200})["id"]
    other = sf_person.Project__c.create({"Name": "Mercury"})["id"]
    pairing.update(holder, **{KEY: claimed})
    run = pairing()
    assert run.counts["created_in_hubspot"] == 1
    assert pairing.link(salesforce_id=held).hubspot_id == holder
    assert not pairing.links().filter(salesforce_id=claimed).exists()
    props = pairing.get(holder)
    assert props["project_name"] == "Apollo" and props["budget"] == "100"
    assert sf_person.Project__c.get(held)["Name"] == "Apollo"
    error = open_errors(name).get()
    assert error.record_key == f"salesforce:{claimed}" and error.error_type == "value_in_use"
    assert holder in error.message and KEY in error.message
    assert error.code == "SYNC_KEY_IN_USE"
    mercury = pairing.link(salesforce_id=other).hubspot_id

    # The record's own sync gave its key back its project's id: a retry creates Gemini's.
    assert props[KEY] == held
    advance_clocks(emulators, 5)
    due_now(error)
    pairing()
    made = pairing.link(salesforce_id=claimed).hubspot_id
    assert made not in (holder, mercury)
    assert pairing.get(made)["project_name"] == "Gemini"
    assert pairing.get(holder)["project_name"] == "Apollo"
    assert len(pairing.ids()) == 3
    assert not open_errors(name).exists()


def test_while_the_key_still_names_it_a_retry_never_writes_the_linked_record_again(
    integration, emulators, hs_person, sf_person
):
    """HubSpot refuses giving the linked record its key back (say a third record holds that
    id): the new project's retries are refused without writing onto it, until its key is
    emptied by hand."""
    from .test_custom_objects import Projects, set_up

    emulators.hubspot.app.configure_budget(search_per_second=1000)
    hs_type, name = set_up(integration, hs_person)
    pairing = Projects(integration, emulators, hs_person, hs_type, name)
    held = sf_person.Project__c.create({"Name": "Apollo", "Budget__c": 100})["id"]
    pairing()
    holder = pairing.link(salesforce_id=held).hubspot_id
    advance_clocks(emulators, 5)
    claimed = sf_person.Project__c.create({"Name": "Gemini", "Budget__c": 200})["id"]
    pairing.update(holder, **{KEY: claimed})
    refusal = emulators.hubspot.app.faults.add(
        path=f"/crm/v3/objects/{hs_type}/batch/update",
        status=400,
        body={"status": "error", "category": "VALIDATION_ERROR", "message": "Not today"},
        after=1,  # the write putting back its values goes through; its key's doesn't
        times=1,
    )
    pairing()
    assert refusal.fired == 1
    assert pairing.get(holder)[KEY] == claimed
    error = open_errors(name).get(record_key=f"salesforce:{claimed}")

    advance_clocks(emulators, 5)
    stamp = hs_person.crm.objects.basic_api.get_by_id(hs_type, holder).updated_at
    due_now(error)
    run = pairing()
    assert run.counts["failed"] == 1  # retried, and refused again without a write
    assert not [op for op in run.operations if "upsert" in op or "update" in op]
    assert hs_person.crm.objects.basic_api.get_by_id(hs_type, holder).updated_at == stamp
    assert open_errors(name).get(record_key=f"salesforce:{claimed}").pk == error.pk
    assert not pairing.links().filter(salesforce_id=claimed).exists()

    pairing.update(holder, **{KEY: ""})  # as the error says
    advance_clocks(emulators, 5)
    due_now(error)
    pairing()
    made = pairing.link(salesforce_id=claimed).hubspot_id
    assert made != holder and pairing.get(made)["project_name"] == "Gemini"
    assert pairing.get(holder)["project_name"] == "Apollo"
    assert pairing.get(holder)[KEY] == held  # its own sync gave it back
    assert len(pairing.ids()) == 2


def test_values_hubspot_refuses_to_put_back_are_set_again_by_the_record_s_own_sync(
    companies, sf_person, hs_person
):
    """The upsert wrote the new account's values onto the linked company and HubSpot refuses
    the write that puts them back: the company's own sync, which reads that write as the
    integration's, not a person's, gives it its account's values again; none reach
    Salesforce."""
    held = sf_person.Account.create({"Name": "Initech", "Phone": "111"})["id"]
    companies()
    holder = companies.link(salesforce_id=held).hubspot_id
    advance_clocks(companies.emulators, 5)
    claimed = sf_person.Account.create({"Name": "Globex", "Phone": "222"})["id"]
    hs_person.crm.companies.basic_api.update(
        holder, CompanyInput(properties={COMPANY_KEY: claimed})
    )
    refusal = companies.emulators.hubspot.app.faults.add(
        path="/crm/v3/objects/companies/batch/update",
        status=400,
        body={"status": "error", "category": "VALIDATION_ERROR", "message": "Not today"},
        times=1,
    )
    companies()
    assert refusal.fired == 1  # the write putting them back
    for _ in range(2):
        advance_clocks(companies.emulators, 5)
        companies()
    props = hs_company_get(hs_person, holder, "name", "phone", COMPANY_KEY)
    assert (props["name"], props["phone"], props[COMPANY_KEY]) == ("Initech", "111", held)
    account = sf_person.Account.get(held)
    assert (account["Name"], account["Phone"]) == ("Initech", "111")
    error = open_errors("companies").get()
    assert error.record_key == f"salesforce:{claimed}" and error.hubspot_id == holder
