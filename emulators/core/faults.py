"""Fault rules: make matching requests fail, stall, drop or fail after applying.

A rule matches on method and a path regex; ``after`` skips the first N matches, ``times`` caps
how often it fires, and ``probability`` (with ``seed``) fires it at random but repeatably. A
``subrequest`` rule matches the subrequests of a composite request (by their own path) instead
of whole requests: one query of several in a call fails, as Salesforce answers it.
"""

from __future__ import annotations

import random
import re
import threading
import time
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class FaultRule:
    path: str = ".*"  # regex searched in the request path
    method: str | None = None
    status: int | None = None  # answer with this status ...
    error_code: str | None = None  # ... or with this emulator-specific named error
    body: Any = None  # raw body (dict/list -> JSON, str -> text/html)
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds to wait before answering
    drop: bool = False  # close the connection without an answer
    apply_then_fail: bool = False  # run the request for real, then fail as above
    subrequest: bool = False  # match composite subrequests, not whole requests
    after: int = 0
    times: int | None = None
    probability: float = 1.0
    seed: int | None = None
    id: int = 0
    seen: int = 0
    fired: int = 0

    def __post_init__(self) -> None:
        self._regex = re.compile(self.path)
        self._random = random.Random(self.seed)

    def matches(self, method: str, path: str) -> bool:
        if self.method and self.method.upper() != method.upper():
            return False
        return bool(self._regex.search(path))

    def should_fire(self) -> bool:
        self.seen += 1
        if self.seen <= self.after:
            return False
        if self.times is not None and self.fired >= self.times:
            return False
        if self.probability < 1.0 and self._random.random() >= self.probability:
            return False
        self.fired += 1
        return True

    def stall(self) -> bool:
        """Wait out ``delay``, then say whether the request fails (at once, or after being
        applied); a rule with only a delay lets it be answered as usual."""
        if self.delay:
            time.sleep(self.delay)
        return self.apply_then_fail or bool(self.drop or self.status or self.error_code)

    def public(self) -> dict:
        data = asdict(self)
        return {k: v for k, v in data.items() if not k.startswith("_")}


class FaultInjector:
    def __init__(self) -> None:
        self._rules: list[FaultRule] = []
        self._lock = threading.Lock()
        self._next_id = 1

    def add(self, **spec: Any) -> FaultRule:
        spec.pop("id", None)
        for counter in ("seen", "fired"):
            spec.pop(counter, None)
        rule = FaultRule(**spec)
        with self._lock:
            rule.id = self._next_id
            self._next_id += 1
            self._rules.append(rule)
        return rule

    def remove(self, rule_id: int) -> None:
        with self._lock:
            self._rules = [r for r in self._rules if r.id != rule_id]

    def clear(self) -> None:
        with self._lock:
            self._rules.clear()

    def rules(self) -> list[FaultRule]:
        with self._lock:
            return list(self._rules)

    def pick(self, method: str, path: str, *, subrequest: bool = False) -> FaultRule | None:
        """The first rule that matches and decides to fire for this request (or, with
        ``subrequest``, this composite subrequest)."""
        if path.startswith("/__emulator__"):
            return None
        with self._lock:
            for rule in self._rules:
                if (
                    rule.subrequest == subrequest
                    and rule.matches(method, path)
                    and rule.should_fire()
                ):
                    return rule
        return None
