"""Time the foundation's pages and API through the full middleware stack, against a bare
Django view measured in the same run.  Run: make bench (or .venv/bin/python bench/pages.py)."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import report, setup_django, timed


def main() -> None:
    setup_django()
    from django.core.management import call_command
    from django.http import HttpResponse
    from django.test import Client
    from django.test.utils import override_settings
    from django.urls import include, path

    from accounts.models import User

    call_command("seed_demo", verbosity=0, stdout=open("/dev/null", "w"))  # noqa: SIM115

    def bare(request):
        return HttpResponse("ok")

    import types

    urls = types.ModuleType("bench_urls")
    urls.urlpatterns = [path("__bare__/", bare), path("", include("config.urls"))]
    sys.modules["bench_urls"] = urls

    with override_settings(ROOT_URLCONF="bench_urls", ALLOWED_HOSTS=["*"]):
        visitor = Client()
        baseline = timed(lambda: visitor.get("/__bare__/"))

        def as_user(email: str) -> Client:
            http = Client()
            http.force_login(User.objects.get(email=email))
            return http

        client = as_user("sofia.marquez@demo.booking.test")
        coach = as_user("camille.laurent@demo.booking.test")
        staff = as_user("staff@demo.booking.test")

        def check(http: Client, url: str) -> None:
            response = http.get(url)
            assert response.status_code == 200, (url, response.status_code)

        rows = [
            ("home page (visitor)", timed(lambda: check(visitor, "/"))),
            ("client dashboard", timed(lambda: check(client, "/client/"))),
            ("coach dashboard", timed(lambda: check(coach, "/coach/"))),
            ("staff overview", timed(lambda: check(staff, "/staff/"))),
            ("profile page", timed(lambda: check(client, "/profile/"))),
            ("GET /api/v1/me (session)", timed(lambda: check(client, "/api/v1/me"))),
            ("GET /health/", timed(lambda: check(visitor, "/health/"))),
        ]
    report("Pages and API, 200 requests each (in-process test client, SQLite unless DATABASE_URL)", rows, baseline)


if __name__ == "__main__":
    main()
