// The OpenID providers Better Auth signs in with in the demo (its generic OAuth plugin),
// from BETTER_AUTH_OIDC_PROVIDERS: the backend's OAUTH_PROVIDERS shape, e.g.
// {"acme": {"name": "Acme ID", "issuer": "https://id.acme.example", "client_id": "...",
// "client_secret": "..."}}. Each provider's redirect URI is
// {BETTER_AUTH_URL}/api/auth/callback/<id>. Server-only.
import type { GenericOAuthConfig } from "better-auth/plugins";

interface ProviderSetting {
  name?: string;
  issuer: string;
  client_id: string;
  client_secret: string;
}

function settings(): [string, ProviderSetting][] {
  const text = process.env.BETTER_AUTH_OIDC_PROVIDERS;
  if (!text) return [];
  const parsed: unknown = JSON.parse(text);
  if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
    throw new Error("BETTER_AUTH_OIDC_PROVIDERS must be a JSON object of provider id -> {issuer, client_id, client_secret}");
  }
  return Object.entries(parsed as Record<string, ProviderSetting>);
}

/** The generic OAuth plugin's configs (discovery from each issuer; PKCE; ID tokens
 * verified against the provider's JWKS by Better Auth). */
export function genericOAuthConfigs(): GenericOAuthConfig[] {
  return settings().map(([id, p]) => ({
    providerId: id,
    name: p.name ?? id,
    discoveryUrl: `${p.issuer.replace(/\/$/, "")}/.well-known/openid-configuration`,
    clientId: p.client_id,
    clientSecret: p.client_secret,
    scopes: ["openid", "email", "profile"],
    pkce: true,
  }));
}

/** `{id, name}` of each, for the sign-in page's buttons. */
export function providerList(): { id: string; name: string }[] {
  return settings().map(([id, p]) => ({ id, name: p.name ?? id }));
}
