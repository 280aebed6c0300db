// Better Auth, mounted at /api/auth, in one of two ways:
// - AUTH_MODE=better-auth (the seed's "Approach 1"): JWTs that FastAPI verifies with a
//   key both derive from BETTER_AUTH_SECRET (access-token.ts): HS256, `typ: at+jwt`,
//   `sub` = user id, `email`, `name`, `iat`, `exp` (15 min), `iss` = this app's URL,
//   `aud` = the API (JWT_AUDIENCE).
// - AUTH_MODE=better-auth-jwks: the jwt plugin as it ships (EdDSA keys it makes and
//   keeps, published at /api/auth/jwks; the default payload, the user); FastAPI reads
//   the keys there (JWT_JWKS_URL). Only `iss` and `aud` are set, to the same values.
// Server-only: imported by the route handler, never by client components.
import { LibsqlDialect } from "@libsql/kysely-libsql";
import { betterAuth } from "better-auth";
import { getMigrations } from "better-auth/db/migration";
import { bearer, genericOAuth, jwt, twoFactor } from "better-auth/plugins";
import path from "node:path";
import { DEFAULT_AUDIENCE, accessTokenKey, signAccessToken } from "./access-token";
import { genericOAuthConfigs } from "./social-providers";

// Built on first request, not at import: `next build` evaluates route modules, and
// the secret is a runtime setting.
function createAuth() {
  const secret = process.env.BETTER_AUTH_SECRET ?? "";
  const baseURL = process.env.BETTER_AUTH_URL ?? "http://localhost:3000";
  const audience = process.env.JWT_AUDIENCE || DEFAULT_AUDIENCE;
  const key = accessTokenKey(secret);
  const expirationTime = process.env.BETTER_AUTH_JWT_TTL ?? "15m";
  const rotation = Number(process.env.BETTER_AUTH_JWKS_ROTATION ?? 0);
  const providers = genericOAuthConfigs();
  // A file next to the backend's SQLite database (var/ is gitignored). libSQL ships its
  // native binary as an npm package, so it installs on a machine with no compiler.
  const databaseUrl = process.env.BETTER_AUTH_DATABASE_URL ?? `file:${path.join(process.cwd(), "..", "var", "better-auth.db")}`;
  return betterAuth({
  secret,
  baseURL,
  database: { dialect: new LibsqlDialect({ url: databaseUrl }), type: "sqlite" },
  emailAndPassword: { enabled: true, minPasswordLength: 8 },
  plugins: [
    // Sign-in answers carry the session token in `set-auth-token`; auth-wasm keeps it
    // and sends it as a bearer to /token, /get-session and /sign-out.
    bearer(),
    // Two-factor sign-in (TOTP, backup codes): a password sign-in of an enrolled user
    // answers `twoFactorRedirect`, which auth-wasm reports as mfa_required.
    twoFactor(),
    // Social sign-in with OpenID providers (BETTER_AUTH_OIDC_PROVIDERS), through
    // auth-wasm's signInWith / handleRedirect.
    ...(providers.length ? [genericOAuth({ config: providers })] : []),
    process.env.AUTH_MODE === "better-auth-jwks"
      ? jwt({
          // BETTER_AUTH_JWKS_ROTATION (seconds): a new key pair after that long; the
          // old one stays published (30 days), so tokens it signed live out their time.
          jwks: rotation > 0 ? { rotationInterval: rotation } : undefined,
          jwt: { issuer: baseURL, audience, expirationTime },
        })
      : jwt({
          // HS256 with the shared secret has no public key to publish; Better Auth still
          // wants a JWKS location and algorithm once signing is custom.
          jwks: { remoteUrl: `${baseURL}/api/auth/jwks`, keyPairConfig: { alg: "EdDSA" } },
          jwt: {
            issuer: baseURL,
            audience,
            expirationTime,
            definePayload: ({ user }) => ({ email: user.email, name: user.name }),
            sign: (payload) => signAccessToken(payload, key),
          },
        }),
  ],
  });
}

let instance: ReturnType<typeof createAuth> | null = null;
let schema: Promise<void> | null = null;

/** The Better Auth instance, its tables created on first use (idempotent). */
export async function getAuth(): Promise<ReturnType<typeof createAuth>> {
  instance ??= createAuth();
  const auth = instance;
  schema ??= getMigrations(auth.options).then(({ runMigrations }) => runMigrations());
  await schema;
  return auth;
}
