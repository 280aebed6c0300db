// DPoP (RFC 9449), the shell's part: the key and the signatures. The key pair is made
// by WebCrypto with a private key that cannot be exported (script, an extension or
// XSS can use it only while the page runs, never copy it away) and kept in IndexedDB
// per storageKey, so every tab and every reload of the app signs with the same one.
// What a proof claims, which nonce it carries and what an answer means are the
// engine's decisions (src/core/dpop.rs).
import { authError } from "./auth-error.js";
import { toBase64url as b64url } from "./base64url.js";
import { DPOP_ANSWER, DPOP_CLAIMS, DPOP_CLEAR, call, encoder } from "./engine.js";
import { fetchRequest } from "./http.js";
import { challengeOf } from "./social.js";

// The keys live in IndexedDB's database "auth-wasm-dpop", object store "keys": the names
// written where used (esbuild keeps a constant of a module with imports as a declaration).
// ES256: the key's parameters and the signature's in one object (each algorithm's
// dictionary reads its own members: generateKey the curve, sign the hash).
const ES256 = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" };

/** @typedef {{ privateKey: CryptoKey, jwk: { kty: string, crv: string, x: string, y: string } }} DpopKey */

const unavailable = () => authError("config", "dpop: true needs IndexedDB and WebCrypto");

/** One transaction on the key store: `body` queues its requests (their handlers keep what
 * they read); settles when the transaction has committed. Every failure (open, the
 * transaction, a throw of the body) is `unavailable` once, at the end.
 * @param {IDBTransactionMode} mode
 * @param {(store: IDBObjectStore) => void} body
 * @returns {Promise<unknown>} */
function withStore(mode, body) {
  return new Promise((resolve, reject) => {
    const open = indexedDB.open("auth-wasm-dpop", 1);
    open.onupgradeneeded = () => open.result.createObjectStore("keys");
    open.onerror = reject;
    open.onsuccess = () => {
      const db = open.result;
      try {
        const tx = db.transaction("keys", mode);
        tx.oncomplete = resolve;
        // A failed request or commit aborts the transaction, which then fires `abort`.
        tx.onabort = reject;
        body(tx.objectStore("keys"));
      } catch {
        reject();
      }
      // Closed once its transaction has finished (IndexedDB waits for it; the body's
      // requests still run): no close on each way out.
      db.close();
    };
  }).catch(() => {
    throw unavailable();
  });
}

/** The key of `id`: the stored one, else a new one stored, unless another tab stored
 * one first (one read-write transaction decides, so all tabs end up with the same).
 * @param {string} id
 * @returns {Promise<DpopKey>} */
async function keyOf(id) {
  /** @type {DpopKey | undefined} */
  let made;
  /** @type {DpopKey | undefined} */
  let key;
  // The stored key; none read-only, else `made` stored unless a key is there by now.
  const take = (/** @type {IDBTransactionMode} */ mode) =>
    withStore(mode, (store) => {
      const get = store.get(id);
      get.onsuccess = () => {
        // A key this module stored: anything else under the id (another script's record,
        // a broken write) is no key, and is replaced by a new one.
        const record = get.result;
        if (record?.privateKey instanceof CryptoKey && !record.privateKey.extractable && ["kty", "crv", "x", "y"].every((k) => typeof record.jwk?.[k] === "string")) key = record;
        else if (made) store.put((key = made), id);
      };
    });
  await take("readonly");
  if (key) return key;
  try {
    // Only the private key is used (to sign); the public one is exported, never used.
    // WebCrypto makes the private key as asked (not extractable) and exports an EC public
    // key with kty, crv, x and y: what the read asks of a stored one holds, untested.
    const pair = /** @type {CryptoKeyPair} */ (await crypto.subtle.generateKey(ES256, false, ["sign"]));
    const { kty, crv, x, y } = await crypto.subtle.exportKey("jwk", pair.publicKey);
    made = /** @type {DpopKey} */ ({ privateKey: pair.privateKey, jwk: { kty, crv, x, y } });
  } catch {
    throw unavailable();
  }
  await take("readwrite");
  // The transaction committed: the key it found or stored (any: tsc cannot see the handler
  // set `key`).
  return /** @type {any} */ (key);
}

