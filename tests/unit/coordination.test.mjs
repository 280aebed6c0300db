// js/coordination.js over fakes: a lock manager shared by the tabs of one "browser", a
// channel and storage that reach the other tabs late, a server that rotates refresh
// tokens and counts reuse, and a virtual clock, so every race of e2e/refresh.test.mjs's
// storms runs in milliseconds and the same way every time. Run by scripts/lint.
import assert from "node:assert/strict";
import { test } from "node:test";
import { AuthError } from "../../js/auth-error.js";
import { Coordination } from "../../js/coordination.js";
import { FINGERPRINT } from "../../js/ops.js";
import { CLAIM_WINDOW_MS, SUCCESSOR_WAIT_MS } from "../../js/tabs.js";

/** Virtual time: `sleep` and `after` timers fire in time order, each once every
 * promise the previous one settled has run. */
class Clock {
  t = 0;
  seq = 0;
  /** @type {{ at: number, seq: number, fire: () => void }[]} */
  timers = [];
  scheduled = false;
  now = () => this.t;
  sleep = (/** @type {number} */ ms) => new Promise((resolve) => this.after(ms, resolve));
  after(/** @type {number} */ ms, /** @type {() => void} */ fire) {
    this.timers.push({ at: this.t + Math.max(ms, 0), seq: this.seq++, fire });
    this.schedule();
  }
  schedule() {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.timers.sort((a, b) => a.at - b.at || a.seq - b.seq);
      const next = this.timers.shift();
      if (!next) return;
      this.t = Math.max(this.t, next.at);
      next.fire();
      if (this.timers.length > 0) this.schedule();
    });
  }
}

/** navigator.locks as one browser's tabs share it: exclusive locks queued by name,
 * `ifAvailable`, `signal` (an abort rejects the wait with the signal's reason), `query`. */
class Locks {
  /** @type {Map<string, (() => void)[]>} waiters by held name */
  held = new Map();
  async request(/** @type {string} */ name, /** @type {any} */ options, /** @type {(lock: unknown) => Promise<unknown>} */ callback) {
    if (this.held.has(name)) {
      if (options.ifAvailable) return callback(null);
      await new Promise((resolve, reject) => {
        const waiters = this.held.get(name) ?? [];
        waiters.push(resolve);
        options.signal?.addEventListener("abort", () => {
          const at = waiters.indexOf(resolve);
          if (at >= 0) waiters.splice(at, 1);
          reject(options.signal.reason);
        });
      });
    } else {
      this.held.set(name, []);
    }
    try {
      return await callback({ name });
    } finally {
      const next = this.held.get(name)?.shift();
      if (next) next();
      else this.held.delete(name);
    }
  }
  async query() {
    return { held: [...this.held.keys()].map((name) => ({ name })) };
  }
  /** Held by a tab that never lets go (hung or frozen). */
  holdForever(/** @type {string} */ name) {
    this.request(name, {}, () => new Promise(() => {}));
  }
}

/** The backend's rotation: each refresh token works once; a reused one revokes the session. */
class Server {
  token = "r0";
  refreshes = 0;
  reused = 0;
  rotate(/** @type {string} */ token) {
    this.refreshes++;
    if (token !== this.token) {
      this.reused++;
      throw new AuthError("refresh_failed", "Refresh token reused", 401);
    }
    this.token = `r${this.refreshes}`;
    return this.token;
  }
}

/** Tabs of one browser: the shared lock manager (or none), a channel and localStorage
 * whose writes reach the other tabs `channelDelay` / `storageDelay` ms late. */
function browser({ locks = true, channelDelay = 5, storageDelay = 5, cookie = false, rotates = true, lockTimeout = 10_000 } = {}) {
  const clock = new Clock();
  const server = new Server();
  const lockManager = locks ? new Locks() : null;
  /** @type {{ coordination: Coordination, state: { token: string }, stored: string }[]} */
  const tabs = [];
  /** @type {unknown[]} */
  const posted = [];
  function open(/** @type {number} */ id) {
    const state = { token: server.token };
    const tab = { state, stored: server.token, coordination: /** @type {Coordination} */ (/** @type {unknown} */ (null)) };
    const deliver = (/** @type {unknown} */ message) => {
      posted.push(message);
      for (const other of tabs) if (other !== tab) clock.after(channelDelay, () => other.coordination.onMessage(structuredClone(message)));
    };
    /** @type {import("../../js/coordination.js").Host} */
    const host = {
      settings: { key: "k", cookie, lockTimeout },
      // The engine's two ops coordination asks: FINGERPRINT, else SUPERSEDED.
      engine: (code, token) => (code === FINGERPRINT ? `fp-${token}` : state.token !== token ? "1" : ""),
      adoptStored: () => {
        state.token = tab.stored;
      },
      adoptText: (stored) => {
        if (stored !== null) state.token = stored;
      },
      refreshWith: async (token) => {
        await clock.sleep(20);
        const next = server.rotate(token);
        if (rotates) state.token = next;
      },
      changed: () => {
        tab.stored = state.token;
        for (const other of tabs) if (other !== tab) clock.after(storageDelay, () => (other.stored = state.token));
        tab.coordination.broadcast(state.token);
      },
    };
    tab.coordination = new Coordination(host, { locks: lockManager, channel: { postMessage: deliver }, clock, id });
    tabs.push(tab);
    return tab;
  }
  return { clock, server, locks: lockManager, tabs, posted, open };
}

