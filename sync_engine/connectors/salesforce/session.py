"""A ``requests.Session`` that asks the budget before, and writes the ledger after, every request.

simple-salesforce sends every call (REST, query pages, composite, collections, Bulk, OAuth)
through the session it was given, so each HTTP request is counted here exactly once.
"""

from __future__ import annotations

import hashlib
import re
import time
from pathlib import Path

import requests
from django.conf import settings
from django.utils import timezone

from ...models import Integration, System
from ..ledger import call_start, on_helper_thread
from .operations import request_records, response_counts_records, salesforce_operation

DEFAULT_TIMEOUT = (10, 120)  # connect, read (seconds)
USAGE_SAVE_SECONDS = 300
_LIMIT_INFO = re.compile(r"api-usage=(\d+)/(\d+)")


def ca_bundle_path(pem: str) -> str | None:
    """Write a stored PEM bundle to a content-addressed file under var/ and return its path."""
    if not pem.strip():
        return None
    digest = hashlib.sha256(pem.encode("utf-8")).hexdigest()[:32]
    folder = Path(settings.VAR_DIR) / "ca"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{digest}.pem"
    if not path.exists():
        tmp = path.with_suffix(".tmp")
        tmp.write_text(pem)
        tmp.replace(path)
    return str(path)


class LedgerSession(requests.Session):
    def __init__(
        self,
        *,
        integration: Integration,
        ca_bundle: str = "",
        timeout: tuple[float, float] = DEFAULT_TIMEOUT,
    ) -> None:
        super().__init__()
        # Environment variables (REQUESTS_CA_BUNDLE, proxies) must not override what the
        # connection stores: a set REQUESTS_CA_BUNDLE silently replaces ``verify``.
        self.trust_env = False
        self.verify = ca_bundle_path(ca_bundle) or True
        self.integration = integration
        self.timeout = timeout
        self.last_response: requests.Response | None = None
        self.org_api_usage: tuple[int, int] | None = None  # (used, max) for the whole org
        self._usage_saved_at: float | None = None

    def request(self, method, url, *args, **kwargs):  # noqa: D401 - requests' signature
        kwargs.setdefault("timeout", self.timeout)
        operation = salesforce_operation(method, url)
        timer = call_start(
            integration=self.integration, system=System.SALESFORCE, operation=operation
        )
        ahead = on_helper_thread()  # a read sent ahead: the caller's thread owns the rest
        if not ahead:
            self.last_response = None
        try:
            response = super().request(method, url, *args, **kwargs)
        except BaseException:
            timer.finish(status=0)
            raise
        if not ahead:
            self.last_response = response
            self._note_org_usage(response)
        records = request_records(
            operation, params=kwargs.get("params"), json_body=kwargs.get("json")
        )
        if response.status_code == 200 and response_counts_records(operation):
            records = _returned_records(response)
        timer.finish(status=response.status_code, records=records)
        return response

    def _note_org_usage(self, response: requests.Response) -> None:
        """Keep "Limited by Salesforce" fresh from ``Sforce-Limit-Info: api-usage=used/max``,
        which Salesforce sends on every REST response, writing it at most every few minutes."""
        match = _LIMIT_INFO.search(response.headers.get("Sforce-Limit-Info", ""))
        if not match:
            return
        used, limit = int(match.group(1)), int(match.group(2))
        self.org_api_usage = (used, limit)
        now = time.monotonic()
        if self._usage_saved_at is not None and now - self._usage_saved_at < USAGE_SAVE_SECONDS:
            return
        self._usage_saved_at = now
        fields = {
            "salesforce_api_limit": limit,
            "salesforce_api_remaining": max(0, limit - used),
            "limits_checked_at": timezone.now(),
        }
        Integration.objects.filter(pk=self.integration.pk).update(**fields)
        for name, value in fields.items():
            setattr(self.integration, name, value)


def _returned_records(response: requests.Response) -> int:
    try:
        body = response.json()
    except ValueError:
        return 0
    if isinstance(body, dict) and isinstance(body.get("records"), list):
        return len(body["records"])
    return 1 if isinstance(body, dict) else 0
