"""`make run` as a new user meets it: the login page, both emulators, and a clean Ctrl-C."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


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


def test_a_generated_password_starting_with_a_dash_reaches_ensure_admin_whole():
    """secrets.token_urlsafe can start with "-": passed as its own argument, it read as an
    unknown option and `make run` failed about once in 64 fresh installs."""
    import importlib.util

    from sync_engine.management.commands.ensure_admin import Command

    spec = importlib.util.spec_from_file_location("run_demo", ROOT / "scripts" / "run_demo.py")
    run_demo = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(run_demo)
    name, *args = run_demo.ensure_admin_args("-s5dN9UHKSHgmxW0")
    options = Command().create_parser("manage.py", name).parse_args(args)
    assert options.password == "-s5dN9UHKSHgmxW0" and options.username == "admin"
