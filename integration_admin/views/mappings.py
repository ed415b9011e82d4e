"""The field-mapping editor, shared by every object tab: the table, add (with pickers filled
from the cached schemas and an inline compatibility check), change a rule, delete a custom one,
and refresh the cached schemas. A custom object's page shows the same table and Refresh (its
mappings change in its wizard)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views.decorators.http import require_POST

from sync_engine.errors import ConnectorError
from sync_engine.object_settings import (
    CUSTOM_PREFIX,
    OFF_BY_DEFAULT,
    SETTINGS_CLASSES,
    UNMAPPED_PAIRS,
    SettingsError,
    settings_for,
)
from sync_engine.selectors import (
    amounts_converted,
    mapping_get,
    mappings_list,
    pair_schema_options,
)
from sync_engine.services import (
    mapping_create,
    mapping_delete,
    mapping_update_rule,
    mapping_validate,
    object_sync_get_or_create,
    schema_first_read,
    schema_refresh_by_admin,
)

from ..forms import MappingForm, RuleForm
from ..labels import (
    SALESFORCE_TYPE_LABELS,
    engine_message,
    hubspot_type_label,
    offered_rules,
    type_mismatch_text,
)
from ..navigation import OBJECT_TABS
from ..roles import admin_required, user_is_admin
from ..status import ObjectNames
from .common import current_integration


def _object(object_name: str) -> str:
    """A pair whose tab has the editor (not one without field mappings)."""
    if (
        object_name not in SETTINGS_CLASSES
        or object_name not in OBJECT_TABS
        or object_name in UNMAPPED_PAIRS
    ):
        raise Http404
    return object_name


def _defaults_first(integration, object_name: str) -> None:
    """The default mappings exist before anything is checked against them (a custom mapping
    must not take a default's property)."""
    object_sync_get_or_create(integration=integration, object_name=object_name)


def add_rules(schema, form: MappingForm) -> dict:
    """The sync rules the add form offers for the pair picked so far, as the rows do (a
    read-only Salesforce field: Salesforce's value or nothing, spec §8.2; a read-only HubSpot
    property: only rules that carry it to Salesforce), and the one it selects: the rule picked
    while it is offered, else the first one offered. The editor renders them; the inline
    check names them for app.js, which narrows the picker."""
    hubspot_property, salesforce_field, rule = form.picked()
    offered = offered_rules(hubspot_property, salesforce_field, schema)
    return {
        "add_rules": offered,
        "add_rule": rule if rule in offered else offered[0],
        "add_read_only": salesforce_field in schema.read_only_fields,
        "add_hubspot_read_only": hubspot_property in schema.read_only_properties,
    }


NEVER_SYNCS = {
    "hubspot": _lazy("Never syncs: read-only in HubSpot, and this rule only writes to HubSpot."),
    "both": _lazy("Never syncs: read-only in both HubSpot and Salesforce."),
    "salesforce": _lazy(
        "HubSpot edits never reach Salesforce: this field is read-only for the integration "
        "user there, and each such edit is a sync error. Give the user edit access to it in "
        "Salesforce, then Refresh properties and fields; or choose Always use Salesforce."
    ),
    "missing": _lazy(
        "Never syncs: HubSpot no longer has this property. Create it again in HubSpot, then "
        "Refresh properties and fields; or remove this mapping."
    ),
    "salesforce_missing": _lazy(
        "Never syncs: Salesforce no longer has this field, or hides it from the integration "
        "user. Restore it or give the user access to it, then Refresh properties and fields; "
        "or remove this mapping."
    ),
}


def _picker_types(schema) -> dict:
    """The pickers' field types as HubSpot's and Salesforce's own screens name them ("Dropdown
    select", "Date"), as the editor's refusals do: ``{name: type}`` for each side."""
    return {
        "hubspot_types": {
            prop["name"]: hubspot_type_label(f"{prop['type']} ({prop['fieldType']})")
            for prop in schema.hubspot_choices
        },
        "salesforce_types": {
            field["name"]: str(SALESFORCE_TYPE_LABELS.get(field["type"], field["type"]))
            for field in schema.salesforce_choices
        },
    }


# A multi-currency org's amounts (``selectors.amounts_converted``).
CONVERTED_TO = _lazy(
    "Converted between each record's currency and HubSpot's company currency (%(currency)s) "
    "at Salesforce's conversion rates."
)
CONVERTED = _lazy(
    "Converted between each record's currency and HubSpot's company currency at Salesforce's "
    "conversion rates."
)

# A custom pair's read-only field syncs to HubSpot only (the wizard's words for it).
CUSTOM_READ_ONLY = _lazy("Read-only in Salesforce: syncs to HubSpot only")


def _rows(integration, mappings: list, schema, *, only: int | None = None) -> list:
    """The table's mappings (of them all, the one with pk ``only``), each with
    ``never_syncs``: why it can't move a value, for its warning (mappings stored before such
    pairs were refused); else ``mismatch``: types changed since to ones that can't map (spec
    §4 item 7); and ``converted``: how a multi-currency org's amounts go."""
    custom = schema.object_name.startswith(CUSTOM_PREFIX)
    converted, currency = amounts_converted(
        integration=integration, schema=schema, mappings=mappings
    )
    if only is not None:
        mappings = [m for m in mappings if m.pk == only]
    for mapping in mappings:
        mapping.converted = (
            (CONVERTED_TO % {"currency": currency} if currency else CONVERTED)
            if mapping.pk in converted
            else ""
        )
        reason = schema.never_syncs(mapping)
        mapping.never_syncs = NEVER_SYNCS[reason] if reason else ""
        mapping.mismatch = "" if reason else type_mismatch_text(schema.mismatched_types(mapping))
        if custom:
            # As the schema last read says, not the warning stored when the wizard saved it
            # (in English, and stale once the field's access changed).
            mapping.warning = CUSTOM_READ_ONLY if schema.read_only_somewhere(mapping) else ""
    return mappings


def editor_context(
    request: HttpRequest, integration, object_name: str, form=None, schema=None
) -> dict:
    """Everything the editor partial shows (2 queries; 3 for objects whose mappings are
    locked while their sync is off; one fewer given the ``schema`` already read). Schemas
    never read are read first, for anyone who opens it: a read of what the page shows,
    made once per pair, within the allocation; without it the pickers would be empty and
    the rows bare API names until an admin thought to refresh them."""
    schema = schema or pair_schema_options(integration=integration, object_name=object_name)
    schema_problem = ""
    if not schema.complete:
        schema_problem = schema_first_read(integration=integration, object_name=object_name)
        if not schema_problem:
            schema = pair_schema_options(integration=integration, object_name=object_name)
    form = form or MappingForm()
    custom = object_name.startswith(CUSTOM_PREFIX)
    return {
        "object_name": object_name,
        # A custom pair's mappings are its wizard's: its page offers Refresh only.
        "custom_pair": custom,
        "refresh_url": (
            reverse("custom_object_schema_refresh", args=[object_name[len(CUSTOM_PREFIX) :]])
            if custom
            else reverse("mapping_schema_refresh", args=[object_name])
        ),
        "mappings_locked": _locked(integration, object_name),
        "mappings": _rows(
            integration, mappings_list(integration=integration, object_name=object_name), schema
        ),
        "schema": schema,
        "schema_problem": schema_problem,
        "hubspot_labels": schema.hubspot_labels,
        "salesforce_labels": schema.salesforce_labels,
        **_picker_types(schema),
        "mapping_form": form,
        **add_rules(schema, form),
        "rule_form": RuleForm(),
    }


def _editor(request: HttpRequest, integration, object_name: str, form=None, schema=None):
    """The editor partial for htmx; plain form posts go back to the tab."""
    if not request.htmx:
        if form is not None and form.errors:
            for message in form.errors.values():
                messages.error(request, " ".join(message))
        return redirect(OBJECT_TABS[object_name].url_name)
    context = editor_context(request, integration, object_name, form, schema)
    if context["mappings_locked"]:
        context["is_admin"] = False  # read-only table, like the tab shows it
    return render(request, "integration_admin/mappings/editor.html", context)


def _locked(integration, object_name: str) -> bool:
    """Company mappings are editable only while company sync is on (spec §9)."""
    if object_name not in OFF_BY_DEFAULT:
        return False
    row = object_sync_get_or_create(integration=integration, object_name=object_name)
    # A pair set up through a wizard (tickets) is editable while its wizard is open.
    in_setup = not getattr(settings_for(object_name, row.options), "setup_complete", True)
    return not row.enabled and not in_setup


@login_required
def mapping_editor(request: HttpRequest, object_name: str) -> HttpResponse:
    integration = current_integration(request)
    if integration is None:
        raise Http404
    return _editor(request, integration, _object(object_name))


@login_required
@require_POST
@admin_required
def mapping_add(request: HttpRequest, object_name: str) -> HttpResponse:
    integration = current_integration(request)
    if integration is None:
        raise Http404
    _object(object_name)
    _defaults_first(integration, object_name)
    form = MappingForm(request.POST)
    if form.is_valid():
        try:
            mapping = mapping_create(
                integration=integration,
                object_name=object_name,
                hubspot_property=form.cleaned_data["hubspot_property"],
                salesforce_field=form.cleaned_data["salesforce_field"],
                rule=form.cleaned_data["rule"],
                actor=request.user,
            )
        except SettingsError as error:
            _form_errors(form, integration, error)
        except ConnectorError as error:
            form.add_error(None, _("Couldn't read the schemas: %(error)s") % {"error": error})
        else:
            # The editor shows it too.
            schema = pair_schema_options(integration=integration, object_name=object_name)
            hubspot = schema.hubspot_labels.get(mapping.hubspot_property)
            salesforce = schema.salesforce_labels.get(mapping.salesforce_field)
            messages.success(
                request,
                _("Mapped %(hubspot)s to %(salesforce)s.")
                % {
                    "hubspot": hubspot or mapping.hubspot_property,
                    "salesforce": salesforce or mapping.salesforce_field,
                },
            )
            return _editor(request, integration, object_name, schema=schema)
    return _editor(request, integration, object_name, form)


def _refusals(integration, error: SettingsError) -> dict[str, str]:
    """The engine's refusals in the reader's language (it words them in English, as the REST
    API answers them)."""
    names = ObjectNames(integration)
    return {key: engine_message(str(message), names=names) for key, message in error.errors.items()}


def _form_errors(form, integration, error: SettingsError) -> None:
    for name, message in _refusals(integration, error).items():
        form.add_error(name if name in form.fields else None, message)


@login_required
@require_POST
def mapping_check(request: HttpRequest, object_name: str) -> HttpResponse:
    """The inline compatibility check as the pickers change: nothing is saved. It reads the
    cached schemas only; while nothing is cached, an admin's check reads them (as adding a
    mapping would), anyone else's says they haven't been read (no call). Its answer also
    names the sync rules the picked pair may have (app.js narrows the form's picker to
    them), and the pair is checked with the rule the picker then shows."""
    integration = current_integration(request)
    if integration is None:
        raise Http404
    _object(object_name)
    _defaults_first(integration, object_name)
    form = MappingForm(request.POST)
    schema = pair_schema_options(integration=integration, object_name=object_name)
    rules = add_rules(schema, form)
    problems: dict[str, str] = {}
    ok = False
    if form.is_valid():
        try:
            mapping_validate(
                integration=integration,
                object_name=object_name,
                hubspot_property=form.cleaned_data["hubspot_property"],
                salesforce_field=form.cleaned_data["salesforce_field"],
                rule=rules["add_rule"],
                refresh_schema=user_is_admin(request.user),
            )
            ok = True
        except SettingsError as error:
            problems = _refusals(integration, error)
            if "schema" in problems:  # nothing cached, and only an admin's refresh reads it
                problems["schema"] = _("Properties and fields not read yet.")
        except ConnectorError as error:
            problems = {"schema": _("Couldn't read the schemas: %(error)s") % {"error": error}}
        if schema.is_empty:  # an admin's check may have read them just now
            rules = add_rules(
                pair_schema_options(integration=integration, object_name=object_name), form
            )
    return render(
        request,
        "integration_admin/mappings/check.html",
        {"problems": problems, "ok": ok, **rules},
    )


@login_required
@require_POST
@admin_required
def mapping_schema_refresh(request: HttpRequest, object_name: str) -> HttpResponse:
    integration = current_integration(request)
    if integration is None:
        raise Http404
    schemas_refresh(request, integration, _object(object_name))
    return _editor(request, integration, object_name)


def schemas_refresh(request: HttpRequest, integration, object_name: str) -> None:
    """*Refresh properties and fields*: the pair's schemas read again, and a message saying
    how it went (the object tabs' editors and a custom object's page)."""
    try:
        schema_refresh_by_admin(
            integration=integration, object_name=object_name, actor=request.user
        )
    except ConnectorError as error:
        messages.error(request, _("Couldn't refresh the schemas: %(error)s") % {"error": error})
    else:
        messages.success(request, _("Properties and fields refreshed from HubSpot and Salesforce."))


def _mapping(request: HttpRequest, mapping_id: int):
    integration = current_integration(request)
    mapping = integration and mapping_get(integration=integration, mapping_id=mapping_id)
    if not mapping:
        raise Http404
    # Only the editor's own mappings: a custom object's are its wizard's (which checks the
    # ones its HubSpot object requires), and it has no tab to answer on.
    _object(mapping.object)
    return integration, mapping


@login_required
@require_POST
@admin_required
def mapping_rule(request: HttpRequest, mapping_id: int) -> HttpResponse:
    integration, mapping = _mapping(request, mapping_id)
    form = RuleForm(request.POST)
    error = ""
    if form.is_valid():
        try:
            mapping = mapping_update_rule(
                mapping=mapping, rule=form.cleaned_data["rule"], actor=request.user
            )
        except SettingsError as problem:
            error = "; ".join(_refusals(integration, problem).values())
            mapping.refresh_from_db()
    else:
        error = _("Pick one of the sync rules.")
    if not request.htmx:
        if error:
            messages.error(request, error)
        return redirect(OBJECT_TABS[mapping.object].url_name)
    schema = pair_schema_options(integration=integration, object_name=mapping.object)
    return render(
        request,
        "integration_admin/mappings/row.html",
        {
            "mapping": _rows(
                integration,
                mappings_list(integration=integration, object_name=mapping.object),
                schema,
                only=mapping.pk,
            )[0],
            "rule_form": RuleForm(),
            "row_error": error,
            "saved": not error,
            "schema": schema,
            "hubspot_labels": schema.hubspot_labels,
            "salesforce_labels": schema.salesforce_labels,
        },
    )


@login_required
@require_POST
@admin_required
def mapping_remove(request: HttpRequest, mapping_id: int) -> HttpResponse:
    integration, mapping = _mapping(request, mapping_id)
    object_name = mapping.object
    schema = pair_schema_options(integration=integration, object_name=object_name)
    try:
        mapping_delete(mapping=mapping, actor=request.user)
    except SettingsError as error:
        messages.error(request, "; ".join(_refusals(integration, error).values()))
    else:
        # By its label, as the add message names it.
        hubspot = schema.hubspot_labels.get(mapping.hubspot_property)
        messages.success(
            request,
            _("Deleted the mapping of %(hubspot)s.")
            % {"hubspot": hubspot or mapping.hubspot_property},
        )
    if not request.htmx:
        return redirect(OBJECT_TABS[object_name].url_name)
    return _editor(request, integration, object_name, schema=schema)
