"""The product's 500 page: styled, with a way back, and nothing of the fault shown; the
same handler serves `make run`, whose DEBUG is off (config/tests/test_make_run.py)."""

from __future__ import annotations

from unittest import mock

from django.test import Client

from accounts import selectors


def test_a_server_error_gets_the_products_500_page_with_a_way_back(db) -> None:
    fault = RuntimeError("a fault on our side")
    with mock.patch.object(selectors, "coaches_visible_to", side_effect=fault):
        response = Client(raise_request_exception=False).get("/")

    assert response.status_code == 500
    html = response.content.decode()
    assert "<h1>Something went wrong</h1>" in html
    assert "Back to the home page" in html
    assert 'class="topbar"' in html  # the site's own page, not a bare server error
    assert "a fault on our side" not in html
