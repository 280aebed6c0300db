// Cross-tab timing (js/coordination.js holds the Web Locks: the refresh lock, the spent-token
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
/** Waits are short (a claim window, a poll, a backoff the engine sits out only up to a
 * minute: POSTPONED refuses a longer one), far below setTimeout's limit. */
export const sleep = (/** @type {number} */ ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** The engine's page flags: h = hidden, o = online (without a navigator: online). */
export const pageFlags = () => {
  const hidden = globalThis.document?.hidden;
  return (hidden ? "h" : "") + ((globalThis.navigator?.onLine ?? true) ? "o" : "");
};
