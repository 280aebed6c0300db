"use client";

import { useEffect } from "react";
import { useAuth } from "auth-wasm/react";
import { Countdown } from "@/components/Countdown";
import { Protected } from "@/components/Gates";

function Dashboard() {
  const { snapshot, client } = useAuth();
  useEffect(() => {
    // Fetch the user once; failures show in snapshot.error.
    client?.me().catch(() => undefined);
  }, [client]);
  const user = snapshot.user ?? {};
  const name = typeof user.name === "string" && user.name ? user.name : null;
  const email = typeof user.email === "string" ? user.email : null;
  return (
    <div className="stack">
      <h1>Welcome{name ? `, ${name}` : ""}</h1>
      <div className="grid">
        <section className="card" aria-labelledby="account">
          <h2 id="account">Account</h2>
          <dl>
            <dt>Email</dt>
            <dd data-testid="user-email">{email ?? "—"}</dd>
            <dt>User id</dt>
            <dd>
              <code>{typeof user.id === "string" ? user.id : String(snapshot.claims?.sub ?? "—")}</code>
            </dd>
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
          </dl>
        </section>
        <section className="card" aria-labelledby="claims">
          <h2 id="claims">Token claims</h2>
          <pre data-testid="claims">{JSON.stringify(snapshot.claims, null, 2)}</pre>
        </section>
      </div>
    </div>
  );
}

export default function DashboardPage() {
  return (
    <Protected>
      <Dashboard />
    </Protected>
  );
}
