"""An SMS backend that keeps messages in memory, for tests: ``outbox`` like Django's ``mail.outbox``.

Each message gets the id ``locmem-<n>``, ``n`` counting up in this process. Clearing the outbox
(``outbox.clear()``) does not restart the count, so ids stay unique within a process.
"""

from __future__ import annotations

import itertools
import threading

from notifications.sms import BaseSmsBackend, SmsMessage

outbox: list[SmsMessage] = []

_lock = threading.Lock()
_numbers = itertools.count(1)


class SmsBackend(BaseSmsBackend):
    def __init__(self, **options):
        pass

    def send(self, message: SmsMessage) -> str:
        with _lock:
            outbox.append(message)
            return f"locmem-{next(_numbers)}"
