"""An SMS backend that prints each message, like Django's console email backend."""

from __future__ import annotations

import sys
import threading
import uuid

from notifications.sms import BaseSmsBackend, SmsMessage


class SmsBackend(BaseSmsBackend):
    def __init__(self, stream=None, **options):
        self.stream = stream or sys.stdout
        self._lock = threading.RLock()

    def send(self, message: SmsMessage) -> str:
        message_id = f"console-{uuid.uuid4().hex}"
        lines = [f"SMS {message_id}", f"To: {message.to}"]
        if message.status_callback:
            lines.append(f"Status callback: {message.status_callback}")
        text = "\n".join([*lines, "", message.body, "-" * 79, ""])
        with self._lock:
            self.stream.write(text)
            self.stream.flush()
        return message_id
