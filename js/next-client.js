"use client";
// auth-wasm/next/client: the browser's half of auth-wasm/next. It mirrors the current
// access token (never the refresh token) into the app's HttpOnly cookie through the
// route handler of auth-wasm/next (`sessionRoute`), set and cleared as the session
// changes, so Server Components and the proxy know the user. Only this browser client
// refreshes; the server only reads the cookie. No wasm here: the client it is given
// decides (getSnapshot's status, getAccessToken's expiry and refresh).
import { useEffect, useRef } from "react";
import { useAuth } from "./react.js";

export { safeReturnTo } from "./return-to.js";

export const DEFAULT_SESSION_ENDPOINT = "/api/auth-wasm/session";

/** @typedef {import("./index.js").AuthClient} AuthClient */
/** @typedef {import("./next-client.js").MirrorOptions} MirrorOptions */

/** @type {WeakMap<AuthClient, () => Promise<boolean>>} the running mirror of each client */
const mirrors = new WeakMap();

/** Keep the server's cookie in step with `client`: POST the access token when it
 * changes, DELETE when signed out. Returns the function that stops it.
 * @param {AuthClient} client
 * @param {MirrorOptions} [options] */
export function mirrorAccessToken(client, options = {}) {
  const endpoint = options.endpoint ?? DEFAULT_SESSION_ENDPOINT;
  /** What the cookie holds as far as we know: undefined (not known), null (cleared), a token. */
  /** @type {string | null | undefined} */
  let posted;
  let stopped = false;
  /** One sync at a time, in order: a late answer never overtakes a newer state. */
  let chain = Promise.resolve();

  async function step() {
    if (stopped) return;
    const snapshot = client.getSnapshot();
    // Expired: the client is renewing it (or will say signed out); the cookie's expired
    // token already makes the server say "unknown". A restore in flight: wait for it.
    if (snapshot.status === "expired" || (snapshot.refreshing && snapshot.status !== "authenticated")) return;
    const token = snapshot.status === "authenticated" ? await client.getAccessToken().catch(() => null) : null;
    if (token === posted || stopped) return;
    const init = token
      ? { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ accessToken: token }) }
      : { method: "DELETE" };
    /** @type {Response} */
    let answer;
    try {
      answer = await fetch(endpoint, { ...init, credentials: "same-origin", cache: "no-store" });
    } catch {
      posted = undefined; // not known: the next change sends it again
      return;
    }
    if (!answer.ok) {
      posted = undefined;
      return;
    }
    posted = token;
    const body = await answer.json().catch(() => null);
    // The server saw someone else (or no one) before: what it rendered is out of date.
    if (body !== null && typeof body === "object" && body.changed === true && !stopped) options.onServerChange?.(token !== null);
  }

  const sync = () => {
    chain = chain.then(step, step);
    return chain;
  };
  const unsubscribe = client.subscribe(() => {
    void sync();
  });
  void sync();
  mirrors.set(client, () => chain.then(() => typeof posted === "string"));
  return () => {
    stopped = true;
    unsubscribe();
    mirrors.delete(client);
  };
}

/** Resolves once the cookie reflects `client`'s session as of this call: true when the
 * server holds its access token, false when signed out or the server refused the token
 * (a forged one; at once with no mirror). Await it after signing in, before navigating
 * to a protected page.
 * @param {AuthClient} client
 * @returns {Promise<boolean>} */
export function serverSessionSynced(client) {
  return mirrors.get(client)?.() ?? Promise.resolve(false);
}

/** Inside <AuthProvider>: runs mirrorAccessToken for the provider's client. Pass
 * `onServerChange={() => router.refresh()}` so pages rendered as "unknown" or for a
 * signed-out user render again once the server knows.
 * @param {import("./next-client.js").ServerSessionMirrorProps} props */
export function ServerSessionMirror({ endpoint, onServerChange }) {
  const { client } = useAuth();
  const callback = useRef(onServerChange);
  callback.current = onServerChange;
  useEffect(() => {
    if (!client) return undefined;
    return mirrorAccessToken(client, { endpoint, onServerChange: (signedIn) => callback.current?.(signedIn) });
  }, [client, endpoint]);
  return null;
}
