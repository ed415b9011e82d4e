"""Relative times in people's words: Django's ``timesince`` says "0 minutes" for anything
under a minute (or a moment in the future, from a clock a little ahead); templates ask
``just_now`` first and say "just now" instead, in their own translated sentence."""

from datetime import datetime, timedelta

from django import template
from django.utils import timezone

register = template.Library()

A_MINUTE = timedelta(minutes=1)


@register.filter
def just_now(value) -> bool:
    """True for a moment less than a minute ago (or ahead): ``timesince`` would say "0
    minutes". False for anything older, and for no time at all."""
    if not isinstance(value, datetime):
        return False
    now = timezone.now() if timezone.is_aware(value) else datetime.now()
    return now - value < A_MINUTE
