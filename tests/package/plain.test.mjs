// No bundler: static files, <script type="module"> importing node_modules/auth-wasm/index.js
// and a module Worker doing the same, under a CSP whose only allowance is 'wasm-unsafe-eval'.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import path from "node:path";
import test from "node:test";
import { EXPECTED_CHECKS, fixture, pageQuery, pageResult, serveStatic, startStubBackend } from "./lib.mjs";

const dir = fixture("plain");

function inlineScriptHash() {
  const html = readFileSync(path.join(dir, "index.html"), "utf8");
  const script = html.match(/<script type="module">([\s\S]*?)<\/script>/)[1];
  return createHash("sha256").update(script).digest("base64");
}

test("a page with no bundler and its module Worker, under a strict CSP", async () => {
  const api = await startStubBackend();
  const csp = `default-src 'self'; script-src 'self' 'wasm-unsafe-eval' 'sha256-${inlineScriptHash()}'; connect-src 'self' ${api}`;
  const url = await serveStatic(dir, { "content-security-policy": csp });
  const { result, errors } = await pageResult(`${url}/${pageQuery(api)}`);
  assert.deepEqual(result, { main: EXPECTED_CHECKS, worker: EXPECTED_CHECKS });
  assert.deepEqual(errors, []);
});
