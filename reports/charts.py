"""Charts for the report pages, drawn on the server as one inline ``<svg>`` each: no script,
no external file, nothing the Content-Security-Policy refuses (no ``style=``; colours come
from the classes in ``static/css/reports.css``).

Every chart scales to its box (a ``viewBox`` and ``width="100%"``). The drawing is
``WIDTH`` units wide with text of ``FONT`` units: shrunk into a card on a phone (about 320px
wide) its text still measures about 11px, and on a wide screen the chart stops growing at
40rem (reports.css) so its text stays near the page's own. It names itself to a screen reader (``role="img"``, its
``<title>`` and ``<desc>``), each bar or cell says its value on hover (a ``<title>``), and
every word from the data (a session type's title, a coach's name) is escaped.
"""

from __future__ import annotations

import html
import math
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext

from config.numbers import format_percent

WIDTH = 640
FONT = 22  # the font-size of .chart in reports.css; the layout below measures text with it
PALETTE = 8  # chart-s0 … chart-s7
HEAT_LEVELS = 6  # chart-heat-0 … chart-heat-5
MAX_AXIS_LINES = 5
LINE = 32  # one line of text
GAP = 12  # between two labels side by side
ELLIPSIS = "…"
SLUG = re.compile(r"[A-Za-z0-9_-]+")

Number = int | float | Decimal


@dataclass(frozen=True)
class Series:
    """One measure drawn across the categories of a bar chart (e.g. paid bookings per day).

    ``css`` picks its colour class: ``"s3"`` (or ``"chart-s3"``) draws it as ``chart-s3``;
    empty, the series takes the palette's colour at its position.
    """

    label: str
    values: Sequence[Number]
    css: str = ""


# Values and text


def format_value(value: Number | None, *, percent: bool = False, unit: str = "") -> str:
    """A value as the charts write it: whole numbers without decimals, others to one decimal,
    a share (0..1) as a whole percent; the unit after it. Nothing below zero is shown."""
    number = _number(value)
    text = format_percent(number * 100) if percent else f"{number:.1f}".removesuffix(".0")
    return f"{text} {unit}" if unit else text


def _number(value: Number | None) -> float:
    """A value to draw: missing, not a number or negative counts as nothing."""
    if value is None:
        return 0.0
    try:
        number = float(value)
    except ValueError:
        return 0.0
    return number if math.isfinite(number) and number > 0 else 0.0


_EM_WIDTHS = (
    (frozenset("ijlI.,'· "), 0.32),
    (frozenset("ftr:;!|()[]/-"), 0.42),
    (frozenset("<>#&"), 0.84),
    (frozenset("mwMW%@—…"), 1.0),
)


def _text_width(text: str) -> float:
    """About how wide a line of text is drawn, measured against a wide sans-serif (DejaVu
    Sans), so labels never run into each other in a narrower font either."""
    em = 0.0
    for char in text:
        for chars, width in _EM_WIDTHS:
            if char in chars:
                em += width
                break
        else:
            if unicodedata.east_asian_width(char) in ("W", "F"):
                em += 1.0
            elif char.isupper():
                em += 0.74
            else:
                em += 0.64
    return em * FONT


def _fit(text: str, width: float) -> str:
    """The text cut to the width, with "…" when cut (the whole text stays in a title)."""
    if _text_width(text) <= width:
        return text
    while text and _text_width(text.rstrip() + ELLIPSIS) > width:
        text = text[:-1]
    return text.rstrip() + ELLIPSIS


# SVG pieces


def escape(text: object) -> str:
    """``text`` as markup (what django.utils.html.escape does, without its lazy wrapper: a
    chart escapes thousands of attributes)."""
    return html.escape(str(text))


def _n(number: float) -> str:
    """A coordinate, to the hundredth of a unit."""
    text = f"{number:.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _attrs(attrs: dict[str, object]) -> str:
    parts = []
    for name, value in attrs.items():
        if value is None:
            continue
        shown = _n(value) if isinstance(value, float) else str(value)
        parts.append(f' {name}="{escape(shown)}"')
    return "".join(parts)


