"""``/search``: a small SOSL subset for ``sf.search`` and ``sf.quick_search``.

``FIND {term} [IN ALL|NAME|EMAIL|PHONE FIELDS] [RETURNING Obj[(fields [WHERE ...]
[ORDER BY ...] [LIMIT n])], ...] [LIMIT n]``. Terms match the start of words, case-insensitively;
``*`` and ``?`` are wildcards and every word must match. Each RETURNING item is compiled as SOQL.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from ...core.http import Request, Response
from ..errors import SfError
from ..schema import ObjectDef

if TYPE_CHECKING:
    from ..app import SalesforceApp

DEFAULT_OBJECTS = ("Account", "Contact", "Lead", "Opportunity", "Case")
NAME_FIELDS = {"Name", "FirstName", "LastName", "Company", "Subject", "Title"}
MAX_ROWS = 2000
_FIND = re.compile(r"^\s*FIND\s+(?:\{((?:[^}\\]|\\.)*)\}|'((?:[^'\\]|\\.)*)')\s*", re.I | re.S)
_IN = re.compile(r"IN\s+(ALL|NAME|EMAIL|PHONE|SIDEBAR)\s+FIELDS\s*", re.I)
_RETURNING = re.compile(r"RETURNING\s+", re.I)
_LIMIT = re.compile(r"LIMIT\s+(\d+)\s*$", re.I)
_ITEM = re.compile(r"\s*([A-Za-z_][A-Za-z0-9_]*)\s*(\(([^()]*(?:\([^()]*\)[^()]*)*)\))?\s*,?", re.S)


def register(app: SalesforceApp) -> None:
    app.api("GET", "search", lambda r: search(app, r))
    app.api("GET", "parameterizedSearch", lambda r: parameterized(app, r))


def _fail(message: str) -> Response:
    return SfError("MALFORMED_SEARCH", message, None).response()


def search(app: SalesforceApp, request: Request) -> Response:
    sosl = request.arg("q") or ""
    m = _FIND.match(sosl)
    if not m:
        return _fail("No search term found. The search term must be enclosed in braces.")
    term = (m.group(1) if m.group(1) is not None else m.group(2)).replace("\\", "")
    rest = sosl[m.end() :]
    scope = "ALL"
    m_in = _IN.match(rest)
    if m_in:
        scope = m_in.group(1).upper()
        rest = rest[m_in.end() :]
    limit = MAX_ROWS
    m_limit = _LIMIT.search(rest)  # anchored at the end: never a LIMIT inside parentheses
    if m_limit:
        limit = min(MAX_ROWS, int(m_limit.group(1)))
        rest = rest[: m_limit.start()]
    items: list[tuple[str, str | None]] = []
    m_ret = _RETURNING.match(rest)
    if m_ret:
        rest = rest[m_ret.end() :]
        pos = 0
        while pos < len(rest.rstrip()):
            item = _ITEM.match(rest, pos)
            if not item or item.end() == pos:
                return _fail(f"unexpected token: '{rest[pos : pos + 10]}'")
            items.append((item.group(1), item.group(3)))
            pos = item.end()
    elif rest.strip():
        return _fail(f"unexpected token: '{rest.strip()[:20]}'")
    else:
        items = [(name, None) for name in DEFAULT_OBJECTS]
    try:
        matcher = _matcher(term)
    except ValueError as error:
        return SfError("INVALID_SEARCH", str(error), None).response()
    version = request.params["version"]
    found: list[dict[str, Any]] = []
    for name, spec in items:
        obj = app.schema.get(name)
        if obj is None:
            return SfError(
                "INVALID_TYPE", f"sObject type '{name}' is not supported.", None
            ).response()
        fields = _search_fields(app, obj, request.sf_user, scope)
        soql = f"SELECT {spec or 'Id'} FROM {obj.name}"  # noqa: S608 - SOQL for the emulator
        if spec and re.search(r"\b(WHERE|ORDER\s+BY|LIMIT)\b", spec, re.I):
            head, tail = re.split(r"\b(?=WHERE|ORDER\s+BY|LIMIT)\b", spec, maxsplit=1, flags=re.I)
            soql = f"SELECT {head} FROM {obj.name} {tail}"  # noqa: S608
        try:
            compiled = app.queries.compile(soql, request.sf_user, False)
        except SfError as error:
            return error.response()
        rows = [
            r
            for r in app.queries.scan(compiled, query_all=False)
            if any(matcher(r.get(f)) for f in fields)
        ]
        found.extend(app.queries.render_rows(compiled, rows, version, False))
    return Response.json(200, {"searchRecords": found[:limit]})


def parameterized(app: SalesforceApp, request: Request) -> Response:
    term = request.arg("q") or ""
    objects = request.args("sobject") or list(DEFAULT_OBJECTS)
    fields = request.args("fields")
    returning = ", ".join(f"{o}({', '.join(fields)})" if fields else o for o in objects)
    request.query_string = "q=" + _quote(f"FIND {{{term}}} RETURNING {returning}")
    return search(app, request)


def _quote(text: str) -> str:
    from urllib.parse import quote

    return quote(text)


def _search_fields(app: SalesforceApp, obj: ObjectDef, user_id: str, scope: str) -> list[str]:
    visible = app.visible_fields(obj, user_id).values()
    if scope == "EMAIL":
        return [f.name for f in visible if f.type == "email"]
    if scope == "PHONE":
        return [f.name for f in visible if f.type == "phone"]
    if scope in ("NAME", "SIDEBAR"):
        return [f.name for f in visible if f.name in NAME_FIELDS]
    return [f.name for f in visible if f.is_text and f.type != "picklist"]


def _matcher(term: str):
    words = [
        w
        for w in re.split(r"\s+", term.strip().strip('"'))
        if w and w.upper() not in ("AND", "OR", "AND NOT")
    ]
    if not words or all(len(w.replace("*", "").replace("?", "")) < 2 for w in words):
        raise ValueError("search term must be longer than one character")
    patterns = []
    for word in words:
        body = "".join(".*?" if ch == "*" else "." if ch == "?" else re.escape(ch) for ch in word)
        patterns.append(re.compile(r"(?:^|\W)" + body, re.IGNORECASE))

    def match(value: Any) -> bool:
        if not isinstance(value, str):
            return False
        return all(p.search(value) for p in patterns)

    return match
