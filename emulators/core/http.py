"""A small HTTP framework: requests, responses, a router and the shared emulator base class.

Each emulator subclasses :class:`EmulatorApp`, registers its routes and overrides the hooks
for authentication, budgets, response headers and error bodies. The base class runs the
pipeline every request goes through and serves the control plane under ``/__emulator__/``.
Routes in ``pages`` (record pages for a browser) skip the pipeline: no auth, faults, budget
or ledger entry.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from .clock import Clock
from .faults import FaultInjector, FaultRule
from .ledger import LedgerEntry, RequestLedger

CONTROL_PREFIX = "/__emulator__"


@dataclass
class Request:
    method: str
    raw_path: str  # path as sent, still percent-encoded, without the query string
    query_string: str
    headers: dict[str, str]  # lower-cased names
    body: bytes = b""
    params: dict[str, str] = field(default_factory=dict)  # filled by the router

    @classmethod
    def build(cls, method: str, target: str, headers: dict[str, str], body: bytes) -> Request:
        parts = urlsplit(target)
        return cls(
            method=method.upper(),
            raw_path=parts.path,
            query_string=parts.query,
            headers={k.lower(): v for k, v in headers.items()},
            body=body,
        )

    @property
    def path(self) -> str:
        return unquote(self.raw_path)

    @property
    def query(self) -> dict[str, list[str]]:
        return parse_qs(self.query_string, keep_blank_values=True)

    def arg(self, name: str, default: str | None = None) -> str | None:
        values = self.query.get(name)
        return values[-1] if values else default

    def args(self, name: str) -> list[str]:
        """A multi-valued parameter, accepting both repeated keys and comma-separated values."""
        out: list[str] = []
        for value in self.query.get(name, []):
            out.extend(v for v in value.split(",") if v)
        return out

    @property
    def token(self) -> str | None:
        auth = self.headers.get("authorization", "")
        if auth.lower().startswith("bearer "):
            return auth[7:].strip() or None
        return self.headers.get("x-sfdc-session")

    def json(self) -> Any:
        if not self.body:
            return None
        return json.loads(self.body.decode("utf-8"))


@dataclass
class Response:
    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    drop: bool = False  # close the connection instead of answering

    @classmethod
    def json(cls, status: int, payload: Any, headers: dict[str, str] | None = None) -> Response:
        body = json.dumps(payload, separators=(",", ":")).encode("utf-8")
        return cls(
            status, body, {"Content-Type": "application/json;charset=UTF-8", **(headers or {})}
        )

    @classmethod
    def empty(cls, status: int = 204, headers: dict[str, str] | None = None) -> Response:
        return cls(status, b"", dict(headers or {}))

    @classmethod
    def text(cls, status: int, text: str, content_type: str = "text/plain") -> Response:
        return cls(status, text.encode("utf-8"), {"Content-Type": f"{content_type};charset=UTF-8"})


class ApiError(Exception):
    """Raised by a handler to answer with a ready-made error response."""

    def __init__(self, response: Response) -> None:
        super().__init__(response.status)
        self.response = response


Handler = Callable[[Request], Response]


class Router:
    """Routes ``/a/{name}/b`` patterns; a trailing slash is insignificant."""

    _param = re.compile(r"\{(\w+)(?::([^}]+))?\}")

    def __init__(self) -> None:
        self._routes: list[tuple[str, re.Pattern[str], Handler]] = []

    def add(self, method: str, pattern: str, handler: Handler) -> None:
        def to_group(m: re.Match[str]) -> str:
            return f"(?P<{m.group(1)}>{m.group(2) or '[^/]+'})"

        regex = "^" + self._param.sub(to_group, pattern.rstrip("/")) + "/?$"
        self._routes.append((method.upper(), re.compile(regex), handler))

    def match(self, method: str, raw_path: str) -> tuple[Handler | None, dict[str, str], bool]:
        """Returns (handler, params, path_exists)."""
        path_exists = False
        for route_method, regex, handler in self._routes:
            m = regex.match(raw_path)
            if not m:
                continue
            path_exists = True
            if route_method == method:
                return handler, {k: unquote(v) for k, v in m.groupdict().items()}, True
        return None, {}, path_exists


class EmulatorApp:
    """Base class: the request pipeline, faults, ledger, persistence and the control plane."""

    name = "emulator"

    def __init__(self, clock: Clock | None = None) -> None:
        self.clock = clock or Clock()
        self.router = Router()
        self.control = Router()
        # Read-only HTML pages for a browser: no auth, faults, budget or ledger (not API calls).
        self.pages = Router()
        self.faults = FaultInjector()
        self.ledger = RequestLedger()
        self.lock = threading.RLock()
        self.dirty = False
        self.base_url = ""  # set by the server once it listens
        self._actions: dict[str, Callable[..., Any]] = {}
        self._register_control_plane()

    # --- hooks for subclasses -------------------------------------------------------------
    def reset(self) -> None:
        """Forget every record and setting (but keep the clock)."""

    def seed(self, name: str, **options: Any) -> dict:
        raise ValueError(f"unknown seed {name!r}")

    def snapshot(self) -> Any:
        """Picklable state for persistence."""
        return None

    def restore(self, state: Any) -> None:
        """Load state produced by :meth:`snapshot`."""

    def before_route(self, request: Request) -> Response | None:
        """Authentication and budgets; return a response to stop the request."""
        return None

    def charge(self, request: Request, response: Response) -> int:
        """How many budget units this answered request used."""
        return 0

    def finalize(self, request: Request, response: Response) -> None:
        """Add headers every response carries (limits, rate limits)."""

    def not_found(self, request: Request) -> Response:
        return Response.json(404, {"message": "not found"})

    def method_not_allowed(self, request: Request) -> Response:
        return Response.json(405, {"message": f"{request.method} not allowed"})

    def bad_json(self, request: Request, error: Exception) -> Response:
        return Response.json(400, {"message": f"malformed JSON: {error}"})

    def fault_error(self, rule: FaultRule, request: Request) -> Response:
        """Turn a rule's ``error_code`` into this emulator's real error body."""
        return Response.json(rule.status or 500, {"message": rule.error_code})

    def budget_state(self) -> dict:
        return {}

    def configure_budget(self, **settings: Any) -> dict:
        return self.budget_state()

    # --- actions ("humans" editing in the CRM) ---------------------------------------------
    def action(self, name: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        def register(fn: Callable[..., Any]) -> Callable[..., Any]:
            self._actions[name] = fn
            return fn

        return register

    def register_action(self, name: str, fn: Callable[..., Any]) -> None:
        self._actions[name] = fn

    def run_action(self, name: str, **kwargs: Any) -> Any:
        if name not in self._actions:
            raise KeyError(name)
        with self.lock:
            self.dirty = True
            return self._actions[name](**kwargs)

    # --- the pipeline ---------------------------------------------------------------------
    def handle(self, request: Request) -> Response:
        started = time.perf_counter()
        if request.raw_path.startswith(CONTROL_PREFIX):
            return self._handle_control(request)
        if request.method in ("GET", "HEAD"):
            page, params, _ = self.pages.match("GET", request.raw_path)
            if page is not None:
                request.params = params
                with self.lock:
                    return page(request)
        rule = self.faults.pick(request.method, request.path)
        if rule is not None and not rule.stall():
            rule = None  # a delay alone: answered as usual
        charged = 0
        with self.lock:
            response = self.before_route(request)
            if response is None:
                if rule and not rule.apply_then_fail:
                    response = self.fault_response(rule, request)
                else:
                    response = self._route(request)
                    if rule:
                        response = self.fault_response(rule, request)
            charged = self.charge(request, response)
            self.finalize(request, response)
            if request.method != "GET":
                self.dirty = True
        self.ledger.record(
            LedgerEntry(
                at=self.clock.now().isoformat(),
                method=request.method,
                path=request.path,
                query=request.query_string,
                token=request.token,
                status=0 if response.drop else response.status,
                latency_ms=round((time.perf_counter() - started) * 1000, 3),
                charged=charged,
            )
        )
        return response

    def _route(self, request: Request) -> Response:
        handler, params, exists = self.router.match(request.method, request.raw_path)
        if handler is None:
            return self.method_not_allowed(request) if exists else self.not_found(request)
        request.params = params
        try:
            return handler(request)
        except ApiError as error:
            return error.response
        except (json.JSONDecodeError, UnicodeDecodeError) as error:
            return self.bad_json(request, error)

    def fault_response(self, rule: FaultRule, request: Request) -> Response:
        """What a fired rule answers instead of (or after) the handler."""
        if rule.drop:
            return Response(0, drop=True)
        if rule.error_code:
            response = self.fault_error(rule, request)
        elif isinstance(rule.body, str):
            response = Response.text(rule.status or 500, rule.body, "text/html")
        else:
            response = Response.json(rule.status or 500, rule.body if rule.body is not None else {})
        response.headers.update(rule.headers)
        return response

    # --- control plane --------------------------------------------------------------------
    def _register_control_plane(self) -> None:
        c = self.control
        c.add("POST", "/reset", lambda r: self._control_reset())
        c.add("POST", "/seed", lambda r: Response.json(200, self.run_seed(**(r.json() or {}))))
        c.add("GET", "/clock", lambda r: Response.json(200, self.clock.describe()))
        c.add("POST", "/clock", self._control_clock)
        c.add("GET", "/budget", lambda r: Response.json(200, self.budget_state()))
        c.add(
            "POST",
            "/budget",
            lambda r: Response.json(200, self.configure_budget(**(r.json() or {}))),
        )
        c.add("GET", "/ledger", self._control_ledger)
        c.add("DELETE", "/ledger", lambda r: (self.ledger.clear(), Response.empty())[1])
        c.add(
            "GET",
            "/faults",
            lambda r: Response.json(200, [f.public() for f in self.faults.rules()]),
        )
        c.add(
            "POST",
            "/faults",
            lambda r: Response.json(201, self.faults.add(**(r.json() or {})).public()),
        )
        c.add("DELETE", "/faults", lambda r: (self.faults.clear(), Response.empty())[1])
        c.add("DELETE", "/faults/{rule_id}", self._control_remove_fault)
        c.add("GET", "/actions", lambda r: Response.json(200, sorted(self._actions)))
        c.add("POST", "/actions/{name}", self._control_action)

    def _handle_control(self, request: Request) -> Response:
        sub = request.raw_path[len(CONTROL_PREFIX) :] or "/"
        handler, params, exists = self.control.match(request.method, sub)
        if handler is None:
            return Response.json(405 if exists else 404, {"error": "unknown control endpoint"})
        request.params = params
        try:
            return handler(request)
        except (KeyError, ValueError, TypeError) as error:
            return Response.json(400, {"error": f"{type(error).__name__}: {error}"})
        except ApiError as error:
            return error.response

    def _control_reset(self) -> Response:
        with self.lock:
            self.reset()
            self.faults.clear()
            self.ledger.clear()
            self.dirty = True
        return Response.json(200, {"reset": True})

    def run_seed(self, name: str = "demo", **options: Any) -> dict:
        with self.lock:
            self.dirty = True
            return self.seed(name, **options)

    def _control_clock(self, request: Request) -> Response:
        body = request.json() or {}
        if "advance" in body:
            self.clock.advance(float(body["advance"]))
        if body.get("freeze"):
            from datetime import datetime

            at = body.get("at")
            self.clock.freeze(datetime.fromisoformat(at) if at else None)
        if body.get("unfreeze"):
            self.clock.unfreeze()
        return Response.json(200, self.clock.describe())

    def _control_ledger(self, request: Request) -> Response:
        since = int(request.arg("since", "0") or 0)
        return Response.json(
            200, {"count": len(self.ledger), "entries": self.ledger.as_json(since=since)}
        )

    def _control_remove_fault(self, request: Request) -> Response:
        self.faults.remove(int(request.params["rule_id"]))
        return Response.empty()

    def _control_action(self, request: Request) -> Response:
        try:
            result = self.run_action(request.params["name"], **(request.json() or {}))
        except KeyError as error:
            if error.args and error.args[0] == request.params["name"]:
                return Response.json(404, {"error": f"unknown action {error.args[0]!r}"})
            raise
        return Response.json(200, {"result": result})
