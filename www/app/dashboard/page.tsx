// Rendered on the server with the user the cookie names (auth-wasm/next); the live parts
// (status, countdown, claims as the browser holds them) are the client's.
import { SessionUnknown, SignedInContent } from "@/components/Gates";
import { LiveClaims, LiveSession } from "@/components/LiveSession";
import { serverAuth } from "@/lib/server-auth";
import { redirect } from "next/navigation";

export default async function DashboardPage() {
  const session = await serverAuth().getSession();
  if (session.status === "unknown") return <SessionUnknown />;
  if (session.status === "signed_out") redirect("/signin?returnTo=%2Fdashboard");
  const { user, claims } = session;
  return (
    <SignedInContent>
      <div className="stack">
        <h1>Welcome{user.name ? `, ${user.name}` : ""}</h1>
        <div className="grid">
          <section className="card" aria-labelledby="account">
            <h2 id="account">Account</h2>
            <dl>
              <dt>Email</dt>
              <dd data-testid="user-email">{user.email ?? "—"}</dd>
              <dt>User id</dt>
              <dd>
                <code>{user.id}</code>
              </dd>
              <LiveSession />
            </dl>
          </section>
          <section className="card" aria-labelledby="claims">
            <h2 id="claims">Token claims</h2>
            <LiveClaims serverClaims={claims} />
          </section>
        </div>
      </div>
    </SignedInContent>
  );
}
