"use client";

import { useRouter } from "next/navigation";
import { useCallback, useEffect, useState } from "react";
import type { AuthSessionInfo } from "auth-wasm";
import { useAuth } from "auth-wasm/react";
import { Protected } from "@/components/Gates";
import { describeError } from "@/lib/errors";

function device(ua: string): string {
  if (!ua) return "Unknown device";
  const browser = /Edg\//.test(ua) ? "Edge" : /Chrome\//.test(ua) ? "Chrome" : /Firefox\//.test(ua) ? "Firefox" : /Safari\//.test(ua) ? "Safari" : "Browser";
  const os = /Windows/.test(ua) ? "Windows" : /Mac OS X/.test(ua) ? "macOS" : /Android/.test(ua) ? "Android" : /iPhone|iPad/.test(ua) ? "iOS" : /Linux/.test(ua) ? "Linux" : "";
  return os ? `${browser} on ${os}` : browser;
}

function Sessions() {
  const { client } = useAuth();
  const router = useRouter();
  const [sessions, setSessions] = useState<AuthSessionInfo[] | null>(null);
  const [error, setError] = useState<string | null>(null);

  const load = useCallback(async () => {
    if (!client) return;
    try {
      setSessions(await client.sessions());
      setError(null);
    } catch (err) {
      setError(describeError(err));
    }
  }, [client]);

  useEffect(() => {
    void load();
  }, [load]);

  async function revoke(id: string) {
    if (!client) return;
    try {
      await client.revokeSession(id);
      setSessions((prev) => (prev ?? []).filter((s) => s.id !== id));
    } catch (err) {
      setError(describeError(err));
    }
  }

  async function everywhere() {
    if (!client) return;
    try {
      await client.logout({ everywhere: true });
      router.replace("/signin");
    } catch (err) {
      setError(describeError(err));
    }
  }

  return (
    <div className="stack narrow-wide">
      <h1>Sessions</h1>
      <p className="muted">Every device signed in to your account. Revoking one signs it out at its next request.</p>
      {error && (
        <div className="alert" role="alert">
          {error}
        </div>
      )}
      {sessions === null ? (
        !error && <p className="muted">Loading sessions…</p>
      ) : (
        <ul className="list" data-testid="sessions">
          {sessions.map((s) => (
            <li key={s.id}>
              <div>
                <strong>{device(s.userAgent)}</strong> {s.current && <span className="badge authenticated">this device</span>}
                <div className="muted small">
                  {s.ip} · signed in {new Date(s.createdAt).toLocaleString()} · last active {new Date(s.lastUsedAt).toLocaleString()}
                </div>
              </div>
              {!s.current && (
                <button type="button" className="link-button danger" onClick={() => void revoke(s.id)}>
                  Revoke
                </button>
              )}
            </li>
          ))}
        </ul>
      )}
      <p>
        <button type="button" className="button secondary" onClick={() => void everywhere()}>
          Sign out everywhere
        </button>
      </p>
    </div>
  );
}

export default function SessionsPage() {
  return (
    <Protected>
      <Sessions />
    </Protected>
  );
}
