// auth-wasm/next: the signed-in user on a Next.js server (proxy/middleware on the Node
// runtime, Server Components, route handlers, server actions). The server only ever
// reads the access token the browser mirrors into an HttpOnly cookie (auth-wasm/next/client);
// it never holds or spends the refresh token, so only the browser refreshes and a rotating
// refresh token has one spender. The engine decodes the token and judges expiry (jwt.js);
// this module verifies the signature (WebCrypto HMAC) or asks the backend, and does the
// HTTP: cookies, redirects, the bearer on server fetches.
import "./engine-inline.js";
import { decodeJwt, isExpired } from "./jwt.js";

export { safeReturnTo } from "./return-to.js";

const DEFAULT_COOKIE = "auth-wasm-at";
/** HKDF "info" of the reference backend's access-token key (backend/security.py). */
const ACCESS_KEY_LABEL = "auth-wasm access token v1";
/** Longer than any access token we take: a larger body is not one. */
const MAX_TOKEN_CHARS = 8192;

/** @typedef {import("./next.js").NextAuthOptions} NextAuthOptions */
/** @typedef {import("./next.js").ServerSession} ServerSession */
/** @typedef {import("./next.js").ServerUser} ServerUser */
/** @typedef {import("./index.js").JwtClaims} JwtClaims */

const SIGNED_OUT = Object.freeze({ status: "signed_out", user: null, claims: null, expiresAt: null });
const unknown = (/** @type {"missing" | "expired" | "unverified"} */ reason) => Object.freeze({ status: "unknown", reason, user: null, claims: null, expiresAt: null });

/** @param {string} text */
function base64urlBytes(text) {
  // 4n+1 characters is no base64url text: atob would throw (readSession must answer).
  if (!/^[A-Za-z0-9_-]*$/.test(text) || text.length % 4 === 1) return null;
  const binary = atob(text.replace(/-/g, "+").replace(/_/g, "/").padEnd(Math.ceil(text.length / 4) * 4, "="));
  return Uint8Array.from(binary, (c) => c.charCodeAt(0));
}

/** @param {string} part */
function jsonPart(part) {
  const bytes = base64urlBytes(part);
  if (!bytes) return null;
  try {
    const value = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
    return value !== null && typeof value === "object" && !Array.isArray(value) ? value : null;
  } catch {
    return null;
  }
}

function matches(/** @type {string | readonly string[] | undefined} */ expected, /** @type {unknown} */ actual) {
  if (expected === undefined) return true;
  const wanted = Array.isArray(expected) ? expected : [expected];
  const got = Array.isArray(actual) ? actual : [actual];
  return got.some((value) => typeof value === "string" && wanted.includes(value));
}

/** The HS256 key the backend verifies with: HKDF-SHA256(secret, empty salt, label), or the
 * raw secret (the seed's JWT_RAW_SECRET=1 setup).
 * @param {string} secret @param {boolean} raw */
async function hmacKey(secret, raw) {
  const secretBytes = new TextEncoder().encode(secret);
  let keyBytes = secretBytes;
  if (!raw) {
    const base = await crypto.subtle.importKey("raw", secretBytes, "HKDF", false, ["deriveBits"]);
    const bits = await crypto.subtle.deriveBits(
      { name: "HKDF", hash: "SHA-256", salt: new Uint8Array(0), info: new TextEncoder().encode(ACCESS_KEY_LABEL) },
      base,
      256,
    );
    keyBytes = new Uint8Array(bits);
  }
  return crypto.subtle.importKey("raw", keyBytes, { name: "HMAC", hash: "SHA-256" }, false, ["verify"]);
}

/** The user as the server shows it: from `me` when asked, else from the claims.
 * @param {JwtClaims} claims @returns {ServerUser} */
function userFromClaims(claims) {
  /** @type {ServerUser} */
  const user = { id: String(claims.sub) };
  if (typeof claims.email === "string") user.email = claims.email;
  if (typeof claims.name === "string") user.name = claims.name;
  return user;
}

