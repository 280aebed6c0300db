"""The real server process: start-up refusals and HTTP over a socket."""

from __future__ import annotations

import json
import os
import secrets
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from backend.app import create_app
from backend.settings import ConfigError

from .conftest import make_settings

REPO = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def backend_env(tmp_path, **extra) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("BETTER_AUTH_SECRET", "AUTH_DEV_MODE")}
    # Isolated from a developer's backend/.env (scripts/demo writes a secret there).
    env.update(DATABASE_URL=f"sqlite:///{tmp_path / 'proc.db'}", PASSWORD_HASH_PROFILE="fast", BACKEND_ENV_FILE="")
    env.update(extra)
    return env


def run_backend(tmp_path, port: int, **extra) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "backend", "--host", "127.0.0.1", "--port", str(port)],
        cwd=REPO,
        env=backend_env(tmp_path, **extra),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.mark.parametrize("secret", [None, "too-short"])
def test_missing_or_weak_secret_refuses_to_start_with_one_line(tmp_path, secret):
    extra = {"BETTER_AUTH_SECRET": secret} if secret else {}
    proc = run_backend(tmp_path, free_port(), **extra)
    _out, err = proc.communicate(timeout=30)
    assert proc.returncode == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1
    assert "BETTER_AUTH_SECRET" in lines[0]
    assert "Traceback" not in err
    if secret:
        assert secret not in err


def test_weak_secret_refused_by_the_factory(tmp_path):
    with pytest.raises(ConfigError):
        create_app(make_settings(tmp_path, better_auth_secret="x" * 31))


def test_dev_mode_generates_a_secret_and_says_so(tmp_path, caplog):
    with caplog.at_level("WARNING", logger="backend"):
        create_app(make_settings(tmp_path, better_auth_secret=None, auth_dev_mode=True))
    assert "generated a random BETTER_AUTH_SECRET" in caplog.text


def test_real_server_process_over_http(tmp_path):
    port = free_port()
    proc = run_backend(tmp_path, port, BETTER_AUTH_SECRET=secrets.token_urlsafe(48))
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            try:
                if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.05)
        else:
            pytest.fail("server did not start")
        r = httpx.post(f"{base}/auth/register", json={"email": "p@example.com", "password": "long enough"})
        assert r.status_code == 201
        assert "date" in r.headers
        token = r.json()["access_token"]
        me = httpx.get(f"{base}/auth/me", headers={"Authorization": f"Bearer {token}"})
        assert me.json()["email"] == "p@example.com"
        # A 100 KB header over a real socket: refused, never a 500. The server answers 4xx
        # and closes; when it closes while the client is still sending, the kernel resets
        # the connection before the answer is read (a race of the transport, seen on a
        # loaded machine), which is a refusal too. Either way the server lives on.
        try:
            big = httpx.get(f"{base}/auth/me", headers={"Authorization": "Bearer " + "a" * 100_000})
            assert big.status_code in (400, 401, 431)
        except (httpx.ReadError, httpx.RemoteProtocolError, httpx.WriteError):
            pass
        assert httpx.get(f"{base}/health", timeout=5).status_code == 200
    finally:
        proc.terminate()
        _out, err = proc.communicate(timeout=30)
    assert token not in err
    assert "long enough" not in err


PROVIDER_SECRET = "client-secret-that-must-never-be-printed-9f3k"


def provider_entry(**fields: str) -> str:
    return json.dumps({"acme": {**fields, "client_secret": PROVIDER_SECRET}})


