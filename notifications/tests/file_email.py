"""A stand-in email provider for the worker-kill test and bench: each message becomes one
line ("<delivery id> <process id>") appended to the file named by ``FILE_EMAIL_PATH``,
written and fsynced before the send returns — so sends are counted across processes,
and across a SIGKILL."""

from __future__ import annotations

import os

from django.core.mail.backends.base import BaseEmailBackend


class EmailBackend(BaseEmailBackend):
    def send_messages(self, email_messages) -> int:
        path = os.environ["FILE_EMAIL_PATH"]
        for message in email_messages:
            line = f"{message.extra_headers.get('X-Delivery-ID', '?')} {os.getpid()}\n".encode()
            fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            try:
                os.write(fd, line)  # one write: a kill can't leave half a line
                os.fsync(fd)
            finally:
                os.close(fd)
        return len(email_messages)


def sent(path) -> dict[int, int]:
    """How many times each delivery was sent, from the file."""
    counts: dict[int, int] = {}
    try:
        with open(path) as lines:
            for line in lines:
                key = line.split(" ", 1)[0]
                if line.endswith("\n") and key.isdigit():
                    counts[int(key)] = counts.get(int(key), 0) + 1
    except FileNotFoundError:
        pass
    return counts
