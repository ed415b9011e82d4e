"""`make test`: lint, then the suite in two phases, then one combined closing line.

Phase 1 runs unit, contract and browser tests on SQLite. Phase 2 runs the engine's integration
tests (marker ``postgres``) on PostgreSQL with a real Celery worker on Redis.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent

PHASES = [
    ("sqlite", ["-m", "not postgres"], {}),
    (
        "postgres",
        ["-m", "postgres"],
        {
            "DATABASE_URL": os.environ.get(
                "TEST_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres"
            ),
            "CELERY_BROKER_URL": os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/14"),
            "CELERY_RESULT_BACKEND": os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/14"),
        },
    ),
]


def run_phase(name: str, args: list[str], env_extra: dict[str, str], report: Path) -> int:
    print(f"\n=== {name}: pytest {' '.join(args)}", flush=True)
    env = {**os.environ, **env_extra}
    extra = sys.argv[1:]
    cmd = [str(VENV_BIN / "pytest"), *args, f"--junitxml={report}", *extra]
    return subprocess.call(cmd, cwd=ROOT, env=env)


def counts(report: Path) -> tuple[int, int, int]:
    if not report.exists():
        return 0, 0, 0
    root = ET.parse(report).getroot()
    suites = [root] if root.tag == "testsuite" else list(root)
    total = sum(int(s.get("tests", 0)) for s in suites)
    failed = sum(int(s.get("failures", 0)) + int(s.get("errors", 0)) for s in suites)
    skipped = sum(int(s.get("skipped", 0)) for s in suites)
    return total - failed - skipped, failed, skipped


def main() -> int:
    print("=== lint: ruff check", flush=True)
    lint = subprocess.call([str(VENV_BIN / "ruff"), "check", "."], cwd=ROOT)
    passed = failed = skipped = 0
    codes = []
    with tempfile.TemporaryDirectory() as tmp:
        for name, args, env_extra in PHASES:
            report = Path(tmp) / f"{name}.xml"
            codes.append((name, run_phase(name, args, env_extra, report)))
            p, f, s = counts(report)
            passed, failed, skipped = passed + p, failed + f, skipped + s
    print()
    for name, code in codes:
        print(f"phase {name}: exit code {code}")
    print(f"lint: {'clean' if lint == 0 else 'FAILED'}")
    print(f"total: {passed} passed, {failed} failed, {skipped} skipped")
    # Exit code 5 means a phase collected no test: that is a failure of the suite too.
    return 0 if lint == 0 and all(code == 0 for _, code in codes) and passed > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
