"use client";

import { useState } from "react";
import { useAuth } from "auth-wasm/react";
import { describeError } from "@/lib/errors";

/** For a signed-in user whose address is not verified yet (the backend says so in
 * `/auth/me`, which the dashboard fetches): a reminder, and another mail on request. */
export function VerifyBanner() {
  const { snapshot, client } = useAuth();
  const [note, setNote] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  if (snapshot.status !== "authenticated" || snapshot.user?.email_verified !== false) return null;

  async function resend() {
    if (!client) return;
    setBusy(true);
    try {
      await client.resendVerification();
      setNote("Sent. Check your inbox for the new link.");
    } catch (err) {
      setNote(describeError(err));
    } finally {
      setBusy(false);
    }
  }

  return (
    <div className="banner" role="status" data-testid="verify-banner">
      <span>Please confirm your email address: we sent you a link.</span>
      <button type="button" className="link-button" disabled={busy} onClick={() => void resend()}>
        Send it again
      </button>
      {note && <span className="small" data-testid="verify-banner-note">{note}</span>}
    </div>
  );
}
