"""Everything one emulated org remembers, in one picklable object.

The store holds the records; the rest are org settings that control-plane actions change
(validation and duplicate rules, field permissions, locks, picklist mode), the identities
behind bearer tokens and OAuth, and the rolling API-usage window.
"""

from __future__ import annotations

from collections import deque
from datetime import datetime
from typing import Any

from .ids import make_id
from .store import Store

ORG_ID = make_id("00D", 0x5F0E1)
DEFAULT_DAILY_MAX = 15_000


class OrgState:
    def __init__(self) -> None:
        self.org_id = ORG_ID
        self.store = Store()
        self.state_country = False
        self.validation_rules: list[dict[str, Any]] = []
        self.duplicate_rules: list[dict[str, Any]] = []
        # user id -> {lower field name per object "Object.field": "read" | "hidden"}
        self.field_perms: dict[str, dict[str, dict[str, str]]] = {}
        # user id -> {record id or object name: "read" | "none" | "edit"}
        self.record_access: dict[str, dict[str, str]] = {}
        self.locks: dict[str, datetime] = {}
        self.late_commits: list[dict[str, Any]] = []  # [{"seconds", "remaining", "source"}]
        self.runtime_fields: list[tuple[str, dict[str, Any]]] = []
        self.record_type_objects: set[str] = set()
        self.default_record_types: dict[str, str] = {}
        self.case_number = 1000
        self.auto_numbers: dict[tuple[str, str], int] = {}  # (object, field) -> last number
        # object -> the owner its active assignment rule gives (Lead, Case; Account territories)
        self.assignment_rules: dict[str, str] = {}
        # identities
        self.ui_user_id = ""
        self.tokens: dict[str, str] = {}  # bearer token -> user id
        self.expired: set[str] = set()
        self.oauth_clients: dict[str, str] = {}  # client id -> integration user id
        self.auth_codes: dict[str, dict[str, Any]] = {}
        self.refresh_tokens: dict[str, dict[str, Any]] = {}
        self.token_refresh: dict[str, str] = {}  # access token -> refresh token it came from
        # API budget: timestamps (epoch seconds of emulator time) of counted calls
        self.budget_max = DEFAULT_DAILY_MAX
        self.count_limits = False
        self.calls: deque[float] = deque()
        self.bulk_batches: deque[float] = deque()
        self.bulk_query_jobs: deque[float] = deque()
        self.bulk_jobs: dict[str, dict[str, Any]] = {}
        # "in_progress_polls": GETs that report InProgress first; "fail_next_job": a message
        self.bulk_settings: dict[str, Any] = {}
