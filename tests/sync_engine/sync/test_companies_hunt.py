"""Companies ⇄ accounts: sequences across cycles, manual Syncs that fail, retries."""

from __future__ import annotations

from sync_engine.models import SyncError
from sync_engine.services import object_settings_update, record_resync

from .helpers import due_now, hs_create
from .test_companies import hs_company


def leads_only_company(companies, integration, hs_person, name: str) -> str:
    """A company whose only contact syncs as a Salesforce lead: it makes no account by itself."""
    object_settings_update(
        integration=integration, object_name="contacts", changes={"hubspot_creates": "lead"}
    )
    company = hs_company(hs_person, name=name)
    domain = name.lower().replace(" ", "-")
    contact = hs_create(hs_person, email=f"lee@{domain}.example", firstname="Lee", lastname="L")
    companies.hs_action("associate", from_type="contacts", from_id=contact, to_type="companies",
                        to_id=company)  # fmt: skip
    companies.both()
    companies()
    assert not companies.links().exists()
    return company


def test_a_manual_sync_salesforce_refuses_creates_the_account_when_its_error_is_retried(
    companies,
    integration,
    sf_person,
    hs_person,
    emulators,
):
    company = leads_only_company(companies, integration, hs_person, "Refused Once")
    rule = emulators.salesforce.app.run_action(
        "add_validation_rule", object="Account", field="Name", operator="not_blank",
        message="Accounts need approval first",
    )  # fmt: skip
    record_resync(integration=integration, object_name="companies", record_key=f"hubspot:{company}")
    companies()
    error = SyncError.objects.get(object="companies", resolved_at__isnull=True)
    assert error.record_key == f"hubspot:{company}"
    assert "Accounts need approval first" in error.message

    # The admin fixes the rule; the error's retry (20 minutes later) creates the account
    # the admin asked for, rather than ending the error as a company that doesn't sync.
    emulators.salesforce.app.run_action("remove_validation_rule", rule_name=rule)
    due_now(error)
    run = companies()

    assert run.counts.get("created_in_salesforce") == 1, run.counts
    assert companies.link(hubspot_id=str(company))
    assert sf_person.query("SELECT Name FROM Account")["records"][0]["Name"] == "Refused Once"
    error.refresh_from_db()
    assert error.resolved_at is not None and not error.ended_because


def test_a_manual_sync_of_an_account_hubspot_refuses_creates_its_company_on_the_retry(
    companies,
    integration,
    sf_person,
    hs_person,
    emulators,
):
    companies.settings(salesforce_creates=False)
    account = sf_person.Account.create({"Name": "Synced By Hand"})["id"]
    companies()
    assert not companies.links().exists()
    emulators.hubspot.app.faults.add(
        path="/crm/v3/objects/companies/batch/upsert",
        status=400,
        body={"status": "error", "category": "VALIDATION_ERROR", "message": "Refused for now"},
        times=1,
    )
    record_resync(
        integration=integration,
        object_name="companies",
        record_key=f"salesforce:{account}",
        salesforce_type="Account",
    )
    companies()
    error = SyncError.objects.get(object="companies", resolved_at__isnull=True)
    assert error.record_key == f"salesforce:{account}" and "Refused for now" in error.message

    due_now(error)
    run = companies()
    assert run.counts.get("created_in_hubspot") == 1, run.counts
    assert companies.link(salesforce_id=account)
    error.refresh_from_db()
    assert error.resolved_at is not None and not error.ended_because


def test_an_account_owner_changed_on_both_sides_follows_the_later_change(
    companies, emulators, sf_person, hs_person
):
    """As for contacts (spec §11): HubSpot's later reassignment of the company wins, not
    always Salesforce's."""
    import time

    from hubspot.crm.companies import SimplePublicObjectInput as CompanyInput

    from .helpers import user_and_owner
    from .test_companies import hs_company_get

    ann_user, _ann = user_and_owner(emulators, "Ann", "Smit", "ann@example.com")
    bob_user, _bob = user_and_owner(emulators, "Bob", "Mol", "bob@example.com")
    cas_user, cas = user_and_owner(emulators, "Cas", "Bos", "cas@example.com")
    account = sf_person.Account.create({"Name": "Owned Co", "OwnerId": ann_user})["id"]
    companies()
    company = companies.link(salesforce_id=account).hubspot_id
    sf_person.Account.update(account, {"OwnerId": bob_user})
    time.sleep(1.1)  # Salesforce stamps whole seconds
    hs_person.crm.companies.basic_api.update(
        company, CompanyInput(properties={"hubspot_owner_id": cas})
    )
    companies()
    assert sf_person.Account.get(account)["OwnerId"] == cas_user
    assert hs_company_get(hs_person, company, "hubspot_owner_id")["hubspot_owner_id"] == cas
