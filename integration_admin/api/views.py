"""The REST API under /api/v1/: the same reads (selectors) and writes (services) as the pages,
with the same validation and roles (viewers read, integration admins change)."""

from __future__ import annotations

import re

from django.contrib.auth.views import redirect_to_login
from django.db import transaction
from django.http import StreamingHttpResponse
from django.urls import reverse
from django.utils import translation
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from drf_spectacular.views import SpectacularSwaggerSplitView
from rest_framework import generics, status
from rest_framework.exceptions import (
    APIException,
    AuthenticationFailed,
    NotAuthenticated,
    NotFound,
    ValidationError,
)
from rest_framework.permissions import IsAuthenticated
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import Serializer
from rest_framework.views import APIView

from sync_engine.errors import ConnectorError
from sync_engine.imports import (
    UNKNOWN_OBJECT,
    ImportRefused,
    import_cancel,
    import_job_get,
    import_jobs_list,
    import_progress,
    import_resumable,
    import_resume,
    import_start,
    import_target,
    import_targets,
    job_stalled,
)
from sync_engine.models import MAX_ROW_ID, ImportJob, Integration, SyncObject
from sync_engine.object_settings import (
    CUSTOM_PREFIX,
    SETTINGS_CLASSES,
    PairRemoved,
    SettingsError,
    settings_as_dict,
    settings_class,
    settings_for,
    unknown_setting,
    wizard_only_note,
)
from sync_engine.selectors import (
    api_calls_hourly,
    api_usage_forecast,
    audit_events_query,
    integration_api_usage,
    integration_get_default,
    integration_hubspot_connection,
    integration_salesforce_connection,
    list_resync_job_get,
    mapping_get,
    mappings_query,
    object_last_synced,
    object_sync_get,
    record_history,
    sync_cadence,
    sync_error_cards,
    sync_errors_query,
    sync_runs_query,
)
from sync_engine.services import (
    LIST_RESYNC_RUNNING,
    RECORD_PAIR_OFF,
    RECORD_UNAVAILABLE,
    SYNC_NOW_ALLOCATION_USED,
    SYNC_NOW_NOT_CONNECTED,
    SYNC_NOW_SUSPENDED,
    SYNC_NOW_SYNC_OFF,
    RecordSyncRequest,
    company_sync_request,
    contact_sync_request,
    integration_disconnect_and_stop_imports,
    integration_set_state,
    integration_sync_now,
    integration_sync_set,
    integration_update_allocation,
    list_resync_outcome,
    list_resync_preview,
    list_resync_request,
    mapping_create,
    mapping_delete,
    mapping_update_rule,
    object_settings_update,
    object_sync_get_or_create,
    record_resync_with_errors,
    schema_refresh_by_admin,
    sync_errors_create_view,
    sync_errors_request_resync,
)

from ..exports import errors_csv_rows
from ..labels import custom_labels, job_label, target_label
from ..links import hubspot_list_url
from ..sync_answers import (
    inclusion_list_chosen,
    list_resync_answer,
    list_resync_confirmation,
    list_resync_percent,
    record_sync_answer,
    waits_message,
)
from .renderers import CSVRenderer
from .serializers import (
    CUSTOM_PAIR,
    OBJECT_PAIR_SCHEMA,
    AllocationSerializer,
    AuditEventSerializer,
    AuditFilterSerializer,
    ClearSuspensionSerializer,
    CompanySyncSerializer,
    ContactSyncSerializer,
    CreateViewSerializer,
    DisconnectSerializer,
    ErrorCardSerializer,
    ErrorFilterSerializer,
    ErrorViewsSerializer,
    ImportActionSerializer,
    ImportFilterSerializer,
    ImportJobSerializer,
    ImportStartSerializer,
    ImportTargetSerializer,
    IntegrationSerializer,
    ListResyncJobSerializer,
    ListResyncResultSerializer,
    ListResyncSerializer,
    MappingFilterSerializer,
    MappingObjectField,
    MappingRuleSerializer,
    MappingSerializer,
    ObjectSettingsChangedSerializer,
    ObjectSettingsSerializer,
    ObjectSettingsUpdateSerializer,
    QueuedSerializer,
    RecordResyncSerializer,
    ResyncResultSerializer,
    ResyncSerializer,
    RunFilterSerializer,
    SchemaRefreshedSerializer,
    SchemaRefreshSerializer,
    SyncErrorSerializer,
    SyncNowSerializer,
    SyncRunSerializer,
    SyncStartedSerializer,
    SyncSwitchSerializer,
    is_object_pair,
)


def no_such_pair(object_name: str) -> NotFound:
    return NotFound(f"No custom object pair '{object_name}'.")


def _integration():
    integration = integration_get_default()
    if integration is None:
        raise NotFound("Not connected yet: run `manage.py connect` or use the Connection tab.")
    return integration


def _settings_error(error: SettingsError) -> ValidationError:
    """Per-field messages as lists, like the serializers' own errors."""
    return ValidationError({name: [message] for name, message in error.errors.items()})


SYSTEM_NAMES = {"salesforce": "Salesforce", "hubspot": "HubSpot"}


