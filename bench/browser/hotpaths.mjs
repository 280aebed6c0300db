// Hot paths, in one page that loaded every client: decode + expiry checks and
// "give me the token" (ops/s, median of timed rounds), and what auth.fetch adds
// to a request to a local server (median and p99 latency).
import { fixed, median, p99, ratio } from "./stats.mjs";

const FETCHES = 300;

/** Runs in the page: median ops/s of each named function over timed rounds. */
function measureOps(spec) {
  const { api, tokens } = spec;
  // Distinct real tokens, taken in turn (a power of two: the index is a mask).
  let turn = 0;
  const next = () => tokens[turn++ & (tokens.length - 1)];
  const { peers, wasm } = window;
  const client = new wasm.AuthClient({ baseUrl: api });
  const supabase = new peers.GoTrueClient({ url: api, storageKey: "bench-supabase", autoRefreshToken: false, detectSessionInUrl: false });
  const oidc = new peers.UserManager({ authority: api, client_id: "bench", redirect_uri: location.origin + "/cb", automaticSilentRenew: false });
  const auth0 = new peers.Auth0Client({ domain: "127.0.0.1", clientId: "bench", cacheLocation: "localstorage" });
  const now = () => Date.now() / 1000;
  const sync = {
    "auth-wasm decodeJwt + exp check": () => wasm.decodeJwt(next()).exp < now(),
    "auth-wasm isExpired": () => wasm.isExpired(next()),
    "jose decodeJwt + exp check": () => peers.jose.decodeJwt(next()).exp < now(),
    "jwt-decode + exp check": () => peers.jwtDecode(next()).exp < now(),
  };
  const async = {
    "auth-wasm getAccessToken()": async () => { if (!(await client.getAccessToken())) throw new Error("no token"); },
    "supabase getSession()": async () => { if (!(await supabase.getSession()).data.session?.access_token) throw new Error("no token"); },
    "oidc-client-ts getUser()": async () => { if (!(await oidc.getUser())?.access_token) throw new Error("no token"); },
    "auth0 getTokenSilently(cache-only)": async () => { if (!(await auth0.getTokenSilently({ cacheMode: "cache-only" }))) throw new Error("no token"); },
  };
  const ROUNDS = 11;
  const ROUND_MS = 300;
  // Rounds run first and not counted, the same for every function: the first calls of
  // a function run before V8 has optimised it (the wasm's included).
  const WARMUP = 2;
  const med = (v) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];
  return (async () => {
    const out = {};
    // Round-robin over the functions, so drift on a shared machine spreads over all of them.
    const rates = Object.fromEntries(Object.keys(sync).map((name) => [name, []]));
    for (let r = 0; r < WARMUP + ROUNDS; r++) {
      for (const [name, fn] of Object.entries(sync)) {
        let n = 0;
        const t0 = performance.now();
        let t = t0;
        while (t - t0 < ROUND_MS) {
          for (let i = 0; i < 200; i++) fn();
          n += 200;
          t = performance.now();
        }
        if (r >= WARMUP) rates[name].push(n / ((t - t0) / 1000));
      }
    }
    for (const name of Object.keys(sync)) out[name] = med(rates[name]);
    // The same round-robin for the async ones; a function that fails is reported instead.
    const usable = {};
    for (const [name, fn] of Object.entries(async)) {
      try {
        await fn();
        usable[name] = fn;
      } catch (e) {
        out[name] = `n/a: ${e.message}`;
      }
    }
    const asyncRates = Object.fromEntries(Object.keys(usable).map((name) => [name, []]));
    for (let r = 0; r < ROUNDS; r++) {
      for (const [name, fn] of Object.entries(usable)) {
        let n = 0;
        const t0 = performance.now();
        let t = t0;
        while (t - t0 < ROUND_MS) {
          for (let i = 0; i < 20; i++) await fn();
          n += 20;
          t = performance.now();
        }
        asyncRates[name].push(n / ((t - t0) / 1000));
      }
    }
    for (const name of Object.keys(usable)) out[name] = med(asyncRates[name]);
    client.free();
    return out;
  })();
}

