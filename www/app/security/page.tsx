"use client";

import { useCallback, useEffect, useState, type FormEvent } from "react";
import QRCode from "qrcode";
import { useAuth } from "auth-wasm/react";
import type { Identity } from "auth-wasm";
import { Protected } from "@/components/Gates";
import { Passkeys } from "@/components/Passkeys";
import { api } from "@/lib/api";
import { AFTER_CALLBACK, BACKEND_URL } from "@/lib/config";
import { describeError, isAuthError } from "@/lib/errors";

interface Provider {
  id: string;
  name: string;
}

/** The providers linked to the account, each with "Unlink"; the others with "Link"
 * (a trip through the provider that comes back to /auth/callback, then here). Linking
 * takes step-up once the sign-in is over 10 minutes old: the backend refuses the start
 * (403, its sentence says why), and the password is asked for and sent with a retry. */
function LinkedProviders() {
  const { client } = useAuth();
  const [linked, setLinked] = useState<Identity[] | null>(null);
  const [providers, setProviders] = useState<Provider[]>([]);
  const [error, setError] = useState<string | null>(null);
  // The provider whose link waits for the password.
  const [stepUp, setStepUp] = useState<Provider | null>(null);

  const load = useCallback(async () => {
    if (!client) return;
    try {
      setLinked(await client.identities());
    } catch (err) {
      setError(isAuthError(err) && err.code === "validation" ? err.message : describeError(err));
    }
  }, [client]);

  useEffect(() => {
    void load();
    fetch(`${BACKEND_URL}/auth/oauth/providers`)
      .then((r) => (r.ok ? r.json() : []))
      .then((list: Provider[]) => setProviders(Array.isArray(list) ? list : []))
      .catch(() => {});
  }, [load]);

  async function link(provider: Provider, password?: string) {
    if (!client) return;
    setError(null);
    try {
      sessionStorage.setItem(AFTER_CALLBACK, "/security");
      await client.linkWith(provider.id, { redirectTo: `${window.location.origin}/auth/callback`, password });
    } catch (err) {
      sessionStorage.removeItem(AFTER_CALLBACK);
      // Step-up refused (`unauthorized`: the sign-in is too old; `invalid_credentials`: a
      // wrong password): the backend's sentence, and the password field.
      if (isAuthError(err) && err.status === 403 && (err.code === "unauthorized" || err.code === "invalid_credentials")) {
        setStepUp(provider);
        setError(err.message);
      } else {
        setError(describeError(err));
      }
    }
  }

  function linkWithPassword(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    if (stepUp) void link(stepUp, passwordOf(event.currentTarget));
  }

  async function unlink(provider: string) {
    if (!client) return;
    setError(null);
    try {
      await client.unlink(provider);
      await load();
    } catch (err) {
      // "validation": the last way to sign in; the backend's message says so.
      setError(isAuthError(err) && err.code === "validation" ? err.message : describeError(err));
    }
  }

  if (providers.length === 0 && (linked?.length ?? 0) === 0) return null;
  const nameOf = (id: string) => providers.find((p) => p.id === id)?.name ?? id;
  return (
    <div className="card" data-testid="identities">
      <h2>Sign-in providers</h2>
      {error && (
        <div className="alert" role="alert" data-testid="identities-error">
          {error}
        </div>
      )}
      {stepUp && (
        <form onSubmit={linkWithPassword} aria-label={`Link ${stepUp.name}`}>
          <PasswordField id="link-password" />
          <button type="submit" className="button">
            Link {stepUp.name}
          </button>
          <button
            type="button"
            className="button secondary"
            onClick={() => {
              setStepUp(null);
              setError(null);
            }}
          >
            Cancel
          </button>
        </form>
      )}
      <ul className="list">
        {providers.map((p) => {
          const isLinked = linked?.some((i) => i.provider === p.id) ?? false;
          return (
            <li key={p.id} data-testid={`identity-${p.id}`}>
              <span>
                {p.name} {isLinked && <span className="badge authenticated">linked</span>}
              </span>
              {isLinked ? (
                <button type="button" className="link-button danger" onClick={() => void unlink(p.id)}>
                  Unlink
                </button>
              ) : (
                <button type="button" className="link-button" disabled={linked === null} onClick={() => void link(p)}>
                  Link
                </button>
              )}
            </li>
          );
        })}
        {linked
          ?.filter((i) => !providers.some((p) => p.id === i.provider))
          .map((i) => (
            <li key={i.provider} data-testid={`identity-${i.provider}`}>
              <span>{nameOf(i.provider)}</span>
              <button type="button" className="link-button danger" onClick={() => void unlink(i.provider)}>
                Unlink
              </button>
            </li>
          ))}
      </ul>
    </div>
  );
}

interface MfaStatus {
  totp: boolean;
  recovery_codes_left: number;
}

type Step =
  | { kind: "idle" }
  // The password given to start enrolling is sent once more with the first code
  // (both steps are step-up), then dropped.
  | { kind: "enrolling"; secret: string; qr: string; password: string }
  | { kind: "codes"; codes: string[] };

/** The step-up field: changing two-factor asks for the password again. Accounts that
 * sign in only with a provider leave it empty (a recent sign-in stands in for it). */
function PasswordField({ id }: { id: string }) {
  return (
    <div className="field">
      <label htmlFor={id}>Your password</label>
      <input id={id} name="password" type="password" autoComplete="current-password" />
      <p className="muted small">Leave it empty if you only sign in with a provider (then sign in again first if it was over 10 minutes ago).</p>
    </div>
  );
}

function passwordOf(form: HTMLFormElement): string | undefined {
  return String(new FormData(form).get("password") ?? "") || undefined;
}

