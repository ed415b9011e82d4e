"""Command line.

``python -m emulators serve --salesforce-port N --hubspot-port M --data-dir DIR [--seed demo]``
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from pathlib import Path

from .runner import start_emulators


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m emulators")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="run the Salesforce and HubSpot emulators")
    serve.add_argument("--salesforce-port", type=int, default=8443)
    serve.add_argument("--hubspot-port", type=int, default=8444)
    serve.add_argument("--data-dir", type=Path, default=Path("var/emulators"))
    serve.add_argument("--seed", choices=["demo"], help="seed demo data when the state is new")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument(
        "--no-persist", action="store_true", help="keep state in memory only (benchmarks)"
    )
    serve.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args(argv)

    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO, format="%(message)s")
    emulators = start_emulators(
        data_dir=args.data_dir,
        salesforce_port=args.salesforce_port,
        hubspot_port=args.hubspot_port,
        seed=args.seed,
        host=args.host,
        persist=not args.no_persist,
    )
    print(f"Salesforce emulator: {emulators.salesforce.url}  (CA: {emulators.ca_path})", flush=True)
    print(f"HubSpot emulator:    {emulators.hubspot.url}", flush=True)
    print(f"State kept in {args.data_dir}", flush=True)

    stopped = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stopped.set())
    stopped.wait()
    emulators.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
