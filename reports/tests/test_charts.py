"""The report charts (reports/charts.py) read as XML: one well-formed ``<svg>`` each that
names itself, bars and cells drawn to scale and saying their values, text from the data
escaped and kept inside the drawing, no inline style, and only classes reports.css knows."""

from __future__ import annotations

import itertools
import math
import re
import xml.etree.ElementTree as ET
from decimal import Decimal
from pathlib import Path

import pytest
from django.utils import translation
from django.utils.safestring import SafeString

from reports import charts
from reports.charts import WIDTH, Series, bar_chart, format_value, hbar_chart, heatmap

SVG = "{http://www.w3.org/2000/svg}"
CSS = Path(__file__).resolve().parents[2] / "static" / "css" / "reports.css"
NASTY = "Free <intro> & more"
DAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
HOURS = [f"{hour:02d}" for hour in range(24)]
# Classes that mark what a chart is (for a page or a test to find it) and draw nothing
# themselves: a swatch takes its colour from its series or heat class beside it.
MARKERS = {"chart-bars", "chart-heatmap", "chart-hbars", "chart-is-empty", "chart-swatch"}
EPSILON = 0.02  # coordinates are written to the hundredth


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


# Reading the output


def parse(svg: str) -> ET.Element:
    root = ET.fromstring(str(svg))  # raises on anything that is not well-formed XML
    assert root.tag == f"{SVG}svg"
    return root


def find(root: ET.Element, tag: str, cls: str | None = None) -> list[ET.Element]:
    return [el for el in root.iter(f"{SVG}{tag}") if cls is None or cls in classes(el)]


def classes(el: ET.Element) -> list[str]:
    return el.get("class", "").split()


def text(el: ET.Element) -> str:
    return "".join(el.itertext())


def hover(el: ET.Element) -> str:
    title = el.find(f"{SVG}title")
    assert title is not None, f"{el.tag} {el.attrib} has no title"
    return title.text or ""


def num(el: ET.Element, name: str) -> float:
    return float(el.get(name))


def bars(root: ET.Element) -> dict[str, ET.Element]:
    """Every bar by its hover text."""
    found = {hover(rect): rect for rect in find(root, "rect", "chart-bar")}
    assert len(found) == len(find(root, "rect", "chart-bar")), "two bars say the same"
    return found


def box(rect: ET.Element) -> tuple[float, float, float, float]:
    return num(rect, "x"), num(rect, "y"), num(rect, "width"), num(rect, "height")


def view_box(root: ET.Element) -> tuple[float, float]:
    x, y, width, height = (float(part) for part in root.get("viewBox").split())
    assert (x, y) == (0, 0)
    return width, height


def text_span(el: ET.Element) -> tuple[float, float]:
    """From where to where a text is drawn across, by its anchor and measured width."""
    x, width = num(el, "x"), charts._text_width(text(el))
    if "chart-end" in classes(el):
        return x - width, x
    if "chart-middle" in classes(el):
        return x - width / 2, x + width / 2
    return x, x + width


def assert_text_fits(root: ET.Element) -> None:
    """No text runs out of the drawing, and no two texts on one line run into each other."""
    width, height = view_box(root)
    placed = []
    for el in find(root, "text"):
        start, end = text_span(el)
        assert start >= -EPSILON and end <= width + EPSILON, f"{text(el)!r} runs out: {start:.1f}–{end:.1f}"
        assert 0 < num(el, "y") <= height, f"{text(el)!r} is below the drawing"
        placed.append((num(el, "y"), start, end, text(el)))
    for (y1, start1, end1, one), (y2, start2, end2, other) in itertools.combinations(placed, 2):
        if abs(y1 - y2) < 1:
            assert end1 <= start2 + EPSILON or end2 <= start1 + EPSILON, f"{one!r} runs into {other!r}"


def assert_shapes_inside(root: ET.Element) -> None:
    width, height = view_box(root)
    for rect in find(root, "rect"):
        x, y, w, h = box(rect)
        assert x >= 0 and y >= 0 and w >= 0 and h >= 0, rect.attrib
        assert x + w <= width + EPSILON and y + h <= height + EPSILON, rect.attrib
    for line in find(root, "line"):
        for name in ("x1", "x2"):
            assert 0 <= num(line, name) <= width + EPSILON, line.attrib
        for name in ("y1", "y2"):
            assert 0 <= num(line, name) <= height + EPSILON, line.attrib


def css_classes() -> set[str]:
    source = re.sub(r"/\*.*?\*/", "", CSS.read_text(encoding="utf-8"), flags=re.S)
    return set(re.findall(r"\.(-?[_a-zA-Z][_a-zA-Z0-9-]*)", source))


# Every kind of chart, for the checks that hold for all of them