/** A cookie header's value by name (a Request has no parsed cookies).
 * @param {string | null} header @param {string} name */
function cookieFrom(header, name) {
  if (!header) return undefined;
  for (const part of header.split(";")) {
    const at = part.indexOf("=");
    if (at > 0 && part.slice(0, at).trim() === name) {
      try {
        return decodeURIComponent(part.slice(at + 1).trim());
      } catch {
        return undefined;
      }
    }
  }
  return undefined;
}

/** Whether `path` is under one of `patterns` (a string: that path and everything below
 * it, at a segment boundary; a RegExp: tested against the path).
 * @param {string} path @param {ReadonlyArray<string | RegExp>} patterns */
export function matchesPath(path, patterns) {
  return patterns.some((pattern) => {
    if (pattern instanceof RegExp) return pattern.test(path);
    const base = pattern.endsWith("/") && pattern !== "/" ? pattern.slice(0, -1) : pattern;
    return path === base || path.startsWith(base === "/" ? "/" : `${base}/`);
  });
}

/** The hosts a request was addressed to: Next's request.url says "localhost" for any
 * server address, so the Host header (and a proxy's X-Forwarded-Host) count too.
 * @param {Request} request */
const requestHosts = (request) =>
  [request.headers.get("x-forwarded-host"), request.headers.get("host"), new URL(request.url).host].filter(
    /** @returns {host is string} */ (host) => typeof host === "string" && host !== "",
  );

/** @param {string} host "name:port" */
function hostnameOf(host) {
  try {
    return new URL(`http://${host}`).hostname;
  } catch {
    return "";
  }
}

/** @param {string} host */
const isLoopback = (host) => host === "localhost" || host === "127.0.0.1" || host === "[::1]" || host.endsWith(".localhost");

/** The server side, configured once (e.g. in lib/auth-server.ts).
 * @param {NextAuthOptions} [options] */
