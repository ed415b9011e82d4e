"""The Custom objects tab (spec §15): the synced custom objects, and the "+ Sync custom
object" wizard that sets one up or edits it.

The wizard keeps its answers in the session until *Finish*: 1. map objects (a Salesforce
object, a HubSpot custom object), 2. sync rules, 3. field mappings (never lookups), 4.
associations. Steps 3 and 4 open with suggested pairs (same names, compatible types; the
record name for HubSpot's required property; the only lookup to contacts, accounts,
opportunities or cases). Step 3 refuses to leave a property HubSpot requires unmapped while
Salesforce records create HubSpot records (their every create would fail).
Finishing saves everything at once through the services, audit-logged.
"""

from __future__ import annotations

import secrets
from dataclasses import asdict

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from sync_engine.errors import ConnectorError
from sync_engine.models import ObjectSync
from sync_engine.object_settings import (
    CUSTOM_PREFIX,
    MAX_CUSTOM_OBJECTS,
    CustomObjectSettings,
    PairRemoved,
    SettingsError,
    settings_as_dict,
    settings_for,
)
from sync_engine.selectors import custom_objects_list
from sync_engine.services import (
    CUSTOM_OBJECT_SYSTEM_FIELDS,
    MAPPING_INCOMPATIBLE,
    custom_object_choices,
    custom_object_create,
    custom_object_delete,
    custom_object_hubspot_schema,
    custom_object_lookups,
    custom_object_mappable,
    custom_object_required_missing,
    custom_object_schemas_read,
    custom_object_suggested_associations,
    custom_object_suggested_mappings,
    custom_object_update,
    object_settings_update,
)
from sync_engine.sync.values import is_compatible, read_only_field

from ..forms import CustomObjectRulesForm, setting_label, setting_value
from ..labels import SALESFORCE_TYPE_LABELS, engine_message, hubspot_type_label
from ..roles import admin_required
from ..status import ObjectNames
from .common import current_integration, not_connected
from .mappings import editor_context, schemas_refresh

TAB = "custom-objects"
WIZARD = "custom_object_wizard"  # the session key of the wizard's answers
STEPS = (
    ("objects", gettext_lazy("Map objects")),
    ("rules", gettext_lazy("Set sync rules")),
    ("fields", gettext_lazy("Map fields")),
    ("associations", gettext_lazy("Associations")),
)
STEP_NAMES = [name for name, _label in STEPS]
FIELD_PREFIX = "map:"
ASSOCIATION_PREFIX = "association:"

ASSOCIATION_LABELS = {
    "contacts": gettext_lazy("HubSpot contacts ⇄ a contact lookup"),
    "companies": gettext_lazy("HubSpot companies ⇄ an account lookup"),
    "deals": gettext_lazy("HubSpot deals ⇄ an opportunity lookup"),
    "tickets": gettext_lazy("HubSpot tickets ⇄ a case lookup"),
}
# Offered only when the Salesforce object has a lookup to their Salesforce object (most
# objects have none); contacts and companies are always listed, with a note when it has none.
ASSOCIATIONS_IF_LOOKUP = {"deals", "tickets"}


# --- the tab --------------------------------------------------------------------------------
@login_required
def custom_objects_tab(request: HttpRequest) -> HttpResponse:
    integration = current_integration(request)
    if integration is None:
        return not_connected(request, TAB)
    return _tab(request, integration)


def _tab(request: HttpRequest, integration, *, confirm_remove: dict | None = None) -> HttpResponse:
    rows = custom_objects_list(integration=integration)
    return render(
        request,
        "integration_admin/custom_objects/list.html",
        {
            "active_tab": TAB,
            "rows": rows,
            "limit": MAX_CUSTOM_OBJECTS,
            "limit_reached": len(rows) >= MAX_CUSTOM_OBJECTS,
            "confirm_remove": confirm_remove,
        },
    )


def _row(integration, number: int) -> ObjectSync:
    row = ObjectSync.objects.filter(
        integration=integration, object=f"{CUSTOM_PREFIX}{number}"
    ).first()
    if row is None:
        raise Http404
    return row


