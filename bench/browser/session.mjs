// One real session from the real backend, then written into each client's own
// storage format on the site's origin, so every page load restores it.
export async function signIn(page, site, api, email, password) {
  await page.goto(`${site.url}/storm.html?api=${encodeURIComponent(api)}`);
  await page.waitForFunction(() => window.__ready !== undefined);
  return page.evaluate(async ({ api, email, password }) => {
    const auth = new window.wasm.AuthClient({ baseUrl: api });
    await auth.login({ email, password });
    const token = await auth.getAccessToken();
    const claims = window.wasm.decodeJwt(token);
    const stored = localStorage.getItem("auth-wasm:session");
    auth.free();
    return { stored, token, claims };
  }, { api, email, password });
}

/** Seed every peer's storage (in `page`, which later loads the start-up pages:
 * sessionStorage is per tab). */
export async function seedPeers(page, site, api, session) {
  await page.goto(`${site.url}/empty.html?api=${encodeURIComponent(api)}`);
  await page.evaluate(({ api, session }) => {
    const { stored, token, claims } = session;
    localStorage.setItem("auth-wasm:session", stored);
    localStorage.setItem("bench-supabase", JSON.stringify({
      access_token: token, refresh_token: "r", token_type: "bearer", expires_in: claims.exp - claims.iat,
      expires_at: claims.exp, user: { id: claims.sub, aud: "authenticated", role: "authenticated", app_metadata: {}, user_metadata: {}, created_at: new Date().toISOString() },
    }));
    sessionStorage.setItem(`oidc.user:${api}:bench`, JSON.stringify({
      access_token: token, token_type: "Bearer", refresh_token: "r", scope: "openid", profile: { sub: claims.sub, iss: api, aud: "bench", exp: claims.exp, iat: claims.iat }, expires_at: claims.exp,
    }));
    const decodedToken = { encoded: { header: "", payload: "", signature: "" }, header: { alg: "HS256" }, claims: { __raw: token, ...claims }, user: { sub: claims.sub } };
    localStorage.setItem("@@auth0spajs@@::bench::@@user@@", JSON.stringify({ id_token: token, decodedToken }));
    localStorage.setItem("@@auth0spajs@@::bench::default::openid profile email", JSON.stringify({
      body: { client_id: "bench", access_token: token, id_token: token, decodedToken, expires_in: claims.exp - claims.iat, scope: "openid profile email", audience: "default", token_type: "Bearer" },
      expiresAt: claims.exp,
    }));
  }, { api, session });
}

/** `count` distinct access tokens from the real backend (one sign-in each: their `iat`,
 * `sid` and `jti` differ), so the decode benchmarks never see one string over again,
 * which no app does and which engines may cache work on. */
export async function distinctTokens(api, email, password, count) {
  const tokens = [];
  for (let i = 0; i < count; i++) {
    const response = await fetch(`${api}/auth/login`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ email, password }),
    });
    if (!response.ok) throw new Error(`sign-in for a bench token: HTTP ${response.status}`);
    tokens.push((await response.json()).access_token);
  }
  if (new Set(tokens).size !== count) throw new Error("the backend issued the same token twice");
  return tokens;
}
