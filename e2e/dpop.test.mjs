// DPoP (RFC 9449) in a real browser against the real backend: sign-in with dpop: true
// binds the tokens to a key the page cannot export; notes work through auth.fetch;
// the tokens copied out of storage are refused anywhere else (another browser
// context, with no key or its own); reloads and a second tab keep the same key;
// logout deletes it; a passkey sign-up and sign-in bind the same way.
// e2e-engines: chromium
import assert from "node:assert/strict";
import { afterEach, beforeEach, test } from "node:test";
import { Lab, authenticator, freePort, labBackend, openLab, useStack, watchConsole } from "./harness.mjs";

let context;
let page;
let problems;

// The lab page is also served as http://localhost (passkeys need a domain RP ID; the
// other tests use its 127.0.0.1 address, which the backend's loopback pattern allows).
const LAB_PORT = await freePort();
const LAB = `http://localhost:${LAB_PORT}`;
const backend = labBackend({ CORS_ORIGINS: LAB, WEBAUTHN_RP_ID: "localhost" });
const lab = new Lab(process.env.E2E_LAB_PKG, LAB_PORT);
const chromium = useStack(backend, lab);

/** In-page helpers: a DPoP client, the stored session, the IndexedDB key record, and
 * proofs signed by a key of the page's own (a thief's, not the client's). */
async function helpers(target) {
  await target.evaluate((api) => {
    window.API = api;
    window.client = () => new window.AuthClient({ baseUrl: api, dpop: true });
    window.stored = () => JSON.parse(localStorage.getItem("auth-wasm:session") ?? "null");
    window.claimsOf = (jwt) => JSON.parse(atob(jwt.split(".")[1].replace(/-/g, "+").replace(/_/g, "/")));
    // The client's stored key record (js/dpop.js), read as the package wrote it.
    const storedKey = () =>
      new Promise((resolve, reject) => {
        const open = indexedDB.open("auth-wasm-dpop", 1);
        open.onupgradeneeded = () => open.result.createObjectStore("keys");
        open.onerror = () => reject(open.error);
        open.onsuccess = () => {
          const get = open.result.transaction("keys").objectStore("keys").get("auth-wasm");
          get.onsuccess = () => {
            open.result.close();
            resolve(get.result ?? null);
          };
        };
      });
    window.keyRecord = async () => {
      const record = await storedKey();
      return record ? { x: record.jwk.x, extractable: record.privateKey.extractable } : null;
    };
    // RFC 7638's thumbprint of a stored key's public JWK: what a token bound to it names in cnf.jkt.
    window.keyThumbprint = async () => {
      const jwk = (await storedKey())?.jwk;
      if (!jwk) return null;
      const members = JSON.stringify({ crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y });
      return b64(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(members)));
    };
    window.rejection = (promise) =>
      promise.then(
        () => ({ rejected: false }),
        (e) => ({ rejected: true, isAuthError: e instanceof window.authWasm.AuthError, code: e.code }),
      );
    const b64 = (bytes) => btoa(String.fromCharCode(...new Uint8Array(bytes))).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
    const enc = (text) => b64(new TextEncoder().encode(text));
    window.thiefProof = async (method, url, token, nonce) => {
      window.thiefKey ??= await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, false, ["sign", "verify"]);
      const { kty, crv, x, y } = await crypto.subtle.exportKey("jwk", window.thiefKey.publicKey);
      const claims = { jti: crypto.randomUUID(), htm: method, htu: url, iat: Math.floor(Date.now() / 1000) };
      if (nonce) claims.nonce = nonce;
      if (token) claims.ath = b64(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(token)));
      const input = `${enc(JSON.stringify({ typ: "dpop+jwt", alg: "ES256", jwk: { kty, crv, x, y } }))}.${enc(JSON.stringify(claims))}`;
      const sig = await crypto.subtle.sign({ name: "ECDSA", hash: "SHA-256" }, window.thiefKey.privateKey, new TextEncoder().encode(input));
      return `${input}.${b64(sig)}`;
    };
    // A request with the thief's proof, retried once with the server's nonce as a
    // real client would: what it finally gets is the server's verdict on the key.
    window.asThief = async (method, path, { token, body } = {}) => {
      const url = `${api}${path}`;
      let nonce;
      for (let i = 0; i < 2; i++) {
        const headers = { "Content-Type": "application/json", DPoP: await window.thiefProof(method, url, token, nonce) };
        if (token) headers.Authorization = `DPoP ${token}`;
        const r = await fetch(url, { method, headers, body });
        const text = await r.text();
        nonce = r.headers.get("DPoP-Nonce");
        const asks = r.status === 400 ? text.includes("use_dpop_nonce") : (r.headers.get("WWW-Authenticate") ?? "").includes("use_dpop_nonce");
        if (!asks || !nonce) return { status: r.status, challenge: r.headers.get("WWW-Authenticate"), body: text };
      }
      return { status: 0 };
    };
  }, backend.url);
}

