"""The HubSpot CRM API emulator: routes, authentication, rate limits, errors and persistence.

Every distinct bearer token is its own user and app (created on first use), so writes made
with another token look like someone else's, not like the integration's. The state lives in
one :class:`HubSpotState`; the core holds ``self.lock`` around every request.
"""

from __future__ import annotations

import json
import pickle
import re
from dataclasses import asdict
from typing import Any

from ..core.clock import Clock
from ..core.faults import FaultRule
from ..core.http import EmulatorApp, Handler, Request, Response
from . import pages
from .actions import Actions
from .errors import error_response, html_error, missing_scopes_response, rate_limit_body
from .handlers.associations import AssociationHandlers
from .handlers.engagements import EngagementHandlers
from .handlers.lists import ListHandlers
from .handlers.oauth import OAuthHandlers
from .handlers.objects import ObjectHandlers
from .handlers.owners import OwnerHandlers
from .handlers.properties import PropertyHandlers
from .handlers.schemas import SchemaHandlers
from .ratelimit import RateLimiter
from .records import Crm
from .seed import seed_demo
from .state import DEFAULT_SCOPES, HubSpotState, User
from .timeutil import DAY_MS, to_ms

_SEARCH_PATH = re.compile(r"^/crm/v3/objects/[^/]+/search/?$")
_NO_AUTH_PREFIX = "/oauth/"
_MISSING_AUTH = (
    "Authentication credentials not found. This API supports OAuth 2.0 "
    "authentication and you can find more details at "
    "https://developers.hubspot.com/docs/methods/auth/oauth-overview"
)