class RemoteUnavailable(APIException):
    """Salesforce or HubSpot couldn't be read for a check the change needs: nothing changed."""

    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_code = "remote_unavailable"


def _filters(request: Request, serializer_class: type[Serializer], *, paged: bool = True) -> dict:
    """The query parameters, checked: an unknown value is a 400 naming the allowed ones, not
    an empty list; so is a parameter the endpoint doesn't take (``?error_type=`` on errors/
    would otherwise answer every error as if filtered)."""
    takes = [*serializer_class().fields, *(["page"] if paged else [])]
    unknown = [key for key in request.query_params if key not in takes and key != "format"]
    if unknown:
        message = f"Unknown query parameter: this endpoint takes {', '.join(takes)}."
        raise ValidationError({key: [message] for key in unknown})
    filters = serializer_class(data=request.query_params)
    filters.is_valid(raise_exception=True)
    return filters.validated_data


class IntegrationView(APIView):
    """The integration: state, both connections, API use over the last 24 hours, the calls per
    hour, the forecast of when the allocation runs out, and the last sync per object."""

    def _payload(self, integration) -> dict:
        usage = integration_api_usage(integration=integration)
        hourly = api_calls_hourly(integration=integration)
        return {
            "id": integration.pk,
            "name": integration.name,
            "state": integration.state,
            "state_reason": integration.state_reason,
            "state_changed_at": integration.state_changed_at,
            "sync_enabled": integration.sync_enabled,
            "sync_not_started": integration.sync_not_started,
            "sync_changed_at": integration.sync_changed_at,
            "sync_changed_by": integration.sync_changed_by,
            "salesforce": integration_salesforce_connection(integration=integration),
            "hubspot": integration_hubspot_connection(integration=integration),
            "api_usage": usage,
            # At the pace the schedule keeps, as the Sync health tab forecasts it.
            "forecast": api_usage_forecast(
                allocation=usage.allocation,
                used=usage.used,
                hourly=hourly,
                cadence=sync_cadence(integration=integration, remaining=usage.remaining),
            ),
            "calls_per_hour": hourly.buckets,
            "last_synced": object_last_synced(integration=integration),
        }

    @extend_schema(responses=IntegrationSerializer)
    def get(self, request: Request) -> Response:
        return _integration_answer()

    @extend_schema(request=AllocationSerializer, responses=IntegrationSerializer)
    def patch(self, request: Request) -> Response:
        """Change "Allocated to HubSpot": positive, and at most "Limited by Salesforce"."""
        integration = _integration()
        data = AllocationSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        allocation = data.validated_data["allocated_to_hubspot"]
        limit = integration.salesforce_api_limit
        if limit is not None and allocation > limit:
            raise ValidationError(
                {
                    "allocated_to_hubspot": [
                        f"The allocation can't be more than Salesforce's limit of {limit:,} "
                        "calls per 24 hours."
                    ]
                }
            )
        integration_update_allocation(
            integration=integration, allocation=allocation, actor=request.user
        )
        return _integration_answer()


def _integration_answer() -> Response:
    """The integration as ``integration/`` shows it, read again (after an action changed it)."""
    return Response(IntegrationSerializer(IntegrationView()._payload(_integration())).data)


class Conflict(APIException):
    """The change doesn't fit the integration's state: nothing changed."""

    status_code = status.HTTP_409_CONFLICT
    default_code = "conflict"


class ClearSuspensionView(APIView):
    """Clear a suspension, as the header's *Clear suspension* does: syncing resumes on the
    next cycle (a cause still there suspends it again). Audit-logged."""

    # What the schema says of a 409 (see ``api/schema.py``).
    conflict = "The integration isn't suspended: nothing to clear, nothing changed."

    @extend_schema(request=None, responses=IntegrationSerializer)
    def post(self, request: Request) -> Response:
        integration = _integration()
        ClearSuspensionSerializer(data=request.data).is_valid(raise_exception=True)
        if integration.state != Integration.State.SUSPENDED:
            raise Conflict(
                f"The integration isn't suspended (it is {integration.state}): nothing to clear."
            )
        integration_set_state(
            integration=integration, state=Integration.State.CONNECTED, actor=request.user
        )
        return _integration_answer()


OBJECT_NAME = OpenApiParameter("object_name", OBJECT_PAIR_SCHEMA, OpenApiParameter.PATH)


