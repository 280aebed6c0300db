"use client";

import { AuthProvider } from "auth-wasm/react";
import { ServerSessionMirror } from "auth-wasm/next/client";
import { useRouter } from "next/navigation";
import type { ReactNode } from "react";
import type { AuthConfig } from "auth-wasm";
import { BACKEND_URL } from "@/lib/config";

export type AuthMode = "fastapi" | "better-auth";

/** fastapi: FastAPI issues the tokens. better-auth: Better Auth in this app does, and
 * auth-wasm sends its JWT to FastAPI (an allowed origin). */
function configFor(mode: AuthMode): AuthConfig {
  if (mode === "fastapi") return { baseUrl: BACKEND_URL };
  // The client is created in the browser only, so the page's origin is known there.
  const origin = typeof window === "undefined" ? "http://localhost:3000" : window.location.origin;
  return { baseUrl: origin, protocol: "better-auth", allowedOrigins: [BACKEND_URL] };
}

export function Providers({ mode, children }: { mode: AuthMode; children: ReactNode }) {
  const router = useRouter();
  return (
    <AuthProvider config={configFor(mode)}>
      {/* The access token (never the refresh token) into the server's cookie; when the
          server's view changes (signed in, renewed after "unknown", signed out), the
          server-rendered pages render again. */}
      <ServerSessionMirror onServerChange={() => router.refresh()} />
      {children}
    </AuthProvider>
  );
}
