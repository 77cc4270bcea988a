"""Charts drawn on the server as SVG: no script, no CDN, no inline style (the CSP allows
none); only SVG attributes. The numbers are the table under each chart."""

from dataclasses import dataclass

WIDTH = 640
LABEL_WIDTH = 220
BAR = 22
GAP = 10


@dataclass
class Bar:
    label: str
    value: float
    x: float
    y: float
    width: float
    height: float
    text_x: float
    text_y: float


@dataclass
class Chart:
    width: int
    height: int
    bars: list[Bar]
    points: str = ""  # a polyline's "x,y x,y ..."
    axis_y: float = 0
    label_x: float = LABEL_WIDTH - 8


def _scale(values: list[float], room: float) -> float:
    top = max((v for v in values if v), default=0)
    return room / top if top else 0


def horizontal_bars(rows: list[tuple[str, float | None]], *, top: float | None = None) -> Chart:
    """One bar per row, the label left of it and the value at its end; `top` is a full
    bar's value (shares: 100), else the largest value."""
    values = [value or 0 for _, value in rows]
    room = WIDTH - LABEL_WIDTH - 60
    scale = room / top if top else _scale(values, room)
    bars = []
    for i, ((label, _), value) in enumerate(zip(rows, values, strict=True)):
        y = GAP + i * (BAR + GAP)
        width = max(value * scale, 1 if value else 0)
        bars.append(
            Bar(
                label,
                value,
                LABEL_WIDTH,
                y,
                round(width, 1),
                BAR,
                round(LABEL_WIDTH + width + 6, 1),
                y + BAR * 0.7,
            )
        )
    return Chart(WIDTH, GAP + len(rows) * (BAR + GAP), bars)


def columns(rows: list[tuple[str, float | None]], *, height: int = 220) -> Chart:
    """Vertical bars side by side, the label under each and its value above it."""
    values = [value or 0 for _, value in rows]
    plot = height - 50
    scale = _scale(values, plot - 20)
    slot = WIDTH / max(len(rows), 1)
    bars = []
    for i, ((label, _), value) in enumerate(zip(rows, values, strict=True)):
        h = value * scale
        x = i * slot + slot * 0.15
        bars.append(
            Bar(
                label,
                value,
                round(x, 1),
                round(plot - h, 1),
                round(slot * 0.7, 1),
                round(h, 1),
                round(i * slot + slot / 2, 1),
                round(plot - h - 5, 1),
            )
        )
    return Chart(WIDTH, height, bars, axis_y=plot)


def line(rows: list[tuple[str, float | None]], *, height: int = 220) -> Chart:
    """A line through the rows' values (gaps skipped), a dot and label at each point."""
    chart = columns(rows, height=height)
    points = [f"{bar.text_x},{bar.y}" for bar, (_, value) in zip(chart.bars, rows, strict=True)]
    chart.points = " ".join(
        p for p, (_, value) in zip(points, rows, strict=True) if value is not None
    )
    return chart