beforeEach(async () => {
  await backend.reset();
  context = await chromium.browser.newContext();
  page = await context.newPage();
  problems = watchConsole(page);
  await openLab(page, lab);
  await helpers(page);
});

afterEach(async () => {
  await context.close();
});

const signUp = (target) =>
  target.evaluate(async () => {
    const c = window.client();
    window.c = c;
    const email = `dpop-${Date.now()}-${Math.random().toString(16).slice(2)}@example.com`;
    await c.register({ email, password: "correct horse", name: "Ada" });
    return email;
  });

test("sign in with dpop: true: bound tokens, a key the page cannot export, notes through auth.fetch", async () => {
  await signUp(page);
  const r = await page.evaluate(async () => {
    const c = window.c;
    const session = window.stored();
    const claims = window.claimsOf(session.access_token);
    const key = await window.keyRecord();
    const added = await c.fetch(`${window.API}/notes`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ text: "bound" }) });
    const listed = await (await c.fetch(`${window.API}/notes`)).json();
    const me = await c.me();
    const authHeader = await window.rejection(c.authHeader());
    // For code that does not use auth.fetch: both headers, good for one request.
    const headers = await c.dpopHeaders(`${window.API}/notes`, "GET");
    const once = await fetch(`${window.API}/notes`, { headers });
    const twice = await fetch(`${window.API}/notes`, { headers });
    const foreign = await window.rejection(c.dpopHeaders("http://elsewhere.example/x"));
    return { jkt: claims.cnf?.jkt, key, added: added.status, listed: listed.map((n) => n.text), me: me.email, authHeader, scheme: headers.Authorization.split(" ")[0], once: once.status, twice: twice.status, foreign };
  });
  assert.ok(r.jkt, "the access token names the key (cnf.jkt)");
  assert.equal(r.key.extractable, false, "the private key cannot be exported");
  assert.equal(r.added, 201);
  assert.deepEqual(r.listed, ["bound"]);
  assert.ok(r.me.startsWith("dpop-"));
  assert.deepEqual(r.authHeader, { rejected: true, isAuthError: true, code: "config" });
  assert.equal(r.scheme, "DPoP");
  assert.equal(r.once, 200);
  assert.equal(r.twice, 401, "a proof is good once");
  assert.equal(r.foreign.code, "config");
  assert.deepEqual(problems, []);
});