/** Two-factor sign-in: turn TOTP on (scan, confirm with a first code, keep the
 * recovery codes), get new recovery codes, or turn it off (with a current code);
 * each with the password again. */
function Security() {
  const { client } = useAuth();
  const [status, setStatus] = useState<MfaStatus | null>(null);
  const [step, setStep] = useState<Step>({ kind: "idle" });
  const [error, setError] = useState<string | null>(null);

  const load = useCallback(async () => {
    if (!client) return;
    try {
      setStatus(await api<MfaStatus>(client, "/auth/mfa"));
    } catch (err) {
      setError(describeError(err));
    }
  }, [client]);

  useEffect(() => {
    void load();
  }, [load]);

  async function start(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    if (!client) return;
    setError(null);
    const password = passwordOf(event.currentTarget);
    try {
      const { secret, otpauth_uri } = await api<{ secret: string; otpauth_uri: string }>(client, "/auth/mfa/totp/enroll", { method: "POST", body: JSON.stringify({ password }) });
      setStep({ kind: "enrolling", secret, qr: await QRCode.toDataURL(otpauth_uri, { margin: 1, width: 192 }), password: password ?? "" });
    } catch (err) {
      setError(err instanceof Error ? err.message : describeError(err));
    }
  }

  async function confirm(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    if (!client || step.kind !== "enrolling") return;
    const code = String(new FormData(event.currentTarget).get("code") ?? "").trim();
    try {
      const body = JSON.stringify({ code, password: step.password || undefined });
      const { recovery_codes } = await api<{ recovery_codes: string[] }>(client, "/auth/mfa/totp/confirm", { method: "POST", body });
      setStep({ kind: "codes", codes: recovery_codes });
      setError(null);
      await load();
    } catch (err) {
      setError(err instanceof Error ? err.message : describeError(err));
    }
  }

  async function newCodes(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    if (!client) return;
    const password = passwordOf(event.currentTarget);
    try {
      const { recovery_codes } = await api<{ recovery_codes: string[] }>(client, "/auth/mfa/recovery-codes", { method: "POST", body: JSON.stringify({ password }) });
      setStep({ kind: "codes", codes: recovery_codes });
      setError(null);
      await load();
    } catch (err) {
      setError(err instanceof Error ? err.message : describeError(err));
    }
  }

  async function disable(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    if (!client) return;
    const code = String(new FormData(event.currentTarget).get("code") ?? "").trim();
    const password = passwordOf(event.currentTarget);
    try {
      await api<void>(client, "/auth/mfa/totp/disable", { method: "POST", body: JSON.stringify({ code, password }) });
      setStep({ kind: "idle" });
      setError(null);
      await load();
    } catch (err) {
      setError(err instanceof Error ? err.message : describeError(err));
    }
  }

  return (
    <div className="stack narrow-wide">
      <h1>Security</h1>
      <LinkedProviders />
      <Passkeys />
      {error && (
        <div className="alert" role="alert">
          {error}
        </div>
      )}
      {status === null ? (
        !error && <p className="muted">Loading…</p>
      ) : step.kind === "enrolling" ? (
        <div className="card">
          <h2>Scan this with your authenticator app</h2>
          {/* eslint-disable-next-line @next/next/no-img-element -- a data: URL */}
          <img src={step.qr} alt="QR code of the two-factor secret" width={192} height={192} />
          <p className="muted small">
            Or enter this key: <code data-testid="totp-secret">{step.secret}</code>
          </p>
          <form onSubmit={confirm}>
            <div className="field">
              <label htmlFor="code">Code from the app</label>
              <input id="code" name="code" inputMode="numeric" autoComplete="one-time-code" required />
            </div>
            <button type="submit" className="button">
              Turn on two-factor
            </button>
            <button type="button" className="button secondary" onClick={() => setStep({ kind: "idle" })}>
              Cancel
            </button>
          </form>
        </div>
      ) : step.kind === "codes" ? (
        <div className="card">
          <h2>Your recovery codes</h2>
          <p>Keep these recovery codes somewhere safe. Each works once, if you lose your phone.</p>
          <ul className="codes" data-testid="recovery-codes">
            {step.codes.map((c) => (
              <li key={c}>
                <code>{c}</code>
              </li>
            ))}
          </ul>
          <button type="button" className="button secondary" onClick={() => setStep({ kind: "idle" })}>
            Done
          </button>
        </div>
      ) : status.totp ? (
        <div className="card">
          <p>
            Two-factor sign-in is <strong>on</strong>. Recovery codes left: {status.recovery_codes_left}.
          </p>
          <form onSubmit={newCodes} aria-label="New recovery codes">
            <PasswordField id="codes-password" />
            <button type="submit" className="button secondary">
              New recovery codes
            </button>
          </form>
          <form onSubmit={disable} aria-label="Turn off two-factor">
            <div className="field">
              <label htmlFor="code">Code (or a recovery code) to turn it off</label>
              <input id="code" name="code" autoComplete="one-time-code" required />
            </div>
            <PasswordField id="disable-password" />
            <button type="submit" className="button secondary">
              Turn off
            </button>
          </form>
        </div>
      ) : (
        <div className="card">
          <p>Two-factor sign-in is off. With it on, signing in also asks for a code from an authenticator app.</p>
          <form onSubmit={start}>
            <PasswordField id="enroll-password" />
            <button type="submit" className="button">
              Turn on two-factor
            </button>
          </form>
        </div>
      )}
    </div>
  );
}

export default function SecurityPage() {
  return (
    <Protected>
      <Security />
    </Protected>
  );
}