/** Runs in the page: latencies of plain fetch, fetch with a manual bearer, and auth.fetch. */
function measureFetch({ api, token, count }) {
  const client = new window.wasm.AuthClient({ baseUrl: api });
  const url = `${api}/health`;
  const variants = {
    "fetch": () => fetch(url),
    "fetch + manual bearer": () => fetch(url, { headers: { Authorization: `Bearer ${token}` } }),
    "auth.fetch": () => client.fetch(url),
  };
  return (async () => {
    const out = Object.fromEntries(Object.keys(variants).map((k) => [k, []]));
    for (let i = 0; i < 20; i++) for (const fn of Object.values(variants)) await (await fn()).text();
    for (let i = 0; i < count; i++) {
      for (const [name, fn] of Object.entries(variants)) {
        const t0 = performance.now();
        const r = await fn();
        await r.text();
        out[name].push(performance.now() - t0);
        if (r.status !== 200) throw new Error(`${name}: HTTP ${r.status}`);
      }
    }
    client.free();
    return out;
  })();
}

export async function hotPaths({ page, site, api, session }) {
  await page.goto(`${site.url}/hot.html?api=${encodeURIComponent(api)}`);
  await page.waitForFunction(() => window.__ready !== undefined);
  const ops = await page.evaluate(measureOps, { api, tokens: session.tokens });
  const latencies = await page.evaluate(measureFetch, { api, token: session.token, count: FETCHES });
  const fetchRows = Object.entries(latencies).map(([name, v]) => ({ name, median_ms: median(v), p99_ms: p99(v) }));
  const isolated = await page.evaluate(() => window.crossOriginIsolated);
  return { ops, fetch: fetchRows, timerResolution_us: isolated ? 5 : 100 };
}

export function hotPathTables({ ops, fetch, timerResolution_us }) {
  const base = (name) => ops[name];
  const decode = ["auth-wasm decodeJwt + exp check", "auth-wasm isExpired", "jose decodeJwt + exp check", "jwt-decode + exp check"];
  const token = ["auth-wasm getAccessToken()", "supabase getSession()", "oidc-client-ts getUser()", "auth0 getTokenSilently(cache-only)"];
  const row = (name, vs) => `| ${name} | ${typeof ops[name] === "number" ? Math.round(ops[name]).toLocaleString("en-US") : ops[name]} | ${typeof ops[name] === "number" ? ratio(ops[name], base(vs)) : "n/a"} |`;
  const plain = fetch.find((r) => r.name === "fetch");
  const manual = fetch.find((r) => r.name === "fetch + manual bearer");
  // What a variant adds to a baseline's latency, at the median and at p99.
  const added = (r, base) => (r === base ? "-" : `${fixed(r.median_ms - base.median_ms, 3)} / ${fixed(r.p99_ms - base.p99_ms, 3)}`);
  return [
    `| decode + expiry check (32 distinct real tokens in turn) | ops/s (median) | vs jose decodeJwt |`,
    `|---|---:|---:|`,
    ...decode.map((n) => row(n, decode[2])),
    ``,
    `| token on a valid session | ops/s (median) | vs auth-wasm |`,
    `|---|---:|---:|`,
    ...token.map((n) => row(n, token[0])),
    ``,
    `| GET /health on the loopback backend (${FETCHES} each, interleaved) | median ms | p99 ms | added vs manual bearer, median / p99 ms | added vs plain fetch, median / p99 ms | median vs manual bearer | median vs plain fetch |`,
    `|---|---:|---:|---:|---:|---:|---:|`,
    ...fetch.map((r) => `| ${r.name} | ${fixed(r.median_ms, 3)} | ${fixed(r.p99_ms, 3)} | ${added(r, manual)} | ${added(r, plain)} | ${ratio(r.median_ms, manual.median_ms)} | ${ratio(r.median_ms, plain.median_ms)} |`),
    ``,
    `Timer resolution in the page: ${timerResolution_us} µs. The manual bearer is the fair baseline: an Authorization header makes the request non-simple (a CORS preflight, cached after the first), as auth.fetch's does.`,
  ];
}