@extend_schema(parameters=[OBJECT_NAME])
class ObjectSettingsView(APIView):
    """One object pair's sync: its ``enabled`` flag and its settings."""

    not_found = "Not connected yet, or no such object pair."

    def _object(self, object_name: str) -> str:
        if object_name.startswith(CUSTOM_PREFIX):  # set up by the wizard; never created here
            # A name no pair can have isn't looked up (PostgreSQL refuses a NUL byte: a 500).
            valid = CUSTOM_PAIR.fullmatch(object_name) is not None
            row = valid and object_sync_get(integration=_integration(), object_name=object_name)
            if not row:
                raise no_such_pair(object_name)
            return object_name
        if object_name not in SyncObject.values:
            raise NotFound(f"No object pair '{object_name}'.")
        if object_name not in SETTINGS_CLASSES:
            raise NotFound(f"{object_name} sync is not available yet.")
        return object_name

    def _payload(self, integration, object_name: str) -> dict:
        try:
            row = object_sync_get_or_create(integration=integration, object_name=object_name)
        except PairRemoved as removed:  # a custom pair removed meanwhile
            raise no_such_pair(object_name) from removed
        return {
            "object": object_name,
            "enabled": row.enabled,
            "settings": settings_as_dict(settings_for(object_name, row.options)),
        }

    @extend_schema(responses=ObjectSettingsSerializer)
    def get(self, request: Request, object_name: str) -> Response:
        return Response(self._payload(_integration(), self._object(object_name)))

    @extend_schema(
        request=ObjectSettingsUpdateSerializer, responses=ObjectSettingsChangedSerializer
    )
    def patch(self, request: Request, object_name: str) -> Response:
        """A partial update; answers with what changed. Nothing is saved when any value is bad
        (400 with a message per setting)."""
        object_name = self._object(object_name)
        integration = _integration()
        data = ObjectSettingsUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        cls = settings_class(object_name)
        changes = data.validated_data.get("settings", {})
        fixed = getattr(cls, "WIZARD_ONLY", ())
        if wizard_only := [k for k in changes if k in fixed]:
            message = wizard_only_note(cls)
            raise ValidationError({"settings": {k: [message] for k in wizard_only}})
        try:
            diff = object_settings_update(
                integration=integration,
                object_name=object_name,
                changes=changes,
                enabled=data.validated_data.get("enabled"),
                actor=request.user,
            )
        except SettingsError as error:
            raise ValidationError(_settings_refused(error, cls, changes)) from error
        except PairRemoved as removed:  # a custom pair removed meanwhile
            raise no_such_pair(object_name) from removed
        payload = self._payload(integration, object_name)
        payload["changed"] = {k: {"from": old, "to": new} for k, (old, new) in diff.items()}
        return Response(payload)


def _settings_refused(error: SettingsError, cls: type, changes: dict) -> dict:
    """The service's refusal, filed where each value was sent: a setting under "settings",
    anything else (the switch, e.g. before the Tickets wizard is done) at the top. A setting
    the pair doesn't have says which it has."""
    errors: dict = {}
    for name, message in error.errors.items():
        if name not in changes:
            errors[name] = [message]
            continue
        if name == "enabled":  # the switch, sent inside "settings" (no pair has such a setting)
            message = 'not a setting: send "enabled" at the top level, beside "settings"'
        else:
            message = unknown_setting(cls, name) or message
        errors.setdefault("settings", {})[name] = [message]
    return errors


class MappingListView(generics.ListAPIView):
    """Field mappings; ``?object=contacts`` narrows to one object pair. POST adds a custom
    mapping after the same type-compatibility check as the editor."""

    serializer_class = MappingSerializer
    # What the schema says of a 503, by method (see ``api/schema.py``).
    remote_unavailable = {
        "POST": "Salesforce or HubSpot couldn't be read for the schemas the new mapping is "
        "checked against (read once, when none are cached): nothing was added."
    }

    def get_queryset(self):
        filters = _filters(self.request, MappingFilterSerializer)
        return mappings_query(integration=_integration(), object_name=filters.get("object") or None)

    @extend_schema(parameters=[MappingFilterSerializer])
    def get(self, request: Request, *args, **kwargs) -> Response:
        return super().get(request, *args, **kwargs)

    @extend_schema(request=MappingSerializer, responses={201: MappingSerializer})
    def post(self, request: Request) -> Response:
        integration = _integration()
        data = MappingSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        # The defaults exist first, so a custom mapping can't take a default's property.
        object_sync_get_or_create(integration=integration, object_name=values["object"])
        try:
            mapping = mapping_create(
                integration=integration,
                object_name=values["object"],
                hubspot_property=values["hubspot_property"],
                salesforce_field=values["salesforce_field"],
                rule=values["rule"],
                actor=request.user,
            )
        except SettingsError as error:
            raise _settings_error(error) from error
        except ConnectorError as error:  # the schemas, read first when none are cached
            system = SYSTEM_NAMES.get(error.system, error.system)
            raise RemoteUnavailable(
                f"Couldn't read the schemas to check this mapping ({system}: {error.message}): "
                "nothing was added. Try again later."
            ) from error
        return Response(MappingSerializer(mapping).data, status=status.HTTP_201_CREATED)


