"""How fast the dashboard's pages are with a big installation behind them.

Target (dashboard issue): the Sync health page in 150 ms or less of server time with 100,000
open sync errors and 1,000,000 record links, and every page in a constant number of queries.

    python bench/dashboard.py [--errors 100000] [--links 1000000] [--database-url URL]
                              [--keep DIR] [--export]

Rows are bulk-created straight into a throwaway database (SQLite in a temporary folder, or in
``--keep DIR`` to reuse it next time, unless ``--database-url`` names an empty PostgreSQL
database), then each page is requested through Django's test client: the time is the server's
(view, queries and template), without a network. (The indexes this bench once proposed are in
the schema since migration 0005.)
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

ERROR_TYPES = [
    ("property_value", 0.40), ("picklist", 0.20), ("salesforce_custom_code", 0.12),
    ("email_in_use", 0.10), ("field_permission", 0.08), ("insufficient_access", 0.05),
    ("owner", 0.03), ("other", 0.02),
]  # fmt: skip


def analyze() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def setup_django(database_url: str | None, folder: str) -> None:
    os.environ["VAR_DIR"] = folder
    os.environ["DATABASE_URL"] = database_url or f"sqlite:///{folder}/bench.sqlite3"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "integration_admin.settings")
    import django

    django.setup()


def populated() -> dict | None:
    """The user of an earlier run's database (``--keep``), or None."""
    from django.contrib.auth import get_user_model
    from django.db.utils import OperationalError, ProgrammingError

    try:
        user = get_user_model().objects.filter(username="bench").first()
    except (OperationalError, ProgrammingError):
        return None
    return {"user": user, "links_s": 0.0, "errors_s": 0.0} if user else None


def populate(errors: int, links: int) -> dict:
    from datetime import timedelta

    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.utils import timezone

    from sync_engine.models import (
        ApiCall,
        AuditEvent,
        HubSpotConnection,
        Integration,
        RecordLink,
        SalesforceConnection,
        SyncError,
        SyncRun,
    )
    from sync_engine.services import object_sync_get_or_create

    call_command("migrate", verbosity=0)
    now = timezone.now()
    integration = Integration.objects.create(
        state="connected", salesforce_api_allocation=50_000, salesforce_api_limit=100_000
    )
    SalesforceConnection.objects.create(
        integration=integration, instance_url="https://bench.my.salesforce.com", access_token="x"
    )
    HubSpotConnection.objects.create(integration=integration, portal_id="123", access_token="x")
    object_sync_get_or_create(integration=integration, object_name="contacts")
    user = get_user_model().objects.create_superuser("bench", password="bench-pass")

    started = time.perf_counter()
    batch = 20_000
    for start in range(0, links, batch):
        RecordLink.objects.bulk_create(
            [
                RecordLink(
                    integration=integration,
                    object="contacts",
                    hubspot_id=str(i),
                    salesforce_id=f"00Q{i:015d}",
                    salesforce_type="Lead",
                    snapshot={"email": f"p{i}@example.com", "firstname": "Pat"},
                    last_synced_at=now,
                )
                for i in range(start, min(links, start + batch))
            ]
        )
    links_s = time.perf_counter() - started

    started = time.perf_counter()
    kinds = [k for k, share in ERROR_TYPES for _ in range(int(share * 100))]
    rows = []
    for i in range(errors + errors // 5):  # plus a fifth as many resolved ones
        current = i < errors
        rows.append(
            SyncError(
                integration=integration,
                object="contacts",
                error_type=kinds[i % len(kinds)],
                direction="to_salesforce",
                record_key=f"hubspot:{i}",
                hubspot_id=str(i),
                salesforce_type="Lead",
                record_label=f"Person {i} <p{i}@example.com>",
                code="INVALID_EMAIL_ADDRESS",
                message=f"Email: invalid email address: p{i}@",
                fields=["Email"],
                first_seen_at=now - timedelta(minutes=i % 5000),
                last_seen_at=now - timedelta(seconds=i % 86_400),
                attempts=1 + i % 10,
                next_retry_at=now + timedelta(minutes=20) if current else None,
                resolved_at=None if current else now - timedelta(hours=1),
            )
        )
        if len(rows) == batch:
            SyncError.objects.bulk_create(rows)
            rows = []
    SyncError.objects.bulk_create(rows)
    errors_s = time.perf_counter() - started

    calls = [
        ApiCall(
            integration=integration,
            system="salesforce" if i % 3 else "hubspot",
            operation="query",
            status=200,
            called_at=now - timedelta(seconds=(i * 2.9) % 86_400),
        )
        for i in range(30_000)
    ]
    ApiCall.objects.bulk_create(calls, batch_size=batch)
    SyncRun.objects.bulk_create(
        [
            SyncRun(
                integration=integration,
                object="contacts",
                status="succeeded" if i % 10 else "failed",
                started_at=now - timedelta(minutes=15 * i),
                finished_at=now - timedelta(minutes=15 * i - 1),
                counts={"read_hubspot": 10},
            )
            for i in range(10_000)
        ],
        batch_size=batch,
    )
    AuditEvent.objects.bulk_create(
        [
            AuditEvent(
                integration=integration,
                actor=user,
                action="integration.allocation_changed",
                details={"from": i, "to": i + 1},
                at=now - timedelta(minutes=i),
            )
            for i in range(2_000)
        ]
    )
    return {"user": user, "links_s": links_s, "errors_s": errors_s}


def measure(client, path: str, repeat: int) -> tuple[float, float, int]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.get(path)  # warm up
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        response = client.get(path)
        if hasattr(response, "streaming_content"):
            for _chunk in response.streaming_content:
                pass
        times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, (path, response.status_code)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path)
        if hasattr(response, "streaming_content"):
            for _chunk in response.streaming_content:
                pass
    return statistics.median(times), max(times), len(queries)


