"""Reference FastAPI backend for auth-wasm: JWT HS256 access tokens signed with
BETTER_AUTH_SECRET (user id in `sub`), rotating refresh tokens grouped in sessions,
and a small notes API to protect."""