def _element(tag: str, attrs: dict[str, object], content: str = "") -> str:
    """One element; ``content`` is markup already built (every text in it escaped)."""
    return f"<{tag}{_attrs(attrs)}>{content}</{tag}>" if content else f"<{tag}{_attrs(attrs)}/>"


def _text(x: float, y: float, cls: str, text: str, extra: str = "") -> str:
    return _element("text", {"class": cls, "x": float(x), "y": float(y)}, escape(text) + extra)


def _title(text: str) -> str:
    return f"<title>{escape(text)}</title>"


def _rect(x: float, y: float, width: float, height: float, cls: str, title: str = "") -> str:
    attrs = {"class": cls, "x": float(x), "y": float(y), "width": float(max(width, 0)), "height": float(max(height, 0))}
    return _element("rect", attrs, _title(title) if title else "")


def _line(x1: float, y1: float, x2: float, y2: float, cls: str) -> str:
    return _element("line", {"class": cls, "x1": float(x1), "y1": float(y1), "x2": float(x2), "y2": float(y2)})


def _baseline(middle: float) -> float:
    """Where to write a line of text so that it sits centred on ``middle``."""
    return middle + FONT * 0.35


def _svg(chart_id: str, kind: str, height: float, *, title: str, description: str, body: str) -> SafeString:
    """The chart's ``<svg>``: its ids made from ``chart_id`` so two charts on a page never
    share one, and its title and description read out in place of the drawing."""
    prefix = f"chart-{chart_id}"
    attrs = {
        "xmlns": "http://www.w3.org/2000/svg",
        "class": f"chart {kind}",
        "viewBox": f"0 0 {WIDTH} {_n(math.ceil(height))}",
        "width": "100%",
        "role": "img",
        "aria-labelledby": f"{prefix}-title {prefix}-desc",
    }
    head = _element("title", {"id": f"{prefix}-title"}, escape(title)) + _element(
        "desc", {"id": f"{prefix}-desc"}, escape(description)
    )
    return mark_safe(f"<svg{_attrs(attrs)}>{head}{body}</svg>")  # noqa: S308 - every text in it is escaped


def _empty(chart_id: str, kind: str, *, title: str, description: str) -> SafeString:
    """A chart with nothing to draw still takes its place, saying so in words."""
    message = gettext("No data for this range")
    height = 120
    body = _rect(1, 1, WIDTH - 2, height - 2, "chart-empty-frame") + _text(
        WIDTH / 2, _baseline(height / 2), "chart-empty chart-middle", message
    )
    return _svg(chart_id, f"{kind} chart-is-empty", height, title=title, description=description or message, body=body)


def _check_id(chart_id: str) -> None:
    if not SLUG.fullmatch(chart_id):
        raise ValueError(f"chart_id must be a slug (letters, digits, - and _), not {chart_id!r}")


def _series_class(series: Series, index: int) -> str:
    css = series.css.removeprefix("chart-")
    if not css:
        return f"chart-s{index % PALETTE}"
    if not SLUG.fullmatch(css):
        raise ValueError(f"a series' css must be a class suffix, not {series.css!r}")
    return f"chart-{css}"


def _nice_axis(top: float, *, whole: bool, percent: bool) -> tuple[float, int]:
    """The step and number of gridlines above zero: the smallest step of 1, 2 or 5 × 10ⁿ
    that reaches ``top`` in at most five lines — whole steps for counts, whole percents for
    shares, tenths otherwise (what one decimal can tell apart) — so the lines fall on round
    numbers that are all written differently."""
    least = 1.0 if whole else 0.01 if percent else 0.1
    exponent = math.floor(math.log10(top / MAX_AXIS_LINES))
    while True:
        for mantissa in (1, 2, 5):
            step = mantissa * 10.0**exponent
            lines = math.ceil(top / step - 1e-9)
            if step >= least and lines <= MAX_AXIS_LINES:
                return step, max(lines, 1)
        exponent += 1


