"""Name a Salesforce REST request for the ledger: a short, low-cardinality operation label
derived from the method and path, and how many records it carries."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

_DATA_PREFIX = re.compile(r"^/services/data/v\d+\.\d+/?")


def salesforce_operation(method: str, url: str) -> str:
    method = method.upper()
    path = urlsplit(url).path
    if path.startswith("/services/oauth2/"):
        return "oauth." + path[len("/services/oauth2/") :].strip("/").replace("/", ".")
    if path.startswith("/services/async/"):
        return "bulk.v1"
    if path.startswith("/services/apexrest/"):
        return "apexrest"
    match = _DATA_PREFIX.match(path)
    if not match:
        return "rest"
    parts = [p for p in path[match.end() :].split("/") if p]
    if not parts:
        return "versions"
    head, rest = parts[0], parts[1:]
    if head in ("query", "queryAll"):
        return f"{head}.more" if rest else head
    if head == "limits":
        return "limits"
    if head == "search":
        return "search"
    if head == "jobs":
        return "bulk2." + (rest[0] if rest else "jobs")
    if head == "composite":
        return _composite(method, rest)
    if head == "sobjects":
        return _sobjects(method, rest)
    return head


def _composite(method: str, rest: list[str]) -> str:
    if not rest:
        return "composite"
    if rest[0] != "sobjects":
        return "composite." + rest[0]
    if method == "POST" and len(rest) == 1:
        return "collections.create"
    if method == "PATCH":
        return "collections.upsert" if len(rest) >= 3 else "collections.update"
    if method == "DELETE":
        return "collections.delete"
    return "collections.retrieve"


def _sobjects(method: str, rest: list[str]) -> str:
    if not rest:
        return "describe"
    if len(rest) == 1:
        return "sobject.create" if method == "POST" else "sobject.metadata"
    if rest[1] in ("describe", "updated", "deleted"):
        return "sobject." + rest[1]
    if method == "GET":
        return "sobject.get"
    if method == "DELETE":
        return "sobject.delete"
    if method == "PATCH":
        return "sobject.upsert" if len(rest) >= 3 else "sobject.update"
    return "sobject." + method.lower()


def request_records(operation: str, *, params: Any = None, json_body: Any = None) -> int:
    """How many records a request sends (0 when it only reads)."""
    if operation in ("collections.create", "collections.update", "collections.upsert"):
        return len((json_body or {}).get("records", []))
    if operation == "collections.delete":
        ids = (params or {}).get("ids", "")
        return len([i for i in str(ids).split(",") if i])
    if operation == "collections.retrieve" and isinstance(json_body, dict):
        return len(json_body.get("ids", []))
    if operation in ("sobject.create", "sobject.update", "sobject.upsert", "sobject.delete"):
        return 1
    if operation == "composite" and isinstance(json_body, dict):
        # Collections carry records (writes, five to a call); other subrequests count one.
        return sum(_subrequest_records(s) for s in json_body.get("compositeRequest", []))
    return 0


def _subrequest_records(sub: dict) -> int:
    body = sub.get("body")
    if isinstance(body, dict) and isinstance(body.get("records"), list):
        return len(body["records"])
    query = parse_qs(urlsplit(str(sub.get("url", ""))).query)
    if sub.get("method") == "DELETE" and query.get("ids"):
        return len([i for i in query["ids"][0].split(",") if i])
    return 1


def response_counts_records(operation: str) -> bool:
    return operation in ("query", "queryAll", "query.more", "queryAll.more", "sobject.get")
