import { toNextJsHandler } from "better-auth/next-js";
import { getAuth } from "@/lib/auth";

/** Better Auth's handler; it refuses to run without a real shared secret. */
async function handle(request: Request, method: "GET" | "POST"): Promise<Response> {
  if ((process.env.BETTER_AUTH_SECRET ?? "").length < 32) {
    return Response.json({ message: "BETTER_AUTH_SECRET is not set (32+ bytes)", code: "SERVER_MISCONFIGURED" }, { status: 500 });
  }
  const handler = toNextJsHandler(await getAuth());
  return handler[method](request);
}

export const GET = (request: Request) => handle(request, "GET");
export const POST = (request: Request) => handle(request, "POST");
