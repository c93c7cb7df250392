"""The report pages' sections: each a title, a plain-words definition, a chart (SVG made
on the server, ``reports.charts``) and the same numbers as a table — which is also what
its CSV export streams. Built from ``reports.figures``; the views only choose filters."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable
from dataclasses import dataclass, field

from django.conf import settings
from django.utils import formats
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language, gettext_lazy, ngettext, pgettext, pgettext_lazy
from django.utils.translation import gettext as _

from accounts.models import User
from availability.models import Resource
from availability.rooms import utilisation as room_utilisation
from bookings.models import BookingStatus, SessionType
from config.dates import format_when
from config.money import display as money_display
from config.money import to_major
from config.numbers import format_percent
from reports import charts, figures

# With a context, so that the report's row headers are this catalogue's words whatever
# another app makes of a bare "Monday".
WEEKDAYS = [
    pgettext_lazy("weekday", "Monday"),
    pgettext_lazy("weekday", "Tuesday"),
    pgettext_lazy("weekday", "Wednesday"),
    pgettext_lazy("weekday", "Thursday"),
    pgettext_lazy("weekday", "Friday"),
    pgettext_lazy("weekday", "Saturday"),
    pgettext_lazy("weekday", "Sunday"),
]
# Chart colours per status (reports.css): done, coming, waiting, missed, cancelled, declined.
STATUS_CSS = {
    BookingStatus.COMPLETED: "chart-s0",
    BookingStatus.CONFIRMED: "chart-s1",
    BookingStatus.FIRM_BOOKED: "chart-s2",
    BookingStatus.REQUESTED: "chart-s3",
    BookingStatus.AWAITING_PAYMENT: "chart-s4",
    BookingStatus.NO_SHOW: "chart-s5",
    BookingStatus.CANCELLED: "chart-s6",
    BookingStatus.DECLINED: "chart-s7",
}


@dataclass
class Table:
    caption: str
    headers: list[str]
    rows: list[list[str]]
    slug: str = ""

    # The table's cells as HTML, made here rather than by template loops: a year's
    # utilisation per coach and week is thousands of cells.
    @property
    def head_html(self) -> SafeString:
        return mark_safe("".join(f'<th scope="col">{charts.escape(header)}</th>' for header in self.headers))  # noqa: S308 (every value escaped)

    @property
    def body_html(self) -> SafeString:
        if not self.rows:
            nothing = charts.escape(_("Nothing in this range."))
            return mark_safe(f'<tr><td colspan="{len(self.headers)}" class="muted">{nothing}</td></tr>')  # noqa: S308 (every value escaped)
        rows = []
        for first, *cells in self.rows:
            rows.append(f'<tr><th scope="row">{charts.escape(first)}</th>')
            rows.extend(f"<td>{charts.escape(cell)}</td>" for cell in cells)
            rows.append("</tr>")
        return mark_safe("".join(rows))  # noqa: S308 (every value escaped)


@dataclass
class Figure:
    label: str
    value: str
    note: str = ""


@dataclass(frozen=True)
class Chart:
    """A chart and the caption shown above it (the same words name the SVG itself)."""

    caption: str
    svg: SafeString
    # Too detailed to shrink to a phone's width (a heatmap's 24 hours): it keeps a width
    # and scrolls in its own box there.
    wide: bool = False


def chart(draw, chart_id: str, *args, title: str, **kwargs) -> Chart:
    """One of ``reports.charts``' drawings with its caption."""
    return Chart(title, draw(chart_id, *args, title=title, **kwargs), wide=draw is charts.heatmap)


@dataclass
class Section:
    slug: str
    title: str
    definition: str
    figures: list[Figure] = field(default_factory=list)
    charts: list[Chart] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    note: str = ""


def percent(value: float | None) -> str:
    return "—" if value is None else format_percent(value * 100)


@functools.lru_cache(maxsize=32)
def _decimal_separator(language: str | None) -> str:
    return formats.get_format("DECIMAL_SEPARATOR", language)


def decimal_separator() -> str:
    """The language's, for a table that formats thousands of numbers (asked once)."""
    return _decimal_separator(get_language())


def number(value: float | None, places: int = 1, *, decimal: str | None = None) -> str:
    """What ``formats.number_format`` gives, cheaply when no thousands are grouped."""
    if value is None:
        return "—"
    if settings.USE_THOUSAND_SEPARATOR:
        return formats.number_format(round(value, places), places)
    return f"{value:.{places}f}".replace(".", decimal or decimal_separator())


