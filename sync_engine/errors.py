"""Typed failures of calls to the CRMs.

Connectors translate every client exception into one of these, so the engine can decide on
retrying, backing off, suspending or recording a sync error without knowing either client.

    ConnectorError
    ├── NotConnected             no stored connection (disconnected); no call was made
    ├── BudgetExhausted          our own "Allocated to HubSpot" cap; no call was made
    └── RemoteError              the CRM (or the network to it) said no
        ├── AuthExpired          401 that a token refresh could not fix; reconnect
        ├── PermissionDenied     403 other than a rate limit
        ├── NotFound             404
        ├── Conflict             409 (e.g. HubSpot duplicate email)
        ├── BadRequest           400 and other 4xx: the request itself is wrong
        ├── RateLimited          429 / Salesforce REQUEST_LIMIT_EXCEEDED; has retry_after
        │   └── ApiLimitExceeded the CRM's daily limit for the whole account/org
        └── TransientError       5xx, timeouts, dropped connections; safe to retry later
"""

from __future__ import annotations

from typing import Any


class ConnectorError(Exception):
    """Base class for everything a connector raises on purpose."""

    retryable = False

    def __init__(self, message: str, *, system: str) -> None:
        super().__init__(message)
        self.system = system
        self.message = message


class NotConnected(ConnectorError):
    """The integration has no stored connection to this system (an admin disconnected it)."""

    def __init__(self, *, system: str) -> None:
        name = "Salesforce" if system == "salesforce" else "HubSpot"
        super().__init__(
            f"Not connected to {name}: connect it again on the Connection tab.", system=system
        )


class BudgetExhausted(ConnectorError):
    """The integration used its whole allocation in the rolling window; nothing was sent."""

    retryable = True

    def __init__(self, *, system: str, used: int, allocation: int) -> None:
        super().__init__(
            f"{system} API allocation used up: {used} of {allocation} calls in the last 24 hours",
            system=system,
        )
        self.used = used
        self.allocation = allocation


class RemoteError(ConnectorError):
    """A call failed on the other side. ``code`` is the CRM's own error code when it sent one
    (Salesforce ``errorCode``, HubSpot ``category``), ``raw`` the decoded body."""

    def __init__(
        self,
        message: str,
        *,
        system: str,
        status: int = 0,
        code: str = "",
        raw: Any = None,
        operation: str = "",
    ) -> None:
        super().__init__(message, system=system)
        self.status = status
        self.code = code
        self.raw = raw
        self.operation = operation

    def __str__(self) -> str:
        where = f" during {self.operation}" if self.operation else ""
        code = f" {self.code}" if self.code else ""
        return f"{self.system} {self.status}{code}{where}: {self.message}"


def error_context(error: Any) -> dict[str, Any]:
    """The ``context`` HubSpot sent with a refusal (``{"email": ["a@b.c"], "id": [...]}``):
    of a ``RemoteError``'s body, or of an error item of a 207 batch response."""
    if isinstance(error, RemoteError):
        context = error.raw.get("context") if isinstance(error.raw, dict) else None
    else:
        context = getattr(error, "context", None)
    return context if isinstance(context, dict) else {}


class AuthExpired(RemoteError):
    """The stored credentials no longer work and could not be refreshed."""


class PermissionDenied(RemoteError):
    pass


class NotFound(RemoteError):
    pass


class Conflict(RemoteError):
    pass


class BadRequest(RemoteError):
    pass


class RateLimited(RemoteError):
    retryable = True

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class ApiLimitExceeded(RateLimited):
    """The CRM's own daily limit for the whole org/account is reached."""


class TransientError(RemoteError):
    retryable = True


class ConnectionCheckFailed(ConnectorError):
    """Connecting failed on one side. ``message`` says what went wrong, ``hint`` what to do."""

    def __init__(self, message: str, *, system: str, hint: str = "") -> None:
        super().__init__(message, system=system)
        self.hint = hint

    def __str__(self) -> str:
        label = {"salesforce": "Salesforce", "hubspot": "HubSpot"}.get(self.system, self.system)
        text = f"{label}: {self.message}"
        return f"{text}\n  What to do: {self.hint}" if self.hint else text
