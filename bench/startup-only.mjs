// The start-up part of scripts/bench alone (after scripts/build), for work on start-up:
//   node bench/startup-only.mjs [LOADS] [name-filter]
// prints the start-up table (the empty page and every candidate whose name matches the
// filter (a regular expression), round-robin as in run.mjs); writes nothing.
// BASELINE=<dir>[,<dir>...] adds the entry (index.js, the wasm inlined) of other package
// directories (before a change, say, or variants of one) to the same run (named
// "baseline <dir>: wasm inlined", for the filter). With TRACE=<file.json>, one more
// load of each matching candidate is recorded as a Chromium trace (<file>-<i>.json:
// devtools categories, with the V8 CPU profile) for the Performance panel. GZIP=0 serves
// the files uncompressed (run.mjs measures both; gzip is what production hosts send).
// ISOLATED=1 serves every page cross-origin isolated, so performance.now() and the marks
// an instrumented package copy sets (bench/startup-marks.mjs; reported after the JS's
// arrival) tick in 5 µs. Each start-up bundle is a module script at the end of the page's
// <head>, as Vite's build writes its entry (the preload scanner requests it with the
// .wasm's hint); HEAD=0 loads it by the page's inline import() instead, as before (a page
// no bundler writes: the bundle is requested after the body is parsed). HINTS=1 adds
// the hint's other forms and places, and supabase's page with the hint (unused), to
// measure the hint's own cost. NET=<rtt ms>[,<kbit/s>] puts Chromium's network emulation
// (DevTools throttling, in the network service) on every request of the run, the empty
// page's too: loopback has no round trip and no bandwidth limit, which hides what a
// second file costs on a real link (its bytes) and what the hint saves there (a round trip).
// COMPILE_PKG=<pkg dir> adds pages that start the .wasm's compile themselves (an inline
// script setting globalThis.authWasmModule, with and without the hint), bundled with that
// directory's JS, whose engine-url.js must take the global (site.mjs compileVariants).
// Every start-up table also gives each load divided by supabase's load of the same round
// (median of the ratios): the machine's drift, which moves both, cancels out.
import { execFileSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { labBackend, launchBrowser, uniqueEmail } from "../e2e/harness.mjs";
import { buildSite, serveSite } from "./browser/site.mjs";
import { seedPeers, signIn } from "./browser/session.mjs";
import { READY, startup, startupFetchTable, startupTable } from "./browser/startup.mjs";

const ROOT = path.resolve(import.meta.dirname, "..");
const PKG_WEB = path.join(import.meta.dirname, ".out", "pkg-web");
const PASSWORD = "correct horse battery";
const [loads = "40", filter = ""] = process.argv.slice(2);

mkdirSync(path.dirname(PKG_WEB), { recursive: true });
execFileSync("bash", ["-c", `source scripts/lib/web-pkg.sh && build_web_pkg "$0"`, PKG_WEB], { cwd: ROOT, stdio: "inherit" });
const baselines = process.env.BASELINE ? process.env.BASELINE.split(",").map((dir) => path.resolve(dir)) : null;
const candidates = (await buildSite(PKG_WEB, baselines, { scriptInHead: process.env.HEAD !== "0", hintVariants: process.env.HINTS === "1", compilePkg: process.env.COMPILE_PKG ? path.resolve(process.env.COMPILE_PKG) : "" })).filter((c) => new RegExp(filter).test(c.name));

const stops = [];
try {
  const site = await serveSite(PKG_WEB);
  site.gzip = process.env.GZIP !== "0";
  site.isolated = process.env.ISOLATED === "1";
  stops.push(site.stop);
  const backend = labBackend();
  stops.push(() => backend.dispose());
  await backend.start();
  const chromium = await launchBrowser();
  stops.push(chromium.close);
  const email = uniqueEmail("bench");
  await backend.register(email, PASSWORD);
  const context = await chromium.browser.newContext();
  const page = await context.newPage();
  if (process.env.NET) {
    const [rtt, kbps] = process.env.NET.split(",").map(Number);
    const cdp = await context.newCDPSession(page);
    await cdp.send("Network.enable");
    // Throughput in bytes per second; -1 is none.
    const throughput = kbps ? (kbps * 1024) / 8 : -1;
    await cdp.send("Network.emulateNetworkConditions", { offline: false, latency: rtt, downloadThroughput: throughput, uploadThroughput: throughput });
  }
  const session = await signIn(page, site, backend.url, email, PASSWORD);
  await seedPeers(page, site, backend.url, session);
  const rows = await startup({ page, site, api: backend.url, candidates, loads: Number(loads) });
  console.log([...startupTable(rows), "", ...startupFetchTable(rows)].join("\n"));
  // One trace per candidate: tracing starts (and the profiler's start-up cost is paid)
  // on a load of the empty page, then the candidate's load is the one to read.
  // TRACE_LOADS=<n>: n rounds of them, interleaved, without the CPU profiler
  // (<file>-<i>-<round>.json), for statistics over traces (each thread's wall and CPU time).
  const traceRounds = Number(process.env.TRACE_LOADS ?? 1);
  const traced = process.env.TRACE ? Array.from({ length: traceRounds }, (_, round) => candidates.map((c, i) => ({ c, i, round }))).flat() : [];
  for (const { c, i, round } of traced) {
    const cdp = await context.newCDPSession(page);
    const events = [];
    cdp.on("Tracing.dataCollected", (e) => events.push(...e.value));
    const done = new Promise((resolve) => cdp.once("Tracing.tracingComplete", resolve));
    await cdp.send("Tracing.start", {
      transferMode: "ReportEvents",
      traceConfig: { includedCategories: ["devtools.timeline", "disabled-by-default-devtools.timeline", "v8.execute", ...(traceRounds > 1 ? [] : ["disabled-by-default-v8.cpu_profiler"]), "v8", "v8.wasm", "blink.user_timing", "loading", "disabled-by-default-devtools.timeline.frame"] },
    });
    for (const url of [`${site.url}/empty.html`, `${site.url}${c.path}`]) {
      const ready = page.waitForEvent("console", { predicate: (m) => m.text().startsWith(`${READY} `) });
      await page.goto(`${url}?api=${encodeURIComponent(backend.url)}`, { waitUntil: "commit" });
      const text = (await ready).text();
      if (traceRounds === 1) console.log(`traced ${url}: ${text}`);
    }
    await page.waitForTimeout(200);
    await cdp.send("Tracing.end");
    await done;
    await cdp.detach();
    writeFileSync(process.env.TRACE.replace(/(\.json)?$/, traceRounds > 1 ? `-${i}-${round}.json` : `-${i}.json`), JSON.stringify({ traceEvents: events }));
  }
} finally {
  for (const stop of stops.reverse()) await stop().catch((e) => console.error(`stop failed: ${e.message}`));
}
