// AuthClient: the JS API. A shell over the wasm engine (src/core/engine.rs): the
// engine decides everything (tokens, expiry, protocols, stored format, retries,
// schedule); this file only performs it: fetch, storage, locks, the channel
// between tabs, timers, listeners. Every refresh goes through one shared promise
// (`flight`), so concurrent callers in a tab send a single refresh request, and
// through a Web Lock (or a claim round on the channel), so tabs send one between them.
import { authError } from "./auth-error.js";
import { Engine } from "./engine.js";
import { build, fetchRequest, read, send } from "./http.js";
import { Store } from "./storage.js";
import { Pending, arrivalOf, challengeOf, randomText } from "./social.js";
import { MAX_TIMEOUT_MS, TIMED_OUT, holdMarker, isHeld, lockManager, online, pageFlags, sleep, withLock } from "./tabs.js";

/** How long losers of a claim round (no Web Locks) listen for competing claims. */
const CLAIM_WINDOW_MS = 150;
/** How long a tab waits for the tokens another tab refreshed to reach it. */
const SUCCESSOR_WAIT_MS = 5000;
/** Spent fingerprints remembered from other tabs. */
const SPENT_MEMORY = 16;

/** @typedef {import("./http.js").EngineRequest} EngineRequest */
/** @typedef {import("./auth-error.js").AuthError} AuthError */
/** @typedef {import("./index.js").AuthEvent} AuthEvent */
/** @typedef {import("./index.js").AuthListener} AuthListener */

const text = (/** @type {any} */ obj, /** @type {string} */ key) => (obj !== null && typeof obj === "object" && typeof obj[key] === "string" ? obj[key] : "");
const unauthorized = () => authError("unauthorized", "Not authorized", 401);
const signedOutByIt = (/** @type {AuthError} */ err) => err.code === "refresh_failed" || err.code === "session_expired";

export class AuthClient {
  /** Never throws for what is in storage (garbage is removed); throws AuthError
   * `config` for an invalid config.
   * @param {import("./index.js").AuthConfig} config */
  constructor(config) {
    let json;
    try {
      json = config !== null && typeof config === "object" ? JSON.stringify(config) : undefined;
    } catch {
      json = undefined;
    }
    if (json === undefined) throw authError("config", "AuthClient needs a config object with baseUrl");
    this.engine = new Engine(json, () => {
      this.snap = null;
    });
    this.settings = this.engine.settings();
    this.store = new Store(this.settings.storage, `${this.settings.key}:session`);
    /** @type {Set<{ listener: AuthListener }>} */
    this.listeners = new Set();
    this.snap = null;
    this.snapStatus = null;
    this.refreshing = false;
    this.flight = null;
    this.timer = null;
    this.stopped = false;
    /** @type {string[]} fingerprints of refresh tokens spent (newest last) */
    this.spent = [];
    /** @type {(() => void)[]} */
    this.markers = [];
    this.claim = null;
    this.lost = false;
    this.busy = null;
    this.tabId = Math.random();
    /** @type {(() => void)[]} */
    this.cleanups = [];
    const stored = this.store.read();
    if (stored !== null && !this.engine.restore(stored)) this.store.write(null);
    this.restoring = null;
    // With the refresh token in an httpOnly cookie, a new page holds no tokens:
    // the session comes back by a silent refresh (operations wait for it).
    if (this.settings.cookie && typeof window !== "undefined" && this.engine.status() === "anonymous") {
      this.restoring = this.restoreByCookie();
    }
    this.startCoordination();
  }

  // ---- the engine ----------------------------------------------------------------

  /** Send one of the client's own requests; a failure to get an answer (network,
   * timeout) is recorded, so it shows in the snapshot, and thrown. */
  async sendRecorded(/** @type {EngineRequest} */ req) {
    try {
      return await send(req, this.settings.timeout);
    } catch (err) {
      throw this.engine.fail(err);
    }
  }

  // ---- the public API ------------------------------------------------------------------

  /** Sign in with `{ username, password }` or `{ email, password }`. */
  login(/** @type {import("./index.js").LoginCredentials} */ credentials) {
    return this.run(() => this.loginWith(text(credentials, "username"), text(credentials, "email"), text(credentials, "password")));
  }

