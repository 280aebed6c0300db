// auth-wasm/browser (browser.js): the same API as the package's entry, the wasm fetched as
// a file of its own.
export * from "./index.js";