class MappingDetailView(APIView):
    """One mapping: read, change its rule, or delete it (custom mappings only). A custom
    object pair's mappings are read here but set in its wizard."""

    not_found = "Not connected yet, or no such mapping."

    def _mapping(self, mapping_id: int):
        mapping = mapping_get(integration=_integration(), mapping_id=mapping_id)
        if mapping is None:
            raise NotFound("No such mapping.")
        return mapping

    def _changeable(self, mapping_id: int):
        """A mapping to change or delete: not a custom object pair's, which its wizard sets
        (checking the properties its HubSpot object requires), as POST refuses them too."""
        mapping = self._mapping(mapping_id)
        if mapping.object.startswith(CUSTOM_PREFIX):
            raise ValidationError({"object": [MappingObjectField.default_error_messages["custom"]]})
        return mapping

    @extend_schema(responses=MappingSerializer)
    def get(self, request: Request, mapping_id: int) -> Response:
        return Response(MappingSerializer(self._mapping(mapping_id)).data)

    @extend_schema(request=MappingRuleSerializer, responses=MappingSerializer)
    def patch(self, request: Request, mapping_id: int) -> Response:
        mapping = self._changeable(mapping_id)
        data = MappingRuleSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            mapping = mapping_update_rule(
                mapping=mapping, rule=data.validated_data["rule"], actor=request.user
            )
        except SettingsError as error:
            raise _settings_error(error) from error
        return Response(MappingSerializer(mapping).data)

    @extend_schema(responses={204: None})
    def delete(self, request: Request, mapping_id: int) -> Response:
        try:
            mapping_delete(mapping=self._changeable(mapping_id), actor=request.user)
        except SettingsError as error:
            raise _settings_error(error) from error
        return Response(status=status.HTTP_204_NO_CONTENT)


def _errors(request: Request, *, paged: bool = True):
    filters = _filters(request, ErrorFilterSerializer, paged=paged)
    return sync_errors_query(
        integration=_integration(),
        error_type=filters.get("type") or None,
        object_name=filters.get("object") or None,
        search=filters.get("q", "")[:200],
        current=not filters["resolved"],
    )


class ErrorListView(generics.ListAPIView):
    """Sync errors, newest first; current ones unless ``?resolved=true``."""

    serializer_class = SyncErrorSerializer

    def get_queryset(self):
        return _errors(self.request)

    @extend_schema(parameters=[ErrorFilterSerializer])
    def get(self, request: Request, *args, **kwargs) -> Response:
        return super().get(request, *args, **kwargs)


class ErrorSummaryView(APIView):
    """The Sync health cards: per error type, current errors and impacted records."""

    @extend_schema(responses=ErrorCardSerializer(many=True))
    def get(self, request: Request) -> Response:
        cards = sync_error_cards(integration=_integration())
        return Response(ErrorCardSerializer(cards, many=True).data)


class ErrorResyncView(APIView):
    """Queue errors for a retry and start a sync cycle: the given ``ids``, or ``all`` (of
    ``error_type``, and that the search ``q`` finds, if given)."""

    @extend_schema(request=ResyncSerializer, responses=ResyncResultSerializer)
    def post(self, request: Request) -> Response:
        integration = _integration()
        data = ResyncSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        with transaction.atomic():
            count = sync_errors_request_resync(
                integration=integration,
                error_ids=None if values.get("all") else values["ids"],
                error_type=values.get("error_type") or None,
                search=values.get("q", "").strip(),
                actor=request.user,
            )
        return Response({"queued": count})


class ErrorExportView(APIView):
    """The filtered errors as CSV (cells that spreadsheets would run as formulas are quoted)."""

    # Accept: text/csv (or */*) negotiates this; errors still answer JSON (handle_exception).
    renderer_classes = [CSVRenderer]

    def handle_exception(self, exc: Exception) -> Response:
        response = super().handle_exception(exc)
        self.request.accepted_renderer = JSONRenderer()
        self.request.accepted_media_type = JSONRenderer.media_type
        return response

    @extend_schema(
        parameters=[
            ErrorFilterSerializer,
            OpenApiParameter(
                "Content-Disposition",
                str,
                OpenApiParameter.HEADER,
                description='attachment; filename="sync-errors.csv"',
                response=[200],
            ),
        ],
        responses={
            (200, "text/csv"): OpenApiResponse(
                OpenApiTypes.STR,
                description="UTF-8 CSV with a byte-order mark, a header row, then one row "
                "per error.",
            )
        },
    )
    def get(self, request: Request) -> StreamingHttpResponse:
        integration = _integration()
        response = StreamingHttpResponse(
            errors_csv_rows(integration, _errors(request, paged=False).iterator(chunk_size=2000)),
            content_type="text/csv; charset=utf-8",
        )
        response["Content-Disposition"] = 'attachment; filename="sync-errors.csv"'
        return response


class RunListView(generics.ListAPIView):
    """Sync cycles, newest first: what each read, wrote and failed, and the calls it spent."""

    serializer_class = SyncRunSerializer

    def get_queryset(self):
        filters = _filters(self.request, RunFilterSerializer)
        return sync_runs_query(
            integration=_integration(),
            object_name=filters.get("object") or None,
            status=filters.get("status") or None,
        )

    @extend_schema(parameters=[RunFilterSerializer])
    def get(self, request: Request, *args, **kwargs) -> Response:
        return super().get(request, *args, **kwargs)


class AuditListView(generics.ListAPIView):
    """Who changed what and when, newest first; ``?action=settings`` narrows by prefix."""

    serializer_class = AuditEventSerializer
    not_found = None  # read before connecting too

    def get_queryset(self):
        filters = _filters(self.request, AuditFilterSerializer)
        return audit_events_query(
            integration=integration_get_default(), action=filters.get("action") or None
        )

    @extend_schema(parameters=[AuditFilterSerializer])
    def get(self, request: Request, *args, **kwargs) -> Response:
        return super().get(request, *args, **kwargs)