@login_required
def custom_object_page(request: HttpRequest, number: int) -> HttpResponse:
    """One custom object: its sync rules and its mappings as the object tabs list them, each
    with its warning (a field made read-only, a property deleted, a type changed) as the
    schemas last read say; admins refresh them here (the mappings change in the wizard)."""
    integration = current_integration(request)
    if integration is None:
        return not_connected(request, TAB)
    row = _row(integration, number)
    settings = settings_for(row.object, row.options)
    return render(
        request,
        "integration_admin/custom_objects/detail.html",
        {
            "active_tab": TAB,
            "number": number,
            "label": _label(settings),
            "enabled": row.enabled,
            "rules": [
                (setting_label(row.object, name), setting_value(row.object, name, value))
                for name in CustomObjectRulesForm.base_fields
                if (value := getattr(settings, name, None))
            ],
            **editor_context(request, integration, row.object),
        },
    )


@login_required
@require_POST
@admin_required
def custom_object_schema_refresh(request: HttpRequest, number: int) -> HttpResponse:
    """The object tabs' *Refresh properties and fields*, for one custom object."""
    integration = current_integration(request)
    if integration is None:
        raise Http404
    row = _row(integration, number)
    schemas_refresh(request, integration, row.object)
    if not request.htmx:
        return redirect("custom_object", number=number)
    return render(
        request,
        "integration_admin/mappings/editor.html",
        editor_context(request, integration, row.object),
    )


@login_required
@require_POST
@admin_required
def custom_object_switch(request: HttpRequest, number: int) -> HttpResponse:
    """Switch one custom object's sync off, or on again."""
    integration = current_integration(request)
    if integration is None:
        raise Http404
    row = _row(integration, number)
    # The button says which way it switches: a page drawn before another admin (or tab)
    # switched it already leaves it as both wanted, instead of switching it back.
    wanted = {"on": True, "off": False}.get(request.POST.get("enabled", ""), not row.enabled)
    if wanted != row.enabled:
        try:
            object_settings_update(
                integration=integration,
                object_name=row.object,
                changes={},
                enabled=wanted,
                actor=request.user,
            )
        except PairRemoved as removed:  # removed since _row found it
            raise Http404 from removed
    label = _label(settings_for(row.object, row.options))
    if wanted:
        messages.success(request, _("%(name)s syncs again.") % {"name": label})
    else:
        messages.success(request, _("%(name)s no longer syncs.") % {"name": label})
    return redirect("custom_objects")


@login_required
@require_http_methods(["GET", "POST"])
@admin_required
def custom_object_remove(request: HttpRequest, number: int) -> HttpResponse:
    """GET: the tab asking to confirm (it can't be undone). POST: stop syncing a custom object
    and forget its links (records stay in both apps)."""
    integration = current_integration(request)
    if integration is None:
        if request.method == "GET":
            return not_connected(request, TAB)
        raise Http404
    row = _row(integration, number)
    label = _label(settings_for(row.object, row.options))
    if request.method == "GET":
        return _tab(request, integration, confirm_remove={"number": number, "label": label})
    custom_object_delete(integration=integration, object_name=row.object, actor=request.user)
    messages.success(
        request,
        _("%(name)s was removed. Its records stay in Salesforce and HubSpot.") % {"name": label},
    )
    return redirect("custom_objects")


def _label(settings: CustomObjectSettings) -> str:
    return (
        f"{settings.salesforce_label or settings.salesforce_object} ⇄ "
        f"{settings.hubspot_label or settings.hubspot_object}"
    )


# --- the wizard -----------------------------------------------------------------------------
def _state(request: HttpRequest) -> dict | None:
    return request.session.get(WIZARD)


def _save(request: HttpRequest, state: dict) -> None:
    request.session[WIZARD] = state
    request.session.modified = True


def _begin(request: HttpRequest, state: dict) -> None:
    """A new wizard in the session (one at a time), with an id its pages post back: a page of
    a wizard started again since, in another tab, then saves nothing into the new one."""
    _save(request, {**state, "id": secrets.token_hex(8)})


STALE_WIZARD = gettext_lazy(
    "This page belonged to a wizard started again since (in another tab or window), so "
    "nothing was saved from it. Here is the wizard as it is now."
)


@login_required
@admin_required
def wizard_start(request: HttpRequest) -> HttpResponse:
    """ "+ Sync custom object": a fresh wizard, unless the limit is reached."""
    integration = current_integration(request)
    if integration is None:
        return not_connected(request, TAB)
    if len(custom_objects_list(integration=integration)) >= MAX_CUSTOM_OBJECTS:
        messages.error(request, _limit_message())
        return redirect("custom_objects")
    _begin(request, {"editing": None, "settings": asdict(CustomObjectSettings()), "mappings": {}})
    return redirect("custom_object_wizard", step="objects")


