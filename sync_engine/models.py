"""The integration, its two connections, the API-call ledger and the audit trail."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.utils import timezone

from .fields import EncryptedTextField

# Salesforce publishes no default for "Allocated to HubSpot". 10,000 calls per rolling 24 h is
# two thirds of a Developer Edition org's 15,000 and a tenth of the smallest Enterprise org's
# 100,000, so a fresh install can't starve an org's other integrations; admins raise it from
# the Sync health tab once they know their org's headroom.
DEFAULT_SALESFORCE_API_ALLOCATION = 10_000


class System(models.TextChoices):
    SALESFORCE = "salesforce", "Salesforce"
    HUBSPOT = "hubspot", "HubSpot"


class Integration(models.Model):
    """One HubSpot account connected to one Salesforce org."""

    class State(models.TextChoices):
        CONNECTED = "connected", "Connected"
        PAUSED = "paused", "Paused"
        SUSPENDED = "suspended", "Suspended"
        DISCONNECTED = "disconnected", "Disconnected"

    name = models.CharField(max_length=200, default="HubSpot ⇄ Salesforce")
    state = models.CharField(max_length=20, choices=State.choices, default=State.DISCONNECTED)
    state_reason = models.TextField(blank=True, default="")
    state_changed_at = models.DateTimeField(default=timezone.now)
    salesforce_api_allocation = models.PositiveIntegerField(
        "Allocated to HubSpot",
        default=DEFAULT_SALESFORCE_API_ALLOCATION,
        validators=[MinValueValidator(1)],
        help_text="Most Salesforce API calls the integration may make in any rolling 24 hours.",
    )
    salesforce_api_limit = models.PositiveIntegerField(
        "Limited by Salesforce",
        null=True,
        blank=True,
        help_text="The org's 24-hour API entitlement (DailyApiRequests.Max), read from Salesforce.",
    )
    salesforce_api_remaining = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text="What Salesforce reported left for the whole org (DailyApiRequests.Remaining).",
    )
    limits_checked_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.name

    @property
    def is_connected(self) -> bool:
        return self.state == self.State.CONNECTED


class SalesforceConnection(models.Model):
    integration = models.OneToOneField(
        Integration, on_delete=models.CASCADE, related_name="salesforce_connection"
    )
    instance_url = models.URLField(max_length=500)
    api_version = models.CharField(max_length=10, default="59.0")
    ca_bundle = models.TextField(
        blank=True,
        default="",
        help_text="PEM certificates to trust for this instance (self-signed or private CAs).",
    )
    access_token = EncryptedTextField()
    refresh_token = EncryptedTextField(blank=True, default="")
    client_id = models.CharField(max_length=255, blank=True, default="")
    client_secret = EncryptedTextField(blank=True, default="")
    organization_id = models.CharField(max_length=18, blank=True, default="")
    user_id = models.CharField("Integration user id", max_length=18, blank=True, default="")
    user_name = models.CharField("Integration user", max_length=255, blank=True, default="")
    username = models.CharField(max_length=255, blank=True, default="")
    connected_at = models.DateTimeField(default=timezone.now)
    last_verified_at = models.DateTimeField(null=True, blank=True)
    token_refreshed_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return self.instance_url

    @property
    def can_refresh(self) -> bool:
        return bool(self.refresh_token and self.client_id)


class HubSpotConnection(models.Model):
    integration = models.OneToOneField(
        Integration, on_delete=models.CASCADE, related_name="hubspot_connection"
    )
    base_url = models.URLField(max_length=500, default="https://api.hubapi.com")
    access_token = EncryptedTextField()
    refresh_token = EncryptedTextField(blank=True, default="")
    client_id = models.CharField(max_length=255, blank=True, default="")
    client_secret = EncryptedTextField(blank=True, default="")
    portal_id = models.CharField("HubSpot account id", max_length=32, blank=True, default="")
    connected_at = models.DateTimeField(default=timezone.now)
    last_verified_at = models.DateTimeField(null=True, blank=True)
    token_refreshed_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return self.base_url

    @property
    def can_refresh(self) -> bool:
        return bool(self.refresh_token and self.client_id)


class ApiCall(models.Model):
    """One HTTP request made to a CRM. Rows are written before the request goes out (so
    concurrent workers can't overspend the budget) and completed when it answers; a row whose
    ``status`` stays null was cut off by a crash and still counts."""

    integration = models.ForeignKey(Integration, on_delete=models.CASCADE, related_name="api_calls")
    system = models.CharField(max_length=20, choices=System.choices)
    operation = models.CharField(max_length=80)
    called_at = models.DateTimeField(default=timezone.now, db_index=True)
    status = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="HTTP status; 0 for a network error; null while in flight."
    )
    records = models.PositiveIntegerField(default=0)
    duration_ms = models.PositiveIntegerField(default=0)

    class Meta:
        indexes = [
            models.Index(fields=["integration", "system", "called_at"], name="apicall_window_idx"),
        ]
        ordering = ["-called_at"]

    def __str__(self) -> str:
        return f"{self.system} {self.operation} {self.status}"


class AuditEvent(models.Model):
    """Who changed what, and when. Written by every mutating service."""

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="Empty for the system (workers, scheduled jobs, commands without a user).",
    )
    integration = models.ForeignKey(
        Integration, on_delete=models.CASCADE, null=True, blank=True, related_name="audit_events"
    )
    action = models.CharField(max_length=80, db_index=True)
    details = models.JSONField(default=dict, blank=True)
    at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.action}"