# --- the pages' actions ------------------------------------------------------------------------
# The same services as the pages (Sync now, a record's sync, Disconnect), their outcomes
# worded as the pages word them (``sync_answers``), in English.


class SyncSwitchView(APIView):
    """Turn the whole sync on or off, as the Connection page's switch does (audit-logged).
    Already so: nothing changes, nothing is logged."""

    @extend_schema(request=SyncSwitchSerializer, responses=IntegrationSerializer)
    def post(self, request: Request) -> Response:
        integration = _integration()
        data = SyncSwitchSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        integration_sync_set(
            integration=integration, enabled=data.validated_data["enabled"], actor=request.user
        )
        return _integration_answer()


class DisconnectView(APIView):
    """Disconnect, as the Connection page does: both stored tokens are deleted and nothing
    syncs; settings, mappings, links and the audit log stay. A running import stops after
    its batch (resumable once connected again). Connecting again is done in the browser
    (OAuth) or with ``manage.py connect``. Audit-logged."""

    conflict = "The integration isn't connected: nothing to disconnect, nothing changed."

    @extend_schema(request=None, responses=IntegrationSerializer)
    def post(self, request: Request) -> Response:
        integration = _integration()
        DisconnectSerializer(data=request.data).is_valid(raise_exception=True)
        connected = integration_salesforce_connection(integration=integration) or (
            integration_hubspot_connection(integration=integration)
        )
        if connected is None:
            raise Conflict("The integration isn't connected: nothing to disconnect.")
        # As the page: a running import stops after its current batch.
        integration_disconnect_and_stop_imports(integration=integration, actor=request.user)
        return _integration_answer()


class SyncNowView(APIView):
    """*Sync now*: start one sync cycle over every object pair switched on, as the header's
    button does (audit-logged)."""

    conflict = (
        "Nothing can sync now: the integration is suspended or not connected, sync is off, or "
        "the API call allocation is used up (the message says which). Nothing started."
    )

    # Why no cycle started, as the page says it.
    refusals = {
        SYNC_NOW_SUSPENDED: (
            "Syncing is suspended (see `state_reason`), so nothing can sync: mend its "
            "cause, then clear the suspension."
        ),
        SYNC_NOW_NOT_CONNECTED: "The integration isn't connected, so nothing can sync.",
        SYNC_NOW_ALLOCATION_USED: (
            "The API call allocation is still used up: syncing resumes as the 24-hour "
            "window frees calls, or at once when you raise the allocation."
        ),
        SYNC_NOW_SYNC_OFF: (
            "Sync is off, so nothing syncs: turn it on with POST /api/v1/integration/sync/."
        ),
    }

    @extend_schema(request=None, responses=SyncStartedSerializer)
    def post(self, request: Request) -> Response:
        integration = _integration()
        SyncNowSerializer(data=request.data).is_valid(raise_exception=True)
        started = integration_sync_now(integration=integration, actor=request.user)
        if started.refused:
            raise Conflict(self.refusals[started.refused])
        return Response({"objects": started.objects})


RECORD_KEY = re.compile(r"(hubspot|salesforce):[\w.:-]{1,100}")


def _queued(integration, outcome: RecordSyncRequest, message: str, **extra) -> dict:
    """What the API answers of a record queued (in English: call it in ``translation.override``)."""
    waits = waits_message(integration, outcome.waits, outcome.object_name)
    return {
        "object": outcome.object_name,
        **extra,
        "syncs_now": waits is None,
        "waits": waits,
        "message": waits or message,
    }


@extend_schema(
    parameters=[
        OBJECT_NAME,
        OpenApiParameter(
            "record_key",
            {"type": "string", "pattern": r"^(hubspot|salesforce):[\w.:-]{1,100}$"},
            OpenApiParameter.PATH,
            description="hubspot:<id> or salesforce:<id>, as errors/ lists `record_key`.",
        ),
    ]
)
class RecordResyncView(APIView):
    """A record's *Resync*, as on its page: it syncs again on the next cycle (started now)
    whatever its state, its current errors queued for a retry with it. Audit-logged."""

    not_found = "Not connected yet, or nothing synced or failed under that record key."

    @extend_schema(request=None, responses=QueuedSerializer)
    def post(self, request: Request, object_name: str, record_key: str) -> Response:
        integration = _integration()
        valid = is_object_pair(object_name) and RECORD_KEY.fullmatch(record_key)
        history = valid and record_history(
            integration=integration, object_name=object_name, record_key=record_key
        )
        if not history or (history.link is None and not history.current and not history.resolved):
            raise NotFound(f"Nothing synced or failed as {object_name} {record_key}.")
        RecordResyncSerializer(data=request.data).is_valid(raise_exception=True)
        outcome = record_resync_with_errors(
            integration=integration, history=history, actor=request.user
        )
        with translation.override("en"):
            answer = _queued(
                integration,
                outcome,
                "This record syncs again now.",
                record=record_key,
                errors_queued=outcome.errors_queued,
            )
        return Response(QueuedSerializer(answer).data)