def _legend(items: Sequence[tuple[str, str]], top: float) -> tuple[str, float]:
    """Swatches with their series' names, wrapped onto as many lines as they need; returns
    the markup and the height it takes."""
    swatch = 18
    parts: list[str] = []
    x, y = 0.0, top
    for label, cls in items:
        label = _fit(label, WIDTH - swatch - 8)
        width = swatch + 8 + _text_width(label)
        if x > 0 and x + width > WIDTH:
            x, y = 0.0, y + LINE
        parts.append(_rect(x, y + (LINE - swatch) / 2, swatch, swatch, f"chart-swatch {cls}"))
        parts.append(_text(x + swatch + 8, _baseline(y + LINE / 2), "chart-label", label))
        x += width + GAP * 2
    return "".join(parts), y + LINE - top


# The charts


def bar_chart(
    chart_id: str,
    categories: Sequence[str],
    series: Sequence[Series],
    *,
    title: str,
    description: str = "",
    stacked: bool = True,
    unit: str = "",
    percent: bool = False,
    max_labels: int = 12,
) -> SafeString:
    """Vertical bars, one place per category (a day, a week, a month), the series stacked or
    side by side, over an axis of round numbers. Only every nth category is named below
    when there are many; every bar names its category, series and value on hover."""
    _check_id(chart_id)
    names = [str(category) for category in categories]
    for one in series:
        if len(one.values) != len(names):
            raise ValueError(f"series {one.label!r} has {len(one.values)} values for {len(names)} categories")
    labels = [str(one.label) for one in series]
    classes = [_series_class(one, index) for index, one in enumerate(series)]
    data = [[_number(value) for value in one.values] for one in series]
    columns = list(zip(*data, strict=True)) if data else []
    heights = [sum(column) if stacked else max(column) for column in columns]
    top = max(heights, default=0.0)
    if top <= 0:
        return _empty(chart_id, "chart-bars", title=title, description=description)

    def shown(value: float, *, with_unit: bool = True) -> str:
        return format_value(value, percent=percent, unit=unit if with_unit else "")

    if not description:
        best = max(range(len(names)), key=heights.__getitem__)
        place = names[best]
        if not stacked and len(series) > 1:
            row = max(range(len(series)), key=lambda index: data[index][best])
            place = f"{place} — {labels[row]}"
        description = gettext("%(first)s to %(last)s. Highest: %(place)s, %(value)s.") % {
            "first": names[0],
            "last": names[-1],
            "place": place,
            "value": shown(top),
        }

    parts: list[str] = []
    y = 0.0
    if len(series) > 1:
        legend, used = _legend(list(zip(labels, classes, strict=True)), y)
        parts.append(legend)
        y += used + 8
    if unit:
        parts.append(_text(0, _baseline(y + LINE / 2), "chart-caption", _fit(unit, WIDTH)))
        y += LINE
    y += FONT / 2 + 4  # the top gridline's number stands half above it

    whole = not percent and all(value == int(value) for row in data for value in row)
    step, lines = _nice_axis(top, whole=whole, percent=percent)
    scale = step * lines
    ticks = [shown(step * index, with_unit=False) for index in range(lines + 1)]
    left = max(_text_width(tick) for tick in ticks) + GAP
    plot_height = 260.0
    base = y + plot_height
    right = WIDTH - 2
    for index, tick in enumerate(ticks):
        level = base - plot_height * index / lines
        if index:
            parts.append(_line(left, level, right, level, "chart-grid"))
        parts.append(_text(left - 8, _baseline(level), "chart-label chart-end", tick))

    slot = (right - left) / len(names)
    group = min(slot * (0.72 if stacked else 0.84), 72.0 if stacked else 36.0 * len(series))
    for place, name in enumerate(names):
        start = left + place * slot + (slot - group) / 2
        stack = base
        for row, values in enumerate(data):
            value = values[place]
            if value <= 0:
                continue
            height = plot_height * value / scale
            hover = f"{name} — {labels[row]}: {shown(value)}"
            if stacked:
                stack -= height
                parts.append(_rect(start, stack, group, height, f"chart-bar {classes[row]}", hover))
            else:
                width = group / len(series)
                parts.append(
                    _rect(start + row * width, base - height, width, height, f"chart-bar {classes[row]}", hover)
                )
    parts.append(_line(left, base, right, base, "chart-axis"))

    every = max(1, math.ceil(len(names) / max(max_labels, 1)))
    widest = max(_text_width(name) for name in names)
    while every < len(names) and widest + GAP > every * slot and every * slot < 160:
        every += 1
    room = every * slot - GAP
    end = -GAP  # where the label before ends
    for place in range(0, len(names), every):
        # Each label keeps after the one before and within its own share of the axis (the
        # last may reach the edge), so moving one in from an edge never runs it into another.
        center = left + (place + 0.5) * slot
        low = end + GAP
        high = float(WIDTH) if place + every >= len(names) else center + room / 2
        label = _fit(names[place], min(room, high - low))
        half = _text_width(label) / 2
        middle = min(max(center, low + half), high - half)
        end = middle + half
        parts.append(_text(middle, base + 8 + FONT, "chart-label chart-middle", label))

    return _svg(chart_id, "chart-bars", base + 8 + FONT + 10, title=title, description=description, body="".join(parts))


