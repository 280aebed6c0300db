// Cross-tab primitives: Web Locks (a refresh lock; js/coordination.js holds the spent-token
// markers), sleeping, and the page state the scheduler needs. No decisions: the engine makes them.

/** Longest delay setTimeout honours (2^31 - 1 ms; a longer one fires at once). A
 * negative delay needs no clamp: setTimeout reads it as 0. */
export const MAX_TIMEOUT_MS = 2147483647;
// js/coordination.js's timing and memory, here because this module imports nothing:
// esbuild writes each use as its number (it inlines no top-level constant of a module
// with imports, nor one after a statement that may have effects, as a call).
/** How long losers of a claim round (no Web Locks) listen for competing claims. */
export const CLAIM_WINDOW_MS = 150;
/** How long a tab waits for the tokens another tab refreshed to reach it. */
export const SUCCESSOR_WAIT_MS = 5000;
/** How often a waiting tab looks for them. */
export const SUCCESSOR_POLL_MS = 50;
/** Spent fingerprints remembered from other tabs. */
export const SPENT_MEMORY = 16;
/** What `withLock` answers when the wait ran out: an object of its own, which no
 * callback returns (a Symbol's description costs the bundle its call and text). */
export const TIMED_OUT = {};

/** Waits are short (a claim window, a poll, a backoff the engine sits out only up to a
 * minute: POSTPONED refuses a longer one), far below setTimeout's limit. */
export const sleep = (/** @type {number} */ ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Run `callback` holding the exclusive lock `name`, waiting at most `timeoutMs` for
 * it; TIMED_OUT when it was not granted: the wait ran out (a hung holder), or the lock
 * manager refused the request (a page it does not serve: a detached frame, an opaque
 * origin), where the caller goes ahead without the lock as it does without Web Locks.
 * @template T
 * @param {LockManager} locks
 * @param {string} name
 * @param {number} timeoutMs
 * @param {() => Promise<T>} callback
 * @returns {Promise<T | typeof TIMED_OUT>} */
export const withLock = async (locks, name, timeoutMs, callback) => {
  /** @type {true | undefined} */
  let granted;
  try {
    // No signal where AbortSignal.timeout is missing (an older engine): the lock is
    // waited for (an absent signal is no option, as WebIDL reads dictionaries).
    return await locks.request(name, { signal: AbortSignal.timeout?.(timeoutMs) }, () => {
      granted = true;
      return callback();
    });
  } catch (err) {
    // The callback's own failure is the caller's; anything before it is no lock.
    if (granted) throw err;
    return TIMED_OUT;
  }
};

/** The engine's page flags: h = hidden, o = online (without a navigator: online). */
export const pageFlags = () => {
  const hidden = globalThis.document?.hidden;
  return (hidden ? "h" : "") + ((globalThis.navigator?.onLine ?? true) ? "o" : "");
};
