"""The Discover features tab: what the integration does, and where each feature is set up."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class Feature:
    title: str | Promise
    text: str | Promise
    url_name: str
    anchor: str = ""
    link: str | Promise = ""
    available: bool = True


FEATURES: tuple[Feature, ...] = (
    Feature(
        _("Sync contacts both ways"),
        _(
            "Salesforce leads and contacts sync with HubSpot contacts, matched by email. Choose "
            "what is created, updated and deleted on each side."
        ),
        "contacts",
        link=_("Contact settings"),
    ),
    Feature(
        _("Limit what syncs"),
        _("Pick an active HubSpot list: only its contacts sync to Salesforce."),
        "contacts",
        "limit",
        _("Choose an inclusion list"),
    ),
    Feature(
        _("Map properties to fields"),
        _(
            "Pair HubSpot properties with Salesforce fields and choose, per pair, which system "
            "wins. Incompatible types are caught before you save."
        ),
        "contacts",
        "mappings",
        _("Contact properties"),
    ),
    Feature(
        _("Lifecycle stages from opportunities"),
        _(
            "A contact on an open opportunity becomes an Opportunity, and a Customer when it "
            "closes won, never moving backwards."
        ),
        "contacts",
        "lifecycle",
        _("Lifecycle stage setting"),
    ),
    Feature(
        _("State and country matching"),
        _("Convert HubSpot's state and country values so Salesforce's picklists accept them."),
        "contacts",
        "state-country",
        _("Matching state and country fields"),
    ),
    Feature(
        _("API call allocation"),
        _(
            "Cap how many Salesforce API calls the integration may use in any 24 hours, and "
            "see when it would run out at the current pace."
        ),
        "sync_health",
        "api-usage",
        _("API call use"),
    ),
    Feature(
        _("Sync errors you can act on"),
        _(
            "Every failure is filed under a type with an explanation and a fix. Resync once "
            "it's fixed, or export the list."
        ),
        "sync_health",
        "sync-errors",
        _("Sync errors"),
    ),
    Feature(
        _("Audit log"),
        _("Every settings change, with who made it, when, and the values before and after."),
        "audit_log",
        link=_("Audit log"),
    ),
    Feature(
        _("REST API"),
        _(
            "Read and change settings, mappings, errors and imports, and start syncs, over a "
            "REST API with token authentication and an OpenAPI description. Connecting and the "
            "setup wizards stay in the browser."
        ),
        "api_docs",
        link=_("API documentation"),
    ),
    Feature(
        _("Companies and accounts"),
        _(
            "HubSpot companies sync with Salesforce accounts, matched by account id or shared "
            "contacts, never by domain, with the contacts' company associations kept in step."
        ),
        "companies",
        link=_("Companies"),
    ),
    Feature(
        _("Deals and opportunities"),
        _(
            "Opportunities sync with deals in one pipeline per record type, their stages "
            "following the Stage picklist, with contact roles and the account as associations."
        ),
        "deals",
        link=_("Deals"),
    ),
    Feature(
        _("Tickets from cases"),
        _(
            "Salesforce cases create and update HubSpot tickets, one pipeline per case process, "
            "set up in a six-step wizard."
        ),
        "tickets",
        link=_("Tickets"),
    ),
    Feature(
        _("Activity sync"),
        _(
            "Send HubSpot calls, emails, meetings, notes and tasks to Salesforce as tasks, and "
            "Salesforce tasks and events to HubSpot; tasks sync both ways when both are on."
        ),
        "activities",
        link=_("Activities"),
    ),
    Feature(
        _("Sync custom objects"),
        _("Pair a Salesforce object with a HubSpot custom object, up to ten."),
        "custom_objects",
        link=_("Custom objects"),
    ),
    Feature(
        _("Import Salesforce records"),
        _(
            "Bring existing Salesforce records into HubSpot in one go, with a progress bar and "
            "a summary of what was created, updated, skipped and why."
        ),
        "imports",
        link=_("Import records"),
    ),
    Feature(
        _("Workflow actions"),
        _("Set a Salesforce campaign or create a Salesforce task from a HubSpot workflow."),
        "discover",
        available=False,
    ),
)
