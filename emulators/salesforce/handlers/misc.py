"""API versions, the resource list and ``/limits``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ...core.http import Response

if TYPE_CHECKING:
    from ..app import SalesforceApp

VERSIONS = [f"{v}.0" for v in range(31, 63)]
RESOURCES = (
    "sobjects",
    "query",
    "queryAll",
    "limits",
    "composite",
    "jobs",
    "search",
    "recent",
    "tooling",
)
RECORD_KB = 2  # Salesforce counts most records as 2 KB of data storage


def register(app: SalesforceApp) -> None:
    app.router.add(
        "GET",
        "/services/data",
        lambda r: Response.json(
            200,
            [{"label": f"API {v}", "url": f"/services/data/v{v}", "version": v} for v in VERSIONS],
        ),
    )
    app.api(
        "GET",
        "",
        lambda r: Response.json(
            200, {name: f"/services/data/v{r.params['version']}/{name}" for name in RESOURCES}
        ),
    )
    app.api("GET", "limits", lambda r: Response.json(200, limits(app)))


def limits(app: SalesforceApp) -> dict:
    used = app.budget_used()
    org = app.org
    records = sum(1 for table in org.store.tables.values() for rec in table.values())
    storage_max = 5120
    cutoff = app.clock.now().timestamp() - 24 * 3600
    for window in (org.bulk_batches, org.bulk_query_jobs):
        while window and window[0] <= cutoff:
            window.popleft()
    query_jobs = len(org.bulk_query_jobs)

    def pair(maximum: int, remaining: int) -> dict:
        return {"Max": maximum, "Remaining": max(0, remaining)}

    return {
        "ConcurrentAsyncGetReportInstances": pair(200, 200),
        "ConcurrentSyncReportRuns": pair(20, 20),
        "DailyApiRequests": pair(org.budget_max, org.budget_max - used),
        "DailyAsyncApexExecutions": pair(250000, 250000),
        "DailyBulkApiBatches": pair(15000, 15000 - len(org.bulk_batches)),
        "DailyBulkV2QueryFileStorageMB": pair(976562, 976562),
        "DailyBulkV2QueryJobs": pair(10000, 10000 - query_jobs),
        "DataStorageMB": pair(storage_max, storage_max - records * RECORD_KB // 1024),
        "FileStorageMB": pair(20480, 20480),
        "HourlyDashboardRefreshes": pair(200, 200),
        "SingleEmail": pair(5000, 5000),
    }