@pytest.mark.parametrize(
    ("setting", "extra", "named"),
    [
        # An http issuer off loopback: pydantic's own message would echo the entry,
        # client secret included.
        ("oauth-http", {"OAUTH_PROVIDERS": provider_entry(issuer="http://id.example.test", client_id="c")}, "OAUTH_PROVIDERS"),
        ("oauth-no-client-id", {"OAUTH_PROVIDERS": provider_entry(issuer="https://id.example.test")}, "OAUTH_PROVIDERS.acme.client_id"),
        ("oauth-not-json", {"OAUTH_PROVIDERS": provider_entry(issuer="https://id.example.test")[:-2]}, "oauth_providers"),
        ("cors-star", {"CORS_ORIGINS": "*"}, "CORS_ORIGINS"),
        ("cors-star-in-list", {"CORS_ORIGINS": "http://localhost:3000,*"}, "CORS_ORIGINS"),
        ("cors-regex-all", {"CORS_ORIGIN_REGEX": ".*"}, "CORS_ORIGIN_REGEX"),
        ("cors-regex-any-https", {"CORS_ORIGIN_REGEX": "https?://.*"}, "CORS_ORIGIN_REGEX"),
        ("hooks-without-dev-mode", {"AUTH_TEST_HOOKS": "1"}, "AUTH_TEST_HOOKS"),
    ],
)
def test_bad_settings_refuse_to_start_with_one_line_that_echoes_no_value(tmp_path, setting, extra, named):
    proc = run_backend(tmp_path, free_port(), BETTER_AUTH_SECRET=secrets.token_urlsafe(48), **extra)
    try:
        _out, err = proc.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        pytest.fail(f"the backend started with {setting}")
    assert proc.returncode == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert named in lines[0]
    assert "Traceback" not in err
    assert PROVIDER_SECRET[:8] not in err, "a settings error echoed the client secret"
    assert "input_value" not in err


def test_test_hooks_with_dev_mode_start_and_answer(tmp_path):
    port = free_port()
    proc = run_backend(tmp_path, port, BETTER_AUTH_SECRET=secrets.token_urlsafe(48), AUTH_TEST_HOOKS="1", AUTH_DEV_MODE="1")
    try:
        for _ in range(200):
            try:
                r = httpx.get(f"http://127.0.0.1:{port}/_test/stats", timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.05)
        else:
            pytest.fail("server did not start")
        assert r.status_code == 200
    finally:
        proc.terminate()
        proc.communicate(timeout=30)


def test_the_test_hooks_are_no_production_module_and_load_only_when_on(tmp_path):
    # Not in the routers package a production build ships and mounts.
    assert not (REPO / "backend" / "routers" / "test_hooks.py").exists()
    script = (
        "import sys\n"
        "from backend.app import create_app\n"
        "from backend.settings import Settings\n"
        f"create_app(Settings(_env_file=None, database_url='sqlite:///{tmp_path / 'imp.db'}', better_auth_secret='s' * 48))\n"
        "print('backend.testing' in sys.modules, any(m.startswith('backend.testing') for m in sys.modules))\n"
    )
    env = backend_env(tmp_path)
    env.pop("AUTH_TEST_HOOKS", None)
    out = subprocess.run([sys.executable, "-c", script], cwd=REPO, env=env, capture_output=True, text=True, timeout=60)
    assert out.stdout.split() == ["False", "False"], out.stderr


def test_hooks_refused_by_the_factory_outside_dev_mode(tmp_path):
    with pytest.raises(ConfigError, match="AUTH_DEV_MODE"):
        create_app(make_settings(tmp_path, auth_test_hooks=True))


def test_an_empty_variable_means_unset(tmp_path, monkeypatch):
    for name in ("AUTH_DEV_MODE", "AUTH_TEST_HOOKS", "ACCESS_TOKEN_TTL", "OAUTH_PROVIDERS", "CORS_ORIGIN_REGEX"):
        monkeypatch.setenv(name, "")
    settings = make_settings(tmp_path)
    assert (settings.auth_dev_mode, settings.auth_test_hooks, settings.access_token_ttl) == (False, False, 900)
    assert (settings.oauth_providers, settings.cors_origin_regex) == ({}, None)


def test_an_empty_variable_starts_the_real_process(tmp_path):
    port = free_port()
    proc = run_backend(tmp_path, port, BETTER_AUTH_SECRET=secrets.token_urlsafe(48), AUTH_DEV_MODE="", REDIS_URL="")
    try:
        for _ in range(200):
            if proc.poll() is not None:
                break
            try:
                if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.05)
        assert proc.poll() is None, "the backend stopped on an empty variable"
    finally:
        proc.terminate()
        _out, err = proc.communicate(timeout=30)
    assert "invalid setting" not in err