def heatmap(
    chart_id: str,
    rows: Sequence[str],
    columns: Sequence[str],
    values: Sequence[Sequence[Number]],
    *,
    title: str,
    description: str = "",
    unit: str = "",
) -> SafeString:
    """A grid (weekdays × hours, say) whose cells are shaded in six steps by their value
    against the largest: an empty cell in the lightest, the busiest in the darkest. Rows
    are named on the left, columns on top (as many as fit), every cell on hover."""
    _check_id(chart_id)
    row_names = [str(row) for row in rows]
    column_names = [str(column) for column in columns]
    if len(values) != len(row_names) or any(len(line) != len(column_names) for line in values):
        raise ValueError(f"values must be {len(row_names)} rows of {len(column_names)} columns")
    grid = [[_number(value) for value in line] for line in values]
    top = max((value for line in grid for value in line), default=0.0)
    if top <= 0:
        return _empty(chart_id, "chart-heatmap", title=title, description=description)

    if not description:
        row, column = max(
            ((r, c) for r in range(len(grid)) for c in range(len(column_names))), key=lambda at: grid[at[0]][at[1]]
        )
        description = gettext("Highest: %(row)s %(column)s, %(value)s.") % {
            "row": row_names[row],
            "column": column_names[column],
            "value": format_value(top, unit=unit),
        }

    label_room = WIDTH * 0.3
    left = min(max(_text_width(name) for name in row_names), label_room) + GAP
    cell_width = (WIDTH - left - 2) / len(column_names)
    cell_height = max(LINE, min(cell_width, 44.0))
    grid_top = LINE + 6

    parts: list[str] = []
    widest = max(_text_width(name) for name in column_names)
    every = max(1, math.ceil((widest + GAP / 2) / cell_width))
    share = every * cell_width - GAP / 2
    end = -GAP / 2  # where the label before ends
    for index in range(0, len(column_names), every):
        # As on the bar chart's axis: each label after the one before and within its own
        # share, the last free to reach the edge but never past it.
        center = left + (index + 0.5) * cell_width
        low = end + GAP / 2
        high = float(WIDTH) if index + every >= len(column_names) else center + share / 2
        label = _fit(column_names[index], min(share, high - low))
        half = _text_width(label) / 2
        middle = min(max(center, low + half), high - half)
        end = middle + half
        parts.append(_text(middle, _baseline(LINE / 2), "chart-label chart-middle", label))

    for r, line in enumerate(grid):
        y = grid_top + r * cell_height
        parts.append(
            _text(left - 8, _baseline(y + cell_height / 2), "chart-label chart-end", _fit(row_names[r], label_room))
        )
        for c, value in enumerate(line):
            hover = f"{row_names[r]} {column_names[c]}: {format_value(value, unit=unit)}"
            level = _heat_level(value, top)
            x = left + c * cell_width
            parts.append(_rect(x + 1, y + 1, cell_width - 2, cell_height - 2, f"chart-cell chart-heat-{level}", hover))

    key_top = grid_top + len(grid) * cell_height + 12
    middle = key_top + LINE / 2
    fewer, more = gettext("fewer"), gettext("more")
    x = left
    parts.append(_text(x, _baseline(middle), "chart-caption", fewer))
    x += _text_width(fewer) + 8
    swatch = 20
    for level in range(HEAT_LEVELS):
        parts.append(_rect(x, middle - swatch / 2, swatch, swatch, f"chart-swatch chart-heat-{level}"))
        x += swatch + 4
    parts.append(_text(x + 4, _baseline(middle), "chart-caption", more))
    x += 4 + _text_width(more) + GAP
    highest = gettext("highest: %(value)s") % {"value": format_value(top, unit=unit)}
    height = key_top + LINE
    if x + _text_width("· " + highest) > WIDTH:
        x, middle = left, middle + LINE
        height += LINE
    else:
        highest = "· " + highest
    parts.append(_text(x, _baseline(middle), "chart-caption", _fit(highest, WIDTH - x)))

    return _svg(chart_id, "chart-heatmap", height + 4, title=title, description=description, body="".join(parts))