def money(values: dict[str, int], sep: str = ", ") -> str:
    if not values:
        return "—"
    return sep.join(money_display(amount, currency) for currency, amount in sorted(values.items()))


def status_label(status: str) -> str:
    return str(BookingStatus(status).label)


def period_label(day: dt.date, period: str) -> str:
    if period == "day":
        return format_when(day, "day_short_no_year")
    if period == "week":
        return _("Week of %(day)s") % {"day": format_when(day, "date_short_no_year")}
    if period == "short-week":  # under a chart's bar: the week's Monday
        return format_when(day, "date_short_no_year")
    return format_when(day, "month_short_year")


class Inputs:
    """What the sections of one page read, each read once and only when a section asks for
    it: a page costs what it shows."""

    def __init__(self, filters: figures.Filters, *, today: dt.date, staff: bool) -> None:
        self.filters = filters
        self.today = today
        self.staff = staff

    @functools.cached_property
    def groups(self) -> figures.Groups:
        return figures.groups(self.filters)

    @functools.cached_property
    def total(self) -> figures.Totals:
        # The groups' total when they were read anyway, else the cheaper read of the total alone.
        return self.groups.total if "groups" in self.__dict__ else figures.totals(self.filters)

    @functools.cached_property
    def coaches(self) -> list[User]:
        return figures.coaches_for(self.filters)

    @functools.cached_property
    def names(self) -> dict[int, str]:
        return {coach.pk: coach.display_name for coach in self.coaches}

    @functools.cached_property
    def weeks_by_coach(self) -> dict[int, list[figures.Week]]:
        return figures.utilisation(self.filters, self.coaches)


@dataclass(frozen=True)
class Page:
    """One report page: its tab's label, the sections it shows and the tables they hold
    (each also a CSV at ``/reports/<table>.csv``)."""

    slug: str
    label: str
    sections: Callable[[Inputs], list[Section]]
    tables: tuple[str, ...]
    # The coaches side by side: for staff only.
    staff_only: bool = False


@dataclass
class Report:
    filters: figures.Filters
    page: Page | None  # None: every page at once
    pages: list[Page]
    sections: list[Section]
    key_figures: list[Figure]


def pages_for(*, staff: bool, every_coach: bool) -> list[Page]:
    """The tabs a viewer gets: the coaches' table only for staff looking at every coach."""
    return [page for page in PAGES if not page.staff_only or (staff and every_coach)]


def page_of(slug: str, *, staff: bool) -> Page | None:
    return next((page for page in PAGES if page.slug == slug and (staff or not page.staff_only)), None)


def page_of_table(table: str, *, staff: bool) -> Page | None:
    return next((page for page in PAGES if table in page.tables and (staff or not page.staff_only)), None)


def build(filters: figures.Filters, *, today: dt.date, staff: bool, page: Page | None) -> Report:
    """One page of the report for these filters — the overview (the first page) also has the
    key figures —, or with no page every report the viewer has, on one page to print."""
    inputs = Inputs(filters, today=today, staff=staff)
    pages = pages_for(staff=staff, every_coach=not filters.coach_id)
    return Report(
        filters=filters,
        page=page,
        pages=pages,
        sections=[section for shown in ([page] if page else pages) for section in shown.sections(inputs)],
        key_figures=_key_figures(inputs) if page is None or page is PAGES[0] else [],
    )


def _key_figures(inputs: Inputs) -> list[Figure]:
    total = inputs.total
    booked, available = figures.hours_booked_and_available(inputs.filters, inputs.coaches, total)
    return [
        Figure(_("Bookings"), str(total.bookings)),
        Figure(_("Cancellation rate"), percent(total.cancellation_rate)),
        Figure(_("No-show rate"), percent(total.no_show_rate)),
        Figure(_("Utilisation"), percent(figures.ratio(booked, available))),
        Figure(_("Revenue"), money(total.value, "\n")),
        Figure(_("Average rating"), number(total.average_rating) if total.ratings else "—"),
    ]


