"""A visitor's first page: the server cannot know the browser's zone before the ``tz`` cookie
exists, so the page says so (``data-timezone-unknown`` on <html>) and loads
static/js/timezone.js first in <head>, which sets the cookie and loads the page again once,
before it is drawn. The browser test (tests_browser/test_first_visit.py) sees the result."""

from __future__ import annotations

import re

import pytest

MARK = re.compile(r"<html[^>]*\bdata-timezone-unknown\b")


@pytest.mark.django_db
class TestFirstVisitMark:
    def test_a_visitor_without_the_cookie_gets_the_mark_and_the_head_script(self, client):
        html = client.get("/").content.decode()

        assert MARK.search(html)
        head = html.split("</head>", 1)[0]
        script = head.index("js/timezone.js")
        assert '<script src="/static/js/timezone.js"></script>' in head  # not deferred: runs before the body
        assert script < head.index("css/app.css")

    def test_a_visitor_with_the_cookie_gets_no_mark(self, client):
        client.cookies["tz"] = "Asia%2FKathmandu"

        html = client.get("/").content.decode()

        assert not MARK.search(html)
        assert "Times shown in <strong>Asia/Kathmandu</strong>" in html

    def test_a_signed_in_person_gets_no_mark(self, client, client_user):
        client.force_login(client_user)

        assert not MARK.search(client.get("/").content.decode())

    def test_an_answer_to_a_post_gets_no_mark(self, client):
        # Loading it again would send the form again.
        html = client.post("/accounts/login/", {"login": "nobody@example.com", "password": "x"}).content.decode()

        assert not MARK.search(html)
