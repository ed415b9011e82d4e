"""The Tickets tab (spec §14): a six-step setup wizard, then the settings it chose.

1. sync rules (a deleted case: do nothing, or delete the ticket); 2. associations (account,
contact); 3. field mappings (the shared editor; required ticket properties are defaults);
4. pipelines (one HubSpot ticket pipeline per case process, with the status → stage table:
an existing pipeline's stages are matched by label, the others the admin picks);
5. a preview of the first sync; 6. finish (setup complete, ticket sync on).

Every step is a plain form post that saves through the services (audit-logged) and redirects
to the next step; the stage table of step 4 refreshes with htmx when a pipeline is picked.
Back keeps what steps 1, 2 and 4 were given (step 4's stages still to pick are asked for by
its Next and by Finish), so coming back to a step the admin finds their choices.
After setup a step is reopened to change it: its Save goes back to the settings, and step 6
has nothing left to do (switching ticket sync on or off is the settings' switch).
Reading is open to every logged-in user; changes need the admin role. What steps 4 and 5 and
the stage table read from Salesforce and HubSpot is kept for a few minutes
(``sync_engine.selectors.cached_remote_read``), so reloading them doesn't spend the API
allocation; saving the pipelines reads HubSpot's afresh.
"""

from __future__ import annotations

import logging

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from sync_engine.errors import ConnectorError
from sync_engine.object_settings import SettingsError, settings_for
from sync_engine.selectors import (
    pair_schema_options,
    pairs_switched_on,
    ticket_case_processes,
    ticket_case_statuses,
    ticket_hubspot_pipelines,
    ticket_sync_preview,
)
from sync_engine.services import (
    object_settings_update,
    object_sync_get_or_create,
    ticket_pipelines_save,
    ticket_setup_finish,
)
from sync_engine.sync.tickets import stage_by_label, status_values

from ..forms import TicketSettingsForm
from ..navigation import OBJECT_TABS
from ..roles import admin_required
from .common import current_integration, not_connected
from .mappings import editor_context
from .objects import describe_changes

logger = logging.getLogger(__name__)

OBJECT = "tickets"
STEPS = (
    (1, gettext_lazy("Sync rules")),
    (2, gettext_lazy("Associations")),
    (3, gettext_lazy("Field mappings")),
    (4, gettext_lazy("Pipelines")),
    (5, gettext_lazy("Preview")),
    (6, gettext_lazy("Finish")),
)
LAST = len(STEPS)
SESSION_STEP = "tickets_wizard_step"
NEW = "new"


def _tab():
    return OBJECT_TABS[OBJECT]


def _state(integration):
    row = object_sync_get_or_create(integration=integration, object_name=OBJECT)
    return row, settings_for(OBJECT, row.options)


def _step(request: HttpRequest, settings) -> int:
    raw = request.GET.get("step") or request.session.get(SESSION_STEP) or 1
    try:
        step = int(raw)
    except (TypeError, ValueError):
        step = 1
    return min(max(step, 1), LAST)


@login_required
def ticket_tab(request: HttpRequest) -> HttpResponse:
    integration = current_integration(request)
    if integration is None:
        return not_connected(request, _tab().slug)
    if request.method == "POST":
        return ticket_post(request)
    row, settings = _state(integration)
    context = {"active_tab": _tab().slug, "tab": _tab(), "object_name": OBJECT}
    if settings.setup_complete and "step" not in request.GET:
        context.update(_settings_context(request, integration, row, settings))
        return render(request, "integration_admin/tickets/tab.html", context)
    step = _step(request, settings)
    request.session[SESSION_STEP] = step
    context.update(_wizard_context(request, integration, row, settings, step))
    return render(request, "integration_admin/tickets/wizard.html", context)


