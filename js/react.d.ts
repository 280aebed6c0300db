import type { ReactNode } from "react";
import type { AuthClient, AuthConfig, AuthSnapshot } from "./index.js";

/** The snapshot before the client exists: during server rendering and hydration. */
export interface LoadingSnapshot {
  readonly status: "loading";
  readonly user: null;
  readonly claims: null;
  readonly expiresAt: null;
  readonly refreshing: false;
  readonly storage: "memory";
  readonly error: null;
  readonly mfa: null;
}
export declare const LOADING_SNAPSHOT: LoadingSnapshot;

export type AuthProviderProps =
  | { client: AuthClient; config?: never; children?: ReactNode }
  | { config: AuthConfig; client?: never; children?: ReactNode };

/** Creates (or takes) the client in the browser and shares it with useAuth(). */
export declare function AuthProvider(props: AuthProviderProps): ReactNode;

export type UseAuth =
  | { snapshot: LoadingSnapshot; client: AuthClient | null; ready: false }
  | { snapshot: AuthSnapshot; client: AuthClient; ready: true };

/** The current snapshot (re-rendering on change) and the client. */
export declare function useAuth(): UseAuth;
