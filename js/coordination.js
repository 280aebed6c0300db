// One refresh across tabs (docs/design-notes.md "Refresh without races"): under a Web
// Lock, or after a claim round on the channel where there are no Web Locks; a marker
// lock (and a fingerprint on the channel) names each refresh token spent, so a tab whose
// storage is stale waits for the new tokens instead of spending a dead one. Locks,
// channel and clock are injected (tests/unit/coordination.test.mjs runs every race
// over fakes); the refresh itself and the session are the client's (js/client.js).
import { authError } from "./auth-error.js";
import { FINGERPRINT, SUPERSEDED } from "./ops.js";
import { CLAIM_WINDOW_MS, SPENT_MEMORY, SUCCESSOR_POLL_MS, SUCCESSOR_WAIT_MS, sleep } from "./tabs.js";

/** What coordination needs from the client (js/client.js; the unit tests' fake tabs).
 * @typedef {object} Host
 * @property {{ key: string, cookie?: boolean, lockTimeout: number }} settings lock and message
 *   names start with `key`; `cookie`: the refresh token is an httpOnly cookie, whose latest
 *   value the browser holds, so there is nothing to claim or mark; `lockTimeout`: how long
 *   to wait for the refresh lock (a hung holder)
 * @property {import("./engine.js").Engine} engine the session's engine, asked directly (no
 *   client method in between) for FINGERPRINT, a name for a token that does not reveal it,
 *   and SUPERSEDED, whether the session no longer holds a token ("1": yes)
 * @property {() => unknown} adoptStored take what another tab wrote to storage
 * @property {(stored: string | null) => void} adoptText take a session another tab sent
 * @property {(token: string) => Promise<void>} refreshWith send the refresh request and take
 *   its answer (throws its failure); the new session is not yet stored nor told to anyone
 * @property {(event: "token_refreshed") => void} changed store the new session, tell the
 *   tabs and listeners */

/** The page's means: `navigator.locks` (null without Web Locks), where messages to the
 * other tabs go (theirs arrive through `onMessage`; null without a channel), the clock.
 * @typedef {object} Means
 * @property {LockManager | null} locks
 * @property {{ postMessage(message: unknown): void } | null} channel
 * @property {{ now(): number, sleep(ms: number): Promise<void> }} clock
 * @property {number} id this tab's claim id (random; the lowest claim wins) */

/** A message between tabs (a session's `text`: "" or null when signed out).
 * @typedef {{ t: "claim", fp: string, id: number } | { t: "busy", fp: string } | { t: "session", text: string | null, spent?: string }} Message */

export class Coordination {
  // Private where nothing outside reads them: a minifier shortens `#` names only.
  /** @type {Host} */
  #host;
  /** @type {((value?: unknown) => void)[]} releases of the spent markers held */
  #markers = [];
  /** @type {{ t: "claim", fp: string, id: number } | null | undefined} this tab's claim during a claim round */
  #claim;
  /** @type {boolean | undefined} whether it lost (read only during a round, which sets it first) */
  #lost;
  /** @type {string[]} fingerprints of refresh tokens spent (newest last) */
  #spent = [];
  /** @type {string | null | undefined} the fingerprint this tab is refreshing (claim rounds) */
  busy;
  // The page's means (Means): public fields, so that one Object.assign takes the injected
  // ones; locks and channel start undefined, which reads as none.
  /** @type {Means["locks"] | undefined} */
  locks;
  /** @type {Means["channel"] | undefined} */
  channel;
  /** @type {Means["clock"]} */
  clock = { now: Date.now, sleep };
  /** @type {Means["id"]} */
  id = Math.random();

  /** @param {Host} host @param {Partial<Means>} [means] the page's own when absent (the
   * client's: no locks nor channel until it starts coordinating) */
  constructor(host, means) {
    this.#host = host;
    Object.assign(this, means);
  }

