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
import time
import uuid
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]


def route_tasks(table: dict) -> dict:
    """Send tasks where ``table`` says (this test's own queue) and return the routes before.
    Celery keeps the routes it first read, so they are read again."""
    from integration_admin.celery import app

    before = app.conf.task_routes
    app.conf.task_routes = table
    app.amqp.flush_routes()
    app.amqp.router = app.amqp.Router()
    return before


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


class Workers:
    """Celery worker processes on one queue of their own; stopped at the end of the test."""

    def __init__(self, tmp_path) -> None:
        self.queue = f"engine-test-{uuid.uuid4().hex[:8]}"
        self.tmp_path = tmp_path
        self.processes = []
        self.logs = []

    def start(self, count: int = 1, timeout: float = 60) -> None:
        for _ in range(count):
            n = len(self.processes) + 1
            log = self.tmp_path / f"worker{n}.log"
            self.logs.append(log)
            self.processes.append(
                celery_worker(name=f"w{n}-{self.queue}", queue=self.queue, log=log)
            )
        self.wait_for(lambda: all(" ready." in log.read_text() for log in self.logs), timeout)

    def output(self) -> str:
        return "\n".join(log.read_text() for log in self.logs)

    def wait_for(self, condition, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            for process in self.processes:
                assert process.poll() is None, f"a worker died:\n{self.output()[-3000:]}"
            assert time.monotonic() < deadline, f"timed out:\n{self.output()[-3000:]}"
            time.sleep(0.1)

    def tasks_done(self) -> int:
        text = self.output()
        return text.count("] succeeded in ") + text.count("] raised unexpected")

    def stop(self) -> None:
        for process in self.processes:
            stop(process)
