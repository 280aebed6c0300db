"""`python -m backend --host 127.0.0.1 --port 8000` serves the API;
`python -m backend migrate` upgrades the database schema to this code's revision and exits."""

from __future__ import annotations

import argparse
import logging
import os
import sys

import uvicorn
from pydantic import ValidationError

from .app import create_app
from .db import make_engine
from .migrate import upgrade
from .settings import BACKEND_DIR, ConfigError, Settings


def describe(exc: ValidationError) -> str:
    """Each failing setting by name with pydantic's message, never the input: str(exc)
    echoes the value (OAUTH_PROVIDERS' would show part of a client secret)."""
    problems = []
    for error in exc.errors(include_input=False, include_url=False, include_context=False):
        name = ".".join(str(part) for part in error["loc"])
        where = name.split(".", 1)
        field = where[0].upper() + (f".{where[1]}" if len(where) > 1 else "")
        message = error["msg"].removeprefix("Value error, ")
        problems.append(f"{field}: {message}" if field else message)
    return "; ".join(problems)


def migrate(settings: Settings) -> int:
    """The release step of a deployment with AUTO_MIGRATE=0 (also safe while workers run)."""
    engine = make_engine(settings.database_url)
    try:
        revision = upgrade(engine)
    finally:
        engine.dispose()
    print(f"database schema at revision {revision}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m backend", description=__doc__)
    parser.add_argument("command", nargs="?", choices=("serve", "migrate"), default="serve")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--log-level", default="info")
    args = parser.parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), format="%(levelname)s %(name)s: %(message)s")
    try:
        # BACKEND_ENV_FILE: another settings file (tests point it at nothing).
        env_file = os.environ.get("BACKEND_ENV_FILE", str(BACKEND_DIR / ".env"))
        settings = Settings(_env_file=env_file or None)
        if args.command == "migrate":
            return migrate(settings)
        app = create_app(settings)
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except ValidationError as exc:
        print(f"error: invalid setting: {describe(exc)}", file=sys.stderr)
        return 2
    except ValueError as exc:  # pydantic-settings' SettingsError (names the field only)
        print(f"error: invalid setting: {str(exc).splitlines()[0]}", file=sys.stderr)
        return 2
    # access_log off: request lines would carry query strings; nothing we log names a token.
    uvicorn.run(app, host=args.host, port=args.port, log_level=args.log_level, access_log=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
