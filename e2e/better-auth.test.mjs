// The Better Auth bridge (AUTH_MODE=better-auth): Better Auth in Next.js issues HS256
// access tokens under a key both derive from the shared secret, FastAPI verifies them
// (its own accounts off), auth-wasm speaks both. The scenarios: better-auth-suite.mjs.
import { betterAuthScenarios } from "./better-auth-suite.mjs";

betterAuthScenarios();
