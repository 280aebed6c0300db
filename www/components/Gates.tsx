"use client";

import { useRouter } from "next/navigation";
import { useEffect, type ReactNode } from "react";
import { useAuth } from "auth-wasm/react";
import { safeReturnTo, serverSessionSynced } from "auth-wasm/next/client";

function Pending({ label = "Loading…" }: { label?: string }) {
  return (
    <div className="pending" role="status" aria-live="polite">
      <span className="spinner" aria-hidden="true" />
      <span className="visually-hidden">{label}</span>
    </div>
  );
}

/** Where to go after signing in: the page the proxy sent the user from (same origin
 * only), else the dashboard. */
export function afterSignIn(): string {
  if (typeof window === "undefined") return "/dashboard";
  return safeReturnTo(new URLSearchParams(window.location.search).get("returnTo"), window.location.origin) ?? "/dashboard";
}

/** Content for signed-in users only, rendered in the browser. Until the stored session
 * is read, nothing but a spinner renders: protected content never flashes, and neither
 * does a redirect. */
export function Protected({ children }: { children: ReactNode }) {
  const { snapshot } = useAuth();
  const router = useRouter();
  // Halfway through a two-factor sign-in is not signed in: /signin asks for the code.
  const anonymous = snapshot.status === "anonymous" || snapshot.status === "mfa_required";
  useEffect(() => {
    if (anonymous) router.replace("/signin");
  }, [anonymous, router]);
  if (snapshot.status === "loading" || anonymous) return <Pending />;
  return <>{children}</>;
}

/** Around content the server rendered for the signed-in user (the proxy let the request
 * through): shown at once; when the browser finds it is signed out (here, or in
 * another tab), off to sign in. */
export function SignedInContent({ children }: { children: ReactNode }) {
  const { snapshot } = useAuth();
  const router = useRouter();
  const anonymous = snapshot.status === "anonymous" || snapshot.status === "mfa_required";
  useEffect(() => {
    if (anonymous) router.replace("/signin");
  }, [anonymous, router]);
  return <>{children}</>;
}

/** What a server page renders when its token expired (or is missing): neither the user
 * nor "signed out". The browser refreshes, the cookie follows, and the mirror's
 * router.refresh() renders the page again with the user; signed out goes to sign in. */
export function SessionUnknown() {
  const { snapshot, client } = useAuth();
  const router = useRouter();
  const anonymous = snapshot.status === "anonymous" || snapshot.status === "mfa_required";
  const signedIn = snapshot.status === "authenticated";
  useEffect(() => {
    if (anonymous) router.replace(`/signin?returnTo=${encodeURIComponent(window.location.pathname + window.location.search)}`);
  }, [anonymous, router]);
  // Another tab may have renewed the cookie first (then this tab's post changes nothing
  // on the server and onServerChange stays silent): render again once ours is through.
  useEffect(() => {
    if (!signedIn || !client) return;
    let cancelled = false;
    void serverSessionSynced(client).then(() => {
      if (!cancelled) router.refresh();
    });
    return () => {
      cancelled = true;
    };
  }, [signedIn, client, router]);
  return (
    <div data-testid="session-unknown">
      <Pending label="Checking your session…" />
    </div>
  );
}

/** Sign-in and sign-up: a signed-in user who lands here goes back where they came from
 * (or to the dashboard) once the server knows them, without seeing the form first. */
export function GuestOnly({ children }: { children: ReactNode }) {
  const { snapshot, client } = useAuth();
  const router = useRouter();
  const signedIn = snapshot.status === "authenticated";
  useEffect(() => {
    if (!signedIn || !client) return;
    let cancelled = false;
    void serverSessionSynced(client).then((held) => {
      if (cancelled) return;
      if (held) router.replace(afterSignIn());
      // The server refused the stored token (forged, say): the backend judges it, and a
      // bad one signs out here, which shows the form.
      else void client.me().catch(() => undefined);
    });
    return () => {
      cancelled = true;
    };
  }, [signedIn, client, router]);
  if (snapshot.status === "loading" || signedIn) return <Pending />;
  return <>{children}</>;
}