PAGES = [
    ("Sync health", "/sync-health/"),
    ("Sync health with the error panel", "/sync-health/errors/property_value/"),
    ("Error panel, search", "/sync-health/errors/property_value/?q=Person 4242"),
    ("Error panel, page 1,000", "/sync-health/errors/property_value/?page=1000"),
    ("Per-record view", "/records/contacts/hubspot:4242/"),
    ("Contacts tab", "/contacts/"),
    ("Audit log", "/audit/"),
    ("API: integration", "/api/v1/integration/"),
    ("API: error summary", "/api/v1/errors/summary/"),
    ("API: errors, page 1", "/api/v1/errors/"),
]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--errors", type=int, default=100_000)
    parser.add_argument("--links", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--database-url", help="an empty PostgreSQL database (default: SQLite)")
    parser.add_argument("--export", action="store_true", help="also time the full CSV export")
    parser.add_argument("--keep", metavar="DIR", help="keep (and reuse) the SQLite database here")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as scratch:
        folder = args.keep or scratch
        Path(folder).mkdir(parents=True, exist_ok=True)
        setup_django(args.database_url, folder)
        from django.conf import settings
        from django.test import Client

        settings.ALLOWED_HOSTS = ["*"]
        engine = settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]
        made = populated() if args.keep else None
        if made is None:
            print(f"Populating {engine}: {args.links:,} links, {args.errors:,} open errors …")
            made = populate(args.errors, args.links)
            print(f"  links {made['links_s']:.1f} s, errors {made['errors_s']:.1f} s")
            analyze()  # what PostgreSQL's autovacuum does; SQLite needs to be told
        else:
            print(f"Reusing the {engine} database in {folder}")
        client = Client()
        client.force_login(made["user"])
        pages = list(PAGES)
        if args.export:
            pages.append(("CSV export, all open errors", "/sync-health/errors/export/"))
        runs = {"server time": [measure(client, path, args.repeat) for _, path in pages]}

    width = max(len(name) for name, _ in pages)
    column = 26
    header = f"{'page':<{width}}" + "".join(f"  {label:>{column}}" for label in runs)
    print("\n" + header)
    print(f"{'':<{width}}" + "".join(f"  {'median / max ms, queries':>{column}}" for _ in runs))
    print("-" * len(header))
    for i, (name, _) in enumerate(pages):
        cells = "".join(
            f"  {f'{r[i][0]:.1f} / {r[i][1]:.1f}, {r[i][2]}':>{column}}" for r in runs.values()
        )
        print(f"{name:<{width}}{cells}")
    health = runs["server time"][0][0]
    verdict = "meets" if health <= 150 else "MISSES"
    print(f"\nSync health: {health:.1f} ms median, {verdict} the 150 ms target.")
    return 0 if health <= 150 else 1


if __name__ == "__main__":
    sys.exit(main())
