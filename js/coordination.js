// One refresh across tabs (docs/design-notes.md "Refresh without races"): under a Web
// Lock, or after a claim round on the channel where there are no Web Locks; a marker
// lock (and a fingerprint on the channel) names each refresh token spent, so a tab whose
// storage is stale waits for the new tokens instead of spending a dead one. Locks,
// channel and clock are injected (tests/unit/coordination.test.mjs runs every race
// over fakes); the refresh itself and the session are the client's (js/client.js).
import { authError } from "./auth-error.js";
import { TIMED_OUT, holdMarker, isHeld, withLock } from "./tabs.js";

/** How long losers of a claim round (no Web Locks) listen for competing claims. */
export const CLAIM_WINDOW_MS = 150;
/** How long a tab waits for the tokens another tab refreshed to reach it. */
export const SUCCESSOR_WAIT_MS = 5000;
/** How often a waiting tab looks for them. */
const SUCCESSOR_POLL_MS = 50;
/** Spent fingerprints remembered from other tabs. */
const SPENT_MEMORY = 16;

/** What coordination needs from the page and from the client.
 * @typedef {object} CoordinationDeps
 * @property {string} key the storage key: lock and message names start with it
 * @property {boolean} cookie the refresh token is an httpOnly cookie: the browser holds its
 *   latest value, so there is nothing to claim or mark
 * @property {number} lockTimeout how long to wait for the refresh lock (a hung holder)
 * @property {LockManager | null} locks `navigator.locks`, or null without Web Locks
 * @property {{ postMessage(message: unknown): void } | null} channel where messages to the
 *   other tabs go (theirs arrive through `onMessage`), or null
 * @property {{ now(): number, sleep(ms: number): Promise<void> }} clock
 * @property {number} id this tab's claim id (random; the lowest claim wins)
 * @property {(token: string) => string} fingerprint a name for a token that does not reveal it
 * @property {(token: string) => boolean} replaced whether the session here no longer holds `token`
 * @property {() => void} adoptStored take what another tab wrote to storage
 * @property {(stored: string | null) => void} adopt take a session another tab sent
 * @property {(token: string) => Promise<void>} send the refresh request and its answer
 *   (throws its failure); the new session is not yet stored nor told to anyone
 * @property {() => void} refreshed store the new session, tell the tabs and listeners */

/** A message between tabs.
 * @typedef {{ t: "claim", fp: string, id: number } | { t: "busy", fp: string } | { t: "session", text: string | null, spent?: string }} Message */

const text = (/** @type {any} */ obj, /** @type {string} */ key) => (obj !== null && typeof obj === "object" && typeof obj[key] === "string" ? obj[key] : "");

export class Coordination {
  /** @param {CoordinationDeps} deps */
  constructor(deps) {
    this.deps = deps;
    /** @type {string[]} fingerprints of refresh tokens spent (newest last) */
    this.spent = [];
    /** @type {(() => void)[]} releases of the spent markers held */
    this.markers = [];
    /** @type {{ fp: string, id: number } | null} this tab's claim during a claim round */
    this.claim = null;
    this.lost = false;
    /** @type {string | null} the fingerprint this tab is refreshing (claim rounds) */
    this.busy = null;
  }

  lockName(/** @type {string} */ suffix) {
    return `${this.deps.key}:${suffix}`;
  }

  spentName(/** @type {string} */ refreshToken) {
    return this.lockName(`spent:${this.deps.fingerprint(refreshToken)}`);
  }

  /** Refresh `refreshToken` once across tabs: this tab sends the request, or takes the
   * tokens another tab's refresh of the same token produced. */
  async refresh(/** @type {string} */ refreshToken) {
    const { locks } = this.deps;
    if (!locks) return this.refreshClaimed(refreshToken);
    const outcome = await withLock(locks, this.lockName("refresh"), this.deps.lockTimeout, () => this.refreshLocked(refreshToken));
    // A hung tab holds the lock: go ahead rather than block forever.
    if (outcome === TIMED_OUT) await this.refreshLocked(refreshToken);
  }