def _wizard_context(
    request, integration, row, settings, step: int, chosen=None, missing=()
) -> dict:
    context = {
        "step": step,
        "steps": STEPS,
        "last_step": LAST,
        "settings": settings,
        "object_enabled": row.enabled,
        "form": TicketSettingsForm(initial=_initial(row, settings)),
        "failure": "",
    }
    if step in (2, 5):
        context.update(_partner_pairs_off(integration))
    try:
        if step == 3:
            context.update(editor_context(request, integration, OBJECT))
        elif step == 4:
            context["processes"] = _pipeline_rows(integration, settings, chosen, missing)
        elif step == 5:
            context["preview"] = ticket_sync_preview(integration=integration)
            context["processes"] = _pipeline_rows(integration, settings)
    except ConnectorError as error:
        logger.warning("tickets wizard step %s: %s", step, error)
        context["failure"] = str(getattr(error, "message", error))
    return context


def _partner_pairs_off(integration) -> dict:
    """An association whose partner pair is off waits (without an error) until it's on."""
    on = pairs_switched_on(integration=integration)
    return {"company_sync_off": "companies" not in on, "contact_sync_off": "contacts" not in on}


def _initial(row, settings) -> dict:
    return {
        "enabled": row.enabled,
        "salesforce_delete": settings.salesforce_delete,
        "sync_account_association": settings.sync_account_association,
        "sync_contact_association": settings.sync_contact_association,
    }


def _settings_context(request, integration, row, settings, form=None, changed=None) -> dict:
    # From the stored table: showing the tab costs no API call (step 4 reads both sides). Its
    # statuses in Salesforce's order, as the wizard shows them, from the cached Case describe
    # the mapping editor reads anyway (unknown ones last).
    schema = pair_schema_options(integration=integration, object_name=OBJECT)
    rank = {status: n for n, status in enumerate(status_values(schema.salesforce))}
    rows = [
        {
            "key": key,
            "label": entry.get("label") or key,
            "pipeline_label": entry.get("pipeline_label") or "",
            "created": bool(entry.get("pipeline")),
            # A pipeline the first sync creates gets a stage for every status, as step 4 said.
            "statuses": sorted(
                entry.get("stages") or ({} if entry.get("pipeline") else rank),
                key=lambda s: (rank.get(s, len(rank)), s),
            ),
        }
        for key, entry in sorted(settings.pipelines.items(), key=lambda kv: kv[0] != "master")
    ]
    return {
        "settings": settings,
        "object_enabled": row.enabled,
        "form": form or TicketSettingsForm(initial=_initial(row, settings)),
        "changed": changed,
        "processes": rows,
        **_partner_pairs_off(integration),  # the association toggles say so, as in step 2
        **editor_context(request, integration, OBJECT, schema=schema),
    }


# --- pipelines ------------------------------------------------------------------------------
def _pipeline_rows(integration, settings, chosen: dict | None = None, missing=()) -> list[dict]:
    """One row per case process: its pipeline choice and status → stage table (``missing``:
    the names of the stage selects step 4 was refused for)."""
    processes = ticket_case_processes(integration=integration)
    pipelines = ticket_hubspot_pipelines(integration=integration)
    statuses = ticket_case_statuses(integration=integration)
    rows = []
    for process in processes:
        entry = (chosen or settings.pipelines).get(process["key"]) or {}
        listed = _process_statuses(statuses, settings.pipelines.get(process["key"]))
        pipeline_id = entry.get("pipeline") or ""
        stages = _stage_rows(pipelines, pipeline_id, listed, entry.get("stages") or {})
        for item in stages:
            item["missing"] = f"stage_{process['key']}_{item['index']}" in missing
        rows.append(
            {
                "key": process["key"],
                "label": process["label"],
                "pipeline": pipeline_id or NEW,
                "pipelines": pipelines,
                "managed": bool(entry.get("managed")) or not pipeline_id,
                "stages": stages,
                "statuses": listed,
            }
        )
    return rows