def _heat_level(value: float, top: float) -> int:
    """Nothing is level 0, the largest value level 5, and the rest fall in even fifths."""
    if value <= 0:
        return 0
    return min(HEAT_LEVELS - 1, max(1, math.ceil(value / top * (HEAT_LEVELS - 1) - 1e-9)))


def hbar_chart(
    chart_id: str,
    labels: Sequence[str],
    values: Sequence[Number],
    *,
    title: str,
    description: str = "",
    unit: str = "",
    percent: bool = False,
    notes: Sequence[str] | None = None,
) -> SafeString:
    """Horizontal bars, one per label (the steps of the booking funnel, revenue per session
    type), each label on its own line above its bar so a long title reads on a phone, the
    value written at the bar's end with its note. Shares are drawn against 100%."""
    _check_id(chart_id)
    names = [str(label) for label in labels]
    amounts = [_number(value) for value in values]
    remarks = [str(note) for note in notes] if notes is not None else [""] * len(names)
    if len(amounts) != len(names) or len(remarks) != len(names):
        raise ValueError(f"hbar_chart needs as many values and notes as labels ({len(names)})")
    top = max(amounts, default=0.0)
    if top <= 0:
        return _empty(chart_id, "chart-hbars", title=title, description=description)

    shown = [format_value(amount, percent=percent, unit=unit) for amount in amounts]
    if not description:
        description = "; ".join(
            f"{name}: {value}, {remark}" if remark else f"{name}: {value}"
            for name, value, remark in zip(names, shown, remarks, strict=True)
        )

    separator = " · "
    sizes = [
        _text_width(value + (separator + remark if remark else ""))
        for value, remark in zip(shown, remarks, strict=True)
    ]
    scale = max(top, 1.0) if percent else top
    room = WIDTH - 2.0
    for amount, size in zip(amounts, sizes, strict=True):
        if amount > 0:
            room = min(room, (WIDTH - 8 - size) * scale / amount)
    room = max(room, WIDTH * 0.5)
    bar_height = 28.0
    row_height = LINE + bar_height + 14

    parts: list[str] = []
    for index, name in enumerate(names):
        y = index * row_height
        parts.append(_text(0, _baseline(y + LINE / 2), "chart-label", _fit(name, WIDTH)))
        bar_top = y + LINE
        length = room * amounts[index] / scale
        hover = f"{name}: {shown[index]}" + (f", {remarks[index]}" if remarks[index] else "")
        parts.append(_rect(0, bar_top, length, bar_height, "chart-bar chart-s0", hover))

        text_y = _baseline(bar_top + bar_height / 2)
        # (a hair of tolerance: the longest bar is made just short enough for its value to
        # follow it, and rounding must not move that value inside for one amount in many)
        if length + 8 + sizes[index] <= WIDTH + 1e-6 or sizes[index] + 16 > length:
            x, value_class, note_class = length + 8 if length else 0, "chart-value", "chart-note"
            remark = remarks[index]
            if remark:
                remark = _fit(remark, WIDTH - x - _text_width(shown[index] + separator))
        else:
            x, value_class, note_class = length - 8, "chart-value chart-value-in chart-end", "chart-value-in"
            remark = remarks[index]
        note = _element("tspan", {"class": note_class}, escape(separator + remark)) if remark else ""
        parts.append(_text(x, text_y, value_class, shown[index], note))

    height = len(names) * row_height
    return _svg(chart_id, "chart-hbars", height, title=title, description=description, body="".join(parts))
