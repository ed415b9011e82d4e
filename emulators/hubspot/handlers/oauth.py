"""OAuth 2.0 for public apps, plus token introspection and account details.

``GET /oauth/authorize`` approves at once (a person clicking "Connect app") and redirects with
a code; ``POST /oauth/v1/token`` exchanges codes and refresh tokens for access tokens that
expire after 30 minutes of emulator time. Tokens issued here are OAuth tokens: their
responses carry no daily rate-limit headers, as with HubSpot's public apps.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit
from zoneinfo import ZoneInfo

from ...core.http import Request, Response
from ..errors import error_body, not_found
from ..state import DEFAULT_SCOPES, User
from .common import ok

if TYPE_CHECKING:
    from ..app import HubSpotApp

ACCESS_TOKEN_SECONDS = 1800


def oauth_error(status: str, message: str) -> Response:
    body = error_body("VALIDATION_ERROR", message)
    body["status"] = status  # HubSpot's OAuth errors put the reason in "status"
    return Response.json(400, body)


class OAuthHandlers:
    def __init__(self, app: HubSpotApp) -> None:
        self.app = app

    def register(self) -> None:
        add = self.app.route
        add("GET", "/oauth/authorize", self.authorize)
        add("POST", "/oauth/v1/token", self.token)
        add("GET", "/oauth/v1/access-tokens/{token}", self.access_token_info)
        add("GET", "/oauth/v1/refresh-tokens/{token}", self.refresh_token_info)
        add("DELETE", "/oauth/v1/refresh-tokens/{token}", self.revoke_refresh_token)
        add("GET", "/account-info/v3/details", self.account)

    def _app_id(self, client_id: str) -> int:
        state = self.app.state
        if client_id not in state.apps:
            state.apps[client_id] = state.new_app_id()
        return state.apps[client_id]

    def _installer(self) -> int:
        # The person approving the install: the first owner's user when there is one.
        owners = sorted(self.app.state.owners.values(), key=lambda o: int(o.id))
        return owners[0].user_id if owners else self.app.state.new_user_id()

    def authorize(self, request: Request) -> Response:
        client_id, redirect_uri = request.arg("client_id"), request.arg("redirect_uri")
        if not client_id or not redirect_uri:
            return oauth_error("BAD_REQUEST", "client_id and redirect_uri are required")
        scopes = (request.arg("scope") or "").split() or list(DEFAULT_SCOPES)
        scopes += (request.arg("optional_scope") or "").split()
        code = uuid.uuid4().hex
        self.app.state.auth_codes[code] = {
            "client_id": client_id,
            "redirect_uri": redirect_uri,
            "scopes": scopes,
            "user_id": self._installer(),
            "expires": self.app.now_ms() + 600_000,
        }
        parts = urlsplit(redirect_uri)
        query = (
            parts.query
            + ("&" if parts.query else "")
            + urlencode(
                {"code": code, **({"state": request.arg("state")} if request.arg("state") else {})}
            )
        )
        location = urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))
        return Response(302, b"", {"Location": location})

    def _issue(
        self, client_id: str, user_id: int, scopes: list[str], refresh_token: str | None = None
    ) -> Response:
        state, now = self.app.state, self.app.now_ms()
        access = f"oat-{uuid.uuid4().hex}"
        refresh = refresh_token or f"ort-{uuid.uuid4().hex}"
        state.users[access] = User(
            token=access,
            user_id=user_id,
            app_id=self._app_id(client_id),
            kind="oauth",
            email=self._email(user_id),
            scopes=list(scopes),
            created=now,
            expires_at=now + ACCESS_TOKEN_SECONDS * 1000,
            client_id=client_id,
        )
        state.refresh_tokens[refresh] = {
            "client_id": client_id,
            "user_id": user_id,
            "scopes": list(scopes),
        }
        return ok(
            {
                "access_token": access,
                "refresh_token": refresh,
                "token_type": "bearer",
                "expires_in": ACCESS_TOKEN_SECONDS,
            }
        )

    def _email(self, user_id: int) -> str:
        for owner in self.app.state.owners.values():
            if owner.user_id == user_id:
                return owner.email
        return f"user{user_id}@example.com"

    def token(self, request: Request) -> Response:
        form = {k: v[-1] for k, v in parse_qs(request.body.decode("utf-8")).items()}
        grant = form.get("grant_type")
        client_id, secret = form.get("client_id"), form.get("client_secret")
        if not client_id or not secret:
            return oauth_error("BAD_CLIENT_ID", "missing or invalid client_id/client_secret")
        if grant == "authorization_code":
            grant_data = self.app.state.auth_codes.pop(form.get("code", ""), None)
            if (
                grant_data is None
                or grant_data["client_id"] != client_id
                or grant_data["expires"] < self.app.now_ms()
            ):
                return oauth_error("BAD_AUTH_CODE", "missing or unknown auth code")
            if form.get("redirect_uri") != grant_data["redirect_uri"]:
                return oauth_error("BAD_REDIRECT_URI", "redirect_uri does not match")
            return self._issue(client_id, grant_data["user_id"], grant_data["scopes"])
        if grant == "refresh_token":
            refresh = form.get("refresh_token", "")
            data = self.app.state.refresh_tokens.get(refresh)
            if data is None or data["client_id"] != client_id:
                return oauth_error("BAD_REFRESH_TOKEN", "missing or unknown refresh token")
            return self._issue(client_id, data["user_id"], data["scopes"], refresh_token=refresh)
        return oauth_error("BAD_GRANT_TYPE", f"unsupported grant_type {grant!r}")

    def access_token_info(self, request: Request) -> Response:
        user = self.app.state.users.get(request.params["token"])
        now = self.app.now_ms()
        if user is None or user.expired or (user.expires_at is not None and user.expires_at <= now):
            raise not_found("Token not found or expired")
        expires_in = (user.expires_at - now) // 1000 if user.expires_at else 10**9
        return ok(
            {
                "token": user.token,
                "user": user.email,
                "hub_domain": "emulator.hubspot.local",
                "scopes": user.scopes,
                "hub_id": self.app.state.portal_id,
                "app_id": user.app_id,
                "expires_in": int(expires_in),
                "user_id": user.user_id,
                "token_type": "access",
            }
        )

    def refresh_token_info(self, request: Request) -> Response:
        data = self.app.state.refresh_tokens.get(request.params["token"])
        if data is None:
            raise not_found("Refresh token not found")
        return ok(
            {
                "token": request.params["token"],
                "user": self._email(data["user_id"]),
                "hub_domain": "emulator.hubspot.local",
                "scopes": data["scopes"],
                "hub_id": self.app.state.portal_id,
                "client_id": data["client_id"],
                "user_id": data["user_id"],
                "token_type": "refresh",
            }
        )

    def revoke_refresh_token(self, request: Request) -> Response:
        self.app.state.refresh_tokens.pop(request.params["token"], None)
        return Response.empty(204)

    def account(self, request: Request) -> Response:
        time_zone = self.app.state.settings.time_zone
        now = datetime.fromtimestamp(self.app.now_ms() / 1000, ZoneInfo(time_zone))
        offset = now.utcoffset() or timedelta(0)
        minutes = int(offset.total_seconds()) // 60
        sign = "-" if minutes < 0 else "+"
        return ok(
            {
                "portalId": self.app.state.portal_id,
                "accountType": "STANDARD",
                "timeZone": time_zone,
                "companyCurrency": self.app.state.settings.company_currency,
                "additionalCurrencies": list(self.app.state.settings.additional_currencies),
                "utcOffset": f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}",
                "utcOffsetMilliseconds": minutes * 60_000,
                "uiDomain": "app-eu1.hubspot.com",
                "dataHostingLocation": "eu1",
            }
        )
