// A consumer of the package, type-checked with `tsc --strict` (scripts/test-wasm).
// It fails to compile when a public type is missing, loose (`any`) or wrong.
import {
  AuthClient,
  AuthError,
  decodeJwt,
  isAuthError,
  isExpired,
  type AuthConfig,
  type AuthErrorCode,
  type AuthEvent,
  type AuthFields,
  type AuthSnapshot,
  type AuthStatus,
  type Identity,
  type JwtClaims,
  type LinkWithOptions,
  type Passkey,
  type SocialSignInOptions,
} from "auth-wasm";

type IsAny<T> = 0 extends 1 & T ? true : false;
type Assert<T extends true> = T;
type Not<T extends boolean> = T extends true ? false : true;
type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;

// No `any` on the public surface.
export type _noAny = [
  Assert<Not<IsAny<Parameters<AuthClient["login"]>[0]>>>,
  Assert<Not<IsAny<Awaited<ReturnType<AuthClient["login"]>>>>>,
  Assert<Not<IsAny<Parameters<AuthClient["register"]>[0]>>>,
  Assert<Not<IsAny<Awaited<ReturnType<AuthClient["getAccessToken"]>>>>>,
  Assert<Not<IsAny<Awaited<ReturnType<AuthClient["authHeader"]>>>>>,
  Assert<Not<IsAny<Awaited<ReturnType<AuthClient["dpopHeaders"]>>>>>,
  Assert<Not<IsAny<Awaited<ReturnType<AuthClient["fetch"]>>>>>,
  Assert<Not<IsAny<Awaited<ReturnType<AuthClient["me"]>>>>>,
  Assert<Not<IsAny<ReturnType<AuthClient["getSnapshot"]>>>>,
  Assert<Not<IsAny<Parameters<AuthClient["subscribe"]>[0]>>>,
  Assert<Not<IsAny<ReturnType<typeof decodeJwt>>>>,
  Assert<Not<IsAny<ConstructorParameters<typeof AuthClient>[0]>>>,
];

// Exact shapes.
export type _exact = [
  Assert<Equal<AuthStatus, "anonymous" | "authenticated" | "expired" | "mfa_required">>,
  Assert<Equal<Awaited<ReturnType<AuthClient["getAccessToken"]>>, string | null>>,
  Assert<Equal<Awaited<ReturnType<AuthClient["fetch"]>>, Response>>,
  Assert<Equal<Awaited<ReturnType<AuthClient["logout"]>>, void>>,
  Assert<Equal<AuthSnapshot["expiresAt"], number | null>>,
  Assert<Equal<AuthSnapshot["error"], AuthError | null>>,
  Assert<Equal<AuthSnapshot["storage"], "local" | "session" | "memory">>,
  Assert<Equal<AuthError["code"], AuthErrorCode>>,
  Assert<Equal<AuthError["retryAfter"], number | undefined>>,
  Assert<Equal<ReturnType<typeof isExpired>, boolean>>,
  Assert<Equal<Awaited<ReturnType<AuthClient["signInWith"]>>, void>>,
  Assert<Equal<Awaited<ReturnType<AuthClient["handleRedirect"]>>, AuthSnapshot | null>>,
  Assert<Equal<Awaited<ReturnType<AuthClient["verifyEmail"]>>, AuthSnapshot>>,
  Assert<Equal<Awaited<ReturnType<AuthClient["resendVerification"]>>, void>>,
  Assert<Equal<Awaited<ReturnType<AuthClient["linkWith"]>>, void>>,
  Assert<Equal<Awaited<ReturnType<AuthClient["identities"]>>, Identity[]>>,
  Assert<Equal<Awaited<ReturnType<AuthClient["unlink"]>>, void>>,
  Assert<Equal<Identity["provider"], string>>,
  Assert<Equal<Awaited<ReturnType<AuthClient["registerPasskey"]>>, Passkey>>,
  Assert<Equal<Awaited<ReturnType<AuthClient["signUpWithPasskey"]>>, AuthSnapshot>>,
  Assert<Equal<Awaited<ReturnType<AuthClient["signInWithPasskey"]>>, AuthSnapshot | null>>,
  Assert<Equal<Awaited<ReturnType<AuthClient["passkeys"]>>, Passkey[]>>,
  Assert<Equal<Awaited<ReturnType<AuthClient["renamePasskey"]>>, Passkey>>,
  Assert<Equal<Awaited<ReturnType<AuthClient["removePasskey"]>>, void>>,
  Assert<Equal<Passkey["lastUsedAt"], string | null>>,
];

const config: AuthConfig = {
  baseUrl: "http://localhost:8000",
  protocol: "oauth2-password",
  endpoints: { login: "/auth/token", me: "/auth/me" },
  storage: "session",
  refreshMargin: 60,
  leeway: 30,
  allowedOrigins: ["https://files.example.com"],
};
const auth = new AuthClient(config);
// Django REST framework SimpleJWT (docs/backends.md).
const fields: AuthFields = { accessToken: "access", refreshToken: "refresh", refreshBody: "refresh", user: "data.user", expiresIn: "data.ttl" };
new AuthClient({ baseUrl: "http://127.0.0.1:8000", endpoints: { login: "/api/token/", refresh: "/api/token/refresh/" }, fields });
// @ts-expect-error fields keys are closed
new AuthClient({ baseUrl: "http://127.0.0.1:8000", fields: { access: "access" } });
// @ts-expect-error a path is a string, not an array of names
new AuthClient({ baseUrl: "http://127.0.0.1:8000", fields: { accessToken: ["data", "token"] } });

