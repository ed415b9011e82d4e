"""`make run`: migrate, start the seeded emulators, the web app, a Celery worker and beat,
connect the integration to the emulators, and print the admin login. Ctrl-C stops it all.

Ports and the state folder come from SF_PORT, HS_PORT, WEB_PORT and VAR_DIR (defaults 8443,
8444, 8000 and ./var).
"""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def wait_for_port(port: int, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            sock.settimeout(0.5)
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise SystemExit(f"nothing answered on 127.0.0.1:{port} within {timeout:.0f} s")


def manage(*args: str, env: dict[str, str]) -> None:
    subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True)


def admin_password(var_dir: Path) -> str:
    """One generated password per installation, so the printed login stays valid."""
    path = var_dir / ".admin-password"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(12))
        path.chmod(0o600)
    return path.read_text().strip()


def ensure_admin_args(password: str) -> list[str]:
    """``manage.py`` arguments that make the demo's admin. The password goes with its option
    in one argument: a generated one may start with "-", which would read as an option."""
    return ["ensure_admin", "--username", "admin", f"--password={password}"]


def main() -> int:
    sf_port = int(os.environ.setdefault("SF_PORT", "8443"))
    hs_port = int(os.environ.setdefault("HS_PORT", "8444"))
    web_port = int(os.environ.setdefault("WEB_PORT", "8000"))
    var_dir = Path(os.environ.setdefault("VAR_DIR", str(ROOT / "var"))).resolve()
    var_dir.mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        "PYTHONUNBUFFERED": "1",
        "VAR_DIR": str(var_dir),
        # The demo's Salesforce is the emulator: the Connection page's sign-in (after a
        # Disconnect, say) goes there and trusts its certificate.
        "SALESFORCE_LOGIN_URL": f"https://127.0.0.1:{sf_port}",
        "SALESFORCE_CA_FILE": str(var_dir / "emulators" / "ca.pem"),
    }

    manage("migrate", "--noinput", "-v", "0", env=env)
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
        wait_for_port(sf_port)
        wait_for_port(hs_port)
        ca = var_dir / "emulators" / "ca.pem"
        manage(
            "connect",
            "--salesforce-url",
            f"https://127.0.0.1:{sf_port}",
            "--salesforce-token",
            "demo-integration-user",
            "--salesforce-ca",
            str(ca),
            "--hubspot-url",
            f"http://127.0.0.1:{hs_port}",
            "--hubspot-token",
            "demo-integration-app",
            env=env,
        )
        # The demo org has State and Country/Territory picklists turned on.
        manage("sync_settings", "contacts", "salesforce_state_country=enabled", env=env)
        password = admin_password(var_dir)
        manage(*ensure_admin_args(password), env=env)
        wait_for_port(web_port)
        print("\n" + "=" * 64)
        print(f"  Dashboard:  http://127.0.0.1:{web_port}/")
        print(f"  Login:      admin / {password}")
        print(f"  Salesforce emulator: https://127.0.0.1:{sf_port}  (CA {ca})")
        print(f"  HubSpot emulator:    http://127.0.0.1:{hs_port}")
        print("  Ctrl-C stops everything.")
        print("=" * 64 + "\n", flush=True)
        return procs.wait()
    except KeyboardInterrupt:
        return 0
    except (subprocess.CalledProcessError, SystemExit) as error:
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
