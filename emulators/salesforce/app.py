"""The Salesforce REST API emulator: routing, authentication, the API budget and org state.

Requests under ``/services/data/vNN.N/`` authenticate by bearer token (every distinct token is
its own User, created on first use), are counted against a rolling 24-hour ``DailyApiRequests``
allowance and carry ``Sforce-Limit-Info``. The handlers live in ``handlers/``; every write goes
through :class:`~.dml.Writer`. State (records and org settings) is one picklable
:class:`~.org.OrgState`, the schema is rebuilt from the JSON registry.
"""

from __future__ import annotations

import re
from typing import Any

from ..core.clock import Clock
from ..core.faults import FaultRule
from ..core.http import EmulatorApp, Handler, Request, Response
from . import actions, case_statuses, currencies, oauth, pages, stages
from .dml import Ctx, Writer
from .errors import SfError, invalid_session, limit_exceeded, not_found
from .handlers import bulk2, collections, composite, misc, query, search, sobjects
from .org import DEFAULT_DAILY_MAX, OrgState
from .query import QueryEngine
from .schema import FieldDef, ObjectDef, Schema
from .values import format_datetime, stamp

API_PREFIX = r"/services/data/v{version:\d+\.\d+}"
_WINDOW = 24 * 3600
_ALLOW_SAVE = re.compile(r"allowSave\s*=\s*true", re.IGNORECASE)

FAULT_ERRORS: dict[str, tuple[int, str]] = {
    "UNABLE_TO_LOCK_ROW": (
        400,
        "unable to obtain exclusive access to this record or 1 records: {id}",
    ),
    "REQUEST_LIMIT_EXCEEDED": (403, "TotalRequests Limit exceeded."),
    "INVALID_SESSION_ID": (401, "Session expired or invalid"),
    "SERVER_UNAVAILABLE": (503, "Server temporarily unavailable. Please retry your request."),
    "UNKNOWN_EXCEPTION": (
        500,
        "An unexpected error occurred. Please include this ErrorId if you "
        "contact support: 1234567890-12345 (-1234567890)",
    ),
    "QUERY_TIMEOUT": (400, "Your query request was running for too long."),
    "INVALID_QUERY_LOCATOR": (400, "invalid query locator"),
    "API_DISABLED_FOR_ORG": (403, "API is not enabled for this Organization or Partner"),
    "API_CURRENTLY_DISABLED": (403, "API is currently disabled"),
    "INSUFFICIENT_ACCESS_OR_READONLY": (400, "insufficient access rights on object id"),
    "DUPLICATES_DETECTED": (400, "Use one of these records?"),
}
# Fault names for errors Salesforce sends under another code: (the code, its status, message).
FAULT_ALIASES: dict[str, tuple[str, int, str]] = {
    # Too many long requests at once: the daily limit's code, a message of its own.
    "CONCURRENT_REQUEST_LIMIT": (
        "REQUEST_LIMIT_EXCEEDED",
        403,
        "ConcurrentPerOrgLongTxn Limit exceeded.",
    ),
}


