// AuthClient: the JS API. A shell over the wasm engine (src/core/engine.rs): the
// engine decides everything (tokens, expiry, protocols, stored format, retries,
// schedule); this file only performs it: fetch, storage, locks, the channel
// between tabs, timers, listeners. Every refresh goes through one shared promise
// (`flight`), so concurrent callers in a tab send a single refresh request, and
// through a Web Lock (or a claim round on the channel), so tabs send one between them.

// In the order that gzips the bundle smallest (esbuild places modules in the order they
// are first imported; none runs code of another as it loads): -16 B when measured, a
// few bytes either way after any change elsewhere.
import { parsed } from "./engine.js";
import { MAX_TIMEOUT_MS, pageFlags, sleep } from "./tabs.js";
import { build, fetchError, fetchRequest, read } from "./http.js";
import * as op from "./engine.js";
import { passkeyCeremony, requirePasskeys } from "./passkeys.js";
import { arrivalOf, challengeOf, randomText } from "./social.js";
import { dpopSigner } from "./dpop.js";
import { openStore } from "./storage.js";
import { authError, errorFromText, isAuthError } from "./auth-error.js";
import { Coordination } from "./coordination.js";

/** @typedef {import("./http.js").EngineRequest} EngineRequest */
/** @typedef {import("./auth-error.js").AuthError} AuthError */
/** @typedef {import("./index.js").AuthEvent} AuthEvent */
/** @typedef {import("./index.js").AuthListener} AuthListener */

// A page (not a server, a worker, a test runner): timers, page events and the cookie restore.
// Its window, read as a flag (a `window` global defined as the test runners do counts).
const page = globalThis.window;
const unauthorized = () => authError("unauthorized", "Not authorized", 401);
const signedOutByIt = (/** @type {AuthError} */ err) => err.code === "refresh_failed" || err.code === "session_expired";

export class AuthClient {
  // Private: a minifier shortens `#` names (never property names); nothing outside reads them.
  /** @type {import("./storage.js").Store} */
  #store;
  /** @type {import("./dpop.js").DpopSigner | undefined} */
  #dpop;
  /** @type {Set<AuthListener>} */
  #listeners = new Set();
  // Fields left without an initial value start undefined, which each use reads as none;
  // the flight, the restore and the deferred start are set to none again as 0 (shorter
  // than null in the bundle; no timer id is 0).
  /** @type {Readonly<import("./index.js").AuthSnapshot> | null | undefined} */
  #snap;
  #refreshing = false;
  /** @type {Promise<void> | 0 | undefined} */
  #flight;
  /** @type {ReturnType<typeof setTimeout> | undefined} the proactive refresh's (a fired or cleared one is harmless to clear) */
  #timer;
  /** @type {boolean | undefined} */
  #stopped;
  /** @type {Coordination} */
  #coordination;
  /** @type {AbortController | undefined} the last passkey sign-in's (a waiting autofill's) */
  #passkeyWait;
  /** Its abort (free()) removes the page's listeners and closes the channel. */
  #listening = new AbortController();
  /** @type {Promise<void> | 0 | undefined} */
  #restoring;
  /** @type {ReturnType<typeof setTimeout> | 0} */
  #pendingStart;
  // The recorded error's text and AuthError: both start undefined, so the first
  // snapshot finds the text differs and sets them.
  /** @type {string | undefined} */
  #errText;
  /** @type {AuthError | null | undefined} */
  #errObj;

