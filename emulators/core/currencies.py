"""ISO 4217 currency codes, as both CRMs take them in their currency settings."""

from __future__ import annotations

import pycountry


def iso_4217(codes: list[str]) -> list[str]:
    """``codes`` without repeats, each checked against ISO 4217 (``ValueError`` otherwise:
    Salesforce's Manage Currencies and HubSpot's account currencies accept no other)."""
    unknown = [
        c
        for c in codes
        if not isinstance(c, str) or c != c.upper() or not pycountry.currencies.get(alpha_3=c)
    ]
    if unknown:
        raise ValueError(f"not ISO 4217 currency codes: {unknown!r}")
    return list(dict.fromkeys(codes))
