"""Inline SVG bars for the scorecard block: no JavaScript, no external service. A rate fills its bar in percent;
a delay is drawn against a scale with a mark at the guide's reference (2 business days to accept, 48 business
hours to answer); a count is written, not drawn."""

from __future__ import annotations

from decimal import Decimal

from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString

from comptoir.scorecards.rules import Unit, Value, format_value

register = template.Library()

WIDTH, HEIGHT = 160, 14
# unit → (full scale, reference mark or None)
_SCALES: dict[str, tuple[Decimal, Decimal | None]] = {
    Unit.PERCENT.value: (Decimal(100), None),
    Unit.BUSINESS_DAYS.value: (Decimal(5), Decimal(2)),
    Unit.BUSINESS_HOURS.value: (Decimal(72), Decimal(48)),
}


@register.filter
def measure_text(value: Value) -> str:
    return format_value(value.value, value.unit)


@register.simple_tag
def scorecard_bar(value: Value, days: int) -> SafeString:
    """One bar; its colour says whether the measure is a good one to be high (blue) or low (orange)."""
    scale = _SCALES.get(value.unit)
    label = f"{value.label} sur {days} jours : {format_value(value.value, value.unit)}"
    if scale is None or value.value is None:
        return format_html('<svg class="scorecard-bar" width="{}" height="{}" role="img" aria-label="{}">'
                           '<rect width="{}" height="{}" rx="3" fill="#eef1f5"/></svg>', WIDTH, HEIGHT, label,
                           WIDTH, HEIGHT)
    full, reference = scale
    filled = int(min(value.value, full) / full * WIDTH)
    colour = "#2b6cb0" if value.definition.higher_is_better else "#dd6b20"
    mark = ""
    if reference is not None:
        x = int(reference / full * WIDTH)
        mark = format_html('<line x1="{}" y1="0" x2="{}" y2="{}" stroke="#1a202c" stroke-width="2"/>', x, x, HEIGHT)
    return format_html('<svg class="scorecard-bar" width="{}" height="{}" role="img" aria-label="{}">'
                       '<rect width="{}" height="{}" rx="3" fill="#eef1f5"/>'
                       '<rect width="{}" height="{}" rx="3" fill="{}"/>{}</svg>',
                       WIDTH, HEIGHT, label, WIDTH, HEIGHT, filled, HEIGHT, colour, mark)
