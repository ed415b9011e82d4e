"""Shared machinery of both emulators: HTTP serving, the clock, faults, the request ledger."""