def _volume(inputs: Inputs) -> Section:
    filters, total = inputs.filters, inputs.total
    volume = figures.volume(filters)
    days = sorted(volume)
    statuses = [status for status in figures.STATUS_ORDER if any(volume[day].get(status) for day in days)]
    labels = [period_label(day, filters.period) for day in days]
    series = [
        charts.Series(status_label(status), [volume[day].get(status, 0) for day in days], STATUS_CSS[status])
        for status in statuses
    ]
    short = "short-week" if filters.period == "week" else filters.period
    drawn = chart(
        charts.bar_chart,
        "volume",
        [period_label(day, short) for day in days],
        series,
        title=_("Bookings per %(period)s, by status") % {"period": _period_word(filters.period)},
        description=ngettext("%(count)s booking in the range.", "%(count)s bookings in the range.", total.bookings)
        % {"count": total.bookings},
    )
    table = Table(
        caption=_("Bookings per %(period)s") % {"period": _period_word(filters.period)},
        headers=[_("Period"), *[status_label(s) for s in statuses], _("Total")],
        rows=[
            [label, *[str(volume[day].get(s, 0)) for s in statuses], str(sum(volume[day].values()))]
            for label, day in zip(labels, days, strict=True)
        ],
        slug="volume",
    )
    return Section(
        slug="volume",
        title=_("Volume"),
        definition=_(
            "Bookings by the day their session starts, in your time zone, and what became of them. "
            "A request is a booking the coach had to approve; approval time runs from the request to the approval."
        ),
        figures=[
            Figure(_("Bookings"), str(total.bookings)),
            Figure(_("Booked firm"), str(total.firm)),
            Figure(_("Requests"), str(total.requests)),
            Figure(_("Average approval time"), _hours(total.approval_hours)),
        ],
        charts=[drawn],
        tables=[table],
    )


def _period_word(period: str) -> str:
    return {"day": _("day"), "week": _("week"), "month": _("month")}[period]


def _hours(value: float | None) -> str:
    if value is None:
        return "—"
    if value < 1:
        return _("%(minutes)s min") % {"minutes": round(value * 60)}
    return _("%(hours)s h") % {"hours": number(value)}


def _cancellations(inputs: Inputs) -> Section:
    total = inputs.total
    who = [
        (_("Client"), total.cancelled_by["client"]),
        (_("Coach"), total.cancelled_by["coach"]),
        (_("Staff"), total.cancelled_by["staff"]),
        (_("The system (a payment not made in time)"), total.cancelled_by["system"]),
    ]
    drawn = chart(
        charts.hbar_chart,
        "cancelled-by",
        [label for label, _n in who],
        [n for _label, n in who],
        title=_("Who cancelled"),
        description=ngettext("%(count)s cancellation.", "%(count)s cancellations.", total.cancelled)
        % {"count": total.cancelled},
    )
    return Section(
        slug="cancellations",
        title=_("Cancellations and no-shows"),
        definition=_(
            "Cancellation rate: cancelled bookings ÷ bookings that weren't declined. Late: cancelled within "
            "the cancellation notice. Lead time: from the cancellation to the session's start. "
            "No-show rate: no-shows ÷ sessions that took place or were missed."
        ),
        figures=[
            Figure(_("Cancellation rate"), percent(total.cancellation_rate), str(total.cancelled)),
            Figure(_("Late cancellations"), percent(total.late_cancellation_rate), str(total.late)),
            Figure(_("Average lead time"), _hours(total.cancel_lead_hours)),
            Figure(_("No-show rate"), percent(total.no_show_rate), str(total.count(BookingStatus.NO_SHOW))),
        ],
        charts=[drawn],
        tables=[
            Table(
                caption=_("Who cancelled"),
                headers=[_("Who"), _("Cancellations")],
                rows=[[str(label), str(n)] for label, n in who],
                slug="cancelled-by",
            )
        ],
    )


