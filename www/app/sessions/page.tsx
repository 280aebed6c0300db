"use client";

import { useCallback, useEffect, useState } from "react";
import { useAuth } from "auth-wasm/react";
import { Protected } from "@/components/Gates";
import { api } from "@/lib/api";
import { describeError } from "@/lib/errors";

interface DeviceSession {
  id: string;
  created_at: string;
  last_used_at: string;
  user_agent: string;
  ip: string;
  current: boolean;
}

function device(ua: string): string {
  if (!ua) return "Unknown device";
  const browser = /Edg\//.test(ua) ? "Edge" : /Chrome\//.test(ua) ? "Chrome" : /Firefox\//.test(ua) ? "Firefox" : /Safari\//.test(ua) ? "Safari" : "Browser";
  const os = /Windows/.test(ua) ? "Windows" : /Mac OS X/.test(ua) ? "macOS" : /Android/.test(ua) ? "Android" : /iPhone|iPad/.test(ua) ? "iOS" : /Linux/.test(ua) ? "Linux" : "";
  return os ? `${browser} on ${os}` : browser;
}

function Sessions() {
  const { client } = useAuth();
  const [sessions, setSessions] = useState<DeviceSession[] | null>(null);
  const [error, setError] = useState<string | null>(null);

  const load = useCallback(async () => {
    if (!client) return;
    try {
      setSessions(await api<DeviceSession[]>(client, "/auth/sessions"));
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
      await api<void>(client, `/auth/sessions/${id}`, { method: "DELETE" });
      setSessions((prev) => (prev ?? []).filter((s) => s.id !== id));
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
                <strong>{device(s.user_agent)}</strong> {s.current && <span className="badge authenticated">this device</span>}
                <div className="muted small">
                  {s.ip} · signed in {new Date(s.created_at).toLocaleString()} · last active {new Date(s.last_used_at).toLocaleString()}
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
