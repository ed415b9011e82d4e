"""Tiny read-only HTML pages for people who follow a link into an emulator (the dashboard's
"open in HubSpot/Salesforce" links in the demo). Every piece of text is escaped here."""

from __future__ import annotations

from collections.abc import Iterable
from html import escape

from .http import Response

Cell = str | tuple[str, str]  # text, or (text, href)

_STYLE = (
    "body{font:15px/1.4 system-ui,sans-serif;margin:2rem;color:#222}"
    "table{border-collapse:collapse}th,td{text-align:left;vertical-align:top;"
    "padding:.25rem .75rem;border-bottom:1px solid #ddd}th{font-weight:600}"
    "small{color:#666}"
)


def cell(value: Cell) -> str:
    if isinstance(value, tuple):
        text, href = value
        return f'<a href="{escape(href)}">{escape(text)}</a>'
    return escape(value)


def table(rows: Iterable[tuple[Cell, Cell]]) -> str:
    body = "".join(
        f"<tr><th>{cell(label)}</th><td>{cell(value)}</td></tr>" for label, value in rows
    )
    return f"<table>{body}</table>" if body else "<p>None.</p>"


def section(title: str, html: str) -> str:
    return f"<h2>{escape(title)}</h2>{html}"


def paragraph(*parts: Cell) -> str:
    return f"<p>{''.join(cell(p) for p in parts)}</p>"


def page(status: int, heading: str, *parts: str, note: str = "") -> Response:
    """``parts`` are HTML made with the helpers above; ``heading`` and ``note`` are text."""
    small = f" <small>{escape(note)}</small>" if note else ""
    html = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{escape(heading)}</title><style>{_STYLE}</style></head>"
        f"<body><h1>{escape(heading)}{small}</h1>{''.join(parts)}</body></html>"
    )
    response = Response.text(status, html, "text/html")
    # Defence in depth: the pages show CRM data verbatim, so no scripts run at all.
    response.headers["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'"
    return response


def not_found(what: str) -> Response:
    return page(404, "Not found", paragraph(what))
