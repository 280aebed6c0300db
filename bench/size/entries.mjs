// The minimal usage of each peer, bundled alone: what a page pays to create a client
// (or decode a token) with it.
export const PEERS = {
  "jose (decodeJwt)": `import { decodeJwt } from "jose"; globalThis.x = decodeJwt;`,
  "jwt-decode": `import { jwtDecode } from "jwt-decode"; globalThis.x = jwtDecode;`,
  "better-auth client": `import { createAuthClient } from "better-auth/client"; globalThis.x = createAuthClient({ baseURL: "http://localhost:3000" });`,
  "@supabase/auth-js": `import { GoTrueClient } from "@supabase/auth-js"; globalThis.x = new GoTrueClient({ url: "http://localhost:8000" });`,
  "@auth0/auth0-spa-js": `import { Auth0Client } from "@auth0/auth0-spa-js"; globalThis.x = new Auth0Client({ domain: "example.auth0.com", clientId: "id" });`,
  "oidc-client-ts": `import { UserManager } from "oidc-client-ts"; globalThis.x = new UserManager({ authority: "http://localhost:8000", client_id: "id", redirect_uri: "http://localhost:3000/cb" });`,
};
