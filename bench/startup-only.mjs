// The start-up part of scripts/bench alone (after scripts/build), for work on start-up:
//   node bench/startup-only.mjs [LOADS] [name-filter]
// prints the start-up table (the empty page and every candidate whose name contains the
// filter, round-robin as in run.mjs); writes nothing. With TRACE=<file.json>, one more
// load of the first matching candidate is recorded as a Chromium trace (devtools
// categories, with the V8 CPU profile) for chrome://tracing or the Performance panel.
import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import path from "node:path";
import { labBackend, launchBrowser, uniqueEmail } from "../e2e/harness.mjs";
import { buildSite, serveSite } from "./browser/site.mjs";
import { seedPeers, signIn } from "./browser/session.mjs";
import { READY, startup, startupTable } from "./browser/startup.mjs";

const ROOT = path.resolve(import.meta.dirname, "..");
const PKG_WEB = path.join(import.meta.dirname, ".out", "pkg-web");
const PASSWORD = "correct horse battery";
const [loads = "40", filter = ""] = process.argv.slice(2);

execFileSync("bash", ["-c", `source scripts/lib/web-pkg.sh && build_web_pkg "$0"`, PKG_WEB], { cwd: ROOT, stdio: "inherit" });
const candidates = (await buildSite(PKG_WEB)).filter((c) => c.name.includes(filter));

const stops = [];
try {
  const site = await serveSite(PKG_WEB);
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
  const session = await signIn(page, site, backend.url, email, PASSWORD);
  await seedPeers(page, site, backend.url, session);
  const rows = await startup({ page, site, api: backend.url, candidates, loads: Number(loads) });
  console.log(startupTable(rows).join("\n"));
  if (process.env.TRACE && candidates.length > 0) {
    const cdp = await context.newCDPSession(page);
    const events = [];
    cdp.on("Tracing.dataCollected", (e) => events.push(...e.value));
    const done = new Promise((resolve) => cdp.once("Tracing.tracingComplete", resolve));
    await cdp.send("Tracing.start", {
      transferMode: "ReportEvents",
      traceConfig: { includedCategories: ["devtools.timeline", "disabled-by-default-devtools.timeline", "v8.execute", "disabled-by-default-v8.cpu_profiler", "v8", "blink.console", "loading", "netlog", "disabled-by-default-devtools.timeline.frame"] },
    });
    const ready = page.waitForEvent("console", { predicate: (m) => m.text().startsWith(`${READY} `) });
    await page.goto(`${site.url}${candidates[0].path}?api=${encodeURIComponent(backend.url)}`, { waitUntil: "commit" });
    console.log(`traced ${candidates[0].name}: ${(await ready).text()}`);
    await page.waitForTimeout(200);
    await cdp.send("Tracing.end");
    await done;
    writeFileSync(process.env.TRACE, JSON.stringify({ traceEvents: events }));
  }
} finally {
  for (const stop of stops.reverse()) await stop().catch((e) => console.error(`stop failed: ${e.message}`));
}
