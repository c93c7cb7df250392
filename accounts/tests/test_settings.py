"""Configuration: the typed environment readers, the database and email URLs, the
production settings under ``check --deploy``, and the test settings themselves."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from config.env import database_from_url, email_from_url, env_bool, env_choice, env_int, env_list, env_str

PROJECT_DIR = Path(__file__).resolve().parents[2]
BASE_DIR = Path("/srv/booking")


# --- env_* helpers ----------------------------------------------------------------------


class TestEnvBool:
    @pytest.mark.parametrize("value", ["1", "true", "TRUE", "yes", "on", " True "])
    def test_true_values(self, monkeypatch, value):
        monkeypatch.setenv("FLAG", value)

        assert env_bool("FLAG", False) is True

    @pytest.mark.parametrize("value", ["0", "false", "No", "off", ""])
    def test_false_values(self, monkeypatch, value):
        monkeypatch.setenv("FLAG", value)

        assert env_bool("FLAG", True) is False

    def test_unset_gives_the_default(self, monkeypatch):
        monkeypatch.delenv("FLAG", raising=False)

        assert env_bool("FLAG", True) is True
        assert env_bool("FLAG", False) is False

    @pytest.mark.parametrize("value", ["maybe", "2", "enabled", "yes please"])
    def test_anything_else_is_a_configuration_error(self, monkeypatch, value):
        monkeypatch.setenv("FLAG", value)

        with pytest.raises(ImproperlyConfigured, match="FLAG"):
            env_bool("FLAG", False)


class TestEnvInt:
    def test_reads_an_integer(self, monkeypatch):
        monkeypatch.setenv("WORKERS", "4")

        assert env_int("WORKERS", 2) == 4

    def test_unset_gives_the_default(self, monkeypatch):
        monkeypatch.delenv("WORKERS", raising=False)

        assert env_int("WORKERS", 2, minimum=1) == 2

    @pytest.mark.parametrize("value", ["four", "4.5", "", "0x10"])
    def test_not_an_integer(self, monkeypatch, value):
        monkeypatch.setenv("WORKERS", value)

        with pytest.raises(ImproperlyConfigured, match="WORKERS"):
            env_int("WORKERS", 2)

    def test_below_the_minimum(self, monkeypatch):
        monkeypatch.setenv("WORKERS", "0")

        with pytest.raises(ImproperlyConfigured, match="at least 1"):
            env_int("WORKERS", 2, minimum=1)

    def test_the_minimum_itself_is_allowed(self, monkeypatch):
        monkeypatch.setenv("WORKERS", "1")

        assert env_int("WORKERS", 2, minimum=1) == 1


class TestEnvChoice:
    def test_reads_an_allowed_value(self, monkeypatch):
        monkeypatch.setenv("NOTIFY", "sms")

        assert env_choice("NOTIFY", "email", ("email", "sms", "both")) == "sms"

    def test_unset_gives_the_default(self, monkeypatch):
        monkeypatch.delenv("NOTIFY", raising=False)

        assert env_choice("NOTIFY", "email", ("email", "sms", "both")) == "email"

    @pytest.mark.parametrize("value", ["pigeon", "SMS", ""])
    def test_anything_else_is_a_configuration_error(self, monkeypatch, value):
        monkeypatch.setenv("NOTIFY", value)

        with pytest.raises(ImproperlyConfigured, match="must be one of email, sms, both"):
            env_choice("NOTIFY", "email", ("email", "sms", "both"))


class TestEnvStrAndList:
    def test_a_required_string_must_be_set(self, monkeypatch):
        monkeypatch.delenv("SOME_SECRET", raising=False)

        with pytest.raises(ImproperlyConfigured, match="SOME_SECRET must be set"):
            env_str("SOME_SECRET")

    def test_a_string_with_a_default(self, monkeypatch):
        monkeypatch.delenv("SOME_SECRET", raising=False)

        assert env_str("SOME_SECRET", "fallback") == "fallback"

    def test_a_list_is_split_on_commas_and_trimmed(self, monkeypatch):
        monkeypatch.setenv("HOSTS", " a.example.com, b.example.com ,,")

        assert env_list("HOSTS") == ["a.example.com", "b.example.com"]


# --- database_from_url ------------------------------------------------------------------


class TestDatabaseFromUrl:
    @pytest.mark.parametrize("url", [None, ""])
    def test_no_url_is_sqlite_in_the_project_with_wal_and_immediate_transactions(self, url):
        config = database_from_url(url, base_dir=BASE_DIR)

        assert config["ENGINE"] == "django.db.backends.sqlite3"
        assert config["NAME"] == BASE_DIR / "db.sqlite3"
        assert config["OPTIONS"]["transaction_mode"] == "IMMEDIATE"
        assert "PRAGMA journal_mode=WAL" in config["OPTIONS"]["init_command"]
        assert "PRAGMA foreign_keys=ON" in config["OPTIONS"]["init_command"]

    def test_postgres_url(self, monkeypatch):
        monkeypatch.delenv("DATABASE_CONN_MAX_AGE", raising=False)

        config = database_from_url("postgres://user:pw@host:5433/name", base_dir=BASE_DIR)

        assert config["ENGINE"] == "django.db.backends.postgresql"
        assert config["NAME"] == "name"
        assert config["USER"] == "user"
        assert config["PASSWORD"] == "pw"
        assert config["HOST"] == "host"
        assert config["PORT"] == "5433"
        assert config["OPTIONS"] == {"options": "-c jit=off"}
        assert config["CONN_MAX_AGE"] == 60
        assert config["CONN_HEALTH_CHECKS"] is True

    def test_postgres_url_decodes_the_password_and_passes_query_options(self):
        config = database_from_url(
            "postgresql://booking:p%40ss%2Fword@db.internal/booking?sslmode=require", base_dir=BASE_DIR
        )

        assert config["PASSWORD"] == "p@ss/word"
        assert config["PORT"] == ""
        assert config["OPTIONS"] == {"sslmode": "require", "options": "-c jit=off"}

    def test_postgres_url_options_replace_the_default_ones(self):
        config = database_from_url("postgres://u@h/booking?options=-c%20statement_timeout%3D5000", base_dir=BASE_DIR)

        assert config["OPTIONS"] == {"options": "-c statement_timeout=5000"}

    def test_postgres_url_needs_a_database_name(self):
        with pytest.raises(ImproperlyConfigured, match="must name a database"):
            database_from_url("postgres://user@host:5432/", base_dir=BASE_DIR)

    def test_conn_max_age_comes_from_the_environment(self, monkeypatch):
        monkeypatch.setenv("DATABASE_CONN_MAX_AGE", "-1")

        with pytest.raises(ImproperlyConfigured, match="DATABASE_CONN_MAX_AGE"):
            database_from_url("postgres://user@host/booking", base_dir=BASE_DIR)

    def test_sqlite_url_relative_to_the_project(self):
        config = database_from_url("sqlite:///data/booking.sqlite3", base_dir=BASE_DIR)

        assert config["ENGINE"] == "django.db.backends.sqlite3"
        assert config["NAME"] == BASE_DIR / "data" / "booking.sqlite3"
        assert config["OPTIONS"]["transaction_mode"] == "IMMEDIATE"

    def test_sqlite_url_with_an_absolute_path(self):
        config = database_from_url("sqlite:////var/lib/booking/db.sqlite3", base_dir=BASE_DIR)

        assert config["NAME"] == Path("/var/lib/booking/db.sqlite3")

    @pytest.mark.parametrize("url", ["mysql://user:pw@host/booking", "redis://localhost:6379/0", "booking.sqlite3"])
    def test_unsupported_scheme(self, url):
        with pytest.raises(ImproperlyConfigured, match="is not supported"):
            database_from_url(url, base_dir=BASE_DIR)


# --- email_from_url ---------------------------------------------------------------------


class TestEmailFromUrl:
    def test_smtp_with_starttls(self):
        config = email_from_url("smtp://u:p@host:587")

        assert config == {
            "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "EMAIL_HOST": "host",
            "EMAIL_PORT": 587,
            "EMAIL_HOST_USER": "u",
            "EMAIL_HOST_PASSWORD": "p",
            "EMAIL_USE_SSL": False,
            "EMAIL_USE_TLS": True,
        }

    def test_smtp_without_tls(self):
        config = email_from_url("smtp://mail.internal:25?tls=0")

        assert config["EMAIL_PORT"] == 25
        assert config["EMAIL_USE_TLS"] is False
        assert config["EMAIL_USE_SSL"] is False
        assert config["EMAIL_HOST_USER"] == ""

    def test_smtps_uses_ssl_on_465(self):
        config = email_from_url("smtps://apikey:s%3Acret@smtp.example.com")

        assert config["EMAIL_PORT"] == 465
        assert config["EMAIL_USE_SSL"] is True
        assert config["EMAIL_USE_TLS"] is False
        assert config["EMAIL_HOST_PASSWORD"] == "s:cret"

    @pytest.mark.parametrize(
        ("url", "backend"),
        [
            ("console://", "django.core.mail.backends.console.EmailBackend"),
            ("locmem://", "django.core.mail.backends.locmem.EmailBackend"),
        ],
    )
    def test_development_backends(self, url, backend):
        assert email_from_url(url) == {"EMAIL_BACKEND": backend}

    def test_no_url_uses_email_backend_or_the_console(self, monkeypatch):
        monkeypatch.delenv("EMAIL_BACKEND", raising=False)

        assert email_from_url(None) == {"EMAIL_BACKEND": "django.core.mail.backends.console.EmailBackend"}

    def test_unsupported_scheme(self):
        with pytest.raises(ImproperlyConfigured, match="is not supported"):
            email_from_url("pop3://u:p@host")


# --- production settings under check --deploy -------------------------------------------


def run_deploy_check(extra_env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    # A clean environment: nothing from the test run (DJANGO_SETTINGS_MODULE, DATABASE_URL,
    # DEBUG...) may leak into what production would read.
    env = {"PATH": os.environ.get("PATH", ""), "HOME": os.environ.get("HOME", "/tmp"), **extra_env}
    return subprocess.run(
        [
            sys.executable,
            "manage.py",
            "check",
            "--deploy",
            "--settings=config.settings.production",
            "--fail-level",
            "WARNING",
        ],
        cwd=PROJECT_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_production_settings_pass_the_deploy_check():
    secret_key = secrets.token_urlsafe(45)
    assert len(secret_key) == 60

    result = run_deploy_check(
        {
            "SECRET_KEY": secret_key,
            "ALLOWED_HOSTS": "booking.example.com",
            "FIELD_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        }
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout
    assert "WARNING" not in result.stdout + result.stderr


def test_production_settings_refuse_to_start_without_a_secret_key():
    result = run_deploy_check({"ALLOWED_HOSTS": "booking.example.com"})

    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "The environment variable SECRET_KEY must be set." in result.stderr


def test_production_settings_refuse_to_start_without_allowed_hosts():
    result = run_deploy_check({"SECRET_KEY": secrets.token_urlsafe(45)})

    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "ALLOWED_HOSTS must list the site's host names in production." in result.stderr


# --- the test settings ------------------------------------------------------------------


def test_the_test_settings():
    database = settings.DATABASES["default"]
    if database["ENGINE"] == "django.db.backends.sqlite3":
        assert database["OPTIONS"]["transaction_mode"] == "IMMEDIATE"
        assert "PRAGMA journal_mode=WAL" in database["OPTIONS"]["init_command"]
    else:
        assert database["ENGINE"] == "django.db.backends.postgresql"
    assert settings.EMAIL_BACKEND == "django.core.mail.backends.locmem.EmailBackend"
    assert settings.CACHES["default"]["BACKEND"] == "django.core.cache.backends.locmem.LocMemCache"
    assert settings.DEBUG is False