class SalesforceApp(EmulatorApp):
    name = "salesforce"

    def __init__(self, clock: Clock | None = None) -> None:
        super().__init__(clock)
        self.schema = Schema()
        self.org = OrgState()
        self.writer = Writer(self)
        self.queries = QueryEngine(self)
        self._field_cache: dict[tuple, dict[str, FieldDef]] = {}
        for module in (sobjects, query, composite, collections, misc, bulk2, search):
            module.register(self)
        oauth.register(self)
        actions.register(self)
        pages.register(self)
        self._bootstrap()

    # --- routing helpers -----------------------------------------------------------------
    def api(self, method: str, path: str, handler: Handler) -> None:
        """Register a REST route under ``/services/data/vNN.N/``."""
        self.router.add(method, f"{API_PREFIX}/{path}" if path else API_PREFIX, handler)

    def ctx(self, request: Request, **extra: Any) -> Ctx:
        header = request.headers.get("sforce-duplicate-rule-header", "")
        return Ctx(
            user_id=request.sf_user,  # type: ignore[attr-defined]
            allow_save=bool(_ALLOW_SAVE.search(header)),
            auto_assign=request.headers.get("sforce-auto-assign", "").upper() != "FALSE",
            version=request.params.get("version") or self.schema.api_version,
            **extra,
        )

    def sobject(self, name: str) -> ObjectDef:
        obj = self.schema.get(name)
        if obj is None:
            raise not_found().api_error()
        return obj

    def dispatch(self, request: Request) -> Response:
        """Route a request that is already authenticated (composite subrequests)."""
        return self._route(request)

    # --- lifecycle -----------------------------------------------------------------------
    def _bootstrap(self) -> None:
        self.org.ui_user_id = self.create_user(
            "UI", "User", "ui.user@emulator.example.com", title="Salesforce user (control plane)"
        )
        stages.ensure_rows(self)
        case_statuses.ensure_rows(self)

    def reset(self) -> None:
        if self.org.runtime_fields:
            self.schema = Schema()
        self.org = OrgState()
        self._caches_changed()
        self.queries.reset()
        self._bootstrap()

    def _caches_changed(self) -> None:
        self._field_cache.clear()
        self.writer.reset_caches()

    def seed(self, name: str, **options: Any) -> dict:
        if name != "demo":
            raise ValueError(f"unknown seed {name!r}")
        from .seed import seed_demo

        return seed_demo(self, **options)

    def snapshot(self) -> Any:
        return {"format": 1, "org": self.org}

    def restore(self, state: Any) -> None:
        if not isinstance(state, dict) or state.get("format") != 1:
            return
        self.org = state["org"]
        self.schema = Schema()
        for obj_name, raw in self.org.runtime_fields:
            self.schema.add_field(obj_name, raw)
        if self.org.store.table(currencies.OBJECT):  # a multi-currency org's rates
            currencies.ensure_object(self)
        self._caches_changed()
        self.queries.reset()
        stages.ensure_rows(self)  # state saved before the org had OpportunityStage rows
        case_statuses.ensure_rows(self)  # ... or CaseStatus rows

    # --- identities ----------------------------------------------------------------------
    def create_user(
        self,
        first: str | None,
        last: str,
        email: str,
        *,
        username: str | None = None,
        title: str | None = None,
        created_by: str | None = None,
    ) -> str:
        users = self.schema.objects["User"]
        taken = {u.get("Username") for u in self.org.store.table("User").values()}
        base = username or email
        username, n = base, 1
        while username in taken:
            n += 1
            local, _, domain = base.partition("@")
            username = f"{local}{n}@{domain}"
        alias = re.sub(r"[^a-z0-9]", "", ((first or "")[:1] + last).lower())[:8] or "user"
        fields = {
            "FirstName": first,
            "LastName": last,
            "Email": email,
            "Username": username,
            "Alias": alias,
            "CommunityNickname": username.partition("@")[0][:40],
            "TimeZoneSidKey": "Europe/Amsterdam",
            "LocaleSidKey": "en_US",
            "EmailEncodingKey": "UTF-8",
            "LanguageLocaleKey": "en_US",
            "ProfileId": "00e5g000000EmuLAAS",
            "IsActive": True,
            "UserType": "Standard",
            "Title": title,
            "CompanyName": "Emulated Org",
        }
        record_id = self.org.store.new_id(users.key_prefix)
        now = self.now_stamp()
        creator = created_by or self.org.ui_user_id or record_id
        rec = {k: v for k, v in fields.items() if v is not None}
        rec.update(
            Id=record_id,
            Name=" ".join(p for p in (first, last) if p),
            IsDeleted=False,
            CreatedDate=now,
            CreatedById=creator,
            LastModifiedDate=now,
            LastModifiedById=creator,
            SystemModstamp=now,
        )
        self.org.store.insert("User", rec)
        self.dirty = True
        return record_id

    def user_for_token(self, token: str | None) -> str | None:
        """The user behind a bearer token; unknown tokens become new users on first use."""
        if not token or token in self.org.expired:
            return None
        user_id = self.org.tokens.get(token)
        if user_id is None:
            first, last = _names_from_token(token)
            slug = re.sub(r"[^a-z0-9]+", ".", token.lower()).strip(".")[:40] or "api.user"
            if len(token) > 40 or not re.search(r"[A-Za-z]", token):
                first, last = "API", f"User {len(self.org.tokens) + 1}"
                slug = f"api.user{len(self.org.tokens) + 1}"
            user_id = self.create_user(first, last, f"{slug}@emulator.example.com")
            self.org.tokens[token] = user_id
        return user_id

    # --- schema views --------------------------------------------------------------------
    def visible_fields(self, obj: ObjectDef, user_id: str) -> dict[str, FieldDef]:
        """Lower-case name -> field, for what this user can see in this org configuration."""
        perms = self.org.field_perms.get(user_id, {}).get(obj.name)
        record_types = obj.name in self.org.record_type_objects
        key = (obj.name, self.org.state_country, record_types, user_id if perms else None)
        cached = self._field_cache.get(key)
        if cached is None:
            cached = {
                f.lower: f
                for f in obj.visible(self.org.state_country, record_types)
                if not perms or perms.get(f.lower) != "hidden"
            }
            self._field_cache[key] = cached
        return cached

    def field_permissions(self, user_id: str, obj_name: str) -> dict[str, str] | None:
        return self.org.field_perms.get(user_id, {}).get(obj_name)

    def refresh_record_types(self) -> None:
        objects: set[str] = set()
        defaults: dict[str, str] = {}
        for rec in self.org.store.table("RecordType").values():
            if rec.get("IsDeleted") or not rec.get("IsActive"):
                continue
            obj = rec.get("SobjectType")
            objects.add(obj)
            defaults.setdefault(obj, rec["Id"])
        self.org.record_type_objects = objects
        self.org.default_record_types = defaults
        self._caches_changed()

    # --- records -------------------------------------------------------------------------
    def now_stamp(self) -> str:
        return stamp(self.clock.now())

    def find_record(self, record_id: str) -> tuple[ObjectDef, dict[str, Any]] | None:
        # A prefix may be shared (``01J``): the record is in one of those objects' tables.
        found = (
            (obj, self.org.store.get(obj.name, record_id))
            for obj in self.schema.objects_with_prefix(record_id[:3])
        )
        obj, rec = next(((o, r) for o, r in found if r is not None), (None, None))
        if obj is None or rec is None:
            return None
        rec = self.visible_version(obj.name, rec)
        return (obj, rec) if rec is not None else None

    def visible_version(self, obj_name: str, rec: dict[str, Any]) -> dict[str, Any] | None:
        """Late commits: readers see the previous version until the write's commit time."""
        visible_at = rec.get("_visible_at")
        if visible_at is None:
            return rec
        if format_datetime(self.clock.now()) >= visible_at:
            return rec
        return rec.get("_shadow")

    def settle_pending(self, obj_name: str) -> set[str] | None:
        """Forget late-commit shadows whose commit time has passed; the ids still pending."""
        pending = self.org.store.pending.get(obj_name)
        if not pending:
            return None
        now = format_datetime(self.clock.now())
        table = self.org.store.table(obj_name)
        for record_id in list(pending):
            rec = table.get(record_id)
            if rec is None or rec.get("_visible_at", "") <= now:
                if rec is not None:  # private keys: not indexed, safe to drop directly
                    rec.pop("_visible_at", None)
                    rec.pop("_shadow", None)
                pending.discard(record_id)
        return pending or None

    def take_late_commit(self) -> float | None:
        """Consume one pending late-commit fault, if any."""
        pending = self.org.late_commits
        if not pending:
            return None
        fault = pending[0]
        fault["remaining"] -= 1
        if fault["remaining"] <= 0:
            pending.pop(0)
        return float(fault["seconds"])

    def ui_ctx(self, user_id: str | None = None) -> Ctx:
        # A person saving leaves "Assign using active assignment rule" unticked.
        return Ctx(user_id=user_id or self.org.ui_user_id, allow_save=True, auto_assign=False)

    # --- pipeline hooks ------------------------------------------------------------------
    def before_route(self, request: Request) -> Response | None:
        path = request.raw_path
        request.sf_charge = 0  # type: ignore[attr-defined]
        if path.startswith("/services/data/v") or path.startswith("/services/async/"):
            user_id = self.user_for_token(request.token)
            if user_id is None:
                return invalid_session().response()
            request.sf_user = user_id  # type: ignore[attr-defined]
            if _is_limits(path) and not self.org.count_limits:
                return None
            if self.budget_used() >= self.org.budget_max:
                return limit_exceeded().response()
            request.sf_charge = 1  # type: ignore[attr-defined]
        return None

    def charge(self, request: Request, response: Response) -> int:
        units = getattr(request, "sf_charge", 0)
        if units:
            at = self.clock.now().timestamp()
            self.org.calls.extend([at] * units)
        return units

    def finalize(self, request: Request, response: Response) -> None:
        path = request.raw_path
        if path.startswith("/services/data") or path.startswith("/services/async/"):
            response.headers["Sforce-Limit-Info"] = (
                f"api-usage={self.budget_used()}/{self.org.budget_max}"
            )

    def not_found(self, request: Request) -> Response:
        return not_found().response()

    def method_not_allowed(self, request: Request) -> Response:
        allowed = sorted(
            {m for m, regex, _ in self.router._routes if regex.match(request.raw_path)}
        )
        return SfError(
            "METHOD_NOT_ALLOWED",
            f"HTTP Method '{request.method}' not allowed. Allowed are {','.join(allowed)}",
            None,
            405,
        ).response()

    def bad_json(self, request: Request, error: Exception) -> Response:
        line = getattr(error, "lineno", 1)
        col = getattr(error, "colno", 1)
        return SfError(
            "JSON_PARSER_ERROR",
            f"Unexpected character ('{_bad_char(request.body, getattr(error, 'pos', 0))}'): "
            f"was expecting a valid JSON value at [line:{line}, column:{col}]",
            None,
        ).response()

    def fault_error(self, rule: FaultRule, request: Request) -> Response:
        code = rule.error_code or "UNKNOWN_EXCEPTION"
        if code in FAULT_ALIASES:
            code, status, message = FAULT_ALIASES[code]
        else:
            status, message = FAULT_ERRORS.get(code, (rule.status or 400, code))
        if "{id}" in message:
            ids = re.findall(r"/([a-zA-Z0-9]{18}|[a-zA-Z0-9]{15})(?:/|$)", request.path)
            message = message.replace("{id}", ids[-1] if ids else "")
        if isinstance(rule.body, str) and rule.body:
            message = rule.body
        fields = [] if status == 400 and code == "UNABLE_TO_LOCK_ROW" else None
        return SfError(code, message, fields, rule.status or status).response()

    # --- budget --------------------------------------------------------------------------
    def budget_used(self) -> int:
        calls = self.org.calls
        cutoff = self.clock.now().timestamp() - _WINDOW
        while calls and calls[0] <= cutoff:
            calls.popleft()
        return len(calls)

    def budget_state(self) -> dict:
        used = self.budget_used()
        return {
            "used": used,
            "max": self.org.budget_max,
            "remaining": max(0, self.org.budget_max - used),
            "count_limits": self.org.count_limits,
            "window_hours": 24,
        }

    def configure_budget(self, **settings: Any) -> dict:
        with self.lock:
            if "max" in settings and settings["max"] is not None:
                self.org.budget_max = int(settings["max"])
            if "count_limits" in settings and settings["count_limits"] is not None:
                self.org.count_limits = bool(settings["count_limits"])
            if settings.get("used") is not None:
                # pretend other clients already spent this much, now
                at = self.clock.now().timestamp()
                self.org.calls.clear()
                self.org.calls.extend([at] * int(settings["used"]))
            if settings.get("reset"):
                self.org.calls.clear()
                self.org.budget_max = DEFAULT_DAILY_MAX
            self.dirty = True
            return self.budget_state()


def _is_limits(path: str) -> bool:
    return bool(re.match(r"^/services/data/v\d+\.\d+/limits/?$", path))


def _bad_char(body: bytes, pos: int) -> str:
    text = body.decode("utf-8", "replace")
    return text[pos] if 0 <= pos < len(text) else " "


def _names_from_token(token: str) -> tuple[str | None, str]:
    words = [w for w in re.split(r"[^A-Za-z0-9]+", token) if w]
    if not words:
        return None, "API User"
    if len(words) == 1:
        return None, words[0].title()[:80]
    return " ".join(words[:-1]).title()[:40], words[-1].title()[:80]
