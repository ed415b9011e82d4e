"""The object tabs (Contacts and Companies; the others say "not yet available" until their
sync lands): the settings form, the inclusion-list picker, the shared mapping editor and the
Contacts tab's "Sync a contact"."""

from __future__ import annotations

import logging

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from sync_engine.errors import ConnectorError
from sync_engine.object_settings import (
    SETTINGS_CLASSES,
    UNMAPPED_PAIRS,
    SettingsError,
    settings_for,
)
from sync_engine.selectors import (
    deal_pipelines,
    hubspot_active_lists,
    hubspot_list_names,
    inclusion_list_missing,
    integration_hubspot_connection,
)
from sync_engine.services import (
    contact_sync_request,
    object_settings_update,
    object_sync_get_or_create,
)

from ..forms import SETTINGS_FORMS, inclusion_list_label, setting_label, setting_value
from ..links import hubspot_create_list_url
from ..navigation import OBJECT_TABS
from ..roles import admin_required, user_is_admin
from ..sync_answers import record_sync_answer
from .common import card_answer, current_integration, not_connected
from .mappings import editor_context

logger = logging.getLogger(__name__)


def tab_of(object_name: str):
    """The object's tab (its slug and title); 404 for an object without one."""
    tab = OBJECT_TABS.get(object_name)
    if tab is None:
        raise Http404
    return tab


def describe_changes(object_name: str, diff: dict, list_names: dict | None = None) -> list[dict]:
    """``[{"name", "label", "old", "new"}]`` in the people's words, for "what changed"
    (``list_names``: HubSpot lists' names by id, as the audit log noted them)."""

    return [
        {
            "name": name,
            "label": setting_label(object_name, name),
            "old": setting_value(object_name, name, old, list_names) or str(old),
            "new": setting_value(object_name, name, new, list_names) or str(new),
        }
        for name, (old, new) in diff.items()
    ]


def settings_context(request: HttpRequest, integration, object_name: str, form=None) -> dict:
    """The tab's settings card: its form (``form``: as posted, else as saved) and state."""
    row = object_sync_get_or_create(integration=integration, object_name=object_name)
    settings = settings_for(object_name, row.options)
    if form is None:
        form = SETTINGS_FORMS[object_name](initial=_saved_initial(row, object_name))
    return {
        "settings_form": form,
        "settings": settings,
        "object_enabled": row.enabled,
        "create_list_url": hubspot_create_list_url(
            integration_hubspot_connection(integration=integration)
        ),
    }


def _saved_initial(row, object_name: str) -> dict:
    """The settings form's values as saved (``row``: the object's ``ObjectSync``)."""
    return SETTINGS_FORMS[object_name].initial_from(
        settings=settings_for(object_name, row.options), enabled=row.enabled
    )


@login_required
def object_tab(request: HttpRequest, object_name: str) -> HttpResponse:
    tab = tab_of(object_name)
    integration = current_integration(request)
    if integration is None:
        return not_connected(request, tab.slug)
    context = {"active_tab": tab.slug, "tab": tab, "object_name": object_name}
    if object_name not in SETTINGS_CLASSES:
        return render(request, "integration_admin/object_unavailable.html", context)
    if request.method == "POST":
        return settings_save(request, object_name)
    context.update(settings_context(request, integration, object_name))
    return tab_page(request, integration, object_name, context)


def tab_page(request, integration, object_name: str, context: dict, status: int = 200):
    """The whole tab: its settings card (``context``), mappings (if the pair has any) and
    extras."""
    if object_name not in UNMAPPED_PAIRS:
        context.update(editor_context(request, integration, object_name))
    context.update(_tab_extras(request, integration, object_name))
    return render(request, f"integration_admin/objects/{object_name}.html", context, status=status)


def _tab_extras(request, integration, object_name: str) -> dict:
    """What a tab shows beyond its settings and mappings (the Deals tab: its pipelines; the
    Contacts tab: "Sync a contact", filled in when a link from Find a record names one)."""
    if object_name == "deals":
        return {"pipelines": deal_pipelines(integration=integration)}
    if object_name == "contacts":
        return {"contact_sync_value": request.GET.get("contact", "").strip()[:300]}
    return {}