/** What signs proofs with this client's key and sends requests with them.
 * @typedef {object} DpopSigner
 * @property {(method: string, url: string, token?: string) => Promise<string>} proof a fresh
 *   proof for `method` `url`; with `token`, for a request that carries it (`ath`)
 * @property {(request: Request, token?: string, tokens?: boolean) => Promise<Response>} fetch
 *   `request` with a fresh proof (and `token` under the DPoP scheme); sent once more when the
 *   engine says the answer asks for it (a new nonce, a corrected clock). `tokens`: the answer
 *   may issue tokens, which must be bound (else `invalid_response`)
 * @property {() => Promise<void>} drop signed out: the key is deleted (the next sign-in
 *   makes a new one), the nonces forgotten */

/** Throws AuthError `config` where no key can be kept (no IndexedDB or WebCrypto).
 * @param {string} storageKey the client's storageKey: one key per app
 * @param {import("./engine.js").Client} client the client: its engine decides claims and verdicts
 * @returns {DpopSigner} */
export function dpopSigner(storageKey, client) {
  // A key can be kept where there are IndexedDB and WebCrypto (a secure context).
  // Whether it makes non-extractable P-256 keys shows only when it tries (the first
  // proof): that rejects with `config` too.
  if (!globalThis.indexedDB || !globalThis.crypto?.subtle) throw unavailable();

  /** @type {DpopSigner["proof"]} */
  const proof = async (method, url, token) => {
    // The key is read each time: another tab may have signed out and in again.
    const key = await keyOf(storageKey);
    // RFC 9449's ath is the token's S256 challenge (dpopSigner checked WebCrypto).
    const ath = token && (await challengeOf(token));
    // Every `url` here has claims (core::dpop::claims answers none only where origin_of
    // does): dpopHeaders and the client's fetch send a proof only where bearerAllowed
    // (origin_of) said yes, and the client's own requests go to baseUrl, which config
    // checked by origin_of, as a Request serialised it (http(s), a host, a numeric port).
    const claims = call(client, DPOP_CLAIMS, method.toUpperCase(), url, crypto.randomUUID(), ath);
    const input = `${b64url(encoder.encode(JSON.stringify({ typ: "dpop+jwt", alg: "ES256", jwk: key.jwk })))}.${b64url(encoder.encode(claims))}`;
    // A key the platform will not use (an evicted or broken store) fails typed, not as a DOMException.
    const signature = await crypto.subtle.sign(ES256, key.privateKey, encoder.encode(input)).catch(() => {
      throw unavailable();
    });
    return `${input}.${b64url(signature)}`;
  };

  /** @type {DpopSigner["fetch"]} */
  const fetch = async (request, token, tokens) => {
    // One spare copy for the one retry (none after it).
    for (let /** @type {Request | null} */ spare = request.clone(); ; spare = null) {
      if (token) request.headers.set("Authorization", `DPoP ${token}`);
      request.headers.set("DPoP", await proof(request.method, request.url, token));
      const response = await fetchRequest(request);
      const { status, headers } = response;
      // A 401 is read by its WWW-Authenticate, any other by its body, which matters for
      // a token route's answer (an error, or the token type). An absent header (null)
      // reaches the engine as none.
      const said = status === 401 ? headers.get("WWW-Authenticate") : tokens && status < 500 ? await response.clone().text().catch(() => "") : "";
      const verdict = call(client, DPOP_ANSWER, request.url, headers.get("DPoP-Nonce"), headers.get("Date"), said, 0, status);
      if (verdict === "u") throw authError("invalid_response", "The tokens are not DPoP-bound");
      if (!verdict || !spare) return response;
      request = spare;
    }
  };

  return {
    proof,
    fetch,
    drop: async () => {
      call(client, DPOP_CLEAR);
      await withStore("readwrite", (store) => store.delete(storageKey)).catch(() => {});
    },
  };
}
