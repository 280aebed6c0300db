// The shell's leaf modules that need no wasm, in Node: storage's fallback to memory,
// base64url, passkeys' refusals and fetch's failures as AuthErrors (their codes and
// messages). The browser runs them in e2e/. Run by scripts/lint.
import assert from "node:assert/strict";
import { test } from "node:test";
import { AuthError } from "../../js/auth-error.js";
import { toBase64url } from "../../js/base64url.js";
import { fetchError } from "../../js/http.js";
import { fromBase64url, passkeyCeremony, requirePasskeys } from "../../js/passkeys.js";
import { openStore } from "../../js/storage.js";

/** A Storage whose every access throws once `broken` is set. */
function storage() {
  const items = new Map();
  const state = { broken: false };
  const check = () => {
    if (state.broken) throw new DOMException("The quota has been exceeded.", "QuotaExceededError");
  };
  return {
    state,
    items,
    getItem: (/** @type {string} */ k) => (check(), items.get(k) ?? null),
    setItem: (/** @type {string} */ k, /** @type {string} */ v) => (check(), items.set(k, v)),
    removeItem: (/** @type {string} */ k) => (check(), items.delete(k)),
  };
}

test("storage: web storage until an access throws, then memory (said once by write, and by kind)", () => {
  const local = storage();
  /** @type {any} */ (globalThis).window = { localStorage: local };
  try {
    const store = openStore("local", "k:session");
    assert.equal(store.kind, "local");
    assert.equal(store.write("s1"), false);
    assert.equal(local.items.get("k:session"), "s1");
    assert.equal(store.read(), "s1");
    local.state.broken = true;
    assert.equal(store.write("s2"), true, "the write that fell back says so");
    assert.equal(store.kind, "memory");
    assert.equal(store.read(), "s2", "memory keeps what was written");
    assert.equal(store.write(""), false, "said once");
    assert.equal(store.read(), "");

    // A storage that throws on the first read (the constructor's) falls back there.
    const session = storage();
    session.state.broken = true;
    /** @type {any} */ (globalThis).window = { sessionStorage: session };
    const other = openStore("session", "k:session");
    assert.equal(other.kind, "session");
    assert.equal(other.read(), null);
    assert.equal(other.kind, "memory");
    // "memory" never reads the window, not even a global of that name.
    const other2 = storage();
    /** @type {any} */ (globalThis).window = { memoryStorage: other2 };
    const memory = openStore("memory", "k:session");
    assert.equal(memory.write("s3"), false);
    assert.equal(memory.kind, "memory");
    assert.equal(other2.items.size, 0);
  } finally {
    delete (/** @type {any} */ (globalThis).window);
  }
  assert.equal(openStore("local", "k:session").kind, "memory", "no window: memory");
});

test("base64url: without padding, URL-safe, from an ArrayBuffer or bytes", () => {
  const bytes = Uint8Array.from({ length: 70_000 }, (_, i) => (i * 7) & 255);
  assert.equal(toBase64url(bytes), Buffer.from(bytes).toString("base64url"));
  assert.equal(toBase64url(new Uint8Array([251, 255]).buffer), "-_8");
  assert.equal(toBase64url(new Uint8Array(0)), "");
  assert.deepEqual(new Uint8Array(fromBase64url("-_8")), new Uint8Array([251, 255]));
});

test("passkeys: no WebAuthn, and options that are not base64url text, refused as AuthErrors", () => {
  assert.throws(requirePasskeys, (err) => err instanceof AuthError && err.code === "config" && err.message === "Passkeys need WebAuthn (https or localhost)");
  for (const bad of [undefined, 5, "***"]) {
    assert.throws(() => fromBase64url(/** @type {any} */ (bad)), (err) => err instanceof AuthError && err.code === "invalid_response" && err.message === "Invalid passkey options");
  }
});

test("fetch's failures: a timeout (by the error or the signal's reason), an abort, the rest network", () => {
  const timedOut = AbortSignal.abort(new DOMException("signal timed out", "TimeoutError"));
  const cases = [
    [new DOMException("signal timed out", "TimeoutError"), undefined, "network", "The request timed out"],
    [new DOMException("aborted", "AbortError"), timedOut, "network", "The request timed out"],
    [new DOMException("aborted", "AbortError"), undefined, "aborted", "The request was aborted"],
    [new TypeError("Failed to fetch"), undefined, "network", "The server could not be reached"],
    ["not an error", undefined, "network", "The server could not be reached"],
  ];
  for (const [err, signal, code, message] of cases) {
    const mapped = fetchError(err, /** @type {AbortSignal | undefined} */ (signal));
    assert.ok(mapped instanceof AuthError);
    assert.deepEqual([mapped.code, mapped.message], [code, message]);
  }
});

test("passkeys: how a ceremony ends, as an AuthError or the credential's JSON", async () => {
  /** @type {(request: any) => Promise<any>} */
  let get = async () => null;
  /** @type {any} */
  let asked;
  const saved = Object.getOwnPropertyDescriptor(globalThis, "navigator");
  Object.defineProperty(globalThis, "navigator", {
    configurable: true,
    value: { credentials: { get: (/** @type {any} */ request) => ((asked = request), get(request)) } },
  });
  try {
    const options = { challenge: "AAE", allowCredentials: [{ type: "public-key", id: "-_8" }] };
    const refused = async (/** @type {string} */ code, /** @type {string} */ message) =>
      assert.rejects(passkeyCeremony(false, options, undefined), (err) => err instanceof AuthError && err.code === code && err.message === message);
    const cancelled = "The passkey request was cancelled, timed out or failed";
    // None chosen (null), cancelled, aborted, or any other failure: one `aborted`.
    await refused("aborted", cancelled);
    for (const name of ["NotAllowedError", "AbortError", "UnknownError"]) {
      get = async () => {
        throw new DOMException("no", name);
      };
      await refused("aborted", cancelled);
    }
    get = async () => {
      throw new DOMException("no", "InvalidStateError");
    };
    await refused("validation", "This authenticator already holds a passkey for this account");
    get = async () => {
      throw new DOMException("no", "SecurityError");
    };
    await refused("config", "This page's domain is not WEBAUTHN_RP_ID or under it");
    assert.deepEqual([...new Uint8Array(asked.publicKey.allowCredentials[0].id)], [251, 255], "the descriptors' ids as bytes");
    assert.equal(asked.publicKey.user, undefined);
    assert.equal(asked.mediation, undefined);

    // An assertion: its fields as base64url, userHandle null kept, no attestationObject.
    const bytes = (/** @type {number[]} */ b) => new Uint8Array(b).buffer;
    get = async () => ({
      id: "cred",
      type: "public-key",
      authenticatorAttachment: null,
      response: { clientDataJSON: bytes([1]), authenticatorData: bytes([2]), signature: bytes([3]), userHandle: null },
      getClientExtensionResults: () => ({}),
    });
    const json = JSON.parse(await passkeyCeremony(false, { challenge: "AAE" }, undefined, true));
    assert.equal(asked.mediation, "conditional");
    assert.equal(asked.publicKey.allowCredentials, undefined, "no list: absent");
    assert.deepEqual(json, {
      id: "cred",
      rawId: "cred",
      type: "public-key",
      response: { clientDataJSON: "AQ", authenticatorData: "Ag", signature: "Aw", userHandle: null },
      authenticatorAttachment: null,
      clientExtensionResults: {},
    });
  } finally {
    if (saved) Object.defineProperty(globalThis, "navigator", saved);
    else delete (/** @type {any} */ (globalThis).navigator);
  }
});
