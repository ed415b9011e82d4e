"""`make run`: check the ports are free, migrate, start the emulators (seeded the first time),
the web app, a Celery worker and beat. The first start also connects the integration to the
emulators with the demo's settings and makes the admin login, printed once; a later start
finishes a first one cut short, keeps what the operator changed (settings, a Disconnect, the
admin's password) and only starts the processes. Ctrl-C stops it all.

Ports and the state folder come from SF_PORT, HS_PORT, WEB_PORT and VAR_DIR (defaults 8443,
8444, 8000 and ./var).
"""

from __future__ import annotations

import errno
import os
import shlex
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
# What listens where, in the order the ports are checked: (variable, default, what).
PORTS = (
    ("WEB_PORT", "8000", "the dashboard"),
    ("SF_PORT", "8443", "the Salesforce emulator"),
    ("HS_PORT", "8444", "the HubSpot emulator"),
)
# The emulators take any token; these name the integration's users there.
SALESFORCE_TOKEN = "demo-integration-user"  # noqa: S105
HUBSPOT_TOKEN = "demo-integration-app"  # noqa: S105
# Earlier versions kept the admin's password here in clear and set it again on every start.
LEGACY_PASSWORD_FILE = ".admin-password"  # noqa: S105 - a file name


def ports_check(ports: dict[str, int]) -> None:
    """Refuse before starting anything when a port is taken (another `make run`, say):
    otherwise one process fails and the error shows up later as something else."""
    what = {name: text for name, _default, text in PORTS}
    seen: dict[int, str] = {}
    for name, port in ports.items():
        if port in seen:
            raise SystemExit(f"{seen[port]} and {name} are both {port}: give each its own port.")
        seen[port] = name
        with socket.socket() as sock:
            # As the servers bind: a port still in TIME_WAIT from the last run counts as free.
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                sock.bind(("127.0.0.1", port))
            except OSError as error:
                taken = (
                    "is already in use (another `make run`?)"
                    if error.errno == errno.EADDRINUSE
                    else f"can't be used: {error.strerror}"
                )
                raise SystemExit(
                    f"port {port} for {what.get(name, name)} {taken}. Stop what holds it, or "
                    f"choose another port: {name}=<port> make run"
                ) from error


def wait_for_port(port: int, timeout: float = 60.0, procs: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if procs is not None and procs.poll() is not None:
            raise SystemExit(
                f"the processes stopped before 127.0.0.1:{port} answered (see their log above)"
            )
        with socket.socket() as sock:
            sock.settimeout(0.5)
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise SystemExit(f"nothing answered on 127.0.0.1:{port} within {timeout:.0f} s")


def manage(*args: str, env: dict[str, str]) -> None:
    subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True)


def command_line(*args: str, var_dir: Path) -> str:
    """The shell line that runs ``manage.py`` on this demo's state, from the project folder."""
    python = Path(sys.executable)
    if python.is_relative_to(ROOT):
        python = python.relative_to(ROOT)
    prefix = "" if var_dir == (ROOT / "var").resolve() else f"VAR_DIR={shlex.quote(str(var_dir))} "
    return prefix + shlex.join([str(python), "manage.py", *args])


def connect_args(*, salesforce_url: str, hubspot_url: str, ca: Path) -> list[str]:
    """``manage.py`` arguments that connect the integration to the emulators."""
    return [
        "connect",
        "--salesforce-url",
        salesforce_url,
        "--salesforce-token",
        SALESFORCE_TOKEN,
        "--salesforce-ca",
        str(ca),
        "--hubspot-url",
        hubspot_url,
        "--hubspot-token",
        HUBSPOT_TOKEN,
        "--start",  # the demo's CRMs are emulators: no review before the first sync
    ]


@dataclass
class Setup:
    connected: bool  # connected to the emulators on this start
    password: str | None  # the admin's, shown on this start only
    admins: list[str]  # who can log in as an admin
    state: str  # the integration's ("" when there is none)
    state_reason: str


