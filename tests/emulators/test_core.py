"""The emulators' shared machinery, through a tiny app served over real HTTP."""

from __future__ import annotations

import time

import pytest
import requests

from emulators.core.clock import Clock
from emulators.core.http import EmulatorApp, Response
from emulators.core.server import RunningEmulator, load_or_create_ca, server_context


class CounterApp(EmulatorApp):
    """Counts POSTs; enough to observe faults, the ledger and persistence."""

    name = "counter"

    def __init__(self) -> None:
        super().__init__(Clock())
        self.count = 0
        self.router.add("POST", "/count", self._increment)
        self.router.add("GET", "/count", lambda r: Response.json(200, {"count": self.count}))

    def _increment(self, request):
        self.count += 1
        return Response.json(201, {"count": self.count})

    def reset(self) -> None:
        self.count = 0

    def snapshot(self):
        return {"count": self.count}

    def restore(self, state) -> None:
        self.count = state["count"]


@pytest.fixture
def counter():
    running = RunningEmulator(CounterApp())
    yield running
    running.stop()


def test_routes_ignore_trailing_slash_and_unknown_paths_are_404(counter):
    assert requests.post(counter.url + "/count/").status_code == 201
    assert requests.get(counter.url + "/count").json() == {"count": 1}
    assert requests.get(counter.url + "/nope").status_code == 404
    assert requests.delete(counter.url + "/count").status_code == 405


def test_fault_after_n_fires_a_limited_number_of_times(counter):
    requests.post(
        counter.url + "/__emulator__/faults",
        json={"path": "^/count", "method": "POST", "status": 503, "after": 1, "times": 2},
    )
    statuses = [requests.post(counter.url + "/count").status_code for _ in range(5)]
    assert statuses == [201, 503, 503, 201, 201]
    assert counter.app.count == 3  # failed requests did not apply


def test_apply_then_fail_commits_the_write_and_still_fails(counter):
    counter.app.faults.add(path="^/count", method="POST", status=502, apply_then_fail=True, times=1)
    assert requests.post(counter.url + "/count").status_code == 502
    assert counter.app.count == 1


def test_dropped_connection_surfaces_as_a_connection_error(counter):
    counter.app.faults.add(path="^/count", drop=True, times=1)
    with pytest.raises(requests.ConnectionError):
        requests.post(counter.url + "/count")
    assert requests.post(counter.url + "/count").status_code == 201


def test_seeded_probability_is_repeatable(counter):
    def run() -> list[int]:
        counter.app.faults.clear()
        counter.app.faults.add(path="^/count", status=500, probability=0.5, seed=11)
        return [requests.post(counter.url + "/count").status_code for _ in range(12)]

    first, second = run(), run()
    assert first == second
    assert {500, 201} == set(first)


def test_delay_slows_the_answer(counter):
    counter.app.faults.add(path="^/count", method="GET", delay=0.3, times=1)
    started = time.perf_counter()
    requests.get(counter.url + "/count")
    assert time.perf_counter() - started >= 0.3


def test_ledger_records_every_request_and_can_be_cleared(counter):
    requests.post(counter.url + "/count", headers={"Authorization": "Bearer abc"})
    requests.get(counter.url + "/count?x=1")
    ledger = requests.get(counter.url + "/__emulator__/ledger").json()
    assert ledger["count"] == 2
    assert [(e["method"], e["path"], e["status"], e["token"]) for e in ledger["entries"]] == [
        ("POST", "/count", 201, "abc"),
        ("GET", "/count", 200, None),
    ]
    assert ledger["entries"][1]["query"] == "x=1"
    requests.delete(counter.url + "/__emulator__/ledger")
    assert requests.get(counter.url + "/__emulator__/ledger").json()["count"] == 0


def test_clock_can_be_frozen_and_advanced(counter):
    frozen = requests.post(
        counter.url + "/__emulator__/clock",
        json={"freeze": True, "at": "2030-01-01T00:00:00+00:00"},
    ).json()
    assert frozen["now"].startswith("2030-01-01T00:00:00")
    advanced = requests.post(counter.url + "/__emulator__/clock", json={"advance": 90}).json()
    assert advanced["now"].startswith("2030-01-01T00:01:30")


def test_state_persists_across_restarts(tmp_path):
    state = tmp_path / "counter.pickle"
    first = RunningEmulator(CounterApp(), state_file=state)
    for _ in range(3):
        requests.post(first.url + "/count")
    first.stop()
    second = RunningEmulator(CounterApp(), state_file=state)
    try:
        assert requests.get(second.url + "/count").json() == {"count": 3}
    finally:
        second.stop()


def test_tls_with_the_written_ca_and_the_ca_is_reused(tmp_path):
    ca, ca_path = load_or_create_ca(tmp_path)
    running = RunningEmulator(CounterApp(), tls=server_context(ca))
    try:
        session = requests.Session()
        session.trust_env = False
        session.verify = str(ca_path)
        assert session.get(running.url + "/count").json() == {"count": 0}
        with pytest.raises(requests.exceptions.SSLError):
            plain = requests.Session()
            plain.trust_env = False
            plain.get(running.url + "/count")
    finally:
        running.stop()
    again, _ = load_or_create_ca(tmp_path)
    assert again.cert_pem.bytes() == ca.cert_pem.bytes()