def sample_charts() -> dict[str, str]:
    weeks = [f"Week of {day} Mar" for day in range(1, 14)]
    return {
        "bars": bar_chart("volume", DAYS, [Series("Paid", [3, 5, 0, 10, 2, 1, 4])], title="Bookings"),
        "bars-stacked": bar_chart(
            "stacked",
            DAYS,
            [Series(f"Status {index}", [index, 2, 0, 1, 3, index, 1]) for index in range(9)],
            title="By status",
            unit="bookings",
        ),
        "bars-grouped": bar_chart(
            "grouped",
            weeks,
            [Series("Booked", [120.5 * (i % 4) for i in range(13)], "s1"), Series("Forecast", [99.9] * 13, "s3")],
            title="Forecast",
            stacked=False,
            unit="EUR",
        ),
        "bars-percent": bar_chart(
            "utilisation",
            weeks,
            [Series("Utilisation", [i / 13 for i in range(13)], "chart-s1")],
            title="U",
            percent=True,
        ),
        "bars-many": bar_chart("days", [f"Mon {day} Mar" for day in range(1, 32)], [Series("A", range(31))], title="D"),
        "heatmap": heatmap(
            "booked-times", DAYS, HOURS, [[(d * h) % 7 for h in range(24)] for d in range(7)], title="H"
        ),
        "heatmap-wide": heatmap(
            "wide",
            ["A weekday with a very long name indeed, longer than the room", "B"],
            [f"Wednesday {day} March 2026" for day in range(5)],
            [[1, 2, 3, 4, 5], [5, 4, 3, 2, 1]],
            title="W",
            unit="bookings",
        ),
        "hbars": hbar_chart(
            "funnel",
            ["Coach page", "Times", "Details", "Booked"],
            [100, 60, 30, 12],
            title="Funnel",
            notes=["", "60% of the step before", "50% of the step before", "40% of the step before"],
        ),
        "hbars-long": hbar_chart(
            "cancelled-by",
            ["The system (a payment not made in time) " * 3, "Coach"],
            [7, 0],
            title="Who cancelled",
            notes=["a note that is far too long to stand beside its bar in the room left " * 2, ""],
        ),
        "hbars-percent": hbar_chart("shares", ["New", "Returning"], [0.25, 0.75], title="Clients", percent=True),
        "bars-empty": bar_chart("nothing", DAYS, [Series("Paid", [0] * 7)], title="Bookings"),
        "heatmap-empty": heatmap("nothing", DAYS, HOURS, [[0] * 24 for _ in DAYS], title="H"),
        "hbars-empty": hbar_chart("nothing", [], [], title="Nothing"),
    }


SAMPLES = sample_charts()


@pytest.fixture(params=list(SAMPLES), ids=list(SAMPLES))
def sample(request) -> tuple[str, str]:
    return request.param, SAMPLES[request.param]


class TestEveryChart:
    def test_is_one_svg_that_names_itself(self, sample):
        _name, svg = sample
        assert isinstance(svg, SafeString)  # a template puts it in as it is
        assert svg.count("<svg") == 1 and svg.startswith("<svg") and svg.endswith("</svg>")
        root = parse(svg)
        assert root.get("role") == "img"
        assert root.get("width") == "100%"
        assert "height" not in root.attrib  # the viewBox keeps its proportions
        width, height = view_box(root)
        assert width == WIDTH and height > 0 and height == int(height)
        assert "chart" in classes(root)

        title, desc = root[0], root[1]
        assert (title.tag, desc.tag) == (f"{SVG}title", f"{SVG}desc")
        assert title.text and desc.text
        ids = {el.get("id"): el for el in root.iter() if el.get("id")}
        assert set(ids) == {title.get("id"), desc.get("id")}
        assert root.get("aria-labelledby").split() == [title.get("id"), desc.get("id")]

    def test_has_no_inline_style_nor_script(self, sample):
        _name, svg = sample
        root = parse(svg)
        for el in root.iter():
            assert "style" not in el.attrib, el.attrib
            assert not any(name.lower().startswith("on") for name in el.attrib), el.attrib
            assert el.tag not in (f"{SVG}style", f"{SVG}script", f"{SVG}foreignObject")
        assert "style=" not in svg

    def test_uses_only_classes_the_stylesheet_has(self, sample):
        _name, svg = sample
        used = {cls for el in parse(svg).iter() for cls in classes(el)}
        assert used - css_classes() <= MARKERS

    def test_keeps_its_text_and_shapes_inside_the_drawing(self, sample):
        _name, svg = sample
        root = parse(svg)
        assert_text_fits(root)
        assert_shapes_inside(root)

    def test_every_bar_and_cell_says_its_value(self, sample):
        _name, svg = sample
        for rect in find(parse(svg), "rect"):
            if {"chart-bar", "chart-cell"} & set(classes(rect)):
                assert re.search(r": \d+(\.\d)?%?( \w+)?(, .*)?$", hover(rect)), hover(rect)


class TestStylesheet:
    def test_has_every_series_and_heat_class(self):
        known = css_classes()
        assert {f"chart-s{index}" for index in range(charts.PALETTE)} <= known
        assert {f"chart-heat-{level}" for level in range(charts.HEAT_LEVELS)} <= known
        assert f"chart-s{charts.PALETTE}" not in known  # the palette wraps where the colours end
        assert f"chart-heat-{charts.HEAT_LEVELS}" not in known

    def test_draws_text_at_the_size_the_layout_measures(self):
        rule = re.search(r"^\.chart \{([^}]*)\}", CSS.read_text(encoding="utf-8"), flags=re.M)
        assert rule, "no .chart rule"
        assert re.search(rf"font-size:\s*{charts.FONT}px", rule.group(1))


