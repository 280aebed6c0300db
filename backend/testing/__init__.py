"""Test-only code. Nothing here is imported unless AUTH_TEST_HOOKS=1 and
AUTH_DEV_MODE=1 (backend/app.py): a production process never loads it."""
