"use client";

import { useEffect } from "react";
import type { JwtClaims } from "auth-wasm";
import { useAuth } from "auth-wasm/react";
import { Countdown } from "./Countdown";

/** The session as the browser holds it: status, expiry, storage. It also has the client
 * fetch the user once (what `/auth/me` adds to the claims, e.g. `email_verified` for the
 * verification banner); failures show in snapshot.error. */
export function LiveSession() {
  const { snapshot, client } = useAuth();
  useEffect(() => {
    client?.me().catch(() => undefined);
  }, [client]);
  return (
    <>
      <dt>Status</dt>
      <dd>
        <span className={`badge ${snapshot.status}`}>{snapshot.status}</span>
        {snapshot.refreshing && <span className="badge">refreshing</span>}
      </dd>
      <dt>Access token expires in</dt>
      <dd>
        <Countdown at={snapshot.expiresAt} />
      </dd>
      <dt>Stored in</dt>
      <dd>{snapshot.storage}Storage</dd>
    </>
  );
}

/** The token's claims as the browser holds them; the server's until the client has
 * loaded, so the first render matches the server's HTML. */
export function LiveClaims({ serverClaims }: { serverClaims: JwtClaims }) {
  const { snapshot } = useAuth();
  const claims = snapshot.status === "loading" ? serverClaims : snapshot.claims;
  return <pre data-testid="claims">{JSON.stringify(claims, null, 2)}</pre>;
}