@login_required
@admin_required
def wizard_edit(request: HttpRequest, number: int) -> HttpResponse:
    """Edit a synced custom object: the wizard from step 2 (its objects stay)."""
    integration = current_integration(request)
    if integration is None:
        return not_connected(request, TAB)
    row = _row(integration, number)
    mappings = dict(
        integration.mappings.filter(object=row.object).values_list(
            "salesforce_field", "hubspot_property"
        )
    )
    settings = settings_as_dict(settings_for(row.object, row.options))
    # ``base``: what the wizard started from, so finishing saves only what it changed (see
    # ``_edited``), never putting back what another admin saved meanwhile.
    _begin(
        request,
        {
            "editing": row.object,
            "settings": settings,
            "mappings": mappings,
            "base": {"settings": dict(settings), "mappings": dict(mappings)},
        },
    )
    return redirect("custom_object_wizard", step="rules")


def _limit_message() -> str:
    return _("Up to %(limit)s custom objects can sync. Remove one before adding another.") % {
        "limit": MAX_CUSTOM_OBJECTS
    }


@login_required
@admin_required
def wizard_step(request: HttpRequest, step: str) -> HttpResponse:
    integration = current_integration(request)
    if integration is None:
        return not_connected(request, TAB)
    if step not in STEP_NAMES:
        raise Http404
    state = _state(request)
    if state is None:
        messages.info(request, _("Start with “+ Sync custom object”."))
        return redirect("custom_objects")
    if (
        state["editing"]
        and not ObjectSync.objects.filter(integration=integration, object=state["editing"]).exists()
    ):
        request.session.pop(WIZARD, None)
        messages.error(request, _("This custom object was removed meanwhile; nothing was saved."))
        return redirect("custom_objects")
    posted = request.POST.get("wizard") if request.method == "POST" else None
    if posted is not None and posted != state.get("id", ""):
        messages.error(request, STALE_WIZARD)
        return redirect("custom_object_wizard", step="rules" if state["editing"] else "objects")
    settings = state["settings"]
    if step != "objects" and not (settings["salesforce_object"] and settings["hubspot_object"]):
        return redirect("custom_object_wizard", step="objects")
    if request.method == "POST" and "back" in request.POST:
        _keep_answers(request, step, state)
        index = STEP_NAMES.index(step)
        first = 1 if state["editing"] else 0
        return redirect("custom_object_wizard", step=STEP_NAMES[max(first, index - 1)])
    context = {
        "active_tab": TAB,
        "steps": STEPS,
        "step": step,
        "step_number": STEP_NAMES.index(step) + 1,
        "state": state,
        "settings": settings,
        "editing": state["editing"],
    }
    try:
        handler = {
            "objects": _step_objects,
            "rules": _step_rules,
            "fields": _step_fields,
            "associations": _step_associations,
        }[step]
        response = handler(request, integration, state, context)
    except ConnectorError as error:
        context["remote_error"] = str(error)
        response = None
    if response is not None:
        return response
    return render(request, "integration_admin/custom_objects/wizard.html", context)


def _keep_answers(request, step: str, state: dict) -> None:
    """*Previous step* keeps what the step's page was answered with (checked when the step is
    answered with *Next*, and again at *Finish*): coming back, the admin finds their own
    choices, not the suggestions or what the step held before."""
    if step == "rules":
        form = CustomObjectRulesForm(request.POST)
        if form.is_valid():
            state["settings"].update(form.cleaned_data)
    elif step == "fields":
        state["mappings"] = {
            key[len(FIELD_PREFIX) :]: value
            for key, value in request.POST.items()
            if key.startswith(FIELD_PREFIX) and value
        }
    elif step == "associations":
        state["settings"]["associations"] = {
            key[len(ASSOCIATION_PREFIX) :]: value
            for key, value in request.POST.items()
            if key.startswith(ASSOCIATION_PREFIX) and value
        }
    else:
        return
    state["suggest"] = [s for s in state.get("suggest", []) if s != step]
    _save(request, state)


