// The backend the demo talks to (the seed's variable), inlined at build time.
export const BACKEND_URL = process.env.NEXT_PUBLIC_BACKEND_API_URL ?? "http://localhost:8000";