  /** Under the lock: use another tab's result when there is one, else refresh. */
  async refreshLocked(/** @type {string} */ refreshToken) {
    // The cookie is the one refresh credential, and the browser always holds its
    // latest value: under the lock a refresh can never spend a dead one.
    if (this.deps.cookie) return this.refreshWith(refreshToken);
    if (this.superseded(refreshToken)) return;
    const { locks } = this.deps;
    if (locks && (await isHeld(locks, this.spentName(refreshToken)))) return this.awaitSuccessor(refreshToken);
    return this.refreshWith(refreshToken);
  }

  /** Without Web Locks: announce a claim, listen briefly; the lowest id wins and a
   * tab already refreshing that token always wins. Losers wait for the result. */
  async refreshClaimed(/** @type {string} */ refreshToken) {
    // Cookie transport without Web Locks: nothing to claim (see refreshLocked).
    if (this.deps.cookie) return this.refreshWith(refreshToken);
    if (this.superseded(refreshToken)) return;
    const fp = this.deps.fingerprint(refreshToken);
    if (this.spent.includes(fp)) return this.awaitSuccessor(refreshToken);
    const { id } = this.deps;
    this.claim = { fp, id };
    this.lost = false;
    this.post({ t: "claim", fp, id });
    await this.deps.clock.sleep(CLAIM_WINDOW_MS);
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
    this.deps.adoptStored();
    return this.deps.replaced(refreshToken);
  }

  /** Wait until the tokens another tab obtained reach this one. */
  async awaitSuccessor(/** @type {string} */ refreshToken) {
    const { clock } = this.deps;
    const deadline = clock.now() + SUCCESSOR_WAIT_MS;
    while (clock.now() < deadline) {
      if (this.superseded(refreshToken)) return;
      await clock.sleep(SUCCESSOR_POLL_MS);
    }
    throw authError("network", "Another tab's refresh did not arrive");
  }

  /** The refresh itself, then the marker, then the news. */
  async refreshWith(/** @type {string} */ refreshToken) {
    await this.deps.send(refreshToken);
    // The marker first (lock manager), then the new tokens (storage and channel): a
    // tab that gets the lock next sees one or the other. Only a credential the answer
    // replaced is spent: Better Auth's session token survives its exchange, and
    // marking it would make this tab's next exchange wait for a successor that never
    // comes.
    if (this.deps.replaced(refreshToken)) this.rememberSpent(refreshToken);
    this.deps.refreshed();
  }

  rememberSpent(/** @type {string} */ refreshToken) {
    if (this.deps.cookie) return;
    this.noteSpent(this.deps.fingerprint(refreshToken));
    const { locks } = this.deps;
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

  post(/** @type {Message} */ message) {
    this.deps.channel?.postMessage(message);
  }

  /** Tell other tabs the new state; the last spent token rides along so they never spend it. */
  broadcast(/** @type {string | null} */ stored) {
    /** @type {Message} */
    const message = { t: "session", text: stored };
    if (this.spent.length > 0) message.spent = this.spent[this.spent.length - 1];
    this.post(message);
  }

  /** A message from another tab (anything else on the channel is ignored). */
  onMessage(/** @type {unknown} */ data) {
    const kind = text(data, "t");
    const fp = text(data, "fp");
    const id = /** @type {any} */ (data)?.id;
    if (kind === "claim" && fp && typeof id === "number") {
      if (this.busy === fp || this.spent.includes(fp)) this.post({ t: "busy", fp });
      if (this.claim?.fp === fp) {
        if (id < this.claim.id) this.lost = true;
        // A tab that claimed after ours went out never heard it: say it again.
        else if (!this.lost) this.post({ t: "claim", fp, id: this.claim.id });
      }
    } else if (kind === "busy" && this.claim?.fp === fp) {
      this.lost = true;
    } else if (kind === "session") {
      const spent = text(data, "spent");
      if (spent) this.noteSpent(spent);
      const stored = /** @type {any} */ (data).text;
      this.deps.adopt(typeof stored === "string" ? stored : null);
    }
  }

  /** Release the spent markers this tab holds. */
  free() {
    for (const release of this.markers.splice(0)) release();
  }
}
