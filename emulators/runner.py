"""Start both emulators, in this process, on given or free ports."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .core.clock import Clock
from .core.server import RunningEmulator, load_or_create_ca, server_context


@dataclass
class Emulators:
    salesforce: RunningEmulator
    hubspot: RunningEmulator
    data_dir: Path

    @property
    def ca_path(self) -> Path:
        return self.data_dir / "ca.pem"

    def stop(self) -> None:
        self.salesforce.stop()
        self.hubspot.stop()

    def __enter__(self) -> Emulators:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start_emulators(
    *,
    data_dir: Path,
    salesforce_port: int = 0,
    hubspot_port: int = 0,
    seed: str | None = None,
    persist: bool = True,
    host: str = "127.0.0.1",
) -> Emulators:
    from .hubspot.app import HubSpotApp
    from .salesforce.app import SalesforceApp

    data_dir = Path(data_dir)
    ca, ca_path = load_or_create_ca(data_dir)
    sf_state = data_dir / "salesforce.pickle" if persist else None
    hs_state = data_dir / "hubspot.pickle" if persist else None
    fresh = not (sf_state and sf_state.exists()) and not (hs_state and hs_state.exists())
    salesforce = RunningEmulator(
        SalesforceApp(Clock()),
        host=host,
        port=salesforce_port,
        tls=server_context(ca),
        state_file=sf_state,
        ca_path=ca_path,
    )
    hubspot = RunningEmulator(
        HubSpotApp(Clock()), host=host, port=hubspot_port, state_file=hs_state
    )
    if seed and fresh:
        salesforce.app.run_seed(seed)
        hubspot.app.run_seed(seed)
    return Emulators(salesforce=salesforce, hubspot=hubspot, data_dir=data_dir)
