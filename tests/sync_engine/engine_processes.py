"""Running the engine in other processes against the test database (kill and worker tests).

The test process owns the emulators (in-process, on free ports) and the test database; a
``manage.py sync_now`` or a Celery worker started here reaches the emulators over HTTP and uses
the same database. Only a server database works for that: PostgreSQL, under
``@pytest.mark.postgres`` and ``django_db(transaction=True)`` so that what the test writes is
committed and visible to the other process.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]


def require_postgres() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (DATABASE_URL=postgres://…): other processes share the DB")


def shared_database_url() -> str:
    """The URL of the database this test runs on (pytest-django's ``test_<name>``)."""
    db = connection.settings_dict
    auth = quote(db["USER"] or "", safe="")
    if db.get("PASSWORD"):
        auth += ":" + quote(db["PASSWORD"], safe="")
    host = db.get("HOST") or "127.0.0.1"
    port = f":{db['PORT']}" if db.get("PORT") else ""
    return f"postgres://{auth}@{host}{port}/{db['NAME']}"


def engine_env(**extra: str) -> dict[str, str]:
    """The environment of an engine process: this test's database and the same secrets (the
    stored tokens are encrypted with ``FIELD_ENCRYPTION_KEY``)."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "integration_admin.settings",
        "DATABASE_URL": shared_database_url(),
        "SECRET_KEY": settings.SECRET_KEY,
        "FIELD_ENCRYPTION_KEY": settings.FIELD_ENCRYPTION_KEY,
        "PYTHONUNBUFFERED": "1",
    }
    env.pop("CELERY_TASK_ALWAYS_EAGER", None)
    env.update(extra)
    return env


def sync_now(*args: str, log: Path | None = None) -> subprocess.Popen:
    """``python manage.py sync_now --object contacts`` in its own process."""
    out = log.open("ab") if log else subprocess.DEVNULL
    try:
        return subprocess.Popen(
            [sys.executable, "manage.py", "sync_now", "--object", "contacts", *args],
            cwd=ROOT,
            env=engine_env(),
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    finally:
        if log:
            out.close()


def celery_worker(*, name: str, queue: str, log: Path) -> subprocess.Popen:
    """A real Celery worker (solo pool) consuming ``queue`` on the configured broker."""
    with log.open("ab") as out:
        return subprocess.Popen(
            [
                str(Path(sys.executable).parent / "celery"),
                "-A",
                "integration_admin",
                "worker",
                "--pool=solo",
                "--loglevel=INFO",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                "-n",
                f"{name}@%h",
                "-Q",
                queue,
            ],
            cwd=ROOT,
            env=engine_env(),
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def stop(process: subprocess.Popen, *, timeout: float = 20) -> None:
    """Stop a process this test started (TERM, then KILL)."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=timeout)