def _utilisation(inputs: Inputs) -> Section:
    filters, weeks_by_coach, names, staff = inputs.filters, inputs.weeks_by_coach, inputs.names, inputs.staff
    mondays = [week.monday for week in next(iter(weeks_by_coach.values()), [])]
    overall = []
    for index, monday in enumerate(mondays):
        booked = sum(rows[index].booked_hours for rows in weeks_by_coach.values())
        available = sum(rows[index].available_hours for rows in weeks_by_coach.values())
        overall.append((monday, booked, available))
    labels = [period_label(monday, "week") for monday in mondays]
    drawn = chart(
        charts.bar_chart,
        "utilisation",
        [period_label(monday, "short-week") for monday in mondays],
        [charts.Series(_("Utilisation"), [figures.ratio(b, a) or 0 for _m, b, a in overall], "chart-s1")],
        title=_("Booked hours ÷ available hours, per week"),
        percent=True,
    )
    headers = [_("Coach"), *labels]
    sep = decimal_separator()

    def cell(utilisation: float | None, booked: float, available: float) -> str:
        return f"{percent(utilisation)} ({number(booked, decimal=sep)}/{number(available, decimal=sep)} h)"

    rows = [
        [names.get(pk, str(pk)), *[cell(w.utilisation, w.booked_hours, w.available_hours) for w in weeks]]
        for pk, weeks in weeks_by_coach.items()
    ]
    rows.append([_("Everyone"), *[cell(figures.ratio(b, a), b, a) for _m, b, a in overall]])
    tables = [Table(caption=_("Utilisation per coach and week"), headers=headers, rows=rows, slug="utilisation")]
    if staff:
        rooms = Resource.objects.filter(is_active=True).order_by("name")
        if filters.resource_id:
            rooms = rooms.filter(pk=filters.resource_id)
        room_rows = []
        for room in rooms:
            weeks = room_utilisation(room, filters.first_day, filters.last_day)
            room_rows.append(
                [
                    room.name,
                    *[cell(w.fraction, w.booked_hours, w.open_hours) for w in weeks],
                ]
            )
        if room_rows:
            tables.append(
                Table(
                    caption=_("Utilisation per room and week (the room's own days)"),
                    headers=[_("Room"), *labels],
                    rows=room_rows,
                    slug="rooms",
                )
            )
    return Section(
        slug="utilisation",
        title=_("Utilisation"),
        definition=_(
            "Booked hours ÷ available hours, per week. Booked: the length of each session with a booking that "
            "held or used the coach's time (a group counts once), in the week it starts. Available: the coach's "
            "weekly hours or a day's own hours, less time off. Rooms: booked time within their opening hours."
        ),
        charts=[drawn],
        tables=tables,
    )


def _grid_table(caption: str, grid: list[list[int]], slug: str) -> Table:
    return Table(
        caption=caption,
        headers=[_("Day"), *[f"{hour:02d}" for hour in range(24)]],
        rows=[[str(WEEKDAYS[day]), *[str(n) for n in grid[day]]] for day in range(7)],
        slug=slug,
    )


def _popular(inputs: Inputs) -> Section:
    filters = inputs.filters
    booked = figures.heatmap(filters)
    wanted = figures.demand(filters)
    hours = [f"{hour:02d}" for hour in range(24)]
    days = [str(day) for day in WEEKDAYS]
    return Section(
        slug="popular-times",
        title=_("Popular times"),
        definition=_(
            "When sessions start (declined requests left out), and which times people chose on the booking "
            "pages, by weekday and hour of your time zone (%(zone)s)."
        )
        % {"zone": filters.zone.key},
        charts=[
            chart(charts.heatmap, "booked-times", days, hours, booked, title=_("Bookings by start time")),
            chart(charts.heatmap, "chosen-times", days, hours, wanted, title=_("Times chosen on the booking pages")),
        ],
        tables=[
            _grid_table(_("Bookings by weekday and hour"), booked, "popular-times"),
            _grid_table(_("Times chosen by weekday and hour"), wanted, "demand"),
        ],
    )


