// Where the browser mirrors its access token (POST) and clears it (DELETE): the cookie
// the proxy and Server Components read. Only genuine, unexpired access tokens are taken.
import { serverAuth } from "@/lib/server-auth";

export const POST = (request: Request) => serverAuth().sessionRoute.POST(request);
export const DELETE = (request: Request) => serverAuth().sessionRoute.DELETE(request);