  /** Create an account and sign in (logging in when the response has no tokens). */
  register(/** @type {import("./index.js").RegisterInput} */ input) {
    return this.run(async () => {
      const email = text(input, "email");
      const password = text(input, "password");
      const req = this.engine.register(email, password, text(input, "name"));
      if ((await this.signIn(req)) === "login") return this.loginWith("", email, password);
      return this.snapshot();
    });
  }

  /** The second step of a two-factor sign-in (status `mfa_required`): a code from
   * the authenticator app, or one of the recovery codes. */
  verifyMfa(/** @type {{ code: string } | { recoveryCode: string }} */ input) {
    return this.run(async () => {
      await this.signIn(this.engine.verifyMfa(text(input, "code"), text(input, "recoveryCode")));
      return this.snapshot();
    });
  }

  /** Social sign-in: off to the provider (through the backend), which sends the user
   * back to `redirectTo`, where `handleRedirect()` finishes. Resolves as the page
   * starts to navigate. */
  signInWith(/** @type {string} */ provider, /** @type {import("./index.js").SocialSignInOptions} */ options) {
    return this.run(() => this.startSocial(provider, options, false));
  }

  /** Link a provider to the signed-in user: the same trip through the provider as
   * `signInWith`, finished by `handleRedirect()` on the page it comes back to. */
  linkWith(/** @type {string} */ provider, /** @type {import("./index.js").SocialSignInOptions} */ options) {
    return this.run(() => this.startSocial(provider, options, true));
  }

  /** signInWith and linkWith: PKCE, state, the start request, the pending record, off.
   * @param {string} provider
   * @param {import("./index.js").SocialSignInOptions} options
   * @param {boolean} link */
  async startSocial(provider, options, link) {
    const verifier = randomText(32);
    const state = randomText(16);
    const challenge = await challengeOf(verifier);
    const id = String(provider ?? "");
    const redirectTo = text(options, "redirectTo");
    const req = this.engine.socialStart(id, redirectTo, challenge, state, link);
    // The redirect URI and the issuer let the callback prove it answers this sign-in,
    // not another provider's (RFC 9207, mix-up).
    const redirect = arrivalOf(redirectTo);
    // A link starts as the signed-in user (bearer rules, refresh-and-replay).
    const reply = link ? await this.sendAuthorized(req) : await this.sendRecorded(req);
    const { url, flow, issuer, issRequired } = JSON.parse(/** @type {string} */ (this.engine.reply(req, reply)));
    /** @type {{ provider: string, state: string, verifier: string, flow: string, issuer: string, issRequired: boolean, redirect: string, link?: true }} */
    const pending = { provider: id, state, verifier, flow, issuer, issRequired, redirect };
    if (link) pending.link = true;
    new Pending(this.settings.key).save(JSON.stringify(pending));
    location.assign(url);
  }

  /** One of the client's requests that carries the access token (refresh-and-replay).
   * @param {EngineRequest} req */
  async sendAuthorized(req) {
    return read(await this.authorized(build(req, this.settings.timeout)));
  }

  /** On the page the provider sent the user back to: finish the sign-in (the
   * snapshot; status "mfa_required" when a second factor follows), or null when the
   * URL is no sign-in callback. The callback parameters leave the address bar. */
  handleRedirect(/** @type {string | undefined} */ url) {
    return this.run(async () => {
      let here;
      try {
        here = new URL(url ?? location.href);
      } catch {
        throw authError("config", "handleRedirect needs an absolute URL");
      }
      const query = here.searchParams;
      const names = ["state", "code", "error", "error_description", "iss", "session_state"];
      const param = (/** @type {string} */ name) => query.get(name) ?? "";
      const returned = { state: param("state"), code: param("code"), error: param("error"), iss: param("iss"), at: arrivalOf(here.href) };
      if (!returned.state && !returned.code && !returned.error) return null;
      if (here.href === location.href) {
        for (const name of names) query.delete(name);
        history.replaceState(history.state, "", here.href);
      }
      // Taken only now: a page without callback parameters leaves a pending sign-in be.
      const req = this.engine.socialFinish(new Pending(this.settings.key).take(), returned);
      if (!req) return null;
      if (req.link) {
        // A link: the provider is now the signed-in user's; the session is unchanged.
        this.engine.reply(req, await this.sendAuthorized(req));
        return this.snapshot();
      }
      await this.signIn(req);
      return this.snapshot();
    });
  }

