"""HubSpot refuses an import's calls with 403 (a scope its app wasn't granted): the import
stops with HubSpot's advice, as the cycles suspend with it (add the scope to the app, then
resume), not a bare "Reconnect" that can't mend it. Salesforce's refusals keep theirs."""

from __future__ import annotations

from integration_admin.labels import engine_message
from sync_engine.models import ImportJob

from .test_imports import integration, leads, run, seed  # noqa: F401 (the fixture)

SCOPE_ADVICE = (
    "The HubSpot app the integration connects with lacks a scope it needs: add the scope to "
    "the app in HubSpot (for a private app: its Scopes tab), reconnect on the Connection tab "
    "if its token changed, then resume the import."
)


def test_a_hubspot_403_stops_the_import_with_hubspots_advice(
    integration,  # noqa: F811 (the fixture)
    sf_person,
    emulators,
):
    seed(sf_person, "Lead", leads(3))
    emulators.hubspot.app.faults.add(path=r"^/crm/", error_code="MISSING_SCOPES")
    job = run(integration, "leads")
    assert job.status == ImportJob.Status.FAILED
    assert job.message.startswith("HubSpot: hubspot 403 MISSING_SCOPES"), job.message
    assert job.message.endswith(SCOPE_ADVICE)
    assert "Reconnect, then resume the import" not in job.message
    # What the Import page shows: the message's words for people, HubSpot's own kept.
    shown = engine_message(job.message)
    assert shown.endswith(SCOPE_ADVICE) and "MISSING_SCOPES" in shown
