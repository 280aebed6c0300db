// The engine's ops, as src/web/engine.rs `mod op` names and numbers them (the one source:
// tests/ops-table.test.mjs checks this copy); js/engine.js re-exports them. A module of
// their own that imports nothing: esbuild then writes each use of a name as its number,
// across modules, so a name costs the bundle nothing (it inlines no constant of a module
// with imports, which might run first and see it uninitialised).
//
// Each says what it takes (`a`..`d`: strings, "" or absent when unused; `n`: a count;
// `y`: a number) and what it answers: text, "1" or "" where it is a flag (read by its
// truthiness). The client calls most where it uses them, `op.call(this, op.STATUS)`, and
// reads the answer there (`request` for JSON, `parsed` where "" means none): a function
// of its own per op cost the bundle about 5 B each (an op that has one names it here).

/** `a`: the config's JSON (absent: none) -> the new engine's handle. */
export const CONFIGURE = 0;
/** -> the settings' JSON (js/engine.js `Settings`). */
export const SETTINGS = 1;
/** `a`: the stored session at start (null: none) -> "1", "" when it was unreadable (remove it). */
export const RESTORE = 2;
/** `a`: what another tab stored or sent (null: signed out) -> "1" when it differed. */
export const ADOPT = 3;
/** -> the text to store for the session, "" to remove it. */
export const PERSISTED = 4;
/** -> the status (js/engine.js `Status`). */
export const STATUS = 5;
/** -> the snapshot's session part as JSON (js/engine.js `View`). */
export const VIEW = 6;
/** -> the recorded error's JSON, or "". */
export const ERROR = 7;
/** `a`, `b`, `y`: a failure the shell met (code, message, status) -> the recorded error's JSON. */
export const FAIL = 8;
/** -> "" (the recorded error cleared). */
export const CLEAR_ERROR = 9;
// The requests (JSON: js/http.js `EngineRequest`; each carries an id, the engine keeps
// its kind, and REPLY takes every answer).
/** `a`..`c`: username, email, password -> a request. */
export const LOGIN = 10;
/** `a`..`c`: email, password, name -> a request. */
export const REGISTER = 11;
/** `a`, `b`: the code, the recovery code -> a request. */
export const MFA_VERIFY = 12;
/** `a`..`d`: provider, redirectTo, the PKCE challenge, state; `n`: 1 for a link; `p` (after `y`):
 * the link's step-up password -> a request. */
export const SOCIAL_START = 13;
/** `a`: the pending sign-in, `b`: the callback's parameters (js/engine.js `Returned`) as JSON -> the
 * callback's request (`link` set for a link's), or "" when the page is no callback. */
export const SOCIAL_FINISH = 14;
/** `a`: the refresh credential (REFRESH_TOKEN's, or "cookie") -> a request. */
export const REFRESH_REQUEST = 15;
/** -> the best-effort revocation's request, or "" when the protocol has none. */
export const LOGOUT = 16;
/** -> the `me` request, or "" when the protocol has none (CLAIMS then). */
export const ME = 17;
/** js/engine.js `subcall` (`n`: which; `a`: the session to revoke) -> a request. */
export const SESSIONS = 18;
/** js/engine.js `subcall` (`n`: which; `a`: the token or provider) -> a request. */
export const ACCOUNT = 19;
/** js/engine.js `reply`. */
export const REPLY = 20;
/** -> "" (signed out). */
export const SIGN_OUT = 21;
/** -> what the current token allows: "1" and the token (use it), "r" (refresh first),
 * "e" (expired: said once, the first time) or "" (after that, or signed out). */
export const ACCESS = 22;
/** -> the token after a refresh attempt (failed or not), or "". */
export const USABLE = 23;
/** `a`: a URL -> "1" when a request to it may carry the bearer. */
export const BEARER_ALLOWED = 24;
/** -> the refresh credential; throws when there is none (and, once expired, signs out). */
export const REFRESH_TOKEN = 25;
/** `a`: a refresh token -> "1" when the session no longer holds it (another tab's refresh replaced it). */
export const SUPERSEDED = 26;
/** How a refresh went, `a`: the code of the error the shell met ("" when it succeeded),
 * `n`: its Retry-After in seconds, `y`: a random number for the jitter -> "1" while a
 * retry is pending. */
export const REFRESH_OUTCOME = 27;
/** -> the backoff to sit out before refreshing, in ms; "" for none (the engine answers a
 * wait only while it is still ahead: never "0"). */
export const BACKOFF_WAIT = 28;
/** -> during backoff, the error (JSON) to answer at once instead of refreshing; else "". */
export const POSTPONED = 29;
/** `a`: the page's state (tabs.js `pageFlags`) -> the delay until the proactive refresh
 * in ms ("0" and below: now), "" for no timer. */
export const NEXT_WAKE = 30;
/** `a`: the page's state -> "1" to refresh now (timer, tab shown, back online). */
export const REFRESH_NOW = 31;
/** -> the access token's claims as JSON, for protocols without `me` (`me()`'s answer);
 * throws `session_expired` "Not signed in" (recorded) when the session has none. */
export const CLAIMS = 32;
/** `a`: a refresh token -> a short fingerprint naming it without revealing it. */
export const FINGERPRINT = 33;
/** -> the access token held now (expired or not), or "". */
export const CURRENT = 34;
/** js/engine.js `subcall` (`n`: which; `a`..`c`: its arguments) -> a request. */
export const PASSKEY = 35;
/** `a`..`d`: method, URL, jti, the access token's hash ("" for an auth request) -> the
 * claims of a proof as JSON ("" when the URL is no absolute http(s) one, which no caller
 * passes: see js/dpop.js `proof`). */
export const DPOP_CLAIMS = 36;
/** What an answer to a request means for DPoP (its nonce is remembered): `a`..`d`: the
 * request's URL, the answer's DPoP-Nonce and Date, its WWW-Authenticate for a 401 (else
 * its body where it matters: token routes, else ""); `y`: its status -> "" (take it as
 * it is), "r" (send again with a fresh proof: a new nonce, a corrected clock) or "u"
 * (tokens the backend did not bind: never used as bearer). */
export const DPOP_ANSWER = 37;
/** -> "" (signed out: the nonces go with the key). */
export const DPOP_CLEAR = 38;
/** The engine's handle freed (once its Engine is collected: it answers nothing). */
export const FREE = 39;
/** Not the engine's: (`n`: a byte count) -> the address of at least that many bytes of
 * input buffer. */
export const INPUT = 40;
/** Not the engine's either: the token buffer's address (`n` = 0) or length (else). */
export const SCRATCH = 41;
/** Not the engine's either: whether the token of `n` bytes in the token buffer is expired
 * at `x` (the device's clock), allowing `y` seconds (NaN: none) -> 1 or 0. */
export const EXPIRED = 42;
/** Not the engine's either: the token of `n` bytes in the token buffer decoded in place
 * -> the payload's length, or -1 - the error's length (read as an i32: `| 0`). */
export const DECODE = 43;
