"""`make run` as a new user meets it: the login page, both emulators, and a clean Ctrl-C; a
later start that keeps what the operator changed or finishes a first one cut short; a port
already taken."""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from io import StringIO
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests
from django.contrib.auth import authenticate
from django.core import management
from django.core.management import call_command
from django.db import connections
from django.test import RequestFactory

from sync_engine.models import AuditEvent, Integration, ObjectSync, SalesforceConnection
from sync_engine.selectors import integration_get_default
from sync_engine.services import integration_disconnect, object_settings_update

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def run_demo():
    """scripts/run_demo.py as a module (scripts/ is no package)."""
    spec = importlib.util.spec_from_file_location("run_demo", ROOT / "scripts" / "run_demo.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["run_demo"] = module  # its dataclass looks its module up while being made
    spec.loader.exec_module(module)
    yield module
    sys.modules.pop("run_demo", None)


def logs_in(username: str, password: str) -> bool:
    """As the login page does: with the request (the lock-out backend needs it)."""
    return authenticate(RequestFactory().post("/login/"), username=username, password=password)


def port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.2)
        return sock.connect_ex(("127.0.0.1", port)) == 0


@pytest.mark.slow
def test_run_demo_serves_the_login_page_and_the_seeded_emulators(tmp_path):
    ports = {"SF_PORT": free_port(), "HS_PORT": free_port(), "WEB_PORT": free_port()}
    env = {**os.environ, **{k: str(v) for k, v in ports.items()}, "VAR_DIR": str(tmp_path)}
    env.pop("DATABASE_URL", None)
    env.pop("CELERY_BROKER_URL", None)
    env.pop("CELERY_RESULT_BACKEND", None)
    proc = subprocess.Popen(
        [sys.executable, "scripts/run_demo.py"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
        # Started as a background job of a script would be: with Ctrl-C (SIGINT) ignored,
        # which every process inherits; the demo must still stop on it.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN),
    )
    output: list[str] = []
    reader = threading.Thread(target=lambda: output.extend(proc.stdout), daemon=True)
    reader.start()
    try:
        deadline = time.monotonic() + 120
        while not any("Login:" in line for line in output):
            assert proc.poll() is None, "".join(output)
            assert time.monotonic() < deadline, "no login printed:\n" + "".join(output)
            time.sleep(0.5)
        login = next(line for line in output if "Login:" in line)
        username, password = re.search(r"Login:\s+(\S+) / (\S+)", login).groups()

        web = f"http://127.0.0.1:{ports['WEB_PORT']}"
        session = requests.Session()
        page = session.get(web + "/", timeout=10)
        assert page.status_code == 200 and "password" in page.text.lower()
        assert "/login" in page.url  # anonymous visitors are sent to the login page
        csrf = session.cookies.get("csrftoken")
        home = session.post(
            page.url,
            data={"username": username, "password": password, "csrfmiddlewaretoken": csrf},
            headers={"Referer": page.url},
            timeout=10,
        )
        assert home.status_code == 200 and "Connected" in home.text, home.text[:2000]

        sf = requests.Session()
        sf.trust_env = False
        sf.verify = str(tmp_path / "emulators" / "ca.pem")
        leads = sf.get(
            f"https://127.0.0.1:{ports['SF_PORT']}/services/data/v59.0/query/",
            params={"q": "SELECT COUNT() FROM Lead"},
            headers={"Authorization": "Bearer someone"},
            timeout=10,
        )
        assert leads.status_code == 200 and leads.json()["totalSize"] >= 100
        contacts = requests.post(
            f"http://127.0.0.1:{ports['HS_PORT']}/crm/v3/objects/contacts/search",
            json={"limit": 1},
            headers={"Authorization": "Bearer someone"},
            timeout=10,
        )
        assert contacts.status_code == 200 and contacts.json()["total"] >= 100
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C in the terminal does
        proc.wait(timeout=30)
    deadline = time.monotonic() + 15
    while any(port_open(p) for p in ports.values()) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not any(port_open(p) for p in ports.values()), "something kept running after Ctrl-C"


@pytest.mark.django_db
def test_a_later_start_keeps_what_the_operator_changed(run_demo, emulators, tmp_path):
    """The first start connects, sets the demo's settings and makes the admin; a changed
    setting, a Disconnect and a new admin password survive the next start, which writes
    nothing (no audit entries) and tells how to reset the password and reconnect."""
    connect = run_demo.connect_args(
        salesforce_url=emulators.salesforce.url,
        hubspot_url=emulators.hubspot.url,
        ca=emulators.ca_path,
    )
    first = run_demo.demo_setup(connect, var_dir=tmp_path)
    assert first.connected and first.state == "connected" and first.admins == ["admin"]
    assert logs_in("admin", first.password)
    contacts = ObjectSync.objects.get(object="contacts")
    assert contacts.options["salesforce_state_country"] == "enabled"

    integration = integration_get_default()
    object_settings_update(
        integration=integration,
        object_name="contacts",
        changes={"salesforce_state_country": "disabled"},
    )
    call_command("ensure_admin", "--password", "Operator-Pass-77", stdout=StringIO())
    integration_disconnect(integration=integration)
    events = AuditEvent.objects.count()

    second = run_demo.demo_setup(connect, var_dir=tmp_path)
    assert not second.connected and second.password is None
    assert Integration.objects.get().state == Integration.State.DISCONNECTED
    assert not SalesforceConnection.objects.exists()
    contacts.refresh_from_db()
    assert contacts.options["salesforce_state_country"] == "disabled"
    assert logs_in("admin", "Operator-Pass-77")
    assert AuditEvent.objects.count() == events

    text = run_demo.banner(
        second,
        web_port=8000,
        sf_port=8443,
        hs_port=8444,
        ca=emulators.ca_path,
        var_dir=tmp_path,
        connect=connect,
        emulators_fresh=False,
    )
    login = next(line for line in text.splitlines() if "Login:" in line)
    assert "admin" in login and " / " not in login  # no password to show
    assert "manage.py ensure_admin --username admin" in text
    assert f"VAR_DIR={tmp_path}" in text  # the commands reach this demo's state
    assert "http://127.0.0.1:8000/connection/" in text
    assert f"manage.py connect --salesforce-url {emulators.salesforce.url}" in text


@pytest.mark.django_db
def test_a_first_start_cut_short_after_connecting_is_finished_by_the_next(
    run_demo, emulators, tmp_path, monkeypatch
):
    """Ctrl-C (or a crash) between connecting and the demo's settings: the next start applies
    them without connecting again and makes the admin; a later one keeps the operator's change."""
    connect = run_demo.connect_args(
        salesforce_url=emulators.salesforce.url,
        hubspot_url=emulators.hubspot.url,
        ca=emulators.ca_path,
    )
    real = management.call_command

    def ctrl_c_after_connect(name, *args, **kwargs):
        if name == "sync_settings":
            raise KeyboardInterrupt
        return real(name, *args, **kwargs)

    with monkeypatch.context() as patch:
        patch.setattr(management, "call_command", ctrl_c_after_connect)
        with pytest.raises(KeyboardInterrupt):
            run_demo.demo_setup(connect, var_dir=tmp_path)

    second = run_demo.demo_setup(connect, var_dir=tmp_path)
    assert not second.connected and second.state == "connected"
    assert AuditEvent.objects.filter(action="integration.connected").count() == 1
    contacts = ObjectSync.objects.get(object="contacts")
    assert contacts.options["salesforce_state_country"] == "enabled"
    assert second.admins == ["admin"] and logs_in("admin", second.password)

    object_settings_update(
        integration=integration_get_default(),
        object_name="contacts",
        changes={"salesforce_state_country": "disabled"},
    )
    events = AuditEvent.objects.count()
    third = run_demo.demo_setup(connect, var_dir=tmp_path)
    assert not third.connected and third.password is None
    contacts.refresh_from_db()
    assert contacts.options["salesforce_state_country"] == "disabled"
    assert AuditEvent.objects.count() == events


@pytest.mark.django_db
def test_the_new_password_is_shown_before_the_dashboard_answers(
    run_demo, emulators, tmp_path, monkeypatch, capsys
):
    """Ctrl-C while the dashboard is still starting: the admin made on this start was shown
    already, so its password isn't lost. main() runs here on the test database, with a
    stand-in for the processes (the emulators are the fixture's)."""
    web_port = free_port()
    monkeypatch.setenv("WEB_PORT", str(web_port))
    monkeypatch.setenv("SF_PORT", str(urlsplit(emulators.salesforce.url).port))
    monkeypatch.setenv("HS_PORT", str(urlsplit(emulators.hubspot.url).port))
    monkeypatch.setenv("VAR_DIR", str(tmp_path))
    (tmp_path / "emulators").mkdir()
    shutil.copy(emulators.ca_path, tmp_path / "emulators" / "ca.pem")
    honcho = tmp_path / "bin" / "honcho"
    honcho.parent.mkdir()
    honcho.write_text("#!/bin/sh\nexec sleep 60\n")
    honcho.chmod(0o755)
    monkeypatch.setattr(run_demo, "BIN", honcho.parent)
    monkeypatch.setattr(run_demo, "ports_check", lambda ports: None)  # the emulators hold two
    monkeypatch.setattr(run_demo, "manage", lambda *args, env: None)  # migrated already
    monkeypatch.setattr(run_demo, "django_setup", lambda env: None)  # set up already
    monkeypatch.setattr(connections, "close_all", lambda: None)  # the test's transaction
    real_wait = run_demo.wait_for_port

    def ctrl_c_while_the_dashboard_starts(port, timeout=60.0, procs=None):
        if port == web_port:
            raise KeyboardInterrupt
        return real_wait(port, timeout, procs)

    monkeypatch.setattr(run_demo, "wait_for_port", ctrl_c_while_the_dashboard_starts)
    sigterm = signal.getsignal(signal.SIGTERM)
    try:
        assert run_demo.main() == 0
    finally:
        signal.signal(signal.SIGTERM, sigterm)

    shown = re.search(r"admin login is (\S+) / (\S+)", capsys.readouterr().out)
    assert shown, "the new admin's password was never shown"
    assert logs_in(*shown.groups())
    assert integration_get_default().state == "connected"


@pytest.mark.django_db
def test_the_password_earlier_versions_kept_in_clear_is_shown_once_more(
    run_demo, emulators, tmp_path
):
    connect = run_demo.connect_args(
        salesforce_url=emulators.salesforce.url,
        hubspot_url=emulators.hubspot.url,
        ca=emulators.ca_path,
    )
    call_command("ensure_admin", "--password", "Kept-in-clear-1", stdout=StringIO())
    kept = tmp_path / ".admin-password"
    kept.write_text("Kept-in-clear-1")
    assert run_demo.demo_setup(connect, var_dir=tmp_path).password == "Kept-in-clear-1"
    assert not kept.exists()
    assert run_demo.demo_setup(connect, var_dir=tmp_path).password is None
    assert logs_in("admin", "Kept-in-clear-1")


def test_a_taken_port_is_named_with_the_variable_that_moves_it(run_demo, tmp_path):
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        taken = holder.getsockname()[1]
        ports = {"WEB_PORT": free_port(), "SF_PORT": taken, "HS_PORT": free_port()}
        with pytest.raises(SystemExit) as caught:
            run_demo.ports_check(ports)
        message = str(caught.value)
        assert f"port {taken} for the Salesforce emulator is already in use" in message
        assert "SF_PORT=" in message

        # `make run` itself stops there, before starting (or setting up) anything.
        env = {**os.environ, **{k: str(v) for k, v in ports.items()}}
        env["VAR_DIR"] = str(tmp_path / "var")
        done = subprocess.run(
            [sys.executable, "scripts/run_demo.py"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert done.returncode == 1
    assert f"make run failed: port {taken} for the Salesforce emulator" in done.stderr
    assert not (tmp_path / "var").exists()


def test_two_services_on_one_port_are_refused(run_demo):
    port = free_port()
    with pytest.raises(SystemExit, match=f"WEB_PORT and HS_PORT are both {port}"):
        run_demo.ports_check({"WEB_PORT": port, "SF_PORT": free_port(), "HS_PORT": port})
