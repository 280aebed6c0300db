// No bundler: static files, <script type="module"> importing node_modules/auth-wasm/index.js
// and a module Worker doing the same, under a CSP whose only allowance is 'wasm-unsafe-eval';
// then the same page with an import map sending it to browser.js, which fetches the .wasm
// (preloaded by the page, as README advises: one request).
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import path from "node:path";
import test from "node:test";
import { EXPECTED_CHECKS, fixture, pageQuery, pageResult, serveStatic, startStubBackend } from "./lib.mjs";

const dir = fixture("plain");

/** The CSP sources allowing the page's inline scripts (the module script, an import map). */
function inlineScriptHashes(page) {
  const html = readFileSync(path.join(dir, page), "utf8");
  return [...html.matchAll(/<script type="(?:module|importmap)">([\s\S]*?)<\/script>/g)]
    .map(([, script]) => `'sha256-${createHash("sha256").update(script).digest("base64")}'`)
    .join(" ");
}

async function checkPage(page) {
  const api = await startStubBackend();
  const csp = `default-src 'self'; script-src 'self' 'wasm-unsafe-eval' ${inlineScriptHashes(page)}; connect-src 'self' ${api}`;
  let wasmRequests = 0;
  const url = await serveStatic(dir, { "content-security-policy": csp }, (rel) => {
    if (rel.endsWith("/auth_wasm_bg.wasm")) wasmRequests++;
  });
  return { ...(await pageResult(`${url}/${page}${pageQuery(api)}`)), wasmRequests };
}

test("a page with no bundler and its module Worker, under a strict CSP", async () => {
  const { result, errors } = await checkPage("index.html");
  assert.deepEqual(result, { main: EXPECTED_CHECKS, worker: EXPECTED_CHECKS });
  assert.deepEqual(errors, []);
});

test("the page through browser.js (the .wasm fetched beside it, preloaded by README's hint), under the same CSP", async () => {
  const { result, errors, wasmRequests } = await checkPage("browser.html");
  assert.deepEqual(result, { main: EXPECTED_CHECKS, worker: EXPECTED_CHECKS, wasmFetches: 1 });
  // One request for the .wasm: browser.js's fetch took the preloaded response (a fetch
  // that did not match the preload would have been a second request).
  assert.equal(wasmRequests, 1);
  assert.deepEqual(errors, []);
});
