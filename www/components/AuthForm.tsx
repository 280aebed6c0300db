"use client";

import Link from "next/link";
import { useRouter } from "next/navigation";
import { useEffect, useRef, useState, type FormEvent } from "react";
import { useAuth } from "auth-wasm/react";
import { serverSessionSynced } from "auth-wasm/next/client";
import { afterSignIn } from "./Gates";
import { describeError, fieldErrors } from "@/lib/errors";
import { SocialSignIn } from "./SocialSignIn";

type Mode = "signin" | "signup";

interface Field {
  name: "name" | "email" | "password";
  label: string;
  type: string;
  autoComplete: string;
  hint?: string;
}

const FIELDS: Record<Mode, Field[]> = {
  signin: [
    { name: "email", label: "Email", type: "email", autoComplete: "email" },
    { name: "password", label: "Password", type: "password", autoComplete: "current-password" },
  ],
  signup: [
    { name: "name", label: "Name", type: "text", autoComplete: "name" },
    { name: "email", label: "Email", type: "email", autoComplete: "email" },
    { name: "password", label: "Password", type: "password", autoComplete: "new-password", hint: "At least 8 characters." },
  ],
};

/** The sign-in and sign-up form: field errors next to their fields, one summary that
 * takes focus when submission fails. */
export function AuthForm({ mode }: { mode: Mode }) {
  const { client, snapshot } = useAuth();
  const router = useRouter();
  const [error, setError] = useState<string | null>(null);
  const [fields, setFields] = useState<Record<string, string>>({});
  const [busy, setBusy] = useState(false);
  const summary = useRef<HTMLDivElement>(null);

  useEffect(() => {
    if (error) summary.current?.focus();
  }, [error]);

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    if (!client) return;
    const data = new FormData(event.currentTarget);
    const email = String(data.get("email") ?? "");
    const password = String(data.get("password") ?? "");
    setBusy(true);
    setError(null);
    setFields({});
    try {
      if (mode === "signup") {
        await client.register({ email, password, name: String(data.get("name") ?? "") });
      } else if ((await client.login({ email, password })).status === "mfa_required") {
        // Password accepted; the second step renders below (status mfa_required).
        return;
      }
      // The server must know the user before the proxy sees the next page.
      await serverSessionSynced(client);
      router.replace(afterSignIn());
    } catch (err) {
      setFields(fieldErrors(err));
      setError(describeError(err));
    } finally {
      setBusy(false);
    }
  }

  if (snapshot.status === "mfa_required") return <SecondFactor />;
  const title = mode === "signin" ? "Sign in" : "Create your account";
  return (
    <div className="card narrow">
      <h1>{title}</h1>
      {error && (
        <div ref={summary} className="alert" role="alert" tabIndex={-1} data-testid="form-error">
          {error}
        </div>
      )}
      <form onSubmit={submit} noValidate>
        {FIELDS[mode].map((f) => {
          const message = fields[f.name];
          const describedBy = [message && `${f.name}-error`, f.hint && `${f.name}-hint`].filter(Boolean).join(" ");
          return (
            <div className="field" key={f.name}>
              <label htmlFor={f.name}>{f.label}</label>
              <input
                id={f.name}
                name={f.name}
                type={f.type}
                autoComplete={f.autoComplete}
                required={f.name !== "name"}
                aria-invalid={message ? true : undefined}
                aria-describedby={describedBy || undefined}
              />
              {f.hint && (
                <p id={`${f.name}-hint`} className="hint">
                  {f.hint}
                </p>
              )}
              {message && (
                <p id={`${f.name}-error`} className="field-error">
                  {message}
                </p>
              )}
            </div>
          );
        })}
        <button type="submit" className="button" disabled={busy || !client}>
          {busy ? "Please wait…" : mode === "signin" ? "Sign in" : "Create account"}
        </button>
      </form>
      {mode === "signin" && <SocialSignIn />}
      <p className="switch">
        {mode === "signin" ? (
          <>
            New here? <Link href="/signup">Create an account</Link>
          </>
        ) : (
          <>
            Already have an account? <Link href="/signin">Sign in</Link>
          </>
        )}
      </p>
    </div>
  );
}

/** The second step of a two-factor sign-in: a code from the authenticator app, or a
 * recovery code. A code that came too late sends the user back to the password. */
function SecondFactor() {
  const { client } = useAuth();
  const router = useRouter();
  const [recovery, setRecovery] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    if (!client) return;
    const value = String(new FormData(event.currentTarget).get("code") ?? "").trim();
    setBusy(true);
    setError(null);
    try {
      await client.verifyMfa(recovery ? { recoveryCode: value } : { code: value });
      await serverSessionSynced(client);
      router.replace(afterSignIn());
    } catch (err) {
      setError(describeError(err));
    } finally {
      setBusy(false);
    }
  }

  return (
    <div className="card narrow">
      <h1>Two-factor sign-in</h1>
      {error && (
        <div className="alert" role="alert" data-testid="form-error">
          {error}
        </div>
      )}
      <form onSubmit={submit} noValidate>
        <div className="field">
          <label htmlFor="code">{recovery ? "Recovery code" : "Authentication code"}</label>
          <input id="code" name="code" autoComplete="one-time-code" inputMode={recovery ? "text" : "numeric"} required />
          <p className="hint">{recovery ? "One of the codes you saved when you turned two-factor on." : "The 6-digit code from your authenticator app."}</p>
        </div>
        <button type="submit" className="button" disabled={busy || !client}>
          {busy ? "Please wait…" : "Verify"}
        </button>
      </form>
      <p className="switch">
        <button type="button" className="link-button" onClick={() => setRecovery(!recovery)}>
          {recovery ? "Use the authenticator app" : "Use a recovery code"}
        </button>
      </p>
    </div>
  );
}
