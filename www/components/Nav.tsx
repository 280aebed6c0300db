"use client";

import Link from "next/link";
import { usePathname, useRouter } from "next/navigation";
import { useAuth } from "auth-wasm/react";
import { serverSessionSynced } from "auth-wasm/next/client";

const LINKS = [
  { href: "/dashboard", label: "Dashboard" },
  { href: "/notes", label: "Notes" },
  { href: "/sessions", label: "Sessions" },
  { href: "/security", label: "Security" },
];

export function Nav({ mode }: { mode: "fastapi" | "better-auth" }) {
  const { snapshot, client } = useAuth();
  const pathname = usePathname();
  const router = useRouter();
  const signedIn = snapshot.status === "authenticated" || snapshot.status === "expired";

  async function signOut() {
    if (client) {
      await client.logout();
      // The cookie is cleared before the next page is asked for.
      await serverSessionSynced(client);
    }
    router.replace("/signin");
  }

  return (
    <header className="nav">
      <Link href="/" className="brand">
        <span className="logo" aria-hidden="true">◆</span> auth-wasm demo
      </Link>
      {signedIn ? (
        <nav aria-label="Main">
          {/* Device sessions and two-factor are FastAPI's; Better Auth keeps its own. */}
          {LINKS.filter((l) => mode === "fastapi" || (l.href !== "/sessions" && l.href !== "/security")).map((l) => (
            <Link key={l.href} href={l.href} aria-current={pathname === l.href ? "page" : undefined}>
              {l.label}
            </Link>
          ))}
          <button type="button" className="link-button" onClick={signOut}>
            Sign out
          </button>
        </nav>
      ) : snapshot.status === "anonymous" ? (
        <nav aria-label="Main">
          <Link href="/signin">Sign in</Link>
          <Link href="/signup" className="button small">
            Create account
          </Link>
        </nav>
      ) : null}
    </header>
  );
}
