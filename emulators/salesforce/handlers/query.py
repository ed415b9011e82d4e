"""``/query`` and ``/queryAll``: SOQL with 2,000-row pages and query locators."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ...core.http import Request, Response
from ..errors import SfError
from ..query import batch_size_from

if TYPE_CHECKING:
    from ..app import SalesforceApp


def register(app: SalesforceApp) -> None:
    for path, query_all in (("query", False), ("queryAll", True)):
        app.api("GET", path, _run(app, query_all))
        app.api("GET", path + "/{locator}", _more(app, query_all))


def _run(app: SalesforceApp, query_all: bool):
    def handler(request: Request) -> Response:
        soql = request.arg("q")
        if not soql:
            return SfError("MALFORMED_QUERY", "A query string must be provided.", None).response()
        try:
            result = app.queries.run(
                soql,
                user_id=request.sf_user,
                query_all=query_all,
                version=request.params["version"],
                batch=batch_size_from(request.headers.get("sforce-query-options")),
            )
        except SfError as error:
            return error.response()
        return Response.json(200, result)

    return handler


def _more(app: SalesforceApp, query_all: bool):
    def handler(request: Request) -> Response:
        try:
            result = app.queries.more(
                request.params["locator"],
                user_id=request.sf_user,
                version=request.params["version"],
                query_all=query_all,
            )
        except SfError as error:
            return error.response()
        return Response.json(200, result)

    return handler
