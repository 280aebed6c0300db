"use client";

import { AuthProvider } from "auth-wasm/react";
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
  return <AuthProvider config={configFor(mode)}>{children}</AuthProvider>;
}
