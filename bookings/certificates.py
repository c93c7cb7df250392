"""Certificates of attendance of workshops, as PDF (fpdf2): the participant, the workshop,
its hosts, date, length and place, and the booking's reference to check it by. Written in
DejaVu Sans (shipped in ``bookings/fonts``, Bitstream Vera licence) so names in Latin,
Greek and Cyrillic scripts print as they are spelt; the date is in the participant's zone."""

from __future__ import annotations

from pathlib import Path
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils.translation import gettext as _
from fpdf import FPDF

from bookings import selectors
from bookings.models import Booking
from config.dates import format_when

FONTS = Path(__file__).resolve().parent / "fonts"


def render(booking: Booking) -> bytes:
    session = booking.session
    session_type = session.session_type
    client = booking.client
    local = session.start.astimezone(ZoneInfo(client.timezone))
    hosts = selectors.names_text([host.display_name for host in selectors.hosts_of(session)])

    pdf = FPDF(orientation="landscape", format="A4")
    pdf.set_title(_("Certificate of attendance"))
    pdf.set_author(settings.SITE_NAME)
    pdf.set_creator(settings.SITE_NAME)
    pdf.add_font("DejaVu", "", str(FONTS / "DejaVuSans.ttf"))
    pdf.add_font("DejaVu", "B", str(FONTS / "DejaVuSans-Bold.ttf"))
    pdf.set_auto_page_break(False)
    pdf.add_page()
    pdf.set_draw_color(79, 70, 229)
    pdf.set_line_width(1.2)
    pdf.rect(12, 12, pdf.w - 24, pdf.h - 24)

    def line(text: str, size: float, *, bold: bool = False, gap: float = 4) -> None:
        pdf.set_font("DejaVu", "B" if bold else "", size)
        pdf.multi_cell(0, size * 0.5, text, align="C", new_x="LMARGIN", new_y="NEXT")
        pdf.ln(gap)

    pdf.set_y(40)
    pdf.set_text_color(79, 70, 229)
    line(_("Certificate of attendance"), 30, bold=True, gap=12)
    pdf.set_text_color(30, 30, 40)
    line(_("This certifies that"), 14)
    line(client.display_name, 26, bold=True, gap=8)
    line(_("attended the workshop"), 14)
    line(session_type.title, 22, bold=True, gap=8)
    minutes = round((session.end - session.start).total_seconds() / 60)
    line(
        _("with %(hosts)s, on %(day)s (%(minutes)s minutes)")
        % {"hosts": hosts, "day": format_when(local, "date_long"), "minutes": minutes},
        14,
    )
    place = session.location or (session_type.get_modality_display() if not session.location else "")
    if place:
        line(place, 12)
    pdf.set_y(pdf.h - 40)
    pdf.set_text_color(110, 110, 120)
    line(_("%(site)s · reference %(reference)s") % {"site": settings.SITE_NAME, "reference": booking.reference}, 10)
    return bytes(pdf.output())