def demo_setup(connect: list[str], *, var_dir: Path) -> Setup:
    """Sets the demo up: connects the integration, gives it the demo's settings and makes the
    admin login. Each step is checked on its own, so a first start interrupted halfway is
    finished by the next, and none is done twice: what the operator changed stays (an
    integration connected once, whatever became of it since; a setting changed; any login).
    Needs Django set up and the emulators answering."""
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    from sync_engine.models import AuditEvent
    from sync_engine.selectors import integration_get_default
    from sync_engine.services import admin_user_ensure

    connected = False
    if not AuditEvent.objects.filter(action="integration.connected").exists():
        call_command(*connect)
        connected = True
    # The demo org has State and Country/Territory picklists turned on. A change is audited with
    # the change itself, so once recorded (this step done, or the operator's choice) it stays.
    if not AuditEvent.objects.filter(
        action="settings.updated",
        details__object="contacts",
        details__changes__has_key="salesforce_state_country",
    ).exists():
        call_command("sync_settings", "contacts", "salesforce_state_country=enabled")

    integration = integration_get_default()
    users = get_user_model().objects
    password = None
    legacy = var_dir / LEGACY_PASSWORD_FILE
    if not users.exists():
        # Last: a step above that fails must not leave a login whose password wasn't shown.
        _user, password, _created = admin_user_ensure(username="admin")
    elif legacy.exists():
        # Shown this once more if it still works: it isn't kept in clear any longer.
        kept = legacy.read_text().strip()
        admin = users.filter(username="admin").first()
        password = kept if admin is not None and admin.check_password(kept) else None
    legacy.unlink(missing_ok=True)

    admins = users.filter(is_active=True, is_superuser=True).order_by("id")
    return Setup(
        connected=connected,
        password=password,
        admins=[u.get_username() for u in admins],
        state=integration.state if integration is not None else "",
        state_reason=integration.state_reason if integration is not None else "",
    )


def banner(
    setup: Setup,
    *,
    web_port: int,
    sf_port: int,
    hs_port: int,
    ca: Path,
    var_dir: Path,
    connect: list[str],
    emulators_fresh: bool,
) -> str:
    web = f"http://127.0.0.1:{web_port}/"
    admin = setup.admins[0] if setup.admins and not setup.password else "admin"
    reset = command_line("ensure_admin", "--username", admin, var_dir=var_dir)
    lines = [f"  Dashboard:  {web}"]
    if setup.password:
        lines += [
            f"  Login:      admin / {setup.password}",
            f"              (shown only now: note it down. A new one later: {reset})",
        ]
    elif setup.admins:
        names = " or ".join(setup.admins[:3])
        lines += [
            f"  Login:      {names}, with the password printed when it was made",
            f"              (forgot it? {reset} prints a new one)",
        ]
    else:
        lines.append(f"  Login:      none yet: {reset} makes one")
    if setup.state in ("", "disconnected"):
        lines += [
            "  Integration: disconnected. Connect it to the emulators again on the Connection",
            f"              page ({web}connection/; HubSpot token: {HUBSPOT_TOKEN}), or with",
            f"              {command_line(*connect, var_dir=var_dir)}",
        ]
    elif setup.state != "connected":
        reason = f": {setup.state_reason}" if setup.state_reason else ""
        lines.append(f"  Integration: {setup.state}{reason}")
    if emulators_fresh and not setup.connected and setup.state:
        lines += [
            "  Warning:    the emulators started afresh (no saved state in",
            f"              {var_dir / 'emulators'}) but the database remembers earlier",
            "              ones: records synced before are missing there. Delete",
            f"              {var_dir} to start the demo over.",
        ]
    lines += [
        f"  Salesforce emulator: https://127.0.0.1:{sf_port}  (CA {ca})",
        f"  HubSpot emulator:    http://127.0.0.1:{hs_port}",
        "  Ctrl-C stops everything.",
    ]
    rule = "=" * 64
    return "\n".join(["", rule, *lines, rule, ""])


