"""The Salesforce connector: simple-salesforce, configured from the stored connection.

Use one connector per unit of work (a task, a command); it is not thread-safe.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import requests
from django.utils import timezone
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import SalesforceError, SalesforceExpiredSession

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
from ...models import Integration, SalesforceConnection, System
from ..ledger import on_helper_thread
from ..network import network_reason
from .session import LedgerSession

T = TypeVar("T")
# Queries a write's call carries after it (``SalesforceConnector.ride_along``): given the room
# left, their subrequests and what takes their answers.
RideAlong = Callable[[int], tuple[list[dict], Callable[[list[dict]], None] | None]]

COLLECTION_WRITE_SIZE = 200  # sObject Collections create/update/upsert/delete
# Collections (like queries) Salesforce accepts in one composite request: larger writes go
# five collections of 200 to a call instead of one.
COLLECTIONS_PER_COMPOSITE = 5
COLLECTION_RETRIEVE_SIZE = 2000  # sObject Collections retrieve (POST)
CONCURRENT_LIMIT_WAIT = 3.0  # seconds before a retry after "ConcurrentPerOrgLongTxn"


def _stored_connection(integration: Integration) -> SalesforceConnection:
    try:
        return integration.salesforce_connection
    except SalesforceConnection.DoesNotExist:
        raise NotConnected(system=System.SALESFORCE) from None


# Codes Salesforce sends with a 4xx (or as a composite subrequest's answer) for a failure
# that passes by itself: the request changed nothing and may be sent again.
TRANSIENT_CODES = frozenset(
    {"UNABLE_TO_LOCK_ROW", "QUERY_TIMEOUT", "SERVER_UNAVAILABLE", "UNKNOWN_EXCEPTION"}
)


def salesforce_error(
    message: str,
    *,
    status: int,
    code: str = "",
    raw: Any = None,
    operation: str = "",
    retry_after: float | None = None,
) -> RemoteError:
    """Salesforce's answer as the engine's typed error, for a whole request or one composite
    subrequest alike: what retries, pauses, suspends or is the record's fault."""
    kwargs: dict[str, Any] = {
        "system": System.SALESFORCE,
        "status": status,
        "code": code,
        "raw": raw,
        "operation": operation,
    }
    if status == 401:
        return AuthExpired(message, **kwargs)
    if code == "REQUEST_LIMIT_EXCEEDED" and "concurrent" in message.lower():
        # Too many long requests at once (ConcurrentPerOrgLongTxn), not the daily limit:
        # a wait and a retry, never a pause of the integration.
        return RateLimited(message, retry_after=CONCURRENT_LIMIT_WAIT, **kwargs)
    if code == "REQUEST_LIMIT_EXCEEDED":
        return ApiLimitExceeded(message, retry_after=None, **kwargs)
    if status == 429:
        return RateLimited(message, retry_after=retry_after, **kwargs)
    if status >= 500 or code in TRANSIENT_CODES:
        return TransientError(message, **kwargs)
    if status == 403:
        return PermissionDenied(message, **kwargs)
    if status == 404:
        return NotFound(message, **kwargs)
    if status in (300, 409):
        return Conflict(message, **kwargs)
    if 400 <= status < 500:
        return BadRequest(message, **kwargs)
    return RemoteError(message, **kwargs)


