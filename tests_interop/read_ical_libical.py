"""Reads iCalendar documents with libical (Evolution's calendar library, through Debian's
GObject bindings ``gir1.2-ical-3.0``) and prints what it makes of each event.

Run with the system Python that has ``gi`` (``/usr/bin/python3``), not the project's
virtualenv. Same input and output as ``read_ical.mjs``: a JSON object ``{name: icsText}``
on stdin; ``{name: {method, events: [{uid, start, end, sequence, status, tzid}]}}`` on
stdout, instants in UTC seconds since the epoch. A TZID is resolved with the document's own
VTIMEZONE (libical looks there before its built-in zones).
"""

import json
import sys

import gi

gi.require_version("ICalGLib", "3.0")
from gi.repository import ICalGLib  # noqa: E402


def instant(value):
    """The UTC instant of a DTSTART/DTEND value, through the zone it was read with."""
    return value.as_timet_with_zone(value.get_timezone())


def text_of(component, kind):
    prop = component.get_first_property(kind)
    return prop.get_value_as_string() if prop else None


def read(text):
    calendar = ICalGLib.Component.new_from_string(text)
    events = []
    event = calendar.get_first_component(ICalGLib.ComponentKind.VEVENT_COMPONENT)
    while event is not None:
        start = event.get_dtstart()
        events.append(
            {
                "uid": event.get_uid(),
                "start": instant(start),
                "end": instant(event.get_dtend()),
                "sequence": event.get_sequence(),
                "status": text_of(event, ICalGLib.PropertyKind.STATUS_PROPERTY),
                "tzid": start.get_tzid(),
            }
        )
        event = calendar.get_next_component(ICalGLib.ComponentKind.VEVENT_COMPONENT)
    return {"method": text_of(calendar, ICalGLib.PropertyKind.METHOD_PROPERTY), "events": events}


documents = json.load(sys.stdin)
json.dump({name: read(text) for name, text in documents.items()}, sys.stdout)
