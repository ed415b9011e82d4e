"""Server-rendered SVG geometry for the "calls per hour" chart (no JavaScript, no library)."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.utils import timezone
from django.utils.translation import gettext as _

from sync_engine.selectors import HourlyCalls

from .templatetags.humanize_numbers import thousands

WIDTH, HEIGHT = 720, 220
LEFT, RIGHT, TOP, BOTTOM = 52, 12, 12, 28


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    css: str
    title: str


@dataclass
class Chart:
    width: int = WIDTH
    height: int = HEIGHT
    left: int = LEFT
    right: int = WIDTH - RIGHT
    baseline: int = HEIGHT - BOTTOM
    bars: list[Bar] = field(default_factory=list)
    gridlines: list[tuple[float, str]] = field(default_factory=list)
    xlabels: list[tuple[float, str]] = field(default_factory=list)
    pace_y: float | None = None
    pace_label: str = ""
    salesforce_total: int = 0
    hubspot_total: int = 0
    peak: int = 0


def nice_ceiling(value: float, lines: int = 4) -> int:
    """The top of the y axis: ``lines`` steps of 1, 2 or 5 × 10^k, at or above ``value``."""
    needed = max(value, 1) / lines
    magnitude = 1
    while magnitude * 10 <= needed:
        magnitude *= 10
    for step in (1, 2, 5, 10):
        if step * magnitude >= needed:
            return lines * step * magnitude
    return lines * 10 * magnitude


def calls_chart(
    hourly: HourlyCalls, *, totals: tuple[int, int], allocation: int | None = None
) -> Chart:
    """``totals``: (Salesforce, HubSpot) calls in the rolling 24 hours, as the panel counts
    them. The legend names those: the bars' clock hours leave out the window's first sliver."""
    buckets = hourly.buckets
    peak = max([max(b.salesforce, b.hubspot) for b in buckets] + [0])
    pace = allocation / 24 if allocation else None
    top = nice_ceiling(max(peak, pace if pace and pace <= max(peak, 1) * 1.5 else 0))
    chart = Chart(salesforce_total=totals[0], hubspot_total=totals[1], peak=peak)
    plot_height = chart.baseline - TOP
    slot = (chart.right - chart.left) / len(buckets)
    bar_width = max(2.0, (slot - 4) / 2)

    def y_of(value: float) -> float:
        return round(chart.baseline - plot_height * value / top, 1)

    for i in range(5):
        value = top * i / 4
        chart.gridlines.append((y_of(value), thousands(int(value))))
    for i, bucket in enumerate(buckets):
        start = timezone.localtime(bucket.start)
        hours = f"{start:%H}:00–{(start.hour + 1) % 24:02d}:00"
        x = chart.left + i * slot + 2
        for offset, count, css, system in (
            (0, bucket.salesforce, "bar--salesforce", "Salesforce"),
            (bar_width, bucket.hubspot, "bar--hubspot", "HubSpot"),
        ):
            height = plot_height * count / top
            chart.bars.append(
                Bar(
                    x=round(x + offset, 1),
                    y=round(chart.baseline - height, 1),
                    width=round(bar_width, 1),
                    height=round(height, 1),
                    css=css,
                    title=_("%(hours)s · %(system)s: %(count)s calls")
                    % {"hours": hours, "system": system, "count": thousands(count)},
                )
            )
        if i % 3 == 0:
            chart.xlabels.append((round(x + bar_width, 1), f"{start:%H}:00"))
    if pace and pace <= top:
        chart.pace_y = y_of(pace)
        chart.pace_label = _("Allocation ÷ 24 h: %(pace)s calls/hour") % {
            "pace": thousands(round(pace))
        }
    return chart