class SalesforceConnector:
    system = System.SALESFORCE

    def __init__(
        self, *, integration: Integration, connection: SalesforceConnection | None = None
    ) -> None:
        self.integration = integration
        self.connection = connection or _stored_connection(integration)
        self.session = LedgerSession(integration=integration, ca_bundle=self.connection.ca_bundle)
        self._client: Salesforce | None = None
        # Told the object of every create, update or upsert sent, None for a delete (a cycle's
        # change probe: the next cycle reads those objects' streams first).
        self.on_write: Callable[[str | None], None] | None = None
        # Queries to send after a write in the same composite call, so they read it: called
        # with the room the write leaves, it returns their subrequests and what takes their
        # answers (a cycle's change probe: ``ChangeProbe.ride_after_write``).
        self.ride_along: RideAlong | None = None

    # --- the client -----------------------------------------------------------------------
    @property
    def client(self) -> Salesforce:
        """The configured simple-salesforce client. Calls made directly on it are counted in
        the ledger and budgeted, but not translated or refreshed: prefer the methods below."""
        if self._client is None:
            self._client = Salesforce(
                instance_url=self.connection.instance_url,
                session_id=self.connection.access_token,
                session=self.session,
                version=self.connection.api_version,
                object_pairs_hook=dict,
            )
        return self._client

    def call(self, fn: Callable[[Salesforce], T], *, operation: str = "") -> T:
        """Run ``fn(client)``; refresh an expired token once; translate failures."""
        for attempt in (1, 2):
            token = self.connection.access_token
            try:
                return fn(self.client)
            except SalesforceExpiredSession as error:
                refreshable = attempt == 1 and not on_helper_thread()
                if refreshable and self._token_refresh(failed_token=token):
                    continue
                raise self._translate(error, operation) from error
            except SalesforceError as error:
                raise self._translate(error, operation) from error
            except requests.RequestException as error:
                raise TransientError(
                    network_reason(error),
                    system=self.system,
                    status=0,
                    code=type(error).__name__,
                    operation=operation,
                ) from error
        raise AssertionError("unreachable")

    # --- reads ----------------------------------------------------------------------------
    def query(
        self, soql: str, *, include_deleted: bool = False, batch_size: int | None = None
    ) -> dict:
        """One page: ``{"totalSize", "done", "records", "nextRecordsUrl"?}``. Pages hold up to
        2,000 rows, or ``batch_size`` (200–2,000) through ``Sforce-Query-Options``."""
        headers = {"Sforce-Query-Options": f"batchSize={batch_size}"} if batch_size else {}
        return self.call(
            lambda sf: sf.query(soql, include_deleted=include_deleted, headers=headers),
            operation="queryAll" if include_deleted else "query",
        )

    def query_more(self, next_records_url: str) -> dict:
        return self.call(
            lambda sf: sf.query_more(next_records_url, identifier_is_url=True),
            operation="query.more",
        )

    def query_all_pages(
        self, soql: str, *, include_deleted: bool = False, batch_size: int | None = None
    ) -> Iterator[dict]:
        """Each page of a query, fetching the next one only when asked (one call per page)."""
        page = self.query(soql, include_deleted=include_deleted, batch_size=batch_size)
        yield page
        while not page.get("done", True) and page.get("nextRecordsUrl"):
            page = self.query_more(page["nextRecordsUrl"])
            yield page

    def query_all(
        self, soql: str, *, include_deleted: bool = False, batch_size: int | None = None
    ) -> list[dict]:
        records: list[dict] = []
        pages = self.query_all_pages(soql, include_deleted=include_deleted, batch_size=batch_size)
        for page in pages:
            records.extend(page.get("records", []))
        return records

    def describe(self) -> dict:
        """The global describe: every sObject the integration user can see."""
        return self.call(lambda sf: sf.describe(), operation="describe")

    def describe_object(self, name: str) -> dict:
        return self.call(lambda sf: getattr(sf, name).describe(), operation="sobject.describe")

    def limits(self) -> dict:
        """The org's limits; also stores ``DailyApiRequests`` on the integration."""
        result = self.call(lambda sf: sf.limits(), operation="limits")
        daily = (result or {}).get("DailyApiRequests") or {}
        if "Max" in daily:
            now = timezone.now()
            fields = {
                "salesforce_api_limit": int(daily["Max"]),
                "salesforce_api_remaining": int(daily.get("Remaining", 0)),
                "limits_checked_at": now,
            }
            Integration.objects.filter(pk=self.integration.pk).update(**fields)
            for name, value in fields.items():
                setattr(self.integration, name, value)
        return result

    def userinfo(self) -> dict:
        """The integration user (OpenID Connect userinfo: user_id, name, preferred_username…)."""
        return self.call(lambda sf: sf.oauth2("userinfo"), operation="oauth.userinfo") or {}

    # --- composite and collections --------------------------------------------------------
    def composite(self, subrequests: list[dict], *, all_or_none: bool = False) -> dict:
        """Up to 25 subrequests in one call: ``{"compositeResponse": [...]}``."""
        body = {"allOrNone": all_or_none, "compositeRequest": subrequests}
        return self.call(
            lambda sf: sf.restful("composite", method="POST", json=body), operation="composite"
        )

    def collections_create(self, *, sobject: str, records: list[dict]) -> list[dict]:
        """Create records, 200 per call, each failing alone. One result per input, in order:
        ``{"id", "success", "errors": [{"statusCode", "message", "fields"}]}``."""
        return self._collections_write(
            "POST", "composite/sobjects", sobject, records, operation="collections.create"
        )

    def collections_update(self, *, sobject: str, records: list[dict]) -> list[dict]:
        """Update records (each with ``Id``), 200 per call, each failing alone."""
        return self._collections_write(
            "PATCH", "composite/sobjects", sobject, records, operation="collections.update"
        )

    def collections_upsert(
        self, *, sobject: str, external_id_field: str, records: list[dict]
    ) -> list[dict]:
        """Upsert on an external-id field, 200 per call; results carry ``created``."""
        path = f"composite/sobjects/{sobject}/{external_id_field}"
        return self._collections_write(
            "PATCH", path, sobject, records, operation="collections.upsert"
        )

    def collections_delete(self, *, ids: list[str]) -> list[dict]:
        """Delete records by id, 200 per collection, each failing alone."""
        if self.on_write is not None and ids:
            self.on_write(None)
        chunks = list(_chunks(ids, COLLECTION_WRITE_SIZE))
        params = [{"ids": ",".join(c), "allOrNone": "false"} for c in chunks]
        return self._collections_send(
            [("DELETE", "composite/sobjects", p, None, {}) for p in params],
            [len(c) for c in chunks],
            operation="collections.delete",
        )

    def collections_retrieve(
        self, *, sobject: str, ids: list[str], fields: list[str]
    ) -> list[dict | None]:
        """Records by id, 2,000 per call; ``None`` where an id doesn't exist."""
        results: list[dict | None] = []
        for chunk in _chunks(ids, COLLECTION_RETRIEVE_SIZE):
            body = {"ids": chunk, "fields": fields}
            results.extend(
                self.call(
                    lambda sf, body=body: sf.restful(
                        f"composite/sobjects/{sobject}", method="POST", json=body
                    ),
                    operation="collections.retrieve",
                )
                or []
            )
        return results

    def _collections_write(
        self, method: str, path: str, sobject: str, records: list[dict], *, operation: str
    ) -> list[dict]:
        """Records in collections of 200, each collection with the assignment-rule header its
        records need (see ``auto_assign``); the results in the records' order."""
        creating = operation == "collections.create"
        if self.on_write is not None:
            # A collection may hold other types than ``sobject`` (leads beside contacts).
            types = {(r.get("attributes") or {}).get("type") or sobject for r in records}
            for name in sorted(types):
                self.on_write(name)
        groups: dict[str, list[int]] = {}
        for index, record in enumerate(records):
            groups.setdefault(auto_assign(sobject, record, creating=creating), []).append(index)
        requests_, sizes, order = [], [], []
        for header, indexes in groups.items():
            for chunk in _chunks(indexes, COLLECTION_WRITE_SIZE):
                body = {
                    "allOrNone": False,
                    "records": [{"attributes": {"type": sobject}, **records[i]} for i in chunk],
                }
                requests_.append((method, path, None, body, {ASSIGN_HEADER: header}))
                sizes.append(len(chunk))
                order.extend(chunk)
        results = self._collections_send(requests_, sizes, operation=operation)
        in_order: list[dict] = [{}] * len(records)
        for index, result in zip(order, results, strict=True):
            in_order[index] = result
        return in_order

    def _collections_send(
        self,
        requests_: list[tuple[str, str, dict | None, dict | None, dict[str, str]]],
        sizes: list[int],
        *,
        operation: str,
    ) -> list[dict]:
        """Send sObject Collections requests (method, path, params, body, headers): alone when
        there is one, else five to a composite call. One result per record, in order. A collection
        refused as a whole (400: a field Salesforce doesn't know, a value it can't read),
        alone or inside the composite, fails each of its records with that error, so the
        pair records them like any other failed record instead of failing the cycle. The last
        call takes aboard what ``ride_along`` asks in the room left."""
        results: list[dict] = []
        for start in range(0, len(requests_), COLLECTIONS_PER_COMPOSITE):
            group = requests_[start : start + COLLECTIONS_PER_COMPOSITE]
            riders, answered = [], None
            if self.ride_along is not None and start + len(group) == len(requests_):
                riders, answered = self.ride_along(COLLECTIONS_PER_COMPOSITE - len(group))
            if len(group) == 1 and not riders:
                method, path, params, body, headers = group[0]
                try:
                    answer = self.call(
                        lambda sf, m=method, p=path, q=params, b=body, h=headers: sf.restful(
                            p, method=m, params=q, json=b, headers=h
                        ),
                        operation=operation,
                    )
                except BadRequest as refused:
                    error = {
                        "statusCode": refused.code or "INVALID_REQUEST",
                        "message": refused.message,
                        "fields": [],
                    }
                    results.extend(
                        {"success": False, "errors": [error]} for _ in range(sizes[start])
                    )
                    continue
                results.extend(answer or [])
                continue
            version = self.connection.api_version
            subrequests = []
            for i, (method, path, params, body, headers) in enumerate(group):
                url = f"/services/data/v{version}/{path}"
                if params:
                    url += "?" + "&".join(f"{k}={v}" for k, v in params.items())
                sub = {"method": method, "url": url, "referenceId": f"collection{i}"}
                if body is not None:
                    sub["body"] = body
                if headers:
                    sub["httpHeaders"] = headers
                subrequests.append(sub)
            answers = self.composite(subrequests + riders).get("compositeResponse", [])
            answers, rode = answers[: len(group)], answers[len(group) :]
            if answered is not None:
                answered(rode)
            for answer, size in zip(answers, sizes[start : start + len(group)], strict=True):
                body = answer.get("body")
                if answer.get("httpStatusCode") == 200 and isinstance(body, list):
                    results.extend(body)
                    continue
                first = body[0] if isinstance(body, list) and body else {}
                error = {
                    "statusCode": first.get("errorCode", "UNKNOWN_EXCEPTION"),
                    "message": first.get("message", f"collection failed: {body}"),
                    "fields": first.get("fields", []),
                }
                results.extend({"success": False, "errors": [error]} for _ in range(size))
        return results

    # --- tokens ---------------------------------------------------------------------------
    def _token_refresh(self, *, failed_token: str) -> bool:
        """Get a new access token with the stored refresh token. False if we can't."""
        # An unsaved connection (being verified before it is stored) refreshes in memory.
        persisted = self.connection.pk is not None
        stored = (
            SalesforceConnection.objects.get(pk=self.connection.pk)
            if persisted
            else self.connection
        )
        if persisted and stored.access_token != failed_token:
            # Another worker refreshed meanwhile: use its token.
            self.connection = stored
            self._client = None
            return True
        if not stored.can_refresh:
            return False
        url = stored.instance_url.rstrip("/") + "/services/oauth2/token"
        data = {
            "grant_type": "refresh_token",
            "refresh_token": stored.refresh_token,
            "client_id": stored.client_id,
        }
        if stored.client_secret:
            data["client_secret"] = stored.client_secret
        try:
            response = self.session.post(url, data=data, headers={"Accept": "application/json"})
        except requests.RequestException as error:
            raise TransientError(
                f"refreshing the token: {network_reason(error)}",
                system=self.system,
                operation="oauth.token",
            ) from error
        if response.status_code >= 500:
            raise TransientError(
                "Salesforce failed while refreshing the access token",
                system=self.system,
                status=response.status_code,
                operation="oauth.token",
                raw=response.text[:2000],
            )
        try:
            payload = response.json()
        except ValueError:
            payload = {}
        if response.status_code != 200 or not payload.get("access_token"):
            raise AuthExpired(
                "The Salesforce token expired and refreshing it failed "
                f"({payload.get('error', response.status_code)}: "
                f"{payload.get('error_description', '').strip() or 'no details'}). "
                "Reconnect Salesforce.",
                system=self.system,
                status=response.status_code,
                code=str(payload.get("error", "")),
                raw=payload or response.text[:2000],
                operation="oauth.token",
            )
        stored.access_token = payload["access_token"]
        if payload.get("refresh_token"):
            stored.refresh_token = payload["refresh_token"]
        stored.token_refreshed_at = timezone.now()
        if persisted:
            stored.save(update_fields=["access_token", "refresh_token", "token_refreshed_at"])
        self.connection = stored
        self._client = None
        return True

    # --- errors ---------------------------------------------------------------------------
    def _translate(self, error: SalesforceError, operation: str) -> RemoteError:
        status = int(getattr(error, "status", 0) or 0)
        content = getattr(error, "content", None)
        code, message = "", ""
        first = content[0] if isinstance(content, list) and content else content
        if isinstance(first, dict):
            code = str(first.get("errorCode") or first.get("error") or "")
            message = str(first.get("message") or first.get("error_description") or "")
        elif isinstance(content, str | bytes):
            message = content.decode("utf-8", "replace") if isinstance(content, bytes) else content
            message = message.strip()[:500]
        message = message or f"HTTP {status}"
        retry_after = self._retry_after() if status == 429 else None
        return salesforce_error(
            message,
            status=status,
            code=code,
            raw=content,
            operation=operation,
            retry_after=retry_after,
        )

    def _retry_after(self) -> float | None:
        response = self.session.last_response
        value = response.headers.get("Retry-After") if response is not None else None
        try:
            return float(value) if value else None
        except ValueError:
            return None


ASSIGN_HEADER = "Sforce-Auto-Assign"
# Where the org's assignment rules give new records their owner (spec §11: a lead created
# without a valid owner; accounts and opportunities fall to the integration user instead).
ASSIGNED_WHEN_OWNERLESS = frozenset({"Lead"})


def auto_assign(sobject: str, record: dict, *, creating: bool) -> str:
    """The ``Sforce-Auto-Assign`` value a write needs. REST runs the org's assignment rules on
    every create and update unless told not to, which would hand synced records to whoever
    the rule names: they run only for a new lead that comes without an owner."""
    ownerless = creating and not record.get("OwnerId")
    return "TRUE" if ownerless and sobject in ASSIGNED_WHEN_OWNERLESS else "FALSE"


def _chunks(items: list, size: int) -> Iterator[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