  /** The marker's name: lock names start with storageKey, then what they are for. */
  #spentName(/** @type {string} */ refreshToken) {
    return `${this.#host.settings.key}:spent:${this.#host.engine(FINGERPRINT, refreshToken)}`;
  }

  /** Refresh `refreshToken` once across tabs: this tab sends the request, or takes the
   * tokens another tab's refresh of the same token produced. */
  async refresh(/** @type {string} */ refreshToken) {
    const { locks } = this;
    if (locks) {
      /** @type {true | undefined} */
      let granted;
      try {
        // No signal where AbortSignal.timeout is missing (an older engine): the lock is
        // waited for (an absent signal is no option, as WebIDL reads dictionaries).
        return await locks.request(`${this.#host.settings.key}:refresh`, { signal: AbortSignal.timeout?.(this.#host.settings.lockTimeout) }, () => {
          granted = true;
          return this.#refreshOnce(refreshToken, locks);
        });
      } catch (err) {
        // The refresh's own failure is the caller's; anything before it is no lock.
        if (granted) throw err;
      }
    }
    // Without the lock where there are no Web Locks, where a hung tab holds it (go ahead
    // rather than block forever), or where the lock manager refused the request (a page
    // it does not serve: a detached frame, an opaque origin).
    await this.#refreshOnce(refreshToken, locks);
  }

  /** Under the lock (`locks`): use another tab's result when there is one, else refresh.
   * Without Web Locks: announce a claim, listen briefly; the lowest id wins and a tab
   * already refreshing that token always wins. Losers wait for the result.
   * @param {string} refreshToken @param {LockManager | null | undefined} locks none: no Web Locks */
  async #refreshOnce(refreshToken, locks) {
    // The cookie is the one refresh credential, and the browser always holds its
    // latest value: under the lock a refresh can never spend a dead one, and without
    // Web Locks there is nothing to claim.
    if (this.#host.settings.cookie) return this.#refreshHere(refreshToken);
    if (this.#superseded(refreshToken)) return;
    if (locks) {
      // Whether some tab holds the marker now (the lock manager is one sequential
      // authority, unlike storage, which reaches other tabs late); none where it fails.
      const name = this.#spentName(refreshToken);
      let held;
      try {
        held = (await locks.query()).held?.some((lock) => lock.name === name);
      } catch {}
      return held ? this.#awaitSuccessor(refreshToken) : this.#refreshHere(refreshToken);
    }
    const fp = this.#host.engine(FINGERPRINT, refreshToken);
    if (this.#spent.includes(fp)) return this.#awaitSuccessor(refreshToken);
    // The claim is the message that announces it (said again as it is).
    this.#lost = false;
    this.#post((this.#claim = { t: "claim", fp, id: this.id }));
    await this.clock.sleep(CLAIM_WINDOW_MS);
    this.#claim = null;
    if (this.#superseded(refreshToken)) return;
    if (this.#lost || this.#spent.includes(fp)) return this.#awaitSuccessor(refreshToken);
    this.busy = fp;
    try {
      await this.#refreshHere(refreshToken);
    } finally {
      this.busy = null;
    }
  }

  /** Whether another tab's refresh already replaced `refreshToken`, as far as this
   * tab can see now. */
  #superseded(/** @type {string} */ refreshToken) {
    this.#host.adoptStored();
    return this.#host.engine(SUPERSEDED, refreshToken);
  }

  /** Wait until the tokens another tab obtained reach this one. */
  async #awaitSuccessor(/** @type {string} */ refreshToken) {
    const clock = this.clock;
    const deadline = clock.now() + SUCCESSOR_WAIT_MS;
    while (clock.now() < deadline) {
      if (this.#superseded(refreshToken)) return;
      await clock.sleep(SUCCESSOR_POLL_MS);
    }
    throw authError("network", "Another tab's refresh did not arrive");
  }

  /** This tab refreshes: the request, then the marker, then the news. */
  async #refreshHere(/** @type {string} */ refreshToken) {
    await this.#host.refreshWith(refreshToken);
    // The marker first (lock manager), then the new tokens (storage and channel): a
    // tab that gets the lock next sees one or the other. Only a credential the answer
    // replaced is spent: Better Auth's session token survives its exchange, and
    // marking it would make this tab's next exchange wait for a successor that never
    // comes. (A cookie is never spent: the browser holds its latest value.)
    if (!this.#host.settings.cookie && this.#host.engine(SUPERSEDED, refreshToken)) {
      this.#noteSpent(this.#host.engine(FINGERPRINT, refreshToken));
      const { locks } = this;
      if (locks) {
        // Held until released (or the tab closes): a marker other tabs see through
        // `locks.query()`. The executor runs at once: its release is kept as it is made.
        const held = new Promise((release) => this.#markers.push(release));
        locks.request(this.#spentName(refreshToken), { ifAvailable: true }, () => held).catch(() => {});
        // Older markers name tokens no tab can still hold.
        while (this.#markers.length > 2) /** @type {() => void} */ (this.#markers.shift())();
      }
    }
    this.#host.changed("token_refreshed");
  }

  #noteSpent(/** @type {string} */ fp) {
    if (this.#spent.includes(fp)) return;
    this.#spent.push(fp);
    if (this.#spent.length > SPENT_MEMORY) this.#spent.shift();
  }

  #post(/** @type {Message} */ message) {
    this.channel?.postMessage(message);
  }

  /** Tell other tabs the new state; the last spent token rides along so they never spend it. */
  broadcast(/** @type {string | null} */ stored) {
    // No spent token yet: `spent` undefined, which the receivers ignore.
    this.#post({ t: "session", text: stored, spent: this.#spent.at(-1) });
  }

  /** A message from another tab (anything else on the channel is ignored). */
  onMessage(/** @type {any} */ data) {
    // A primitive has none of these (its `t` is undefined): ignored like any other. Only
    // this origin's tabs post here: a claim's `fp` need only be present (none would equal
    // `busy` when this tab refreshes nothing), its `id` is their number (typed as what
    // they send).
    /** @type {{ t?: unknown, fp?: string, id: number, spent?: string, text: string | null }} */
    const { t, fp, id, spent, text } = data ?? {};
    if (t === "claim" && fp) {
      if (this.busy === fp || this.#spent.includes(fp)) this.#post({ t: "busy", fp });
      if (this.#claim?.fp === fp) {
        if (id < this.#claim.id) this.#lost = true;
        // A tab that claimed after ours went out never heard it: say it again.
        else if (!this.#lost) this.#post(this.#claim);
      }
    } else if (t === "busy" && this.#claim?.fp === fp) {
      // Also reached outside a claim round by a busy without fp: harmless, each round
      // starts with #lost false.
      this.#lost = true;
    } else if (t === "session") {
      // Only this origin's tabs post here: a `spent` is a fingerprint they sent, or absent;
      // `text` what they stored (broadcast's).
      if (spent) this.#noteSpent(spent);
      this.#host.adoptText(text);
    }
  }

  /** Release the spent markers this tab holds. */
  free() {
    for (const release of this.#markers.splice(0)) release();
  }
}