def _process_statuses(statuses: list[str], saved: dict | None) -> list[str]:
    """The case statuses a process's stage table lists: the Case describe's, then those it
    doesn't list that cases still hold (deactivated in Salesforce, or added since the describe
    was read): the ones the saved table has a stage for, and the ones the engine met without
    one. From the saved entry only, so a page and its post number the statuses alike."""
    saved = saved or {}
    return list(
        dict.fromkeys([*statuses, *(saved.get("stages") or {}), *(saved.get("unmapped") or [])])
    )


def _stage_rows(pipelines: list[dict], pipeline_id: str, statuses: list[str], saved: dict):
    """``[{"status", "stage", "options"}]`` for an existing pipeline: the saved choice, else
    the stage with the status's label (case-insensitive, as the engine matches), else none.
    No other guess: the first open stage would show worked cases as New unnoticed, so the
    admin picks the stage (step 4 is refused until every status has one)."""
    pipeline = next((p for p in pipelines if p["id"] == pipeline_id), None)
    if pipeline is None:
        return []
    valid = {s["id"] for s in pipeline["stages"]}
    return [
        {
            "index": i,
            "status": status,
            "stage": saved.get(status)
            if saved.get(status) in valid
            else stage_by_label(pipeline["stages"], status) or "",
            "options": pipeline["stages"],
        }
        for i, status in enumerate(statuses)
    ]


@login_required
def ticket_stages(request: HttpRequest) -> HttpResponse:
    """The status → stage table of one process for the pipeline just picked (htmx)."""
    integration = current_integration(request)
    if integration is None:
        raise Http404
    _row, settings = _state(integration)
    key = request.GET.get("process", "")[:40]
    pipeline = request.GET.get(f"pipeline_{key}", request.GET.get("pipeline", ""))[:40]
    try:
        pipelines = ticket_hubspot_pipelines(integration=integration)
        statuses = ticket_case_statuses(integration=integration)
    except ConnectorError as error:
        # The table stays as it was; the remote message is shown (escaped) in the flash area.
        messages.error(
            request, _("Couldn't reach Salesforce or HubSpot: %(error)s") % {"error": error}
        )
        response = render(request, "integration_admin/partials/flash_oob.html")
        response["HX-Reswap"] = "none"
        return response
    current = settings.pipelines.get(key) or {}
    saved = current.get("stages") or {}
    statuses = _process_statuses(statuses, current)
    row = {
        "key": key,
        "pipeline": pipeline or NEW,
        "managed": _managed(current, pipeline),
        "stages": _stage_rows(pipelines, "" if pipeline == NEW else pipeline, statuses, saved),
        "statuses": statuses,
    }
    return render(request, "integration_admin/tickets/stages.html", {"row": row})


def _managed(current: dict, pipeline: str) -> bool:
    """Whether ``pipeline`` is the one made for the process (``current``: its saved entry)."""
    return bool(current.get("managed")) and current.get("pipeline") == pipeline


def _missing_stages(
    entry: dict, statuses: list[str], process: str, required: list[str]
) -> dict[int, str]:
    """What to tell the admin for each case status (by its index in ``statuses``) of
    ``required`` that the process's entry gives no stage; none for our own pipeline, which
    gets a stage added when a case needs it. Statuses listed only because an older table had
    a stage for them (deleted from Salesforce since, perhaps) may stay without one."""
    if entry.get("managed"):
        return {}
    stages = entry.get("stages") or {}
    return {
        i: _("Choose a ticket stage for case status “%(status)s” (%(process)s).")
        % {"status": status, "process": process}
        for i, status in enumerate(statuses)
        if status not in stages and status in required
    }


def _required_statuses(statuses: list[str], saved: dict | None) -> list[str]:
    """The statuses a chosen pipeline needs a stage for: the Case describe's, and those the
    engine met on cases without one (``unmapped``)."""
    return [*statuses, *((saved or {}).get("unmapped") or [])]