def _step_objects(request, integration, state, context) -> HttpResponse | None:
    """1. A Salesforce object (queryable and updateable) and a HubSpot custom object."""
    if state["editing"]:
        if request.method == "POST":
            return redirect("custom_object_wizard", step="rules")
        return None
    choices = custom_object_choices(integration=integration)
    synced = custom_objects_list(integration=integration)
    # Objects another custom object pairs already are listed, marked and not selectable.
    taken_salesforce = {row["settings"].salesforce_object for row in synced}
    taken_hubspot = {row["settings"].hubspot_object for row in synced}
    context["choices"] = {
        "salesforce": [
            {**o, "synced": o["name"] in taken_salesforce} for o in choices["salesforce"]
        ],
        "hubspot": [{**o, "synced": o["id"] in taken_hubspot} for o in choices["hubspot"]],
    }
    if request.method != "POST":
        return None
    settings = state["settings"]
    salesforce = {o["name"]: o for o in choices["salesforce"]}
    hubspot = {o["id"]: o for o in choices["hubspot"]}
    sobject = request.POST.get("salesforce_object", "")
    hs_object = request.POST.get("hubspot_object", "")
    errors = {}
    if sobject not in salesforce:
        errors["salesforce_object"] = _("Pick a Salesforce object.")
    if hs_object not in hubspot:
        errors["hubspot_object"] = _("Pick a HubSpot custom object.")
    if sobject in taken_salesforce:
        errors["salesforce_object"] = _("This Salesforce object already syncs.")
    if hs_object in taken_hubspot:
        errors["hubspot_object"] = _("This HubSpot custom object already syncs.")
    if errors:
        context["errors"] = errors
        context["selected"] = {"salesforce_object": sobject, "hubspot_object": hs_object}
        return None
    if (sobject, hs_object) != (settings["salesforce_object"], settings["hubspot_object"]):
        state["mappings"] = {}
        settings["associations"] = {}
        # New objects: steps 3 and 4 open with suggested pairs, until the admin answers them.
        state["suggest"] = ["fields", "associations"]
    settings.update(
        salesforce_object=sobject,
        hubspot_object=hs_object,
        salesforce_label=salesforce[sobject]["label"],
        hubspot_label=hubspot[hs_object]["label"],
    )
    _save(request, state)
    return redirect("custom_object_wizard", step="rules")


def _step_rules(request, integration, state, context) -> HttpResponse | None:
    """2. On update and on delete, per direction, and the app that wins conflicts."""
    settings = state["settings"]
    if request.method == "POST":
        form = CustomObjectRulesForm(request.POST)
        if form.is_valid():
            settings.update(form.cleaned_data)
            _save(request, state)
            return redirect("custom_object_wizard", step="fields")
    else:
        form = CustomObjectRulesForm(
            initial={name: settings[name] for name in CustomObjectRulesForm.base_fields}
        )
    context["form"] = form
    return None


def _schemas(integration, settings) -> tuple[list[dict], list[dict]]:
    return custom_object_schemas_read(
        integration=integration,
        salesforce_object=settings["salesforce_object"],
        hubspot_object=settings["hubspot_object"],
    )


