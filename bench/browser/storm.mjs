// Refresh storm: N concurrent auth.fetch calls in each of M tabs right at expiry
// must cost exactly one refresh request; timed against the same load mid-session.
import { setTimeout as sleep } from "node:timers/promises";
import { fixed, median, ratio } from "./stats.mjs";

export const TABS = 4;
export const REQUESTS_PER_TAB = 25;
const ROUNDS = 3;

async function tab(context, site, api) {
  const page = await context.newPage();
  await page.goto(`${site.url}/storm.html?api=${encodeURIComponent(api)}`);
  await page.waitForFunction(() => window.__ready !== undefined);
  await page.evaluate((api) => { window.auth = new window.wasm.AuthClient({ baseUrl: api, refreshMargin: 0 }); }, api);
  return page;
}

/** Every tab fires its requests at once; the slowest tab's time is the load's time.
 * `stale`: tabs that started while still holding the expiring token (`expiresAt`),
 * i.e. whose requests really raced the refresh rather than following it. */
async function load(pages, api, expiresAt = null) {
  const results = await Promise.all(pages.map((p) => p.evaluate(async ({ api, n, expiresAt }) => {
    const stale = window.auth.getSnapshot().expiresAt === expiresAt;
    const t0 = performance.now();
    const responses = await Promise.all(Array.from({ length: n }, () => window.auth.fetch(`${api}/auth/me`)));
    return { ms: performance.now() - t0, ok: responses.filter((r) => r.status === 200).length, stale };
  }, { api, n: REQUESTS_PER_TAB, expiresAt })));
  return { ms: Math.max(...results.map((r) => r.ms)), ok: results.reduce((a, r) => a + r.ok, 0), stale: results.filter((r) => r.stale).length };
}

const refreshCount = async (backend) => (await backend.stats())["/auth/refresh"] ?? 0;

export async function storm({ browser, site, backend, email, password }) {
  const api = backend.url;
  const rounds = [];
  for (let round = 0; round < ROUNDS; round++) {
    const context = await browser.newContext();
    try {
      const first = await tab(context, site, api);
      await first.evaluate(({ email, password }) => window.auth.login({ email, password }), { email, password });
      const pages = [first];
      for (let i = 1; i < TABS; i++) pages.push(await tab(context, site, api));
      await load(pages, api); // warm-up: CORS preflights are cached after this
      await backend.reset();
      const mid = await load(pages, api);
      // A mid-session load that needed a refresh would not be mid-session.
      const midRefreshes = await refreshCount(backend);
      // Counted from before expiry: every tab's proactive timer fires at expiry
      // too (refreshMargin 0), racing the requests for the one refresh. The load
      // starts at expiry, not after it, or the timer's refresh would be over first.
      await backend.reset();
      const expiresAt = await first.evaluate(() => window.auth.getSnapshot().expiresAt);
      await sleep(Math.max(0, expiresAt - Date.now()));
      const atExpiry = await load(pages, api, expiresAt);
      const refreshes = await refreshCount(backend);
      rounds.push({ refreshes, expiry_ms: atExpiry.ms, expiry_ok: atExpiry.ok, tabs_racing: atExpiry.stale, mid_ms: mid.ms, mid_ok: mid.ok, mid_refreshes: midRefreshes });
    } finally {
      await context.close();
    }
  }
  return rounds;
}

export function stormTable(rounds) {
  const total = TABS * REQUESTS_PER_TAB;
  const mid = median(rounds.map((r) => r.mid_ms));
  const expiry = median(rounds.map((r) => r.expiry_ms));
  return [
    `${TABS} tabs x ${REQUESTS_PER_TAB} concurrent \`auth.fetch\` = ${total} requests, ${rounds.length} rounds.`,
    ``,
    `| round | refresh requests (must be 1) | 200s at expiry | tabs that fired before the new token | all done at expiry ms | same load mid-session ms (refreshes) | at expiry vs mid-session | result |`,
    `|---|---:|---:|---:|---:|---:|---:|---|`,
    ...rounds.map((r, i) => `| ${i + 1} | ${r.refreshes} | ${r.expiry_ok}/${total} | ${r.tabs_racing}/${TABS} | ${fixed(r.expiry_ms, 1)} | ${fixed(r.mid_ms, 1)} (${r.mid_refreshes}) | ${ratio(r.expiry_ms, r.mid_ms)} | ${stormPassed(r) ? "pass" : "FAIL"} |`),
    ``,
    `Median time to all complete at expiry: ${fixed(expiry, 1)} ms, ${ratio(expiry, mid)} the same load mid-session (${fixed(mid, 1)} ms).`,
  ];
}

/** A storm round passes with exactly one refresh request and every request answered 200. */
export const stormPassed = (r) => r.refreshes === 1 && r.expiry_ok === TABS * REQUESTS_PER_TAB;