class TestChartId:
    @pytest.mark.parametrize("chart_id", ["", "two words", 'a"b', "<svg>", "x/y", "café", "end\n", "a.b"])
    def test_refused_unless_a_slug(self, chart_id):
        for draw in (
            lambda: bar_chart(chart_id, ["a"], [Series("s", [1])], title="t"),
            lambda: heatmap(chart_id, ["a"], ["b"], [[1]], title="t"),
            lambda: hbar_chart(chart_id, ["a"], [1], title="t"),
        ):
            with pytest.raises(ValueError, match="chart_id"):
                draw()

    def test_refused_even_when_there_is_nothing_to_draw(self):
        with pytest.raises(ValueError, match="chart_id"):
            bar_chart("no good", [], [], title="t")

    def test_makes_the_ids_of_its_title_and_description(self):
        one = parse(bar_chart("one_1-a", ["a"], [Series("s", [1])], title="t"))
        other = parse(bar_chart("two", ["a"], [Series("s", [1])], title="t"))
        assert one.get("aria-labelledby") == "chart-one_1-a-title chart-one_1-a-desc"
        assert not {el.get("id") for el in one.iter()} - {None} & {el.get("id") for el in other.iter()}


class TestFormatValue:
    @pytest.mark.parametrize(
        ("value", "expected"),
        [
            (0, "0"),
            (3, "3"),
            (3.0, "3"),
            (1234567, "1234567"),
            (2.5, "2.5"),
            (2.26, "2.3"),
            (2.96, "3"),
            (0.04, "0"),
            (Decimal("12.50"), "12.5"),
            (Decimal("7.00"), "7"),
        ],
    )
    def test_whole_numbers_plainly_others_to_one_decimal(self, value, expected):
        assert format_value(value) == expected

    @pytest.mark.parametrize(
        ("value", "expected"), [(0, "0%"), (0.256, "26%"), (0.5, "50%"), (1, "100%"), (1.5, "150%"), (0.004, "0%")]
    )
    def test_shares_as_whole_percents(self, value, expected):
        assert format_value(value, percent=True) == expected

    def test_unit_after_the_number(self):
        assert format_value(12, unit="EUR") == "12 EUR"
        assert format_value(12.25, unit="h") == "12.2 h"
        assert format_value(0, unit="EUR") == "0 EUR"
        assert format_value(0.5, percent=True, unit="of visits") == "50% of visits"

    @pytest.mark.parametrize(
        "value", [-5, -0.01, Decimal("-3"), None, math.nan, math.inf, -math.inf, Decimal("NaN"), Decimal("sNaN")]
    )
    def test_nothing_below_zero_or_not_a_number(self, value):
        assert format_value(value) == "0"
        assert format_value(value, percent=True) == "0%"