  /** Never throws for what is in storage (garbage is removed); throws AuthError
   * `config` for an invalid config.
   * @param {import("./index.js").AuthConfig} config */
  constructor(config) {
    let json;
    try {
      json = JSON.stringify(config);
    } catch {
      // A config JSON cannot write (a cycle, a BigInt): none, as for undefined.
    }
    // Anything but an options object (none, null, a string, an array) the engine refuses
    // as it does "": `config`, "AuthClient needs a config object with baseUrl".
    this.engine = op.engineOf(json, () => {
      this.#snap = null;
    });
    this.settings = /** @type {op.Settings} */ (op.request(op.call(this, op.SETTINGS)));
    this.#store = openStore(this.settings.storage, `${this.settings.key}:session`);
    // dpop: true where no key can be kept throws `config` here: never a silent bearer.
    this.#dpop = this.settings.dpop && dpopSigner(this.settings.key, this);
    this.#coordination = new Coordination(this);
    if (!op.call(this, op.RESTORE, this.#store.read())) this.#store.write(null);
    // Page events, storage events, the channel, Web Locks and the timer are not needed for
    // the first snapshot: they start in the next task, so a page's start-up does not wait
    // for them (about 1 ms in Chromium), or at once when a change or a refresh needs them.
    this.#pendingStart = setTimeout(() => this.#startCoordination(true));
    // With the refresh token in an httpOnly cookie, a new page holds no tokens:
    // the session comes back by a silent refresh (operations wait for it). No cookie (or
    // a dead one) is simply signed out, not an error. Written here, its one use: a
    // method of its own cost the bundle 5 B more.
    if (this.settings.cookie && page && op.call(this, op.STATUS) === "anonymous") {
      this.#restoring = (async () => {
        this.#setRefreshing(true);
        let restored;
        try {
          await this.#exchange(op.request(op.call(this, op.REFRESH_REQUEST, "cookie")));
          restored = true;
        } catch (err) {
          if (err.code === "refresh_failed") op.call(this, op.CLEAR_ERROR);
        } finally {
          this.#restoring = 0;
          this.#setRefreshing(false);
        }
        // Settled without a session: listeners still hear that `refreshing` ended.
        if (restored) this.changed("signed_in");
        else this.#emit("synced");
        this.#schedule();
      })();
    }
  }

  // ---- the engine ----------------------------------------------------------------

