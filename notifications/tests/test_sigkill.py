"""DESIGN.md invariant 4 under a real kill: a q2 cluster sending reminder emails is killed
(SIGKILL to its whole process group) mid-send; a new cluster finishes the work. Every
reminder's email goes out, and at most one per killed worker process goes out twice."""

from __future__ import annotations

import os
from urllib.parse import urlsplit

import pytest
from django.db import connection

from notifications.tests import sigkill

REMINDERS = 500
# A guard against a hang, not a speed limit: on a loaded 2-core machine the whole run has
# taken close to a minute, so it gets several.
TIMEOUT = 240
WORKERS = 3


def test_database_url() -> str:
    """The address of the database this test runs on, for the cluster's processes."""
    name = connection.settings_dict["NAME"]
    if connection.vendor == "sqlite":
        assert name and ":memory:" not in name and "mode=memory" not in name, name
        return f"sqlite:///{os.path.abspath(name)}"
    return urlsplit(os.environ["DATABASE_URL"])._replace(path=f"/{name}").geturl()


test_database_url.__test__ = False  # a helper, not a test


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_cluster_killed_mid_send_loses_no_email_and_doubles_at_most_one_per_worker():
    outcome = sigkill.run(count=REMINDERS, workers=WORKERS, database_url=test_database_url(), timeout=TIMEOUT)
    print(outcome.line())
    details = f"{outcome.line()}\n{outcome.log_tails()}"
    assert 0 < outcome.sent_at_kill < REMINDERS, details
    assert outcome.never_sent == 0, details
    assert outcome.sent_more == 0, details
    assert outcome.sent_twice <= outcome.killed_workers == WORKERS, details
    assert outcome.sent_once + outcome.sent_twice == REMINDERS, details
    # Every message that may have gone twice is marked so (some marked ones went once:
    # the worker died after the call started but before the provider took it).
    assert outcome.possibly_duplicated >= outcome.sent_twice, details
