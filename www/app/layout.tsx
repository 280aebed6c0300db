import type { Metadata } from "next";
import type { ReactNode } from "react";
import { Nav } from "@/components/Nav";
import { Providers, type AuthMode } from "@/components/Providers";
import { VerifyBanner } from "@/components/VerifyBanner";
import "./globals.css";

export const metadata: Metadata = {
  title: "auth-wasm demo",
  description: "Next.js + FastAPI, signed in through auth-wasm",
};

// AUTH_MODE is read when a page is served, so one build runs in either mode.
export const dynamic = "force-dynamic";

export default function RootLayout({ children }: { children: ReactNode }) {
  // better-auth-jwks differs only in how Better Auth signs (lib/auth.ts), not in the page.
  const mode: AuthMode = process.env.AUTH_MODE?.startsWith("better-auth") ? "better-auth" : "fastapi";
  return (
    <html lang="en" data-auth-mode={mode}>
      <body>
        <Providers mode={mode}>
          <Nav mode={mode} />
          {/* Email verification is FastAPI's; Better Auth keeps its own. */}
          {mode === "fastapi" && <VerifyBanner />}
          <main>{children}</main>
        </Providers>
      </body>
    </html>
  );
}
