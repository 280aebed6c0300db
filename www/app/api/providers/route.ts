import { providerList } from "@/lib/social-providers";

/** The social providers Better Auth signs in with (AUTH_MODE=better-auth*), for the
 * sign-in page; FastAPI's own list is /auth/oauth/providers. */
export function GET(): Response {
  return Response.json(process.env.AUTH_MODE?.startsWith("better-auth") ? providerList() : []);
}