class TestBarChart:
    def test_bars_are_as_tall_as_their_values(self):
        root = parse(bar_chart("b", ["Mon", "Tue", "Wed"], [Series("Paid", [10, 5, 2.5])], title="t"))
        found = bars(root)
        assert set(found) == {"Mon — Paid: 10", "Tue — Paid: 5", "Wed — Paid: 2.5"}
        ten, five, quarter = (num(found[key], "height") for key in found)
        assert ten == pytest.approx(2 * five, abs=EPSILON)
        assert five == pytest.approx(2 * quarter, abs=EPSILON)
        # All stand on the axis, side by side, as wide as each other.
        (axis,) = find(root, "line", "chart-axis")
        for rect in found.values():
            _x, y, _w, h = box(rect)
            assert y + h == pytest.approx(num(axis, "y1"), abs=EPSILON)
        xs = [num(rect, "x") for rect in found.values()]
        assert xs == sorted(xs) and len({num(rect, "width") for rect in found.values()}) == 1

    def test_axis_of_round_numbers_reaching_the_tallest_bar(self):
        root = parse(bar_chart("b", ["Mon", "Tue"], [Series("Paid", [10, 5])], title="t"))
        ticks = [text(el) for el in find(root, "text", "chart-end")]
        assert ticks == ["0", "2", "4", "6", "8", "10"]
        grid = sorted(num(line, "y1") for line in find(root, "line", "chart-grid"))
        assert len(grid) == 5
        tallest = bars(root)["Mon — Paid: 10"]
        assert num(tallest, "y") == pytest.approx(grid[0], abs=EPSILON)  # 10 reaches the top line

    @pytest.mark.parametrize(
        ("values", "percent", "ticks"),
        [
            ([0.5, 0.25], True, ["0%", "10%", "20%", "30%", "40%", "50%"]),
            ([0.3], False, ["0", "0.1", "0.2", "0.3"]),
            ([0.07], False, ["0", "0.1"]),
            ([1], False, ["0", "1"]),
            ([3], False, ["0", "1", "2", "3"]),
            ([1234], False, ["0", "500", "1000", "1500"]),
            ([0.004], True, ["0%", "1%"]),
        ],
    )
    def test_axis_steps(self, values, percent, ticks):
        svg = bar_chart("b", [str(i) for i in values], [Series("s", values)], title="t", percent=percent)
        assert [text(el) for el in find(parse(svg), "text", "chart-end")] == ticks

    @pytest.mark.parametrize("top", [0.07, 0.3, 0.55, 1.5, 2.5, 7, 12.5, 99, 101, 1234.5, 98765])
    def test_axis_numbers_all_differ_and_reach_the_top(self, top):
        for percent in (False, True):
            value = top / 100 if percent else top
            root = parse(bar_chart("b", ["a", "b"], [Series("s", [value, value / 3])], title="t", percent=percent))
            ticks = [text(el) for el in find(root, "text", "chart-end")]
            assert len(set(ticks)) == len(ticks) and 2 <= len(ticks) <= charts.MAX_AXIS_LINES + 1
            assert float(ticks[-1].rstrip("%")) >= float(format_value(value, percent=percent).rstrip("%"))

    def test_stacked_series_sit_one_on_another(self):
        root = parse(
            bar_chart("b", ["Mon", "Tue"], [Series("Paid", [4, 2]), Series("Free", [6, 3])], title="t", unit="h")
        )
        found = bars(root)
        assert set(found) == {"Mon — Paid: 4 h", "Mon — Free: 6 h", "Tue — Paid: 2 h", "Tue — Free: 3 h"}
        for day in ("Mon", "Tue"):
            paid, free = (
                box(found[f"{day} — Paid: {4 if day == 'Mon' else 2} h"]),
                box(found[f"{day} — Free: {6 if day == 'Mon' else 3} h"]),
            )
            assert paid[0] == free[0] and paid[2] == free[2]  # one column
            assert free[1] + free[3] == pytest.approx(paid[1], abs=EPSILON)  # free on top of paid
        mon = num(found["Mon — Paid: 4 h"], "height") + num(found["Mon — Free: 6 h"], "height")
        tue = num(found["Tue — Paid: 2 h"], "height") + num(found["Tue — Free: 3 h"], "height")
        assert mon == pytest.approx(2 * tue, abs=2 * EPSILON)
        assert num(found["Mon — Free: 6 h"], "height") == pytest.approx(
            1.5 * num(found["Mon — Paid: 4 h"], "height"), abs=EPSILON
        )
        # The axis reaches the sum (10), not the largest part (6).
        assert [text(el) for el in find(root, "text", "chart-end")][-1] == "10"

    def test_grouped_series_stand_side_by_side(self):
        root = parse(
            bar_chart("b", ["Mon", "Tue"], [Series("Paid", [4, 8]), Series("Free", [6, 2])], title="t", stacked=False)
        )
        found = bars(root)
        (axis,) = find(root, "line", "chart-axis")
        for day in ("Mon", "Tue"):
            paid, free = (box(rect) for key, rect in found.items() if key.startswith(day))
            assert paid[2] == free[2]
            assert free[0] == pytest.approx(paid[0] + paid[2], abs=EPSILON)  # next to it, not on it
            for x, y, w, h in (paid, free):
                assert y + h == pytest.approx(num(axis, "y1"), abs=EPSILON)
        assert num(found["Tue — Paid: 8"], "height") == pytest.approx(
            4 * num(found["Tue — Free: 2"], "height"), abs=EPSILON
        )
        # The axis reaches the tallest bar (8), not the sum of a day (10).
        assert [text(el) for el in find(root, "text", "chart-end")][-1] == "8"

    def test_bars_say_units_and_percents(self):
        assert set(bars(parse(bar_chart("b", ["W1"], [Series("U", [0.5])], title="t", percent=True)))) == {
            "W1 — U: 50%"
        }
        root = parse(bar_chart("b", ["W1"], [Series("Booked", [Decimal("120.50")])], title="t", unit="EUR"))
        assert set(bars(root)) == {"W1 — Booked: 120.5 EUR"}
        assert "EUR" in [text(el) for el in find(root, "text", "chart-caption")]

    def test_what_is_not_a_positive_number_draws_nothing(self):
        values = [10, -5, None, math.nan, math.inf, Decimal("NaN"), 0, 5]
        categories = [f"c{index}" for index in range(len(values))]
        root = parse(bar_chart("b", categories, [Series("s", values)], title="t"))
        found = bars(root)
        assert set(found) == {"c0 — s: 10", "c7 — s: 5"}
        assert num(found["c0 — s: 10"], "height") == pytest.approx(2 * num(found["c7 — s: 5"], "height"), abs=EPSILON)
        assert [text(el) for el in find(root, "text", "chart-end")][-1] == "10"

    def test_a_negative_part_of_a_stack_takes_nothing_away(self):
        # The forecast beyond what is booked is negative when the booked week is higher.
        root = parse(bar_chart("b", ["W1"], [Series("Booked", [10]), Series("More", [-4])], title="t"))
        assert set(bars(root)) == {"W1 — Booked: 10"}
        assert [text(el) for el in find(root, "text", "chart-end")][-1] == "10"

    @pytest.mark.parametrize(
        ("categories", "series"),
        [
            (DAYS, [Series("s", [0] * 7)]),
            (DAYS, [Series("s", [-1, None, math.nan, 0, 0, 0, 0])]),
            (DAYS, []),
            ([], [Series("s", [])]),
            ([], []),
        ],
    )
    def test_nothing_to_draw_says_so(self, categories, series):
        root = parse(bar_chart("b", categories, series, title="Bookings"))
        assert "chart-is-empty" in classes(root) and "chart-bars" in classes(root)
        assert [text(el) for el in find(root, "text", "chart-empty")] == ["No data for this range"]
        assert not find(root, "rect", "chart-bar") and not find(root, "line")
        assert find(root, "rect", "chart-empty-frame")
        assert root.find(f"{SVG}title").text == "Bookings"
        assert root.find(f"{SVG}desc").text == "No data for this range"

    def test_an_empty_chart_keeps_a_description_given(self):
        root = parse(bar_chart("b", DAYS, [Series("s", [0] * 7)], title="t", description="0 bookings."))
        assert root.find(f"{SVG}desc").text == "0 bookings."

    def test_describes_its_range_and_highest(self):
        root = parse(bar_chart("b", ["Mon", "Tue", "Wed"], [Series("s", [1, 3, 2]), Series("r", [1, 0, 4])], title="t"))
        assert root.find(f"{SVG}desc").text == "Mon to Wed. Highest: Wed, 6."
        grouped = bar_chart("b", ["Mon", "Tue"], [Series("s", [1, 3]), Series("r", [5, 0])], title="t", stacked=False)
        assert parse(grouped).find(f"{SVG}desc").text == "Mon to Tue. Highest: Mon — r, 5."
        given = bar_chart("b", ["Mon"], [Series("s", [1])], title="t", description="Given.")
        assert parse(given).find(f"{SVG}desc").text == "Given."

    def test_legend_only_for_several_series(self):
        one = parse(bar_chart("b", ["Mon"], [Series("Paid", [1])], title="t"))
        assert not find(one, "rect", "chart-swatch")
        many = parse(bar_chart("b", ["Mon"], [Series("Paid", [1], "s5"), Series("Free", [2])], title="t"))
        swatches = find(many, "rect", "chart-swatch")
        assert [classes(rect) for rect in swatches] == [["chart-swatch", "chart-s5"], ["chart-swatch", "chart-s1"]]
        labels = [text(el) for el in find(many, "text", "chart-label")]
        assert "Paid" in labels and "Free" in labels
        # The legend stands above the bars.
        assert max(num(rect, "y") + num(rect, "height") for rect in swatches) <= min(
            num(rect, "y") for rect in find(many, "rect", "chart-bar")
        )

    def test_a_long_legend_wraps(self):
        series = [Series(f"A rather long status name {index}", [1]) for index in range(6)]
        root = parse(bar_chart("b", ["Mon"], series, title="t"))
        rows = {num(rect, "y") for rect in find(root, "rect", "chart-swatch")}
        assert len(rows) > 1
        assert_text_fits(root)

    def test_a_name_too_long_for_the_legend_is_shortened(self):
        name = "Forecast beyond what is booked, in the weeks to come, at the average of the last eight " * 2
        root = parse(bar_chart("b", ["Mon"], [Series("Booked", [1]), Series(name, [2])], title="t"))
        shown = [text(el) for el in find(root, "text", "chart-label") if text(el).startswith("Forecast")]
        assert len(shown) == 1 and shown[0].endswith("…")
        assert_text_fits(root)
        assert f"Mon — {name}: 2" in bars(root)

    @pytest.mark.parametrize(("css", "expected"), [("s3", "chart-s3"), ("chart-s3", "chart-s3"), ("", "chart-s0")])
    def test_series_colour(self, css, expected):
        root = parse(bar_chart("b", ["Mon"], [Series("s", [1], css)], title="t"))
        assert classes(find(root, "rect", "chart-bar")[0]) == ["chart-bar", expected]

    def test_series_beyond_the_palette_start_it_again(self):
        series = [Series(f"s{index}", [1]) for index in range(charts.PALETTE + 2)]
        found = bars(parse(bar_chart("b", ["Mon"], series, title="t")))
        assert classes(found[f"Mon — s{charts.PALETTE}: 1"])[-1] == "chart-s0"
        assert classes(found[f"Mon — s{charts.PALETTE + 1}: 1"])[-1] == "chart-s1"

    @pytest.mark.parametrize("css", ["s1 evil", "s1;fill:red", 's1"', "chart-s1 chart-s2", "x/y"])
    def test_series_colour_must_be_a_class_suffix(self, css):
        with pytest.raises(ValueError, match="css"):
            bar_chart("b", ["Mon"], [Series("s", [1], css)], title="t")

    def test_series_must_have_a_value_per_category(self):
        with pytest.raises(ValueError, match="2 values for 3 categories"):
            bar_chart("b", ["a", "b", "c"], [Series("s", [1, 2])], title="t")

    def test_names_every_category_when_few(self):
        root = parse(bar_chart("b", DAYS, [Series("s", range(1, 8))], title="t"))
        assert [text(el) for el in find(root, "text", "chart-middle")] == DAYS

    def test_names_every_nth_category_when_many(self):
        names = [f"{day} Mar" for day in range(1, 32)]
        root = parse(bar_chart("b", names, [Series("s", range(31))], title="t", max_labels=10))
        shown = [text(el) for el in find(root, "text", "chart-middle")]
        assert 2 <= len(shown) <= 10
        assert shown[0] == names[0]
        every = names.index(shown[1])
        # Every nth, the last shortened when there is no room for the whole of it.
        assert len(shown) == len(names[::every])
        for label, name in zip(shown, names[::every], strict=True):
            assert label == name or (label.endswith("…") and name.startswith(label.removesuffix("…")))
        assert len(find(root, "rect", "chart-bar")) == 30  # every bar is drawn all the same
        assert_text_fits(root)

    @pytest.mark.parametrize("count", [1, 2, 4, 7, 10, 13, 26, 31, 53, 92])
    @pytest.mark.parametrize("label", ["{:02d}", "Mon {} Mar", "Week of {} Mar", "Wednesday {} March 2026, a long day"])
    def test_category_names_never_run_into_each_other(self, count, label):
        names = [label.format(index + 1) for index in range(count)]
        for values in (
            [index % 7 + 1 for index in range(count)],
            [(index * 37 % 11 + 1) * 10.5 for index in range(count)],
        ):
            root = parse(bar_chart("b", names, [Series("s", values)], title="t", unit="EUR"))
            assert_text_fits(root)
            for el in find(root, "text", "chart-middle"):
                assert text(el) in names or text(el).endswith("…")


