"""The suspension email (spec §4): the reason and what to do, in the header's words, with a
link to Sync health, sent to each integration admin who asked for it on the Connection page.

The engine says when (``sync_engine.notifications.integration_suspended``, once per
suspension); this module writes and sends it. A mail server that fails is logged, never
raised: the cycle that suspended goes on.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.core import mail
from django.dispatch import receiver
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from sync_engine.models import Integration, SuspensionEmail
from sync_engine.notifications import integration_suspended

from .labels import engine_message
from .roles import user_is_admin
from .status import state_advice

log = logging.getLogger(__name__)


def site_url(path: str) -> str:
    """``path`` as an absolute address (``SITE_URL``): an email has no request to build on."""
    return settings.SITE_URL.rstrip("/") + path


def suspension_email(integration: Integration, *, to: str) -> mail.EmailMessage:
    """The email, in the active language."""
    subject = _("%(integration)s: syncing is suspended") % {"integration": integration.name}
    lines = [
        _(
            "Syncing between HubSpot and Salesforce is suspended: nothing syncs until the cause "
            "is fixed."
        ),
        "",
        _("Reason: %(reason)s") % {"reason": engine_message(integration.state_reason)},
        _("What to do: %(advice)s") % {"advice": state_advice(integration)},
        "",
        _("Sync health: %(url)s") % {"url": site_url(reverse("sync_health"))},
        "",
        _(
            "You get one email per suspension because you asked for it on the Connection page. "
            "To stop them: %(url)s"
        )
        % {"url": site_url(reverse("connection") + "#suspension-email")},
    ]
    # A header can't hold a line break, whatever the integration was named.
    return mail.EmailMessage(" ".join(subject.split()), "\n".join(lines) + "\n", to=[to])


@receiver(integration_suspended, dispatch_uid="integration_admin.suspension_email")
def suspension_email_send(
    sender, *, integration: Integration, recipients: list[SuspensionEmail], **kwargs
) -> int:
    """One email to each recipient who is an integration admin now (one demoted since asking
    gets none), in the language they asked in. How many were sent."""
    languages = dict(settings.LANGUAGES)
    messages = []
    for row in recipients:
        if not user_is_admin(row.user):
            continue
        address = getattr(row.user, row.user.get_email_field_name())
        language = row.language if row.language in languages else settings.LANGUAGE_CODE
        with translation.override(language):
            messages.append(suspension_email(integration, to=address))
    sent = 0
    if not messages:
        return sent
    try:
        with mail.get_connection() as connection:  # one session with the mail server
            for message in messages:
                message.connection = connection
                try:
                    sent += message.send()
                except Exception:
                    log.exception("The suspension email to %s was not sent", message.to[0])
    except Exception:
        log.exception("The suspension emails were not sent: the mail server failed")
    log.info("Suspension email sent to %d of %d admins who asked for it", sent, len(messages))
    return sent