def django_setup(env: dict[str, str]) -> None:
    """Django in this process, on the same settings and state as the processes it starts."""
    os.environ.update(env)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "integration_admin.settings")
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def main() -> int:
    from django.core.management.base import CommandError

    # Ctrl-C stops everything, even when started from a shell that ignores it (a background
    # job of a non-interactive shell inherits SIGINT ignored, and so would every process).
    signal.signal(signal.SIGINT, signal.default_int_handler)
    ports = {name: int(os.environ.setdefault(name, default)) for name, default, _ in PORTS}
    web_port, sf_port, hs_port = ports["WEB_PORT"], ports["SF_PORT"], ports["HS_PORT"]
    var_dir = Path(os.environ.setdefault("VAR_DIR", str(ROOT / "var"))).resolve()
    try:
        ports_check(ports)
    except SystemExit as error:
        print(f"make run failed: {error}", file=sys.stderr)
        return 1
    var_dir.mkdir(parents=True, exist_ok=True)
    ca = var_dir / "emulators" / "ca.pem"
    env = {
        **os.environ,
        "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        "PYTHONUNBUFFERED": "1",
        "VAR_DIR": str(var_dir),
        # The demo's Salesforce is the emulator: the Connection page's sign-in (after a
        # Disconnect, say) goes there and trusts its certificate.
        "SALESFORCE_LOGIN_URL": f"https://127.0.0.1:{sf_port}",
        "SALESFORCE_CA_FILE": str(ca),
    }
    # The emulators seed themselves when they find no saved state.
    emulators_fresh = not any(
        (var_dir / "emulators" / name).exists() for name in ("salesforce.pickle", "hubspot.pickle")
    )

    try:
        manage("migrate", "--noinput", "-v", "0", env=env)
    except subprocess.CalledProcessError:
        print("make run failed: migrating the database failed (see above)", file=sys.stderr)
        return 1
    procs = subprocess.Popen(
        [str(BIN / "honcho"), "start", "-f", "Procfile", "-e", os.devnull],
        cwd=ROOT,
        env=env,
        start_new_session=True,
    )

    def stop(*_: object) -> None:
        if procs.poll() is None:
            os.killpg(procs.pid, signal.SIGINT)

    signal.signal(signal.SIGTERM, stop)
    try:
        wait_for_port(sf_port, procs=procs)
        wait_for_port(hs_port, procs=procs)
        connect = connect_args(
            salesforce_url=f"https://127.0.0.1:{sf_port}",
            hubspot_url=f"http://127.0.0.1:{hs_port}",
            ca=ca,
        )
        django_setup(env)
        try:
            setup = demo_setup(connect, var_dir=var_dir)
        finally:
            from django.db import connections

            connections.close_all()  # the web app, worker and beat share the database
        if setup.password:
            # At once, not only in the banner: a slow dashboard or a Ctrl-C before it answers
            # would lose the password for good.
            print(
                f"\nThe admin login is admin / {setup.password}"
                " (shown on this start only: note it down)",
                flush=True,
            )
        wait_for_port(web_port, procs=procs)
        text = banner(
            setup,
            web_port=web_port,
            sf_port=sf_port,
            hs_port=hs_port,
            ca=ca,
            var_dir=var_dir,
            connect=connect,
            emulators_fresh=emulators_fresh,
        )
        print(text, flush=True)
        return procs.wait()
    except KeyboardInterrupt:
        return 0
    except (subprocess.CalledProcessError, SystemExit, CommandError) as error:
        print(f"make run failed: {error}", file=sys.stderr)
        return 1
    finally:
        stop()
        try:
            procs.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(procs.pid, signal.SIGKILL)


if __name__ == "__main__":
    sys.exit(main())