test("tokens copied from storage into another browser context are refused there, and the owner goes on", async () => {
  await signUp(page);
  const stolen = await page.evaluate(() => ({ ...window.stored(), raw: localStorage.getItem("auth-wasm:session") }));
  const elsewhere = await chromium.browser.newContext();
  try {
    const thief = await elsewhere.newPage();
    await openLab(thief, lab);
    await helpers(thief);
    const r = await thief.evaluate(async ({ access_token, refresh_token, raw }) => {
      const asBearer = await fetch(`${window.API}/notes`, { headers: { Authorization: `Bearer ${access_token}` } });
      const withOwnKey = await window.asThief("GET", "/notes", { token: access_token });
      const refreshBare = await fetch(`${window.API}/auth/refresh`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ refresh_token }) });
      const refreshOwnKey = await window.asThief("POST", "/auth/refresh", { body: JSON.stringify({ refresh_token }) });
      // The whole record planted in this context's storage: a client here has no key
      // for these tokens (it makes its own), so the backend refuses what it sends.
      localStorage.setItem("auth-wasm:session", raw);
      const planted = new window.AuthClient({ baseUrl: window.API, dpop: true });
      const plantedFetch = await window.rejection(planted.fetch(`${window.API}/notes`));
      return { asBearer: asBearer.status, bearerChallenge: asBearer.headers.get("WWW-Authenticate"), withOwnKey, refreshBare: refreshBare.status, refreshOwnKey: refreshOwnKey.status, plantedFetch };
    }, stolen);
    assert.equal(r.asBearer, 401);
    assert.match(r.bearerChallenge, /^DPoP error="invalid_token"/);
    assert.equal(r.withOwnKey.status, 401);
    assert.match(r.withOwnKey.challenge, /invalid_dpop_proof/);
    assert.equal(r.refreshBare, 401);
    assert.equal(r.refreshOwnKey, 401);
    assert.deepEqual(r.plantedFetch, { rejected: true, isAuthError: true, code: "unauthorized" });
  } finally {
    await elsewhere.close();
  }
  // None of that spent the owner's refresh token.
  const owner = await page.evaluate(async () => {
    const before = window.stored().refresh_token;
    await window.c.refresh();
    const notes = await window.c.fetch(`${window.API}/notes`);
    return { rotated: window.stored().refresh_token !== before, notes: notes.status, status: window.c.getSnapshot().status };
  });
  assert.deepEqual(owner, { rotated: true, notes: 200, status: "authenticated" });
});

test("a reload and a second tab keep working with the same key", async () => {
  await signUp(page);
  const first = await page.evaluate(async () => ({ key: (await window.keyRecord()).x, jkt: window.claimsOf(window.stored().access_token).cnf.jkt }));
  await page.reload();
  await page.waitForFunction(() => window.labReady === true);
  await helpers(page);
  const reloaded = await page.evaluate(async () => {
    window.c = window.client();
    const notes = await window.c.fetch(`${window.API}/notes`);
    return { notes: notes.status, key: (await window.keyRecord()).x };
  });
  assert.deepEqual(reloaded, { notes: 200, key: first.key });
  const second = await context.newPage();
  await openLab(second, lab);
  await helpers(second);
  const tab = await second.evaluate(async () => {
    const c = window.client();
    const before = await c.fetch(`${window.API}/notes`);
    await c.refresh();
    const after = await c.fetch(`${window.API}/notes`);
    return { before: before.status, after: after.status, key: (await window.keyRecord()).x, jkt: window.claimsOf(window.stored().access_token).cnf.jkt };
  });
  assert.deepEqual(tab, { before: 200, after: 200, key: first.key, jkt: first.jkt });
  // The first tab adopts the refreshed tokens and signs for them with the same key.
  await page.waitForFunction(() => window.c.getSnapshot() && window.stored() !== null);
  const back = await page.evaluate(async () => (await window.c.fetch(`${window.API}/notes`)).status);
  assert.equal(back, 200);
});

test("without IndexedDB, dpop: true is a config error at construction, never a bearer client", async () => {
  const r = await page.evaluate(() => {
    Object.defineProperty(window, "indexedDB", { value: undefined, configurable: true });
    try {
      window.client();
      return { threw: false };
    } catch (e) {
      return { threw: true, isAuthError: e instanceof window.authWasm.AuthError, code: e.code };
    }
  });
  assert.deepEqual(r, { threw: true, isAuthError: true, code: "config" });
});