def _pipelines_from_post(request, integration, settings) -> tuple[dict, dict[str, str]]:
    """The process → pipeline table posted at step 4, and a message for each case status of a
    chosen existing pipeline left without a stage (by its select's name)."""
    processes = ticket_case_processes(integration=integration)
    pipelines = {p["id"]: p for p in ticket_hubspot_pipelines(integration=integration)}
    statuses = ticket_case_statuses(integration=integration)
    out = dict(settings.pipelines)  # processes no longer active keep their pipeline
    missing: dict[str, str] = {}
    for process in processes:
        key = process["key"]
        current = settings.pipelines.get(key) or {}
        listed = _process_statuses(statuses, current)
        choice = request.POST.get(f"pipeline_{key}", NEW)
        if choice == NEW or choice not in pipelines:
            if current.get("managed") and current.get("pipeline") in pipelines:
                out[key] = current  # the pipeline made for this process earlier
            else:
                out[key] = {
                    "label": process["label"],
                    "pipeline": "",
                    "pipeline_label": "",
                    "stages": {},
                    "managed": True,
                }
            continue
        labels = {s["id"]: s["label"] for s in pipelines[choice]["stages"]}
        stages = {}
        for row in _stage_rows(list(pipelines.values()), choice, listed, {}):
            picked = request.POST.get(f"stage_{key}_{row['index']}", "")
            stage = picked if picked in labels else row["stage"]
            if stage:
                stages[row["status"]] = stage
        out[key] = {
            "label": process["label"],
            "pipeline": choice,
            "pipeline_label": pipelines[choice]["label"],
            "stages": stages,
            # The stages' names when chosen, so the audit log can say which stage a status took.
            "stage_labels": {stage: labels[stage] for stage in stages.values()},
            "managed": _managed(current, choice),
        }
        required = _required_statuses(statuses, current)
        for i, message in _missing_stages(out[key], listed, process["label"], required).items():
            missing[f"stage_{key}_{i}"] = message
    return out, missing


def _statuses_without_stage(integration, settings) -> list[str]:
    """Finish checks the saved table again: a case status added in Salesforce since step 4 (or
    a table saved before every status needed a stage) has no stage in a chosen pipeline."""
    statuses = ticket_case_statuses(integration=integration)
    labels = {p["key"]: p["label"] for p in ticket_case_processes(integration=integration)}
    return [
        message
        for key, entry in settings.pipelines.items()
        if key in labels
        for message in _missing_stages(
            entry,
            _process_statuses(statuses, entry),
            labels[key],
            _required_statuses(statuses, entry),
        ).values()
    ]


# --- posts ----------------------------------------------------------------------------------
@admin_required
def ticket_post(request: HttpRequest) -> HttpResponse:
    integration = current_integration(request)
    row, settings = _state(integration)
    action = request.POST.get("action", "next")
    try:
        step = int(request.POST.get("step", "0"))
    except ValueError:
        step = 0
    url = reverse("tickets")
    try:
        if action == "settings":
            if not settings.setup_complete:  # the settings form comes after the wizard
                messages.error(request, _("Finish the Tickets wizard first."))
                return redirect(url)
            return _save_settings(request, integration, row, settings)
        if action == "back":
            # The step's answer is kept: coming back to it, the admin finds their choice.
            if step in STEP_SETTINGS and not settings.setup_complete:
                _save(request, integration, _step_changes(request, row, settings, step))
            elif step == 4 and not settings.setup_complete:
                chosen, _missing = _pipelines_from_post(request, integration, settings)
                # A stage still to pick is asked for by Next and Finish, not here. Left all
                # on "new" with nothing saved before, the step has nothing to keep.
                if settings.pipelines or any(e.get("pipeline") for e in chosen.values()):
                    try:
                        ticket_pipelines_save(
                            integration=integration, pipelines=chosen, actor=request.user
                        )
                    except SettingsError as error:
                        return _pipelines_refused(
                            request, integration, row, settings, chosen, error
                        )
            return redirect(f"{url}?step={max(step - 1, 1)}")
        if step in STEP_SETTINGS:
            _save(request, integration, _step_changes(request, row, settings, step))
        elif step == 4:
            chosen, missing = _pipelines_from_post(request, integration, settings)
            try:
                if missing:  # nothing saved until every status has its stage
                    raise SettingsError(missing)
                ticket_pipelines_save(integration=integration, pipelines=chosen, actor=request.user)
            except SettingsError as error:
                # Redrawn with what the admin picked (pipelines and stages) and why it was refused.
                return _pipelines_refused(request, integration, row, settings, chosen, error)
        elif step == LAST:
            if settings.setup_complete:
                # Set up already (a stale page): finishing again would switch on a ticket sync
                # the admin may have switched off since; the switch is on the settings.
                return redirect(url)
            if unmapped := _statuses_without_stage(integration, settings):
                raise SettingsError({"pipelines": " ".join(unmapped)})
            ticket_setup_finish(integration=integration, actor=request.user)
            request.session.pop(SESSION_STEP, None)
            messages.success(request, _("Ticket sync is on: cases sync to tickets from now on."))
            return redirect(url)
        elif step not in (3, 5):
            raise Http404
    except SettingsError as error:
        for message in error.errors.values():
            messages.error(request, message)
        return redirect(f"{url}?step={4 if 'pipelines' in error.errors else step}")
    except ConnectorError as error:
        messages.error(
            request, _("Couldn't reach Salesforce or HubSpot: %(error)s") % {"error": error}
        )
        return redirect(f"{url}?step={step}")
    if settings.setup_complete:  # a step changed after setup: back to the settings
        if step not in (3, 5):  # (these save nothing themselves)
            messages.success(request, _("Saved."))
        return redirect(url)
    return redirect(f"{url}?step={min(step + 1, LAST)}")


