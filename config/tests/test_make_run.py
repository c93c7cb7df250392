"""`make run`, the demo: the product's own 404 page (not Django's debug page) with the
static files still served (the 500 page: pages/tests/test_error_pages.py), and the port
chosen with PORT=…, followed by every address it prints."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

PROJECT_DIR = Path(__file__).resolve().parents[2]


def make_dry_run(*args: str) -> str:
    env = {key: value for key, value in os.environ.items() if key not in {"PORT", "DEBUG", "MAKEFLAGS"}}
    return subprocess.run(
        ["make", "--dry-run", "--always-make", "run", *args],
        cwd=PROJECT_DIR,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout


def test_make_run_serves_on_port_8000_by_default_with_debug_off() -> None:
    commands = make_dry_run()

    assert "honcho start -f Procfile.dev -p 8000" in commands
    assert "http://127.0.0.1:8000" in commands
    assert "DEBUG=false" in commands


def test_make_run_takes_port_and_prints_that_address() -> None:
    commands = make_dry_run("PORT=8100")

    assert "honcho start -f Procfile.dev -p 8100" in commands
    assert "SITE_URL=http://127.0.0.1:8100" in commands
    assert "Starting the web server (http://127.0.0.1:8100)" in commands
    assert "8000" not in commands


def test_make_run_encrypts_under_a_key_of_the_machines_own(tmp_path) -> None:
    commands = make_dry_run()
    keys = 'FIELD_ENCRYPTION_KEYS="${FIELD_ENCRYPTION_KEYS:-$(cat .local/field-encryption.key)}"'
    assert f"{keys} .venv/bin/python manage.py seed_demo" in commands
    assert f"{keys} DEBUG=false" in commands  # the web server and the worker
    ignored = subprocess.run(["git", "check-ignore", "-q", ".local/field-encryption.key"], cwd=PROJECT_DIR)
    assert ignored.returncode == 0

    # The key is made once, readable by its owner only, and kept.
    key_file = tmp_path / "local" / "field-encryption.key"
    make_key = ["make", "--no-print-directory", "-o", ".venv/.installed", f"LOCAL_KEYS={key_file}", str(key_file)]
    made = subprocess.run(make_key, cwd=PROJECT_DIR, capture_output=True, text=True, check=True)
    key = key_file.read_text().strip()
    Fernet(key)
    assert f"Made this machine's encryption key in {key_file}" in made.stdout and key not in made.stdout
    assert key_file.stat().st_mode & 0o777 == 0o600
    subprocess.run(make_key, cwd=PROJECT_DIR, capture_output=True, check=True)
    assert key_file.read_text().strip() == key


def test_procfile_dev_serves_on_the_port_honcho_gives() -> None:
    web = next(line for line in (PROJECT_DIR / "Procfile.dev").read_text().splitlines() if line.startswith("web:"))

    assert web.endswith("runserver 127.0.0.1:$PORT")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def fetch(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


@pytest.fixture
def demo_server(tmp_path):
    """The web process of `make run`: Procfile.dev's runserver with the environment the
    Makefile gives it."""
    port = free_port()
    env = {
        **{key: value for key, value in os.environ.items() if key != "DJANGO_SETTINGS_MODULE"},
        "DATABASE_URL": f"sqlite:///{tmp_path / 'demo.sqlite3'}",
        "DEBUG": "false",
        "STATIC_FROM_SOURCE": "true",
        "SITE_URL": f"http://127.0.0.1:{port}",
    }
    server = subprocess.Popen(
        [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload", "--skip-checks"],
        cwd=PROJECT_DIR,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        yield base
    finally:
        server.terminate()
        server.wait(timeout=10)


@pytest.mark.slow
def test_a_wrong_address_under_make_run_gets_the_products_404_and_static_files_load(demo_server) -> None:
    status, html = fetch(f"{demo_server}/no-such-page/")

    assert status == 404
    assert "<h1>Page not found</h1>" in html
    assert 'href="/"' in html and "Back to the home page" in html
    assert "URLconf" not in html and "Using the URLconf" not in html  # Django's debug page lists them

    css_status, css = fetch(f"{demo_server}/static/css/app.css")
    assert css_status == 200 and css == (PROJECT_DIR / "static" / "css" / "app.css").read_text()
    assert fetch(f"{demo_server}/static/js/app.js")[0] == 200