def _conversion(inputs: Inputs) -> Section:
    filters = inputs.filters
    steps, failed, later = figures.funnel(filters)
    offers = figures.waitlist(filters)
    drawn = chart(
        charts.hbar_chart,
        "funnel",
        [row.label for row in steps],
        [row.visitors for row in steps],
        title=_("Visitors reaching each step of the booking pages"),
        notes=[
            "" if row.of_previous is None else _("%(share)s of the step before") % {"share": percent(row.of_previous)}
            for row in steps
        ],
    )
    return Section(
        slug="conversion",
        title=_("Conversion"),
        definition=_(
            "Visits (one browser session's steps on one day) that reached each step of the booking pages in "
            "the range, and the share of the step before. A group session is chosen without a day and a time, "
            "and the API books without the pages, so a later step can count more than the one before it. "
            "Waitlist: seats and times offered to people waiting, and the share they took."
        ),
        figures=[
            Figure(_("Booked ÷ coach page views"), percent(steps[-1].of_first)),
            Figure(_("Refused at confirmation"), str(failed)),
            Figure(_("Scheduled later"), str(later)),
            Figure(_("Waitlist offers taken"), percent(offers.conversion), f"{offers.accepted}/{offers.offers}"),
        ],
        charts=[drawn],
        tables=[
            Table(
                caption=_("Booking funnel"),
                headers=[_("Step"), _("Visitors"), _("Of the step before"), _("Of the first step")],
                rows=[[row.label, str(row.visitors), percent(row.of_previous), percent(row.of_first)] for row in steps],
                slug="funnel",
            ),
            Table(
                caption=_("Waitlist offers"),
                headers=[
                    pgettext("waitlist offers", "Offered"),
                    pgettext("waitlist offers", "Taken"),
                    pgettext("waitlist offers", "Declined"),
                    pgettext("waitlist offers", "Expired"),
                ],
                rows=[[str(offers.offers), str(offers.accepted), str(offers.declined), str(offers.expired)]],
                slug="waitlist",
            ),
        ],
    )


def _major(values: dict[str, int], currency: str) -> float:
    return float(to_major(values.get(currency, 0), currency))


def _revenue(inputs: Inputs) -> Section:
    filters, groups, names = inputs.filters, inputs.groups, inputs.names
    total = inputs.total
    types = dict(SessionType.objects.filter(pk__in=list(groups.by_type)).values_list("pk", "title"))
    money_in = figures.money(filters)
    weeks, average = figures.forecast(filters, today=inputs.today)
    # The currencies earned most first (a practice usually has one): a chart of each, up to three.
    earned = {c: 0 for week in weeks for c in week.forecast} | total.value
    currencies = sorted(earned, key=lambda currency: (-earned[currency], currency))[:3]
    by_type = sorted(
        ((types.get(pk, str(pk)), totals.value) for pk, totals in groups.by_type.items() if totals.value),
        key=lambda item: -sum(item[1].values()),
    )
    charts_made = []
    for currency in currencies:
        mine = [(title, values) for title, values in by_type if values.get(currency)]
        if mine:
            charts_made.append(
                chart(
                    charts.hbar_chart,
                    f"revenue-by-type-{currency.lower()}",
                    [title for title, _v in mine],
                    [_major(values, currency) for _t, values in mine],
                    title=_("Revenue by session type (%(currency)s)") % {"currency": currency},
                    unit=currency,
                )
            )
        charts_made.append(
            chart(
                charts.bar_chart,
                f"forecast-{currency.lower()}",
                [period_label(week.monday, "short-week") for week in weeks],
                [
                    charts.Series(_("Booked"), [_major(week.booked, currency) for week in weeks], "chart-s0"),
                    charts.Series(
                        _("Forecast beyond what is booked"),
                        [_major(week.forecast, currency) - _major(week.booked, currency) for week in weeks],
                        "chart-s7",
                    ),
                ],
                title=_("The next 4 weeks, from the week of %(day)s (%(currency)s)")
                % {"day": period_label(weeks[0].monday, "short-week"), "currency": currency},
                unit=currency,
            )
        )
    return Section(
        slug="revenue",
        title=_("Revenue"),
        definition=_(
            "The price of sessions booked, completed or missed (no-shows) in the range, plus what a late "
            "cancellation keeps by its policy. Paid and refunded: money received and returned in the range. "
            "Forecast: for each of the next 4 weeks, what is already booked for it, or the average week of the "
            "last 8 when that is higher."
        ),
        figures=[
            Figure(_("Revenue"), money(total.value)),
            Figure(_("Paid in the range"), money(money_in.paid)),
            Figure(_("Refunded"), money(money_in.refunded), str(money_in.refunds)),
            Figure(_("Average week, last 8"), money(average)),
        ],
        charts=charts_made,
        tables=[
            Table(
                caption=_("Revenue by session type"),
                headers=[_("Session type"), _("Revenue")],
                rows=[[title, money(values)] for title, values in by_type],
                slug="revenue-by-type",
            ),
            Table(
                caption=_("Revenue by coach"),
                headers=[_("Coach"), _("Revenue")],
                rows=[[names.get(pk, str(pk)), money(t.value)] for pk, t in groups.by_coach.items() if t.value],
                slug="revenue-by-coach",
            ),
            Table(
                caption=_("Forecast"),
                headers=[_("Week"), _("Booked"), _("Forecast")],
                rows=[[period_label(w.monday, "week"), money(w.booked), money(w.forecast)] for w in weeks],
                slug="forecast",
            ),
        ],
    )