class HubSpotApp(EmulatorApp):
    name = "hubspot"

    def __init__(self, clock: Clock | None = None) -> None:
        super().__init__(clock)
        self.limiter = RateLimiter()
        self._install(HubSpotState(self.now_ms()))
        for handlers in (
            ObjectHandlers,
            AssociationHandlers,
            PropertyHandlers,
            OwnerHandlers,
            ListHandlers,
            SchemaHandlers,
            OAuthHandlers,
            EngagementHandlers,
        ):
            handlers(self).register()
        Actions(self).register()
        pages.register(self)

    def now_ms(self) -> int:
        return to_ms(self.clock.now())

    def _install(self, state: HubSpotState) -> None:
        self.state = state
        self.crm = Crm(state)

    def route(self, method: str, pattern: str, handler: Handler) -> None:
        """Register a route whose malformed input (bad ints, wrong JSON shapes) answers 400."""

        def guarded(request: Request) -> Response:
            try:
                return handler(request)
            except (ValueError, TypeError, KeyError, AttributeError) as error:
                if isinstance(error, json.JSONDecodeError | UnicodeDecodeError):
                    raise
                return error_response(400, "VALIDATION_ERROR", f"Invalid request: {error}")

        self.router.add(method, pattern, guarded)

    # --- state hooks --------------------------------------------------------------------
    def reset(self) -> None:
        self._install(HubSpotState(self.now_ms()))
        self.limiter.reset()

    def seed(self, name: str = "demo", **options: Any) -> dict:
        if name != "demo":
            raise ValueError(f"unknown seed {name!r}")
        return seed_demo(self)

    def snapshot(self) -> dict:
        # Pickled bytes: a real copy (later writes do not leak into it) that pickles again fast.
        return {
            "format": 1,
            "state": pickle.dumps(self.state, protocol=pickle.HIGHEST_PROTOCOL),
            "rate": asdict(self.limiter.config),
        }

    def restore(self, state: Any) -> None:
        self._install(pickle.loads(state["state"]))  # noqa: S301 - our own snapshot
        self.limiter.configure(**state.get("rate", {}))

    # --- users and authentication -------------------------------------------------------
    def user_for(self, token: str, *, create: bool = True) -> User:
        user = self.state.users.get(token)
        if user is None:
            if not create:
                raise KeyError(token)
            state = self.state
            user_id = state.new_user_id()
            user = User(
                token=token,
                user_id=user_id,
                app_id=state.new_app_id(),
                kind="private_app",
                email=f"user{user_id}@example.com",
                scopes=list(DEFAULT_SCOPES),
                created=self.now_ms(),
            )
            state.users[token] = user
        return user

    def before_route(self, request: Request) -> Response | None:
        if request.path.startswith(_NO_AUTH_PREFIX):
            return None
        token = request.token
        if not token:
            return error_response(401, "INVALID_AUTHENTICATION", _MISSING_AUTH)
        user = self.state.users.get(token)
        if user is None:
            if not self.state.settings.auto_create_users:
                return error_response(
                    401,
                    "INVALID_AUTHENTICATION",
                    "The access token provided is invalid or was revoked.",
                )
            user = self.user_for(token)
        now = self.now_ms()
        if user.expired or (user.expires_at is not None and user.expires_at <= now):
            expired_at = user.expires_at if user.expires_at is not None else now
            days = max(0, (now - expired_at) // DAY_MS)
            return error_response(
                401,
                "EXPIRED_AUTHENTICATION",
                f"The OAuth token used to make this call expired {days} day(s) ago.",
                context={"expiresAt": [str(expired_at)]},
            )
        search = request.method == "POST" and bool(_SEARCH_PATH.match(request.path))
        request.hs_user = user  # type: ignore[attr-defined]
        request.hs_search = search  # type: ignore[attr-defined]
        policy = self.limiter.admit(self._bucket(user), now, search=search)
        request.hs_charged = policy is None or self.limiter.config.count_429  # type: ignore[attr-defined]
        if policy is not None:
            return self._rate_limited(policy)
        return None

    @staticmethod
    def _bucket(user: User) -> str:
        """Limits are per app: a private-app token is its own app; OAuth tokens share their
        app's allowance across refreshes."""
        return f"oauth-app:{user.client_id}" if user.kind == "oauth" else user.token

    def _rate_limited(self, policy: str) -> Response:
        response = Response.json(429, rate_limit_body(policy))
        if self.limiter.config.retry_after is not None:
            response.headers["Retry-After"] = str(self.limiter.config.retry_after)
        return response

    def charge(self, request: Request, response: Response) -> int:
        return 1 if getattr(request, "hs_charged", False) else 0

    def finalize(self, request: Request, response: Response) -> None:
        user = getattr(request, "hs_user", None)
        if user is None:
            return
        response.headers.update(
            self.limiter.headers(
                self._bucket(user),
                self.now_ms(),
                include_daily=user.kind != "oauth",
                search=getattr(request, "hs_search", False),
            )
        )

    # --- budgets ------------------------------------------------------------------------
    def budget_state(self) -> dict:
        settings = self.state.settings
        return {
            **self.limiter.state(self.now_ms()),
            "search_lag_ms": settings.search_lag_ms,
            "batch_mode": settings.batch_mode,
        }

    def configure_budget(self, **settings: Any) -> dict:
        """``daily``, ``per_ten_seconds``, ``search_per_second``, ``retry_after`` (seconds or
        None), ``count_429``; ``reset_usage=True`` forgets the calls made so far."""
        if settings.pop("reset_usage", False):
            self.limiter.clear_usage()
        self.limiter.configure(**settings)
        return self.budget_state()

    # --- error bodies -------------------------------------------------------------------
    def not_found(self, request: Request) -> Response:
        return error_response(
            404,
            "OBJECT_NOT_FOUND",
            f"Unable to find a resource for {request.method} {request.path}",
        )

    def method_not_allowed(self, request: Request) -> Response:
        return error_response(
            405, "METHOD_NOT_ALLOWED", f"HTTP method {request.method} is not supported by this URL"
        )

    def bad_json(self, request: Request, error: Exception) -> Response:
        return error_response(400, "VALIDATION_ERROR", f"Invalid input JSON: {error}")

    def fault_error(self, rule: FaultRule, request: Request) -> Response:
        """Named faults become the responses HubSpot really sends in those situations."""
        code = (rule.error_code or "").upper()
        if code in ("RATE_LIMIT", "TEN_SECONDLY_ROLLING", "DAILY", "SECONDLY"):
            policy = "TEN_SECONDLY_ROLLING" if code == "RATE_LIMIT" else code
            return self._rate_limited(policy)
        if code == "EXPIRED_AUTHENTICATION":
            return error_response(
                401, code, "The OAuth token used to make this call expired 0 day(s) ago."
            )
        if code == "INVALID_AUTHENTICATION":
            return error_response(401, code, _MISSING_AUTH)
        if code == "MISSING_SCOPES":
            return missing_scopes_response(["crm.objects.contacts.write"])
        if code in ("SERVER_ERROR", "BAD_GATEWAY"):
            return html_error(rule.status or 502)
        if code == "SERVICE_UNAVAILABLE":
            return html_error(rule.status or 503)
        if code == "GATEWAY_TIMEOUT":
            return html_error(rule.status or 504)
        if code == "INTERNAL_ERROR":
            return error_response(rule.status or 500, code, "internal error")
        if code == "CONFLICT":
            return error_response(409, code, "Contact already exists. Existing ID: 0")
        if code == "VALIDATION_ERROR":
            return error_response(400, code, "Property values were not valid: []")
        if code == "OBJECT_NOT_FOUND":
            return error_response(404, code, "Object not found.  objectId are usually numeric.")
        return error_response(rule.status or 500, code or "INTERNAL_ERROR", f"injected {code}")
