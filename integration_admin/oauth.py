"""Salesforce's OAuth 2.0 web-server (authorization-code) flow, with PKCE and a state check.

1. :func:`authorization_start` makes the state and PKCE verifier (kept in the session) and the
   URL of Salesforce's ``/services/oauth2/authorize`` to send the browser to.
2. Salesforce sends the browser back to our callback with ``code`` and ``state``;
   :func:`authorization_finish` checks the state and swaps the code for tokens at
   ``/services/oauth2/token``.
The tokens are then stored by ``sync_engine.services.integration_connect`` (encrypted).
"""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
from dataclasses import dataclass
from urllib.parse import urlencode, urlsplit

import requests
from django.conf import settings

from sync_engine.connectors.salesforce.session import ca_bundle_path

SESSION_KEY = "salesforce_oauth"
DEFAULT_LOGIN_URL = "https://login.salesforce.com"
TIMEOUT = (10, 30)


class OAuthError(Exception):
    """The flow failed; the message says why in words an admin can act on."""


@dataclass(frozen=True)
class OAuthConfig:
    login_url: str
    client_id: str
    client_secret: str
    redirect_uri: str
    ca_pem: str  # PEM to trust for the login host ("" for the public CAs)


# A sandbox's own hosts: My Domain's "<domain>--<sandbox>.sandbox.my.salesforce.com" (and,
# before enhanced domains, "<domain>--<sandbox>[.csNN].my.salesforce.com"), the "csNN" pods.
_SANDBOX_HOST = re.compile(
    r"(?:--[a-z0-9-]+\.(?:sandbox\.|cs\d+\.)?my\.salesforce\.com|^cs\d+\.salesforce\.com)$",
    re.IGNORECASE,
)


def is_sandbox(*, login_url: str, instance_url: str) -> bool:
    """Whether a sign-in was to a sandbox: made at ``SALESFORCE_SANDBOX_LOGIN_URL``
    (test.salesforce.com: only sandbox users can sign in there), or the instance is a
    sandbox's host."""
    if login_url.rstrip("/") == settings.SALESFORCE_SANDBOX_LOGIN_URL.rstrip("/"):
        return True
    return bool(_SANDBOX_HOST.search(urlsplit(instance_url).hostname or ""))


def oauth_config(*, redirect_uri: str, connection=None, sandbox: bool = False) -> OAuthConfig:
    """From settings; Reconnect (and *Connect a different user*) logs in where the current
    connection lives, a first connect at login.salesforce.com (``sandbox``:
    ``SALESFORCE_SANDBOX_LOGIN_URL``, as *Connect to a new sandbox* does, passing no
    ``connection``), unless ``SALESFORCE_LOGIN_URL`` says otherwise."""
    login_url = settings.SALESFORCE_LOGIN_URL or (
        connection.instance_url
        if connection is not None
        else settings.SALESFORCE_SANDBOX_LOGIN_URL
        if sandbox
        else DEFAULT_LOGIN_URL
    )
    ca_pem = ""
    if settings.SALESFORCE_CA_FILE:
        with open(settings.SALESFORCE_CA_FILE, encoding="utf-8") as handle:
            ca_pem = handle.read()
    elif connection is not None and login_url.rstrip("/") == connection.instance_url.rstrip("/"):
        ca_pem = connection.ca_bundle
    return OAuthConfig(
        login_url=login_url.rstrip("/"),
        client_id=settings.SALESFORCE_OAUTH_CLIENT_ID,
        client_secret=settings.SALESFORCE_OAUTH_CLIENT_SECRET,
        redirect_uri=settings.SALESFORCE_OAUTH_REDIRECT_URI or redirect_uri,
        ca_pem=ca_pem,
    )


def _challenge(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def authorization_start(session, config: OAuthConfig, *, extra: dict | None = None) -> str:
    """Remember the flow in the session; return the authorize URL to redirect the browser to."""
    state = secrets.token_urlsafe(24)
    verifier = secrets.token_urlsafe(48)
    session[SESSION_KEY] = {
        "state": state,
        "verifier": verifier,
        "login_url": config.login_url,
        "redirect_uri": config.redirect_uri,
        "ca_pem": config.ca_pem,
        **(extra or {}),
    }
    query = urlencode(
        {
            "response_type": "code",
            "client_id": config.client_id,
            "redirect_uri": config.redirect_uri,
            "state": state,
            "scope": "api refresh_token",
            "prompt": "login consent",
            "code_challenge": _challenge(verifier),
            "code_challenge_method": "S256",
        }
    )
    return f"{config.login_url}/services/oauth2/authorize?{query}"


@dataclass(frozen=True)
class Grant:
    access_token: str
    refresh_token: str
    instance_url: str
    ca_pem: str
    extra: dict  # what ``authorization_start`` was given: the HubSpot side, the ``action``
    login_url: str = ""

    @property
    def sandbox(self) -> bool:
        return is_sandbox(login_url=self.login_url, instance_url=self.instance_url)


def authorization_finish(session, *, params, client_id: str, client_secret: str) -> Grant:
    """Check the callback's state and swap its code for tokens (one POST to Salesforce).

    The state is checked first: a link that didn't come from this sign-in neither ends it nor
    gets its text (``error_description``) shown on the dashboard."""
    flow = session.get(SESSION_KEY)
    if not flow or not secrets.compare_digest(str(params.get("state", "")), flow["state"]):
        raise OAuthError("The sign-in expired or didn't start here. Start again.")
    session.pop(SESSION_KEY)
    if params.get("error"):
        raise OAuthError(
            f"Salesforce refused: {params.get('error_description') or params.get('error')}"
        )
    code = params.get("code")
    if not code:
        raise OAuthError("Salesforce sent no authorization code. Start again.")
    http = requests.Session()
    http.trust_env = False  # REQUESTS_CA_BUNDLE would override ``verify``
    http.verify = ca_bundle_path(flow["ca_pem"]) or True
    data = {
        "grant_type": "authorization_code",
        "code": code,
        "client_id": client_id,
        "redirect_uri": flow["redirect_uri"],
        "code_verifier": flow["verifier"],
    }
    if client_secret:
        data["client_secret"] = client_secret
    try:
        response = http.post(
            f"{flow['login_url']}/services/oauth2/token",
            data=data,
            headers={"Accept": "application/json"},
            timeout=TIMEOUT,
        )
    except requests.RequestException as error:
        raise OAuthError(f"Couldn't reach Salesforce to finish signing in ({error}).") from error
    try:
        payload = response.json()
    except ValueError:
        payload = {}
    if response.status_code != 200 or not payload.get("access_token"):
        reason = payload.get("error_description") or payload.get("error") or response.status_code
        raise OAuthError(f"Salesforce didn't issue a token: {reason}.")
    instance_url = str(payload.get("instance_url") or flow["login_url"]).rstrip("/")
    extra = {k: v for k, v in flow.items() if k.startswith("hubspot_") or k == "action"}
    return Grant(
        access_token=payload["access_token"],
        refresh_token=payload.get("refresh_token", ""),
        instance_url=instance_url,
        # The token answer names the instance; trust it with the login host's CA when the two
        # are the same server (the emulator, a My Domain login), else the public CAs.
        ca_pem=flow["ca_pem"] if instance_url == flow["login_url"] else "",
        extra=extra,
        login_url=flow["login_url"],
    )
