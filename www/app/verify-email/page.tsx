"use client";

import Link from "next/link";
import { useEffect, useRef, useState } from "react";
import { useAuth } from "auth-wasm/react";
import { describeError } from "@/lib/errors";

/** The backend says which: used, expired or not valid. */
function why(err: unknown): string {
  const code = err instanceof Error && "code" in err ? err.code : null;
  return (code === "code_used" || code === "invalid_token") && err instanceof Error ? err.message : describeError(err);
}

type State = { kind: "working" } | { kind: "done"; signedIn: boolean } | { kind: "failed"; message: string };

/** Where the verification mail's link leads: its token goes to the backend once (it
 * works a single time), then leaves the address bar. */
export default function VerifyEmail() {
  const { client } = useAuth();
  const [state, setState] = useState<State>({ kind: "working" });
  const handled = useRef(false);

  useEffect(() => {
    if (!client || handled.current) return;
    handled.current = true;
    const url = new URL(window.location.href);
    const token = url.searchParams.get("token") ?? "";
    url.searchParams.delete("token");
    history.replaceState(history.state, "", url.href);
    client.verifyEmail(token).then(
      (snapshot) => setState({ kind: "done", signedIn: snapshot.status === "authenticated" }),
      (err: unknown) => setState({ kind: "failed", message: why(err) }),
    );
  }, [client]);

  return (
    <div className="card narrow">
      <h1>Email verification</h1>
      {state.kind === "working" ? (
        <p className="hint">Checking your link…</p>
      ) : state.kind === "done" ? (
        <>
          <p data-testid="verify-result">Your email address is verified.</p>
          <p className="switch">{state.signedIn ? <Link href="/dashboard">Go to your dashboard</Link> : <Link href="/signin">Sign in</Link>}</p>
        </>
      ) : (
        <>
          <div className="alert" role="alert" data-testid="form-error">
            {state.message}
          </div>
          <p className="switch">
            <Link href="/dashboard">Back to the app</Link>
          </p>
        </>
      )}
    </div>
  );
}
