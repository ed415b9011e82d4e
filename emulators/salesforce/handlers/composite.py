"""``/composite`` (up to 25 dependent subrequests, one API call) and ``/composite/batch``.

Subrequests are routed through the same handlers as top-level requests, as the same user, but
are not authenticated or charged again. ``@{ref.path}`` placeholders in URLs and bodies are
filled from earlier sub-responses; with ``allOrNone`` a failure rolls every write back.
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from ...core.http import Request, Response
from ..errors import SfError, limit_exceeded

if TYPE_CHECKING:
    from ..app import SalesforceApp

MAX_SUBREQUESTS = 25
MAX_QUERY_OR_COLLECTION = 5
_REF = re.compile(r"@\{([^}]+)\}")
_REF_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_]*$")
_PATH_PART = re.compile(r"\.?([A-Za-z0-9_]+)|\[(\d+)\]")
HALTED = "The transaction was rolled back since another operation in the same transaction failed."


def register(app: SalesforceApp) -> None:
    app.api("POST", "composite", lambda r: composite(app, r))
    app.api("POST", "composite/batch", lambda r: batch(app, r))


class Unresolved(Exception):
    pass


def _lookup(results: dict[str, Any], expr: str) -> Any:
    m = re.match(r"([A-Za-z0-9_]+)", expr)
    if not m or m.group(1) not in results:
        raise Unresolved(expr)
    value = results[m.group(1)]
    rest = expr[m.end() :]
    pos = 0
    while pos < len(rest):
        part = _PATH_PART.match(rest, pos)
        if not part:
            raise Unresolved(expr)
        try:
            value = value[int(part.group(2))] if part.group(2) is not None else value[part.group(1)]
        except (KeyError, IndexError, TypeError):
            raise Unresolved(expr) from None
        pos = part.end()
    if value is None:
        raise Unresolved(expr)
    return value


def _substitute(value: Any, results: dict[str, Any]) -> Any:
    if isinstance(value, str):
        whole = _REF.fullmatch(value)
        if whole:
            return _lookup(results, whole.group(1))
        return _REF.sub(lambda m: str(_lookup(results, m.group(1))), value)
    if isinstance(value, dict):
        return {k: _substitute(v, results) for k, v in value.items()}
    if isinstance(value, list):
        return [_substitute(v, results) for v in value]
    return value


def _is_query_or_collection(url: str) -> bool:
    # On the path alone: ``/query?q=...`` is as much a query as ``/query/?q=...``.
    path = urlsplit(url).path
    return bool(re.search(r"/(query|queryAll)(/|$)|/composite/sobjects(/|$)", path))


def _subrequest(
    app: SalesforceApp,
    parent: Request,
    method: str,
    url: str,
    body: Any,
    headers: dict[str, str] | None,
    force_all_or_none: bool = False,
) -> Response:
    parts = urlsplit(url)
    path = parts.path
    if not re.match(r"^/services/data/v\d+\.\d+/", path):
        return SfError("NOT_FOUND", "The requested resource does not exist", None, 404).response()
    if re.match(r"^/services/data/v\d+\.\d+/composite/?(batch|tree|graph)?/?$", path):
        return SfError(
            "INVALID_COMPOSITE_SUBREQUEST",
            "Composite subrequests cannot be composite requests",
            None,
        ).response()
    sub_headers = dict(parent.headers)
    sub_headers.update({k.lower(): v for k, v in (headers or {}).items()})
    payload = b"" if body is None else json.dumps(body).encode("utf-8")
    sub = Request(
        method=method.upper(),
        raw_path=path,
        query_string=parts.query,
        headers=sub_headers,
        body=payload,
    )
    sub.sf_user = parent.sf_user  # type: ignore[attr-defined]
    sub.sf_charge = 0  # type: ignore[attr-defined]
    # an all-or-none composite makes its sObject Collections subrequests all-or-none too
    sub.sf_all_or_none = force_all_or_none  # type: ignore[attr-defined]
    rule = app.faults.pick(sub.method, path, subrequest=True)
    if rule is None or not rule.stall():
        return app.dispatch(sub)  # a delay alone: answered as usual, as whole requests are
    if rule.apply_then_fail:
        app.dispatch(sub)
    elif rule.drop:  # a subrequest can't lose its connection: Salesforce answers it failed
        return SfError("UNKNOWN_EXCEPTION", "An unexpected error occurred", None, 500).response()
    return app.fault_response(rule, sub)


def _parsed(response: Response) -> Any:
    if not response.body:
        return None
    try:
        return json.loads(response.body)
    except ValueError:
        return response.body.decode("utf-8", "replace")


def composite(app: SalesforceApp, request: Request) -> Response:
    body = request.json()
    if not isinstance(body, dict) or not isinstance(body.get("compositeRequest"), list):
        return SfError("JSON_PARSER_ERROR", "compositeRequest is required", None).response()
    subrequests = body["compositeRequest"]
    if not subrequests:
        return SfError("INVALID_INPUT", "compositeRequest must not be empty", None).response()
    if len(subrequests) > MAX_SUBREQUESTS:
        return SfError(
            "LIMIT_EXCEEDED",
            f"A composite request may contain at most {MAX_SUBREQUESTS} subrequests",
            None,
        ).response()
    queries = sum(1 for s in subrequests if _is_query_or_collection(str(s.get("url", ""))))
    if queries > MAX_QUERY_OR_COLLECTION:
        return SfError(
            "LIMIT_EXCEEDED",
            f"A composite request may contain at most {MAX_QUERY_OR_COLLECTION} query or sObject "
            "Collections subrequests",
            None,
        ).response()
    ref_ids = [s.get("referenceId") for s in subrequests]
    if any(not r for r in ref_ids) or len(set(ref_ids)) != len(ref_ids):
        return SfError(
            "INVALID_INPUT", "Each subrequest needs a unique referenceId", None
        ).response()
    all_or_none = bool(body.get("allOrNone"))
    results: dict[str, Any] = {}
    out: list[dict[str, Any]] = []
    first_failure: int | None = None
    with app.org.store.transaction() as tx:
        for index, sub in enumerate(subrequests):
            ref = sub["referenceId"]
            if first_failure is not None and all_or_none:
                out.append(_halted(ref))
                continue
            if not _REF_ID.match(str(ref)):
                out.append(
                    {
                        "body": [
                            {
                                "errorCode": "INVALID_INPUT",
                                "message": f"Provided referenceId ('{ref}') must start with a "
                                "letter or a number, and it can contain only letters, "
                                "numbers and underscores ('_').",
                            }
                        ],
                        "httpHeaders": {},
                        "httpStatusCode": 400,
                        "referenceId": ref,
                    }
                )
                first_failure = index if first_failure is None else first_failure
                continue
            try:
                url = _substitute(str(sub.get("url", "")), results)
                sub_body = _substitute(sub.get("body"), results)
            except Unresolved as missing:
                ref_name = str(missing).split(".")[0]
                out.append(
                    {
                        "body": [
                            {
                                "errorCode": "PROCESSING_HALTED",
                                "message": f"Invalid reference specified. No value for {missing} "
                                f"found in {ref_name}. Provided referenceId "
                                f"('{ref_name}') does not exist or the value was not "
                                "found.",
                            }
                        ],
                        "httpHeaders": {},
                        "httpStatusCode": 400,
                        "referenceId": ref,
                    }
                )
                first_failure = index if first_failure is None else first_failure
                continue
            response = _subrequest(
                app,
                request,
                sub.get("method", "GET"),
                url,
                sub_body,
                sub.get("httpHeaders"),
                force_all_or_none=all_or_none,
            )
            parsed = _parsed(response)
            headers = {k: v for k, v in response.headers.items() if k == "Location"}
            out.append(
                {
                    "body": parsed,
                    "httpHeaders": headers,
                    "httpStatusCode": response.status,
                    "referenceId": ref,
                }
            )
            if response.status >= 400 or (all_or_none and _records_failed(parsed)):
                first_failure = index if first_failure is None else first_failure
            else:
                results[ref] = parsed
        if first_failure is not None and all_or_none:
            tx.rollback()
            out = [
                item if i == first_failure else _halted(item["referenceId"])
                for i, item in enumerate(out)
            ]
    return Response.json(200, {"compositeResponse": out})


def _records_failed(body: Any) -> bool:
    """An sObject Collections answer (HTTP 200) with a failed record."""
    return isinstance(body, list) and any(
        isinstance(item, dict) and item.get("success") is False for item in body
    )


def _halted(ref: str) -> dict[str, Any]:
    return {
        "body": [{"errorCode": "PROCESSING_HALTED", "message": HALTED}],
        "httpHeaders": {},
        "httpStatusCode": 400,
        "referenceId": ref,
    }


def batch(app: SalesforceApp, request: Request) -> Response:
    """``composite/batch``: independent subrequests; each counts as one API call."""
    body = request.json()
    if not isinstance(body, dict) or not isinstance(body.get("batchRequests"), list):
        return SfError("JSON_PARSER_ERROR", "batchRequests is required", None).response()
    items = body["batchRequests"]
    if not items or len(items) > MAX_SUBREQUESTS:
        return SfError("LIMIT_EXCEEDED", "A batch may contain 1 to 25 subrequests", None).response()
    halt = bool(body.get("haltOnError"))
    results = []
    has_errors = False
    version = request.params["version"]
    # Each subrequest is a call of its own: once the daily allowance is spent, the rest are
    # refused as a whole request would be (the first one was admitted with the batch).
    used, limit, charged = app.budget_used(), app.org.budget_max, 0
    for item in items:
        if halt and has_errors:
            results.append(
                {
                    "result": [
                        {
                            "errorCode": "BATCH_PROCESSING_HALTED",
                            "message": "Batch processing halted per request",
                        }
                    ],
                    "statusCode": 412,
                }
            )
            continue
        if used + charged >= limit:
            has_errors = True
            refused = limit_exceeded()
            results.append({"result": [refused.item()], "statusCode": refused.status})
            continue
        charged += 1
        url = str(item.get("url", "")).lstrip("/")
        if not url.startswith("services/"):
            url = "services/data/" + (url if url.startswith("v") else f"v{version}/{url}")
        response = _subrequest(
            app, request, item.get("method", "GET"), "/" + url, item.get("richInput"), None
        )
        if response.status >= 400:
            has_errors = True
        results.append({"result": _parsed(response), "statusCode": response.status})
    request.sf_charge = max(1, charged)  # type: ignore[attr-defined]
    return Response.json(200, {"hasErrors": has_errors, "results": results})
