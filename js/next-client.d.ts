// auth-wasm/next/client: the browser's half of auth-wasm/next.
import type { AuthClient } from "./index.js";

export { safeReturnTo } from "./return-to.js";

/** "/api/auth-wasm/session" */
export declare const DEFAULT_SESSION_ENDPOINT: string;

export interface MirrorOptions {
  /** The route handler exporting auth-wasm/next's sessionRoute. Default DEFAULT_SESSION_ENDPOINT. */
  endpoint?: string;
  /** The server's view changed (someone else, or no one, before): e.g. router.refresh(). */
  onServerChange?: (signedIn: boolean) => void;
}

/** Mirror `client`'s access token (never its refresh token) into the server's cookie,
 * on every change. Returns the function that stops it. */
export declare function mirrorAccessToken(client: AuthClient, options?: MirrorOptions): () => void;

/** Resolves once the cookie reflects the session as of this call: true when the server
 * holds the client's access token, false when signed out, refused, or no mirror runs. */
export declare function serverSessionSynced(client: AuthClient): Promise<boolean>;

export interface ServerSessionMirrorProps extends MirrorOptions {}

/** Inside <AuthProvider>: mirrorAccessToken for its client. Renders nothing. */
export declare function ServerSessionMirror(props: ServerSessionMirrorProps): null;