  /** Follow an email verification link: its `token`. When signed in, the user is
   * fetched again, so `snapshot.user.email_verified` says true. */
  verifyEmail(/** @type {string} */ token) {
    return this.run(async () => {
      const req = this.engine.account(0 /* verify email */, String(token ?? ""));
      this.engine.reply(req, await this.sendRecorded(req));
      if (this.engine.status() !== "anonymous") await this.me();
      return this.snapshot();
    });
  }

  /** Mail the signed-in user another verification link. */
  resendVerification() {
    return this.run(async () => {
      await this.accountCall(1 /* resend verification */, "");
    });
  }

  /** The providers linked to the signed-in user. */
  identities() {
    return this.run(() => this.accountCall(2 /* identities */, "").then((list) => JSON.parse(list)));
  }

  /** Unlink a provider from the signed-in user (never the last way to sign in). */
  unlink(/** @type {string} */ provider) {
    return this.run(async () => {
      await this.accountCall(3 /* unlink */, String(provider ?? ""));
    });
  }

  /** One of the signed-in user's account calls through the bearer rules; its text.
   * @param {import("./engine.js").AccountCall} which
   * @param {string} arg the token or provider, or "" */
  async accountCall(which, arg) {
    const req = this.engine.account(which, arg);
    return /** @type {string} */ (this.engine.reply(req, await this.sendAuthorized(req)));
  }

  /** The user's sessions (devices), the current one marked. */
  sessions() {
    return this.run(() => this.sessionsCall(0 /* list */, "").then((list) => JSON.parse(list)));
  }

  /** End one session (device); its tokens stop working at once. */
  revokeSession(/** @type {string} */ id) {
    return this.run(async () => {
      await this.sessionsCall(1 /* revoke */, String(id));
    });
  }

  /** A sessions request through the bearer rules (refresh-and-replay included); its text. */
  async sessionsCall(/** @type {import("./engine.js").SessionsCall} */ which, /** @type {string} */ id) {
    const req = this.engine.sessions(which, id);
    return /** @type {string} */ (this.engine.reply(req, await this.sendAuthorized(req)));
  }

  /** Sign out here, and revoke the session at the backend when it can;
   * `{ everywhere: true }` ends every session of the user first. */
  logout(/** @type {{ everywhere?: boolean } | undefined} */ options) {
    return this.run(async () => {
      if (options?.everywhere) {
        // Must reach the server: unlike a plain logout, this one reports failure.
        await this.sessionsCall(2 /* revoke all */, "");
      }
      const req = this.engine.logout();
      if (req) {
        // Best effort: signing out here must not depend on the server answering.
        await send(req, this.settings.timeout).catch(() => {});
      }
      this.engine.signOut();
      this.changed("signed_out");
    });
  }

  /** Refresh now; concurrent calls share one request. */
  refresh() {
    return this.run(async () => {
      await this.refreshShared();
      return this.snapshot();
    });
  }

  /** A usable access token, refreshed first when due; null when signed out or expired. */
  getAccessToken() {
    if (this.restoring) return this.run(() => this.accessToken());
    const access = this.engine.access();
    // The common case answers without a refresh or a timer change.
    if (typeof access === "object") return Promise.resolve(access.token);
    return this.run(() => this.accessToken(access));
  }

  /** `{ Authorization: "Bearer ..." }`, or `{}` when there is no usable token. */
  authHeader() {
    return this.getAccessToken().then((token) => (token ? { Authorization: `Bearer ${token}` } : {}));
  }

  /** `fetch` with the bearer for allowed origins; on 401 one refresh and one replay. */
  fetch(/** @type {RequestInfo | URL} */ input, /** @type {RequestInit | undefined} */ init) {
    return this.run(async () => {
      let request;
      try {
        // As fetch would interpret its arguments; a Request is copied, not consumed.
        request = input instanceof Request && init == null ? input.clone() : new Request(input, init ?? undefined);
      } catch {
        throw authError("config", "Invalid fetch input");
      }
      return this.authorized(request);
    });
  }

