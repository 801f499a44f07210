"""The report's charts, drawn on the server as small SVG (no script, no CDN), readable when printed.

Each function returns the SVG as Markup; every text in it (keyword names
come from SMS-chosen words) is escaped. The numbers of every chart are also
shown as a table underneath (templates/reports/_chart.html) for screen
readers. Shapes carry a ``<title>`` with their value for a pointer's hover.
Colours are dark enough for a black-and-white printer; the heat map also
writes its busiest cells' numbers.
"""

from __future__ import annotations

from markupsafe import Markup, escape

WIDTH = 720
BAR = "#1f5fa8"
LATE = "#b3261e"


def _svg(height: int, label: str, body: list[str]) -> Markup:
    head = (
        f'<svg class="report-chart" viewBox="0 0 {WIDTH} {height}" width="100%" role="img" '
        f'aria-label="{escape(label)}" xmlns="http://www.w3.org/2000/svg" font-family="sans-serif" font-size="11">'
    )
    return Markup(head + "".join(body) + "</svg>")


def _nice_max(value: float) -> float:
    if value <= 0:
        return 1
    for step in (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 2500, 5000, 10000):
        if value <= step * 5:
            return step * 5
    return value * 1.1


def columns(points: list[tuple[str, int]], label: str, *, every: int = 1, height: int = 220) -> Markup:
    """Vertical bars, one per point; a label under every ``every``-th bar."""
    left, bottom, top = 44, 40, 12
    plot_h = height - bottom - top
    plot_w = WIDTH - left - 8
    peak = _nice_max(max((v for _, v in points), default=0))
    body = [
        f'<line x1="{left}" y1="{top + plot_h}" x2="{WIDTH - 8}" y2="{top + plot_h}" stroke="#333"/>',
        f'<text x="{left - 4}" y="{top + 4}" text-anchor="end">{escape(f"{peak:g}")}</text>',
        f'<text x="{left - 4}" y="{top + plot_h}" text-anchor="end">0</text>',
        f'<line x1="{left}" y1="{top}" x2="{WIDTH - 8}" y2="{top}" stroke="#ccc" stroke-dasharray="3 3"/>',
    ]
    slot = plot_w / max(len(points), 1)
    for index, (name, value) in enumerate(points):
        bar_h = plot_h * value / peak
        x = left + index * slot
        body.append(
            f'<rect x="{x + slot * 0.1:.1f}" y="{top + plot_h - bar_h:.1f}" width="{max(slot * 0.8, 1):.1f}" '
            f'height="{bar_h:.1f}" fill="{BAR}"><title>{escape(name)}: {value}</title></rect>'
        )
        if index % every == 0:
            body.append(
                f'<text x="{x + slot / 2:.1f}" y="{top + plot_h + 14}" text-anchor="middle">{escape(name)}</text>'
            )
        if len(points) <= 12 and value:
            body.append(
                f'<text x="{x + slot / 2:.1f}" y="{top + plot_h - bar_h - 3:.1f}" text-anchor="middle">{value}</text>'
            )
    return _svg(height, label, body)


def shares(points: list[tuple[str, float | None]], label: str) -> Markup:
    """Horizontal bars of a share (0..1) per name; a name with nothing to judge says "-"."""
    left, row = 150, 24
    height = max(len(points), 1) * row + 24
    plot_w = WIDTH - left - 60
    body = [f'<line x1="{left}" y1="4" x2="{left}" y2="{height - 18}" stroke="#333"/>']
    for tick in (0, 0.5, 1):
        x = left + plot_w * tick
        body.append(f'<text x="{x:.1f}" y="{height - 4}" text-anchor="middle">{int(tick * 100)}%</text>')
    for index, (name, share) in enumerate(points):
        y = 4 + index * row
        body.append(f'<text x="{left - 6}" y="{y + 15}" text-anchor="end">{escape(name[:22])}</text>')
        if share is None:
            body.append(f'<text x="{left + 6}" y="{y + 15}">-</text>')
            continue
        width = plot_w * share
        body.append(
            f'<rect x="{left}" y="{y + 3}" width="{width:.1f}" height="{row - 8}" fill="{BAR}">'
            f"<title>{escape(name)}: {share:.0%}</title></rect>"
            f'<rect x="{left + width:.1f}" y="{y + 3}" width="{plot_w - width:.1f}" height="{row - 8}" '
            f'fill="none" stroke="{LATE}" stroke-dasharray="2 2"/>'
            f'<text x="{left + plot_w + 6}" y="{y + 15}">{share:.0%}</text>'
        )
    return _svg(height, label, body)


def heat_map(grid: list[list[int]], days: list[str], label: str) -> Markup:
    """A weekday (rows) x hour (columns) grid, darker for more SMS; the busiest cells show their number."""
    left, top, cell_w, cell_h = 70, 18, (WIDTH - 74) / 24, 26
    height = top + 7 * cell_h + 6
    peak = max((max(row) for row in grid), default=0) or 1
    strong = sorted((v for row in grid for v in row), reverse=True)[:8]
    body = []
    for hour in range(0, 24, 2):
        body.append(f'<text x="{left + (hour + 0.5) * cell_w:.1f}" y="12" text-anchor="middle">{hour:02d}</text>')
    for d, row in enumerate(grid):
        y = top + d * cell_h
        body.append(f'<text x="{left - 6}" y="{y + 17}" text-anchor="end">{escape(days[d])}</text>')
        for hour, value in enumerate(row):
            level = value / peak
            # from white to dark blue: lightness falls with the count, so greys print in order
            shade = 255 - int(level * 200)
            fill = f"rgb({shade - int(level * 40)},{shade - int(level * 10)},255)" if value else "#f4f4f4"
            x = left + hour * cell_w
            body.append(
                f'<rect x="{x:.1f}" y="{y}" width="{cell_w - 1:.1f}" height="{cell_h - 2}" fill="{fill}" '
                f'stroke="#ddd"><title>{escape(days[d])} {hour:02d}.00: {value}</title></rect>'
            )
            if value and value in strong and level > 0.5:
                color = "#fff" if level > 0.6 else "#000"
                body.append(
                    f'<text x="{x + cell_w / 2:.1f}" y="{y + 16}" text-anchor="middle" fill="{color}" '
                    f'font-size="9">{value}</text>'
                )
    return _svg(int(height), label, body)
