from django import template
from django.utils.formats import number_format

register = template.Library()


@register.filter
def thousands(value) -> str:
    """12345 → "12,345" in English, "12.345" in Dutch: the active language's grouping."""
    try:
        return number_format(int(value), decimal_pos=0, force_grouping=True)
    except (TypeError, ValueError):
        return "" if value is None else str(value)
