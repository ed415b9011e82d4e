"""``python -m emulators serve`` starts, answers simple-salesforce and keeps state on restart."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
from contextlib import closing
from pathlib import Path

import pytest
from simple_salesforce import Salesforce

from emulators.testing import salesforce_session

REPO = Path(__file__).resolve().parents[3]


def free_port() -> int:
    with closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    def __init__(self, data_dir: Path, *extra: str) -> None:
        self.sf_port, self.hs_port = free_port(), free_port()
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "emulators",
                "serve",
                "--salesforce-port",
                str(self.sf_port),
                "--hubspot-port",
                str(self.hs_port),
                "--data-dir",
                str(data_dir),
                *extra,
            ],
            cwd=REPO,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.data_dir = data_dir
        self._wait_until_listening()

    def _wait_until_listening(self) -> None:
        """Wait for the banner: it is printed once seeding is done and signals are handled."""
        self.banner: list[str] = []
        ready = threading.Event()

        def read() -> None:
            for line in self.process.stdout:
                self.banner.append(line)
                if line.startswith("State kept in"):
                    ready.set()

        threading.Thread(target=read, daemon=True).start()
        if not ready.wait(30):
            raise AssertionError("server did not start:\n" + "".join(self.banner))

    def client(self, token: str = "serve-test") -> Salesforce:  # noqa: S107 - a test token
        return Salesforce(
            instance_url=f"https://127.0.0.1:{self.sf_port}",
            session_id=token,
            session=salesforce_session(self.data_dir / "ca.pem"),
        )

    def stop(self) -> str:
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        return "".join(self.banner)


@pytest.mark.slow
def test_serve_seeds_answers_and_persists(tmp_path):
    data_dir = tmp_path / "emulators"
    server = Server(data_dir, "--seed", "demo")
    try:
        sf = server.client()
        leads = sf.query("SELECT COUNT() FROM Lead")["totalSize"]
        assert leads > 100
        created = sf.Contact.create({"LastName": "Survives Restart"})["id"]
    finally:
        server.stop()
    assert f"https://127.0.0.1:{server.sf_port}" in "".join(server.banner)
    assert (data_dir / "salesforce.pickle").exists()

    again = Server(data_dir, "--seed", "demo")  # existing state: no second seed
    try:
        sf = again.client()
        assert sf.query("SELECT COUNT() FROM Lead")["totalSize"] == leads
        assert sf.Contact.get(created)["LastName"] == "Survives Restart"
        same_user = sf.query("SELECT COUNT() FROM User WHERE Username LIKE 'serve.test%'")
        assert same_user["totalSize"] == 1  # the token's user was kept, not created again
    finally:
        again.stop()