class TestHeatmap:
    def test_levels_rise_with_the_value(self):
        values = list(range(11))
        root = parse(heatmap("h", ["Mon"], [str(v) for v in values], [values], title="t"))
        cells = find(root, "rect", "chart-cell")
        levels = [int(classes(cell)[-1].removeprefix("chart-heat-")) for cell in cells]
        assert levels == sorted(levels)
        assert levels[0] == 0 and levels[1] == 1 and levels[-1] == charts.HEAT_LEVELS - 1
        assert set(levels) == set(range(charts.HEAT_LEVELS))
        assert [hover(cell) for cell in cells] == [f"Mon {v}: {v}" for v in values]

    def test_the_largest_is_darkest_and_the_least_still_shows(self):
        grid = [[1, 10**10, 0], [10**10, -3, math.nan]]
        root = parse(heatmap("h", ["Mon", "Tue"], ["09", "10", "11"], grid, title="t", unit="bookings"))
        level = {hover(cell): classes(cell)[-1] for cell in find(root, "rect", "chart-cell")}
        assert level == {
            "Mon 09: 1 bookings": "chart-heat-1",
            "Mon 10: 10000000000 bookings": "chart-heat-5",
            "Mon 11: 0 bookings": "chart-heat-0",
            "Tue 09: 10000000000 bookings": "chart-heat-5",
            "Tue 10: 0 bookings": "chart-heat-0",
            "Tue 11: 0 bookings": "chart-heat-0",
        }

    def test_a_week_by_the_hour(self):
        grid = [[(day + 1) * (hour % 5) for hour in range(24)] for day in range(7)]
        root = parse(heatmap("booked-times", DAYS, HOURS, grid, title="Bookings by start time"))
        cells = find(root, "rect", "chart-cell")
        assert len(cells) == 7 * 24
        # One row per day, cells left to right, none overlapping and all the same size.
        rows = sorted({num(cell, "y") for cell in cells})
        assert len(rows) == 7
        assert len({(num(cell, "width"), num(cell, "height")) for cell in cells}) == 1
        first_row = [cell for cell in cells if num(cell, "y") == rows[0]]
        xs = [num(cell, "x") for cell in first_row]
        assert xs == sorted(xs) and all(b - a >= num(cells[0], "width") for a, b in itertools.pairwise(xs))
        # Days named on the left, hours on top.
        ends = [text(el) for el in find(root, "text", "chart-end")]
        assert ends == DAYS
        tops = [text(el) for el in find(root, "text", "chart-middle")]
        assert tops and tops[0] == "00" and all(name in HOURS for name in tops)
        top_of_grid = min(num(cell, "y") for cell in cells)
        assert all(num(el, "y") < top_of_grid for el in find(root, "text", "chart-middle"))
        # The key: the six shades in order, and the highest value.
        swatches = [classes(rect)[-1] for rect in find(root, "rect", "chart-swatch")]
        assert swatches == [f"chart-heat-{level}" for level in range(charts.HEAT_LEVELS)]
        captions = [text(el) for el in find(root, "text", "chart-caption")]
        assert captions == ["fewer", "more", "· highest: 28"]
        assert root.find(f"{SVG}desc").text == "Highest: Sun 04, 28."
        assert_text_fits(root)

    def test_long_names_are_shortened(self):
        row = "A weekday with a very long name indeed, longer than the room"
        root = parse(heatmap("h", [row, "B"], ["x"], [[1], [2]], title="t"))
        shown = text(find(root, "text", "chart-end")[0])
        assert shown.endswith("…") and row.startswith(shown.removesuffix("…").rstrip())
        assert charts._text_width(shown) <= WIDTH * 0.3
        assert hover(find(root, "rect", "chart-cell")[0]) == f"{row} x: 1"

    @pytest.mark.parametrize("count", [1, 2, 3, 4, 5, 6, 7, 9, 12, 24, 31, 48])
    @pytest.mark.parametrize("label", ["{:02d}", "{:02d}:00", "Week of {} Mar", "Wednesday {} March 2026, a long day"])
    def test_column_names_stay_inside_and_apart(self, count, label):
        columns = [label.format(index) for index in range(count)]
        grid = [[(row + column) % 4 for column in range(count)] for row in range(7)]
        assert_text_fits(parse(heatmap("h", DAYS, columns, grid, title="t")))

    @pytest.mark.parametrize(
        ("rows", "columns", "values"),
        [(DAYS, HOURS, [[0] * 24 for _ in DAYS]), (["a"], ["b"], [[-2]]), ([], HOURS, []), (DAYS, [], [[]] * 7)],
    )
    def test_nothing_to_draw_says_so(self, rows, columns, values):
        root = parse(heatmap("h", rows, columns, values, title="Times"))
        assert {"chart-heatmap", "chart-is-empty"} <= set(classes(root))
        assert [text(el) for el in find(root, "text", "chart-empty")] == ["No data for this range"]
        assert not find(root, "rect", "chart-cell")

    @pytest.mark.parametrize("values", [[[1, 2]], [[1, 2], [3]], [[1, 2], [3, 4], [5, 6]]])
    def test_values_must_fill_the_grid(self, values):
        with pytest.raises(ValueError, match="rows of"):
            heatmap("h", ["a", "b"], ["x", "y"], values, title="t")


