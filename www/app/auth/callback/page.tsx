"use client";

import Link from "next/link";
import { useRouter } from "next/navigation";
import { useEffect, useRef, useState } from "react";
import { useAuth } from "auth-wasm/react";
import { describeError } from "@/lib/errors";

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
      (snapshot) => {
        if (snapshot === null) router.replace("/signin");
        else router.replace(snapshot.status === "mfa_required" ? "/signin" : "/dashboard");
      },
      (err: unknown) => setError(describeError(err)),
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
