"""OAuth 2.0 web-server flow, auto-approving, so a product's "Connect" button runs for real.

``/services/oauth2/authorize`` redirects straight back with a code; ``/token`` swaps codes and
refresh tokens for access tokens; ``/revoke`` and ``/userinfo`` behave like Salesforce's. All
tokens issued for one client id belong to one "integration user".
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import secrets
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

from ..core.http import Request, Response

if TYPE_CHECKING:
    from .app import SalesforceApp

CODE_TTL_SECONDS = 15 * 60
SCOPE = "api refresh_token full"


def register(app: SalesforceApp) -> None:
    r = app.router
    r.add("GET", "/services/oauth2/authorize", lambda req: authorize(app, req))
    r.add("POST", "/services/oauth2/token", lambda req: token(app, req))
    r.add("POST", "/services/oauth2/revoke", lambda req: revoke(app, req))
    r.add("GET", "/services/oauth2/revoke", lambda req: revoke(app, req))
    r.add("GET", "/services/oauth2/userinfo", lambda req: userinfo(app, req))
    r.add("POST", "/services/oauth2/userinfo", lambda req: userinfo(app, req))
    r.add("GET", "/id/{org_id}/{user_id}", lambda req: identity(app, req))


def _oauth_error(status: int, error: str, description: str) -> Response:
    return Response.json(status, {"error": error, "error_description": description})


def _form(request: Request) -> dict[str, str]:
    text = request.body.decode("utf-8", "replace")
    if request.headers.get("content-type", "").startswith("application/json"):
        try:
            data = json.loads(text or "{}")
            return {k: str(v) for k, v in data.items()}
        except ValueError:
            return {}
    merged = {k: v[-1] for k, v in parse_qs(request.query_string).items()}
    merged.update({k: v[-1] for k, v in parse_qs(text, keep_blank_values=True).items()})
    return merged


def integration_user(app: SalesforceApp, client_id: str) -> str:
    user_id = app.org.oauth_clients.get(client_id)
    if user_id is None:
        n = len(app.org.oauth_clients) + 1
        suffix = "" if n == 1 else f" {n}"
        slug = re.sub(r"[^a-z0-9]+", ".", client_id.lower()).strip(".")[:30] or "client"
        user_id = app.create_user(
            "Integration",
            "User" + suffix,
            f"integration.{slug}@emulator.example.com",
            title="Integration user",
        )
        app.org.oauth_clients[client_id] = user_id
    return user_id


def authorize(app: SalesforceApp, request: Request) -> Response:
    params = {k: v[-1] for k, v in request.query.items()}
    client_id = params.get("client_id")
    redirect_uri = params.get("redirect_uri")
    if not client_id or not redirect_uri:
        return Response.text(
            400, "error=invalid_client_id&error_description=client identifier invalid", "text/plain"
        )
    if params.get("response_type", "code") != "code":
        return _redirect(
            redirect_uri,
            {
                "error": "unsupported_response_type",
                "error_description": "response type not supported",
                "state": params.get("state"),
            },
        )
    code = "aPrx" + secrets.token_urlsafe(24)
    with app.lock:
        app.org.auth_codes[code] = {
            "client_id": client_id,
            "redirect_uri": redirect_uri,
            "expires": app.clock.now().timestamp() + CODE_TTL_SECONDS,
            "user_id": integration_user(app, client_id),
        }
        app.dirty = True
    return _redirect(redirect_uri, {"code": code, "state": params.get("state")})


def _redirect(uri: str, params: dict[str, Any]) -> Response:
    parts = urlsplit(uri)
    extra = urlencode({k: v for k, v in params.items() if v is not None})
    query = f"{parts.query}&{extra}" if parts.query else extra
    return Response(302, b"", {"Location": urlunsplit(parts._replace(query=query))})


def issue(
    app: SalesforceApp, client_id: str, user_id: str, secret: str, refresh: str | None
) -> dict[str, Any]:
    access = f"{app.org.org_id[:15]}!{secrets.token_urlsafe(48)}"
    app.org.tokens[access] = user_id
    issued_at = str(int(app.clock.now().timestamp() * 1000))
    identity_url = f"{app.base_url}/id/{app.org.org_id}/{user_id}"
    signature = base64.b64encode(
        hmac.new(secret.encode(), (identity_url + issued_at).encode(), hashlib.sha256).digest()
    ).decode()
    body: dict[str, Any] = {
        "access_token": access,
        "signature": signature,
        "scope": SCOPE,
        "instance_url": app.base_url,
        "id": identity_url,
        "token_type": "Bearer",
        "issued_at": issued_at,
    }
    if refresh is None:
        refresh = "5Aep" + secrets.token_urlsafe(60)
        app.org.refresh_tokens[refresh] = {"client_id": client_id, "user_id": user_id}
        body["refresh_token"] = refresh
    app.org.token_refresh[access] = refresh
    app.dirty = True
    return body


def token(app: SalesforceApp, request: Request) -> Response:
    form = _form(request)
    grant = form.get("grant_type")
    client_id = form.get("client_id", "")
    secret = form.get("client_secret", "")
    with app.lock:
        if grant == "authorization_code":
            code = app.org.auth_codes.pop(form.get("code", ""), None)
            if (
                code is None
                or code["expires"] < app.clock.now().timestamp()
                or code["client_id"] != client_id
                or (form.get("redirect_uri") and form.get("redirect_uri") != code["redirect_uri"])
            ):
                return _oauth_error(400, "invalid_grant", "invalid authorization code")
            return Response.json(200, issue(app, client_id, code["user_id"], secret, None))
        if grant == "refresh_token":
            refresh = form.get("refresh_token", "")
            info = app.org.refresh_tokens.get(refresh)
            if info is None or (client_id and info["client_id"] != client_id):
                return _oauth_error(400, "invalid_grant", "expired access/refresh token")
            return Response.json(
                200, issue(app, info["client_id"], info["user_id"], secret, refresh)
            )
        if not grant:
            return _oauth_error(400, "invalid_request", "grant type not specified")
        return _oauth_error(400, "unsupported_grant_type", "grant type not supported")


def revoke(app: SalesforceApp, request: Request) -> Response:
    value = _form(request).get("token", "")
    with app.lock:
        org = app.org
        if value in org.refresh_tokens:
            del org.refresh_tokens[value]
            for access, refresh in list(org.token_refresh.items()):
                if refresh == value:
                    org.expired.add(access)
        elif value in org.tokens:
            org.expired.add(value)
        else:
            return _oauth_error(400, "unsupported_token_type", "this token type is not supported")
        app.dirty = True
    return Response.empty(200)


def _user_payload(app: SalesforceApp, user_id: str) -> dict[str, Any]:
    user = app.org.store.get("User", user_id) or {}
    return {
        "sub": f"{app.base_url}/id/{app.org.org_id}/{user_id}",
        "user_id": user_id,
        "organization_id": app.org.org_id,
        "preferred_username": user.get("Username"),
        "nickname": user.get("CommunityNickname"),
        "name": user.get("Name"),
        "email": user.get("Email"),
        "email_verified": True,
        "given_name": user.get("FirstName"),
        "family_name": user.get("LastName"),
        "zoneinfo": user.get("TimeZoneSidKey"),
        "active": bool(user.get("IsActive", True)),
        "user_type": "STANDARD",
        "language": user.get("LanguageLocaleKey"),
        "locale": user.get("LocaleSidKey"),
        "urls": {
            "rest": f"{app.base_url}/services/data/v{{version}}/",
            "sobjects": f"{app.base_url}/services/data/v{{version}}/sobjects/",
            "query": f"{app.base_url}/services/data/v{{version}}/query/",
            "profile": f"{app.base_url}/{user_id}",
        },
    }


def userinfo(app: SalesforceApp, request: Request) -> Response:
    with app.lock:
        token_value = request.token
        user_id = app.org.tokens.get(token_value or "")
        if user_id is None or token_value in app.org.expired:
            return Response.text(403, "Bad_OAuth_Token")
        return Response.json(200, _user_payload(app, user_id))


def identity(app: SalesforceApp, request: Request) -> Response:
    with app.lock:
        token_value = request.token
        if not token_value or token_value in app.org.expired or token_value not in app.org.tokens:
            return Response.text(403, "Bad_OAuth_Token")
        if request.params["org_id"] != app.org.org_id:
            return Response.text(404, "Not Found")
        user = app.org.store.get("User", request.params["user_id"])
        if user is None:
            return Response.text(404, "Not Found")
        payload = _user_payload(app, user["Id"])
        payload["id"] = payload.pop("sub")
        payload["username"] = payload["preferred_username"]
        payload["display_name"] = payload["name"]
        return Response.json(200, payload)
