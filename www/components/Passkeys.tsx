"use client";

import { useCallback, useEffect, useState, type FormEvent } from "react";
import { useAuth } from "auth-wasm/react";
import type { Passkey } from "auth-wasm";
import { describeError } from "@/lib/errors";

/** What to tell people when a passkey call fails: the backend's own sentence where it
 * gives one (wrong password, last way to sign in, sign in again), else the usual. */
function problem(err: unknown): string {
  if (!(err instanceof Error && "code" in err)) return describeError(err);
  switch (err.code) {
    case "aborted":
      return "The passkey request was cancelled.";
    case "validation":
    case "invalid_credentials":
    case "unauthorized":
      return err.message;
    default:
      return describeError(err);
  }
}

/** The account's passkeys: add one (the password again, as for two-factor), rename
 * or remove each. Removing the account's last way to sign in is refused. */
export function Passkeys() {
  const { client } = useAuth();
  const [passkeys, setPasskeys] = useState<Passkey[] | null>(null);
  const [renaming, setRenaming] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  // Known after mount (the server renders without a window). No WebAuthn, or Better
  // Auth mode (the backend's passkeys are off with LOCAL_ACCOUNTS=0): no card.
  const [supported, setSupported] = useState(true);

  const load = useCallback(async () => {
    if (!client) return;
    try {
      setPasskeys(await client.passkeys());
    } catch (err) {
      setError(problem(err));
    }
  }, [client]);

  useEffect(() => {
    const usable = typeof window.PublicKeyCredential === "function" && document.documentElement.dataset.authMode !== "better-auth";
    setSupported(usable);
    if (usable) void load();
  }, [load]);

  async function act(work: () => Promise<unknown>) {
    setBusy(true);
    setError(null);
    try {
      await work();
      await load();
    } catch (err) {
      setError(problem(err));
    } finally {
      setBusy(false);
    }
  }

  function add(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const data = new FormData(event.currentTarget);
    const form = event.currentTarget;
    const name = String(data.get("passkey-name") ?? "").trim() || undefined;
    const password = String(data.get("password") ?? "") || undefined;
    void act(async () => {
      await client?.registerPasskey({ name, password });
      form.reset();
    });
  }

  function rename(event: FormEvent<HTMLFormElement>, id: string) {
    event.preventDefault();
    const name = String(new FormData(event.currentTarget).get("new-name") ?? "").trim();
    void act(async () => {
      await client?.renamePasskey(id, name);
      setRenaming(null);
    });
  }

  if (!supported) return null;
  return (
    <div className="card" data-testid="passkeys">
      <h2>Passkeys</h2>
      <p className="muted small">Sign in with your device&apos;s screen lock instead of a password (no second step needed).</p>
      {error && (
        <div className="alert" role="alert" data-testid="passkeys-error">
          {error}
        </div>
      )}
      {passkeys === null ? (
        !error && <p className="muted">Loading…</p>
      ) : passkeys.length === 0 ? (
        <p className="muted">No passkeys yet.</p>
      ) : (
        <ul className="list">
          {passkeys.map((p) => (
            <li key={p.id} data-testid="passkey">
              {renaming === p.id ? (
                <form onSubmit={(e) => rename(e, p.id)} aria-label={`Rename ${p.name}`}>
                  <label htmlFor={`rename-${p.id}`}>New name</label>
                  <input id={`rename-${p.id}`} name="new-name" defaultValue={p.name} maxLength={100} required />
                  <button type="submit" className="link-button" disabled={busy}>
                    Save
                  </button>
                </form>
              ) : (
                <span>
                  {p.name}{" "}
                  <span className="muted small">
                    {p.backedUp ? "synced · " : ""}
                    {p.lastUsedAt ? `last used ${new Date(p.lastUsedAt).toLocaleString()}` : "not used yet"}
                  </span>
                </span>
              )}
              <span>
                {renaming !== p.id && (
                  <button type="button" className="link-button" disabled={busy} onClick={() => setRenaming(p.id)}>
                    Rename
                  </button>
                )}
                <button type="button" className="link-button danger" disabled={busy} onClick={() => void act(async () => client?.removePasskey(p.id))}>
                  Remove
                </button>
              </span>
            </li>
          ))}
        </ul>
      )}
      <form onSubmit={add} aria-label="Add a passkey">
        <div className="field">
          <label htmlFor="passkey-name">Name of the new passkey</label>
          <input id="passkey-name" name="passkey-name" placeholder="e.g. Laptop" maxLength={100} />
        </div>
        <div className="field">
          <label htmlFor="passkey-password">Current password</label>
          <input id="passkey-password" name="password" type="password" autoComplete="current-password" />
          <p className="muted small">Leave it empty if your account has no password (then sign in again first if it was over 10 minutes ago).</p>
        </div>
        <button type="submit" className="button" disabled={busy || !client}>
          Add a passkey
        </button>
      </form>
    </div>
  );
}
