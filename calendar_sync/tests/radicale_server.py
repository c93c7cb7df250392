"""A real CalDAV server for the tests: Radicale, started on 127.0.0.1 in a temporary
folder with one user, stopped after the test."""

from __future__ import annotations

import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import caldav
import icalendar

USER, PASSWORD = "coach", "app-password-1234"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Radicale:
    def __init__(self) -> None:
        self.folder = tempfile.TemporaryDirectory()
        root = Path(self.folder.name)
        (root / "users").write_text(f"{USER}:{PASSWORD}\n")
        self.port = _free_port()
        (root / "config").write_text(
            f"[server]\nhosts = 127.0.0.1:{self.port}\n"
            f"[auth]\ntype = htpasswd\nhtpasswd_filename = {root / 'users'}\nhtpasswd_encryption = plain\n"
            f"[storage]\nfilesystem_folder = {root / 'collections'}\n"
            "[logging]\nlevel = error\n"
        )
        self.process = subprocess.Popen(
            [sys.executable, "-m", "radicale", "--config", str(root / "config")],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 20
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                break
            except OSError:
                if time.monotonic() > deadline or self.process.poll() is not None:
                    self.stop()
                    raise RuntimeError("Radicale did not start") from None
                time.sleep(0.05)
        self.url = f"http://127.0.0.1:{self.port}/"
        self.client = caldav.DAVClient(url=self.url, username=USER, password=PASSWORD, timeout=10)

    def make_calendar(self, name: str) -> caldav.Calendar:
        """A calendar of the user's, as their own calendar app would make it."""
        return self.client.principal().make_calendar(name=name)

    def add(self, calendar: caldav.Calendar, document: str) -> caldav.Event:
        """An event (a VCALENDAR text) added as the user's calendar app would, its time zones
        written in."""
        parsed = icalendar.Calendar.from_ical(document)
        parsed.add_missing_timezones()
        return calendar.add_event(parsed.to_ical().decode())

    def events(self, calendar: caldav.Calendar) -> list[icalendar.Event]:
        found = []
        for item in calendar.events():
            found += [c for c in icalendar.Calendar.from_ical(item.data).walk("VEVENT")]
        return found

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self.folder.cleanup()