test("logout deletes the key: the next sign-in binds to a new one", async () => {
  await signUp(page);
  const r = await page.evaluate(async () => {
    const before = (await window.keyRecord()).x;
    const email = window.c.getSnapshot().claims.email;
    await window.c.logout();
    const gone = await window.keyRecord();
    await window.c.login({ email, password: "correct horse" });
    const after = (await window.keyRecord()).x;
    const notes = await window.c.fetch(`${window.API}/notes`);
    return { changed: before !== after, gone, notes: notes.status };
  });
  assert.deepEqual(r, { changed: true, gone: null, notes: 200 });
});

test("garbage where the key should be (another script's record) is an AuthError, and the next sign-in makes a key", async () => {
  const email = await signUp(page);
  const r = await page.evaluate(async (email) => {
    // What the client stored replaced by something that is not a key record.
    await new Promise((resolve, reject) => {
      const open = indexedDB.open("auth-wasm-dpop", 1);
      open.onerror = () => reject(open.error);
      open.onsuccess = () => {
        const tx = open.result.transaction("keys", "readwrite");
        tx.objectStore("keys").put({ privateKey: "not a key", jwk: 7 }, "auth-wasm");
        tx.oncomplete = () => {
          open.result.close();
          resolve();
        };
      };
    });
    const fetched = await window.rejection(window.c.fetch(`${window.API}/notes`));
    const status = window.c.getSnapshot().status;
    await window.c.login({ email, password: "correct horse" }).catch(() => {});
    const notes = await window.c.fetch(`${window.API}/notes`).then((res) => res.status, (e) => `rejected: ${e.code ?? e}`);
    const key = await window.keyRecord().catch(() => null);
    return { fetched, status, notes, keyIsRecord: typeof key?.x === "string" && key.extractable === false };
  }, email);
  // The tokens were bound to the lost key: the backend refuses them and the client
  // signs out, with a typed error, never a TypeError from a broken record.
  assert.equal(r.fetched.isAuthError, true, JSON.stringify(r.fetched));
  assert.equal(r.status, "anonymous");
  assert.equal(r.notes, 200, "a new sign-in replaces the garbage with a key of its own");
  assert.equal(r.keyIsRecord, true);
});

test("passkeys with dpop: true: sign-up and sign-in get tokens bound to the client's key, and auth.fetch works", async () => {
  await openLab(page, lab, `${LAB}/`);
  await helpers(page);
  await authenticator(context, page);
  const r = await page.evaluate(async () => {
    const c = window.client();
    const outcome = (promise) => promise.then((snapshot) => snapshot.status, (e) => `rejected: ${e.code} ${e.message}`);
    // What binds a session: cnf.jkt is the stored key's, the copied token is no bearer, auth.fetch signs for it.
    const bound = async () => {
      const { access_token } = window.stored();
      const asBearer = await fetch(`${window.API}/notes`, { headers: { Authorization: `Bearer ${access_token}` } });
      const added = await c.fetch(`${window.API}/notes`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ text: "passkey" }) });
      return { jktIsTheKeys: window.claimsOf(access_token).cnf?.jkt === (await window.keyThumbprint()), asBearer: asBearer.status, added: added.status };
    };
    const email = `dpop-pk-${Date.now()}-${Math.random().toString(16).slice(2)}@example.com`;
    const signedUp = await outcome(c.signUpWithPasskey({ email, name: "Pia" }));
    const afterSignUp = signedUp === "authenticated" ? await bound() : null;
    await c.logout();
    const signedIn = await outcome(c.signInWithPasskey());
    const afterSignIn = signedIn === "authenticated" ? await bound() : null;
    const me = signedIn === "authenticated" ? (await c.me()).email === email : null;
    return { signedUp, afterSignUp, signedIn, afterSignIn, me };
  });
  const boundSession = { jktIsTheKeys: true, asBearer: 401, added: 201 };
  assert.deepEqual(r, { signedUp: "authenticated", afterSignUp: boundSession, signedIn: "authenticated", afterSignIn: boundSession, me: true });
  assert.deepEqual(problems, []);
});
