// Runs the wasm-bindgen tests in Firefox over WebDriver BiDi (puppeteer-core), with
// no geckodriver: wasm-bindgen-test-runner in interactive mode (NO_HEADLESS=1) serves
// the test page, this opens it in Debian's Firefox ESR, prints what the page printed
// and exits 0 only on "test result: ok". Usage: node wasm-test-firefox.mjs URL
// (scripts/test-wasm starts the runner and calls this once it serves).
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import puppeteer from "puppeteer-core";

const url = process.argv[2];
const TIMEOUT_MS = 120_000;

const profile = mkdtempSync(path.join(tmpdir(), "auth-wasm-wbt-firefox-"));
// Launch waits as long as the tests may take (puppeteer's default, 30 s, was once too short
// for Firefox to start on this two-core machine under load).
const browser = await puppeteer.launch({ browser: "firefox", protocol: "webDriverBiDi", executablePath: "/usr/bin/firefox-esr", headless: true, userDataDir: profile, timeout: TIMEOUT_MS });
let output = "";
try {
  const page = await browser.newPage();
  await page.goto(url);
  const handle = await page.waitForFunction(
    () => {
      const text = document.getElementById("output")?.textContent ?? "";
      return /test result: (ok|FAILED)/.test(text) ? text : false;
    },
    { timeout: TIMEOUT_MS, polling: 200 },
  );
  output = await handle.jsonValue();
} finally {
  await browser.close();
  rmSync(profile, { recursive: true, force: true });
}
console.log(output.trim());
process.exit(/test result: ok/.test(output) ? 0 : 1);