/** Every tab refreshes the token they all hold now (it expired), `stagger` ms apart. */
async function storm(/** @type {ReturnType<typeof browser>} */ b, stagger = 0) {
  const expired = b.server.token;
  return Promise.all(
    b.tabs.map(async (tab, i) => {
      await b.clock.sleep(i * stagger);
      await tab.coordination.refresh(expired);
    }),
  );
}

function assertOneRefresh(/** @type {ReturnType<typeof browser>} */ b) {
  assert.equal(b.server.refreshes, 1, "exactly one refresh");
  assert.equal(b.server.reused, 0, "no refresh token spent twice");
  for (const tab of b.tabs) assert.equal(tab.state.token, b.server.token, "every tab holds the new token");
}

test("Web Locks, 5 tabs at once, storage and channel late: one refresh (the spent marker)", async () => {
  // Later than the lock hand-over: only the marker in the lock manager tells the next
  // tab that the token it still reads was spent.
  const b = browser({ channelDelay: 400, storageDelay: 600 });
  for (let i = 0; i < 5; i++) b.open(Math.random());
  await storm(b);
  assertOneRefresh(b);
});

test("Web Locks, tabs arriving over 300 ms: one refresh", async () => {
  const b = browser({ channelDelay: 30, storageDelay: 80 });
  for (let i = 0; i < 5; i++) b.open(Math.random());
  await storm(b, 60);
  assertOneRefresh(b);
});

test("without Web Locks, 5 tabs claiming at once: the lowest id refreshes, once", async () => {
  const b = browser({ locks: false, channelDelay: 5, storageDelay: 200 });
  for (const id of [0.5, 0.2, 0.9, 0.4, 0.7]) b.open(id);
  await storm(b);
  assertOneRefresh(b);
  const claims = b.posted.filter((m) => /** @type {any} */ (m).t === "claim");
  assert.ok(claims.length >= 5, "every tab claimed");
});

test("without Web Locks, a tab that starts claiming after the first claim went out hears it repeated", async () => {
  const b = browser({ locks: false, channelDelay: 5, storageDelay: 1000 });
  const first = b.open(0.1);
  const late = b.open(0.9);
  const a = first.coordination.refresh(first.state.token);
  // The first claim reached `late` while it was not claiming (ignored): it must hear it again.
  await b.clock.sleep(CLAIM_WINDOW_MS / 2);
  await Promise.all([a, late.coordination.refresh(late.state.token)]);
  assertOneRefresh(b);
  assert.ok(b.posted.filter((m) => /** @type {any} */ (m).t === "claim" && /** @type {any} */ (m).id === 0.1).length >= 2, "the winner said its claim again");
});

test("without Web Locks, a claim for a token being refreshed is answered busy, whatever its id", async () => {
  const b = browser({ locks: false, channelDelay: 5, storageDelay: 1000 });
  const refreshing = b.open(0.8);
  const other = b.open(0.01);
  const a = refreshing.coordination.refresh(refreshing.state.token);
  // After the claim window, while the request is out (20 ms): a lower id arrives.
  await b.clock.sleep(CLAIM_WINDOW_MS + 8);
  assert.equal(refreshing.coordination.busy, "fp-r0", "the request is out");
  await Promise.all([a, other.coordination.refresh("r0")]);
  assertOneRefresh(b);
  assert.ok(b.posted.some((m) => /** @type {any} */ (m).t === "busy"), "busy was said");
});

test("without Web Locks, a token another tab said was spent is never claimed: the tab waits for its successor", async () => {
  const b = browser({ locks: false, channelDelay: 5, storageDelay: 5 });
  const tab = b.open(0.3);
  // Its storage and the message's session arrive late; the spent fingerprint already has.
  tab.coordination.onMessage({ t: "session", text: null, spent: "fp-r0" });
  const done = tab.coordination.refresh("r0");
  b.clock.after(300, () => (tab.stored = "r1"));
  await done;
  assert.equal(tab.state.token, "r1");
  assert.equal(b.server.refreshes, 0);
  assert.ok(!b.posted.some((m) => /** @type {any} */ (m).t === "claim"), "no claim for a spent token");
});

