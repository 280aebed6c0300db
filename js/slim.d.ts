// auth-wasm/slim: the package's API, with the wasm loaded by an explicit init().
export * from "./index.js";

/** What init() loads the engine from: the URL of auth_wasm_bg.wasm, a fetch Response
 * for it, its bytes, or an already compiled module. */
export type EngineSource = string | URL | Request | Response | BufferSource | WebAssembly.Module;

/** Loads the engine once; call and await it before anything else of this entry.
 * Rejects with an AuthError ("config" without a source, "network" when loading failed). */
export declare function init(wasm: EngineSource): Promise<void>;
