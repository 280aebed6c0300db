// Next 16's proxy (formerly middleware.ts), on the Node runtime: protected pages answer
// the signed-out with a redirect to sign in (and the way back) before any HTML. A valid
// token passes with no backend call; a genuine but expired one passes too, and the page
// renders "unknown" until the browser has refreshed it.
import { NextResponse, type NextRequest } from "next/server";
import { PROTECTED_PATHS, serverAuth } from "@/lib/server-auth";

export async function proxy(request: NextRequest) {
  return (await serverAuth().protect(request, { paths: PROTECTED_PATHS })) ?? NextResponse.next();
}

export const config = {
  matcher: ["/dashboard/:path*", "/notes/:path*", "/sessions/:path*", "/security/:path*"],
};
