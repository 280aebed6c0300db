// Next 16's proxy (formerly middleware.ts), on the Node runtime: protected pages answer
// the signed-out with a redirect to sign in (and the way back) before any HTML. A valid
// token passes with no backend call; a genuine but expired one passes too, and the page
// renders "unknown" until the browser has refreshed it.
import { NextResponse, type NextRequest } from "next/server";
import { PROTECTED_PATHS, serverAuth } from "@/lib/server-auth";

export async function proxy(request: NextRequest) {
  return (await serverAuth().protect(request, { paths: PROTECTED_PATHS })) ?? NextResponse.next();
}

// Not for the router's prefetches (Next's documented `missing` header): a prefetch answered
// with the redirect is kept as where that page leads. After sign-in the nav's links
// render and prefetch before the cookie is set, and `router.replace("/notes")` then
// replayed the kept redirect, back to sign-in. A prefetch reaches the page instead (the
// route's shape; a signed-out render holds no user's data) and the navigation itself,
// with the cookie by then, passes here. Literal entries: Next reads this at build time.
export const config = {
  matcher: [
    { source: "/dashboard/:path*", missing: [{ type: "header", key: "next-router-prefetch" }] },
    { source: "/notes/:path*", missing: [{ type: "header", key: "next-router-prefetch" }] },
    { source: "/sessions/:path*", missing: [{ type: "header", key: "next-router-prefetch" }] },
    { source: "/security/:path*", missing: [{ type: "header", key: "next-router-prefetch" }] },
  ],
};
