// The backend the demo talks to (the seed's variable), inlined at build time.
export const BACKEND_URL = process.env.NEXT_PUBLIC_BACKEND_API_URL ?? "http://localhost:8000";

/** sessionStorage key: where /auth/callback goes after a provider link (security page). */
export const AFTER_CALLBACK = "demo:after-callback";
