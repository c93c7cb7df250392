"""Security headers on every response: Content-Security-Policy, Permissions-Policy,
Referrer-Policy; the report-only switch; pages written so that the policy needs no inline
script or style; the API docs served from this site's static files."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.staticfiles import finders
from django.test import Client, override_settings

from config.security_headers import permissions_policy_header

PROJECT_DIR = Path(__file__).resolve().parents[2]
TEMPLATES_DIR = PROJECT_DIR / "templates"
# Emails are read in mail clients, not under the site's policy; they keep inline styles.
EMAIL_TEMPLATES = TEMPLATES_DIR / "notifications" / "email"
ACCOUNT_EMAIL_TEMPLATES = TEMPLATES_DIR / "account" / "email"

POLICY = {
    "default-src": ["'self'"],
    "script-src": ["'self'"],
    "style-src": ["'self'"],
    "img-src": ["'self'", "data:"],
    "font-src": ["'self'"],
    "connect-src": ["'self'"],
    "object-src": ["'none'"],
    "base-uri": ["'self'"],
    "frame-ancestors": ["'none'"],
    "form-action": ["'self'"],
}
REFUSED_FEATURES = ["camera", "microphone", "geolocation", "payment", "usb", "serial", "display-capture"]


def parse_policy(header: str) -> dict[str, list[str]]:
    directives = {}
    for part in header.split(";"):
        name, *values = part.split()
        assert name not in directives, f"{name} appears twice in {header!r}"
        directives[name] = values
    return directives


def parse_permissions(header: str) -> dict[str, str]:
    return dict(item.strip().split("=", 1) for item in header.split(","))


# --- the headers ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "path"),
    [
        (None, "/"),
        (None, "/accounts/login/"),
        (None, "/book/"),
        (None, "/api/v1/coaches"),
        (None, "/api/v1/docs"),
        (None, "/health/"),
        (None, "/no-such-page/"),
        ("client", "/client/"),
        ("client", "/profile/notifications/"),
        ("coach", "/coach/availability/"),
        ("staff", "/staff/"),
        ("coach", "/coach/"),
        ("admin", "/admin/"),
        ("admin", "/admin/bookings/booking/"),
    ],
)
def test_every_response_carries_the_policy(as_role, role: str | None, path: str) -> None:
    response = as_role(role).get(path)

    assert response.status_code in (200, 404), response.status_code
    assert parse_policy(response["Content-Security-Policy"]) == POLICY
    assert "Content-Security-Policy-Report-Only" not in response
    permissions = parse_permissions(response["Permissions-Policy"])
    for feature in REFUSED_FEATURES:
        assert permissions[feature] == "()"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"


def test_redirects_carry_the_headers_too(db) -> None:
    response = Client().get("/dashboard/")

    assert response.status_code == 302
    assert "frame-ancestors 'none'" in response["Content-Security-Policy"]
    assert "camera=()" in response["Permissions-Policy"]


def test_scripts_have_no_inline_or_eval_escape_hatch(db) -> None:
    header = Client().get("/")["Content-Security-Policy"]

    for word in ("'unsafe-inline'", "'unsafe-eval'", "'unsafe-hashes'", "'nonce-", "'strict-dynamic'", "*"):
        assert word not in header


def test_the_message_template_editor_allows_style_attributes_for_its_email_preview(as_role) -> None:
    # The preview is a srcdoc frame under this page's policy; emails style with attributes.
    editor = as_role("admin").get("/admin/notifications/messagetemplate/add/")
    other_form = as_role("admin").get("/admin/bookings/sessiontype/add/")

    assert editor.status_code == other_form.status_code == 200
    assert parse_policy(editor["Content-Security-Policy"]) == {**POLICY, "style-src-attr": ["'unsafe-inline'"]}
    assert parse_policy(other_form["Content-Security-Policy"]) == POLICY


def test_report_only_sends_the_same_policy_without_enforcing_it(db) -> None:
    with override_settings(
        CONTENT_SECURITY_POLICY=None,
        CONTENT_SECURITY_POLICY_REPORT_ONLY={"DIRECTIVES": {**POLICY, "report-uri": ["/csp-reports/"]}},
    ):
        response = Client().get("/")

    assert "Content-Security-Policy" not in response
    assert parse_policy(response["Content-Security-Policy-Report-Only"]) == {**POLICY, "report-uri": ["/csp-reports/"]}


def test_permissions_policy_header_format() -> None:
    assert permissions_policy_header({"camera": [], "fullscreen": ["self", '"https://a.example"']}) == (
        'camera=(), fullscreen=(self "https://a.example")'
    )
    assert permissions_policy_header({}) == ""


# --- production: the same policy, and the report-only switch --------------------------------


def production_policies(extra_env: dict[str, str]) -> dict[str, str]:
    """The two CSP headers production would send, built in a clean process."""
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": os.environ.get("HOME", "/tmp"),
        "SECRET_KEY": "x" * 60,
        "ALLOWED_HOSTS": "booking.example.com",
        "FIELD_ENCRYPTION_KEYS": "a2tra2tra2tra2tra2tra2tra2tra2tra2tra2tra2s=",
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        **extra_env,
    }
    script = (
        "import json, django; django.setup(); from django.conf import settings;"
        "from csp.utils import build_policy;"
        "print(json.dumps({'enforced': build_policy(), 'report_only': build_policy(report_only=True),"
        "'permissions': settings.PERMISSIONS_POLICY, 'middleware': settings.MIDDLEWARE}))"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=PROJECT_DIR, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_production_enforces_the_policy() -> None:
    production = production_policies({})

    assert parse_policy(production["enforced"]) == POLICY
    assert production["report_only"] == ""
    assert "csp.middleware.CSPMiddleware" in production["middleware"]
    assert "config.security_headers.PermissionsPolicyMiddleware" in production["middleware"]
    assert production["permissions"]["camera"] == []


def test_production_report_only_from_the_environment() -> None:
    production = production_policies({"CSP_REPORT_ONLY": "true", "CSP_REPORT_URI": "https://reports.example.com/csp"})

    assert production["enforced"] == ""
    assert parse_policy(production["report_only"]) == {**POLICY, "report-uri": ["https://reports.example.com/csp"]}


# --- pages need no inline script or style ---------------------------------------------------


def site_templates() -> list[Path]:
    return sorted(
        path
        for path in TEMPLATES_DIR.rglob("*.html")
        if not (path.is_relative_to(EMAIL_TEMPLATES) or path.is_relative_to(ACCOUNT_EMAIL_TEMPLATES))
    )


INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>", re.IGNORECASE)
EVENT_HANDLER = re.compile(r"\s(on[a-z]+|hx-on[:\w-]*)\s*=", re.IGNORECASE)
INLINE_STYLE = re.compile(r"<style\b|\sstyle\s*=", re.IGNORECASE)
JS_URL = re.compile(r"javascript:", re.IGNORECASE)
# htmx evaluates "[…]" event filters and "js:" values with eval, which the policy refuses.
HTMX_EVAL = re.compile(r"hx-trigger=\"[^\"]*\[|hx-(vals|vars)=['\"]\s*(js:|javascript:)", re.IGNORECASE)


@pytest.mark.parametrize("path", site_templates(), ids=lambda path: str(path.relative_to(TEMPLATES_DIR)))
def test_templates_have_no_inline_script_handler_or_style(path: Path) -> None:
    text = path.read_text()

    for pattern in (INLINE_SCRIPT, EVENT_HANDLER, INLINE_STYLE, JS_URL, HTMX_EVAL):
        match = pattern.search(text)
        assert match is None, f"{path.name}: {match.group(0)!r} needs 'unsafe-inline' or eval under the CSP"


def test_the_scan_finds_what_it_looks_for() -> None:
    assert INLINE_SCRIPT.search('<script>alert(1)</script><script src="/a.js"></script>')
    assert not INLINE_SCRIPT.search('<script src="/a.js" defer></script><script type="application/json">{}</script>')
    assert EVENT_HANDLER.search('<button onclick="x()">')
    assert EVENT_HANDLER.search('<form hx-on::after-request="x()">')
    assert not EVENT_HANDLER.search('<input data-select-on-focus aria-controls="x">')
    assert INLINE_STYLE.search('<p style="margin:0">') and INLINE_STYLE.search("<style>p{}</style>")
    assert HTMX_EVAL.search('<div hx-trigger="every 10s [idle()]">')
    assert not HTMX_EVAL.search('<div hx-trigger="every 10s, live-refresh from:body">')


def test_every_htmx_config_turns_off_inline_styles_and_eval() -> None:
    configs = {}
    for path in site_templates():
        for content in re.findall(r"<meta name=\"htmx-config\" content='([^']*)'", path.read_text()):
            configs[path.relative_to(TEMPLATES_DIR)] = json.loads(content)

    assert Path("base.html") in configs
    for path, config in configs.items():
        assert config["includeIndicatorStyles"] is False, path
        assert config["allowEval"] is False, path


def test_a_page_names_its_htmx_config_before_the_default(as_role) -> None:
    # htmx reads the first htmx-config; a page's own one (dashboards) must come first.
    html = as_role("coach").get("/coach/").content.decode()

    metas = re.findall(r"<meta name=\"htmx-config\" content='([^']*)'", html)
    assert "responseHandling" in json.loads(metas[0])
    assert "htmx reads the first" not in html  # the template's comment stays in the template


# --- the API docs ---------------------------------------------------------------------------


def test_api_docs_load_swagger_ui_from_this_site(db) -> None:
    response = Client().get("/api/v1/docs")

    assert response.status_code == 200
    html = response.content.decode()
    sources = re.findall(r"<(?:script|link)[^>]*(?:src|href)=\"([^\"]+)\"", html)
    assert "/static/ninja/swagger-ui-bundle.js" in sources
    assert "/static/ninja/swagger-ui.css" in sources
    for source in sources:
        assert source.startswith(settings.STATIC_URL if settings.STATIC_URL.startswith("/") else "/static/"), source
        assert finders.find(source.removeprefix("/static/")), f"{source} is not among the static files"
    assert "cdn" not in html.lower()
    assert not INLINE_SCRIPT.search(html)