class _RecordSyncView(APIView):
    """A tab's *Sync a …* card: HubSpot is asked first, so a typo isn't said to be queued."""

    serializer_class: type[Serializer]
    field: str
    remote_unavailable = {"POST": "HubSpot couldn't be asked about the record: nothing was queued."}

    def sync(self, request: Request, integration, typed: str) -> RecordSyncRequest:
        """Queue the record, as the card does."""
        raise NotImplementedError

    def post(self, request: Request) -> Response:
        integration = _integration()
        data = self.serializer_class(data=request.data)
        data.is_valid(raise_exception=True)
        outcome = self.sync(request, integration, data.validated_data[self.field])
        # In the engine's English, as the API answers whatever language the request asks.
        with translation.override("en"):
            answer = record_sync_answer(integration, outcome)
            if outcome.unavailable:  # an outage, not bad input: try again later
                raise RemoteUnavailable(answer)
            if not outcome.ok:
                raise ValidationError({self.field: [answer]})
            queued = _queued(integration, outcome, answer)
        return Response(QueuedSerializer(queued).data)


REFUSED_RECORD = (
    "Refused, with the reason under `{field}`: not a record id or address, no such record "
    "in HubSpot, {extra}or its pair's sync off. Nothing was queued."
)


class ContactSyncView(_RecordSyncView):
    """The Contacts tab's *Sync a contact*: one HubSpot contact syncs on the next cycle
    (started now) whatever its modified date, e.g. one skipped while outside the inclusion
    list. If no Salesforce lead or contact has its email, one is created. Audit-logged."""

    serializer_class, field = ContactSyncSerializer, "contact"

    def sync(self, request: Request, integration, typed: str) -> RecordSyncRequest:
        return contact_sync_request(integration=integration, contact=typed, actor=request.user)

    bad_request = {
        "POST": REFUSED_RECORD.format(
            field="contact", extra="no email address, outside the inclusion list, "
        )
    }

    @extend_schema(request=ContactSyncSerializer, responses=QueuedSerializer)
    def post(self, request: Request) -> Response:
        return super().post(request)


class CompanySyncView(_RecordSyncView):
    """The Companies tab's *Sync a company*: one HubSpot company syncs on the next cycle
    (started now); its Salesforce account is created if it has none. Audit-logged."""

    serializer_class, field = CompanySyncSerializer, "company"

    def sync(self, request: Request, integration, typed: str) -> RecordSyncRequest:
        return company_sync_request(integration=integration, company=typed, actor=request.user)

    bad_request = {"POST": REFUSED_RECORD.format(field="company", extra="")}

    @extend_schema(request=CompanySyncSerializer, responses=QueuedSerializer)
    def post(self, request: Request) -> Response:
        return super().post(request)


class ListResyncView(APIView):
    """*Resync a list*, as on the Contacts and Companies tabs: every member of a HubSpot list
    syncs again (spec §5.2; how a new mapping is backfilled), as its own Resync would, over the
    next cycles (2,000 a cycle). `dry_run` says first how many and what it costs at most (200).
    Otherwise the answer is 202 with a job: a worker reads the members (250 a HubSpot call)
    and queues them; GET its `url` for how far it got. A list over 200,000 members is refused
    whole. Audit-logged once."""

    bad_request = {
        "POST": "Refused, with the reason under `list_id` (no such HubSpot list, a list of "
        "other records, no members or over 200,000) or `object` (its sync off). Nothing was "
        "queued."
    }
    conflict = {
        "POST": "The list's resync is already queued or running (`detail` says how far it "
        "got): nothing changed. Wait for it to finish."
    }
    remote_unavailable = {"POST": "HubSpot couldn't be read: nothing was queued."}

    @extend_schema(
        request=ListResyncSerializer,
        responses={200: ListResyncResultSerializer, 202: ListResyncJobSerializer},
    )
    def post(self, request: Request) -> Response:
        integration = _integration()
        data = ListResyncSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        asked = {
            "integration": integration,
            "object_name": data.validated_data["object"],
            "list_id": data.validated_data["list_id"],
        }
        dry_run = data.validated_data["dry_run"]
        if dry_run:
            outcome = list_resync_preview(**asked)
        else:
            outcome = list_resync_request(**asked, actor=request.user)
        # In the engine's English, as the API answers whatever language the request asks.
        with translation.override("en"):
            answer = list_resync_answer(integration, outcome)
            if outcome.refused == RECORD_UNAVAILABLE:
                raise RemoteUnavailable(answer)
            if outcome.refused == LIST_RESYNC_RUNNING:
                raise Conflict(answer)
            if not outcome.ok:
                field = "object" if outcome.refused == RECORD_PAIR_OFF else "list_id"
                raise ValidationError({field: [answer]})
            if not dry_run:
                return _list_resync_job_answer(outcome.job, status=status.HTTP_202_ACCEPTED)
            answer = list_resync_confirmation(
                outcome, inclusion_list_chosen(integration, outcome.object_name)
            )
        result = {
            "object": outcome.object_name,
            "list_id": outcome.list_id,
            "list_name": outcome.name,
            "members": outcome.members,
            "queued": 0,
            "salesforce_calls": outcome.salesforce_calls,
            "cycles": outcome.cycles,
            "syncs_now": False,
            "waits": None,
            "message": answer,
        }
        return Response(ListResyncResultSerializer(result).data)