  /** The user from the backend's `me` endpoint (or the claims when it has none). */
  me() {
    return this.run(async () => {
      const req = this.engine.me();
      if (!req) {
        const claims = this.engine.claims();
        if (claims) return claims;
        throw this.engine.fail(authError("session_expired", "Not signed in"));
      }
      // Better Auth's get-session takes the session token; an API's `me` goes
      // through the bearer rules with refresh-and-replay.
      const reply = req.bearer ? await send(req, this.settings.timeout) : await read(await this.authorized(build(req, this.settings.timeout)));
      let user;
      try {
        user = /** @type {string} */ (this.engine.reply(req, reply));
      } catch (err) {
        // The session was revoked (signed out elsewhere): signed out here too.
        if (err.code === "session_expired") this.changed("session_expired");
        throw err;
      }
      this.changed("user_updated");
      return JSON.parse(user);
    });
  }

  /** The current state: the identical object until something changes. */
  getSnapshot() {
    return this.snapshot();
  }

  /** Call `listener(snapshot, event)` on every change; returns the unsubscribe function. */
  subscribe(/** @type {AuthListener} */ listener) {
    const entry = { listener };
    this.listeners.add(entry);
    return () => {
      this.listeners.delete(entry);
    };
  }

  /** Release listeners, timers, the channel and lock markers. */
  free() {
    this.listeners.clear();
    this.flight = null;
    this.stopped = true;
    clearTimeout(this.timer);
    for (const cleanup of this.cleanups.splice(0)) cleanup();
    for (const release of this.markers.splice(0)) release();
  }

  [Symbol.dispose]() {
    this.free();
  }

  // ---- state, snapshot, listeners ------------------------------------------------------

  /** Whatever an operation changed (signed in, out, refreshed), the timer follows.
   * @template T
   * @param {() => Promise<T> | T} operation
   * @returns {Promise<T>} */
  async run(operation) {
    try {
      if (this.restoring) await this.restoring;
      return await operation();
    } finally {
      this.schedule();
    }
  }

  snapshot() {
    const status = this.engine.status();
    if (this.snap && this.snapStatus === status) return this.snap;
    /** @type {any} */
    const view = this.engine.view();
    view.refreshing = this.refreshing;
    view.storage = this.store.kind;
    view.error = this.engine.error();
    this.snap = Object.freeze(view);
    this.snapStatus = view.status;
    return this.snap;
  }

