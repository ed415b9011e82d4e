"""Emails the people who asked for them: one when the integration is suspended (spec §4).

The engine decides when (once per suspension, after the commit that suspended it) and who
asked (opted in, active, with an address); the dashboard writes the email in people's words
(the reason and the fix the header shows) and sends it, as a receiver of
``integration_suspended``: nothing here imports the web layer.
"""

from __future__ import annotations

import logging

from django.contrib.auth import get_user_model
from django.contrib.auth.base_user import AbstractBaseUser
from django.db import transaction
from django.db.models import Q
from django.dispatch import Signal
from django.utils import timezone

from .models import Integration, SuspensionEmail
from .services import audit_event_record

log = logging.getLogger(__name__)

# Sent once per suspension, after the commit that suspended the integration, with
# ``integration`` (as stored then) and ``recipients`` (``SuspensionEmail`` rows of those who
# asked and have an address, their ``user`` read with them).
# A receiver's failure is logged; it never reaches the cycle.
integration_suspended = Signal()


def suspension_email_wanted(*, integration: Integration, user: AbstractBaseUser) -> bool:
    return SuspensionEmail.objects.filter(integration=integration, user=user).exists()


def suspension_email_set(
    *, integration: Integration, user: AbstractBaseUser, wanted: bool, language: str = ""
) -> bool:
    """Opt ``user`` in to the suspension email (written in ``language``), or out
    (audit-logged, as done by them). False when it was so already (a second click, another
    tab)."""
    with transaction.atomic():
        if wanted:
            _, changed = SuspensionEmail.objects.update_or_create(
                integration=integration, user=user, defaults={"language": language[:10]}
            )
        else:
            deleted, _ = SuspensionEmail.objects.filter(integration=integration, user=user).delete()
            changed = bool(deleted)
        if changed:
            audit_event_record(
                action="notifications.suspension_email_on"
                if wanted
                else "notifications.suspension_email_off",
                integration=integration,
                actor=user,
            )
    return changed


def suspension_email_recipients(*, integration: Integration) -> list[SuspensionEmail]:
    """Who asked for the suspension email and can receive it: active, with an address."""
    email = f"user__{get_user_model().get_email_field_name()}"
    return list(
        SuspensionEmail.objects.filter(integration=integration, user__is_active=True)
        .exclude(**{email: ""})
        .exclude(**{f"{email}__isnull": True})
        .select_related("user")
        .order_by("user_id")
    )


def suspension_notify(*, integration: Integration) -> bool:
    """Announce a suspension the caller just made (``integration_suspended``, after the
    commit), once per suspension. ``integration`` is as the caller read it before suspending:
    a notice sent since that state began is this suspension's (another pair's cycle suspended
    it first); one sent before it was an earlier suspension's, cleared since. True when this
    call announces it."""
    if integration.state == Integration.State.SUSPENDED:
        return False  # suspended already when the caller read it: its suspender announced it
    try:
        claimed = (
            Integration.objects.filter(pk=integration.pk, state=Integration.State.SUSPENDED)
            .filter(
                Q(suspension_emailed_at__isnull=True)
                | Q(suspension_emailed_at__lt=integration.state_changed_at)
            )
            .update(suspension_emailed_at=timezone.now())
        )
    except Exception:  # the cycle that suspended goes on ending as it would have
        log.exception("The suspension of integration %s was not announced", integration.pk)
        return False
    if not claimed:
        return False  # not suspended after all (disconnected meanwhile), or announced already
    transaction.on_commit(lambda: _announce(integration.pk))
    return True


def _announce(integration_pk: int) -> None:
    """Tell the receivers (the email), unless the suspension was cleared meanwhile. Never
    raises: sending mail mustn't break the cycle."""
    try:
        integration = Integration.objects.filter(
            pk=integration_pk, state=Integration.State.SUSPENDED
        ).first()
        if integration is None:
            return
        recipients = suspension_email_recipients(integration=integration)
        if not recipients:
            return
        answers = integration_suspended.send_robust(
            sender=Integration, integration=integration, recipients=recipients
        )
    except Exception:
        log.exception("The suspension of integration %s was not announced", integration_pk)
        return
    for receiver, answer in answers:
        if isinstance(answer, Exception):
            log.error(
                "The suspension email was not sent (%s): %s",
                getattr(receiver, "__qualname__", receiver),
                answer,
                exc_info=answer,
            )
