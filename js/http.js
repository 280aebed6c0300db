// Requests the engine describes, sent with the global fetch and read back whole.
import { authError } from "./auth-error.js";

/** A request as the engine describes it: `id` names it in the answer (js/engine.js
 * `reply`); `link`: a link's callback (the signed-in user's call).
 * @typedef {{ id: number, method: string, url: string, type?: string, body?: string, bearer?: string, cookie?: true, link?: true }} EngineRequest */
/** A response as the engine's REPLY takes it, its arguments in order (a list: a
 * minifier never shortens an object's member names): the request's id, then its status.
 * @typedef {[body: string, date: string | null, retryAfter: string | null, authToken: string | null, id: number, status: number]} Reply
 * (a header absent: null, which the engine reads as none) */

/** A rejected fetch: aborted by its signal, or a network failure (offline, DNS,
 * CORS, refused connection); the browser does not say which of the latter.
 * WebKit rejects a fetch whose `AbortSignal.timeout` fired with an AbortError, not
 * the signal's TimeoutError (Chromium and Firefox throw the reason): the signal's
 * own reason tells a timeout from the caller's abort in every engine.
 * @param {any} err whatever fetch threw
 * @param {AbortSignal} [signal] the request's signal */
export function fetchError(err, signal) {
  // A signal has a reason only once aborted.
  if (err?.name === "TimeoutError" || signal?.reason?.name === "TimeoutError") return authError("network", "The request timed out");
  return err?.name === "AbortError"
    ? authError("aborted", "The request was aborted")
    : authError("network", "The server could not be reached");
}

/** @param {Request} request */
export async function fetchRequest(request) {
  try {
    return await fetch(request);
  } catch (err) {
    throw fetchError(err, request.signal);
  }
}

/** A Request from the engine's `{method, url, type?, body?, bearer?, cookie?}`;
 * `timeoutMs` bounds the whole exchange (the client's own requests, not the app's).
 * `cookie`: the refresh token is an httpOnly cookie, so credentials go along, with the
 * header that tells the backend this is no cross-site form post (else the default,
 * same-origin: the engine writes `cookie` only as true, so an absent one leaves
 * `credentials` undefined, which WebIDL reads as absent).
 * @param {EngineRequest} req
 * @param {number} timeoutMs */
export function build(req, timeoutMs) {
  /** @type {Record<string, string>} */
  const headers = { Accept: "application/json" };
  if (req.type) headers["Content-Type"] = req.type;
  if (req.bearer) headers.Authorization = `Bearer ${req.bearer}`;
  if (req.cookie) headers["X-CSRF"] = "1";
  try {
    const signal = timeoutMs > 0 ? AbortSignal.timeout?.(timeoutMs) : undefined;
    return new Request(req.url, { method: req.method, headers, body: req.body, signal, credentials: req.cookie && "include" });
  } catch {
    throw authError("config", "Could not build the request");
  }
}

/** What the engine's `reply` takes: `response` to the request `id`.
 * @param {Response} response @param {number} id
 * @returns {Promise<Reply>} */
export async function read(response, id) {
  // An absent header (null) reaches the engine as none.
  const { headers } = response;
  const body = await response.text().catch((err) => {
    throw fetchError(err);
  });
  // Better Auth's rate limiter says X-Retry-After.
  return [body, headers.get("Date"), headers.get("Retry-After") || headers.get("X-Retry-After"), headers.get("set-auth-token"), id, response.status];
}
