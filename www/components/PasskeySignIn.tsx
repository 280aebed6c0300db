"use client";

import { useRouter } from "next/navigation";
import { useEffect, useState } from "react";
import { useAuth } from "auth-wasm/react";
import { serverSessionSynced } from "auth-wasm/next/client";
import { describeError } from "@/lib/errors";
import { afterSignIn } from "./Gates";

const isCode = (err: unknown, code: string) => err instanceof Error && "code" in err && err.code === code;

/** "Sign in with a passkey", and the same passkeys offered in the autofill of the
 * email field (its autocomplete says `webauthn`): a pick there signs in too. */
export function PasskeySignIn() {
  const { client } = useAuth();
  const router = useRouter();
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  // Better Auth mode: the backend's passkeys are off (LOCAL_ACCOUNTS=0).
  const [enabled, setEnabled] = useState(false);

  useEffect(() => {
    if (document.documentElement.dataset.authMode === "better-auth") return;
    setEnabled(typeof window.PublicKeyCredential === "function");
  }, []);

  useEffect(() => {
    if (!client || !enabled) return;
    const stop = new AbortController();
    client.signInWithPasskey({ autofill: true, signal: stop.signal }).then(
      async (snapshot) => {
        if (snapshot?.status !== "authenticated") return;
        // As the password form does: the server's view of the session first.
        await serverSessionSynced(client);
        router.replace(afterSignIn());
      },
      (err: unknown) => {
        // The autofill is passive: only a passkey the person picked and the backend
        // refused is worth saying. Ended by the button's ceremony, by leaving the page,
        // or no options (offline, backend down): the password form is still there.
        if (isCode(err, "invalid_credentials")) setError("This passkey is not registered for an account here.");
      },
    );
    return () => stop.abort();
  }, [client, enabled, router]);

  async function start() {
    if (!client) return;
    setBusy(true);
    setError(null);
    try {
      await client.signInWithPasskey();
      await serverSessionSynced(client);
      router.replace(afterSignIn());
    } catch (err) {
      setError(isCode(err, "aborted") ? "The passkey request was cancelled." : isCode(err, "invalid_credentials") ? "This passkey is not registered for an account here." : describeError(err));
      setBusy(false);
    }
  }

  if (!enabled) return null;
  return (
    <div className="social">
      <p className="divider">or</p>
      {error && (
        <div className="alert" role="alert" data-testid="passkey-error">
          {error}
        </div>
      )}
      <button type="button" className="button secondary" disabled={busy || !client} onClick={() => void start()}>
        Sign in with a passkey
      </button>
    </div>
  );
}