def _step_fields(request, integration, state, context) -> HttpResponse | None:
    """3. Field mappings, checked with the compatibility matrix; lookups aren't offered. When
    Salesforce records create HubSpot records, every property HubSpot requires to create one
    must be mapped (else each create would fail)."""
    salesforce_fields, hubspot_properties = _schemas(integration, state["settings"])
    fields, properties = custom_object_mappable(salesforce_fields, hubspot_properties)
    required = [p["name"] for p in hubspot_properties if p.get("required")]
    mappings = dict(state["mappings"])
    if "fields" in state.get("suggest", []):
        mappings = custom_object_suggested_mappings(fields, properties, required=required)
    errors: dict[str, str] = {}
    answered = request.method == "POST"
    if answered:
        mappings = {
            key[len(FIELD_PREFIX) :]: value
            for key, value in request.POST.items()
            if key.startswith(FIELD_PREFIX) and value
        }
    # Required HubSpot properties left unmapped: refused once answered, warned of before.
    missing = custom_object_required_missing(
        hubspot_properties=hubspot_properties, mappings=mappings, settings=state["settings"]
    )
    if answered:
        known = {f["name"] for f in fields}
        props = {p["name"]: p for p in properties}
        used: dict[str, str] = {}
        for field in fields:
            prop = props.get(mappings.get(field["name"], ""))
            if field["name"] in mappings and prop is None:
                errors[field["name"]] = _("Pick a HubSpot property from the list.")
            elif prop is None:
                continue
            elif not is_compatible(
                hs_type=prop["type"], hs_field_type=prop["fieldType"], sf_type=field["type"]
            ):
                # In the mapping editor's words, as Finish would refuse it.
                errors[field["name"]] = engine_message(
                    MAPPING_INCOMPATIBLE.format(
                        hubspot_type=_hubspot_type(prop), salesforce_type=field["type"]
                    )
                )
            elif prop["name"] in used:
                errors[field["name"]] = _("%(property)s is already mapped to %(field)s.") % {
                    "property": prop["label"],
                    "field": used[prop["name"]],
                }
            else:
                used[prop["name"]] = field["name"]
        for name in set(mappings) - known:
            errors[name] = _("%(field)s can't be mapped here.") % {"field": name}
        for prop in missing:
            errors[prop["name"]] = _(
                "HubSpot requires %(name)s to create a record. Map a Salesforce field to it, "
                "or set “When a Salesforce record is created or updated” to “Do nothing” in "
                "step 2."
            ) % {"name": prop.get("label") or prop["name"]}
        if not errors:
            state["mappings"] = mappings
            state["suggest"] = [s for s in state.get("suggest", []) if s != "fields"]
            _save(request, state)
            return redirect("custom_object_wizard", step="associations")
    context["rows"] = [
        {
            "field": f,
            "input": f"{FIELD_PREFIX}{f['name']}",
            "selected": mappings.get(f["name"], ""),
            "error": errors.get(f["name"], ""),
            # An auto-number or formula: the sync only ever copies it to HubSpot.
            "read_only": read_only_field(f),
            "type_label": SALESFORCE_TYPE_LABELS.get(f["type"], f["type"]),
        }
        for f in fields
    ]
    # Types as HubSpot's and Salesforce's own screens name them, as the refusals do.
    context["properties"] = [
        {**p, "type_label": hubspot_type_label(_hubspot_type(p))} for p in properties
    ]
    context["suggested"] = not answered and "fields" in state.get("suggest", [])
    context["errors"] = errors
    context["warnings"] = _required_warnings(
        state["settings"], fields, [] if answered else missing, mappings
    ) + _required_lookup_warnings(state["settings"], salesforce_fields)
    field_names = {f["name"] for f in fields}
    context["field_errors"] = any(name in field_names for name in errors)
    context["other_errors"] = [
        message for name, message in errors.items() if name not in field_names
    ]
    return None


def _hubspot_type(prop: dict) -> str:
    """A property's "type (fieldType)", as the engine's refusals name it."""
    return f"{prop['type']} ({prop['fieldType']})"


def _required_warnings(settings, fields, missing, mappings) -> list[str]:
    """What creates would lack: required HubSpot properties left unmapped (``missing``, from
    ``custom_object_required_missing``; none once the step is answered, which refuses them),
    and required Salesforce fields (a warning, not a block: updates still sync, and creates
    fail as sync errors that say so)."""
    warnings = []
    if missing:
        warnings.append(
            _(
                "HubSpot requires %(names)s to create a record: without a mapping, "
                "Salesforce records can't create HubSpot records."
            )
            % {"names": ", ".join(p.get("label") or p["name"] for p in missing)}
        )
    if settings["hubspot_to_salesforce"] == "create_or_update":
        missing = [f["label"] for f in fields if f.get("required") and f["name"] not in mappings]
        if missing:
            warnings.append(
                _(
                    "Salesforce requires %(names)s to create a record: without a mapping, "
                    "HubSpot records can't create Salesforce records."
                )
                % {"names": ", ".join(missing)}
            )
    return warnings


def _required_lookup_warnings(settings, salesforce_fields) -> list[str]:
    """Required Salesforce lookups (a master-detail field, say): never mapped here, so a
    HubSpot record creates a Salesforce record only through the association that sets the
    lookup (step 4), and not at all when no association can."""
    if settings["hubspot_to_salesforce"] != "create_or_update":
        return []
    required = [
        f
        for f in salesforce_fields
        if f.get("required")
        and f["type"] == "reference"
        and f["name"] not in CUSTOM_OBJECT_SYSTEM_FIELDS
    ]
    associable = {f["name"] for fs in custom_object_lookups(salesforce_fields).values() for f in fs}
    warnings = []
    through = [f["label"] for f in required if f["name"] in associable]
    if through:
        warnings.append(
            _(
                "Salesforce requires %(names)s to create a record. Lookups aren't mapped "
                "here: a HubSpot record creates a Salesforce record only when it is "
                "associated with the record the lookup points at (step 4, Associations)."
            )
            % {"names": ", ".join(through)}
        )
    never = [f["label"] for f in required if f["name"] not in associable]
    if never:
        warnings.append(
            _(
                "Salesforce requires %(names)s to create a record, a lookup that doesn't "
                "sync: HubSpot records can't create Salesforce records. Set “When a HubSpot "
                "record is created or updated” to “Do nothing” in step 2."
            )
            % {"names": ", ".join(never)}
        )
    return warnings


