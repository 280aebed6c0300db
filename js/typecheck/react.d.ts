// The part of React's API that js/react.js uses, so js/ type-checks without installing
// React (a peer dependency of the package; www/ has the real one and its types).
declare module "react" {
  export type ReactNode = unknown;
  export interface Context<T> {
    readonly Provider: unknown;
    readonly _value?: T;
  }
  export function createContext<T>(defaultValue: T): Context<T>;
  export function createElement(type: unknown, props?: Record<string, unknown> | null, ...children: unknown[]): unknown;
  export function useContext<T>(context: Context<T>): T;
  export function useEffect(effect: () => void | (() => void), deps?: readonly unknown[]): void;
  export function useRef<T>(initial: T): { current: T };
  export function useState<S>(initial: S | (() => S)): [S, (next: S | ((previous: S) => S)) => void];
  export function useSyncExternalStore<T>(
    subscribe: (onStoreChange: () => void) => () => void,
    getSnapshot: () => T,
    getServerSnapshot?: () => T,
  ): T;
}