# The settings steps 1 and 2 ask for (their pages carry the values they were drawn with).
STEP_SETTINGS = {
    1: ("salesforce_delete",),
    2: ("sync_account_association", "sync_contact_association"),
}


def _step_changes(request, row, settings, step: int) -> dict:
    """What step 1 or 2 changes: only the settings changed on its page (as the settings form
    saves), so a page drawn before another admin or tab changed the other setting doesn't
    put it back. A value the form refuses goes to the service as posted, which says why."""
    form = TicketSettingsForm(request.POST, initial=_initial(row, settings))
    form.is_valid()
    changed = set(form.changed_names())
    return {
        name: form.cleaned_data.get(name, request.POST.get(name))
        for name in STEP_SETTINGS[step]
        if name in changed
    }


def _pipelines_refused(request, integration, row, settings, chosen, error) -> HttpResponse:
    context = {"active_tab": _tab().slug, "tab": _tab(), "object_name": OBJECT}
    context.update(
        _wizard_context(request, integration, row, settings, 4, chosen=chosen, missing=error.errors)
    )
    context["pipelines_errors"] = list(error.errors.values())
    return render(request, "integration_admin/tickets/wizard.html", context, status=400)


def _save(request, integration, changes: dict) -> dict:
    return object_settings_update(
        integration=integration, object_name=OBJECT, changes=changes, actor=request.user
    )


def _save_settings(request, integration, row, settings) -> HttpResponse:
    """The settings form shown once the wizard is done."""
    # Only what was changed on the posted page is saved (see ``ObjectSettingsForm``).
    form = TicketSettingsForm(request.POST, initial=_initial(row, settings))
    changed, status = None, 200
    if form.is_valid():
        data, enabled = form.changes()
        try:
            diff = object_settings_update(
                integration=integration,
                object_name=OBJECT,
                changes=data,
                enabled=enabled,
                actor=request.user,
            )
        except SettingsError as error:
            for name, message in error.errors.items():
                form.add_error(name if name in form.fields else None, message)
            status = 400
        else:
            changed = describe_changes(OBJECT, diff)
            form = None
            row, settings = _state(integration)
    else:
        status = 400
    context = {"active_tab": _tab().slug, "tab": _tab(), "object_name": OBJECT}
    context.update(_settings_context(request, integration, row, settings, form, changed))
    return render(request, "integration_admin/tickets/tab.html", context, status=status)
