import os
import secrets
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run_settings(**env):
    environment = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "DEBUG")}
    return subprocess.run(
        [
            sys.executable,
            "-c",
            "import portal.settings as s; print(s.DATABASES['default']['ENGINE'])",
        ],
        cwd=ROOT,
        env={**environment, **env},
        capture_output=True,
        text=True,
        check=False,
    )


def test_production_refuses_to_start_without_a_secret_key():
    result = run_settings(DEBUG="false")
    assert result.returncode != 0
    assert "SECRET_KEY must be set when DEBUG is false." in result.stderr


def test_production_starts_with_a_secret_key():
    result = run_settings(DEBUG="false", SECRET_KEY="x" * 50, DATABASE_URL="sqlite:////tmp/x.db")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "django.db.backends.sqlite3"


def test_database_url_selects_postgresql_with_the_polling_health_check():
    result = run_settings(DATABASE_URL="postgres://u@db:5432/leadbridge")
    assert result.stdout.strip() == "portal.postgresql"


def test_production_refuses_an_empty_secret_key():
    result = run_settings(DEBUG="false", SECRET_KEY="")
    assert result.returncode != 0
    assert "SECRET_KEY must be set when DEBUG is false." in result.stderr


def test_trusted_proxies_are_addresses_or_networks_separated_by_commas():
    assert run_settings(TRUSTED_PROXIES="10.0.0.0/8, 192.168.1.7").returncode == 0


def test_a_malformed_trusted_proxy_refuses_to_start():
    result = run_settings(TRUSTED_PROXIES="10.0.0.0/8,10.0.0.1/8")
    assert result.returncode != 0
    assert "10.0.0.1/8 has host bits set" in result.stderr


def run_in_production(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    """Python with the production environment of docs/operations.md over HTTPS, and nothing else."""
    environment = {
        "PATH": os.environ.get("PATH", ""),
        "DJANGO_SETTINGS_MODULE": "portal.settings",
        "DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "leads.example.com",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "CELERY_BROKER_URL": "redis://127.0.0.1:6379/0",
        "STATIC_ROOT": str(tmp_path),
    }
    return subprocess.run(  # noqa: S603 - the arguments are this file's own
        [sys.executable, *args],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        check=False,
    )


def test_deploy_check_passes_with_the_documented_production_environment(tmp_path):
    result = run_in_production(
        tmp_path, "manage.py", "check", "--deploy", "--fail-level", "WARNING"
    )
    assert result.returncode == 0, result.stderr
    assert "W004" not in result.stderr
    assert "W008" not in result.stderr


PROBE = """
import django
django.setup()
from django.test import Client
client = Client(HTTP_HOST="leads.example.com")
for path in ("/healthz/", "/login/"):
    response = client.get(path)
    print(path, response.status_code, response.get("Location", ""))
"""


def test_production_redirects_http_to_https_except_the_health_check(tmp_path):
    result = run_in_production(tmp_path, "-c", PROBE)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "/healthz/ 200 ",
        "/login/ 301 https://leads.example.com/login/",
    ]
