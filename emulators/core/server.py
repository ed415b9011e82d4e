"""Serves an :class:`EmulatorApp` over HTTP or HTTPS in a background thread, with persistence."""

from __future__ import annotations

import contextlib
import logging
import pickle
import ssl
import threading
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import trustme

from .http import EmulatorApp, Request

log = logging.getLogger("emulators")


def load_or_create_ca(data_dir: Path) -> tuple[trustme.CA, Path]:
    """The CA whose certificate clients trust; kept in ``data_dir`` so restarts reuse it."""
    data_dir.mkdir(parents=True, exist_ok=True)
    cert_path, key_path = data_dir / "ca.pem", data_dir / "ca-key.pem"
    if cert_path.exists() and key_path.exists():
        ca = trustme.CA.from_pem(cert_path.read_bytes(), key_path.read_bytes())
    else:
        ca = trustme.CA(organization_name="CRM emulators local CA")
        key_path.write_bytes(ca.private_key_pem.bytes())
        key_path.chmod(0o600)
        cert_path.write_bytes(ca.cert_pem.bytes())
    return ca, cert_path


def server_context(ca: trustme.CA) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1", "localhost", "::1").configure_cert(context)
    return context


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in separate writes; without TCP_NODELAY, Nagle plus the client's
    # delayed ACK adds ~40 ms to every keep-alive request.
    disable_nagle_algorithm = True
    server: _Server

    def _serve(self) -> None:
        body = self._read_body()
        request = Request.build(self.command, self.path, dict(self.headers.items()), body)
        try:
            response = self.server.app.handle(request)
        except Exception:  # an emulator bug must not kill the connection silently
            log.exception("%s %s failed", self.command, self.path)
            self.send_error(500, "emulator error")
            return
        if response.drop:
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(2)
            return
        self.send_response(response.status)
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(response.body)))
        self.end_headers()
        if response.body and self.command != "HEAD":
            self.wfile.write(response.body)

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int(self.rfile.readline().strip() or b"0", 16)
                if size == 0:
                    self.rfile.readline()
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _serve

    def date_time_string(self, timestamp: float | None = None) -> str:
        # The Date header follows the emulator's clock, as a real server's follows its own.
        moment = timestamp if timestamp is not None else self.server.app.clock.now().timestamp()
        return formatdate(moment, usegmt=True)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        log.debug("%s " + format, self.server.app.name, *args)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, address, app: EmulatorApp, tls: ssl.SSLContext | None) -> None:
        self.app = app
        self.tls = tls
        super().__init__(address, _Handler)

    def finish_request(self, request, client_address) -> None:
        # The TLS handshake runs in the connection's own thread, never in the accept loop.
        if self.tls is not None:
            try:
                request = self.tls.wrap_socket(request, server_side=True)
            except (ssl.SSLError, OSError):
                return
        super().finish_request(request, client_address)

    def handle_error(self, request, client_address) -> None:
        log.debug("connection error from %s", client_address, exc_info=True)


class RunningEmulator:
    """One emulator listening on a port, optionally persisting its state to a file."""

    def __init__(
        self,
        app: EmulatorApp,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        tls: ssl.SSLContext | None = None,
        state_file: Path | None = None,
        ca_path: Path | None = None,
    ) -> None:
        self.app = app
        self.state_file = state_file
        self.ca_path = ca_path
        if state_file and state_file.exists():
            with state_file.open("rb") as fh:
                app.restore(pickle.load(fh))  # noqa: S301 - our own file in our own data dir
        self._server = _Server((host, port), app, tls)
        scheme = "https" if tls else "http"
        self.port = self._server.server_address[1]
        self.url = f"{scheme}://{host}:{self.port}"
        app.base_url = self.url
        self._stop = threading.Event()
        self._threads = [
            threading.Thread(
                target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
            )
        ]
        if state_file:
            self._threads.append(threading.Thread(target=self._persist_loop, daemon=True))
        for thread in self._threads:
            thread.start()

    def save(self) -> None:
        if not self.state_file:
            return
        with self.app.lock:
            data = pickle.dumps(self.app.snapshot(), protocol=pickle.HIGHEST_PROTOCOL)
            self.app.dirty = False
        tmp = self.state_file.with_suffix(".tmp")
        tmp.write_bytes(data)
        tmp.replace(self.state_file)

    def _persist_loop(self) -> None:
        while not self._stop.wait(1.0):
            if self.app.dirty:
                try:
                    self.save()
                except Exception:
                    log.exception("could not save %s state", self.app.name)

    def stop(self) -> None:
        self._stop.set()
        self._server.shutdown()
        self._server.server_close()
        if self.state_file:
            self.save()
