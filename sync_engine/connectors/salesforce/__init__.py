"""Salesforce through simple-salesforce: budgeted, counted, refreshed, typed errors."""

from .connector import SalesforceConnector
from .session import LedgerSession, ca_bundle_path

__all__ = ["LedgerSession", "SalesforceConnector", "ca_bundle_path"]