def _clients(inputs: Inputs) -> Section:
    total, people = inputs.total, figures.clients(inputs.filters)
    drawn = chart(
        charts.hbar_chart,
        "clients",
        [_("New"), _("Returning")],
        [people.new, people.returning],
        title=_("New and returning clients"),
    )
    return Section(
        slug="clients",
        title=_("Clients and sessions"),
        definition=_(
            "Clients with a session booked, completed or missed in the range; new when it is their first "
            "(with this coach, when one is chosen); repeat: two or more in the range. Completion rate: completed "
            "÷ (completed + no-shows + cancelled). Actual duration: from when the coach started the session to "
            "when they closed it."
        ),
        figures=[
            Figure(_("Clients"), str(people.clients)),
            Figure(_("New"), str(people.new)),
            Figure(_("Repeat-booking rate"), percent(people.repeat_rate)),
            Figure(_("Average rating"), number(total.average_rating), str(total.ratings)),
            Figure(_("Completion rate"), percent(total.completion_rate)),
            Figure(
                _("Average actual duration"),
                "—"
                if total.actual_duration is None
                else _("%(minutes)s min") % {"minutes": round(total.actual_duration)},
            ),
        ],
        charts=[drawn],
        tables=[
            Table(
                caption=_("Clients"),
                headers=[_("Clients"), _("New"), _("Returning"), _("Repeat-booking rate")],
                rows=[[str(people.clients), str(people.new), str(people.returning), percent(people.repeat_rate)]],
                slug="clients",
            )
        ],
    )


def _coaches(inputs: Inputs) -> Section:
    groups, weeks_by_coach, names = inputs.groups, inputs.weeks_by_coach, inputs.names
    rows = []
    for pk, name in sorted(names.items(), key=lambda item: item[1]):
        totals = groups.by_coach.get(pk, figures.Totals())
        weeks = weeks_by_coach.get(pk, [])
        booked = sum(w.booked_hours for w in weeks)
        available = sum(w.available_hours for w in weeks)
        rows.append(
            [
                name,
                str(totals.bookings),
                str(totals.count(BookingStatus.COMPLETED)),
                percent(totals.cancellation_rate),
                percent(totals.no_show_rate),
                percent(figures.ratio(booked, available)),
                money(totals.value),
                number(totals.average_rating) if totals.ratings else "—",
            ]
        )
    return Section(
        slug="coaches",
        title=_("Coaches"),
        definition=_("Each coach's figures over the range, by the definitions of the other reports."),
        tables=[
            Table(
                caption=_("Per coach"),
                headers=[
                    _("Coach"),
                    _("Bookings"),
                    _("Completed"),
                    _("Cancellation rate"),
                    _("No-show rate"),
                    _("Utilisation"),
                    _("Revenue"),
                    _("Average rating"),
                ],
                rows=rows,
                slug="coaches",
            )
        ],
    )


PAGES = [
    Page("", gettext_lazy("Overview"), lambda inputs: [_volume(inputs)], ("volume",)),
    Page("cancellations", gettext_lazy("Cancellations"), lambda inputs: [_cancellations(inputs)], ("cancelled-by",)),
    Page("utilisation", gettext_lazy("Utilisation"), lambda inputs: [_utilisation(inputs)], ("utilisation", "rooms")),
    Page(
        "popular-times", gettext_lazy("Popular times"), lambda inputs: [_popular(inputs)], ("popular-times", "demand")
    ),
    Page("conversion", gettext_lazy("Conversion"), lambda inputs: [_conversion(inputs)], ("funnel", "waitlist")),
    Page(
        "revenue",
        gettext_lazy("Revenue"),
        lambda inputs: [_revenue(inputs)],
        ("revenue-by-type", "revenue-by-coach", "forecast"),
    ),
    Page("clients", gettext_lazy("Clients"), lambda inputs: [_clients(inputs)], ("clients",)),
    Page("coaches", gettext_lazy("Coaches"), lambda inputs: [_coaches(inputs)], ("coaches",), staff_only=True),
]


def find_table(report: Report, slug: str) -> Table | None:
    return next((t for section in report.sections for t in section.tables if t.slug == slug), None)
