"use client";

import { useRouter } from "next/navigation";
import { useEffect, type ReactNode } from "react";
import { useAuth } from "auth-wasm/react";

function Pending() {
  return (
    <div className="pending" role="status" aria-live="polite">
      <span className="spinner" aria-hidden="true" />
      <span className="visually-hidden">Loading…</span>
    </div>
  );
}

/** Content for signed-in users only. Until the stored session is read, nothing but a
 * spinner renders: protected content never flashes, and neither does a redirect. */
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

/** Sign-in and sign-up: a signed-in user who lands here goes to the dashboard,
 * without seeing the form first. */
export function GuestOnly({ children }: { children: ReactNode }) {
  const { snapshot } = useAuth();
  const router = useRouter();
  const signedIn = snapshot.status === "authenticated";
  useEffect(() => {
    if (signedIn) router.replace("/dashboard");
  }, [signedIn, router]);
  if (snapshot.status === "loading" || signedIn) return <Pending />;
  return <>{children}</>;
}