export function createNextAuth(options = {}) {
  const cookieName = options.cookieName ?? DEFAULT_COOKIE;
  const grace = options.cookieGrace ?? 3600;
  const apiUrl = options.apiUrl ? new URL(options.apiUrl) : null;
  const mePath = options.mePath ?? "/auth/me";
  const signInPath = options.signInPath ?? "/signin";
  const returnParam = options.returnParam ?? "returnTo";
  if (!options.secret && !apiUrl) throw new TypeError("createNextAuth needs `secret` (to verify tokens) or `apiUrl` (to ask the backend's me)");
  /** @type {Promise<CryptoKey> | null} */
  let key = null;

  /** The signature and claims, or SIGNED_OUT; exp is judged after (an expired but genuine
   * token is "unknown": the browser refreshes it).
   * @param {string} token @returns {Promise<{ claims: JwtClaims } | null>} */
  async function verifyLocally(token) {
    const parts = token.split(".");
    if (parts.length !== 3) return null;
    const header = jsonPart(parts[0]);
    // HS256 pinned (RFC 8725 2.1); typ at+jwt as the backend requires, unless raw mode.
    if (!header || header.alg !== "HS256") return null;
    if (!options.rawSecret && !(typeof header.typ === "string" && ["at+jwt", "application/at+jwt"].includes(header.typ.toLowerCase()))) return null;
    const signature = base64urlBytes(parts[2]);
    if (!signature) return null;
    key ??= hmacKey(/** @type {string} */ (options.secret), options.rawSecret === true);
    const ok = await crypto.subtle.verify("HMAC", await key, signature, new TextEncoder().encode(`${parts[0]}.${parts[1]}`));
    if (!ok) return null;
    return claimsOf(token);
  }

  /** @param {string} token */
  function claimsOf(token) {
    let claims;
    try {
      claims = decodeJwt(token);
    } catch {
      return null;
    }
    if (typeof claims.sub !== "string" || claims.sub === "" || typeof claims.exp !== "number") return null;
    if (!matches(options.issuer, claims.iss) || !matches(options.audience, claims.aud)) return null;
    return { claims };
  }

  /** The session a token stands for.
   * @param {string | null | undefined} token
   * @param {{ network?: boolean }} [how] network false: no backend call (middleware)
   * @returns {Promise<ServerSession>} */
  async function readSession(token, how = {}) {
    if (!token) return unknown("missing");
    if (token.length > MAX_TOKEN_CHARS) return SIGNED_OUT;
    const verified = options.secret ? await verifyLocally(token) : claimsOf(token);
    if (!verified) return SIGNED_OUT;
    const { claims } = verified;
    // The server's own clock, no leeway: a token at its end is the browser's to renew.
    if (isExpired(token, 0)) return unknown("expired");
    const expiresAt = /** @type {number} */ (claims.exp) * 1000;
    if (options.secret || how.network === false) {
      return Object.freeze({ status: "authenticated", user: userFromClaims(claims), claims, expiresAt });
    }
    // No key here: the backend says whether the token is good (and who it is).
    let body;
    try {
      const answer = await fetch(new URL(mePath, /** @type {URL} */ (apiUrl)), {
        headers: { Authorization: `Bearer ${token}`, Accept: "application/json" },
        cache: "no-store",
      });
      if (answer.status === 401 || answer.status === 403) return SIGNED_OUT;
      if (!answer.ok) return unknown("unverified");
      body = await answer.json();
    } catch {
      // The backend is down or said nothing usable: not known, not signed out.
      return unknown("unverified");
    }
    const user = body !== null && typeof body === "object" ? { ...userFromClaims(claims), ...body, id: String(body.id ?? claims.sub) } : userFromClaims(claims);
    return Object.freeze({ status: "authenticated", user, claims, expiresAt });
  }

  /** The access token in the request's cookies (Server Components, actions, handlers). */
  async function tokenFromCookies() {
    const { cookies } = await import("next/headers");
    return (await cookies()).get(cookieName)?.value;
  }

  /** @param {Request} request @param {string} location */
  function redirect(request, location, clearCookie = false) {
    const headers = new Headers({ Location: location, "Cache-Control": "no-store" });
    if (clearCookie) headers.append("Set-Cookie", cookieHeader(request, "", 0));
    // No body: nothing of the page is sent before the user is known.
    return new Response(null, { status: 307, headers });
  }

  /** @param {Request} request @param {string} value @param {number} maxAge */
  function cookieHeader(request, value, maxAge) {
    const secure = !requestHosts(request).every((host) => isLoopback(hostnameOf(host)));
    return `${cookieName}=${value}; Path=/; Max-Age=${Math.max(0, Math.floor(maxAge))}; HttpOnly; SameSite=Lax${secure ? "; Secure" : ""}`;
  }

  /** A write from this origin's own script only: a cross-site form or fetch could
   * otherwise plant another account's token (login CSRF). */
  function sameOrigin(/** @type {Request} */ request) {
    const origin = request.headers.get("origin");
    const site = request.headers.get("sec-fetch-site");
    if (origin === null || (site !== null && site !== "same-origin")) return false;
    let host;
    try {
      host = new URL(origin).host;
    } catch {
      return false;
    }
    return requestHosts(request).includes(host);
  }

  const json = (/** @type {unknown} */ body, status = 200, /** @type {string[]} */ cookies = []) => {
    const headers = new Headers({ "Content-Type": "application/json", "Cache-Control": "no-store" });
    for (const c of cookies) headers.append("Set-Cookie", c);
    return new Response(JSON.stringify(body), { status, headers });
  };

  /** Whether the server saw someone else before (so the page must render again). */
  async function changedFrom(/** @type {Request} */ request, /** @type {string | null} */ sub) {
    const before = await readSession(cookieFrom(request.headers.get("cookie"), cookieName), { network: false });
    return before.status !== "authenticated" || before.claims.sub !== sub;
  }

  return {
    cookieName,
    readSession,

    /** The signed-in user, "unknown" (no cookie, or an expired token the browser will
     * renew) or "signed_out" (forged, tampered, revoked). */
    async getSession() {
      return readSession(await tokenFromCookies());
    },

    /** For proxy.ts (middleware): a 307 to the sign-in page for a protected path without
     * a valid or expired-but-genuine token, else undefined (the request goes on). No
     * backend call: with `secret` the signature is checked here; without, only the
     * token's shape and claims (the page's getSession and the API verify it).
     * @param {Request} request
     * @param {{ paths: ReadonlyArray<string | RegExp> }} protect */
    async protect(request, protect) {
      // request.url, not nextUrl: the query goes back exactly as it came (nextUrl re-encodes it).
      const url = new URL(request.url);
      if (!matchesPath(url.pathname, protect.paths)) return undefined;
      const token = cookieFrom(request.headers.get("cookie"), cookieName);
      const session = await readSession(token, { network: false });
      if (session.status === "authenticated" || (session.status === "unknown" && session.reason === "expired")) return undefined;
      const target = new URL(signInPath, url.origin);
      target.searchParams.set(returnParam, `${url.pathname}${url.search}`);
      // Absolute: Next's proxy refuses a relative Location.
      return redirect(request, target.href, token !== undefined);
    },

    /** `fetch` to the API with the bearer from the cookie (never to another origin); no
     * refresh on 401: that is the browser's.
     * @param {string | URL} input a path under apiUrl, or a URL on its origin
     * @param {RequestInit} [init] */
    async fetch(input, init) {
      if (!apiUrl) throw new TypeError("auth-wasm/next: fetch needs `apiUrl`");
      const url = new URL(input, apiUrl);
      const headers = new Headers(init?.headers);
      if (url.origin === apiUrl.origin && !headers.has("Authorization")) {
        const token = await tokenFromCookies();
        // An expired or malformed token is not sent: the API would only refuse it.
        if ((await readSession(token, { network: false })).status === "authenticated") headers.set("Authorization", `Bearer ${token}`);
      }
      return fetch(url, { cache: "no-store", ...init, headers });
    },

    /** The route handler the browser posts the access token to (POST `{ accessToken }`)
     * and clears it with (DELETE): `export const { POST, DELETE } = auth.sessionRoute`.
     * It takes only a genuine, unexpired access token of this API: a refresh token, a
     * session token or a forged JWT is refused. */
    sessionRoute: {
      /** @param {Request} request */
      async POST(request) {
        if (!sameOrigin(request)) return json({ error: "forbidden" }, 403);
        if (!(request.headers.get("content-type") ?? "").startsWith("application/json")) return json({ error: "unsupported_media_type" }, 415);
        let body;
        try {
          body = await request.json();
        } catch {
          return json({ error: "invalid_body" }, 400);
        }
        const token = body !== null && typeof body === "object" && typeof body.accessToken === "string" ? body.accessToken : "";
        const session = await readSession(token);
        if (session.status !== "authenticated") return json({ error: "invalid_token" }, 400);
        const changed = await changedFrom(request, String(session.claims.sub));
        const maxAge = (session.expiresAt - Date.now()) / 1000 + grace;
        return json({ status: "authenticated", changed }, 200, [cookieHeader(request, token, maxAge)]);
      },
      /** @param {Request} request */
      async DELETE(request) {
        if (!sameOrigin(request)) return json({ error: "forbidden" }, 403);
        const had = cookieFrom(request.headers.get("cookie"), cookieName) !== undefined;
        return json({ status: "signed_out", changed: had }, 200, [cookieHeader(request, "", 0)]);
      },
    },
  };
}
