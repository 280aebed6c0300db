// Start-up: navigation to a usable client with the stored session restored, timed
// in the page (performance.now() at ready = ms since navigation start).
//
// The page reports readiness itself, with one console message (`READY` below); the
// runner only listens. Polling from the runner (Playwright's waitForFunction) runs an
// injected script on the page's main thread while it loads (about 14 ms in a trace)
// and roughly doubled the wasm's apparent round trip.
import { fixed, median, p95, ratio } from "./stats.mjs";

const LOADS = 40;
const WARMUP = 3;
/** The console message a start-up page prints when its client is ready (or failed). */
export const READY = "bench-startup";

async function load(page, url) {
  const message = page.waitForEvent("console", { predicate: (m) => m.text().startsWith(`${READY} `), timeout: 60_000 });
  await page.goto(url, { waitUntil: "commit" });
  const report = JSON.parse((await message).text().slice(READY.length + 1));
  // The bundle's arrival: the last script of the page's own to arrive (the .wasm aside).
  const scripts = (report.resources ?? []).filter(([name]) => name.endsWith(".js"));
  const arrived = scripts.length ? Math.max(...scripts.map(([, , end]) => end)) : null;
  return { ms: report.ready, failed: report.failed, resources: report.resources ?? [], marks: report.marks ?? [], arrived };
}

/** The candidate each other is compared with load by load (`vs_reference`). */
const REFERENCE = "@supabase/auth-js";

export async function startup({ page, site, api, candidates, loads = LOADS }) {
  const all = [{ name: "empty page", path: "/empty.html" }, ...candidates];
  const times = new Map(all.map((c) => [c.name, []]));
  /** Per candidate, per round: its time (undefined if it failed), for the paired ratio. */
  const byRound = new Map(all.map((c) => [c.name, []]));
  /** Per candidate, per resource: when it was requested, sent, its first byte came and it had arrived. */
  const resources = new Map(all.map((c) => [c.name, new Map()]));
  /** Per candidate: ready minus the bundle's arrival, and each mark's time after it. */
  const after = new Map(all.map((c) => [c.name, { ready: [], marks: new Map() }]));
  const failures = new Map();
  // Round-robin, so drift on a shared machine spreads over every candidate.
  for (let round = 0; round < WARMUP + loads; round++) {
    for (const c of all) {
      const r = await load(page, `${site.url}${c.path}?api=${encodeURIComponent(api)}`);
      if (r.failed) failures.set(c.name, r.failed);
      else if (round >= WARMUP) {
        times.get(c.name).push(r.ms);
        byRound.get(c.name)[round - WARMUP] = r.ms;
        if (r.arrived !== null) {
          const a = after.get(c.name);
          a.ready.push(r.ms - r.arrived);
          for (const [name, at] of r.marks) {
            if (!a.marks.has(name)) a.marks.set(name, []);
            a.marks.get(name).push(at - r.arrived);
          }
        }
        // One row per name: a file fetched twice in one load (a hint its fetch did not
        // match) is counted, so that it cannot hide in the medians.
        const perLoad = new Map();
        for (const [name] of r.resources) perLoad.set(name, (perLoad.get(name) ?? 0) + 1);
        for (const [name, start, end, first = end, sent = start] of r.resources) {
          const seen = resources.get(c.name);
          if (!seen.has(name)) seen.set(name, { start: [], sent: [], first: [], end: [], most: 0 });
          seen.get(name).most = Math.max(seen.get(name).most, perLoad.get(name));
          seen.get(name).start.push(start);
          seen.get(name).sent.push(sent);
          seen.get(name).first.push(first);
          seen.get(name).end.push(end);
        }
      }
    }
  }
  const empty = median(times.get("empty page"));
  // Each load against the reference's load in the same round (loaded right before or
  // after it): the machine's drift, which moves both, cancels out of each ratio.
  const reference = byRound.get(REFERENCE);
  const vsReference = (name) => {
    const ratios = byRound.get(name).flatMap((ms, i) => (ms !== undefined && reference?.[i] !== undefined ? [ms / reference[i]] : []));
    return ratios.length ? median(ratios) : null;
  };
  return all.map((c) => {
    const t = times.get(c.name);
    const med = median(t);
    const fetched = [...resources.get(c.name)].map(([name, r]) => ({ name, most_per_load: r.most, start_ms: median(r.start), sent_ms: median(r.sent), first_byte_ms: median(r.first), end_ms: median(r.end) }));
    const a = after.get(c.name);
    const marks = [...a.marks].map(([name, ms]) => ({ name, ms: median(ms) }));
    return { name: c.name, loads: t.length, median_ms: med, p95_ms: p95(t), vs_empty: med / empty, vs_reference: vsReference(c.name), failed: failures.get(c.name) ?? null, fetched, after_js_ms: a.ready.length ? median(a.ready) : null, marks };
  });
}

export function startupTable(rows) {
  return [
    `| client | loads | median ms | p95 ms | median vs empty page | median of each load vs ${REFERENCE}'s in its round |`,
    `|---|---:|---:|---:|---:|---:|`,
    ...rows.map((r) => `| ${r.name} | ${r.loads} | ${fixed(r.median_ms, 1)} | ${fixed(r.p95_ms, 1)} | ${r.failed ? `failed: ${r.failed}` : ratio(r.vs_empty, 1)} | ${r.vs_reference == null ? "" : ratio(r.vs_reference, 1)} |`),
  ];
}

/** Where the time went: each resource's median request, sending, first byte and arrival time beside the
 * median ready time (ms since navigation start), and the median time from the bundle's
 * arrival to ready (the client's own share), with any marks the page set (ms after it). */
export function startupFetchTable(rows) {
  return [
    `| client | resource: requested -> sent -> first byte -> arrived (median ms) | ready | ready after the JS arrived | marks after the JS arrived |`,
    `|---|---|---:|---:|---|`,
    ...rows.map((r) => `| ${r.name} | ${r.fetched.map((f) => `${f.name}${f.most_per_load > 1 ? ` (fetched ${f.most_per_load} times in a load)` : ""} ${fixed(f.start_ms, 1)} -> ${fixed(f.sent_ms, 1)} -> ${fixed(f.first_byte_ms, 1)} -> ${fixed(f.end_ms, 1)}`).join("; ")} | ${fixed(r.median_ms, 1)} | ${r.after_js_ms === null ? "" : fixed(r.after_js_ms, 2)} | ${r.marks.map((m) => `${m.name} ${fixed(m.ms, 2)}`).join("; ")} |`),
  ];
}
