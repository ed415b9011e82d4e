"""The HubSpot connector: hubspot-api-client v12, configured from the stored connection.

The client talks urllib3, not requests, so calls are counted at the method level: each method
below makes exactly one HTTP request per ledger row. urllib3's own retries are switched off
(``Retry(0)``) so that a 429 can't silently turn one call into four; backing off is the
engine's job, told by :class:`~sync_engine.errors.RateLimited`.

Use one connector per unit of work (a task, a command); it is not thread-safe, except for
the one read at a time a caller may send ahead (:mod:`..ahead`).
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import reduce
from typing import Any

import requests
import urllib3
from django.conf import settings
from django.utils import timezone
from hubspot import HubSpot
from hubspot.utils.requests.http_request_builder import Request as ClientRequest
from urllib3.util.retry import Retry

from ...errors import (
    ApiLimitExceeded,
    AuthExpired,
    BadRequest,
    Conflict,
    NotConnected,
    NotFound,
    PermissionDenied,
    RateLimited,
    RemoteError,
    TransientError,
)
from ...models import HubSpotConnection, Integration, System
from ..ledger import call_start, on_helper_thread
from ..network import network_reason
from .light import batch_response, search_page

DEFAULT_TIMEOUT = (10, 120)  # connect, read (seconds)
OBJECT_BATCH_SIZE = 100
ASSOCIATION_BATCH_READ_SIZE = 1000
ASSOCIATION_BATCH_WRITE_SIZE = 100
SEARCH_PAGE_SIZE = 200
# Record ids per ``PUT /crm/v3/lists/{listId}/memberships/add``: the v3 docs, the spec and the
# emulator name no limit; 500 is the one HubSpot documented (the v1 contact lists' add).
LIST_MEMBERSHIP_BATCH_SIZE = 500


class WindowPacer:
    """Keeps this process's calls to one HubSpot account within ``limit`` per ``window``
    seconds, by waiting before a call that would go past it: waiting costs less than a 429,
    which spends the call and then waits longer. HubSpot's limits are per account, so other
    processes' calls still meet a 429 now and then; that one is retried as HubSpot says."""

    MARGIN = 0.05  # seconds: the server counts arrivals, not our send times

    def __init__(self, window: float) -> None:
        self.window = window
        self._sent: dict[int, deque[float]] = {}
        self._lock = threading.Lock()

    def wait(self, account: int, limit: int) -> None:
        with self._lock:
            now = time.monotonic()
            sent = self._sent.setdefault(account, deque())
            # The call may go once the ``limit``-th latest send has left the window.
            delay = (
                max(0.0, sent[-limit] + self.window + self.MARGIN - now)
                if len(sent) >= limit
                else 0.0
            )
            sent.append(now + delay)  # the slot is taken before the sleep
            while len(sent) > limit:  # only the last ``limit`` sends matter
                sent.popleft()
        if delay > 0:
            time.sleep(delay)

    def forget(self) -> None:
        with self._lock:
            self._sent.clear()


# Search: 5 requests a second per account (``HUBSPOT_SEARCHES_PER_SECOND``), apart from the
# burst limit. A cycle over every pair sends nine searches back to back.
SEARCH_PACER = WindowPacer(1.0)
# Everything else: the burst limit HubSpot announces on each answer (``X-HubSpot-RateLimit-Max``
# per ten seconds: 100 to 250 by plan), less a tenth left to the account's other callers.
BURST_PACER = WindowPacer(10.0)
BURST_LIMITS: dict[int, int] = {}  # account -> the burst limit its answers announced