test("a successor that never arrives fails as network after SUCCESSOR_WAIT_MS, with nothing sent", async () => {
  const b = browser();
  const tab = b.open(0.3);
  // Another tab spent r0 and then died before its tokens reached anyone.
  b.locks?.holdForever("k:spent:fp-r0");
  const failure = await tab.coordination.refresh("r0").then(
    () => null,
    (err) => err,
  );
  assert.ok(failure instanceof AuthError);
  assert.equal(failure.code, "network");
  assert.ok(b.clock.now() >= SUCCESSOR_WAIT_MS);
  assert.equal(b.server.refreshes, 0, "a dead token is never sent");
});

test("a hung tab holding the refresh lock is outwaited after lockTimeout", async () => {
  const b = browser({ lockTimeout: 50 });
  const tab = b.open(0.3);
  b.locks?.holdForever("k:refresh");
  // The lock wait's timeout is a real (unref'd) timer: keep the process up for it.
  const keepAlive = setInterval(() => {}, 1000);
  try {
    await tab.coordination.refresh("r0");
  } finally {
    clearInterval(keepAlive);
  }
  assertOneRefresh(b);
});

test("a lock manager that refuses the refresh lock (a detached frame): the tab refreshes without it", async () => {
  const b = browser();
  const tab = b.open(0.3);
  const locks = /** @type {Locks} */ (b.locks);
  const request = locks.request.bind(locks);
  locks.request = async (name, options, callback) => {
    if (name === "k:refresh") throw new DOMException("The document is not fully active.", "InvalidStateError");
    return request(name, options, callback);
  };
  await tab.coordination.refresh("r0");
  assertOneRefresh(b);
});

test("a failure of the refresh under the lock is the caller's, not a lock wait run out", async () => {
  const b = browser();
  const tab = b.open(0.3);
  b.server.token = "r9";
  await assert.rejects(tab.coordination.refresh("r0"), (err) => err instanceof AuthError && err.code === "refresh_failed");
  assert.equal(b.server.refreshes, 1, "sent once, not again without the lock");
});

test("a tab that closes holding the refresh lock lets the next one refresh", async () => {
  const b = browser();
  const tab = b.open(0.3);
  /** @type {() => void} */
  let close = () => {};
  b.locks?.request("k:refresh", {}, () => new Promise((resolve) => (close = () => resolve(undefined))));
  const done = tab.coordination.refresh("r0");
  await b.clock.sleep(500);
  assert.equal(b.server.refreshes, 0, "waiting for the lock");
  close();
  await done;
  assertOneRefresh(b);
});

test("cookie transport: no claim round and no marker (the browser holds the one credential)", async () => {
  for (const locks of [true, false]) {
    const b = browser({ locks, cookie: true });
    const tab = b.open(0.3);
    await tab.coordination.refresh("r0");
    assert.equal(b.server.refreshes, 1);
    assert.ok(!b.posted.some((m) => /** @type {any} */ (m).t === "claim"));
    assert.deepEqual((await b.locks?.query())?.held ?? [], []);
    // Nothing is remembered as spent: the session news carries no spent fingerprint.
    assert.ok(b.posted.some((m) => /** @type {any} */ (m).t === "session"));
    assert.ok(b.posted.every((m) => /** @type {any} */ (m).spent === undefined));
  }
});

test("a credential the answer did not replace (Better Auth's session token) is not marked spent", async () => {
  const b = browser({ rotates: false });
  b.server.rotate = () => "r0";
  const tab = b.open(0.3);
  await tab.coordination.refresh("r0");
  assert.deepEqual((await b.locks?.query())?.held ?? [], []);
  // So the tab's next exchange goes ahead instead of waiting for a successor.
  const before = b.clock.now();
  await tab.coordination.refresh("r0");
  assert.ok(b.clock.now() - before < SUCCESSOR_WAIT_MS);
});

test("the session message carries the last spent fingerprint; free() releases the markers", async () => {
  const b = browser();
  const tab = b.open(0.3);
  await tab.coordination.refresh("r0");
  const session = /** @type {any} */ (b.posted.find((m) => /** @type {any} */ (m).t === "session"));
  assert.deepEqual(session, { t: "session", text: "r1", spent: "fp-r0" });
  assert.deepEqual((await b.locks?.query())?.held.map((l) => l.name), ["k:spent:fp-r0"]);
  tab.coordination.free();
  await b.clock.sleep(1);
  assert.deepEqual((await b.locks?.query())?.held ?? [], []);
});

test("messages that are not the coordination's are ignored", () => {
  const b = browser();
  const tab = b.open(0.3);
  for (const junk of [null, 1, "x", {}, { t: "claim" }, { t: "claim", fp: "fp-r0", id: "1" }, { t: "busy" }]) tab.coordination.onMessage(junk);
  assert.deepEqual(b.posted, []);
  assert.equal(tab.state.token, "r0");
});
