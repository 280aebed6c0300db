"use client";

import { useEffect, useState } from "react";
import { useAuth } from "auth-wasm/react";
import { BACKEND_URL } from "@/lib/config";
import { describeError } from "@/lib/errors";

interface Provider {
  id: string;
  name: string;
}

/** "Continue with …" for every provider the backend (or Better Auth) is configured with
 * (none: nothing shows). The sign-in comes back to /auth/callback. */
export function SocialSignIn() {
  const { client } = useAuth();
  const [providers, setProviders] = useState<Provider[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    // Better Auth mode: Better Auth's providers (FastAPI's social sign-in is off there).
    const list = document.documentElement.dataset.authMode === "better-auth" ? "/api/providers" : `${BACKEND_URL}/auth/oauth/providers`;
    const controller = new AbortController();
    fetch(list, { signal: controller.signal })
      .then((r) => (r.ok ? r.json() : []))
      .then((list: Provider[]) => setProviders(Array.isArray(list) ? list : []))
      // No list (the backend is down, or predates social sign-in): no buttons.
      .catch(() => {});
    return () => controller.abort();
  }, []);

  async function start(provider: Provider) {
    if (!client) return;
    setBusy(true);
    setError(null);
    try {
      await client.signInWith(provider.id, { redirectTo: `${window.location.origin}/auth/callback` });
    } catch (err) {
      setError(describeError(err));
      setBusy(false);
    }
  }

  if (providers.length === 0) return null;
  return (
    <div className="social">
      <p className="divider">or</p>
      {error && (
        <div className="alert" role="alert" data-testid="social-error">
          {error}
        </div>
      )}
      {providers.map((p) => (
        <button key={p.id} type="button" className="button secondary" disabled={busy || !client} onClick={() => start(p)}>
          Continue with {p.name}
        </button>
      ))}
    </div>
  );
}