def burst_share(limit: int) -> int:
    return max(1, limit - max(1, limit // 10))


def pacing_forget() -> None:
    """Forget the calls and limits seen so far (a new HubSpot account under an old id: the
    test suite, between tests)."""
    BURST_LIMITS.clear()
    SEARCH_PACER.forget()
    BURST_PACER.forget()


@dataclass
class BatchResult:
    """Merged outcome of one or more batch calls: the client's result and error models."""

    results: list = field(default_factory=list)
    errors: list = field(default_factory=list)

    def add(self, response: Any) -> None:
        if response is None:
            return
        self.results.extend(getattr(response, "results", None) or [])
        self.errors.extend(getattr(response, "errors", None) or [])


@dataclass
class RateLimitState:
    """What the last response's ``X-HubSpot-RateLimit-*`` headers said."""

    max: int | None = None
    remaining: int | None = None
    interval_ms: int | None = None
    daily: int | None = None
    daily_remaining: int | None = None


def _stored_connection(integration: Integration) -> HubSpotConnection:
    try:
        return integration.hubspot_connection
    except HubSpotConnection.DoesNotExist:
        raise NotConnected(system=System.HUBSPOT) from None


class HubSpotConnector:
    system = System.HUBSPOT

    def __init__(
        self,
        *,
        integration: Integration,
        connection: HubSpotConnection | None = None,
        client_side_validation: bool = False,
    ) -> None:
        self.integration = integration
        self.connection = connection or _stored_connection(integration)
        self.client_side_validation = client_side_validation
        self.rate_limit = RateLimitState()
        self.server_date: str | None = None  # the last response's Date header
        self._client: HubSpot | None = None
        self._apis: dict[str, Any] = {}

    # --- the client -----------------------------------------------------------------------
    @property
    def client(self) -> HubSpot:
        """The configured client. Calls made directly on it are *not* counted: use the
        methods below, or :meth:`call` for an API they don't cover."""
        if self._client is None:
            base_url = self.connection.base_url.rstrip("/")
            self._client = HubSpot(
                access_token=self.connection.access_token,
                host=base_url,
                base_url=base_url,
                retry=Retry(
                    total=0, connect=0, read=0, redirect=0, status=0, raise_on_status=False
                ),
                client_side_validation=self.client_side_validation,
            )
            self._apis = {}
        return self._client

    def api(self, path: str) -> Any:
        """A cached API object, e.g. ``api("crm.objects.batch_api")`` (each fresh access on
        the client would build a new connection pool)."""
        client = self.client
        if path not in self._apis:
            self._apis[path] = reduce(getattr, path.split("."), client)
        return self._apis[path]

    def token_app_id(self) -> str | None:
        """The id of the app our token belongs to, as HubSpot names it in property history
        (``sourceId`` of the integration's writes), or None when HubSpot won't say (one call)."""
        try:
            info = self.call(
                "oauth.access_tokens_api",
                "get",
                self.connection.access_token,
                operation="oauth.access_token_info",
            )
        except (NotFound, PermissionDenied, BadRequest, RateLimited, TransientError, RemoteError):
            return None  # e.g. a private app's token, which this endpoint doesn't describe
        app_id = getattr(info, "app_id", None)
        return str(app_id) if app_id else None

    def call(
        self,
        api_path: str,
        method: str,
        *args: Any,
        operation: str,
        sent: int = 0,
        refresh: bool = True,
        light: Callable[[Any], Any] | None = None,
        **kwargs: Any,
    ) -> Any:
        """Call ``api(api_path).<method>(*args, **kwargs)`` once over HTTP: budgeted, written
        to the ledger, refreshed once on an expired token, failures translated.

        With ``light``, the client hands back the raw response (``_preload_content=False``)
        and ``light(parsed JSON body)`` builds the result instead of the client's models
        (see :mod:`.light`): errors are raised by the client all the same."""
        if not operation.endswith(".search") and self._account in BURST_LIMITS:
            BURST_PACER.wait(self._account, burst_share(BURST_LIMITS[self._account]))
        for attempt in (1, 2):
            token = self.connection.access_token
            fn = getattr(self.api(api_path), f"{method}_with_http_info")
            timer = call_start(
                integration=self.integration, system=self.system, operation=operation
            )
            try:
                if light is None:
                    data, status, headers = fn(*args, _request_timeout=DEFAULT_TIMEOUT, **kwargs)
                else:
                    response = fn(
                        *args, _request_timeout=DEFAULT_TIMEOUT, _preload_content=False, **kwargs
                    )
                    try:
                        body = response.data
                    finally:
                        response.release_conn()
                    status, headers = response.status, response.headers
                    data = light(json.loads(body) if body else None)
            except Exception as error:
                status = getattr(error, "status", None)
                if _is_api_exception(error):
                    timer.finish(status=int(status or 0))
                    self._note_rate_limits(getattr(error, "headers", None))
                    if (
                        status == 401
                        and refresh
                        and attempt == 1
                        and not on_helper_thread()  # the caller reads it again and refreshes
                        and self._token_refresh(failed_token=token)
                    ):
                        continue
                    raise self._translate(error, operation) from error
                if isinstance(error, TypeError | ValueError) and type(error).__name__.startswith(
                    "Api"
                ):
                    if on_helper_thread():
                        timer.used = False  # the caller's thread drops the row
                    else:
                        timer.call.delete()  # rejected by the client before anything was sent
                    raise
                timer.finish(status=0)
                if isinstance(error, urllib3.exceptions.HTTPError | OSError):
                    raise TransientError(
                        network_reason(error),
                        system=self.system,
                        status=0,
                        code=type(error).__name__,
                        operation=operation,
                    ) from error
                raise
            timer.finish(status=status, records=sent or _returned_records(data))
            self._note_rate_limits(headers)
            return data
        raise AssertionError("unreachable")

    # --- objects --------------------------------------------------------------------------
    def object_get(
        self,
        *,
        object_type: str,
        object_id: str,
        properties: list[str] | None = None,
        properties_with_history: list[str] | None = None,
        associations: list[str] | None = None,
        id_property: str | None = None,
        archived: bool = False,
    ) -> Any:
        kwargs = _drop_none(
            properties=properties,
            properties_with_history=properties_with_history,
            associations=associations,
            id_property=id_property,
            archived=archived,
        )
        return self.call(
            "crm.objects.basic_api",
            "get_by_id",
            object_type,
            object_id,
            operation=f"{object_type}.get",
            **kwargs,
        )

    def objects_page(
        self,
        *,
        object_type: str,
        limit: int = 100,
        after: str | None = None,
        properties: list[str] | None = None,
        associations: list[str] | None = None,
        archived: bool = False,
    ) -> Any:
        """One page of a listing: ``.results`` and ``.paging.next.after`` (no paging on the
        last page)."""
        kwargs = _drop_none(
            limit=limit,
            after=after,
            properties=properties,
            associations=associations,
            archived=archived,
        )
        return self.call(
            "crm.objects.basic_api",
            "get_page",
            object_type,
            operation=f"{object_type}.list",
            **kwargs,
        )

    def objects_pages(self, *, object_type: str, **kwargs: Any) -> Iterator[Any]:
        after = None
        while True:
            page = self.objects_page(object_type=object_type, after=after, **kwargs)
            yield page
            after = _next_after(page)
            if not after:
                return

    def object_create(
        self, *, object_type: str, properties: dict, associations: list[dict] | None = None
    ) -> Any:
        body = {"properties": properties, "associations": associations or []}
        return self.call(
            "crm.objects.basic_api",
            "create",
            object_type,
            body,
            operation=f"{object_type}.create",
            sent=1,
        )

    def object_update(
        self, *, object_type: str, object_id: str, properties: dict, id_property: str | None = None
    ) -> Any:
        return self.call(
            "crm.objects.basic_api",
            "update",
            object_type,
            object_id,
            {"properties": properties},
            operation=f"{object_type}.update",
            sent=1,
            **_drop_none(id_property=id_property),
        )

    def object_archive(self, *, object_type: str, object_id: str) -> None:
        self.call(
            "crm.objects.basic_api",
            "archive",
            object_type,
            object_id,
            operation=f"{object_type}.archive",
            sent=1,
        )

    def batch_read(
        self,
        *,
        object_type: str,
        ids: list[str],
        properties: list[str] | None = None,
        properties_with_history: list[str] | None = None,
        id_property: str | None = None,
        archived: bool = False,
    ) -> BatchResult:
        result = BatchResult()
        for chunk in _chunks(ids, OBJECT_BATCH_SIZE):
            body = _drop_none(
                inputs=[{"id": str(i)} for i in chunk],
                properties=properties or [],
                propertiesWithHistory=properties_with_history or [],
                idProperty=id_property,
            )
            result.add(
                self.call(
                    "crm.objects.batch_api",
                    "read",
                    object_type,
                    body,
                    archived=archived,
                    operation=f"{object_type}.batch.read",
                    light=batch_response,
                )
            )
        return result

    def batch_create(self, *, object_type: str, inputs: list[dict]) -> BatchResult:
        """``inputs``: ``[{"properties": {...}, "associations": [...]?}]``, 100 per call."""
        return self._batch_write(object_type, "create", inputs)

    def batch_update(self, *, object_type: str, inputs: list[dict]) -> BatchResult:
        """``inputs``: ``[{"id": ..., "properties": {...}, "idProperty"?: ...}]``."""
        return self._batch_write(object_type, "update", inputs)

    def batch_upsert(self, *, object_type: str, inputs: list[dict]) -> BatchResult:
        """``inputs``: ``[{"id": <unique value>, "idProperty": "email", "properties": {...}}]``."""
        return self._batch_write(object_type, "upsert", inputs)

    def batch_archive(self, *, object_type: str, ids: list[str]) -> None:
        for chunk in _chunks(ids, OBJECT_BATCH_SIZE):
            self.call(
                "crm.objects.batch_api",
                "archive",
                object_type,
                {"inputs": [{"id": str(i)} for i in chunk]},
                operation=f"{object_type}.batch.archive",
                sent=len(chunk),
            )

    def _batch_write(self, object_type: str, action: str, inputs: list[dict]) -> BatchResult:
        result = BatchResult()
        for chunk in _chunks(inputs, OBJECT_BATCH_SIZE):
            result.add(
                self.call(
                    "crm.objects.batch_api",
                    action,
                    object_type,
                    {"inputs": chunk},
                    operation=f"{object_type}.batch.{action}",
                    sent=len(chunk),
                    light=batch_response,
                )
            )
        return result

    def search(
        self,
        *,
        object_type: str,
        filter_groups: list[dict] | None = None,
        sorts: list | None = None,
        properties: list[str] | None = None,
        query: str | None = None,
        limit: int = SEARCH_PAGE_SIZE,
        after: str | None = None,
    ) -> Any:
        """One search page: ``.total``, ``.results``, ``.paging.next.after``."""
        SEARCH_PACER.wait(self._account, settings.HUBSPOT_SEARCHES_PER_SECOND)
        body = _drop_none(
            filterGroups=filter_groups or [],
            sorts=sorts or [],
            properties=properties or [],
            query=query,
            limit=limit,
            after=after,
        )
        return self.call(
            "crm.objects.search_api",
            "do_search",
            object_type,
            body,
            operation=f"{object_type}.search",
            light=search_page,
        )

    def search_pages(self, *, object_type: str, **kwargs: Any) -> Iterator[Any]:
        after = kwargs.pop("after", None)
        while True:
            page = self.search(object_type=object_type, after=after, **kwargs)
            yield page
            after = _next_after(page)
            if not after:
                return

    # --- schema: properties, pipelines, owners, custom objects ---------------------------
    def properties_get_all(self, *, object_type: str, archived: bool = False) -> list:
        response = self.call(
            "crm.properties.core_api",
            "get_all",
            object_type,
            archived=archived,
            operation=f"{object_type}.properties.list",
        )
        return list(getattr(response, "results", None) or [])

    def property_get(self, *, object_type: str, name: str) -> Any:
        return self.call(
            "crm.properties.core_api",
            "get_by_name",
            object_type,
            name,
            operation=f"{object_type}.properties.get",
        )

    def property_create(self, *, object_type: str, definition: dict) -> Any:
        return self.call(
            "crm.properties.core_api",
            "create",
            object_type,
            definition,
            operation=f"{object_type}.properties.create",
            sent=1,
        )

    def pipelines_get_all(self, *, object_type: str) -> list:
        response = self.call(
            "crm.pipelines.pipelines_api",
            "get_all",
            object_type,
            operation=f"{object_type}.pipelines.list",
        )
        return list(getattr(response, "results", None) or [])

    def owners_page(
        self,
        *,
        limit: int = 100,
        after: str | None = None,
        email: str | None = None,
        archived: bool = False,
    ) -> Any:
        return self.call(
            "crm.owners.owners_api",
            "get_page",
            operation="owners.list",
            **_drop_none(limit=limit, after=after, email=email, archived=archived),
        )

    def owners_all(self, *, archived: bool = False) -> list:
        owners: list = []
        after = None
        while True:
            page = self.owners_page(after=after, archived=archived)
            owners.extend(getattr(page, "results", None) or [])
            after = _next_after(page)
            if not after:
                return owners

    def schemas_get_all(self) -> list:
        response = self.call("crm.schemas.core_api", "get_all", operation="schemas.list")
        return list(getattr(response, "results", None) or [])

    # --- lists ----------------------------------------------------------------------------
    def list_get(self, *, list_id: str, include_filters: bool = False) -> Any:
        return self.call(
            "crm.lists.lists_api",
            "get_by_id",
            list_id,
            include_filters=include_filters,
            operation="lists.get",
        )

    def list_memberships_page(
        self, *, list_id: str, after: str | None = None, limit: int = 250
    ) -> Any:
        return self.call(
            "crm.lists.memberships_api",
            "get_page",
            list_id,
            operation="lists.memberships.list",
            **_drop_none(after=after, limit=limit),
        )

    def list_memberships_join_order_page(
        self, *, list_id: str, after: str | None = None, limit: int = 250
    ) -> Any:
        """A page of a list's memberships in the order they joined (``membershipTimestamp``)."""
        return self.call(
            "crm.lists.memberships_api",
            "get_page_ordered_by_added_to_list_date",
            list_id,
            operation="lists.memberships.join_order",
            **_drop_none(after=after, limit=limit),
        )

    def list_get_by_name(self, *, name: str, object_type_id: str) -> Any:
        """The list of that name among the object type's lists (``NotFound`` when none)."""
        return self.call(
            "crm.lists.lists_api",
            "get_by_name",
            name,
            object_type_id,
            operation="lists.get_by_name",
        )

    def list_create(self, *, name: str, object_type_id: str) -> Any:
        """A new MANUAL list (records are added and removed by hand or by
        :meth:`list_add_members`): the created ``PublicObjectList`` (``.list_id``). HubSpot
        refuses a name another list of the object type has (``BadRequest``)."""
        response = self.call(
            "crm.lists.lists_api",
            "create",
            {"name": name, "objectTypeId": object_type_id, "processingType": "MANUAL"},
            operation="lists.create",
            sent=1,
        )
        return response.list

    def list_add_members(self, *, list_id: str, record_ids: list[str]) -> dict[str, list[str]]:
        """Add records to a MANUAL list, 500 ids per call: ``{"added": [...], "missing":
        [...]}`` (missing: ids HubSpot doesn't have; ids already in the list are in
        neither)."""
        added: list[str] = []
        missing: list[str] = []
        for chunk in _chunks([str(i) for i in record_ids], LIST_MEMBERSHIP_BATCH_SIZE):
            response = self.call(
                "crm.lists.memberships_api",
                "add",
                str(list_id),
                chunk,
                operation="lists.memberships.add",
                sent=len(chunk),
            )
            added.extend(str(i) for i in getattr(response, "records_ids_added", None) or [])
            missing.extend(str(i) for i in getattr(response, "record_ids_missing", None) or [])
        return {"added": added, "missing": missing}

    # --- associations (v4) ----------------------------------------------------------------
    def associations_page(
        self,
        *,
        object_type: str,
        object_id: str,
        to_object_type: str,
        after: str | None = None,
        limit: int = 500,
    ) -> Any:
        return self.call(
            "crm.associations.v4.basic_api",
            "get_page",
            object_type,
            object_id,
            to_object_type,
            operation=f"associations.{object_type}.{to_object_type}.list",
            **_drop_none(after=after, limit=limit),
        )

    def associations_batch_read(
        self, *, from_object_type: str, to_object_type: str, ids: list[str]
    ) -> BatchResult:
        result = BatchResult()
        for chunk in _chunks(ids, ASSOCIATION_BATCH_READ_SIZE):
            result.add(
                self.call(
                    "crm.associations.v4.batch_api",
                    "get_page",
                    from_object_type,
                    to_object_type,
                    {"inputs": [{"id": str(i)} for i in chunk]},
                    operation=f"associations.{from_object_type}.{to_object_type}.batch.read",
                )
            )
        return result

    def associations_batch_create(
        self, *, from_object_type: str, to_object_type: str, inputs: list[dict]
    ) -> BatchResult:
        """``inputs``: ``[{"from": {"id"}, "to": {"id"}, "types": [{"associationCategory",
        "associationTypeId"}]}]``."""
        result = BatchResult()
        for chunk in _chunks(inputs, ASSOCIATION_BATCH_WRITE_SIZE):
            result.add(
                self.call(
                    "crm.associations.v4.batch_api",
                    "create",
                    from_object_type,
                    to_object_type,
                    {"inputs": chunk},
                    operation=f"associations.{from_object_type}.{to_object_type}.batch.create",
                    sent=len(chunk),
                )
            )
        return result

    def associations_batch_archive(
        self, *, from_object_type: str, to_object_type: str, inputs: list[dict]
    ) -> None:
        """``inputs``: ``[{"from": {"id"}, "to": [{"id"}]}]``."""
        for chunk in _chunks(inputs, ASSOCIATION_BATCH_WRITE_SIZE):
            self.call(
                "crm.associations.v4.batch_api",
                "archive",
                from_object_type,
                to_object_type,
                {"inputs": chunk},
                operation=f"associations.{from_object_type}.{to_object_type}.batch.archive",
                sent=len(chunk),
            )

    def association_labels(self, *, from_object_type: str, to_object_type: str) -> list:
        response = self.call(
            "crm.associations.v4.schema.definitions_api",
            "get_all",
            from_object_type,
            to_object_type,
            operation=f"associations.{from_object_type}.{to_object_type}.labels",
        )
        return list(getattr(response, "results", None) or [])

    # --- account ----------------------------------------------------------------------------
    def account_details(self) -> dict:
        """``GET /account-info/v3/details`` (``portalId``, ``timeZone``…)."""
        return self._get_json("/account-info/v3/details", operation="account.details")

    # --- the engagements change feed --------------------------------------------------------
    def engagements_modified_after(self, *, after: str, limit: int = 1000) -> dict:
        """One page of ``GET /engagements/v1/engagements/modified/after``: every engagement
        type modified after ``after`` (milliseconds, or the cursor of the previous page), as
        ``{"results": [v1 engagement], "hasMore", "after"}``. One call where the v3 objects
        API takes a search per type."""
        return self._get_json(
            "/engagements/v1/engagements/modified/after",
            params={"after": after, "limit": limit},
            operation="engagements.modified_after",
            records=lambda body: len(body.get("results") or []),
        )

    def _get_json(
        self,
        path: str,
        *,
        operation: str,
        params: dict | None = None,
        records: Callable[[dict], int] = lambda body: 1,
    ) -> dict:
        """A GET the client has no API object for (legacy and account endpoints), built by the
        client's own generic request (``api_request``'s URL, token and headers) and sent with a
        timeout, which ``api_request`` lacks: budgeted, counted and refreshed once on an expired
        token, like :meth:`call`."""
        for attempt in (1, 2):
            token = self.connection.access_token
            timer = call_start(
                integration=self.integration, system=self.system, operation=operation
            )
            built = ClientRequest(self.client.config, {"path": path, "qs": params or {}})
            try:
                with requests.Session() as session:
                    session.trust_env = False
                    response = session.get(
                        built.get_url(),
                        timeout=DEFAULT_TIMEOUT,
                        **built.get_options_for_sending(),
                    )
            except requests.RequestException as error:
                timer.finish(status=0)
                raise TransientError(
                    network_reason(error), system=self.system, status=0, operation=operation
                ) from error
            self._note_rate_limits(response.headers)
            if response.status_code < 300:
                body = response.json()
                timer.finish(status=response.status_code, records=records(body))
                return body
            timer.finish(status=response.status_code)
            if (
                response.status_code == 401
                and attempt == 1
                and self._token_refresh(failed_token=token)
            ):
                continue
            error = _HttpError(response.status_code, response.text, response.headers)
            raise self._translate(error, operation)
        raise AssertionError("unreachable: the second attempt returns or raises")

    # --- tokens ---------------------------------------------------------------------------
    def _token_refresh(self, *, failed_token: str) -> bool:
        # An unsaved connection (being verified before it is stored) refreshes in memory.
        persisted = self.connection.pk is not None
        stored = (
            HubSpotConnection.objects.get(pk=self.connection.pk) if persisted else self.connection
        )
        if persisted and stored.access_token != failed_token:
            self.connection = stored  # another worker refreshed meanwhile
            self._client = None
            return True
        if not stored.can_refresh:
            return False
        try:
            form = _drop_none(
                grant_type="refresh_token",
                refresh_token=stored.refresh_token,
                client_id=stored.client_id,
                client_secret=stored.client_secret or None,
            )
            tokens = self.call(
                "oauth.tokens_api", "create", operation="oauth.token", refresh=False, **form
            )
        except (BadRequest, AuthExpired, PermissionDenied) as error:
            raise AuthExpired(
                "The HubSpot token expired and refreshing it failed "
                f"({error.code or error.status}: {error.message}). Reconnect HubSpot.",
                system=self.system,
                status=error.status,
                code=error.code,
                raw=error.raw,
                operation="oauth.token",
            ) from error
        stored.access_token = tokens.access_token
        if getattr(tokens, "refresh_token", None):
            stored.refresh_token = tokens.refresh_token
        stored.token_refreshed_at = timezone.now()
        if persisted:
            stored.save(update_fields=["access_token", "refresh_token", "token_refreshed_at"])
        self.connection = stored
        self._client = None
        return True

    # --- errors and headers ---------------------------------------------------------------
    @property
    def _account(self) -> int:
        return self.integration.pk

    def _note_rate_limits(self, headers: Any) -> None:
        announced = headers.get("X-HubSpot-RateLimit-Max") if headers else None
        if announced is not None and str(announced).isdigit() and int(announced) > 0:
            BURST_LIMITS[self._account] = int(announced)
        if not headers or on_helper_thread():
            return  # a read sent ahead: ``server_date`` stays the caller's latest answer
        self.server_date = headers.get("Date") or self.server_date

        def number(name: str) -> int | None:
            value = headers.get(name)
            try:
                return int(value) if value is not None else None
            except (TypeError, ValueError):
                return None

        self.rate_limit = RateLimitState(
            max=number("X-HubSpot-RateLimit-Max"),
            remaining=number("X-HubSpot-RateLimit-Remaining"),
            interval_ms=number("X-HubSpot-RateLimit-Interval-Milliseconds"),
            daily=number("X-HubSpot-RateLimit-Daily"),
            daily_remaining=number("X-HubSpot-RateLimit-Daily-Remaining"),
        )

    def _translate(self, error: Exception, operation: str) -> RemoteError:
        status = int(getattr(error, "status", 0) or 0)
        raw = getattr(error, "body", None)
        if isinstance(raw, bytes):
            raw = raw.decode("utf-8", "replace")
        body: Any = raw
        if isinstance(raw, str):
            try:
                body = json.loads(raw)
            except ValueError:
                body = raw
        code, message = "", ""
        if isinstance(body, dict):
            code = str(body.get("category") or body.get("errorType") or body.get("status") or "")
            message = str(body.get("message") or "")
        elif isinstance(body, str):
            message = body.strip()[:500]
        message = message or str(getattr(error, "reason", "") or f"HTTP {status}")
        kwargs: dict[str, Any] = {
            "system": self.system,
            "status": status,
            "code": code,
            "raw": body,
            "operation": operation,
        }
        if status == 429:
            headers = getattr(error, "headers", None) or {}
            policy = body.get("policyName", "") if isinstance(body, dict) else ""
            retry_after = _retry_after(headers)
            if policy.upper() == "DAILY":
                return ApiLimitExceeded(message, retry_after=retry_after, **kwargs)
            if retry_after is None and policy.upper() == "SECONDLY":
                retry_after = 1.0  # the search limit's window is one second, not ten
            if retry_after is None:
                interval = headers.get("X-HubSpot-RateLimit-Interval-Milliseconds")
                retry_after = int(interval) / 1000 if interval and interval.isdigit() else 10.0
            return RateLimited(message, retry_after=retry_after, **kwargs)
        if status == 0 or status >= 500:
            return TransientError(message, **kwargs)
        if status == 401:
            return AuthExpired(message, **kwargs)
        if status == 403:
            return PermissionDenied(message, **kwargs)
        if status == 404:
            return NotFound(message, **kwargs)
        if status == 409:
            return Conflict(message, **kwargs)
        if 400 <= status < 500:
            return BadRequest(message, **kwargs)
        return RemoteError(message, **kwargs)


class _HttpError(Exception):
    """An HTTP failure shaped like the client's ApiException, for :meth:`_translate`."""

    def __init__(self, status: int, body: str, headers: Any) -> None:
        super().__init__(status)
        self.status, self.body, self.headers, self.reason = status, body, headers, ""


def _is_api_exception(error: Exception) -> bool:
    # Each sub-package has its own unrelated ApiException class: recognise them by shape.
    return (
        type(error).__module__.startswith("hubspot.")
        and hasattr(error, "status")
        and hasattr(error, "body")
        and hasattr(error, "headers")
    )


def _retry_after(headers: Any) -> float | None:
    value = headers.get("Retry-After") if headers else None
    try:
        return float(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def _returned_records(data: Any) -> int:
    if data is None:
        return 0
    results = getattr(data, "results", None)
    if isinstance(results, list):
        return len(results)
    return 1


def _next_after(page: Any) -> str | None:
    paging = getattr(page, "paging", None)
    nxt = getattr(paging, "next", None) if paging else None
    return getattr(nxt, "after", None) if nxt else None


def _drop_none(**kwargs: Any) -> dict[str, Any]:
    return {k: v for k, v in kwargs.items() if v is not None}


def _chunks(items: list, size: int) -> Iterator[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
