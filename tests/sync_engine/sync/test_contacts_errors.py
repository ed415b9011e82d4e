"""Each error type produced by its real cause in the emulators (spec §4), and the budget."""

from sync_engine.models import ApiCall, Integration, SyncError

from .helpers import hs_create, hs_update, new_lead


def current_error(**filters):
    return SyncError.objects.get(resolved_at__isnull=True, **filters)


def test_validation_rule_is_salesforce_custom_code_and_clears_when_fixed(
    cycle, emulators, hs_person
):
    emulators.salesforce.app.run_action(
        "add_validation_rule",
        object="Lead",
        field="Title",
        operator="equals",
        value="Intern",
        message="Interns can't be leads",
        rule_name="No_interns",
    )
    contact = hs_create(
        hs_person, email="intern@example.com", lastname="I", company="X", jobtitle="Intern"
    )
    run = cycle()
    error = current_error(record_key=f"hubspot:{contact}")
    assert (error.error_type, error.code) == (
        "salesforce_custom_code",
        "FIELD_CUSTOM_VALIDATION_EXCEPTION",
    )
    assert "Interns can't be leads" in error.message and run.counts["failed"] == 1
    hs_update(hs_person, contact, jobtitle="Analyst")
    cycle()
    assert not SyncError.objects.filter(
        record_key=f"hubspot:{contact}", resolved_at__isnull=True
    ).exists()
    cycle.link(hubspot_id=contact)


def test_duplicate_rule(cycle, emulators, sf_person, hs_person):
    emulators.salesforce.app.run_action(
        "add_duplicate_rule", object="Lead", field="Phone", rule_name="Same_phone"
    )
    new_lead(sf_person, Email="first@example.com", Phone="+1 555 0000")
    cycle()
    contact = hs_create(
        hs_person, email="second@example.com", lastname="S", company="X", phone="+1 555 0000"
    )
    cycle()
    assert current_error(record_key=f"hubspot:{contact}").error_type == (
        "salesforce_duplicate_rule"
    )


def test_field_level_security_is_a_field_permission_error(
    cycle, emulators, sf_connection, sf_person, hs_person
):
    lead = new_lead(sf_person, Email="fls@example.com")
    cycle()
    contact = cycle.link(salesforce_id=lead).hubspot_id
    emulators.salesforce.app.run_action(
        "set_field_permission",
        object="Lead",
        field="Title",
        access="read",
        token=sf_connection.access_token,
    )
    hs_update(hs_person, contact, jobtitle="Fills a blank")
    cycle()
    error = current_error(record_key=f"hubspot:{contact}")
    assert error.error_type == "field_permission" and "Title" in error.message


def test_value_too_long_is_a_property_value_error(cycle, hs_person):
    contact = hs_create(
        hs_person, email="long@example.com", lastname="L", company="X", jobtitle="Senior " * 40
    )
    cycle()
    error = current_error(record_key=f"hubspot:{contact}")
    assert (error.error_type, error.code) == ("property_value", "STRING_TOO_LONG")


def test_email_already_in_use_in_hubspot(cycle, sf_person, hs_person):
    taken = hs_create(hs_person, email="taken@example.com", lastname="Holder")
    lead = new_lead(sf_person, Email="mover@example.com")
    cycle()
    sf_person.Lead.update(lead, {"Email": "taken@example.com", "Title": "Moved"})
    cycle()
    error = current_error(record_key=f"salesforce:{lead}")
    assert error.error_type == "email_in_use"
    assert error.hubspot_id == cycle.link(salesforce_id=lead).hubspot_id != taken


def test_a_locked_row_is_retried_quietly(cycle, emulators, sf_person, hs_person):
    lead = new_lead(sf_person, Email="locked@example.com")
    cycle()
    contact = cycle.link(salesforce_id=lead).hubspot_id
    emulators.salesforce.app.run_action("lock_row", id=lead, seconds=60)
    hs_update(hs_person, contact, jobtitle="Waiting")
    cycle()
    assert current_error(record_key=f"hubspot:{contact}").error_type == "transient"
    emulators.salesforce.app.run_action("unlock_row", id=lead)
    cycle()
    assert sf_person.Lead.get(lead)["Title"] == "Waiting"
    assert not SyncError.objects.filter(resolved_at__isnull=True).exists()


def test_one_bad_record_never_blocks_its_batch(cycle, hs_person, sf_person):
    for i in range(5):
        hs_create(hs_person, email=f"ok{i}@example.com", lastname=f"Ok{i}", company="X")
    hs_create(hs_person, email="bad@example.com", lastname="Bad", company="X", jobtitle="x" * 200)
    run = cycle()
    assert run.counts["created_in_salesforce"] == 5 and run.counts["failed"] == 1
    assert sf_person.query("SELECT COUNT() FROM Lead")["totalSize"] == 5


