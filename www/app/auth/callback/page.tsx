"use client";

import Link from "next/link";
import { useRouter } from "next/navigation";
import { useEffect, useRef, useState } from "react";
import { useAuth } from "auth-wasm/react";
import { serverSessionSynced } from "auth-wasm/next/client";
import { describeError } from "@/lib/errors";
import { AFTER_CALLBACK } from "@/lib/config";

/** Where the sign-in provider sends the user back: auth-wasm checks the state and
 * finishes the sign-in with the backend, then on to the dashboard (or to the second
 * factor, which the sign-in page shows). */
export default function SocialCallback() {
  const { client } = useAuth();
  const router = useRouter();
  const [error, setError] = useState<string | null>(null);
  const handled = useRef(false);

  useEffect(() => {
    if (!client || handled.current) return;
    // Once: the code in the URL works a single time.
    handled.current = true;
    client.handleRedirect().then(
      async (snapshot) => {
        // Signed in: the server's cookie first, or the proxy sends the user back to sign in.
        await serverSessionSynced(client);
        // A link (started on the security page) goes back there.
        const after = sessionStorage.getItem(AFTER_CALLBACK);
        sessionStorage.removeItem(AFTER_CALLBACK);
        if (snapshot === null) router.replace("/signin");
        else if (snapshot.status === "mfa_required") router.replace("/signin");
        else router.replace(after === "/security" ? after : "/dashboard");
      },
      // user_exists: the message says why (an unverified account holds the address,
      // or the provider is linked to another user).
      (err: unknown) => setError(err instanceof Error && "code" in err && err.code === "user_exists" ? err.message : describeError(err)),
    );
  }, [client, router]);

  return (
    <div className="card narrow">
      <h1>Signing you in…</h1>
      {error ? (
        <>
          <div className="alert" role="alert" data-testid="form-error">
            {error}
          </div>
          <p className="switch">
            <Link href="/signin">Back to sign in</Link>
          </p>
        </>
      ) : (
        <p className="hint">Finishing the sign-in with your provider.</p>
      )}
    </div>
  );
}