export async function flows(): Promise<void> {
  const snap: AuthSnapshot = await auth.login({ email: "a@b.co", password: "pw" });
  await auth.login({ username: "ada", password: "pw" });
  await auth.register({ email: "a@b.co", password: "pw", name: "Ada" });
  const status: AuthStatus = snap.status;
  const token: string | null = await auth.getAccessToken();
  const header = await auth.authHeader();
  const bound = new AuthClient({ baseUrl: "http://localhost:8000", dpop: true });
  const proofHeaders = await bound.dpopHeaders("http://localhost:8000/notes", "POST");
  // Both headers or none: straight into fetch's headers.
  const proofInit: RequestInit = { headers: proofHeaders };
  void proofInit;
  const _dpopExact: Assert<Equal<typeof proofHeaders, { Authorization: string; DPoP: string } | Record<string, never>>> = true;
  void _dpopExact;
  const init: RequestInit = { headers: header };
  const res: Response = await auth.fetch("http://localhost:8000/notes", init);
  await auth.fetch(new URL("http://localhost:8000/notes"));
  await auth.fetch(new Request("http://localhost:8000/notes"), { method: "POST" });
  const unsubscribe: () => void = auth.subscribe((s: AuthSnapshot, e: AuthEvent) => {
    void s.refreshing;
    void e;
  });
  unsubscribe();
  const claims: JwtClaims = decodeJwt(token ?? "");
  const sub: string | undefined = claims.sub;
  try {
    await auth.refresh();
  } catch (err) {
    if (isAuthError(err)) {
      const code: AuthErrorCode = err.code;
      const wait: number | undefined = err.retryAfter;
      const field: string | undefined = err.fields?.["email"];
      void [code, wait, field];
    }
    if (err instanceof AuthError && err.code === "rate_limited") {
      void err.status;
    }
  }
  await auth.signInWith("acme", { redirectTo: "http://localhost:3000/auth/callback" });
  try {
    const back: AuthSnapshot | null = await auth.handleRedirect();
    void back?.status;
  } catch (err) {
    if (isAuthError(err) && (err.code === "state_mismatch" || err.code === "consent_denied" || err.code === "code_used")) {
      void err.message;
    }
  }
  const verified: AuthSnapshot = await auth.verifyEmail("token-from-the-link");
  void verified.user?.email_verified;
  await auth.resendVerification();
  await auth.linkWith("acme", { redirectTo: "http://localhost:3000/auth/callback" });
  // Step-up for a sign-in over 10 minutes old: the password goes with the link.
  try {
    await auth.linkWith("acme", { redirectTo: "http://localhost:3000/auth/callback", password: "pw" });
  } catch (err) {
    if (isAuthError(err) && err.code === "unauthorized") void err.status;
  }
  const linkOptions: LinkWithOptions = { redirectTo: "http://localhost:3000/auth/callback" };
  const signInOptions: SocialSignInOptions = linkOptions;
  void signInOptions;
  for (const identity of await auth.identities()) await auth.unlink(identity.provider);
  const added: Passkey = await auth.registerPasskey({ name: "Laptop", password: "pw" });
  await auth.renamePasskey(added.id, "Work laptop");
  try {
    const back: AuthSnapshot | null = await auth.signInWithPasskey({ autofill: true, signal: AbortSignal.timeout(60_000) });
    void back?.status;
  } catch (err) {
    if (isAuthError(err) && (err.code === "aborted" || err.code === "invalid_credentials" || err.code === "config")) void err.message;
  }
  await auth.signUpWithPasskey({ email: "a@b.co", name: "Ada", passkeyName: "Phone" });
  for (const passkey of await auth.passkeys()) if (!passkey.backedUp) await auth.removePasskey(passkey.id);
  void [status, res, sub, isExpired(token ?? "", 30)];
  auth.free();
}

// Mistakes the types must catch.
// @ts-expect-error protocol is a closed union
new AuthClient({ baseUrl: "http://localhost:8000", protocol: "soap" });
// @ts-expect-error baseUrl is required
new AuthClient({ storage: "local" });
// @ts-expect-error login needs a password
void auth.login({ email: "a@b.co" });
// @ts-expect-error signInWith needs where to come back to
void auth.signInWith("acme");
// @ts-expect-error linkWith needs where to come back to
void auth.linkWith("acme");
// @ts-expect-error a social sign-in takes no password (only linkWith's step-up does)
void auth.signInWith("acme", { redirectTo: "http://localhost:3000/auth/callback", password: "pw" });
// @ts-expect-error the step-up password is text
void auth.linkWith("acme", { redirectTo: "http://localhost:3000/auth/callback", password: 1234 });
// @ts-expect-error a passkey sign-up needs the email
void auth.signUpWithPasskey({ name: "Ada" });
// @ts-expect-error renamePasskey needs the new name
void auth.renamePasskey("id");
// @ts-expect-error verifyEmail needs the link's token
void auth.verifyEmail();
// @ts-expect-error handleRedirect takes a URL string
void auth.handleRedirect(42);
// @ts-expect-error events are a closed union
export const badEvent: AuthEvent = "changed";