def test_the_allocation_caps_salesforce_calls_and_the_sync_resumes(cycle, integration, hs_person):
    for i in range(30):
        hs_create(hs_person, email=f"p{i}@example.com", lastname=f"P{i}", company="X")
    Integration.objects.filter(pk=integration.pk).update(salesforce_api_allocation=3)
    from sync_engine.sync.cycle import sync_cycle_run

    run = sync_cycle_run(integration=integration, object_name="contacts")
    integration.refresh_from_db()
    used = ApiCall.objects.filter(integration=integration, system="salesforce").count()
    assert used <= 3
    assert run.status in ("paused", "succeeded")
    paused = sync_cycle_run(integration=integration, object_name="contacts")
    integration.refresh_from_db()
    assert paused.status == "paused" and integration.state == "paused"
    assert ApiCall.objects.filter(integration=integration, system="salesforce").count() == used

    Integration.objects.filter(pk=integration.pk).update(salesforce_api_allocation=1000)
    run = cycle()
    integration.refresh_from_db()
    assert integration.state == "connected"
    assert len({link.hubspot_id for link in integration.links.all()}) == 30


def test_too_many_concurrent_requests_is_waited_out_not_taken_for_the_daily_limit(
    cycle, emulators, integration, sf_person
):
    """Salesforce answers a burst of long requests with the daily limit's code
    (REQUEST_LIMIT_EXCEEDED, "ConcurrentPerOrgLongTxn Limit exceeded."): the call is tried
    again after a wait, and the integration is not paused as if the org's calls ran out."""
    lead = new_lead(sf_person, Email="burst@example.com")
    emulators.salesforce.app.faults.add(
        path="/composite$", error_code="CONCURRENT_REQUEST_LIMIT", times=1
    )
    run = cycle()
    assert run.counts["created_in_hubspot"] == 1, run.counts
    assert cycle.link(salesforce_id=lead)
    integration.refresh_from_db()
    assert integration.state == Integration.State.CONNECTED


def test_a_collection_salesforce_refuses_as_a_whole_fails_its_records_not_the_cycle(
    cycle, emulators, hs_person
):
    """A create call Salesforce refuses whole (400, e.g. a field it doesn't know) becomes
    each record's typed error; the cycle goes on."""
    contact = hs_create(hs_person, email="whole@example.com", lastname="W", company="X")
    emulators.salesforce.app.faults.add(
        path="/composite/sobjects$",
        method="POST",
        status=400,
        error_code="INVALID_FIELD",
        body="No such column 'Gone__c' on sobject of type Lead",
        times=1,
    )
    run = cycle()
    assert run.counts["failed"] == 1, run.counts
    error = current_error(record_key=f"hubspot:{contact}")
    assert (error.error_type, error.code) == ("missing_property", "INVALID_FIELD")
    assert "Gone__c" in error.message


def test_a_refused_picklist_value_is_kept_with_its_error(cycle, emulators, hs_person):
    """Salesforce's message names the field, not the value: the value sent is kept."""
    emulators.salesforce.app.run_action("enable_state_country_picklists", enabled=True)
    cycle.settings(salesforce_state_country="enabled", hubspot_state_country="as_is")
    contact = hs_create(
        hs_person, email="atlantis@example.com", lastname="A", company="X", country="Atlantis"
    )
    cycle()
    error = current_error(record_key=f"hubspot:{contact}")
    assert error.error_type == "picklist"
    assert error.sent() == [("Country", "Atlantis")]


def test_a_schema_read_cut_short_is_read_whole_next_time(
    cycle, emulators, integration, sf_person, hs_person
):
    """The allocation ran out during the first schema read: nothing of it is kept as if it
    were whole, and the next cycle reads Salesforce's describe too."""
    from sync_engine.sync.cycle import sync_cycle_run

    contact = hs_create(hs_person, email="late@example.com", lastname="Late", company="X")
    out = emulators.salesforce.app.faults.add(
        path="/sobjects/Lead/describe", status=403, error_code="REQUEST_LIMIT_EXCEEDED", times=1
    )
    failed = sync_cycle_run(integration=integration, object_name="contacts")
    assert failed.status != "succeeded"
    emulators.salesforce.app.faults.remove(out.id)
    integration.refresh_from_db()
    integration.state = Integration.State.CONNECTED  # the allocation came back
    integration.save(update_fields=["state"])
    run = cycle()
    assert run.counts["created_in_salesforce"] == 1, run.counts
    lead = sf_person.Lead.get(cycle.link(hubspot_id=contact).salesforce_id)
    assert lead["Email"] == "late@example.com"


def test_a_lead_and_a_contact_with_one_email_are_told_to_convert_the_lead(
    cycle, sf_person, hs_person
):
    """Both new on the first sync: one syncs, the other has *Email already in use*, whose
    fix is converting the lead (Salesforce can't merge a lead with a contact)."""
    lead = new_lead(sf_person, Email="both@example.com")
    contact = sf_person.Contact.create({"LastName": "Twin", "Email": "both@example.com"})["id"]
    cycle()
    [error] = SyncError.objects.filter(error_type="email_in_use", resolved_at__isnull=True)
    assert error.salesforce_id in (lead, contact)
    assert "convert the lead into the contact" in error.message
    assert "merge the two" not in error.message