def _step_associations(request, integration, state, context) -> HttpResponse | None:
    """4. HubSpot contacts/companies/deals/tickets ⇄ the object's Contact/Account/Opportunity/
    Case lookups; then Finish."""
    settings = state["settings"]
    salesforce_fields, hubspot_properties = _schemas(integration, settings)
    lookups = custom_object_lookups(salesforce_fields)
    associated = custom_object_hubspot_schema(
        integration=integration, hubspot_object=settings["hubspot_object"]
    )["associations"]
    associations = dict(settings.get("associations") or {})
    if "associations" in state.get("suggest", []):
        associations = custom_object_suggested_associations(lookups, associated)
    if request.method == "POST":
        associations = {
            hs_object: request.POST.get(f"association:{hs_object}", "")
            for hs_object in lookups
            if hs_object in associated and request.POST.get(f"association:{hs_object}")
        }
        settings["associations"] = associations
        state["suggest"] = []
        _save(request, state)
        try:
            row_name = _finish(request, integration, state, salesforce_fields, hubspot_properties)
        except SettingsError as error:
            # The engine words its refusals in English; in the reader's language here.
            names = ObjectNames(integration)
            context["errors"] = {
                key: engine_message(str(message), names=names)
                for key, message in error.errors.items()
            }
            if "custom_object" in error.errors:
                messages.error(request, _limit_message())
                return redirect("custom_objects")
        else:
            request.session.pop(WIZARD, None)
            messages.success(
                request,
                _("%(name)s syncs now.") % {"name": _label(settings_for(row_name, settings))},
            )
            return redirect("custom_objects")
    context["associations"] = [
        {
            "object": hs_object,
            "label": ASSOCIATION_LABELS[hs_object],
            "input": f"association:{hs_object}",
            "fields": fields,
            "selected": associations.get(hs_object, ""),
            "available": hs_object in associated,
        }
        for hs_object, fields in lookups.items()
        if fields or hs_object not in ASSOCIATIONS_IF_LOOKUP
    ]
    return None


def _edited(integration, state) -> tuple[dict, dict[str, str]]:
    """The settings and mappings an edit saves: what the wizard changed from where it started
    (``base``), over what is saved now. Another admin's change made meanwhile to a rule, an
    association or a mapping this wizard left alone stays."""
    base = state.get("base")
    if base is None:
        return state["settings"], state["mappings"]
    row = ObjectSync.objects.filter(integration=integration, object=state["editing"]).first()
    if row is None:  # removed since the wizard's page was drawn
        raise Http404
    settings = settings_as_dict(settings_for(row.object, row.options))
    for name, value in state["settings"].items():
        if name != "associations" and value != base["settings"].get(name):
            settings[name] = value
    associations = dict(settings.get("associations") or {})
    theirs, mine = base["settings"].get("associations") or {}, state["settings"]["associations"]
    for hs_object in set(theirs) | set(mine):
        if mine.get(hs_object) != theirs.get(hs_object):
            associations[hs_object] = mine.get(hs_object, "")
    settings["associations"] = {k: v for k, v in associations.items() if v}
    mappings = dict(
        integration.mappings.filter(object=row.object).values_list(
            "salesforce_field", "hubspot_property"
        )
    )
    for field in set(base["mappings"]) | set(state["mappings"]):
        if state["mappings"].get(field) != base["mappings"].get(field):
            mappings[field] = state["mappings"].get(field, "")
    return settings, {k: v for k, v in mappings.items() if v}


def _finish(request, integration, state, salesforce_fields, hubspot_properties) -> str:
    if state["editing"]:
        settings, mappings = _edited(integration, state)
        custom_object_update(
            integration=integration,
            object_name=state["editing"],
            settings=settings,
            mappings=mappings,
            salesforce_fields=salesforce_fields,
            hubspot_properties=hubspot_properties,
            actor=request.user,
        )
        return state["editing"]
    row = custom_object_create(
        integration=integration,
        settings=state["settings"],
        mappings=state["mappings"],
        salesforce_fields=salesforce_fields,
        hubspot_properties=hubspot_properties,
        actor=request.user,
    )
    return row.object
