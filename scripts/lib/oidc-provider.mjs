// A real OpenID Connect provider on loopback (the npm `oidc-provider` package) for the
// demo and the browser tests: one confidential client, two accounts, and its own small
// sign-in and consent pages (no external fonts or scripts, so nothing leaves loopback).
//
//   OIDC_PORT=9400 OIDC_CLIENT_ID=... OIDC_CLIENT_SECRET=... \
//   OIDC_REDIRECT_URIS=http://localhost:3000/auth/callback node scripts/lib/oidc-provider.mjs
//
// Prints one line `oidc-provider ready <issuer>` once it listens. Accounts (password
// for both: the value of OIDC_PASSWORD, default "wonderland"):
//   alice@example.com  email verified      bob@example.com  email NOT verified
import { generateKeyPairSync, randomBytes } from "node:crypto";
import { createServer } from "node:http";
import Provider from "oidc-provider";

const env = (name, fallback) => {
  const value = process.env[name] ?? fallback;
  if (value === undefined) throw new Error(`${name} is required`);
  return value;
};

const port = Number(env("OIDC_PORT"));
const host = env("OIDC_HOST", "127.0.0.1");
const issuer = `http://${host}:${port}`;
const password = env("OIDC_PASSWORD", "wonderland");

export const ACCOUNTS = {
  "alice-0001": { email: "alice@example.com", email_verified: true, name: "Alice Liddell" },
  "bob-0002": { email: "bob@example.com", email_verified: false, name: "Bob Unverified" },
};

const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
const jwk = { ...privateKey.export({ format: "jwk" }), kid: "loopback-1", use: "sig", alg: "RS256" };

const provider = new Provider(issuer, {
  clients: [
    {
      client_id: env("OIDC_CLIENT_ID"),
      client_secret: env("OIDC_CLIENT_SECRET"),
      redirect_uris: env("OIDC_REDIRECT_URIS").split(",").filter(Boolean),
      grant_types: ["authorization_code"],
      response_types: ["code"],
      token_endpoint_auth_method: "client_secret_basic",
    },
  ],
  jwks: { keys: [jwk] },
  cookies: { keys: [randomBytes(32).toString("base64url")] },
  claims: { openid: ["sub"], email: ["email", "email_verified"], profile: ["name"] },
  pkce: { required: () => true },
  features: { devInteractions: { enabled: false } },
  interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
  async findAccount(_ctx, id) {
    const account = ACCOUNTS[id];
    return account && { accountId: id, claims: async () => ({ sub: id, ...account }) };
  },
  renderError(ctx, out) {
    ctx.type = "html";
    ctx.body = page("Error", `<p id="error">${escape(out.error)}: ${escape(out.error_description ?? "")}</p>`);
  },
});
// Plain http on loopback: no proxy, no TLS.
provider.proxy = false;

const escape = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const page = (title, body) =>
  `<!doctype html><html><head><meta charset="utf-8"><title>${title}</title>` +
  `<style>body{font:16px system-ui;max-width:26rem;margin:3rem auto}input,button{font:inherit;margin:.25rem 0;display:block}</style>` +
  `</head><body><h1>${title}</h1>${body}</body></html>`;

async function readForm(req) {
  let text = "";
  for await (const chunk of req) text += chunk;
  return new URLSearchParams(text);
}

/** The sign-in and consent steps (what `devInteractions` would do, without its
 * external stylesheet). */
async function interaction(req, res, uid, action) {
  const details = await provider.interactionDetails(req, res);
  if (details.uid !== uid) throw new Error("interaction mismatch");
  const { prompt, params, session } = details;
  if (req.method === "GET") {
    res.setHeader("Content-Type", "text/html; charset=utf-8");
    res.setHeader("Cache-Control", "no-store");
    if (prompt.name === "login") {
      res.end(page("Sign in to the loopback provider", `<form method="post" action="/interaction/${uid}/login">
        <label>Email <input name="email" type="email" autocomplete="username" autofocus></label>
        <label>Password <input name="password" type="password" autocomplete="current-password"></label>
        <button type="submit">Sign in</button></form><p id="login-error"></p>`));
    } else {
      res.end(page("Allow access?", `<p><strong>${escape(params.client_id)}</strong> asks for: ${escape(params.scope)}</p>
        <form method="post" action="/interaction/${uid}/confirm"><button type="submit">Allow</button></form>
        <form method="post" action="/interaction/${uid}/deny"><button type="submit">Deny</button></form>`));
    }
    return;
  }
  const form = await readForm(req);
  if (action === "login") {
    const id = Object.keys(ACCOUNTS).find((k) => ACCOUNTS[k].email === form.get("email"));
    if (!id || form.get("password") !== password) {
      res.writeHead(303, { Location: `/interaction/${uid}` }).end();
      return;
    }
    await provider.interactionFinished(req, res, { login: { accountId: id } }, { mergeWithLastSubmission: false });
  } else if (action === "confirm") {
    const grant = details.grantId ? await provider.Grant.find(details.grantId) : new provider.Grant({ accountId: session.accountId, clientId: params.client_id });
    if (prompt.details.missingOIDCScope) grant.addOIDCScope(prompt.details.missingOIDCScope.join(" "));
    if (prompt.details.missingOIDCClaims) grant.addOIDCClaims(prompt.details.missingOIDCClaims);
    await provider.interactionFinished(req, res, { consent: { grantId: await grant.save() } }, { mergeWithLastSubmission: true });
  } else {
    await provider.interactionFinished(req, res, { error: "access_denied", error_description: "The user denied access" }, { mergeWithLastSubmission: false });
  }
}

const handler = provider.callback();
const server = createServer((req, res) => {
  const match = /^\/interaction\/([\w-]+)(?:\/(login|confirm|deny))?$/.exec(req.url.split("?")[0]);
  if (!match) return handler(req, res);
  interaction(req, res, match[1], match[2]).catch((err) => {
    res.writeHead(400, { "Content-Type": "text/plain" }).end(`interaction failed: ${err.message}`);
  });
});
server.listen(port, host, () => console.log(`oidc-provider ready ${issuer}`));
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => server.close(() => process.exit(0)));
