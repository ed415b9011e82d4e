"""HubSpot through hubspot-api-client v12: budgeted, counted, refreshed, typed errors."""

from .connector import BatchResult, HubSpotConnector, RateLimitState

__all__ = ["BatchResult", "HubSpotConnector", "RateLimitState"]