class TestHbarChart:
    def test_bars_as_long_as_their_values(self):
        root = parse(hbar_chart("f", ["Coach page", "Times", "Booked"], [100, 50, 25], title="t", unit="visits"))
        found = bars(root)
        assert list(found) == ["Coach page: 100 visits", "Times: 50 visits", "Booked: 25 visits"]
        lengths = [num(rect, "width") for rect in found.values()]
        assert lengths[0] == pytest.approx(2 * lengths[1], abs=EPSILON)
        assert lengths[1] == pytest.approx(2 * lengths[2], abs=EPSILON)
        assert all(num(rect, "x") == 0 for rect in found.values())
        assert [text(el) for el in find(root, "text", "chart-label")] == ["Coach page", "Times", "Booked"]
        assert [text(el) for el in find(root, "text", "chart-value")] == ["100 visits", "50 visits", "25 visits"]
        # Each name on its own line above its bar, the value beside the bar's end.
        ys = [num(el, "y") for el in find(root, "text", "chart-label")]
        for label_y, rect, value in zip(ys, found.values(), find(root, "text", "chart-value"), strict=True):
            assert label_y < num(rect, "y")
            assert num(value, "x") >= num(rect, "width")
        assert root.find(f"{SVG}desc").text == "Coach page: 100 visits; Times: 50 visits; Booked: 25 visits"

    @pytest.mark.parametrize("unit", ["", "EUR", "bookings"])
    def test_the_value_always_follows_the_longest_bar(self, unit):
        # The longest bar is cut just short enough for its value to follow it; rounding
        # once drew "60 EUR" inside the bar where 59 and 61 stood after it.
        for amount in [*range(1, 400), 1234.5, 99999]:
            root = parse(hbar_chart("f", ["Revenue"], [amount], title="t", unit=unit))
            (rect,), (value,) = find(root, "rect", "chart-bar"), find(root, "text", "chart-value")
            assert classes(value) == ["chart-value"], (amount, unit)
            assert num(value, "x") >= num(rect, "width") + 8 - EPSILON
            assert text_span(value)[1] <= WIDTH + EPSILON

    def test_notes_follow_the_value(self):
        root = parse(hbar_chart("f", ["a", "b"], [10, 4], title="t", notes=["", "40% of the step before"]))
        values = find(root, "text", "chart-value")
        assert [text(el) for el in values] == ["10", "4 · 40% of the step before"]
        assert [text(el) for el in find(root, "tspan", "chart-note")] == [" · 40% of the step before"]
        assert list(bars(root)) == ["a: 10", "b: 4, 40% of the step before"]
        assert root.find(f"{SVG}desc").text == "a: 10; b: 4, 40% of the step before"

    def test_shares_are_drawn_against_the_whole(self):
        shares = [
            num(rect, "width")
            for rect in find(parse(hbar_chart("f", ["a", "b"], [0.5, 0.25], title="t", percent=True)), "rect")
        ]
        counts = [
            num(rect, "width") for rect in find(parse(hbar_chart("f", ["a", "b"], [0.5, 0.25], title="t")), "rect")
        ]
        assert shares[0] == pytest.approx(2 * shares[1], abs=EPSILON)
        assert shares[0] <= WIDTH / 2 + EPSILON  # half of 100%, not the longest bar there can be
        assert counts[0] > WIDTH * 0.7  # without percent, the largest is the longest bar
        full = find(parse(hbar_chart("f", ["a", "b"], [1, 0.5], title="t", percent=True)), "rect")
        assert num(full[0], "width") > WIDTH * 0.7

    def test_nothing_and_below_zero_draw_no_bar_but_say_zero(self):
        root = parse(hbar_chart("f", ["a", "b", "c", "d"], [10, 0, -3, None], title="t"))
        rects = find(root, "rect", "chart-bar")
        assert [num(rect, "width") for rect in rects[1:]] == [0, 0, 0]
        assert [text(el) for el in find(root, "text", "chart-value")] == ["10", "0", "0", "0"]

    def test_long_labels_and_notes_are_shortened_to_fit(self):
        label = "The system (a payment not made in time) " * 3
        note = "a note that is far too long to stand beside its bar in the room left " * 2
        root = parse(hbar_chart("f", [label, "Coach"], [7, 7], title="t", notes=[note, ""]))
        shown = text(find(root, "text", "chart-label")[0])
        assert shown.endswith("…") and label.startswith(shown.removesuffix("…"))
        assert charts._text_width(shown) <= WIDTH
        value = text(find(root, "text", "chart-value")[0])
        assert value.startswith("7 · a note") and value.endswith("…")
        # The whole of both is kept for hover and for a screen reader.
        assert hover(find(root, "rect", "chart-bar")[0]) == f"{label}: 7, {note}"
        assert label in root.find(f"{SVG}desc").text
        assert_text_fits(root)

    @pytest.mark.parametrize("count", [1, 2, 5])
    @pytest.mark.parametrize("note", ["", "50% of the step before", "x" * 80])
    @pytest.mark.parametrize("values", [[1, 100000, 50, 3, 0], [0.01, 0.5, 0.99, 1, 0.2], [7, 7, 7, 7, 7]])
    def test_values_and_notes_stay_inside(self, count, note, values):
        labels = [f"Session type {index} " * (index + 1) for index in range(count)]
        for percent in (False, True):
            root = parse(
                hbar_chart("f", labels, values[:count], title="t", notes=[note] * count, percent=percent, unit="EUR")
            )
            assert_text_fits(root)
            assert_shapes_inside(root)

    def test_nothing_to_draw_says_so(self):
        for labels, values in (([], []), (["a", "b"], [0, 0]), (["a"], [-1])):
            root = parse(hbar_chart("f", labels, values, title="t", description="No cancellations."))
            assert {"chart-hbars", "chart-is-empty"} <= set(classes(root))
            assert [text(el) for el in find(root, "text", "chart-empty")] == ["No data for this range"]
            assert root.find(f"{SVG}desc").text == "No cancellations."

    @pytest.mark.parametrize(("values", "notes"), [([1], None), ([1, 2], ["x"]), ([1, 2, 3], None)])
    def test_values_and_notes_must_match_the_labels(self, values, notes):
        with pytest.raises(ValueError, match="as many values and notes"):
            hbar_chart("f", ["a", "b"], values, title="t", notes=notes)


