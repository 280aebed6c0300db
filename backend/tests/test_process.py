"""The real server process: start-up refusals and HTTP over a socket."""

from __future__ import annotations

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
        # A 100 KB header over a real socket: refused, never a 500.
        big = httpx.get(f"{base}/auth/me", headers={"Authorization": "Bearer " + "a" * 100_000})
        assert big.status_code in (400, 401, 431)
    finally:
        proc.terminate()
        _out, err = proc.communicate(timeout=30)
    assert token not in err
    assert "long enough" not in err
