"use client";

import { useEffect, useState } from "react";
import { useAuth } from "auth-wasm/react";
import { BACKEND_URL } from "@/lib/config";
import { describeError } from "@/lib/errors";

interface Provider {
  id: string;
  name: string;
}

/** "Continue with …" for every provider the backend is configured with (none: nothing
 * shows). The provider sends the user back to /auth/callback. */
export function SocialSignIn() {
  const { client } = useAuth();
  const [providers, setProviders] = useState<Provider[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    // Better Auth mode: FastAPI's social sign-in is off (LOCAL_ACCOUNTS=0).
    if (document.documentElement.dataset.authMode === "better-auth") return;
    const controller = new AbortController();
    fetch(`${BACKEND_URL}/auth/oauth/providers`, { signal: controller.signal })
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