  /** Record a failure the shell met (it shows in the snapshot); returns the engine's copy. */
  #fail(/** @type {AuthError} */ err) {
    this.#snap = null;
    return errorFromText(op.call(this, op.FAIL, err.code, err.message, "", "", 0, err.status));
  }

  /** Send one of the client's own requests and give the engine its reply: the engine's
   * answer. A failure to get a reply (network, timeout) is recorded, so it shows in the
   * snapshot, and thrown. */
  async #exchange(/** @type {EngineRequest} */ req) {
    let reply;
    try {
      reply = await this.#sendOwn(req);
    } catch (err) {
      // Anything not typed yet (a TypeError from a broken platform API) fails as fetch's
      // own failures do (js/http.js: network, "The server could not be reached").
      throw this.#fail(isAuthError(err) ? err : fetchError(err));
    }
    return op.reply(this, reply);
  }

  /** Send one of the client's own requests (with a proof under DPoP); not recorded.
   * @param {EngineRequest} req */
  async #sendOwn(req) {
    // Under DPoP the answer may issue tokens, which must be bound.
    return read(await this.#withToken(build(req, this.settings.timeout), req.bearer, true), req.id);
  }

  // ---- the public API ------------------------------------------------------------------

  // The inputs' members go to the engine as they are (`input?.email`), which passes a
  // falsy one (absent, null, "") as none and any other as its text (a string as it is),
  // and judges what it got: a primitive input has none of them.

  /** Sign in with `{ username, password }` or `{ email, password }`. */
  login(/** @type {import("./index.js").LoginCredentials & { username?: string, email?: string }} */ credentials) {
    return this.#run(() => this.#signIn(op.request(op.call(this, op.LOGIN, credentials?.username, credentials?.email, credentials?.password))));
  }

  /** Create an account and sign in (logging in when the response has no tokens). */
  register(/** @type {import("./index.js").RegisterInput} */ input) {
    return this.#run(async () => {
      const done = await this.#signIn(op.request(op.call(this, op.REGISTER, input?.email, input?.password, input?.name)));
      // Created without signing in: the login that follows reads the same email and password.
      return done === "login" ? this.login(input) : done;
    });
  }

  /** The second step of a two-factor sign-in (status `mfa_required`): a code from
   * the authenticator app, or one of the recovery codes. */
  verifyMfa(/** @type {{ code?: string, recoveryCode?: string }} */ input) {
    return this.#run(() => this.#signIn(op.request(op.call(this, op.MFA_VERIFY, input?.code, input?.recoveryCode))));
  }

  /** Social sign-in: off to the provider (through the backend), which sends the user
   * back to `redirectTo`, where `handleRedirect()` finishes. Resolves as the page
   * starts to navigate. */
  signInWith(/** @type {string} */ provider, /** @type {import("./index.js").SocialSignInOptions} */ options) {
    return this.#run(() => this.#startSocial(provider, options, false));
  }

  /** Link a provider to the signed-in user: the same trip through the provider as
   * `signInWith`, finished by `handleRedirect()` on the page it comes back to.
   * `password`: the step-up the backend asks of a sign-in older than 10 minutes. */
  linkWith(/** @type {string} */ provider, /** @type {import("./index.js").LinkWithOptions} */ options) {
    return this.#run(() => this.#startSocial(provider, options, true));
  }

  /** signInWith and linkWith: PKCE, state, the start request, the pending record, off.
   * @param {string} provider
   * @param {import("./index.js").LinkWithOptions} options
   * @param {boolean} link */
  async #startSocial(provider, options, link) {
    const verifier = randomText(32);
    const state = randomText(16);
    const id = String(provider ?? "");
    const redirectTo = options?.redirectTo;
    // The redirect URI and the issuer let the callback prove it answers this sign-in,
    // not another provider's (RFC 9207, mix-up). An address the URL parser cannot read
    // goes to the engine as none, which it refuses as it refuses any it cannot read
    // (`config`, "redirectTo must be an absolute http(s) URL of this app"): the two
    // parsers differ (an IPv6 host that is none, "http://[x]/", passes the engine's).
    const redirect = arrivalOf(redirectTo);
    // A link's step-up password after `y` (unread): a sign-in passes none.
    const req = op.request(op.call(this, op.SOCIAL_START, id, redirect && redirectTo, await challengeOf(verifier), state, +link, 0, link && options?.password));
    // A link starts as the signed-in user (bearer rules, refresh-and-replay).
    /** @type {{ url: string, flow: string, issuer: string, issRequired: boolean }} */
    const started = link ? await this.#askAuthorized(req) : parsed(/** @type {string} */ (await this.#exchange(req)));
    // Kept with the start answer's fields as they are (the engine reads what it needs;
    // `link` counts only as true).
    // The pending sign-in, in this tab's sessionStorage (it must survive the redirect).
    try {
      sessionStorage.setItem(`${this.settings.key}:social`, JSON.stringify({ ...started, provider: id, state, verifier, redirect, link }));
    } catch {
      throw authError("storage", "Social sign-in needs sessionStorage");
    }
    location.assign(started.url);
  }

  /** Send `req` through the bearer rules (it carries the access token: refresh-and-replay);
   * the engine's answer, parsed.
   * @param {EngineRequest} req */
  async #askAuthorized(req) {
    return parsed(/** @type {string} */ (op.reply(this, await read(await this.#authorized(build(req, this.settings.timeout)), req.id))));
  }

  /** On the page the provider sent the user back to: finish the sign-in (the
   * snapshot; status "mfa_required" when a second factor follows), or null when the
   * URL is no sign-in callback. The callback parameters leave the address bar. */
  handleRedirect(/** @type {string | undefined} */ url) {
    return this.#run(async () => {
      let here;
      try {
        here = new URL(url ?? location.href);
      } catch {
        throw authError("config", "handleRedirect needs an absolute URL");
      }
      const query = here.searchParams;
      // Told before the parameters leave `here` (its href follows its searchParams).
      const current = here.href === location.href;
      // The engine reads state, code, error, iss and at (an absent one is null).
      /** @type {any} */
      const returned = { at: arrivalOf(here.href) };
      for (const name of ["state", "code", "error", "iss", "error_description", "session_state"]) {
        returned[name] = query.get(name);
        query.delete(name);
      }
      if (!returned.state && !returned.code && !returned.error) return null;
      if (current) history.replaceState(history.state, "", here.href);
      // Taken only now: a page without callback parameters leaves a pending sign-in be.
      // The pending sign-in, removed (a callback is handled once); none (null, or undefined
      // where sessionStorage throws) goes to the engine as it is.
      const name = `${this.settings.key}:social`;
      let pending;
      try {
        pending = sessionStorage.getItem(name);
        sessionStorage.removeItem(name);
      } catch {}
      const req = parsed(op.call(this, op.SOCIAL_FINISH, pending, JSON.stringify(returned)));
      if (!req) return null;
      if (req.link) {
        // A link: the provider is now the signed-in user's; the session is unchanged.
        await this.#askAuthorized(req);
        return this.getSnapshot();
      }
      return this.#signIn(req);
    });
  }

  /** Follow an email verification link: its `token`. When signed in, the user is
   * fetched again, so `snapshot.user.email_verified` says true. */
  verifyEmail(/** @type {string} */ token) {
    return this.#run(async () => {
      await this.#exchange(op.subcall(this, op.ACCOUNT, 0 /* verify email */, token));
      if (op.call(this, op.STATUS) !== "anonymous") await this.me();
      return this.getSnapshot();
    });
  }

  /** Mail the signed-in user another verification link. */
  resendVerification() {
    return this.#run(() => this.#askAuthorized(op.subcall(this, op.ACCOUNT, 1 /* resend verification */)));
  }

  /** The providers linked to the signed-in user. */
  identities() {
    return this.#run(() => this.#askAuthorized(op.subcall(this, op.ACCOUNT, 2 /* identities */)));
  }

  /** Unlink a provider from the signed-in user (never the last way to sign in). */
  unlink(/** @type {string} */ provider) {
    return this.#run(() => this.#askAuthorized(op.subcall(this, op.ACCOUNT, 3 /* unlink */, provider)));
  }

  // ---- passkeys (the ceremony itself is js/passkeys.js) ------------------------------------

  /** Add a passkey to the signed-in account; `password`: the step-up an account with
   * a password needs (without one, a sign-in in the last 10 minutes is the proof). */
  registerPasskey(/** @type {import("./index.js").RegisterPasskeyOptions | undefined} */ options) {
    return this.#run(async () => {
      requirePasskeys();
      const started = await this.#askAuthorized(op.subcall(this, op.PASSKEY, 0 /* register options */, options?.password));
      const credential = await passkeyCeremony(true, started.options, options?.signal);
      return this.#askAuthorized(op.subcall(this, op.PASSKEY, 1 /* register */, started.ceremony, credential, options?.name));
    });
  }

  /** Create an account with a passkey only (no password) and sign in. */
  signUpWithPasskey(/** @type {import("./index.js").PasskeySignUpInput} */ input) {
    return this.#run(async () => {
      requirePasskeys();
      const started = parsed(/** @type {string} */ (await this.#exchange(op.subcall(this, op.PASSKEY, 2 /* sign-up options */, input?.email, input?.name))));
      const credential = await passkeyCeremony(true, started.options, input?.signal);
      return this.#signIn(op.subcall(this, op.PASSKEY, 3 /* sign up */, started.ceremony, credential, input?.passkeyName));
    });
  }

  /** Sign in with a passkey (no email asked: the authenticator offers its passkeys).
   * `autofill`: offer them in the autofill of a field with `autocomplete="username
   * webauthn"` instead of a dialog (resolves once one is picked; null when the browser
   * has no such autofill). A newer passkey ceremony aborts a waiting autofill. */
  signInWithPasskey(/** @type {import("./index.js").PasskeySignInOptions | undefined} */ options) {
    return this.#run(async () => {
      requirePasskeys();
      const autofill = options?.autofill;
      // Whether the browser offers passkeys in the autofill of a field (conditional
      // mediation): a truthy answer when it does; undefined where it has no such method
      // (a promise method: it rejects, never throws).
      if (autofill && !(await /** @type {any} */ (PublicKeyCredential).isConditionalMediationAvailable?.().catch(() => false))) return null;
      // One ceremony at a time: a browser refuses a second while one waits. (The last one's
      // controller is kept after it ends: aborting a ceremony that has ended does nothing.)
      this.#passkeyWait?.abort();
      const wait = (this.#passkeyWait = new AbortController());
      // Not a signal (a caller's mistake): the ceremony's own alone, as AbortSignal.any
      // would throw a TypeError.
      const caller = options?.signal;
      const signal = caller instanceof AbortSignal ? AbortSignal.any([caller, wait.signal]) : wait.signal;
      const started = parsed(/** @type {string} */ (await this.#exchange(op.subcall(this, op.PASSKEY, 4 /* sign-in options */))));
      const credential = await passkeyCeremony(false, started.options, signal, autofill);
      return this.#signIn(op.subcall(this, op.PASSKEY, 5 /* sign in */, started.ceremony, credential));
    });
  }

  /** The signed-in user's passkeys. */
  passkeys() {
    return this.#run(() => this.#askAuthorized(op.subcall(this, op.PASSKEY, 6 /* list */)));
  }

  /** Rename one of the signed-in user's passkeys. */
  renamePasskey(/** @type {string} */ id, /** @type {string} */ name) {
    return this.#run(() => this.#askAuthorized(op.subcall(this, op.PASSKEY, 7 /* rename */, id, name)));
  }

  /** Remove one of the signed-in user's passkeys (never the last way to sign in). */
  removePasskey(/** @type {string} */ id) {
    return this.#run(() => this.#askAuthorized(op.subcall(this, op.PASSKEY, 8 /* remove */, id)));
  }

  /** The user's sessions (devices), the current one marked. */
  sessions() {
    return this.#run(() => this.#askAuthorized(op.subcall(this, op.SESSIONS, 0 /* list */)));
  }

  /** End one session (device); its tokens stop working at once. */
  revokeSession(/** @type {string} */ id) {
    return this.#run(() => this.#askAuthorized(op.subcall(this, op.SESSIONS, 1 /* revoke */, id)));
  }

  /** Sign out here, and revoke the session at the backend when it can;
   * `{ everywhere: true }` ends every session of the user first. */
  logout(/** @type {{ everywhere?: boolean } | undefined} */ options) {
    return this.#run(async () => {
      if (options?.everywhere) {
        // Must reach the server: unlike a plain logout, this one reports failure.
        await this.#askAuthorized(op.subcall(this, op.SESSIONS, 2 /* revoke all */));
      }
      const req = parsed(op.call(this, op.LOGOUT));
      if (req) {
        // Best effort: signing out here must not depend on the server answering.
        await this.#sendOwn(req).catch(() => {});
      }
      op.call(this, op.SIGN_OUT);
      // A new key for the next sign-in: nothing bound to this one stays usable.
      await this.#dpop?.drop();
      this.changed("signed_out");
    });
  }

  /** Refresh now; concurrent calls share one request. */
  refresh() {
    return this.#run(async () => {
      await this.#refreshShared();
      return this.getSnapshot();
    });
  }

  /** A usable access token, refreshed first when due; null when signed out or expired. */
  getAccessToken() {
    if (this.#restoring) return this.#run(() => this.#accessToken());
    const access = op.call(this, op.ACCESS);
    // The common case answers without a refresh or a timer change.
    if (access[0] === "1") return Promise.resolve(access.slice(1));
    return this.#run(() => this.#accessToken(access));
  }

  /** `{ Authorization: "Bearer ..." }`, or `{}` when there is no usable token.
   * With DPoP a header alone cannot carry the proof: `config` (use dpopHeaders). */
  async authHeader() {
    if (this.#dpop) throw authError("config", "With dpop: true use dpopHeaders() or fetch()");
    const token = await this.getAccessToken();
    return token ? { Authorization: `Bearer ${token}` } : {};
  }

  /** With DPoP: `{ Authorization: "DPoP ...", DPoP: proof }` for one `method` request
   * to `url` (an allowed origin), or `{}` when there is no usable token. */
  dpopHeaders(/** @type {string} */ url, /** @type {string} */ method = "GET") {
    return this.#run(async () => {
      const dpop = this.#dpop;
      if (!dpop) throw authError("config", "dpopHeaders needs dpop: true");
      // One the URL parser cannot read is none, which no origin allows: one refusal.
      /** @type {string | undefined} */
      let absolute;
      try {
        absolute = new URL(url, globalThis.location?.href).href;
      } catch {}
      if (!op.call(this, op.BEARER_ALLOWED, absolute)) throw authError("config", "dpopHeaders needs a URL of baseUrl's origin or allowedOrigins");
      const token = await this.#accessToken();
      if (!token) return {};
      return { Authorization: `DPoP ${token}`, DPoP: await dpop.proof(method, /** @type {string} */ (absolute), token) };
    });
  }

  /** `fetch` with the bearer for allowed origins; on 401 one refresh and one replay. */
  fetch(/** @type {RequestInfo | URL} */ input, /** @type {RequestInit | undefined} */ init) {
    return this.#run(async () => {
      let request;
      try {
        // As fetch would interpret its arguments; a Request is copied, not consumed.
        request = new Request(input instanceof Request ? input.clone() : input, init);
      } catch {
        throw authError("config", "Invalid fetch input");
      }
      return this.#authorized(request);
    });
  }

  /** The user from the backend's `me` endpoint (or the claims when it has none). */
  me() {
    return this.#run(async () => {
      const req = parsed(op.call(this, op.ME));
      // No `me` endpoint: the claims, or the engine's refusal of a session without them.
      if (!req) return op.request(op.call(this, op.CLAIMS));
      let user;
      try {
        // An API's `me` goes through the bearer rules with refresh-and-replay; Better
        // Auth's get-session carries the session token, which those rules send as it is.
        user = await this.#askAuthorized(req);
      } catch (err) {
        // The session was revoked (signed out elsewhere): signed out here too. (Sending
        // never fails as session_expired: #authorized reports a refused refresh as
        // unauthorized.)
        if (err.code === "session_expired") this.changed("session_expired");
        throw err;
      }
      this.changed("user_updated");
      return user;
    });
  }

  /** Call `listener(snapshot, event)` on every change; returns the unsubscribe function. */
  subscribe(/** @type {AuthListener} */ listener) {
    // A wrapper of its own: the same listener subscribed twice is called twice.
    /** @type {AuthListener} */
    const entry = (snapshot, event) => listener(snapshot, event);
    this.#listeners.add(entry);
    // (It answers delete's boolean, which the API's `() => void` leaves unread.)
    return () => this.#listeners.delete(entry);
  }

  /** Release listeners, timers, the channel and lock markers. */
  free() {
    this.#listeners.clear();
    this.#stopped = true;
    this.#passkeyWait?.abort();
    clearTimeout(this.#timer);
    this.#listening.abort();
    this.#coordination.free();
  }

  [Symbol.dispose]() {
    this.free();
  }

  // ---- state, snapshot, listeners ------------------------------------------------------

  /** Whatever an operation changed (signed in, out, refreshed), the timer follows.
   * @template T
   * @param {() => Promise<T> | T} operation
   * @returns {Promise<T>} */
  async #run(operation) {
    try {
      // Awaited whether or not a restore is under way (0 or undefined: one microtask; the
      // operation then starts in the same task).
      await this.#restoring;
      return await operation();
    } finally {
      this.#schedule();
    }
  }

  /** The current state: the identical object until something changes. */
  getSnapshot() {
    const status = op.call(this, op.STATUS);
    // The snapshot holds while the engine's status is the one it shows.
    if (this.#snap?.status === status) return this.#snap;
    // The recorded error: the same AuthError instance until it changes.
    const text = op.call(this, op.ERROR);
    if (text !== this.#errText) {
      this.#errText = text;
      this.#errObj = text ? errorFromText(text) : null;
    }
    // The engine's view and the shell's three fields.
    return (this.#snap = Object.freeze(/** @type {any} */ ({ .../** @type {op.View} */ (op.request(op.call(this, op.VIEW))), refreshing: this.#refreshing, storage: this.#store.kind, error: this.#errObj })));
  }

  #emit(/** @type {AuthEvent} */ event) {
    this.#snap = null;
    const snapshot = this.getSnapshot();
    // A copy: a listener may unsubscribe (or subscribe) while we iterate.
    for (const listener of [...this.#listeners]) {
      try {
        listener(snapshot, event);
      } catch (err) {
        // Surfaced, without stopping the other listeners.
        globalThis.reportError?.(err);
      }
    }
  }

  /** The session changed here: store it, tell other tabs, tell listeners. */
  changed(/** @type {AuthEvent} */ event) {
    this.#startCoordination();
    const stored = op.call(this, op.PERSISTED);
    if (this.#store.write(stored)) this.#emit("storage_fallback");
    this.#coordination.broadcast(stored);
    this.#emit(event);
  }

  #setRefreshing(/** @type {boolean} */ on) {
    this.#refreshing = on;
    this.#snap = null;
  }

  // ---- signing in ---------------------------------------------------------------------------

  /** Send a sign-in (and the exchange it may lead to); the snapshot after it (status
   * mfa_required when a second factor follows), or "login" when the account was created
   * without signing in.
   * @param {EngineRequest} req
   * @returns {Promise<Readonly<import("./index.js").AuthSnapshot> | "login">} */
  async #signIn(req) {
    const next = /** @type {any} */ (await this.#exchange(req));
    // The next request (Better Auth's exchange), told by its url (the engine's other
    // answers are texts): sent the same way.
    if (next.url) return this.#signIn(next);
    if (next === "login") return next;
    // "mfa": password accepted, no session yet (the snapshot says mfa_required).
    if (next === "mfa") this.#emit("mfa_required");
    else this.changed("signed_in");
    return this.getSnapshot();
  }

  // ---- using the token ------------------------------------------------------------------------

  /** The token to send now, refreshing first when it is due. `access`: the
   * engine's answer when the caller already asked (asking twice would hide the
   * first "expired"). */
  async #accessToken(access = op.call(this, op.ACCESS)) {
    if (access === "r") {
      try {
        await this.#refreshShared();
      } catch (err) {
        // Still a usable token (failed or not) answers it; signed out by it, none; else thrown.
        if (!signedOutByIt(err) && !op.call(this, op.USABLE)) throw err;
      }
      return op.call(this, op.USABLE) || null;
    }
    // Nothing can renew it: said once ("e"), the session stays visible as expired.
    if (access === "e") this.#emit("session_expired");
    // "1" and the token: the token; "e" or "" (none): null.
    return access.slice(1) || null;
  }

  async #authorized(/** @type {Request} */ request) {
    // None where the caller set its own Authorization, or the origin is not allowed.
    const token = !request.headers.has("Authorization") && op.call(this, op.BEARER_ALLOWED, request.url) && (await this.#accessToken());
    if (!token) return fetchRequest(request);
    // Kept unsent (its body unread) for the one replay. Never throws: every request here
    // was made just now (fetch()'s copy, build()'s), and only a used body cannot be cloned.
    const replay = request.clone();
    const response = await this.#withToken(request, token);
    if (response.status !== 401) return response;
    // The token may already have been replaced by a concurrent refresh.
    if (op.call(this, op.CURRENT) === token) {
      try {
        await this.#refreshShared();
      } catch (err) {
        throw signedOutByIt(err) ? unauthorized() : err;
      }
    }
    const fresh = op.call(this, op.CURRENT);
    if (!fresh) throw unauthorized();
    const again = await this.#withToken(replay, fresh);
    if (again.status === 401) throw this.#fail(unauthorized());
    return again;
  }

  /** Send `request` with the access token (if any): a DPoP-bound one with its proof, else
   * as bearer. `tokens`: the answer may issue tokens (js/dpop.js binds them).
   * @param {Request} request @param {string} [token] @param {boolean} [tokens] */
  #withToken(request, token, tokens) {
    if (this.#dpop) return this.#dpop.fetch(request, token, tokens);
    if (token) request.headers.set("Authorization", `Bearer ${token}`);
    return fetchRequest(request);
  }

  // ---- one refresh per tab ----------------------------------------------------------------------

  /** Join the refresh in flight, or start it. */
  #refreshShared() {
    // Cleared once settled, before any caller's continuation (callers await what `finally`
    // answers: it settles after its callback), also when refreshRequest failed before its
    // first await (the callback still runs after this assignment). Only its own callback
    // clears it (free() leaves a flight to settle), so no flight clears another.
    return (this.#flight ||= this.#refreshRequest().finally(() => {
      this.#flight = 0;
    }));
  }

  /** The flight: wait out backoff, take the refresh credential, coordinate with other tabs
   * (one of them refreshes), record the outcome. */
  async #refreshRequest() {
    const postponed = op.call(this, op.POSTPONED);
    // Backing off: nothing was attempted, so the retry state stays as it is.
    if (postponed) throw errorFromText(postponed);
    let failure;
    try {
      const hadSession = op.call(this, op.STATUS) !== "anonymous";
      let refreshToken;
      try {
        refreshToken = op.call(this, op.REFRESH_TOKEN);
      } catch (err) {
        // Expired with nothing to renew it: the engine signed out.
        if (hadSession && op.call(this, op.STATUS) === "anonymous") this.changed("session_expired");
        throw err;
      }
      // A caller that cannot use its token any more waits out a short backoff ("" none,
      // never "0"; setTimeout reads the text as its number).
      const wait = op.call(this, op.BACKOFF_WAIT);
      if (wait) await sleep(/** @type {any} */ (wait));
      // Tried even where the browser says it is offline (navigator.onLine): fetch judges
      // that, and its failure is recorded as the network one it is.
      this.#startCoordination();
      await this.#coordination.refresh(refreshToken);
    } catch (err) {
      failure = err;
    }
    // The failure this shell met, whether or not the engine saw it (offline, a
    // sibling tab's refresh that never arrived): never recorded as a success. One
    // without a code (not an AuthError) is counted as a network one. Still refreshing
    // while a retry is pending: the snapshot says so.
    this.#setRefreshing(op.call(this, op.REFRESH_OUTCOME, failure ? String(failure.code) : "", "", "", "", failure?.retryAfter, Math.random()) === "1");
    this.#schedule();
    if (failure) throw failure;
  }

  /** The refresh request itself and its answer (js/coordination.js decides which tab
   * sends it, then stores and tells). */
  async refreshWith(/** @type {string} */ refreshToken) {
    this.#setRefreshing(true);
    try {
      // (REFRESH_REQUEST never fails: only the exchange is caught.)
      await this.#exchange(op.request(op.call(this, op.REFRESH_REQUEST, refreshToken)));
    } catch (err) {
      // A refused refresh ends the session; a network failure keeps it (backoff
      // decides when again).
      if (err.code === "refresh_failed") this.changed("session_expired");
      throw err;
    }
  }

  // ---- the proactive timer and page events ------------------------------------------------------

  /** Arm (or clear) the timer for the next refresh, as the engine says. */
  #schedule() {
    clearTimeout(this.#timer);
    if (this.#stopped || !page) return;
    const delay = op.call(this, op.NEXT_WAKE, pageFlags());
    if (!delay) return;
    // (Math.min reads the text as its number.)
    this.#timer = setTimeout(() => this.#wake(), Math.min(/** @type {any} */ (delay), MAX_TIMEOUT_MS));
  }

  /** Timer fired, tab shown or focused, network back: refresh if due, else re-arm. */
  #wake() {
    // Never after free(): it clears the timer and its abort removes the listeners.
    if (op.call(this, op.REFRESH_NOW, pageFlags())) this.#refreshShared().catch(() => {});
    else this.#schedule();
  }

  /** The constructor's deferred part, once, now if it has not run (nothing after free()).
   * @param {boolean} [catchUp] also adopt what another tab stored before the storage
   * listener existed (in the deferred task; not when this tab is about to change it) */
  #startCoordination(catchUp) {
    if (!this.#pendingStart) return;
    // The deferred task, if it has not run yet, then finds it done (not cleared: a no-op).
    this.#pendingStart = 0;
    // Here too: the first use of navigator.locks costs about 0.15 ms in Chromium. Where the
    // browser has it (a secure context; typed as present, which it may not be): a
    // LockManager, else undefined, which coordination reads as none.
    this.#coordination.locks = /** @type {any} */ (globalThis.navigator)?.locks;
    if (this.#stopped || !page) return;
    const { signal } = this.#listening;
    const listen = (/** @type {EventTarget} */ target, /** @type {string} */ type, /** @type {(event: any) => void} */ handler) => target.addEventListener(type, handler, { signal });
    const wake = () => this.#wake();
    if (globalThis.document) listen(document, "visibilitychange", wake);
    for (const type of ["focus", "online", "offline"]) listen(window, type, wake);
    // Adopt what another tab wrote to localStorage (sign-in, refresh, sign-out).
    if (this.#store.kind === "local") {
      // Any key's change (null: storage.clear()): the session's is re-read, which the
      // engine adopts only when it differs.
      listen(window, "storage", () => this.adoptStored() && this.#schedule());
      if (catchUp) this.adoptStored();
    }
    if (globalThis.BroadcastChannel) {
      const coordination = this.#coordination;
      // Named as coordination.js names its locks: storageKey, then what it is for.
      const channel = (coordination.channel = new BroadcastChannel(`${this.settings.key}:sync`));
      // Closed by the signal's abort (a closed channel delivers nothing): no `listen`.
      channel.onmessage = (event) => coordination.onMessage(event.data);
      // Not a listener by `listen`: the signal removes those before its abort event.
      signal.onabort = () => {
        channel.close();
        coordination.channel = null;
      };
    }
    this.#schedule();
  }

  // ---- state between tabs (coordination.js's host) -------------------------------------------------

  /** Take a session another tab produced: `stored`, or (absent) what it wrote to storage,
   * re-read; never writes back. True when it differed (listeners told), else falsy. */
  adoptStored(/** @type {string | null} */ stored = this.#store.read()) {
    // ADOPT answers "1" when it differed, else "" (falsy: this one's answer then).
    return op.call(this, op.ADOPT, stored) && (this.#emit("synced"), true);
  }

  /** Adopt a session another tab sent (its storage may not have reached us yet). */
  adoptText(/** @type {string | null} */ stored) {
    if (!this.adoptStored(stored)) return;
    // sessionStorage and memory are per tab: keep our copy current. localStorage
    // is shared: the sender already wrote it.
    if (this.#store.kind !== "local") this.#store.write(stored);
    this.#schedule();
  }
}