  emit(/** @type {AuthEvent} */ event) {
    this.snap = null;
    const snapshot = this.snapshot();
    // A copy: a listener may unsubscribe (or subscribe) while we iterate.
    for (const { listener } of [...this.listeners]) {
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
    const stored = this.engine.persisted();
    if (this.store.write(stored)) this.emit("storage_fallback");
    this.broadcastSession(stored);
    this.emit(event);
  }

  setRefreshing(/** @type {boolean} */ on) {
    this.refreshing = on;
    this.snap = null;
  }

  // ---- signing in ---------------------------------------------------------------------------

  /** Cookie transport, on a page without a session: one silent refresh. No cookie
   * (or a dead one) is simply signed out, not an error. */
  async restoreByCookie() {
    this.setRefreshing(true);
    /** @type {AuthEvent} */
    let event = "signed_in";
    try {
      const req = this.engine.refreshRequest("cookie");
      this.engine.reply(req, await this.sendRecorded(req));
    } catch (err) {
      if (err.code === "refresh_failed") this.engine.clearError();
      // Settled without a session: listeners still hear that `refreshing` ended.
      event = "synced";
    } finally {
      this.restoring = null;
      this.setRefreshing(false);
    }
    if (event === "signed_in") this.changed(event);
    else this.emit(event);
    this.schedule();
  }

  async loginWith(/** @type {string} */ username, /** @type {string} */ email, /** @type {string} */ password) {
    await this.signIn(this.engine.login(username, email, password));
    return this.snapshot();
  }

  /** Send a sign-in (and the exchange it may lead to); "login" when the account
   * was created without signing in. */
  async signIn(/** @type {EngineRequest} */ req) {
    for (;;) {
      const next = this.engine.reply(req, await this.sendRecorded(req));
      if (next === "login") return next;
      if (next === "mfa") {
        // Password accepted, no session yet: the snapshot says mfa_required.
        this.emit("mfa_required");
        return next;
      }
      if (typeof next === "string") break;
      req = next;
    }
    this.changed("signed_in");
    return "";
  }

  // ---- using the token ------------------------------------------------------------------------

  /** The token to send now, refreshing first when it is due. `access`: the
   * engine's answer when the caller already asked (asking twice would hide the
   * first "expired"). */
  async accessToken(access = this.engine.access()) {
    if (typeof access === "object") return access.token;
    if (access === "refresh") {
      try {
        await this.refreshShared();
      } catch (err) {
        if (!this.engine.usable()) {
          if (signedOutByIt(err)) return null;
          throw err;
        }
      }
      return this.engine.usable();
    }
    // Nothing can renew it: said once, the session stays visible as expired.
    if (access === "expired") this.emit("session_expired");
    return null;
  }

  async authorized(/** @type {Request} */ request) {
    const callerSetAuth = request.headers.has("Authorization");
    if (callerSetAuth || !this.engine.bearerAllowed(request.url)) return fetchRequest(request);
    const token = await this.accessToken();
    if (!token) return fetchRequest(request);
    let replay;
    try {
      // Kept unsent (its body unread) for the one replay.
      replay = request.clone();
    } catch {
      throw authError("config", "The request body cannot be replayed");
    }
    request.headers.set("Authorization", `Bearer ${token}`);
    const response = await fetchRequest(request);
    if (response.status !== 401) return response;
    // The token may already have been replaced by a concurrent refresh.
    if (this.engine.current() === token) {
      try {
        await this.refreshShared();
      } catch (err) {
        throw signedOutByIt(err) ? unauthorized() : err;
      }
    }
    const fresh = this.engine.current();
    if (!fresh) throw unauthorized();
    replay.headers.set("Authorization", `Bearer ${fresh}`);
    const again = await fetchRequest(replay);
    if (again.status === 401) throw this.engine.fail(unauthorized());
    return again;
  }

  // ---- one refresh per tab ----------------------------------------------------------------------

  /** Join the refresh in flight, or start it. */
  refreshShared() {
    if (!this.flight) {
      const flight = this.refreshRequest();
      this.flight = flight;
      // Cleared once settled (first in line, before any caller's continuation),
      // also when refreshRequest failed before its first await.
      const clear = () => {
        if (this.flight === flight) this.flight = null;
      };
      flight.then(clear, clear);
    }
    return this.flight;
  }

  /** The flight: wait out backoff, coordinate with other tabs, record the outcome. */
  async refreshRequest() {
    const postponed = this.engine.postponed();
    // Backing off: nothing was attempted, so the retry state stays as it is.
    if (postponed) throw postponed;
    let failure = null;
    try {
      await this.refreshCoordinated();
    } catch (err) {
      failure = err;
    }
    // The failure this shell met, whether or not the engine saw it (offline, a
    // sibling tab's refresh that never arrived): never recorded as a success.
    const retrying = this.engine.refreshOutcome(failure);
    // Still refreshing while a retry is pending: the snapshot says so.
    this.setRefreshing(retrying);
    this.schedule();
    if (failure) throw failure;
  }

  async refreshCoordinated() {
    const hadSession = this.engine.status() !== "anonymous";
    let refreshToken;
    try {
      refreshToken = this.engine.refreshToken();
    } catch (err) {
      // Expired with nothing to renew it: the engine signed out.
      if (hadSession && this.engine.status() === "anonymous") this.changed("session_expired");
      throw err;
    }
    // A caller that cannot use its token any more waits out a short backoff.
    const wait = this.engine.backoffWait();
    if (wait !== null) await sleep(wait);
    if (!online()) throw authError("network", "The browser is offline");
    const locks = lockManager();
    if (!locks) return this.refreshClaimed(refreshToken);
    const outcome = await withLock(locks, this.lockName("refresh"), this.settings.lockTimeout, () => this.refreshLocked(refreshToken));
    // A hung tab holds the lock: go ahead rather than block forever.
    if (outcome === TIMED_OUT) await this.refreshLocked(refreshToken);
  }

  // ---- one refresh across tabs ------------------------------------------------------------------

  lockName(/** @type {string} */ suffix) {
    return `${this.settings.key}:${suffix}`;
  }

  fingerprint(/** @type {string} */ token) {
    return this.engine.fingerprint(token);
  }

  spentName(/** @type {string} */ refreshToken) {
    return this.lockName(`spent:${this.fingerprint(refreshToken)}`);
  }

  /** Under the lock: use another tab's result when there is one, else refresh. */
  async refreshLocked(/** @type {string} */ refreshToken) {
    // The cookie is the one refresh credential, and the browser always holds its
    // latest value: under the lock a refresh can never spend a dead one.
    if (this.settings.cookie) return this.refreshWith(refreshToken);
    if (this.superseded(refreshToken)) return;
    const locks = lockManager();
    if (locks && (await isHeld(locks, this.spentName(refreshToken)))) return this.awaitSuccessor(refreshToken);
    return this.refreshWith(refreshToken);
  }

  /** Without Web Locks: announce a claim, listen briefly; the lowest id wins and a
   * tab already refreshing that token always wins. Losers wait for the result. */
  async refreshClaimed(/** @type {string} */ refreshToken) {
    // Cookie transport without Web Locks: nothing to claim (see refreshLocked).
    if (this.settings.cookie) return this.refreshWith(refreshToken);
    if (this.superseded(refreshToken)) return;
    const fp = this.fingerprint(refreshToken);
    if (this.spent.includes(fp)) return this.awaitSuccessor(refreshToken);
    this.claim = { fp, id: this.tabId };
    this.lost = false;
    this.post({ t: "claim", fp, id: this.tabId });
    await sleep(CLAIM_WINDOW_MS);
    this.claim = null;
    if (this.superseded(refreshToken)) return;
    if (this.lost || this.spent.includes(fp)) return this.awaitSuccessor(refreshToken);
    this.busy = fp;
    try {
      await this.refreshWith(refreshToken);
    } finally {
      this.busy = null;
    }
  }

  /** Whether another tab's refresh already replaced `refreshToken`, as far as this
   * tab can see now. */
  superseded(/** @type {string} */ refreshToken) {
    this.adoptStored();
    return this.engine.superseded(refreshToken);
  }

  /** Wait until the tokens another tab obtained reach this one. */
  async awaitSuccessor(/** @type {string} */ refreshToken) {
    const deadline = Date.now() + SUCCESSOR_WAIT_MS;
    while (Date.now() < deadline) {
      if (this.superseded(refreshToken)) return;
      await sleep(50);
    }
    throw authError("network", "Another tab's refresh did not arrive");
  }

  /** The refresh request itself. */
  async refreshWith(/** @type {string} */ refreshToken) {
    this.setRefreshing(true);
    const req = this.engine.refreshRequest(refreshToken);
    // Network: the session is kept; backoff decides when again.
    const reply = await this.sendRecorded(req);
    try {
      this.engine.reply(req, reply);
    } catch (err) {
      if (err.code === "refresh_failed") this.changed("session_expired");
      throw err;
    }
    // The marker first (lock manager), then the new tokens (storage and channel):
    // a tab that gets the lock next sees one or the other. Only a credential the
    // answer replaced is spent: Better Auth's session token survives its exchange,
    // and marking it would make this tab's next exchange wait for a successor that
    // never comes.
    if (this.engine.superseded(refreshToken)) this.rememberSpent(refreshToken);
    this.changed("token_refreshed");
  }

  rememberSpent(/** @type {string} */ refreshToken) {
    if (this.settings.cookie) return;
    this.noteSpent(this.fingerprint(refreshToken));
    const locks = lockManager();
    if (!locks) return;
    this.markers.push(holdMarker(locks, this.spentName(refreshToken)));
    // Older markers name tokens no tab can still hold.
    while (this.markers.length > 2) this.markers.shift()?.();
  }

  noteSpent(/** @type {string} */ fp) {
    if (this.spent.includes(fp)) return;
    this.spent.push(fp);
    if (this.spent.length > SPENT_MEMORY) this.spent.shift();
  }

  // ---- the proactive timer and page events ------------------------------------------------------

  /** Arm (or clear) the timer for the next refresh, as the engine says. */
  schedule() {
    clearTimeout(this.timer);
    this.timer = null;
    if (this.stopped || typeof window === "undefined") return;
    const delay = this.engine.nextWake(pageFlags());
    if (delay === null) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.wake();
    }, Math.min(Math.max(delay, 0), MAX_TIMEOUT_MS));
  }

  /** Timer fired, tab shown or focused, network back: refresh if due, else re-arm. */
  wake() {
    if (this.stopped) return;
    if (this.engine.refreshNow(pageFlags())) this.refreshShared().catch(() => {});
    else this.schedule();
  }

  startCoordination() {
    if (typeof window === "undefined") return;
    const listen = (/** @type {EventTarget} */ target, /** @type {string} */ type, /** @type {(event: any) => void} */ handler) => {
      target.addEventListener(type, handler);
      this.cleanups.push(() => target.removeEventListener(type, handler));
    };
    const wake = () => this.wake();
    if (typeof document !== "undefined") listen(document, "visibilitychange", wake);
    for (const type of ["focus", "online", "offline"]) listen(window, type, wake);
    // Adopt what another tab wrote to localStorage (sign-in, refresh, sign-out).
    if (this.store.kind === "local") {
      listen(window, "storage", (event) => {
        // key null: storage.clear() in another tab.
        if ((event.key === null || event.key === this.store.key) && this.adoptStored()) this.schedule();
      });
    }
    if (typeof BroadcastChannel === "function") {
      const channel = new BroadcastChannel(this.lockName("sync"));
      channel.onmessage = (event) => this.onMessage(event.data);
      this.channel = channel;
      this.cleanups.push(() => {
        channel.onmessage = null;
        channel.close();
        this.channel = null;
      });
    }
    this.schedule();
  }

  // ---- state between tabs ---------------------------------------------------------------------------

  /** Re-read storage and adopt what another tab wrote; never writes back. */
  adoptStored() {
    return this.adopt(this.store.read());
  }

  /** Take a session another tab produced; true when it differed (listeners told). */
  adopt(/** @type {string | null} */ stored) {
    if (!this.engine.adopt(stored)) return false;
    this.emit("synced");
    return true;
  }

  post(/** @type {object} */ message) {
    this.channel?.postMessage(message);
  }

  /** Tell other tabs the new state; the last spent token rides along so they never spend it. */
  broadcastSession(/** @type {string | null} */ stored) {
    /** @type {{ t: "session", text: string | null, spent?: string }} */
    const message = { t: "session", text: stored };
    if (this.spent.length > 0) message.spent = this.spent[this.spent.length - 1];
    this.post(message);
  }

  onMessage(/** @type {any} */ data) {
    const kind = text(data, "t");
    const fp = text(data, "fp");
    if (kind === "claim" && fp && typeof data.id === "number") {
      if (this.busy === fp || this.spent.includes(fp)) this.post({ t: "busy", fp });
      if (this.claim?.fp === fp) {
        if (data.id < this.claim.id) this.lost = true;
        // A tab that claimed after ours went out never heard it: say it again.
        else if (!this.lost) this.post({ t: "claim", fp, id: this.claim.id });
      }
    } else if (kind === "busy" && this.claim?.fp === fp) {
      this.lost = true;
    } else if (kind === "session") {
      const spent = text(data, "spent");
      if (spent) this.noteSpent(spent);
      this.adoptText(typeof data.text === "string" ? data.text : null);
    }
  }

  /** Adopt a session another tab sent (its storage may not have reached us yet). */
  adoptText(/** @type {string | null} */ stored) {
    if (!this.adopt(stored)) return;
    // sessionStorage and memory are per tab: keep our copy current. localStorage
    // is shared: the sender already wrote it.
    if (this.store.kind !== "local") this.store.write(stored);
    this.schedule();
  }
}
