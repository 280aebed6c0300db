"use client";
// auth-wasm/react: the React binding. Plain ESM (no JSX, no build step).
// The wasm client is created only in the browser, after hydration, so server
// rendering and the first client render both show the same "loading" snapshot.
import { createContext, createElement, useContext, useEffect, useState, useSyncExternalStore } from "react";

/** The snapshot before the client exists (server render, hydration). */
export const LOADING_SNAPSHOT = Object.freeze({
  status: "loading",
  user: null,
  claims: null,
  expiresAt: null,
  refreshing: false,
  storage: "memory",
  error: null,
  mfa: null,
});

/** @typedef {import("./index.js").AuthClient} AuthClient */

const AuthContext = createContext(/** @type {AuthClient | null} */ (null));
const noSubscription = () => () => {};
/** @returns {import("./react.js").LoadingSnapshot | import("./index.js").AuthSnapshot} */
const loading = () => LOADING_SNAPSHOT;

/** @param {import("./react.js").AuthProviderProps} props */
export function AuthProvider({ client, config, children }) {
  const [auth, setAuth] = useState(client ?? null);
  // Recreate only when the config's content changes, not its identity.
  const configKey = client ? null : JSON.stringify(config ?? null);
  useEffect(() => {
    if (client) {
      setAuth(client);
      return undefined;
    }
    let cancelled = false;
    /** @type {AuthClient | null} */
    let created = null;
    // By name, not "./index.js": the entry the app resolved, so a bundle holds one engine.
    // (An app on auth-wasm/browser passes `client`, or it would also get this one.)
    import("auth-wasm").then(({ AuthClient }) => {
      if (cancelled) return;
      created = new AuthClient(JSON.parse(/** @type {string} */ (configKey)));
      setAuth(created);
    });
    return () => {
      cancelled = true;
      if (created) created.free();
    };
  }, [client, configKey]);
  return createElement(AuthContext.Provider, { value: auth }, children);
}

export function useAuth() {
  const client = useContext(AuthContext);
  const snapshot = useSyncExternalStore(
    client ? (onChange) => client.subscribe(() => onChange()) : noSubscription,
    client ? () => client.getSnapshot() : loading,
    loading,
  );
  return { snapshot, client, ready: client !== null && snapshot !== LOADING_SNAPSHOT };
}