def _job_or_404(get, job_id: int, missing: str):
    """The integration's job ``job_id`` as ``get`` (its selector) reads it, else a 404 saying
    ``missing``."""
    integration = _integration()
    # An id no row can have isn't looked up (PostgreSQL would refuse it: a 500).
    job = job_id <= MAX_ROW_ID and get(integration=integration, job_id=job_id)
    if not job:
        raise NotFound(missing)
    return job


def _list_resync_job_answer(job, **kwargs) -> Response:
    """A list resync's job as the API shows it (in English), with its address."""
    with translation.override("en"):
        outcome = list_resync_outcome(job)
        payload = {
            "id": job.pk,
            "url": reverse("api:list_resync_job", args=[job.pk]),
            "object": job.object,
            "list_id": job.list_id,
            "list_name": job.list_name,
            "status": job.status,
            "members": job.members,
            "queued": job.queued,
            "percent": list_resync_percent(job),
            "stalled": job_stalled(job),
            "salesforce_calls": outcome.salesforce_calls,
            "cycles": outcome.cycles,
            "refused": job.refused or None,
            "waits": waits_message(
                integration=job.integration, waits=outcome.waits, object_name=job.object
            ),
            "message": list_resync_answer(job.integration, outcome),
            "started_by": job.started_by.get_username() if job.started_by else None,
            "created_at": job.created_at,
            "started_at": job.started_at,
            "finished_at": job.finished_at,
        }
    response = Response(ListResyncJobSerializer(payload).data, **kwargs)
    if kwargs.get("status") == status.HTTP_202_ACCEPTED:
        response["Location"] = payload["url"]
    return response


class ListResyncJobView(APIView):
    """One *Resync a list*'s job: how many members its worker has read and queued, and how it
    ended (poll it while it runs)."""

    not_found = "Not connected yet, or no such list resync."

    @extend_schema(responses=ListResyncJobSerializer)
    def get(self, request: Request, job_id: int) -> Response:
        return _list_resync_job_answer(
            _job_or_404(list_resync_job_get, job_id, "No such list resync.")
        )


class ErrorViewCreateView(APIView):
    """*Create view*: a HubSpot list per object type of the records that have a current error
    of the type, for editing them in bulk in HubSpot. Audit-logged."""

    remote_unavailable = {
        "POST": "HubSpot didn't create the view (the lists made before the "
        "failure stay, audit-logged)."
    }

    @extend_schema(request=CreateViewSerializer, responses=ErrorViewsSerializer)
    def post(self, request: Request) -> Response:
        integration = _integration()
        data = CreateViewSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            made = sync_errors_create_view(
                integration=integration,
                error_type=data.validated_data["error_type"],
                actor=request.user,
            )
        except ConnectorError as error:
            raise RemoteUnavailable(f"HubSpot didn't create the view: {error.message}") from error
        connection = integration_hubspot_connection(integration=integration)
        views = [
            {**vars(view), "url": hubspot_list_url(connection, view.list_id)} for view in made.views
        ]
        answer = {
            "views": views,
            "not_in_hubspot": made.not_in_hubspot,
            "activities": made.activities,
        }
        return Response(ErrorViewsSerializer(answer).data)


class SchemaRefreshView(APIView):
    """Read an object pair's HubSpot properties and Salesforce fields again (the mapping
    editor's *Refresh*): a field or property added since shows in mappings and can be mapped.
    Audit-logged."""

    remote_unavailable = {
        "POST": "HubSpot or Salesforce couldn't be read: the lists kept are the ones read before."
    }

    @extend_schema(request=SchemaRefreshSerializer, responses=SchemaRefreshedSerializer)
    def post(self, request: Request) -> Response:
        integration = _integration()
        data = SchemaRefreshSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        object_name = data.validated_data["object"]
        try:
            schema_refresh_by_admin(
                integration=integration, object_name=object_name, actor=request.user
            )
        except ConnectorError as error:
            system = SYSTEM_NAMES.get(error.system, error.system)
            raise RemoteUnavailable(
                f"Couldn't refresh the schemas ({system}: {error.message})."
            ) from error
        return Response({"object": object_name, "refreshed": True})


# --- imports from Salesforce ------------------------------------------------------------------
def _job_payload(job: ImportJob, custom: dict | None = None) -> dict:
    if custom is None:
        custom = custom_labels(job.integration) if job.object.startswith(CUSTOM_PREFIX) else {}
    progress = import_progress(job)
    return {
        **{name: getattr(job, name) for name in ImportJobSerializer.MODEL_FIELDS},
        "started_by": job.started_by.get_username() if job.started_by else None,
        "label": job_label(job, custom),
        "percent": progress["percent"],
        "seconds": progress["seconds"],
        "rate": progress["rate"],
        "skipped_reasons": dict(progress["reasons"]),
        "stalled": job_stalled(job),
        "resumable": import_resumable(job),
    }


def _job_answer(job: ImportJob, **kwargs) -> Response:
    job = import_job_get(integration=job.integration, job_id=job.pk) or job
    return Response(ImportJobSerializer(_job_payload(job)).data, **kwargs)


