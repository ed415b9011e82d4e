import re

from django import template
from django.utils.html import conditional_escape
from django.utils.safestring import mark_safe

from ..labels import (
    ENDED_BECAUSE_LABELS,
    RULE_LABELS,
    RUN_STATUS_LABELS,
    RUN_TRIGGER_LABELS,
    STOPPED_SYNCING_LABELS,
    category_label,
    error_text,
    offered_rules,
    rule_label,
    run_details,
    run_outcome,
)
from ..links import hubspot_record_url, salesforce_record_url

register = template.Library()


@register.simple_tag
def salesforce_url(connection, sobject, record_id) -> str:
    return salesforce_record_url(connection, sobject, record_id)


@register.simple_tag
def hubspot_url(connection, object_name, record_id, record_key="") -> str:
    return hubspot_record_url(connection, object_name, record_id, record_key)


@register.filter
def rule_name(rule: str) -> str:
    return rule_label(rule)


@register.filter
def error_title(error_type: str) -> str:
    return str(error_text(error_type).title)


@register.filter
def category(category_key: str) -> str:
    return category_label(category_key)


@register.filter
def run_status(status: str) -> str:
    return str(RUN_STATUS_LABELS.get(status, status))


@register.filter(name="run_outcome")
def run_outcome_filter(run) -> str:
    """The key of a run's badge: its status, or "succeeded_with_errors" (``run_outcome``)."""
    return run_outcome(run.status, run.error_count, run.counts)


@register.filter
def ended_because(reason: str) -> str:
    """Why an ended error ended, in the reader's language."""
    return str(ENDED_BECAUSE_LABELS.get(reason or "", ENDED_BECAUSE_LABELS[""]))


@register.filter
def stopped_syncing(reason: str) -> str:
    """Why a record no longer syncs, by why its latest error ended, in the reader's language."""
    return str(STOPPED_SYNCING_LABELS[reason])


@register.filter
def run_trigger(trigger: str) -> str:
    return str(RUN_TRIGGER_LABELS.get(trigger, trigger))


@register.filter
def run_counts(counts: dict) -> str:
    return run_details(counts)


@register.filter
def rule_choices(mapping, schema=None) -> list[tuple[str, str]]:
    """The rules the mapping's row offers: only those it may have (spec §6.3, §8.2, §11;
    ``schema``: the pair's ``SchemaOptions``, for what takes no writes), and the one it has."""
    offered = offered_rules(mapping.hubspot_property, mapping.salesforce_field, schema)
    return [
        (value, str(label))
        for value, label in RULE_LABELS.items()
        if value in offered or value == mapping.rule
    ]


@register.filter
def label_in(name: str, labels) -> str:
    """``name``'s label in ``labels`` ({name: label}), or the name itself."""
    return (labels or {}).get(name) or name


@register.filter(needs_autoescape=True)
def email_breaks(value, autoescape=True) -> str:
    """An email address that wraps, when its cell is too narrow, after the "@" or before a dot
    (``<wbr>``), rather than wherever the line ends ("…example.co" / "m")."""
    text = conditional_escape(value) if autoescape else str(value)
    return mark_safe(re.sub(r"(?<=@)|(?=\.)", "<wbr>", str(text)))  # noqa: S308 - escaped above
