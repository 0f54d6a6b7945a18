"""Bar charts drawn on the server as SVG: no JavaScript, colours from the app's palette, every number written
on its bar as text, and a <title> and <desc> (which also lists the numbers) for screen readers."""

from __future__ import annotations

from markupsafe import Markup, escape

from backend.roster.schemas import Count

BRAND = "#0b5c55"  # --brand in academy.css
INK = "#1d2433"  # --ink
MUTED = "#5b6475"  # --muted
LINE = "#d9dee7"  # --line
FONT = "system-ui, 'PingFang SC', 'Noto Sans CJK SC', 'Microsoft YaHei', sans-serif"


def _fmt(value: int) -> str:
    return f"{value:,}"


def _open(chart_id: str, title: str, desc: str, width: int, height: int) -> list[str]:
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" id="{escape(chart_id)}" '
        f'viewBox="0 0 {width} {height}" width="100%" role="img" '
        f'aria-labelledby="{escape(chart_id)}-title {escape(chart_id)}-desc" '
        f'font-family="{FONT}" font-size="13">',
        f'<title id="{escape(chart_id)}-title">{escape(title)}</title>',
        f'<desc id="{escape(chart_id)}-desc">{escape(desc)}</desc>',
    ]


def describe(counts: list[Count]) -> str:
    """The numbers in words, for the chart's <desc>: "2012: 80; 2013: 95"."""
    return "; ".join(f"{item.label}: {_fmt(item.count)}" for item in counts)


def column_chart(
    counts: list[Count], *, chart_id: str, title: str, width: int = 720, height: int = 260
) -> Markup:
    """Vertical bars (e.g. certificates by year), the count above each bar and its label below."""
    parts = _open(chart_id, title, f"{title}. {describe(counts)}", width, height)
    top, bottom, side = 26, 30, 8
    plot = height - top - bottom
    peak = max((item.count for item in counts), default=0) or 1
    slot = (width - 2 * side) / max(1, len(counts))
    bar = max(4.0, slot * 0.68)
    baseline = top + plot
    parts.append(f'<line x1="{side}" y1="{baseline}" x2="{width - side}" y2="{baseline}" stroke="{LINE}"/>')
    for index, item in enumerate(counts):
        x = side + index * slot + (slot - bar) / 2
        h = plot * item.count / peak
        centre = x + bar / 2
        parts.append(
            f'<rect class="chart__bar" x="{x:.1f}" y="{baseline - h:.1f}" width="{bar:.1f}" height="{h:.1f}" '
            f'fill="{BRAND}" rx="2"><title>{escape(item.label)}: {_fmt(item.count)}</title></rect>'
        )
        parts.append(
            f'<text class="chart__value" x="{centre:.1f}" y="{baseline - h - 6:.1f}" text-anchor="middle" '
            f'fill="{INK}">{_fmt(item.count)}</text>'
        )
        parts.append(
            f'<text class="chart__label" x="{centre:.1f}" y="{baseline + 19}" text-anchor="middle" '
            f'fill="{MUTED}">{escape(item.label)}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))


def row_chart(counts: list[Count], *, chart_id: str, title: str, width: int = 720) -> Markup:
    """Horizontal bars (e.g. certificates by level), the label before each bar and its count after it."""
    row, gap, label_width, value_width = 30, 12, 130, 80
    height = max(1, len(counts)) * (row + gap) + gap
    parts = _open(chart_id, title, f"{title}. {describe(counts)}", width, height)
    peak = max((item.count for item in counts), default=0) or 1
    span = width - label_width - value_width
    for index, item in enumerate(counts):
        y = gap + index * (row + gap)
        w = span * item.count / peak
        middle = y + row / 2 + 5
        parts.append(
            f'<text class="chart__label" x="{label_width - 10}" y="{middle:.1f}" text-anchor="end" '
            f'fill="{INK}">{escape(item.label)}</text>'
        )
        parts.append(
            f'<rect class="chart__bar" x="{label_width}" y="{y}" width="{w:.1f}" height="{row}" '
            f'fill="{BRAND}" rx="2"><title>{escape(item.label)}: {_fmt(item.count)}</title></rect>'
        )
        parts.append(
            f'<text class="chart__value" x="{label_width + w + 8:.1f}" y="{middle:.1f}" '
            f'fill="{INK}">{_fmt(item.count)}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))