IMPORT_REFUSED = (
    "The import can't start or go on: an import of the object is already running, its "
    "pair's sync is off, the integration isn't connected or is suspended, or the campaign isn't an "
    "active one Salesforce has. Nothing changed."
)


class ImportListView(APIView):
    """Imports from Salesforce, newest first (the last 20, as the Import page lists them),
    with their progress and summary. POST starts one (audit-logged): it runs on a worker;
    read ``imports/<id>/`` for its progress."""

    conflict = {"POST": IMPORT_REFUSED}
    no_parameters = True

    @extend_schema(responses=ImportJobSerializer(many=True))
    def get(self, request: Request) -> Response:
        _filters(request, ImportFilterSerializer, paged=False)
        integration = _integration()
        custom = custom_labels(integration)
        jobs = import_jobs_list(integration=integration)
        return Response(
            ImportJobSerializer([_job_payload(j, custom) for j in jobs], many=True).data
        )

    @extend_schema(request=ImportStartSerializer, responses={201: ImportJobSerializer})
    def post(self, request: Request) -> Response:
        integration = _integration()
        data = ImportStartSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        object_name = data.validated_data["object"]
        if import_target(integration=integration, object_name=object_name) is None:
            known = ", ".join(t["target"].key for t in import_targets(integration=integration))
            message = UNKNOWN_OBJECT.format(object=object_name)
            raise ValidationError({"object": [f"{message}: use one of {known}, or campaign:<Id>."]})
        try:
            job = import_start(integration=integration, object_name=object_name, actor=request.user)
        except ImportRefused as error:
            raise Conflict(_english(error)) from error
        return _job_answer(job, status=status.HTTP_201_CREATED)


class ImportTargetListView(APIView):
    """What can be imported (a campaign's members too, as ``campaign:<Salesforce id>``), and
    whether each one's pair is on."""

    no_parameters = True

    @extend_schema(responses=ImportTargetSerializer(many=True))
    def get(self, request: Request) -> Response:
        _filters(request, ImportFilterSerializer, paged=False)
        integration = _integration()
        custom = custom_labels(integration)
        targets = [
            {
                "object": t["target"].key,
                "label": target_label(t["target"].key, custom),
                "pair_enabled": t["pair_enabled"],
                "pair_off": str(t["off"]),  # why nothing would be imported
            }
            for t in import_targets(integration=integration)
        ]
        return Response(ImportTargetSerializer(targets, many=True).data)


def _english(error: Exception) -> str:
    with translation.override("en"):  # some refusals are the Import page's (lazy) words
        return str(error)


class _ImportView(APIView):
    not_found = "Not connected yet, or no such import."

    def _job(self, job_id: int) -> ImportJob:
        return _job_or_404(import_job_get, job_id, "No such import.")


class ImportDetailView(_ImportView):
    """One import: its status, progress bar and summary (poll it while it runs)."""

    @extend_schema(responses=ImportJobSerializer)
    def get(self, request: Request, job_id: int) -> Response:
        return _job_answer(self._job(job_id))


class ImportCancelView(_ImportView):
    """Stop a queued or running import after its current batch (what it imported stays; it
    can be resumed). Audit-logged."""

    conflict = "The import isn't queued or running: nothing to cancel, nothing changed."

    @extend_schema(request=None, responses=ImportJobSerializer)
    def post(self, request: Request, job_id: int) -> Response:
        job = self._job(job_id)
        ImportActionSerializer(data=request.data).is_valid(raise_exception=True)
        if not import_cancel(job=job, actor=request.user):
            raise Conflict(f"The import is {job.status}, not queued or running: nothing to cancel.")
        return _job_answer(job)


class ImportResumeView(_ImportView):
    """Go on with a failed, cancelled or stalled import after the last record it imported (on
    a worker). Audit-logged."""

    conflict = (
        "Only a failed, cancelled or stalled import can be resumed, and only while connected, "
        "its pair on and no other import of the object running. Nothing changed."
    )

    @extend_schema(request=None, responses=ImportJobSerializer)
    def post(self, request: Request, job_id: int) -> Response:
        job = self._job(job_id)
        ImportActionSerializer(data=request.data).is_valid(raise_exception=True)
        try:
            job = import_resume(job=job, actor=request.user)
        except ImportRefused as error:
            raise Conflict(_english(error)) from error
        return _job_answer(job)


class NoSuchEndpointView(APIView):
    """Any other path under /api/v1/: a JSON 404 like the endpoints' own (not the site's HTML
    page), once logged in."""

    schema = None  # not an endpoint
    permission_classes = [IsAuthenticated]

    def _not_found(self, request: Request, *args, **kwargs) -> Response:
        raise NotFound(f"No API endpoint at {request.path}: see /api/docs/ for the endpoints.")

    get = post = put = patch = delete = _not_found


class DocsView(SpectacularSwaggerSplitView):
    """Swagger UI. A browser that isn't logged in goes to the login page and back; anything
    else gets the API's 401."""

    def handle_exception(self, exc: Exception):
        wants_page = "text/html" in self.request.headers.get("Accept", "")
        if isinstance(exc, NotAuthenticated | AuthenticationFailed) and wants_page:
            return redirect_to_login(self.request.get_full_path())
        return super().handle_exception(exc)