@admin_required
def settings_save(request: HttpRequest, object_name: str) -> HttpResponse:
    """Validate and save; show what changed (or the inline errors)."""
    tab = tab_of(object_name)
    integration = current_integration(request)
    # Only the settings changed on the posted page are saved: each field's hidden initial
    # value says what that page showed (another tab may have saved other settings since).
    # ``initial`` (as saved now) is what a post without them is drawn again against.
    row = object_sync_get_or_create(integration=integration, object_name=object_name)
    form = SETTINGS_FORMS[object_name](request.POST, initial=_saved_initial(row, object_name))
    changed = None
    status = 200
    if form.is_valid():
        changes, enabled = form.changes()
        try:
            diff = object_settings_update(
                integration=integration,
                object_name=object_name,
                changes=changes,
                enabled=enabled,
                actor=request.user,
            )
        except SettingsError as error:
            for name, message in error.errors.items():
                form.add_error(name if name in form.fields else None, message)
            status = 400
        else:
            # The lists' names, as the save just noted them (the database, not HubSpot).
            names = (
                hubspot_list_names(integration=integration, list_ids=diff["inclusion_list_id"])
                if "inclusion_list_id" in diff
                else None
            )
            changed = describe_changes(object_name, diff, names)
            form = None  # show the saved values
    else:
        status = 400
    context = {
        "active_tab": tab.slug,
        "tab": tab,
        "object_name": object_name,
        "changed": changed,
        **settings_context(request, integration, object_name, form),
    }
    switched = bool(changed) and any(row["name"] == "enabled" for row in changed)
    if request.htmx and not switched:
        # A refusal answers 200 here: htmx swaps in no 4xx (base.html's responseHandling), and
        # the card shows the inline errors.
        return render(request, f"integration_admin/objects/{object_name}_settings.html", context)
    response = tab_page(request, integration, object_name, context, status)
    if request.htmx:
        # The switch decides more than the card (whether mappings can be edited, the tab's
        # other cards): the whole page body is swapped in.
        response["HX-Retarget"] = response["HX-Reselect"] = "main.page"
        response["HX-Reswap"] = "outerHTML"
    return response


@login_required
def inclusion_lists(request: HttpRequest, object_name: str) -> HttpResponse:
    """The "Limit what syncs" picker: HubSpot's active lists of the tab's records, contacts or
    companies (one HubSpot call, then kept for a few minutes per search). Only an admin can
    pick, so only an admin's search asks HubSpot; anyone else's filters the kept unsearched
    read."""
    tab_of(object_name)
    integration = current_integration(request)
    if integration is None or object_name not in ("contacts", "companies"):
        raise Http404
    selected = request.GET.get("selected", "")[:40]
    search = request.GET.get("q", "").strip()[:100]
    can_change = user_is_admin(request.user)
    lists, failure = [], ""
    try:
        if can_change or not search:
            lists = hubspot_active_lists(
                integration=integration, search=search, object_name=object_name
            )
        else:
            wanted = search.casefold()
            lists = [
                lst
                for lst in hubspot_active_lists(integration=integration, object_name=object_name)
                if wanted in lst["name"].casefold()
            ]
    except (ConnectorError, ValueError) as error:
        logger.warning("reading HubSpot lists failed: %s", error)
        failure = str(getattr(error, "message", error))
    missing = False
    if selected and all(lst["id"] != selected for lst in lists):
        # Kept, by the name noted when it was chosen: a search may hide it, or HubSpot may
        # have deleted it (the last contact cycle says so: no HubSpot call here).
        name = inclusion_list_label(integration, selected)
        missing = (
            inclusion_list_missing(integration=integration, object_name=object_name) == selected
        )
        if missing:
            name = _("%(list)s (no longer exists in HubSpot)") % {"list": name}
        lists.insert(0, {"id": selected, "name": name, "size": None})
    return render(
        request,
        "integration_admin/partials/inclusion_list_picker.html",
        {
            "lists": lists,
            "selected": selected,
            "missing": missing,
            "search": search,
            "failure": failure,
            "can_change": can_change,
            "object_name": object_name,
        },
    )


# --- Contacts: sync one contact --------------------------------------------------------------
@login_required
@require_POST
@admin_required
def contact_sync(request: HttpRequest) -> HttpResponse:
    """Queue one HubSpot contact's sync, whatever its modified date: e.g. one skipped while it
    was outside the inclusion list, which no change query sees again until it changes."""
    integration = current_integration(request)
    if integration is None:
        raise Http404
    typed = request.POST.get("contact", "")[:300]
    outcome = contact_sync_request(integration=integration, contact=typed, actor=request.user)
    return card_answer(
        request,
        ok=outcome.ok,
        answer=record_sync_answer(integration, outcome),
        typed=typed,
        card="contact_sync",
        tab="contacts",
    )
