"""``manage.py check --deploy`` in a production-like environment (issue 7).

``tests/core/test_settings.py`` runs the check with DEBUG off, a secret key and a
host. This file runs it the way a deployment starts: every setting from the
environment (PostgreSQL, Redis broker and cache, a generated secret key, an HTTPS
origin, provider keys present), nothing from the test run leaking in. It shows the
settings the check passed are the secure ones, that the check is not vacuous (the
same command fails when a protection is switched off), and that the provider keys
in that environment appear in no settings dump.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CANARY_KEY = "sk-proj-DEPLOYCANARY-0123456789abcdef"
# Only what an operator's environment would hold: no DEBUG, no test switches.
KEEP = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "DATABASE_URL", "CELERY_BROKER_URL")


def production_env(**overrides: str) -> dict[str, str]:
    base = {k: os.environ[k] for k in KEEP if k in os.environ}
    broker = base.get("CELERY_BROKER_URL", "redis://127.0.0.1:6379/13")
    env = {
        **base,
        "DJANGO_SETTINGS_MODULE": "workbench.settings",
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(64),
        "ALLOWED_HOSTS": "workbench.example.org",
        "CSRF_TRUSTED_ORIGINS": "https://workbench.example.org",
        "CELERY_BROKER_URL": broker,
        "CACHE_URL": broker,  # as .env.example: redis://…
        "OPENAI_API_KEY": CANARY_KEY,
        "ANTHROPIC_API_KEY": CANARY_KEY,
    }
    env.update(overrides)
    return {k: v for k, v in env.items() if v != ""}


def manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def deploy_check(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return manage("check", "--deploy", "--fail-level", "WARNING", env=env)


SHOW = (
    "import json; from django.conf import settings as s; print(json.dumps({"
    "'DEBUG': s.DEBUG, 'db': s.DATABASES['default']['ENGINE'], "
    "'broker': s.CELERY_BROKER_URL.split(':')[0], "
    "'cache': s.CACHES['default']['BACKEND'], "
    "'ssl_redirect': s.SECURE_SSL_REDIRECT, 'hsts': s.SECURE_HSTS_SECONDS, "
    "'session_secure': s.SESSION_COOKIE_SECURE, 'csrf_secure': s.CSRF_COOKIE_SECURE, "
    "'judge_retry': s.JUDGE_RETRY}))"
)


def test_deploy_check_is_clean_in_a_production_environment():
    env = production_env(JUDGE_REQUEST_TIMEOUT="7.5")
    result = deploy_check(env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout

    shown = manage("shell", "-c", SHOW, env=env)
    assert shown.returncode == 0, shown.stderr
    values = json.loads(shown.stdout.strip().splitlines()[-1])
    assert values["DEBUG"] is False
    assert values["db"] == "django.db.backends.postgresql"
    assert values["broker"] == "redis"
    assert "redis" in values["cache"].lower()
    assert values["ssl_redirect"] is True
    assert values["hsts"] >= 31536000
    assert values["session_secure"] is values["csrf_secure"] is True
    # Provider timeouts come from the environment too.
    assert values["judge_retry"]["request_timeout"] == 7.5


@pytest.mark.parametrize(
    ("override", "expected"),
    [
        ({"DEBUG": "1"}, "security.W018"),  # DEBUG on
        ({"SECURE": "0"}, "security.W012"),  # cookies without Secure
        ({"SECURE_HSTS_SECONDS": "0"}, "security.W004"),  # no HSTS
        ({"SECRET_KEY": "short"}, "security.W009"),  # a weak key
    ],
)
def test_the_check_fails_when_a_protection_is_off(override, expected):
    result = deploy_check(production_env(**override))
    assert result.returncode != 0
    assert expected in result.stdout + result.stderr


def test_provider_keys_in_the_environment_are_in_no_settings_dump():
    env = production_env()
    dumped = manage("diffsettings", "--all", env=env)
    assert dumped.returncode == 0, dumped.stderr
    assert "SECRET_KEY" in dumped.stdout  # the dump is complete
    assert "DEPLOYCANARY" not in dumped.stdout + dumped.stderr
