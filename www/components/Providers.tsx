"use client";

import { AuthProvider } from "auth-wasm/react";
import type { ReactNode } from "react";
import { BACKEND_URL } from "@/lib/config";

export function Providers({ children }: { children: ReactNode }) {
  return <AuthProvider config={{ baseUrl: BACKEND_URL }}>{children}</AuthProvider>;
}