class TestEscaping:
    def nasty_charts(self) -> list[str]:
        return [
            bar_chart(
                "b",
                [NASTY, "Tue"],
                [Series(NASTY, [1, 2]), Series("<b>bold</b>", [2, 1])],
                title=NASTY,
                unit=NASTY,
            ),
            bar_chart("b", [NASTY], [Series(NASTY, [1])], title=NASTY, description=NASTY),
            heatmap("h", [NASTY, "Tue"], [NASTY, "x"], [[1, 0], [0, 2]], title=NASTY, unit="<u>"),
            hbar_chart("f", [NASTY, 'it\'s "quoted"'], [3, 1], title=NASTY, notes=[NASTY, "<i>"], unit="&amp;"),
            hbar_chart("f", [NASTY], [0], title=NASTY, description=NASTY),
            hbar_chart("f", ["&" * 200], [1], title="t"),  # cut in the middle of what would be entities
        ]

    def test_text_from_the_data_is_text(self):
        for svg in self.nasty_charts():
            root = parse(svg)
            tags = {el.tag for el in root.iter()}
            assert tags <= {f"{SVG}{tag}" for tag in ("svg", "title", "desc", "rect", "line", "text", "tspan")}, tags
            assert "<intro>" not in svg and "<b>" not in svg and "<i>" not in svg and "<u>" not in svg

    def test_the_words_read_as_written(self):
        bars_svg, _one, heat, hbars, _empty, ampersands = (parse(svg) for svg in self.nasty_charts())
        assert bars_svg.find(f"{SVG}title").text == NASTY
        assert f"{NASTY} — {NASTY}: 1 {NASTY}" in bars(bars_svg)
        assert NASTY in [text(el) for el in bars_svg.iter(f"{SVG}text")]
        assert "<b>bold</b>" in [text(el) for el in bars_svg.iter(f"{SVG}text")]
        assert f"{NASTY} {NASTY}: 1 <u>" in [hover(cell) for cell in find(heat, "rect", "chart-cell")]
        assert f"{NASTY}: 3 &amp;, {NASTY}" in bars(hbars)
        assert 'it\'s "quoted": 1 &amp;, <i>' in bars(hbars)
        assert set(text(find(ampersands, "text", "chart-label")[0]).removesuffix("…")) == {"&"}
